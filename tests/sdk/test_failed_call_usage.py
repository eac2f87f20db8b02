"""A model call that was answered, and billed, but raised: its tokens are still the call's.

openai's ``chat.completions.parse()`` raises ``LengthFinishReasonError`` when the
answer was cut at ``max_tokens``: the completion (with its usage) is on the
exception. The span fails as it should, and carries the tokens, cost and
finish reason the provider billed; the agent around it totals them. Real
openai client over an httpx mock transport.
"""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest
from opentelemetry.trace import StatusCode
from pydantic import BaseModel

import otel_llm
from otel_llm import semconv as sc
from tests.sdk.test_stream_helpers import MESSAGES, openai_client
from tests.sdk.test_stream_usage import cap  # noqa: F401 — the fixture: gpt-4o-mini at $1/$2 per 1M

CUT_OFF = {
    "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
    "choices": [{"index": 0, "finish_reason": "length", "message": {"role": "assistant", "content": '{"v": '}}],
    "usage": {"prompt_tokens": 50, "completion_tokens": 16, "total_tokens": 66},
}


class Answer(BaseModel):
    v: int


def test_a_completion_cut_at_max_tokens_keeps_its_usage_on_the_failed_span(cap):
    client = openai_client(lambda request: httpx.Response(200, json=CUT_OFF))

    @otel_llm.llm_call(model="gpt-4o-mini", provider="openai")
    def ask() -> Any:
        return client.chat.completions.parse(model="gpt-4o-mini", messages=MESSAGES, response_format=Answer,
                                             max_tokens=16)

    @otel_llm.agent("extractor")
    def extract() -> Any:
        return ask()

    with pytest.raises(openai.LengthFinishReasonError) as info:
        extract()
    assert info.value.completion.usage.completion_tokens == 16  # the app's exception, unchanged
    span = cap.span("chat gpt-4o-mini")
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes[sc.ERROR_TYPE] == "LengthFinishReasonError"
    assert (span.attributes[sc.GEN_AI_USAGE_INPUT_TOKENS], span.attributes[sc.GEN_AI_USAGE_OUTPUT_TOKENS]) == (50, 16)
    assert span.attributes[sc.GEN_AI_RESPONSE_FINISH_REASONS] == ("length",)
    assert span.attributes[sc.GEN_AI_USAGE_COST] == pytest.approx((50 * 1 + 16 * 2) * 1e-6)
    agent = cap.span("invoke_agent extractor").attributes
    assert (agent[sc.OTEL_LLM_AGENT_INPUT_TOKENS], agent[sc.OTEL_LLM_AGENT_OUTPUT_TOKENS]) == (50, 16)
    (tokens,) = [p for p in cap.metrics()[sc.METRIC_TOKEN_USAGE] if p.attributes[sc.GEN_AI_TOKEN_TYPE] == "output"]
    assert tokens.sum == 16


def test_an_exception_without_a_completion_has_no_usage(cap):
    @otel_llm.llm_call(model="gpt-4o-mini", provider="openai")
    def ask() -> None:
        raise openai.ContentFilterFinishReasonError()

    with pytest.raises(openai.ContentFilterFinishReasonError):
        ask()
    assert sc.GEN_AI_USAGE_INPUT_TOKENS not in cap.span("chat gpt-4o-mini").attributes
