"""The providers' streaming helpers returned from a decorated call: ``client.chat.completions.stream(...)``,
``client.responses.stream(...)``, ``client.messages.stream(...)`` and their async twins.

Each returns a *stream manager*: the HTTP request starts at ``with``/``async with``
and the chunks arrive after the decorated function returned. The span must
cover the request and the stream and carry its usage however the app consumes
it (events, ``text_stream``, ``get_final_*``), and end exactly once. Real
``openai``/``anthropic`` clients over an httpx mock transport serving the
APIs' server-sent events.
"""

from __future__ import annotations

import json
from typing import Any

import anthropic
import httpx
import openai
import pytest
from opentelemetry.trace import StatusCode

import otel_llm
from otel_llm import semconv as sc
from otel_llm.testing import Capture
from tests.sdk.test_stream_usage import cap  # noqa: F401 — the fixture: gpt-4o-mini and claude-sonnet-4-5 at $1/$2 per 1M

BASE = {"id": "chatcmpl-9", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini"}
OPENAI_EVENTS = [
    {**BASE, "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hel"}, "finish_reason": None}]},
    {**BASE, "choices": [{"index": 0, "delta": {"content": "lo"}, "finish_reason": None}]},
    {**BASE, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
    {**BASE, "choices": [], "usage": {"prompt_tokens": 120, "completion_tokens": 2, "total_tokens": 122}},
]
ANTHROPIC_EVENTS = [
    {"type": "message_start", "message": {
        "id": "msg_01", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5", "content": [],
        "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 25, "output_tokens": 1}}},
    {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hel"}},
    {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "lo"}},
    {"type": "content_block_stop", "index": 0},
    {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None}, "usage": {"output_tokens": 15}},
    {"type": "message_stop"},
]

_MESSAGE = {"type": "message", "id": "msg_1", "status": "completed", "role": "assistant",
            "content": [{"type": "output_text", "text": "Hello", "annotations": []}]}


def _response(status: str, usage: dict[str, Any] | None, output: list[Any]) -> dict[str, Any]:
    return {"id": "resp_7", "object": "response", "created_at": 1, "model": "gpt-4o-mini", "output": output,
            "parallel_tool_calls": True, "tool_choice": "auto", "tools": [], "status": status, "usage": usage}


RESPONSES_EVENTS = [
    {"type": "response.created", "sequence_number": 0, "response": _response("in_progress", None, [])},
    {"type": "response.output_item.added", "sequence_number": 1, "output_index": 0,
     "item": {**_MESSAGE, "status": "in_progress", "content": []}},
    {"type": "response.content_part.added", "sequence_number": 2, "item_id": "msg_1", "output_index": 0,
     "content_index": 0, "part": {"type": "output_text", "text": "", "annotations": []}},
    {"type": "response.output_text.delta", "sequence_number": 3, "item_id": "msg_1", "output_index": 0,
     "content_index": 0, "delta": "Hello", "logprobs": []},
    {"type": "response.completed", "sequence_number": 4, "response": _response("completed", {
        "input_tokens": 120, "output_tokens": 2, "total_tokens": 122, "input_tokens_details": {"cached_tokens": 0},
        "output_tokens_details": {"reasoning_tokens": 0}}, [_MESSAGE])},
]


def _openai_sse(request: httpx.Request) -> httpx.Response:
    body = "".join(f"data: {json.dumps(e)}\n\n" for e in OPENAI_EVENTS) + "data: [DONE]\n\n"
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body.encode())


def _typed_sse(events: list[dict[str, Any]]) -> Any:
    """A transport handler serving ``events`` as server-sent events named by their ``type``."""

    def handle(request: httpx.Request) -> httpx.Response:
        body = "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events)
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body.encode())

    return handle


_anthropic_sse = _typed_sse(ANTHROPIC_EVENTS)


def _unauthorized(request: httpx.Request) -> httpx.Response:
    return httpx.Response(401, json={"error": {"message": "bad key", "type": "invalid_request_error"}})


