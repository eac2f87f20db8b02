"""A call whose usage lost a priced count gets no cost, never the price of what is left.

A count dropped as invalid (``otel_llm.usage.dropped``) leaves the call's usage
incomplete: pricing the other counts would record a cost that covers part of the
call, which every sum of costs then takes for the whole. The call keeps its valid
token counts (span and token metric) and counts as unpriced; the dropped count's
one notice says the call gets no cost. A billed cost that is dropped leaves the
tokens whole: the call is priced from them.
"""

from __future__ import annotations

from typing import Any

import pytest

import otel_llm
from otel_llm import _record, _usage
from otel_llm import semconv as sc
from otel_llm._usage import Usage
from otel_llm.pricing import PriceBook
from tests.sdk.conftest import PRICING


@pytest.fixture(autouse=True)
def _fresh_notices(monkeypatch):
    monkeypatch.setattr(_usage, "_warned", set())
    monkeypatch.setattr(_record, "_bad_cost_said", False)


def _points(cap, name: str) -> list[Any]:
    return cap.metrics().get(name, [])


def _returned(cap, usage: Any) -> Any:
    """The span attributes of a call of test-model that returned ``usage`` in an OpenAI-shaped response."""
    @otel_llm.llm_call(model="test-model", provider="openai")
    def ask() -> dict[str, Any]:
        return {"model": "test-model", "usage": usage}

    ask()
    return cap.span("chat test-model").attributes


@pytest.mark.parametrize("usage, dropped, kept", [
    ({"prompt_tokens": 10, "completion_tokens": -3}, "output_tokens", sc.GEN_AI_USAGE_INPUT_TOKENS),  # OpenAI
    ({"prompt_tokens": 10, "completion_tokens": 4, "prompt_tokens_details": {"cached_tokens": -4}},
     "cache_read_tokens", sc.GEN_AI_USAGE_INPUT_TOKENS),  # its input would be priced at the full rate
    ({"input_tokens": 10, "cache_read_input_tokens": "4", "output_tokens": 2}, "cache_read_tokens",
     sc.GEN_AI_USAGE_OUTPUT_TOKENS),  # Anthropic (its input total is unknown too: test_a_total_...)
    ({"input_tokens": 10, "cache_creation_input_tokens": 1.5, "output_tokens": 2}, "cache_write_tokens",
     sc.GEN_AI_USAGE_OUTPUT_TOKENS),
    ({"prompt_token_count": 10, "candidates_token_count": 3, "thoughts_token_count": -9},
     "reasoning_tokens", sc.GEN_AI_USAGE_INPUT_TOKENS),  # Gemini: thoughts are part of the output it would price
    ({"prompt_token_count": 10, "tool_use_prompt_token_count": float("inf"), "candidates_token_count": 3},
     "input_tokens", sc.GEN_AI_USAGE_OUTPUT_TOKENS),
], ids=["openai-output", "openai-cached", "anthropic-cache-read", "anthropic-cache-write", "gemini-thoughts",
        "gemini-tool-prompt"])
def test_a_returned_usage_with_a_dropped_count_has_no_cost(cap, usage, dropped, kept):
    """(A count dropped from record_usage: test_recorded_values.)"""
    attrs = _returned(cap, usage)
    assert dropped in attrs[sc.OTEL_LLM_USAGE_DROPPED]
    assert kept in attrs  # the valid counts are kept
    assert sc.GEN_AI_USAGE_COST not in attrs
    assert _points(cap, sc.METRIC_COST) == []


def test_a_dropped_billed_cost_leaves_the_call_priced_from_its_whole_tokens(cap):
    @otel_llm.llm_call(model="test-model", provider="openai")
    def ask() -> str:
        otel_llm.record_usage(input_tokens=10, output_tokens=5, cost_usd=-1)
        return "ok"

    ask()
    attrs = cap.span("chat test-model").attributes
    assert attrs[sc.OTEL_LLM_USAGE_DROPPED] == ("billed_cost",)
    assert attrs[sc.GEN_AI_USAGE_COST] == pytest.approx(10e-6 + 10e-6)


def test_the_price_book_prices_no_usage_with_a_dropped_priced_count():
    book = PriceBook.load(PRICING)
    whole = Usage(input_tokens=10, output_tokens=5)
    assert book.cost("test-model", whole).usd == pytest.approx(20e-6)
    for field in ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "reasoning_tokens",
                  "cache_write_1h_tokens", "audio_input_tokens", "audio_output_tokens"):
        assert book.cost("test-model", Usage(input_tokens=10, output_tokens=5, dropped=(field,))) is None, field
    priced = book.cost("test-model", Usage(input_tokens=10, output_tokens=5, dropped=("billed_cost", "total_tokens")))
    assert priced.usd == pytest.approx(20e-6)


