"""A sync function that returns a coroutine: the work happens when the caller awaits it.

``def ask(): return async_client.chat.completions.create(...)`` — the decorated
function returns at once, and the request runs when the caller awaits the
coroutine. The span must cover the awaited work (its duration, the request's
child spans, the response's usage), exactly as for ``async def``; the caller
gets what the coroutine returns, or its exception, unchanged.
"""

from __future__ import annotations

import asyncio
import gc
import warnings
from typing import Any

import httpx
import openai
import pytest
from opentelemetry.trace import StatusCode

import otel_llm
from otel_llm import _runtime
from otel_llm import semconv as sc

COMPLETION = {
    "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "test-model",
    "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "hello"}}],
    "usage": {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15},
}


def _client(status: int = 200) -> openai.AsyncOpenAI:
    async def handle(request: httpx.Request) -> httpx.Response:
        with _runtime.current().tracer.start_as_current_span("http request"):  # what an HTTP instrumentation adds
            await asyncio.sleep(0)
        if status != 200:
            return httpx.Response(status, json={"error": {"message": "bad key"}})
        return httpx.Response(200, json=COMPLETION)

    http = httpx.AsyncClient(transport=httpx.MockTransport(handle))
    return openai.AsyncOpenAI(api_key="k", base_url="http://llm.test/v1", http_client=http, max_retries=0)


async def test_a_returned_coroutine_is_the_call(cap):
    client = _client()

    @otel_llm.llm_call(model="test-model", provider="openai")
    def ask(question: str) -> Any:
        return client.chat.completions.create(model="test-model", messages=[{"role": "user", "content": question}])

    pending = ask("hi")
    assert asyncio.iscoroutine(pending)
    assert cap.spans() == []  # nothing has run yet
    reply = await pending
    assert reply.choices[0].message.content == "hello"
    call = cap.span("chat test-model")
    assert call.attributes[sc.GEN_AI_USAGE_INPUT_TOKENS] == 12
    assert call.attributes[sc.GEN_AI_USAGE_OUTPUT_TOKENS] == 3
    assert cap.span("http request").parent.span_id == call.context.span_id
    assert sorted(p.sum for p in cap.metrics()[sc.METRIC_TOKEN_USAGE]) == [3, 12]


async def test_a_returned_coroutine_that_raises_fails_the_span_and_the_caller_gets_the_exception(cap):
    client = _client(status=401)

    @otel_llm.llm_call(model="test-model", provider="openai")
    def ask() -> Any:
        return client.chat.completions.create(model="test-model", messages=[])

    with pytest.raises(openai.AuthenticationError):
        await ask()
    call = cap.span("chat test-model")
    assert call.status.status_code is StatusCode.ERROR
    assert call.attributes[sc.ERROR_TYPE] == "AuthenticationError"


async def test_a_chat_turn_returning_the_calls_coroutine_rolls_it_up(cap):
    client = _client()

    @otel_llm.llm_call(model="test-model", provider="openai")
    def ask() -> Any:
        return client.chat.completions.create(model="test-model", messages=[])

    @otel_llm.chat
    def answer(question: str) -> Any:
        return ask()

    await answer("hi")
    turn, call = cap.span("chat_turn answer"), cap.span("chat test-model")
    assert call.parent.span_id == turn.context.span_id
    assert turn.attributes[sc.OTEL_LLM_TURN_LLM_CALLS] == 1
    assert turn.attributes[sc.OTEL_LLM_TURN_INPUT_TOKENS] == 12


def _never_awaited_warnings(fn: Any) -> list[str]:
    """The warnings Python gives when what ``fn()`` returned is dropped without being awaited."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pending = fn()
        del pending
        gc.collect()
    return [str(w.message) for w in caught]


def test_a_returned_coroutine_never_awaited_warns_as_it_would_undecorated(cap):
    async def work() -> dict:
        return COMPLETION

    def ask() -> Any:
        return work()

    plain = _never_awaited_warnings(ask)
    assert plain == ["coroutine 'test_a_returned_coroutine_never_awaited_warns_as_it_would_undecorated.<locals>.work' "
                     "was never awaited"]
    assert _never_awaited_warnings(otel_llm.llm_call(model="test-model")(ask)) == plain
    assert cap.spans() == []  # the work never ran