def openai_client(handler: Any = _openai_sse) -> openai.OpenAI:
    http = httpx.Client(transport=httpx.MockTransport(handler))
    return openai.OpenAI(api_key="k", base_url="http://llm.test/v1", http_client=http, max_retries=0)


def async_openai_client() -> openai.AsyncOpenAI:
    http = httpx.AsyncClient(transport=httpx.MockTransport(_openai_sse))
    return openai.AsyncOpenAI(api_key="k", base_url="http://llm.test/v1", http_client=http, max_retries=0)


def anthropic_client() -> anthropic.Anthropic:
    http = httpx.Client(transport=httpx.MockTransport(_anthropic_sse))
    return anthropic.Anthropic(api_key="k", base_url="http://llm.test", http_client=http, max_retries=0)


def async_anthropic_client() -> anthropic.AsyncAnthropic:
    http = httpx.AsyncClient(transport=httpx.MockTransport(_anthropic_sse))
    return anthropic.AsyncAnthropic(api_key="k", base_url="http://llm.test", http_client=http, max_retries=0)


MESSAGES = [{"role": "user", "content": "hi"}]


def openai_helper_call(client: openai.OpenAI) -> Any:
    """A decorated function returning ``client.chat.completions.stream(...)``."""

    @otel_llm.llm_call(model="gpt-4o-mini", provider="openai")
    def ask():
        return client.chat.completions.stream(model="gpt-4o-mini", messages=MESSAGES, stream_options={"include_usage": True})

    return ask


def _one_call(cap: Capture) -> Any:
    """The one llm_call span, and exactly one duration point for it."""
    (span,) = cap.spans()
    (duration,) = cap.metrics()[sc.METRIC_OPERATION_DURATION]
    assert duration.count == 1
    return span


def _assert_openai(cap: Capture, complete: bool = True) -> None:
    span = _one_call(cap)
    attrs = span.attributes
    assert attrs[sc.GEN_AI_USAGE_INPUT_TOKENS] == 120
    assert attrs[sc.GEN_AI_USAGE_OUTPUT_TOKENS] == 2
    assert attrs[sc.GEN_AI_USAGE_COST] == pytest.approx((120 * 1.0 + 2 * 2.0) / 1e6)
    assert attrs[sc.GEN_AI_RESPONSE_ID] == "chatcmpl-9"
    assert attrs[sc.OTEL_LLM_STREAM_COMPLETE] is complete
    assert attrs[sc.OTEL_LLM_STREAM_CHUNKS] == 4
    assert [e.name for e in span.events] == [sc.EVENT_LLM_FIRST_TOKEN]
    (ttft,) = cap.metrics()[sc.METRIC_TIME_TO_FIRST_CHUNK]
    assert ttft.count == 1
    assert sorted(p.sum for p in cap.metrics()[sc.METRIC_TOKEN_USAGE]) == [2, 120]


def _assert_anthropic(cap: Capture) -> None:
    attrs = _one_call(cap).attributes
    assert attrs[sc.GEN_AI_USAGE_INPUT_TOKENS] == 25
    assert attrs[sc.GEN_AI_USAGE_OUTPUT_TOKENS] == 15
    assert attrs[sc.GEN_AI_RESPONSE_FINISH_REASONS] == ("end_turn",)
    assert attrs[sc.OTEL_LLM_STREAM_COMPLETE] is True
    assert attrs[sc.OTEL_LLM_STREAM_CHUNKS] == len(ANTHROPIC_EVENTS)
    (ttft,) = cap.metrics()[sc.METRIC_TIME_TO_FIRST_CHUNK]
    assert ttft.count == 1


def test_openai_stream_helper_iterated_for_its_events(cap):
    ask = openai_helper_call(openai_client())

    with ask() as stream:
        assert cap.spans() == []  # the request runs inside the with block: the call is not over
        text = "".join(e.delta for e in stream if e.type == "content.delta")
    assert text == "Hello"
    _assert_openai(cap)