# --- a count the price needs that the response does not give ------------------------------------


def _said(capsys: Any) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if line.startswith("otel-llm: ")]


def test_output_tokens_without_an_input_count_are_not_priced_as_the_whole_call(capsys):
    """Every call reads a prompt: its output alone priced is a part of its cost, recorded as the whole."""
    book = PriceBook.load(PRICING)
    assert book.cost("test-model", Usage(output_tokens=1000)) is None
    assert book.cost("test-model", Usage(output_tokens=7, reasoning_tokens=3)) is None  # said once per model
    (said,) = _said(capsys)
    assert "'test-model'" in said and "no input token count" in said and "no cost" in said
    rates = book.rates("test-model")
    assert rates is not None and rates.refusal(Usage(output_tokens=1000)) == "no input token count"
    assert book.cost("test-model", Usage(input_tokens=3, output_tokens=1000)).usd == pytest.approx(2003e-6)


def test_output_tokens_of_a_model_priced_by_output_alone_are_priced(capsys):
    """A price with no input rate needs no input count (a user entry with an output price alone)."""
    book = PriceBook.load({"out-only": {"output": 2.0}})
    assert book.cost("out-only", Usage(output_tokens=1000)).usd == pytest.approx(2000e-6)
    rates = book.rates("out-only")
    assert rates is not None and rates.refusal(Usage(output_tokens=1000)) is None
    assert _said(capsys) == []


def test_input_tokens_without_an_output_count_are_priced():
    """An output count a provider leaves out is none (Gemini omits a zero count; an embedding has no output)."""
    book = PriceBook.load(PRICING)
    assert book.cost("test-model", Usage(input_tokens=10)).usd == pytest.approx(10e-6)


def test_a_returned_usage_with_output_and_no_input_count_has_no_cost(cap):
    attrs = _returned(cap, {"completion_tokens": 40})
    assert attrs[sc.GEN_AI_USAGE_OUTPUT_TOKENS] == 40  # the count is kept
    assert sc.GEN_AI_USAGE_COST not in attrs
    assert _points(cap, sc.METRIC_COST) == []


# --- a total whose part was dropped -------------------------------------------------------------


@pytest.mark.parametrize("usage, total, part", [
    ({"input_tokens": 10, "cache_read_input_tokens": "4", "output_tokens": 2}, "input_tokens", "cache_read_tokens"),
    ({"input_tokens": 10, "cache_read_input_tokens": 3, "cache_creation_input_tokens": -1, "output_tokens": 2},
     "input_tokens", "cache_write_tokens"),
    ({"inputTokens": 10, "cacheReadInputTokens": float("nan"), "outputTokens": 2}, "input_tokens",
     "cache_read_tokens"),  # Bedrock Converse
    ({"prompt_token_count": 10, "tool_use_prompt_token_count": float("inf"), "candidates_token_count": 3},
     "input_tokens", "input_tokens"),
    ({"prompt_token_count": -1, "tool_use_prompt_token_count": 4, "candidates_token_count": 3},
     "input_tokens", "input_tokens"),
    ({"prompt_token_count": 10, "candidates_token_count": 3, "thoughts_token_count": -9},
     "output_tokens", "reasoning_tokens"),
    ({"promptTokenCount": 10, "candidatesTokenCount": 2.5, "thoughtsTokenCount": 40},
     "output_tokens", "output_tokens"),  # Gemini's REST JSON
], ids=["anthropic-cache-read", "anthropic-cache-write", "bedrock-cache-read", "gemini-tool-prompt", "gemini-prompt",
        "gemini-thoughts", "gemini-rest-candidates"])
def test_a_total_with_a_dropped_part_is_unknown_not_understated(usage, total, part):
    """Anthropic's and Bedrock's input total adds the cache counts to the uncached input, Gemini's adds the
    tool-use prompt to the prompt and the thoughts to the candidates: with a part dropped, the sum of the
    others is below the call's count. The total is unknown and named dropped, as the part is."""
    found = _usage.extract_usage({"usage": usage})
    assert found is not None
    assert getattr(found, total) is None
    assert total in found.dropped and part in found.dropped


