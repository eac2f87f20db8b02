"""A session's values are bounded as otel-llm's other names and ids are: cut with a marker, said once.

``session(thread_id=, user_id=, run_config=)`` puts its values on every span
inside it (``gen_ai.conversation.id``, ``user.id``, ``otel_llm.run_config.<key>``),
and a chat turn's thread id goes to every span it runs. A megabyte passed as one
(a user's text passed as the thread id, a document as a config value) was copied
whole onto every span. Each is now recorded up to the span attribute value length
limit the SDK is given (``OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT``, else
``OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT``), else otel-llm's
:data:`~otel_llm._names.MAX_NAME_CHARS`, the marker included: ``…[truncated
from N chars]``, with one line on stderr the first time for each kind of value.
A ``run_config`` key is a name: bounded as one. None of these values is on a
metric point (their cardinality is the app's sessions).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import otel_llm
from otel_llm import _names
from otel_llm import semconv as sc
from otel_llm.testing import Capture
from tests.sdk.conftest import PRICING

HUGE = 1_000_000
MARKER = f"…[truncated from {HUGE:,} chars]".replace(",", "")


@pytest.fixture(autouse=True)
def fresh_notices(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each kind of cut is said once per process: a test sees its own notices."""
    monkeypatch.setattr(_names, "_said", set())


def _tool() -> Any:
    @otel_llm.tool("lookup")
    def lookup() -> int:
        return 1

    return lookup


def _cut(value: Any, limit: int) -> None:
    """``value`` is the start of a huge text, cut to ``limit`` characters in all, its end the marker."""
    assert isinstance(value, str) and len(value) == limit, (len(value), limit)
    assert value.endswith(MARKER)
    assert value.startswith("x" * (limit - len(MARKER)))


def test_huge_session_values_are_cut_with_the_marker_and_said_once(cap: Any, capsys: Any) -> None:
    lookup = _tool()
    huge = "x" * HUGE
    with otel_llm.session(thread_id=huge, user_id=huge, run_config={"doc": huge, "temperature": 0.2}):
        lookup()
    attributes = cap.span("execute_tool lookup").attributes
    for key in (sc.GEN_AI_CONVERSATION_ID, sc.USER_ID, sc.OTEL_LLM_RUN_CONFIG_PREFIX + "doc"):
        _cut(attributes[key], _names.MAX_NAME_CHARS)
    assert attributes[sc.OTEL_LLM_RUN_CONFIG_PREFIX + "temperature"] == 0.2
    said = [line for line in capsys.readouterr().err.splitlines() if line.startswith("otel-llm:")]
    assert len(said) == 3 and all(f"of {HUGE:,} chars" in line for line in said), said
    with otel_llm.session(thread_id=huge + "y", run_config={"doc": huge}):  # said once for each kind
        lookup()
    assert "otel-llm:" not in capsys.readouterr().err


def test_a_huge_value_that_is_no_text_is_cut_as_its_text(cap: Any) -> None:
    lookup = _tool()
    with otel_llm.session(run_config={"ids": list(range(200_000))}):
        lookup()
    value = cap.span("execute_tool lookup").attributes[sc.OTEL_LLM_RUN_CONFIG_PREFIX + "ids"]
    assert len(value) == _names.MAX_NAME_CHARS and value.startswith("[0, 1, 2") and "…[truncated from " in value


def test_a_huge_run_config_key_is_cut_as_a_name(cap: Any) -> None:
    lookup = _tool()
    with otel_llm.session(run_config={"k" * HUGE: 1}):
        lookup()
    (key,) = [k for k in cap.span("execute_tool lookup").attributes if k.startswith(sc.OTEL_LLM_RUN_CONFIG_PREFIX)]
    assert len(key) < 2 * _names.MAX_NAME_CHARS and key.endswith(MARKER)


def test_values_within_the_bound_are_recorded_as_they_are(cap: Any, capsys: Any) -> None:
    lookup = _tool()
    fits = "t" * _names.MAX_NAME_CHARS
    with otel_llm.session(thread_id=fits, user_id="u7", run_config={"prompt": fits}):
        lookup()
    attributes = cap.span("execute_tool lookup").attributes
    assert attributes[sc.GEN_AI_CONVERSATION_ID] == fits and attributes[sc.USER_ID] == "u7"
    assert attributes[sc.OTEL_LLM_RUN_CONFIG_PREFIX + "prompt"] == fits
    assert "otel-llm:" not in capsys.readouterr().err


