"""Prices and counts a user can hand the pricing path that would price a call wrong.

A price entry that is no finite amount (``True``, infinity) is refused when the
table loads, with one notice naming the entry, so its model's calls are unpriced
rather than priced at 1 USD per 1M tokens or dropped call by call. Cache counts
that add up to more than the call's input contradict it: no cost, said once per model.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from otel_llm._usage import Billing, Usage
from otel_llm.pricing import PriceBook

WHOLE = Usage(input_tokens=1000, output_tokens=1000)


def _said(capsys: Any) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if line.startswith("otel-llm: ")]


@pytest.mark.parametrize("price", [True, False, float("inf"), "inf", "-inf", "1e400"], ids=repr)
def test_a_price_that_is_no_finite_amount_is_refused_at_load_with_one_notice(capsys, price):
    book = PriceBook.load({"m": {"input": price, "output": 1}, "n": {"input": 1, "output": 1}})
    (said,) = _said(capsys)
    assert "ignoring pricing entry 'm'" in said
    assert book.cost("n", WHOLE).usd == pytest.approx(2e-3)  # the rest loads
    assert book.rates("m") is None or book.rates("m").source != "user"


def test_a_price_that_is_no_finite_amount_stops_a_strict_load():
    with pytest.raises(ValueError, match="entry 'm'"):
        PriceBook.load({"m": {"input": 1, "output": float("inf")}}, strict=True)


@pytest.mark.parametrize("usage", [
    Usage(input_tokens=100, output_tokens=10, cache_read_tokens=1000),
    Usage(input_tokens=100, output_tokens=10, cache_write_tokens=101),
    Usage(input_tokens=100, output_tokens=10, cache_read_tokens=80, cache_write_tokens=80),
    Usage(output_tokens=10, cache_read_tokens=5),  # an input of unknown size holding them
], ids=["reads", "writes", "both", "no-input"])
def test_cache_counts_beyond_the_input_price_no_cost_said_once_per_model(capsys, usage):
    book = PriceBook.load({"m": {"input": 1, "output": 1, "cache_read": 0.1, "cache_write": 2}})
    assert book.cost("m", usage) is None
    assert book.cost("m", usage) is None
    (said,) = _said(capsys)
    assert "'m'" in said and "cache" in said and "no cost" in said


def test_cache_counts_within_the_input_are_priced(capsys):
    book = PriceBook.load({"m": {"input": 1, "output": 1, "cache_read": 0.1, "cache_write": 2}})
    usage = Usage(input_tokens=100, output_tokens=10, cache_read_tokens=50, cache_write_tokens=50)
    assert book.cost("m", usage).usd == pytest.approx((50 * 0.1 + 50 * 2 + 10) / 1e6)
    assert _said(capsys) == []


@pytest.mark.parametrize("entry, usage", [
    ({"output": 2}, Usage(input_tokens=100, output_tokens=10)),
    ({"input": 1}, Usage(input_tokens=100, output_tokens=10)),
], ids=["no-input-rate", "no-output-rate"])
def test_tokens_of_a_kind_the_model_has_no_rate_for_price_no_cost_said_once(capsys, entry, usage):
    book = PriceBook.load({"m": entry})
    assert book.cost("m", usage) is None
    assert book.cost("m", usage) is None
    (said,) = _said(capsys)
    assert "'m'" in said and "no cost" in said


def test_a_model_priced_for_input_alone_prices_calls_without_output():
    """An embedding model: input tokens only, no output rate needed."""
    book = PriceBook.load({"m": {"input": 1}})
    assert book.cost("m", Usage(input_tokens=100, output_tokens=0)).usd == pytest.approx(100e-6)
    assert book.cost("m", Usage(input_tokens=100)).usd == pytest.approx(100e-6)


class _Raising(Mapping):
    """A user's mapping that raises when read."""

    def __getitem__(self, key: str) -> Any:
        raise RuntimeError("unreadable")

    def __iter__(self) -> Any:
        raise RuntimeError("unreadable")

    def __len__(self) -> int:
        return 1


def test_a_pricing_mapping_that_raises_when_read_is_said_not_raised(capsys):
    book = PriceBook.load(_Raising())
    assert book.cost("gpt-4o", WHOLE, "openai") is not None  # the bundled prices apply
    (said,) = _said(capsys)
    assert "could not load pricing" in said and "unreadable" in said


def test_a_price_entry_that_raises_when_read_is_skipped_with_its_notice(capsys):
    book = PriceBook.load({"m": _Raising(), "n": {"input": 1, "output": 1}})
    assert book.cost("n", WHOLE).usd == pytest.approx(2e-3)
    (said,) = _said(capsys)
    assert "ignoring pricing entry 'm'" in said and "unreadable" in said


def test_a_configured_pricing_that_raises_never_reaches_the_app(capsys):
    import otel_llm
    from otel_llm.testing import Capture

    with Capture(project="p", pricing=_Raising()) as cap:
        @otel_llm.llm_call(model="gpt-4o", provider="openai")
        def ask() -> dict[str, Any]:
            return {"model": "gpt-4o", "usage": {"prompt_tokens": 1, "completion_tokens": 1}}

        assert ask()["model"] == "gpt-4o"
        assert cap.spans()


def test_a_long_model_name_is_shortened_in_its_notice(capsys):
    book = PriceBook.load(None)
    assert book.cost("m" * 10_000, WHOLE, "openai") is None
    (said,) = _said(capsys)
    assert len(said) < 600 and "mmm" in said


def test_models_without_a_price_are_named_up_to_a_bound_then_said_to_be_more(capsys):
    """A model name that changes with every call (a deployment id with a request id) must not flood stderr."""
    book = PriceBook.load(None)
    for n in range(50):
        assert book.cost(f"house-model-{n}", WHOLE, "nobody") is None
    said = _said(capsys)
    assert len(said) <= 12
    assert "house-model-0" in said[0] and "not reported" in said[-1]


@pytest.mark.parametrize("billing", [
    Billing(audio_input_tokens=101), Billing(audio_output_tokens=11), Billing(cache_write_1h_tokens=60),
], ids=["audio-in", "audio-out", "1h-writes"])
def test_billed_counts_beyond_the_count_holding_them_price_no_cost_said_once(capsys, billing):
    book = PriceBook.load({"m": {"input": 1, "output": 1, "input_audio": 5, "output_audio": 5, "cache_write": 2}})
    usage = Usage(input_tokens=100, output_tokens=10, cache_write_tokens=50, billing=billing)
    assert book.cost("m", usage) is None
    assert book.cost("m", usage) is None
    (said,) = _said(capsys)
    assert "'m'" in said and "no cost" in said
