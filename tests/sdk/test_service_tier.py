"""OpenAI's ``service_tier`` on a response says which tier billed the call (flex, priority, scale).

The genai-prices snapshot holds flex and priority rates for some OpenAI models
(``price_variants`` keyed by ``service_tier``): such a call is priced at them.
A tier the price table has no rate for (``scale``, or a model without a flex
rate) is priced at the standard rate and the span says so in ``otel_llm.cost.note``.
"""

from __future__ import annotations

from typing import Any

import pytest
from openai.types.chat import ChatCompletion, ChatCompletionChunk

import otel_llm
from otel_llm import semconv as sc
from otel_llm._stream_usage import reader_for
from otel_llm._usage import Usage, extract_usage
from otel_llm.pricing import PriceBook
from otel_llm.testing import Capture
from tests.sdk.test_gateway_usage import chat, forms

USAGE = {"prompt_tokens": 1_000_000, "completion_tokens": 1_000_000, "total_tokens": 2_000_000}


def tiered(tier: str | None, model: str = "gpt-5") -> dict[str, Any]:
    return {**chat(USAGE, model=model), "service_tier": tier}


@pytest.mark.parametrize("value", forms(tiered("flex")), ids=["dict", "object", "openai-first", "openai-planned"])
def test_the_billed_tier_is_read(value: Any) -> None:
    usage = extract_usage(value)
    assert usage is not None and usage.billing is not None and usage.billing.service_tier == "flex"


@pytest.mark.parametrize("tier", ["default", "auto", None])
def test_the_standard_tier_is_no_billing_fact(tier: str | None) -> None:
    for value in forms(tiered(tier)):
        usage = extract_usage(value)
        assert usage is not None and usage.billing is None


def test_a_streamed_call_keeps_its_tier() -> None:
    base = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-5", "service_tier": "priority"}
    chunks = [
        ChatCompletionChunk.model_validate({**base, "choices": [{"index": 0, "delta": {"content": "hi"}}]}),
        ChatCompletionChunk.model_validate({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}),
        ChatCompletionChunk.model_validate({**base, "choices": [], "usage": USAGE}),
    ]
    reader = reader_for(chunks[0])
    for chunk in chunks:
        reader(chunk)
    usage = reader.result()
    assert usage is not None and usage.billing is not None and usage.billing.service_tier == "priority"


def _standard(model: str) -> float:
    cost = PriceBook.load(None).cost(model, Usage(1_000_000, 1_000_000), "openai")
    assert cost is not None
    return cost.usd


@pytest.mark.parametrize(("tier", "ratio"), [("flex", 0.5), ("priority", 2.0)])
def test_a_tier_in_the_price_table_is_priced_at_its_rate(tier: str, ratio: float) -> None:
    usage = extract_usage(tiered(tier))
    assert usage is not None
    cost = PriceBook.load(None).cost("gpt-5", usage, "openai")
    # gpt-5: standard $1.25/$10, flex $0.625/$5, priority $2.5/$20 per 1M tokens (genai-prices snapshot).
    assert cost is not None and cost.usd == pytest.approx(_standard("gpt-5") * ratio)
    assert cost.note is None


def test_a_tier_without_a_rate_is_priced_at_the_standard_rate_and_said() -> None:
    book = PriceBook.load(None)
    for model, tier in (("gpt-5", "scale"), ("gpt-4o", "flex")):
        usage = extract_usage(tiered(tier, model))
        assert usage is not None
        cost = book.cost(model, usage, "openai")
        assert cost is not None and cost.usd == pytest.approx(_standard(model))
        assert cost.note is not None and repr(tier) in cost.note and "standard rate" in cost.note


def _span(cap: Capture) -> Any:
    return [s for s in cap.spans() if s.attributes.get(sc.OTEL_LLM_KIND) == sc.KIND_LLM_CALL][-1]


@pytest.mark.parametrize(("tier", "noted"), [("flex", False), ("scale", True)])
def test_the_span_cost_is_the_tier_price_or_says_it_is_not(tier: str, noted: bool) -> None:
    @otel_llm.llm_call(provider="openai")
    def ask() -> ChatCompletion:
        return ChatCompletion.model_validate(tiered(tier))

    with Capture(project="p") as cap:
        ask()
    attrs = _span(cap).attributes
    expected = _standard("gpt-5") * (1.0 if noted else 0.5)
    assert attrs[sc.GEN_AI_USAGE_COST] == pytest.approx(expected)
    assert (sc.OTEL_LLM_COST_NOTE in attrs) is noted


def test_a_user_price_has_no_tiers_and_says_so() -> None:
    usage = extract_usage(tiered("flex"))
    assert usage is not None
    cost = PriceBook.load({"gpt-5": {"input": 1.0, "output": 2.0}}).cost("gpt-5", usage, "openai")
    assert cost is not None and cost.usd == pytest.approx(3.0) and cost.source == "user"
    assert cost.note is not None and "'flex'" in cost.note


def test_a_responses_api_response_keeps_its_tier() -> None:
    from openai.types.responses import Response

    from tests.sdk.test_stream_usage import response

    usage = {"input_tokens": 1, "output_tokens": 1, "total_tokens": 2, "output_tokens_details": {"reasoning_tokens": 0},
             "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0}}
    body = {**response("completed", usage), "service_tier": "flex"}
    for value in (body, Response.model_validate(body), Response.model_validate(body)):
        found = extract_usage(value)
        assert found is not None and found.billing is not None and found.billing.service_tier == "flex"


# Anthropic says the tier in usage.service_tier: standard, priority, batch (Message Batches, at batch rates).
CLAUDE = {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
          "content": [{"type": "text", "text": "hi"}], "stop_reason": "end_turn",
          "usage": {"input_tokens": 1_000_000, "output_tokens": 1_000_000}}


def _claude(tier: str) -> dict[str, Any]:
    return {**CLAUDE, "usage": {**CLAUDE["usage"], "service_tier": tier}}


def test_anthropic_tiers_are_read_and_priced() -> None:
    from anthropic.types import Message

    book = PriceBook.load(None)
    standard = book.cost("claude-sonnet-4-5", Usage(1_000_000, 1_000_000), "anthropic")
    assert standard is not None
    for value in (_claude("standard"), Message.model_validate(_claude("standard"))):
        usage = extract_usage(value)
        assert usage is not None and usage.billing is None
    for value in (_claude("batch"), Message.model_validate(_claude("batch"))):
        usage = extract_usage(value)
        assert usage is not None and usage.billing is not None and usage.billing.service_tier == "batch"
        cost = book.cost("claude-sonnet-4-5", usage, "anthropic")  # the snapshot's batch rates: half
        assert cost is not None and cost.usd == pytest.approx(standard.usd / 2) and cost.note is None
    usage = extract_usage(_claude("priority"))
    assert usage is not None
    cost = book.cost("claude-sonnet-4-5", usage, "anthropic")
    assert cost is not None and cost.usd == pytest.approx(standard.usd) and "'priority'" in (cost.note or "")


def test_an_anthropic_stream_keeps_its_tier() -> None:
    start = {"type": "message_start", "message": {**_claude("priority"), "stop_reason": None,
                                                  "usage": {"input_tokens": 10, "output_tokens": 1,
                                                            "service_tier": "priority"}}}
    delta = {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 5}}
    reader = reader_for(start)
    for event in (start, delta):
        reader(event)
    usage = reader.result()
    assert usage is not None and usage.billing is not None and usage.billing.service_tier == "priority"
