"""Token counts and costs that reach a span are sane, whatever the app or the response says.

A token count is an integer in 0..2**63-1 (OTLP's int64); anything else that
claims to be a count (negative, fractional, NaN, infinite, a bool, a numeric
string, beyond int64) is dropped with one notice per field on stderr, and the
span names the dropped fields in ``otel_llm.usage.dropped``. A cost is never
negative, and one above ``pricing.MAX_CALL_COST_USD`` is dropped with a notice.
(That the notices reach stderr whatever the logging setup, and never the logs
bridge, is shown with a real process in ``test_losses.py``.)
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest

import otel_llm
from otel_llm import _record, _usage, pricing
from otel_llm import semconv as sc
from otel_llm._usage import Usage, extract_usage

INVALID = [-1, -5047021154770878464, 2**63, 10**40, 1.5, float("nan"), float("inf"), -0.5, True, False, "12",
           Decimal("2.5"), Fraction(1, 3)]


@pytest.fixture(autouse=True)
def _fresh_notices(monkeypatch):
    monkeypatch.setattr(_usage, "_warned", set())
    monkeypatch.setattr(_record, "_bad_model_said", False)


def _notices(capsys, words: str = "token count") -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if line.startswith("otel-llm: ") and words in line]


@pytest.mark.parametrize("bad", INVALID, ids=repr)
def test_record_usage_drops_an_invalid_count_with_one_notice(cap, capsys, bad):
    @otel_llm.llm_call(model="test-model", provider="openai")
    def ask() -> str:
        otel_llm.record_usage(input_tokens=bad, output_tokens=7)
        return "ok"

    assert ask() == "ok"
    assert ask() == "ok"
    said = _notices(capsys)
    assert len(said) == 1, said
    assert "input_tokens" in said[0] and "no cost" in said[0]
    for span in cap.spans():
        assert sc.GEN_AI_USAGE_INPUT_TOKENS not in span.attributes
        assert span.attributes[sc.GEN_AI_USAGE_OUTPUT_TOKENS] == 7
        assert span.attributes[sc.OTEL_LLM_USAGE_DROPPED] == ("input_tokens",)
        assert sc.GEN_AI_USAGE_COST not in span.attributes  # never the price of the output alone
    metrics = cap.metrics()
    assert metrics.get(sc.METRIC_COST, []) == []
    assert {p.attributes[sc.GEN_AI_TOKEN_TYPE]: p.sum for p in metrics[sc.METRIC_TOKEN_USAGE]} == {"output": 14}


@pytest.mark.parametrize("bad", INVALID, ids=repr)
def test_an_invalid_count_in_a_return_value_is_dropped(cap, capsys, bad):
    @otel_llm.llm_call(model="test-model", provider="openai")
    def ask() -> dict[str, Any]:
        return {"model": "test-model", "usage": {"prompt_tokens": 10, "completion_tokens": bad}}

    ask()
    assert len(_notices(capsys)) == 1
    span = cap.spans()[0]
    assert span.attributes[sc.GEN_AI_USAGE_INPUT_TOKENS] == 10
    assert sc.GEN_AI_USAGE_OUTPUT_TOKENS not in span.attributes
    assert span.attributes[sc.OTEL_LLM_USAGE_DROPPED] == ("output_tokens",)
    assert sc.GEN_AI_USAGE_COST not in span.attributes  # never the price of the input alone


@pytest.mark.parametrize("bad", [-1, 2**63, 10**40, 1.5], ids=repr)
def test_an_invalid_count_in_a_provider_object_read_along_its_class_plan_is_dropped(capsys, bad):
    """Real OpenAI objects are read along their declared fields, not probed: the same rule applies there."""
    from openai.types.chat import ChatCompletion
    from openai.types.completion_usage import CompletionTokensDetails, CompletionUsage

    usage = CompletionUsage.model_construct(  # as a provider could send it: no validation on the way
        prompt_tokens=10, completion_tokens=bad, total_tokens=0,
        completion_tokens_details=CompletionTokensDetails.model_construct(reasoning_tokens=bad),
    )
    response = ChatCompletion.model_construct(id="r", model="test-model", choices=[], usage=usage)
    assert _usage._plan(type(response)) is not None and _usage._declared_shape(type(usage))
    found = extract_usage(response)
    assert (found.input_tokens, found.output_tokens, found.reasoning_tokens) == (10, None, None)
    assert found.dropped == ("output_tokens", "reasoning_tokens")
    assert len(_notices(capsys)) == 2


@pytest.mark.parametrize(
    "good, expected",
    [(0, 0), (2**63 - 1, 2**63 - 1), (12.0, 12), (Decimal("7"), 7), (Fraction(8, 1), 8)],
    ids=repr,
)
def test_valid_counts_of_any_numeric_type_are_kept_as_int(good, expected):
    usage = extract_usage({"usage": {"prompt_tokens": good}})
    assert usage == Usage(input_tokens=expected)
    assert type(usage.input_tokens) is int


def test_numpy_like_integers_are_counts():
    class Int64:
        """Registered as numbers.Integral, like numpy.int64."""

        def __init__(self, v: int) -> None:
            self.v = v

        def __index__(self) -> int:
            return self.v

        def __int__(self) -> int:
            return self.v

    import numbers

    numbers.Integral.register(Int64)
    assert extract_usage({"usage": {"prompt_tokens": Int64(5)}}) == Usage(input_tokens=5)
    assert extract_usage({"usage": {"prompt_tokens": Int64(-5)}}).input_tokens is None


def test_objects_that_are_not_numbers_are_not_counts_and_not_warned_about(capsys):
    """A mock or an unrelated object in a usage slot is a shape we don't read, not a bad count."""
    assert extract_usage({"usage": {"prompt_tokens": object()}}) is None
    assert _notices(capsys) == []


