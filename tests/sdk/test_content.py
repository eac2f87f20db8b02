"""Content policy: off by default, opt-in, redacted, truncated with the original size."""

from __future__ import annotations

from collections import OrderedDict, defaultdict, deque
from typing import Any

import pytest

from otel_llm._content import ContentPolicy, render


def test_off_by_default_captures_nothing() -> None:
    assert ContentPolicy().text("secret prompt") is None


def test_on_captures_text_as_is() -> None:
    assert ContentPolicy(capture=True).text("hello") == "hello"


def test_redact_is_applied_before_truncation() -> None:
    policy = ContentPolicy(capture=True, redact=lambda s: s.replace("4111-1111", "[card]"), max_chars=12)
    # redacted "card [card] ok" is 14 chars; the secret never reaches the cut
    assert policy.text("card 4111-1111 ok") == "card [card] …[truncated from 14 chars]"


def test_truncation_marker_carries_original_size() -> None:
    out = ContentPolicy(capture=True, max_chars=5).text("x" * 1000)
    assert out == "xxxxx…[truncated from 1000 chars]"


def test_exact_limit_is_not_truncated() -> None:
    assert ContentPolicy(capture=True, max_chars=3).text("abc") == "abc"


def test_failing_redact_leaks_nothing() -> None:
    def boom(_: str) -> str:
        raise RuntimeError("bad hook")

    assert ContentPolicy(capture=True, redact=boom).text("ssn 123") == "[redaction failed]"


class Unrenderable:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"role": "user", "content": "hi"}, '{"role": "user", "content": "hi"}'),
        ([1, "é"], '[1, "é"]'),
        (b"caf\xc3\xa9", "café"),
        (42, "42"),
        ({"obj": object}, None),  # non-JSON values inside data fall back to repr
    ],
)
def test_non_strings_render_safely(value: Any, expected: str | None) -> None:
    out = ContentPolicy(capture=True).text(value)
    assert out is not None
    if expected is not None:
        assert out == expected
    else:
        assert "class 'object'" in out


def test_render_never_raises() -> None:
    cyclic: list[Any] = []
    cyclic.append(cyclic)
    assert render(cyclic) == "[[...]]"
    assert render(Unrenderable()) == "[unrenderable Unrenderable]"


def test_none_value_is_not_captured() -> None:
    assert ContentPolicy(capture=True).text(None) is None


class _Row(dict):  # type: ignore[type-arg]
    pass


class _Rows(list):  # type: ignore[type-arg]
    pass


class _Text(str):
    pass


def _captured_with_peak(policy: ContentPolicy, value: Any) -> tuple[str | None, int]:
    """``policy.text(value)`` and the peak of the memory it allocated."""
    import tracemalloc

    tracemalloc.start()
    try:
        out = policy.text(value)
        return out, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("huge", [
    lambda: {"query": "q" * 40_000_000},
    lambda: {"rows": list(range(4_000_000))},
    lambda: "s" * 40_000_000,
    lambda: [["x" * 50_000] * 2_000],
    lambda: OrderedDict((i, "v") for i in range(500_000)),
    lambda: defaultdict(list, {"query": "q" * 5_000_000}),
    lambda: _Row(rows=list(range(500_000))),
    lambda: _Rows(range(500_000)),
    lambda: set(range(500_000)),
    lambda: frozenset(range(500_000)),
    lambda: deque(range(500_000)),
    lambda: b"b" * 5_000_000,
    lambda: bytearray(b"b" * 5_000_000),
    lambda: _Text("t" * 5_000_000),
    lambda: {"blob": b"b" * 5_000_000},
    lambda: [{"tags": set(range(500_000))}],
], ids=["long-string-argument", "long-list-argument", "long-string", "list-of-long-strings", "OrderedDict",
        "defaultdict", "dict-subclass", "list-subclass", "set", "frozenset", "deque", "bytes", "bytearray",
        "str-subclass", "bytes-in-a-dict", "set-in-a-list"])
@pytest.mark.parametrize("redact", [None, lambda text: text.replace("secret", "[x]")], ids=["", "redacted"])
def test_a_huge_value_is_rendered_within_the_truncation_bound(huge: Any, redact: Any) -> None:
    """A huge captured argument was JSON-encoded whole (hundreds of MB for a 200 MB argument) before
    the cut to ``max_chars``: the work now stops near the bound, for every mapping, list, tuple, set
    and deque (subclasses too), bytes and strings, and so does the redact hook's."""
    value = huge()
    out, peak = _captured_with_peak(ContentPolicy(capture=True, max_chars=100, redact=redact), value)
    assert peak < 500_000, peak
    assert out is not None and "…[truncated from " in out
    assert len(out) < 200, out
    assert out[:100] == render(value)[:100]  # the same text as the whole rendering, up to the cut


def test_a_huge_string_is_redacted_within_the_truncation_bound() -> None:
    """With a redact hook, a huge string argument went through the hook whole (a 40 MB copy for a
    ``str.replace``); only what can be recorded (the bound and a margin) is redacted now."""
    value = "my secret " + "s" * 5_000_000
    out, peak = _captured_with_peak(
        ContentPolicy(capture=True, max_chars=100, redact=lambda text: text.replace("secret", "[x]")), value
    )
    assert peak < 500_000, peak
    assert out == "my [x] " + "s" * 93 + f"…[truncated from {len(value)} chars]"


def test_small_sets_and_deques_render_as_json_lists() -> None:
    assert render({"tags": frozenset({"a"}), "queue": deque([1, 2])}) == '{"tags": ["a"], "queue": [1, 2]}'


def test_a_value_within_the_bound_renders_as_before() -> None:
    value = {"a": [1, 2.5, None, True], "b": {"c": "d"}, "e": ("f",)}
    assert ContentPolicy(capture=True).text(value) == render(value)
