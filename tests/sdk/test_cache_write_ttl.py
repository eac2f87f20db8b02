"""Anthropic's 1-hour cache writes: counted apart from the 5-minute ones and priced at their own rate.

Anthropic bills a cache write kept for an hour at 2x the input rate, one kept
five minutes at 1.25x; its usage says how many of each
(``usage.cache_creation.ephemeral_1h_input_tokens`` / ``ephemeral_5m_...``).
The bundled genai-prices snapshot has both rates (``cache_write_1h_mtok``).
"""

from __future__ import annotations

from typing import Any

import pytest
from anthropic.types import Message

import otel_llm
from otel_llm import semconv as sc
from otel_llm._stream_usage import reader_for
from otel_llm._usage import Billing, Usage, extract_usage
from otel_llm.pricing import PriceBook
from otel_llm.testing import Capture
from tests.sdk.test_gateway_usage import LITELLM_USAGE, LiteLLMUsage

# input 100 uncached + 500 read + 300 written (200 for 1h, 100 for 5m) = 900
ANTHROPIC_USAGE = {"input_tokens": 100, "output_tokens": 40, "cache_read_input_tokens": 500,
                   "cache_creation_input_tokens": 300,
                   "cache_creation": {"ephemeral_1h_input_tokens": 200, "ephemeral_5m_input_tokens": 100}}
ANTHROPIC = {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
             "content": [{"type": "text", "text": "hi"}], "stop_reason": "end_turn", "usage": ANTHROPIC_USAGE}
EXPECTED = Usage(900, 40, 500, 300, None, "claude-sonnet-4-5", "msg_1", ("end_turn",), billing=Billing(cache_write_1h_tokens=200))


@pytest.mark.parametrize("value", [ANTHROPIC, Message.model_validate(ANTHROPIC), Message.model_validate(ANTHROPIC)],
                         ids=["dict", "anthropic-first", "anthropic-planned"])
def test_anthropic_1h_cache_writes_are_counted_apart(value: Any) -> None:
    assert extract_usage(value) == EXPECTED


def test_anthropic_stream_keeps_the_1h_writes_of_message_start() -> None:
    start = {"type": "message_start", "message": {**ANTHROPIC, "stop_reason": None,
                                                  "usage": {**ANTHROPIC_USAGE, "output_tokens": 1}}}
    delta = {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 40}}
    reader = reader_for(start)
    for event in (start, delta):
        reader(event)
    assert reader.result() == EXPECTED


def test_litellm_and_langchain_1h_cache_writes() -> None:
    usage = {**LITELLM_USAGE, "prompt_tokens_details": {
        "cached_tokens": 1000, "cache_creation_tokens": 300,
        "cache_creation_token_details": {"ephemeral_5m_input_tokens": 100, "ephemeral_1h_input_tokens": 200}}}
    assert extract_usage(LiteLLMUsage.model_validate(usage)) == Usage(1500, 40, 1000, 300, billing=Billing(cache_write_1h_tokens=200))
    langchain = {"input_tokens": 900, "output_tokens": 40, "input_token_details": {
        "cache_read": 500, "cache_creation": 300, "ephemeral_1h_input_tokens": 200, "ephemeral_5m_input_tokens": 100}}
    assert extract_usage(langchain) == Usage(900, 40, 500, 300, billing=Billing(cache_write_1h_tokens=200))


def test_1h_cache_writes_are_priced_at_the_1h_rate() -> None:
    # claude-sonnet-4-5: input 3, cache read 0.3, 5m write 3.75, 1h write 6, output 15 (USD per 1M tokens)
    # 100*3 + 500*0.3 + 100*3.75 + 200*6 + 40*15 = 2625
    cost = PriceBook.load(None).cost("claude-sonnet-4-5", EXPECTED, "anthropic")
    assert cost is not None and cost.usd == pytest.approx(2625e-6, rel=1e-12)
    # the user's 1h rate too
    book = PriceBook.load({"m": {"input": 1, "output": 1, "cache_read": 0.1, "cache_write": 1.25, "cache_write_1h": 2}})
    assert book.cost("m", EXPECTED, None).usd == pytest.approx((100 + 50 + 125 + 400 + 40) * 1e-6, rel=1e-12)


def test_a_span_says_its_1h_writes_and_when_no_1h_rate_priced_them() -> None:
    @otel_llm.llm_call(provider="anthropic")
    def ask() -> Any:
        return Message.model_validate({**ANTHROPIC, "model": "house-claude"})

    with Capture(project="p", pricing={"house-claude": {"input": 1, "output": 1, "cache_write": 1.25}}) as cap:
        ask()
    span = [s for s in cap.spans() if s.attributes.get(sc.OTEL_LLM_KIND) == sc.KIND_LLM_CALL][-1]
    assert span.attributes[sc.OTEL_LLM_USAGE_CACHE_CREATION_1H_INPUT_TOKENS] == 200
    # no 1h rate: the 1h writes at the 5m rate, and the span says so
    assert span.attributes[sc.GEN_AI_USAGE_COST] == pytest.approx((100 + 500 + 300 * 1.25 + 40) * 1e-6)
    assert "5-minute" in span.attributes[sc.OTEL_LLM_COST_NOTE]