def test_each_field_is_said_once_and_named(capsys):
    for _ in range(3):
        extract_usage({"usage": {"prompt_tokens": -1, "completion_tokens": -2}})
    messages = _notices(capsys)
    assert len(messages) == 2
    assert any("input_tokens" in m and "-1" in m for m in messages)
    assert any("output_tokens" in m and "-2" in m for m in messages)


def test_dropped_fields_merge_across_stream_chunks():
    first = extract_usage({"usage": {"prompt_tokens": -1}})
    last = extract_usage({"usage": {"completion_tokens": 1.5, "prompt_tokens": 3}})
    merged = first.merged(last)
    assert merged.input_tokens == 3
    # The input lost on the first chunk is given by the last (its value wins): no longer dropped.
    assert merged.dropped == ("output_tokens",)


def test_anthropic_input_with_an_invalid_cache_count_keeps_the_valid_counts_and_no_understated_total():
    """The input total includes the cache reads: 10 alone would understate it (test_partial_cost)."""
    usage = extract_usage({"usage": {"input_tokens": 10, "cache_read_input_tokens": -4, "output_tokens": 2}})
    assert usage.input_tokens is None and usage.cache_read_tokens is None and usage.output_tokens == 2
    assert usage.dropped == ("cache_read_tokens", "input_tokens")


def test_record_usage_model_must_be_a_string(cap, capsys):
    @otel_llm.llm_call(model="test-model", provider="openai")
    def ask() -> str:
        otel_llm.record_usage(input_tokens=1, model=123)  # type: ignore[arg-type]
        return "ok"

    ask()
    ask()
    span = cap.spans()[0]
    assert sc.GEN_AI_RESPONSE_MODEL not in span.attributes
    assert span.attributes[sc.GEN_AI_USAGE_COST] == pytest.approx(1e-6)  # priced as the requested model
    assert len(_notices(capsys, "record_usage(model=...) ignored")) == 1  # once, not once per call


# --- cost ---------------------------------------------------------------------------


def test_an_absurd_cost_is_dropped_with_a_notice(cap, capsys):
    """10**12 input tokens at $1 per million would be $1,000,000 for one call."""

    @otel_llm.llm_call(model="test-model", provider="openai")
    def ask() -> str:
        otel_llm.record_usage(input_tokens=10**12, output_tokens=1)
        return "ok"

    ask()
    ask()
    span = cap.spans()[0]
    assert span.attributes[sc.GEN_AI_USAGE_INPUT_TOKENS] == 10**12  # a count: kept
    assert sc.GEN_AI_USAGE_COST not in span.attributes
    costs = [line for line in _notices(capsys, "cost") if "test-model" in line]
    assert len(costs) == 1 and "1000" in costs[0].replace(",", "")
    assert "otel_llm.cost" not in cap.metrics()


def test_a_refused_cost_says_why_on_its_span(cap):
    """A call with tokens and no cost names the pricing's refusal in ``otel_llm.cost.refused``, as a refused
    bill is named in ``otel_llm.usage.dropped``: a price beyond one call's bound, a model without a price."""

    def call(model: str, input_tokens: int) -> None:  # one model call that records its usage
        otel_llm.llm_call(model=model, provider="openai")(
            lambda: otel_llm.record_usage(input_tokens=input_tokens, output_tokens=1))()

    call("test-model", 10**12)  # absurd
    call("no-such-model", 10)  # unknown
    call("test-model", 10)  # priced
    refused = [s.attributes.get(sc.OTEL_LLM_COST_REFUSED) for s in cap.spans()]
    assert refused == ["its cost is outside 0..1000 USD for one call", "no price for its model", None]


def test_cost_at_the_bound_is_kept():
    book = pricing.PriceBook.load({"m": {"input": 1.0}})
    at_bound = int(pricing.MAX_CALL_COST_USD * 1_000_000)
    assert book.cost("m", Usage(input_tokens=at_bound)).usd == pytest.approx(pricing.MAX_CALL_COST_USD)
    assert book.cost("m", Usage(input_tokens=at_bound + 1_000_000)) is None


def test_cost_is_never_negative_even_with_a_negative_rate_slipping_through():
    rates = pricing.ModelRates(
        input=pricing._Rate(-1e-6), output=None, cache_read=None, cache_write=None, source="user"
    )
    book = pricing.PriceBook({"m": rates})
    assert book.cost("m", Usage(input_tokens=10)) is None


def test_nan_cost_is_dropped():
    rates = pricing.ModelRates(
        input=pricing._Rate(math.nan), output=None, cache_read=None, cache_write=None, source="user"
    )
    assert pricing.PriceBook({"m": rates}).cost("m", Usage(input_tokens=10)) is None
