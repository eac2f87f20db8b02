"""Retries: the app's own loop with ``otel_llm.attempt(n)``, and a client's built-in retries.

The app's loop: each retried call carries its attempt number, the span running
the loop says how it ended. A client's own HTTP retries (OpenAI/Anthropic
``max_retries``) happen inside one decorated call: one span, whose duration
includes every attempt and backoff and whose outcome is the last attempt's;
the number of HTTP attempts is not seen (shown here with the real ``openai``
client over an httpx mock transport).
"""

from __future__ import annotations

import json
import logging

import httpx
import numpy as np
import openai
import pytest
from opentelemetry.trace import StatusCode

import otel_llm
from otel_llm import semconv as sc


class Flaky:
    """Fails ``failures`` times, then answers."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0

    def __call__(self, query: str) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise TimeoutError(f"attempt {self.calls} timed out")
        return f"results for {query}"


def _retrying_agent(backend: Flaky, tries: int = 3):
    search = otel_llm.tool("search_web")(backend)

    @otel_llm.agent("researcher")
    def research(query: str) -> str:
        for n in range(1, tries + 1):
            try:
                with otel_llm.attempt(n):
                    return search(query)
            except TimeoutError:
                if n == tries:
                    raise
        raise AssertionError("unreachable")

    return research


def _tool_spans(cap):
    return [s for s in cap.spans() if s.attributes.get(sc.OTEL_LLM_KIND) == sc.KIND_TOOL]


def test_succeeded_on_the_third_attempt(cap):
    assert _retrying_agent(Flaky(failures=2))("q") == "results for q"
    tools = _tool_spans(cap)
    assert [s.attributes[sc.OTEL_LLM_ATTEMPT] for s in tools] == [1, 2, 3]
    assert [s.status.status_code for s in tools] == [StatusCode.ERROR, StatusCode.ERROR, StatusCode.UNSET]
    agent = cap.span("invoke_agent researcher")
    assert agent.attributes[sc.OTEL_LLM_RETRY_ATTEMPTS] == 3
    assert agent.attributes[sc.OTEL_LLM_RETRY_OUTCOME] == "succeeded"
    assert agent.status.status_code is StatusCode.UNSET
    assert agent.attributes[sc.OTEL_LLM_AGENT_TOOL_CALLS] == 3  # every attempt is a real call


def test_first_time_right(cap):
    _retrying_agent(Flaky(failures=0))("q")
    (tool,) = _tool_spans(cap)
    assert tool.attributes[sc.OTEL_LLM_ATTEMPT] == 1
    agent = cap.span("invoke_agent researcher")
    assert (agent.attributes[sc.OTEL_LLM_RETRY_ATTEMPTS], agent.attributes[sc.OTEL_LLM_RETRY_OUTCOME]) == (1, "succeeded")


def test_gave_up_after_the_last_attempt(cap):
    with pytest.raises(TimeoutError, match="attempt 3"):
        _retrying_agent(Flaky(failures=5))("q")
    assert [s.attributes[sc.OTEL_LLM_ATTEMPT] for s in _tool_spans(cap)] == [1, 2, 3]
    agent = cap.span("invoke_agent researcher")
    assert (agent.attributes[sc.OTEL_LLM_RETRY_ATTEMPTS], agent.attributes[sc.OTEL_LLM_RETRY_OUTCOME]) == (3, "gave_up")
    assert agent.status.status_code is StatusCode.ERROR


def test_only_the_retried_call_carries_the_attempt_not_what_runs_inside_it(cap, response):
    @otel_llm.llm_call(model="test-model", provider="openai")
    def think() -> dict:
        return response()

    @otel_llm.tool("plan_step")
    def step() -> str:
        think()
        return "ok"

    @otel_llm.graph_node("loop")
    def loop() -> None:
        with otel_llm.attempt(2):
            step()
            think()

    loop()
    loop_id = cap.span("loop").context.span_id
    thinks = [s for s in cap.spans() if s.name == "chat test-model"]
    (direct,) = [s for s in thinks if s.parent.span_id == loop_id]
    (nested,) = [s for s in thinks if s.parent.span_id != loop_id]
    assert direct.attributes[sc.OTEL_LLM_ATTEMPT] == 2  # the model call made directly in the block
    assert sc.OTEL_LLM_ATTEMPT not in nested.attributes  # the model call inside the retried tool
    assert cap.span("execute_tool plan_step").attributes[sc.OTEL_LLM_ATTEMPT] == 2
    assert cap.span("loop").attributes[sc.OTEL_LLM_RETRY_OUTCOME] == "succeeded"


async def test_async_with_and_async_calls(cap):
    @otel_llm.tool("fetch")
    async def fetch() -> str:
        return "x"

    @otel_llm.agent("a")
    async def run() -> str:
        async with otel_llm.attempt(1):
            return await fetch()

    assert await run() == "x"
    assert cap.span("execute_tool fetch").attributes[sc.OTEL_LLM_ATTEMPT] == 1
    assert cap.span("invoke_agent a").attributes[sc.OTEL_LLM_RETRY_OUTCOME] == "succeeded"


def test_attempt_outside_any_span_still_numbers_the_calls(cap):
    @otel_llm.tool("t")
    def t() -> int:
        return 1

    with otel_llm.attempt(4):
        t()
    assert cap.spans()[0].attributes[sc.OTEL_LLM_ATTEMPT] == 4


def test_a_bad_attempt_number_is_warned_about_and_the_block_runs(cap, caplog):
    @otel_llm.tool("t")
    def t() -> int:
        return 1

    with caplog.at_level(logging.WARNING), otel_llm.attempt(0) as n:  # type: ignore[arg-type]
        assert t() == 1
    assert n == 0
    assert sc.OTEL_LLM_ATTEMPT not in cap.spans()[0].attributes
    assert any("attempt(0) ignored" in r.getMessage() for r in caplog.records)


class _Ordinal(int):
    """An ``int`` subclass (an ``IntEnum`` member is one): still the number it holds."""


@pytest.mark.parametrize("number", [np.int64(2), np.int32(2), np.uint8(2), _Ordinal(2)],
                         ids=["numpy-int64", "numpy-int32", "numpy-uint8", "int-subclass"])
def test_an_attempt_number_of_any_integer_type_numbers_the_calls(cap, caplog, number):
    """``attempt(np.int64(2))`` (a loop over ``np.arange``, a count read from a DataFrame) was ignored with a
    warning: only an exact ``int`` was taken. Any integer type (``numbers.Integral``) is its number, an ``int``
    on the spans (an OpenTelemetry attribute takes no numpy scalar)."""

    @otel_llm.tool("t")
    def t() -> int:
        return 1

    @otel_llm.agent("a")
    def run() -> int:
        with otel_llm.attempt(number):
            return t()

    with caplog.at_level(logging.WARNING):
        assert run() == 1
    assert not [r for r in caplog.records if "ignored" in r.getMessage()]
    tool = cap.span("execute_tool t").attributes[sc.OTEL_LLM_ATTEMPT]
    retried = cap.span("invoke_agent a").attributes[sc.OTEL_LLM_RETRY_ATTEMPTS]
    assert (tool, retried) == (2, 2)
    assert type(tool) is int and type(retried) is int


@pytest.mark.parametrize("number", [True, 2.0, np.float64(2.0), "2", 0, np.int64(0), -1, 2**63],
                         ids=["bool", "float", "numpy-float", "text", "zero", "numpy-zero", "negative", "too-big"])
def test_an_attempt_number_that_is_no_positive_integer_is_still_warned_about(cap, caplog, number):
    @otel_llm.tool("t")
    def t() -> int:
        return 1

    with caplog.at_level(logging.WARNING), otel_llm.attempt(number) as entered:
        assert t() == 1
    assert entered is number  # the block gets back what it was given
    assert sc.OTEL_LLM_ATTEMPT not in cap.spans()[0].attributes
    assert any(f"attempt({number!r}) ignored" in r.getMessage() for r in caplog.records)


def test_the_block_never_swallows_the_apps_exception(cap):
    err = KeyError("k")
    with pytest.raises(KeyError) as caught, otel_llm.attempt(1):
        raise err
    assert caught.value is err


# --- a client's built-in retries: the real openai client, a mock transport ------------------

COMPLETION = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1,
    "model": "test-model",
    "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "hello"}}],
    "usage": {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15},
}


def _client(failures: int, max_retries: int) -> tuple[openai.OpenAI, list[httpx.Request]]:
    """An OpenAI client whose transport answers 500 ``failures`` times, then a completion."""
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) <= failures:
            # retry-after-ms keeps the client's backoff short
            return httpx.Response(500, json={"error": {"message": "overloaded"}}, headers={"retry-after-ms": "1"})
        return httpx.Response(200, json=COMPLETION)

    http = httpx.Client(transport=httpx.MockTransport(handle))
    client = openai.OpenAI(api_key="test", base_url="http://llm.test/v1", http_client=http, max_retries=max_retries)
    return client, seen


def test_client_retries_that_succeed_show_as_one_successful_call(cap):
    client, seen = _client(failures=2, max_retries=2)

    @otel_llm.llm_call(model="test-model", provider="openai")
    def ask(question: str):
        return client.chat.completions.create(model="test-model", messages=[{"role": "user", "content": question}])

    reply = ask("hi")
    assert reply.choices[0].message.content == "hello"
    assert len(seen) == 3  # three HTTP attempts happened...
    assert [r.headers.get("x-stainless-retry-count") for r in seen] == ["0", "1", "2"]
    (span,) = cap.spans()  # ...and show as one call
    assert span.status.status_code is StatusCode.UNSET
    assert span.attributes[sc.GEN_AI_USAGE_INPUT_TOKENS] == 12  # the answering attempt's usage
    assert sc.OTEL_LLM_ATTEMPT not in span.attributes  # the HTTP attempts are not counted
    assert json.loads(seen[-1].content)["messages"][0]["content"] == "hi"


def test_client_retries_that_run_out_show_as_one_failed_call(cap):
    client, seen = _client(failures=10, max_retries=1)

    @otel_llm.llm_call(model="test-model", provider="openai")
    def ask():
        return client.chat.completions.create(model="test-model", messages=[{"role": "user", "content": "hi"}])

    with pytest.raises(openai.InternalServerError):
        ask()
    assert len(seen) == 2
    (span,) = cap.spans()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes[sc.ERROR_TYPE] == "InternalServerError"


def test_app_loop_around_a_client_without_retries(cap):
    """``max_retries=0`` and ``attempt(n)``: every HTTP attempt is its own numbered call."""
    client, seen = _client(failures=1, max_retries=0)

    @otel_llm.llm_call(model="test-model", provider="openai")
    def ask():
        return client.chat.completions.create(model="test-model", messages=[{"role": "user", "content": "hi"}])

    @otel_llm.chat
    def answer(question: str) -> str:
        for n in (1, 2):
            try:
                with otel_llm.attempt(n):
                    return ask().choices[0].message.content
            except openai.InternalServerError:
                if n == 2:
                    raise
        raise AssertionError("unreachable")

    assert answer("hi") == "hello"
    calls = [s for s in cap.spans() if s.attributes[sc.OTEL_LLM_KIND] == sc.KIND_LLM_CALL]
    assert [(s.attributes[sc.OTEL_LLM_ATTEMPT], s.status.status_code) for s in calls] == [
        (1, StatusCode.ERROR), (2, StatusCode.UNSET),
    ]
    turn = cap.span("chat_turn answer")
    assert (turn.attributes[sc.OTEL_LLM_RETRY_ATTEMPTS], turn.attributes[sc.OTEL_LLM_RETRY_OUTCOME]) == (2, "succeeded")
    assert turn.attributes[sc.OTEL_LLM_TURN_LLM_CALLS] == 2