def test_a_dropped_part_leaves_the_span_without_the_total(cap):
    @otel_llm.llm_call(model="test-model", provider="anthropic")
    def ask() -> dict[str, Any]:
        return {"model": "test-model", "type": "message",
                "usage": {"input_tokens": 10, "cache_read_input_tokens": -400, "output_tokens": 2}}

    ask()
    attrs = cap.span("chat test-model").attributes
    assert sc.GEN_AI_USAGE_INPUT_TOKENS not in attrs  # not 10: the 400-odd cached tokens are part of the input
    assert set(attrs[sc.OTEL_LLM_USAGE_DROPPED]) == {"cache_read_tokens", "input_tokens"}
    assert attrs[sc.GEN_AI_USAGE_OUTPUT_TOKENS] == 2


# --- PriceBook.cost and ModelRates.refusal: one rule ----------------------------------------------


@pytest.mark.parametrize("usage", [
    Usage(input_tokens=10, output_tokens=5),
    Usage(output_tokens=5),
    Usage(input_tokens=10),
    Usage(input_tokens=10, output_tokens=5, dropped=("cache_read_tokens",)),
    Usage(input_tokens=10, output_tokens=5, dropped=("billed_cost",)),
    Usage(input_tokens=10, output_tokens=5, cache_read_tokens=50),
    Usage(input_tokens=2 * 10**9, output_tokens=10),  # $2,000 at $1 per 1M: beyond a call's sane cost
    Usage(input_tokens=10, output_tokens=10**12),
], ids=["whole", "output-only", "input-only", "dropped", "dropped-bill", "contradiction", "insane-input",
        "insane-output"])
def test_the_ingests_refusal_refuses_exactly_what_the_sdk_leaves_unpriced(usage):
    """The ingest prices other producers' calls by ``ModelRates.refusal`` then ``price``: a call the SDK
    leaves without a cost must be refused there too, or the ingest records the cost the SDK refused."""
    book = PriceBook.load(PRICING)
    rates = book.rates("test-model")
    assert rates is not None
    assert (book.cost("test-model", usage) is None) == (rates.refusal(usage) is not None)


# --- a dropped count that record_usage then gives ---------------------------------------------------


def test_a_count_record_usage_gives_replaces_the_one_the_response_lost(cap):
    """``record_usage``'s counts win over the result's: the input count the response lost (-1) is the
    app's 10 now, the usage is whole, and the call is priced; nothing is named dropped that the span has."""
    @otel_llm.llm_call(model="test-model", provider="openai")
    def ask() -> dict[str, Any]:
        otel_llm.record_usage(input_tokens=10)
        return {"model": "test-model", "usage": {"prompt_tokens": -1, "completion_tokens": 5}}

    ask()
    attrs = cap.span("chat test-model").attributes
    assert attrs[sc.GEN_AI_USAGE_INPUT_TOKENS] == 10
    assert sc.OTEL_LLM_USAGE_DROPPED not in attrs
    assert attrs[sc.GEN_AI_USAGE_COST] == pytest.approx(10e-6 + 10e-6)


def test_a_part_still_lost_keeps_the_call_unpriced():
    """The input total given again, its cache reads still unknown: priced, the input would all be uncached."""
    lost = Usage(output_tokens=2, dropped=("cache_read_tokens", "input_tokens"))
    merged = lost.merged(Usage(input_tokens=135))
    assert merged.input_tokens == 135 and merged.dropped == ("cache_read_tokens",)
    assert PriceBook.load(PRICING).cost("test-model", merged) is None


# --- a split with one side missing and a total beyond the other ----------------------------------


@pytest.mark.parametrize("usage, missing", [
    ({"prompt_tokens": 10, "total_tokens": 1010}, "output_tokens"),  # an OpenAI-compatible server's
    ({"completion_tokens": 5, "total_tokens": 1005}, "input_tokens"),
    ({"promptTokenCount": 10, "totalTokenCount": 60}, "output_tokens"),  # Gemini REST
], ids=["openai-no-output", "openai-no-input", "gemini-no-output"])
def test_a_total_beyond_the_one_count_given_leaves_the_other_unknown_and_unpriced(cap, usage, missing):
    """The total says the call had tokens its counts leave out: priced from the one count, its cost
    would be a part of the call's; the missing count is named dropped and the call unpriced."""
    attrs = _returned(cap, usage)
    assert missing in attrs[sc.OTEL_LLM_USAGE_DROPPED]
    assert sc.GEN_AI_USAGE_COST not in attrs


def test_a_total_equal_to_the_one_count_given_is_priced(cap):
    """An embedding's usage (prompt_tokens = total_tokens): no output, nothing missing."""
    attrs = _returned(cap, {"prompt_tokens": 10, "total_tokens": 10})
    assert sc.OTEL_LLM_USAGE_DROPPED not in attrs
    assert attrs[sc.GEN_AI_USAGE_COST] == pytest.approx(10e-6)