def test_openai_stream_helper_final_completion(cap):
    ask = openai_helper_call(openai_client())

    with ask() as stream:
        assert stream.get_final_completion().choices[0].message.content == "Hello"
    _assert_openai(cap)


def test_openai_stream_helper_left_early_ends_once_at_exit(cap):
    ask = openai_helper_call(openai_client())

    with ask() as stream:
        for _event in stream:
            break
        assert cap.spans() == []
    span = _one_call(cap)
    assert span.attributes[sc.OTEL_LLM_STREAM_COMPLETE] is False
    assert span.attributes[sc.OTEL_LLM_STREAM_CHUNKS] == 1
    assert span.status.status_code is StatusCode.UNSET


def test_openai_stream_helper_refused_request_fails_the_span_and_propagates(cap):
    client = openai_client(_unauthorized)

    @otel_llm.llm_call(model="gpt-4o-mini", provider="openai")
    def ask():
        return client.chat.completions.stream(model="gpt-4o-mini", messages=MESSAGES)

    manager = ask()
    with pytest.raises(openai.AuthenticationError):
        with manager:
            raise AssertionError("not reached")
    span = _one_call(cap)
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes[sc.ERROR_TYPE] == "AuthenticationError"


async def test_async_openai_stream_helper(cap):
    client = async_openai_client()

    @otel_llm.llm_call(model="gpt-4o-mini", provider="openai")
    async def ask():
        return client.chat.completions.stream(model="gpt-4o-mini", messages=MESSAGES, stream_options={"include_usage": True})

    async with await ask() as stream:
        assert (await stream.get_final_completion()).choices[0].message.content == "Hello"
    _assert_openai(cap)


def test_anthropic_stream_helper_text_stream(cap):
    client = anthropic_client()

    @otel_llm.llm_call(model="claude-sonnet-4-5", provider="anthropic")
    def ask():
        return client.messages.stream(model="claude-sonnet-4-5", max_tokens=100, messages=MESSAGES)

    with ask() as stream:
        assert "".join(stream.text_stream) == "Hello"
    _assert_anthropic(cap)


async def test_async_anthropic_stream_helper_final_message(cap):
    client = async_anthropic_client()

    @otel_llm.llm_call(model="claude-sonnet-4-5", provider="anthropic")
    def ask():
        return client.messages.stream(model="claude-sonnet-4-5", max_tokens=100, messages=MESSAGES)

    async with ask() as stream:
        assert (await stream.get_final_message()).usage.output_tokens == 15
    _assert_anthropic(cap)


def test_a_chat_turn_returning_the_helper_rolls_up_its_call(cap):
    """The turn ends after the call it returned: its roll-up counts the call's tokens."""
    ask = openai_helper_call(openai_client())

    @otel_llm.chat
    def answer(question: str):
        return ask()

    with answer("hi") as stream:
        stream.until_done()
    turn = cap.span("chat_turn answer")
    call = cap.span("chat gpt-4o-mini")
    assert call.parent.span_id == turn.context.span_id
    assert turn.end_time >= call.end_time
    assert turn.attributes[sc.OTEL_LLM_TURN_LLM_CALLS] == 1
    assert turn.attributes[sc.OTEL_LLM_TURN_INPUT_TOKENS] == 120


def test_openai_responses_stream_helper(cap):
    client = openai_client(_typed_sse(RESPONSES_EVENTS))

    @otel_llm.llm_call(model="gpt-4o-mini", provider="openai", operation="responses")
    def ask():
        return client.responses.stream(model="gpt-4o-mini", input="hi")

    with ask() as stream:
        assert stream.get_final_response().output_text == "Hello"
    attrs = _one_call(cap).attributes
    assert (attrs[sc.GEN_AI_USAGE_INPUT_TOKENS], attrs[sc.GEN_AI_USAGE_OUTPUT_TOKENS]) == (120, 2)
    assert attrs[sc.OTEL_LLM_STREAM_COMPLETE] is True
    assert attrs[sc.OTEL_LLM_STREAM_CHUNKS] == len(RESPONSES_EVENTS)


