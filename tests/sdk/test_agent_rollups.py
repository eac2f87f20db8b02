"""What an ``@agent``'s (and a chat turn's) roll-up says about the calls it cannot total.

A call whose usage otel-llm could not see (``otel_llm.usage.unobserved``: the
app read the raw response itself) has no tokens to add: the roll-up counts it
in ``otel_llm.agent.unobserved_calls``, as the analysis counts it per agent.

A roll-up is written as its span ends. A model call still running then (a
stream the app reads after the agent returned, a task the agent left running)
ends later: its tokens and cost cannot be in the agent's totals, so the agent
counts it in ``otel_llm.agent.unfinished_calls`` instead of leaving it out in
silence; the turn around the agent, still open when it ends, totals it.
Real openai clients over an httpx mock transport.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

import otel_llm
from otel_llm import semconv as sc
from tests.sdk.test_raw_responses import COMPLETION
from tests.sdk.test_stream_helpers import MESSAGES, OPENAI_EVENTS, openai_client


def _streaming_ask() -> Any:
    client = openai_client()

    @otel_llm.llm_call(model="gpt-4o-mini", provider="openai")
    def ask() -> Any:
        return client.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
        )

    return ask


def test_a_stream_read_after_its_agent_returned_is_counted_unfinished(cap):
    ask = _streaming_ask()

    @otel_llm.agent("writer")
    def write() -> dict[str, Any]:
        return {"answer": ask()}  # a stream inside a dict: the agent's span ends as it returns

    @otel_llm.chat
    def turn(question: str) -> str:
        reply = write()
        return "".join(c.choices[0].delta.content or "" for c in reply["answer"] if c.choices)

    assert turn("hi") == "Hello"
    agent = cap.span("invoke_agent writer").attributes
    assert agent[sc.OTEL_LLM_AGENT_LLM_CALLS] == 1
    assert agent[sc.OTEL_LLM_AGENT_UNFINISHED_CALLS] == 1
    assert (agent[sc.OTEL_LLM_AGENT_INPUT_TOKENS], agent[sc.OTEL_LLM_AGENT_OUTPUT_TOKENS]) == (0, 0)
    chat = cap.span("chat_turn turn").attributes  # the turn was still open: it has them
    assert (chat[sc.OTEL_LLM_TURN_INPUT_TOKENS], chat[sc.OTEL_LLM_TURN_OUTPUT_TOKENS]) == (120, 2)
    assert sc.OTEL_LLM_TURN_UNFINISHED_CALLS not in chat


def test_a_stream_the_agent_returns_is_totalled_by_it(cap):
    """The agent returns the stream itself: its span ends with the stream, tokens included."""
    ask = _streaming_ask()
    write = otel_llm.agent("writer")(lambda: ask())
    assert "".join(c.choices[0].delta.content or "" for c in write() if c.choices) == "Hello"
    agent = cap.span("invoke_agent writer").attributes
    assert (agent[sc.OTEL_LLM_AGENT_INPUT_TOKENS], agent[sc.OTEL_LLM_AGENT_OUTPUT_TOKENS]) == (120, 2)
    assert sc.OTEL_LLM_AGENT_UNFINISHED_CALLS not in agent


async def test_a_model_call_in_a_task_the_agent_left_running_is_counted_unfinished(cap):
    release = asyncio.Event()

    @otel_llm.llm_call(model="test-model", provider="openai")
    async def think() -> dict[str, Any]:
        await release.wait()
        return {"model": "test-model", "usage": {"prompt_tokens": 7, "completion_tokens": 3}}

    @otel_llm.agent("dispatcher")
    async def dispatch() -> asyncio.Task:
        task = asyncio.ensure_future(think())
        await asyncio.sleep(0)
        return task

    task = await dispatch()
    release.set()
    await task
    agent = cap.span("invoke_agent dispatcher").attributes
    assert agent[sc.OTEL_LLM_AGENT_UNFINISHED_CALLS] == 1
    assert agent[sc.OTEL_LLM_AGENT_INPUT_TOKENS] == 0
    assert cap.span("chat test-model").attributes[sc.GEN_AI_USAGE_INPUT_TOKENS] == 7


def test_calls_that_ended_inside_are_not_unfinished(cap):
    @otel_llm.llm_call(model="test-model", provider="openai")
    def think() -> dict[str, Any]:
        return {"usage": {"prompt_tokens": 7, "completion_tokens": 3}}

    @otel_llm.llm_call(model="test-model", provider="openai")
    def failing() -> None:
        raise ValueError("bad request")

    @otel_llm.agent("planner")
    def plan() -> None:
        think()
        with pytest.raises(ValueError):
            failing()

    plan()
    assert sc.OTEL_LLM_AGENT_UNFINISHED_CALLS not in cap.span("invoke_agent planner").attributes


def test_a_turn_whose_stream_is_read_after_it_returned_counts_it_unfinished(cap):
    ask = _streaming_ask()

    @otel_llm.chat
    def turn(question: str) -> dict[str, Any]:
        return {"answer": ask()}

    reply = turn("hi")
    assert "".join(c.choices[0].delta.content or "" for c in reply["answer"] if c.choices) == "Hello"
    chat = cap.span("chat_turn turn").attributes
    assert (chat[sc.OTEL_LLM_TURN_LLM_CALLS], chat[sc.OTEL_LLM_TURN_UNFINISHED_CALLS]) == (1, 1)
    assert cap.span("chat gpt-4o-mini").attributes[sc.GEN_AI_USAGE_INPUT_TOKENS] == 120


def test_an_agent_counts_the_calls_whose_usage_it_could_not_see(cap):
    """The app reads a ``with_streaming_response`` body line by line: no tokens to total, and the
    agent (and the turn) say how many such calls their totals leave out, as the analysis does."""
    client = openai_client(lambda request: httpx.Response(200, json=COMPLETION))

    @otel_llm.llm_call(model="gpt-4o-mini", provider="openai")
    def ask_raw() -> Any:
        return client.chat.completions.with_streaming_response.create(model="gpt-4o-mini", messages=MESSAGES)

    @otel_llm.llm_call(model="gpt-4o-mini", provider="openai")
    def ask() -> Any:
        return client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)

    @otel_llm.agent("reader")
    def read() -> str:
        with ask_raw() as response:
            text = "".join(response.iter_lines())
        ask()
        return text

    @otel_llm.chat
    def turn(question: str) -> str:
        return read()

    assert json.loads(turn("hi")) == COMPLETION
    agent = cap.span("invoke_agent reader").attributes
    assert (agent[sc.OTEL_LLM_AGENT_LLM_CALLS], agent[sc.OTEL_LLM_AGENT_UNOBSERVED_CALLS]) == (2, 1)
    assert agent[sc.OTEL_LLM_AGENT_INPUT_TOKENS] == 120  # the observed call's only
    assert cap.span("chat_turn turn").attributes[sc.OTEL_LLM_TURN_UNOBSERVED_CALLS] == 1


def test_a_raw_response_that_cannot_be_parsed_is_an_unobserved_call_of_its_agent(cap):
    client = openai_client(
        lambda request: httpx.Response(200, headers={"content-type": "application/json"}, content=b"not json"))

    @otel_llm.llm_call(model="gpt-4o-mini", provider="openai")
    def ask() -> Any:
        return client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=MESSAGES)

    raw = otel_llm.agent("reader")(ask)()
    assert raw.text == "not json"
    assert cap.span("invoke_agent reader").attributes[sc.OTEL_LLM_AGENT_UNOBSERVED_CALLS] == 1


def test_observed_calls_are_not_unobserved(cap):
    client = openai_client(lambda request: httpx.Response(200, json=COMPLETION))
    ask = otel_llm.llm_call(model="gpt-4o-mini", provider="openai")(
        lambda: client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=MESSAGES))
    otel_llm.agent("reader")(ask)()
    assert sc.OTEL_LLM_AGENT_UNOBSERVED_CALLS not in cap.span("invoke_agent reader").attributes


async def test_a_call_started_after_its_agent_ended_says_it_is_not_in_the_agents_totals(cap):
    """A task the agent spawned runs on after it returned: its calls are below the agent's span (the
    analysis counts them there) but started after the agent's totals were written - each says so."""

    @otel_llm.llm_call(model="test-model", provider="openai")
    async def think() -> dict[str, Any]:
        return {"model": "test-model", "usage": {"prompt_tokens": 7, "completion_tokens": 3}}

    @otel_llm.tool("notify")
    async def notify() -> None:
        await think()

    @otel_llm.agent("dispatcher")
    async def dispatch() -> asyncio.Task:
        await think()
        return asyncio.ensure_future(notify())  # starts running after the agent returned

    @otel_llm.chat
    async def turn(question: str) -> None:
        await (await dispatch())

    await turn("hi")
    agent = cap.span("invoke_agent dispatcher").attributes
    assert (agent[sc.OTEL_LLM_AGENT_LLM_CALLS], agent[sc.OTEL_LLM_AGENT_TOOL_CALLS]) == (1, 0)
    assert sc.OTEL_LLM_AGENT_UNFINISHED_CALLS not in agent
    first, late = [s.attributes for s in cap.spans() if s.name == "chat test-model"]
    assert sc.OTEL_LLM_ROLLUP_LATE not in first
    assert late[sc.OTEL_LLM_ROLLUP_LATE] is True
    assert cap.span("execute_tool notify").attributes[sc.OTEL_LLM_ROLLUP_LATE] is True
    chat = cap.span("chat_turn turn").attributes  # the turn was still open: all of it is in its totals
    assert (chat[sc.OTEL_LLM_TURN_LLM_CALLS], chat[sc.OTEL_LLM_TURN_TOOL_CALLS], chat[sc.OTEL_LLM_TURN_INPUT_TOKENS]) == (2, 1, 14)


