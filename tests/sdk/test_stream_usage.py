"""Streams of real provider objects: usage read where each provider puts it, decided on the first chunk.

The chunk objects are the provider SDKs' own classes (``openai``, ``anthropic``,
``langchain_core``), built from the JSON their APIs send, so the tests see the
attribute layout otel-llm meets in an app.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from anthropic.types import RawContentBlockDeltaEvent, RawMessageDeltaEvent, RawMessageStartEvent, RawMessageStopEvent
from langchain_core.messages import AIMessageChunk
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from openai.types.completion_usage import CompletionUsage
from openai.types.responses import Response, ResponseCompletedEvent, ResponseCreatedEvent, ResponseTextDeltaEvent

import otel_llm
from otel_llm import _usage
from otel_llm import semconv as sc
from otel_llm.testing import Capture
from tests.sdk.test_streams import AsyncProviderStream, ProviderStream

PRICING = {
    "gpt-4o-mini": {"input": 1.0, "output": 2.0, "cache_read": 0.5},
    "claude-sonnet-4-5": {"input": 1.0, "output": 2.0, "cache_read": 0.5, "cache_write": 1.5},
    "gpt-4.1-mini": {"input": 1.0, "output": 2.0, "cache_read": 0.5},
}
BASE = {"id": "chatcmpl-9", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini-2024-07-18"}


@pytest.fixture
def cap() -> Iterator[Capture]:
    capture = Capture(pricing=PRICING).start()
    try:
        yield capture
    finally:
        capture.stop()


def openai_chunks(text: str, include_usage: bool = True) -> list[ChatCompletionChunk]:
    """What the API streams for ``stream=True`` (and ``stream_options={"include_usage": True}``)."""
    rows: list[dict[str, Any]] = [
        {**BASE, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]}
    ]
    rows += [{**BASE, "choices": [{"index": 0, "delta": {"content": ch}, "finish_reason": None}]} for ch in text]
    rows.append({**BASE, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    if include_usage:
        rows.append({**BASE, "choices": [], "usage": {
            "prompt_tokens": 1200, "completion_tokens": len(text), "total_tokens": 1200 + len(text),
            "prompt_tokens_details": {"cached_tokens": 1024}, "completion_tokens_details": {"reasoning_tokens": 0},
        }})
    return [ChatCompletionChunk.model_validate(row) for row in rows]


def _llm_span(cap: Capture) -> Any:
    (span,) = [s for s in cap.spans() if s.attributes.get(sc.OTEL_LLM_KIND) == sc.KIND_LLM_CALL]
    return span


def _assert_openai_stream(cap: Capture, chunks: int) -> None:
    attrs = _llm_span(cap).attributes
    assert attrs[sc.OTEL_LLM_STREAM_CHUNKS] == chunks
    assert attrs[sc.GEN_AI_USAGE_INPUT_TOKENS] == 1200
    assert attrs[sc.GEN_AI_USAGE_OUTPUT_TOKENS] == 5
    assert attrs[sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == 1024
    assert attrs[sc.GEN_AI_RESPONSE_MODEL] == "gpt-4o-mini-2024-07-18"
    assert attrs[sc.GEN_AI_RESPONSE_ID] == "chatcmpl-9"
    assert attrs[sc.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    assert attrs[sc.GEN_AI_USAGE_COST] == pytest.approx((176 * 1.0 + 1024 * 0.5 + 5 * 2.0) / 1e6)
    (tokens,) = [p for p in cap.metrics()[sc.METRIC_TOKEN_USAGE] if p.attributes[sc.GEN_AI_TOKEN_TYPE] == "input"]
    assert (tokens.count, tokens.sum) == (1, 1200)


def test_openai_stream_usage_from_the_final_chunk(cap):
    @otel_llm.llm_call(model="gpt-4o-mini", provider="openai")
    def ask() -> ProviderStream:
        return ProviderStream(openai_chunks("hello"))

    assert "".join(c.choices[0].delta.content or "" for c in ask() if c.choices) == "hello"
    _assert_openai_stream(cap, chunks=8)


async def test_openai_async_stream_usage_from_the_final_chunk(cap):
    @otel_llm.llm_call(model="gpt-4o-mini", provider="openai")
    async def ask() -> AsyncProviderStream:
        return AsyncProviderStream(openai_chunks("hello"))

    assert len([c async for c in await ask()]) == 8
    _assert_openai_stream(cap, chunks=8)


def test_openai_stream_without_include_usage_still_has_model_id_and_finish_reason(cap):
    @otel_llm.llm_call(model="gpt-4o-mini", provider="openai")
    def ask() -> ProviderStream:
        return ProviderStream(openai_chunks("hi", include_usage=False))

    list(ask())
    attrs = _llm_span(cap).attributes
    assert attrs[sc.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    assert attrs[sc.GEN_AI_RESPONSE_MODEL] == "gpt-4o-mini-2024-07-18"
    assert sc.GEN_AI_USAGE_INPUT_TOKENS not in attrs
    assert sc.METRIC_TOKEN_USAGE not in cap.metrics()


def test_openai_stream_of_two_choices_keeps_both_finish_reasons(cap):
    rows = [
        {**BASE, "choices": [{"index": 0, "delta": {"content": "a"}, "finish_reason": None}]},
        {**BASE, "choices": [{"index": 1, "delta": {"content": "b"}, "finish_reason": None}]},
        {**BASE, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
        {**BASE, "choices": [{"index": 1, "delta": {}, "finish_reason": "length"}]},
    ]

    @otel_llm.llm_call(model="gpt-4o-mini", provider="openai")
    def ask() -> ProviderStream:
        return ProviderStream([ChatCompletionChunk.model_validate(r) for r in rows])

    list(ask())
    assert _llm_span(cap).attributes[sc.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop", "length")


def anthropic_events() -> list[Any]:
    """Anthropic's message stream: start (input and cache tokens), deltas, message_delta (output), stop."""
    return [
        RawMessageStartEvent.model_validate({"type": "message_start", "message": {
            "id": "msg_01", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5", "content": [],
            "stop_reason": None, "stop_sequence": None,
            "usage": {"input_tokens": 25, "output_tokens": 1, "cache_read_input_tokens": 100,
                      "cache_creation_input_tokens": 10},
        }}),
        *[
            RawContentBlockDeltaEvent.model_validate(
                {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": t}})
            for t in ("Hel", "lo")
        ],
        RawMessageDeltaEvent.model_validate({
            "type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
            "usage": {"output_tokens": 15},
        }),
        RawMessageStopEvent.model_validate({"type": "message_stop"}),
    ]


def test_anthropic_stream_usage_from_message_start_and_message_delta(cap):
    @otel_llm.llm_call(model="claude-sonnet-4-5", provider="anthropic")
    def ask() -> ProviderStream:
        return ProviderStream(anthropic_events())

    assert len(list(ask())) == 5
    attrs = _llm_span(cap).attributes
    assert attrs[sc.GEN_AI_USAGE_INPUT_TOKENS] == 135  # 25 uncached + 100 read + 10 written
    assert attrs[sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == 100
    assert attrs[sc.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] == 10
    assert attrs[sc.GEN_AI_USAGE_OUTPUT_TOKENS] == 15  # message_delta's count, not message_start's 1
    assert attrs[sc.GEN_AI_RESPONSE_FINISH_REASONS] == ("end_turn",)
    assert attrs[sc.GEN_AI_RESPONSE_MODEL] == "claude-sonnet-4-5"
    assert attrs[sc.GEN_AI_RESPONSE_ID] == "msg_01"
    assert attrs[sc.GEN_AI_USAGE_COST] == pytest.approx((25 + 100 * 0.5 + 10 * 1.5 + 15 * 2.0) / 1e6)


@pytest.mark.parametrize("delta_usage", [
    {"input_tokens": 25, "output_tokens": 15},
    {"input_tokens": 25, "cache_read_input_tokens": 100, "output_tokens": 15},
    {"input_tokens": 25, "cache_read_input_tokens": 100, "cache_creation_input_tokens": 10, "output_tokens": 15},
], ids=["input-only", "no-cache-creation", "all-fields"])
def test_anthropic_message_delta_counts_replace_only_the_fields_it_carries(cap, delta_usage):
    """``message_delta`` usage is cumulative and may carry some input fields without the others (as seen
    from the API and gateways): a field it lacks keeps ``message_start``'s value, as the anthropic SDK's
    own accumulation does — the cached tokens are not dropped from the input."""
    events = anthropic_events()
    events[3] = RawMessageDeltaEvent.model_validate({
        "type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None}, "usage": delta_usage})

    @otel_llm.llm_call(model="claude-sonnet-4-5", provider="anthropic")
    def ask() -> ProviderStream:
        return ProviderStream(events)

    list(ask())
    attrs = _llm_span(cap).attributes
    assert attrs[sc.GEN_AI_USAGE_INPUT_TOKENS] == 135  # 25 uncached + 100 read + 10 written
    assert attrs[sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == 100
    assert attrs[sc.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] == 10
    assert attrs[sc.GEN_AI_USAGE_OUTPUT_TOKENS] == 15
    assert attrs[sc.GEN_AI_USAGE_COST] == pytest.approx((25 + 100 * 0.5 + 10 * 1.5 + 15 * 2.0) / 1e6)


def test_langchain_chunks_add_their_usage_like_langchain_does(cap):
    """``AIMessageChunk`` usage is per chunk (input on the first, output on the last): it adds up."""
    chunks = [
        AIMessageChunk(content="", usage_metadata={
            "input_tokens": 135, "output_tokens": 0, "total_tokens": 135,
            "input_token_details": {"cache_read": 100, "cache_creation": 10}},
            response_metadata={"model_name": "claude-sonnet-4-5"}, id="run-1"),
        AIMessageChunk(content="Hel", id="run-1"),
        AIMessageChunk(content="lo", id="run-1"),
        AIMessageChunk(content="", usage_metadata={"input_tokens": 0, "output_tokens": 15, "total_tokens": 15},
                       response_metadata={"stop_reason": "end_turn"}, id="run-1"),
    ]
    merged = chunks[0] + chunks[1] + chunks[2] + chunks[3]  # LangChain's own view of the stream
    assert merged.usage_metadata["input_tokens"] == 135 and merged.usage_metadata["output_tokens"] == 15

    @otel_llm.llm_call(model="claude-sonnet-4-5", provider="anthropic")
    def ask():
        yield from chunks

    assert "".join(c.content for c in ask()) == "Hello"
    attrs = _llm_span(cap).attributes
    assert attrs[sc.GEN_AI_USAGE_INPUT_TOKENS] == 135
    assert attrs[sc.GEN_AI_USAGE_OUTPUT_TOKENS] == 15
    assert attrs[sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == 100
    assert attrs[sc.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] == 10
    assert attrs[sc.GEN_AI_RESPONSE_FINISH_REASONS] == ("end_turn",)
    assert attrs[sc.GEN_AI_RESPONSE_MODEL] == "claude-sonnet-4-5"


def response(status: str, usage: dict[str, Any] | None) -> dict[str, Any]:
    return {"id": "resp_7", "object": "response", "created_at": 1, "model": "gpt-4.1-mini-2025-04-14",
            "output": [], "parallel_tool_calls": True, "tool_choice": "auto", "tools": [], "status": status,
            "usage": usage}


def responses_events() -> list[Any]:
    """A Responses API stream: created, two text deltas, completed (with usage)."""
    usage = {"input_tokens": 100, "output_tokens": 20, "total_tokens": 120,
             "input_tokens_details": {"cached_tokens": 64, "cache_write_tokens": 0},
             "output_tokens_details": {"reasoning_tokens": 5}}
    return [
        ResponseCreatedEvent.model_validate(
            {"type": "response.created", "sequence_number": 0, "response": response("in_progress", None)}),
        *[
            ResponseTextDeltaEvent.model_validate({"type": "response.output_text.delta", "sequence_number": i,
                                                   "item_id": "msg_1", "output_index": 0, "content_index": 0,
                                                   "delta": t, "logprobs": []})
            for i, t in enumerate(("Hel", "lo"), start=1)
        ],
        ResponseCompletedEvent.model_validate(
            {"type": "response.completed", "sequence_number": 3, "response": response("completed", usage)}),
    ]


def test_openai_responses_stream_usage_from_response_completed(cap):
    @otel_llm.llm_call(model="gpt-4.1-mini", provider="openai", operation="responses")
    def ask() -> ProviderStream:
        return ProviderStream(responses_events())

    assert len(list(ask())) == 4
    attrs = _llm_span(cap).attributes
    assert attrs[sc.GEN_AI_USAGE_INPUT_TOKENS] == 100
    assert attrs[sc.GEN_AI_USAGE_OUTPUT_TOKENS] == 20
    assert attrs[sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == 64
    assert attrs[sc.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] == 5
    assert attrs[sc.GEN_AI_RESPONSE_ID] == "resp_7"
    assert attrs[sc.GEN_AI_USAGE_COST] == pytest.approx((36 + 64 * 0.5 + 20 * 2.0) / 1e6)


def test_openai_responses_cache_writes_are_counted():
    """The Responses API's ``input_tokens_details.cache_write_tokens`` (part of ``input_tokens``) are the
    call's cache writes, priced as such — read from the object, its dict, and its stream alike."""
    usage = {"input_tokens": 1000, "output_tokens": 20, "total_tokens": 1020,
             "input_tokens_details": {"cached_tokens": 600, "cache_write_tokens": 300},
             "output_tokens_details": {"reasoning_tokens": 0}}
    completed = Response.model_validate(response("completed", usage))
    pricing = {"gpt-4.1-mini": {"input": 1.0, "output": 2.0, "cache_read": 0.5, "cache_write": 1.5}}
    events = [ResponseCompletedEvent.model_validate(
        {"type": "response.completed", "sequence_number": 0, "response": response("completed", usage)})]
    for returned in (lambda: completed, lambda: completed.model_dump(), lambda: ProviderStream(list(events))):
        with Capture(pricing=pricing) as cap:

            @otel_llm.llm_call(model="gpt-4.1-mini", provider="openai", operation="responses")
            def ask() -> Any:
                return returned()

            result = ask()
            if not isinstance(result, (Response, dict)):  # the stream's proxy
                list(result)
            attrs = _llm_span(cap).attributes
        assert attrs[sc.GEN_AI_USAGE_INPUT_TOKENS] == 1000
        assert attrs[sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == 600
        assert attrs[sc.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] == 300
        assert attrs[sc.GEN_AI_USAGE_COST] == pytest.approx((100 + 600 * 0.5 + 300 * 1.5 + 20 * 2.0) / 1e6)


def test_a_responses_completed_event_returned_or_yielded_last_is_read(cap):
    """The Responses API's ``response.completed`` event carries the response: returned by a function that
    read the stream itself, or yielded last by a generator that streamed the text first, its usage is read."""
    completed = responses_events()[-1]

    @otel_llm.llm_call(model="gpt-4.1-mini", provider="openai", operation="responses")
    def ask() -> Any:
        return completed

    @otel_llm.llm_call(model="gpt-4.1-mini", provider="openai", operation="responses")
    def stream() -> Any:
        yield "Hel"
        yield "lo"
        yield completed

    assert ask() is completed
    assert list(stream())[-1] is completed
    for span in cap.spans():
        attrs = span.attributes
        assert (attrs[sc.GEN_AI_USAGE_INPUT_TOKENS], attrs[sc.GEN_AI_USAGE_OUTPUT_TOKENS]) == (100, 20)
        assert attrs[sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == 64
        assert attrs[sc.GEN_AI_RESPONSE_ID] == "resp_7"
    assert len(cap.spans()) == 2


def test_ollama_ndjson_stream_counts_from_its_last_line(cap):
    """Ollama's /api/chat stream, its NDJSON lines parsed and yielded: the last (``done``) line has the counts."""
    lines = [{"model": "llama3.2", "message": {"role": "assistant", "content": t}, "done": False} for t in ("Hel", "lo")]
    lines.append({"model": "llama3.2", "message": {"role": "assistant", "content": ""}, "done": True,
                  "done_reason": "stop", "prompt_eval_count": 26, "eval_count": 2})

    @otel_llm.llm_call(model="llama3.2", provider="ollama")
    def ask() -> Any:
        yield from lines

    assert len(list(ask())) == 3
    attrs = _llm_span(cap).attributes
    assert (attrs[sc.GEN_AI_USAGE_INPUT_TOKENS], attrs[sc.GEN_AI_USAGE_OUTPUT_TOKENS]) == (26, 2)
    assert attrs[sc.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)


def test_ollama_message_text_is_the_captured_completion():
    """With capture on, Ollama's ``message.content`` is the completion, streamed line by line or whole."""
    lines = [{"model": "llama3.2", "message": {"role": "assistant", "content": t}, "done": t == "!"}
             for t in ("Hel", "lo", "!")]
    with Capture(capture_content=True) as cap:

        @otel_llm.llm_call(model="llama3.2", provider="ollama")
        def stream() -> Any:
            yield from lines

        @otel_llm.llm_call(model="llama3.2", provider="ollama")
        def whole() -> Any:
            return {"model": "llama3.2", "message": {"role": "assistant", "content": "Hello!"}, "done": True}

        list(stream())
        whole()
        spans = cap.spans()
    replies = [e.attributes[sc.EVENT_ATTR_CONTENT] for s in spans for e in s.events if e.name == sc.EVENT_LLM_RESPONSE]
    assert replies == ["Hello!", "Hello!"]


def test_a_generator_yielding_its_own_usage_last(cap):
    @otel_llm.llm_call(model="gpt-4o-mini", provider="openai")
    def ask():
        yield "Hel"
        yield "lo"
        yield {"usage": {"prompt_tokens": 7, "completion_tokens": 2}, "model": "gpt-4o-mini"}

    assert len(list(ask())) == 3
    attrs = _llm_span(cap).attributes
    assert (attrs[sc.GEN_AI_USAGE_INPUT_TOKENS], attrs[sc.GEN_AI_USAGE_OUTPUT_TOKENS]) == (7, 2)


# --- per-chunk work: the shape is decided once, later chunks are barely touched -----------


class CountingChunk:
    """An OpenAI-shaped chunk that counts every attribute read of otel-llm (and of the test)."""

    reads = 0

    def __init__(self, source: ChatCompletionChunk) -> None:
        object.__setattr__(self, "_source", source)

    def __getattribute__(self, name: str) -> Any:
        if not name.startswith("__") and name != "_source":
            CountingChunk.reads += 1
        return object.__getattribute__(self, name)

    def __getattr__(self, name: str) -> Any:
        return getattr(object.__getattribute__(self, "_source"), name)


def test_middle_chunks_cost_two_attribute_reads(cap):
    """Probing every chunk for usage read ~20 attributes per chunk (most of them missing)."""
    chunks = [CountingChunk(c) for c in openai_chunks("a long answer")]

    @otel_llm.llm_call(model="gpt-4o-mini", provider="openai")
    def ask() -> ProviderStream:
        return ProviderStream(chunks)

    stream = iter(ask())
    next(stream)  # the first chunk: its shape is recognised here
    per_chunk = []
    for _ in range(10):  # text deltas: no usage, no finish reason
        before = CountingChunk.reads
        next(stream)
        per_chunk.append(CountingChunk.reads - before)
    list(stream)
    assert per_chunk == [2] * 10  # .usage and .choices
    assert _llm_span(cap).attributes[sc.GEN_AI_USAGE_INPUT_TOKENS] == 1200


# --- plain results: the planned read of a pydantic class equals the probing read ---------------


@pytest.mark.parametrize("value", [
    ChatCompletion.model_validate({
        "id": "c1", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini-2024-07-18",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "x"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15,
                  "prompt_tokens_details": {"cached_tokens": 8}, "completion_tokens_details": {"reasoning_tokens": 1}},
    }),
    ChatCompletion.model_validate({
        "id": "c2", "object": "chat.completion", "created": 1, "model": "m", "choices": [],
        "usage": {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15},
    }),
    ChatCompletion.model_validate({"id": "c3", "object": "chat.completion", "created": 1, "model": "m", "choices": []}),
    # Built without validation, declared fields left unset: read as absent, as probing reads them.
    ChatCompletion.model_construct(id="c4", choices=[], usage=CompletionUsage.model_construct(prompt_tokens=12)),
    *openai_chunks("ab"),
], ids=lambda v: f"{type(v).__name__}-{v.id}")
def test_planned_extraction_equals_probing(value):
    assert _usage._plan(type(value)) is not None
    assert _usage.extract_usage(value) == _usage_by_probing(value)


def _usage_by_probing(value: Any) -> _usage.Usage | None:
    """The generic reader alone (no per-class plan)."""
    saved = dict(_usage._PLANS)
    _usage._PLANS.clear()
    _usage._PLANS[type(value)] = None
    try:
        return _usage.extract_usage(value)
    finally:
        _usage._PLANS.clear()
        _usage._PLANS.update(saved)


@pytest.mark.parametrize("events", [anthropic_events, responses_events], ids=["anthropic", "openai-responses"])
def test_streamed_event_text_is_the_captured_completion(events):
    """With capture on, the completion of an event stream is its text deltas (not its tool-call JSON)."""
    with Capture(pricing=PRICING, capture_content=True, redact=lambda t: t.replace("lo", "**")) as cap:

        @otel_llm.llm_call(model="some-model", provider="x")
        def ask() -> ProviderStream:
            return ProviderStream(events())

        list(ask())
        span = _llm_span(cap)
    (reply,) = [e for e in span.events if e.name == sc.EVENT_LLM_RESPONSE]
    assert reply.attributes[sc.EVENT_ATTR_CONTENT] == "Hel**"


@pytest.mark.parametrize("odd", [None, "[DONE]", 7, ["a"]], ids=["none", "text", "int", "list"])
def test_a_stream_of_dict_chunks_with_an_odd_one_out_is_still_read(cap, odd):
    """A generator of OpenAI-shaped dicts that also yields a keep-alive ``None`` or a closing
    text: the odd chunk is passed on and read as any chunk, no fault of otel-llm's."""

    @otel_llm.llm_call(model="gpt-4o-mini", provider="openai")
    def stream() -> Iterator[Any]:
        yield {"id": "c", "model": "gpt-4o-mini", "choices": [{"index": 0, "delta": {"content": "a"}}]}
        yield odd
        yield {"id": "c", "model": "gpt-4o-mini", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
        yield {"id": "c", "model": "gpt-4o-mini", "choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 1}}

    assert list(stream())[1] == odd
    span = cap.span("chat gpt-4o-mini").attributes
    assert (span[sc.GEN_AI_USAGE_INPUT_TOKENS], span[sc.GEN_AI_USAGE_OUTPUT_TOKENS]) == (3, 1)
    assert span[sc.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