def test_a_huge_chat_thread_id_is_cut_on_the_turn_and_every_span_inside_it(cap: Any) -> None:
    lookup = _tool()

    @otel_llm.chat(thread_id_arg="thread_id")
    def answer(question: str, thread_id: str) -> str:
        lookup()
        return question

    answer("hi", "x" * HUGE)
    for name in ("chat_turn answer", "execute_tool lookup"):
        _cut(cap.span(name).attributes[sc.GEN_AI_CONVERSATION_ID], _names.MAX_NAME_CHARS)


@pytest.fixture
def limited(monkeypatch: pytest.MonkeyPatch, request: Any) -> Iterator[Capture]:
    """A capture made with the SDK's attribute value length limit variables of ``request.param`` set."""
    for name, value in request.param.items():
        monkeypatch.setenv(name, value)
    capture = Capture(project="alpha", pricing=PRICING).start()  # the limit is read as otel-llm is configured
    try:
        yield capture
    finally:
        capture.stop()


@pytest.mark.parametrize("limited", [{"OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT": "100"},
                                     {"OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT": "5000",
                                      "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT": "100"}],
                         indirect=True, ids=["attribute-limit", "span-limit-first"])
def test_the_sdks_attribute_value_length_limit_bounds_them_marker_included(limited: Capture) -> None:
    """Cut to the limit with the marker inside it: the SDK's own cut (to the same limit) leaves the marker."""
    lookup = _tool()
    with otel_llm.session(thread_id="x" * HUGE):
        lookup()
    _cut(limited.span("execute_tool lookup").attributes[sc.GEN_AI_CONVERSATION_ID], 100)


@pytest.mark.parametrize("limited", [{"OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT": "2000"}], indirect=True)
def test_a_limit_above_otel_llms_bound_keeps_values_up_to_it(limited: Capture) -> None:
    lookup = _tool()
    with otel_llm.session(thread_id="x" * 1500, user_id="x" * HUGE):
        lookup()
    attributes = limited.span("execute_tool lookup").attributes
    assert attributes[sc.GEN_AI_CONVERSATION_ID] == "x" * 1500
    _cut(attributes[sc.USER_ID], 2000)


@pytest.mark.parametrize(("env", "limit"), [
    ({"OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT": "many"}, None),
    ({"OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT": "three", "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT": "300"}, 300),
    ({"OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT": "-1"}, None),
])
def test_a_malformed_limit_warns_and_is_taken_as_unset(monkeypatch: pytest.MonkeyPatch, env: dict[str, str],
                                                       limit: int | None) -> None:
    """As upstream's limits are read by otel-llm's providers (``_upstream.tolerant_limits``): the span's
    limit falls back to the global one, the global one to none, and then otel-llm's bound holds."""
    from otel_llm import _settings

    monkeypatch.setattr(_settings, "_warned", set())
    with pytest.warns(RuntimeWarning, match="ignoring malformed OTEL_"):
        assert _settings.attribute_value_limit(env) == limit


def test_no_limit_set_or_unset_is_none() -> None:
    from otel_llm import _settings

    assert _settings.attribute_value_limit({}) is None
    assert _settings.attribute_value_limit({"OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT": "unset",
                                            "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT": "10"}) is None


def test_no_session_value_is_on_a_metric_point(cap: Any, response: Any) -> None:
    """Pinned: a metric point's attributes are its kind's (model, tool, node...), never a session's, whose
    values are as many as the app's conversations and users."""

    @otel_llm.llm_call(model="test-model", provider="openai")
    def ask() -> dict:
        return response()

    @otel_llm.agent("helper")
    def run() -> None:
        ask()
        _tool()()

    with otel_llm.session(thread_id="conversation-1", user_id="user-1", run_config={"temperature": 0.2}):
        run()
    points = [p for series in cap.metrics().values() for p in series]
    assert points  # the calls' metric points were recorded
    for point in points:
        keys = set(point.attributes)
        assert not keys & {sc.GEN_AI_CONVERSATION_ID, sc.USER_ID}, keys
        assert not any(k.startswith(sc.OTEL_LLM_RUN_CONFIG_PREFIX) for k in keys), keys
        assert not {"conversation-1", "user-1"} & {str(v) for v in point.attributes.values()}