def _openai_stream_without_usage(request: httpx.Request) -> httpx.Response:
    """What the API streams without ``stream_options={"include_usage": True}``: no usage chunk."""
    events = [e for e in OPENAI_EVENTS if not e.get("usage")]
    body = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body.encode())


def test_an_openai_stream_read_to_its_end_without_usage_is_an_unobserved_call(cap):
    """Without ``include_usage`` OpenAI sends no token counts: the answer was billed, its tokens are
    unknown - said on the span (with what to do) and counted by the agent, not a silent 0."""
    client = openai_client(_openai_stream_without_usage)

    @otel_llm.llm_call(model="gpt-4o-mini", provider="openai")
    def ask() -> Any:
        return client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)

    @otel_llm.agent("writer")
    def write() -> str:
        return "".join(c.choices[0].delta.content or "" for c in ask() if c.choices)

    assert write() == "Hello"
    span = cap.span("chat gpt-4o-mini").attributes
    assert sc.GEN_AI_USAGE_INPUT_TOKENS not in span
    assert "include_usage" in span[sc.OTEL_LLM_USAGE_UNOBSERVED]
    assert span[sc.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    assert cap.span("invoke_agent writer").attributes[sc.OTEL_LLM_AGENT_UNOBSERVED_CALLS] == 1


def test_an_openai_stream_left_before_its_end_is_not_unobserved(cap):
    """A stream the app stopped reading never reached the usage chunk: incomplete, not unobserved."""
    client = openai_client(_openai_stream_without_usage)
    ask = otel_llm.llm_call(model="gpt-4o-mini", provider="openai")(
        lambda: client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True))
    for _ in ask():
        break
    span = cap.span("chat gpt-4o-mini").attributes
    assert span[sc.OTEL_LLM_STREAM_COMPLETE] is False
    assert sc.OTEL_LLM_USAGE_UNOBSERVED not in span