def _legacy_completion(request: httpx.Request) -> httpx.Response:
    """OpenAI's (legacy) completions API: ``choices[0].text``, whole or as server-sent chunks."""
    def body(text: str, finish: str | None) -> dict[str, Any]:
        return {"id": "cmpl-1", "object": "text_completion", "created": 1, "model": "gpt-4o-mini",
                "choices": [{"index": 0, "text": text, "finish_reason": finish, "logprobs": None}]}

    if json.loads(request.content).get("stream"):
        sse = "".join(f"data: {json.dumps(body(t, f))}\n\n" for t, f in (("a se", None), ("cret", "stop")))
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=(sse + "data: [DONE]\n\n").encode())
    return httpx.Response(200, json={**body("a secret", "stop"),
                                     "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}})


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "whole"])
def test_legacy_completions_text_is_the_captured_completion(stream):
    """With capture on, a completions API answer's ``choices[0].text`` is the captured (redacted) completion."""
    client = openai_client(_legacy_completion)
    with Capture(capture_content=True, redact=lambda t: t.replace("secret", "[REDACTED]")) as cap:

        @otel_llm.llm_call(model="gpt-4o-mini", provider="openai", operation="text_completion")
        def ask() -> Any:
            return client.completions.create(model="gpt-4o-mini", prompt="say it", stream=stream)

        result = ask()
        if stream:
            assert "".join(c.choices[0].text for c in result) == "a secret"
        (span,) = cap.spans()
    (reply,) = [e for e in span.events if e.name == sc.EVENT_LLM_RESPONSE]
    assert reply.attributes[sc.EVENT_ATTR_CONTENT] == "a [REDACTED]"


def test_anthropic_message_text_is_the_captured_completion():
    """An Anthropic message's ``content`` is a list of blocks: its text blocks are the completion (not its
    tool-use block, nor the message's repr)."""
    message = {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
               "content": [{"type": "text", "text": "a secret"},
                           {"type": "tool_use", "id": "toolu_1", "name": "lookup", "input": {"q": "x"}}],
               "stop_reason": "tool_use", "stop_sequence": None, "usage": {"input_tokens": 5, "output_tokens": 2}}
    http = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(200, json=message)))
    client = anthropic.Anthropic(api_key="k", base_url="http://llm.test", http_client=http, max_retries=0)
    with Capture(capture_content=True, redact=lambda t: t.replace("secret", "[REDACTED]")) as cap:

        @otel_llm.llm_call(model="claude-sonnet-4-5", provider="anthropic")
        def ask() -> Any:
            return client.messages.create(model="claude-sonnet-4-5", max_tokens=10, messages=MESSAGES)

        ask()
        (span,) = cap.spans()
    (reply,) = [e for e in span.events if e.name == sc.EVENT_LLM_RESPONSE]
    assert reply.attributes[sc.EVENT_ATTR_CONTENT] == "a [REDACTED]"


def test_openai_response_output_text_is_the_captured_completion():
    """A Responses API response (not streamed): its message's ``output_text`` is the completion, not its repr."""
    body = _response("completed", {"input_tokens": 5, "output_tokens": 1, "total_tokens": 6,
                                   "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
                                   "output_tokens_details": {"reasoning_tokens": 0}},
                     [{"type": "reasoning", "id": "rs_1", "summary": []}, _MESSAGE])
    client = openai_client(lambda request: httpx.Response(200, json=body))
    with Capture(capture_content=True) as cap:

        @otel_llm.llm_call(model="gpt-4o-mini", provider="openai", operation="responses")
        def ask() -> Any:
            return client.responses.create(model="gpt-4o-mini", input="hi")

        assert ask().output_text == "Hello"
        (span,) = cap.spans()
    (reply,) = [e for e in span.events if e.name == sc.EVENT_LLM_RESPONSE]
    assert reply.attributes[sc.EVENT_ATTR_CONTENT] == "Hello"
