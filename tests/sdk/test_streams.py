"""Stream proxies: chunk accounting, final-chunk usage, context per step, end once."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
from typing import Any

import pytest
from opentelemetry import trace

import otel_llm
from otel_llm import _runtime, _streams
from otel_llm import semconv as sc
from otel_llm.testing import capture


def openai_chunks(text: str = "hello", model: str = "test-model-2026") -> list[dict[str, Any]]:
    """OpenAI-style chat.completion.chunk dicts; usage only on the last one (include_usage)."""
    chunks: list[dict[str, Any]] = [
        {"id": "c-1", "model": model, "choices": [{"index": 0, "delta": {"content": ch}, "finish_reason": None}]}
        for ch in text
    ]
    chunks.append({"id": "c-1", "model": model, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    chunks.append(
        {"id": "c-1", "model": model, "choices": [], "usage": {"prompt_tokens": 1_000_000, "completion_tokens": 500_000}}
    )
    return chunks


class ProviderStream:
    """Shaped like ``openai.Stream``: iterator, context manager, ``.response``, ``close()``."""

    def __init__(self, chunks: list[Any]) -> None:
        self._it = iter(chunks)
        self.response = "raw-http-response"
        self.closed = False

    def __iter__(self) -> "ProviderStream":
        return self

    def __next__(self) -> Any:
        return next(self._it)

    def __enter__(self) -> "ProviderStream":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.closed = True


class AsyncProviderStream:
    """Shaped like ``openai.AsyncStream``: async iterator, async context manager, async close()."""

    def __init__(self, chunks: list[Any]) -> None:
        self._it = iter(chunks)
        self.closed = False

    def __aiter__(self) -> "AsyncProviderStream":
        return self

    async def __anext__(self) -> Any:
        await asyncio.sleep(0)
        try:
            return next(self._it)
        except StopIteration:
            raise StopAsyncIteration from None

    async def __aenter__(self) -> "AsyncProviderStream":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        self.closed = True


def _assert_llm_stream_span(cap, chunks: int) -> None:
    span = cap.span("chat test-model")
    attrs = span.attributes
    assert attrs[sc.OTEL_LLM_STREAM_COMPLETE] is True
    assert attrs[sc.OTEL_LLM_STREAM_CHUNKS] == chunks
    assert attrs[sc.GEN_AI_USAGE_INPUT_TOKENS] == 1_000_000  # from the final chunk
    assert attrs[sc.GEN_AI_USAGE_OUTPUT_TOKENS] == 500_000
    assert attrs[sc.GEN_AI_RESPONSE_MODEL] == "test-model-2026"
    assert attrs[sc.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    assert [e.name for e in span.events] == [sc.EVENT_LLM_FIRST_TOKEN]  # no content captured: nothing else


def test_provider_stream_usage_from_final_chunk_and_cost(cap):
    pricing = {"test-model-2026": {"input": 1.0, "output": 2.0}}
    with capture(pricing=pricing) as priced:

        @otel_llm.llm_call(model="test-model", provider="openai")
        def stream() -> ProviderStream:
            return ProviderStream(openai_chunks("hi"))

        got = list(stream())
    assert len(got) == 4
    _assert_llm_stream_span(priced, chunks=4)
    assert priced.span("chat test-model").attributes[sc.GEN_AI_USAGE_COST] == pytest.approx(2.0)


async def test_async_provider_stream_usage_from_final_chunk(cap):
    @otel_llm.llm_call(model="test-model", provider="openai")
    async def stream() -> AsyncProviderStream:
        return AsyncProviderStream(openai_chunks("hey"))

    got = [c async for c in await stream()]
    assert len(got) == 5
    _assert_llm_stream_span(cap, chunks=5)


def test_generator_yielding_chunks_accumulates_usage(cap):
    @otel_llm.llm_call(model="test-model", provider="openai")
    def stream():
        yield from openai_chunks("abc")

    assert len(list(stream())) == 5
    _assert_llm_stream_span(cap, chunks=5)


def test_record_usage_inside_a_streaming_generator(cap):
    @otel_llm.llm_call(model="test-model", provider="openai")
    def stream():
        yield "a"
        yield "b"
        otel_llm.record_usage(input_tokens=1_000_000, output_tokens=1_000_000)

    assert list(stream()) == ["a", "b"]
    attrs = cap.span("chat test-model").attributes
    assert attrs[sc.GEN_AI_USAGE_INPUT_TOKENS] == 1_000_000
    assert attrs[sc.GEN_AI_USAGE_COST] == pytest.approx(3.0)


def test_provider_stream_attributes_and_context_manager_are_forwarded(cap):
    inner = ProviderStream(openai_chunks("x"))

    @otel_llm.llm_call(model="test-model", provider="openai")
    def stream() -> ProviderStream:
        return inner

    with stream() as s:
        assert s.response == "raw-http-response"
        next(s)
    assert inner.closed
    span = cap.span("chat test-model")
    assert span.attributes[sc.OTEL_LLM_STREAM_COMPLETE] is False
    assert span.attributes[sc.OTEL_LLM_STREAM_CHUNKS] == 1


async def test_async_provider_stream_async_context_manager(cap):
    inner = AsyncProviderStream(openai_chunks("x"))

    @otel_llm.llm_call(model="test-model", provider="openai")
    async def stream() -> AsyncProviderStream:
        return inner

    async with await stream() as s:
        async for _ in s:
            pass
    assert inner.closed
    assert cap.span("chat test-model").attributes[sc.OTEL_LLM_STREAM_COMPLETE] is True


def test_generator_protocol_send_throw_and_return_value(cap):
    @otel_llm.graph_node("echo")
    def echo():
        received = []
        try:
            while True:
                value = yield len(received)
                received.append(value)
        except KeyError:
            yield "caught"
        return received

    gen = echo()
    assert next(gen) == 0
    assert gen.send("x") == 1
    assert gen.send("y") == 2
    assert gen.throw(KeyError("k")) == "caught"
    with pytest.raises(StopIteration) as stop:
        next(gen)
    assert stop.value.value == ["x", "y"]
    span = cap.span("echo")
    assert span.attributes[sc.OTEL_LLM_STREAM_COMPLETE] is True
    assert span.attributes[sc.OTEL_LLM_STREAM_CHUNKS] == 4


async def test_async_generator_asend(cap):
    @otel_llm.graph_node("aecho")
    async def aecho():
        value = None
        while True:
            value = yield value

    gen = aecho()
    assert await gen.asend(None) is None
    assert await gen.asend(5) == 5
    await gen.aclose()
    assert cap.span("aecho").attributes[sc.OTEL_LLM_STREAM_CHUNKS] == 2


# --- context per step --------------------------------------------------------------


def test_generator_children_nest_and_nothing_leaks_to_the_caller(cap):
    @otel_llm.vector_op("search", collection="docs", db_system="chroma")
    def search(i: int) -> list[int]:
        return [i]

    @otel_llm.graph_node("producer")
    def producer():
        for i in range(2):
            yield search(i)

    @otel_llm.graph_node("consumer")
    def consumer() -> list[Any]:
        seen = []
        for rows in producer():
            # Between items the caller runs in its own context, not the generator's.
            seen.append((rows, trace.get_current_span().get_span_context().span_id))
        return seen

    seen = consumer()
    producer_span, consumer_span = cap.span("producer"), cap.span("consumer")
    assert [span_id for _, span_id in seen] == [consumer_span.context.span_id] * 2
    searches = [s for s in cap.spans() if s.name == "search docs"]
    assert len(searches) == 2
    assert all(s.parent.span_id == producer_span.context.span_id for s in searches)
    assert producer_span.parent.span_id == consumer_span.context.span_id


async def test_async_generator_children_nest_and_nothing_leaks(cap):
    @otel_llm.llm_call(model="test-model", provider="openai")
    async def ask(i: int) -> str:
        await asyncio.sleep(0)
        return str(i)

    @otel_llm.graph_node("producer")
    async def producer():
        for i in range(2):
            yield await ask(i)

    outer = trace.get_current_span()
    async for _ in producer():
        assert trace.get_current_span() is outer
    producer_span = cap.span("producer")
    asks = [s for s in cap.spans() if s.name == "chat test-model"]
    assert len(asks) == 2
    assert all(s.parent.span_id == producer_span.context.span_id for s in asks)


# --- the lifecycle counting fake: close twice, ended once ---------------------------


class CountingSpan:
    """Delegates to a real span, counting ``end()`` calls."""

    def __init__(self, span: Any) -> None:
        self._span = span
        self.ends = 0

    def end(self, end_time: int | None = None) -> None:
        self.ends += 1
        self._span.end(end_time)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._span, name)


class CountingTracer:
    def __init__(self, tracer: Any) -> None:
        self._tracer = tracer
        self.spans: list[CountingSpan] = []

    def start_span(self, *args: Any, **kwargs: Any) -> CountingSpan:
        span = CountingSpan(self._tracer.start_span(*args, **kwargs))
        self.spans.append(span)
        return span


@pytest.fixture
def counting(cap):
    rt = _runtime.current()
    tracer = CountingTracer(rt.tracer)
    saved = _runtime._swap(dataclasses.replace(rt, tracer=tracer), None)
    try:
        yield tracer
    finally:
        _runtime._swap(*saved)


def test_close_twice_then_exhaust_then_collect_ends_once(counting):
    @otel_llm.llm_call(model="test-model", provider="openai")
    def stream():
        yield from "abc"

    gen = stream()
    next(gen)
    gen.close()
    gen.close()
    with pytest.raises(StopIteration):
        next(gen)
    del gen
    gc.collect()
    assert [s.ends for s in counting.spans] == [1]


async def test_aclose_twice_and_context_exit_end_once(counting):
    inner = AsyncProviderStream(openai_chunks("ab"))

    @otel_llm.llm_call(model="test-model", provider="openai")
    async def stream() -> AsyncProviderStream:
        return inner

    async with await stream() as s:
        await s.__anext__()
        await s.aclose()
        await s.aclose()
    del s
    gc.collect()
    assert [s.ends for s in counting.spans] == [1]


def test_failing_and_returning_calls_end_once(counting):
    @otel_llm.graph_node("ok")
    def ok() -> int:
        return 1

    @otel_llm.graph_node("bad")
    def bad() -> int:
        raise ValueError("no")

    ok()
    with pytest.raises(ValueError):
        bad()
    assert [s.ends for s in counting.spans] == [1, 1]


def test_streamed_completion_text_captured_only_with_capture_on(cap_content):
    @otel_llm.llm_call(model="test-model", provider="openai")
    def stream() -> ProviderStream:
        return ProviderStream(openai_chunks("a secret"))

    list(stream())
    span = cap_content.span("chat test-model")
    assert [e.name for e in span.events] == [sc.EVENT_LLM_REQUEST, sc.EVENT_LLM_FIRST_TOKEN, sc.EVENT_LLM_RESPONSE]
    reply = next(e for e in span.events if e.name == sc.EVENT_LLM_RESPONSE)
    assert reply.attributes[sc.EVENT_ATTR_CONTENT] == "a [REDACTED]"
    assert reply.attributes[sc.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)


def test_streamed_completion_text_not_captured_by_default(cap):
    @otel_llm.llm_call(model="test-model", provider="openai")
    def stream() -> ProviderStream:
        return ProviderStream(openai_chunks("a secret"))

    list(stream())
    span = cap.span("chat test-model")
    for event in span.events:
        assert sc.EVENT_ATTR_CONTENT not in event.attributes


def test_abandoned_generator_cleanup_runs_inside_its_span(cap):
    @otel_llm.vector_op("release", collection="cursors", db_system="chroma")
    def release() -> None:
        return None

    @otel_llm.graph_node("producer")
    def producer():
        try:
            yield 1
            yield 2
        finally:
            release()

    for _ in producer():
        break
    gc.collect()
    producer_span, cleanup = cap.span("producer"), cap.span("release cursors")
    assert cleanup.parent.span_id == producer_span.context.span_id
    assert cleanup.end_time <= producer_span.end_time
    assert producer_span.attributes[sc.OTEL_LLM_STREAM_COMPLETE] is False


def test_generator_span_starts_at_first_next_like_the_generator_body(cap):
    @otel_llm.graph_node("lazy")
    def lazy():
        yield 1

    gen = lazy()
    del gen  # never started: like the undecorated generator, nothing ran
    gc.collect()
    assert cap.spans() == []
    assert list(lazy()) == [1]
    assert len(cap.spans()) == 1


async def test_async_generator_athrow_is_forwarded(cap):
    @otel_llm.graph_node("resilient")
    async def resilient():
        try:
            yield "first"
        except KeyError:
            yield "recovered"

    gen = resilient()
    assert await gen.__anext__() == "first"
    assert await gen.athrow(KeyError("k")) == "recovered"
    with pytest.raises(StopAsyncIteration):
        await gen.__anext__()
    span = cap.span("resilient")
    assert span.attributes[sc.OTEL_LLM_STREAM_COMPLETE] is True
    assert span.attributes[sc.OTEL_LLM_STREAM_CHUNKS] == 2


async def test_async_generator_athrow_unhandled_propagates_same_object(cap):
    @otel_llm.graph_node("fragile")
    async def fragile():
        yield "first"
        yield "second"

    err = KeyError("k")
    gen = fragile()
    await gen.__anext__()
    with pytest.raises(KeyError) as info:
        await gen.athrow(err)
    assert info.value is err
    span = cap.span("fragile")
    assert span.attributes[sc.ERROR_TYPE] == "KeyError"
    assert span.attributes[sc.OTEL_LLM_STREAM_COMPLETE] is False


class DualProxy:
    """Like OpenLLMetry's ChatStream (a wrapt ObjectProxy): one class with both
    ``__next__`` and ``__anext__``, wrapping a sync or an async stream."""

    def __init__(self, wrapped: Any) -> None:
        self.__wrapped__ = wrapped

    def __iter__(self) -> "DualProxy":
        return self

    def __next__(self) -> Any:
        return next(self.__wrapped__)

    def __aiter__(self) -> "DualProxy":
        return self

    async def __anext__(self) -> Any:
        return await self.__wrapped__.__anext__()


def test_a_proxy_with_both_protocols_around_a_sync_stream_stays_iterable():
    with capture() as cap:

        @otel_llm.llm_call(model="m")
        def ask() -> DualProxy:
            return DualProxy(ProviderStream(openai_chunks("hi")))

        chunks = list(ask())  # was: TypeError: 'AsyncStreamProxy' object is not iterable
    assert len(chunks) == len(openai_chunks("hi"))
    (span,) = cap.spans()
    assert span.attributes[sc.OTEL_LLM_STREAM_COMPLETE] is True


async def test_a_proxy_with_both_protocols_around_an_async_stream_stays_async():
    async def chunks():
        for chunk in openai_chunks("hi"):
            yield chunk

    with capture() as cap:

        @otel_llm.llm_call(model="m")
        async def ask() -> DualProxy:
            return DualProxy(chunks())

        got = [c async for c in await ask()]
    assert len(got) == len(openai_chunks("hi"))
    (span,) = cap.spans()
    assert span.attributes[sc.OTEL_LLM_STREAM_COMPLETE] is True


def test_results_of_a_class_known_not_to_stream_and_streams_alternate(cap):
    """The per-class answer "not a stream" skips the check for that class only: every stream is still
    proxied, whichever results came before it, and a non-stream (a list iterator too: no LLM stream
    type) is returned as it is."""
    results: list[Any] = []

    @otel_llm.llm_call(model="test-model", provider="openai")
    def ask() -> Any:
        return results.pop()

    def gen() -> Any:
        yield from openai_chunks("ab")

    plain = {"id": "r", "model": "test-model", "choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 1}}
    for stream in (ProviderStream(openai_chunks("ab")), iter(openai_chunks("ab")), gen()):
        results[:] = [stream, plain, plain]  # popped from the end: two plain results, then the stream
        assert ask() is plain and ask() is plain
        proxy = ask()
        assert (proxy is stream) is (type(stream) is type(iter([]))) and list(proxy) == openai_chunks("ab")
    # (dict is not among them: a dict is decided per value, as boto3's streaming result holds its stream)
    assert not {ProviderStream, type(gen())} & _streams.NOT_STREAMS
    assert type(iter([])) in _streams.NOT_STREAMS
    chunked = [s.attributes.get(sc.OTEL_LLM_STREAM_CHUNKS) for s in cap.spans()]
    assert chunked == [None, None, 4, None, None, None, None, None, 4]


async def test_an_async_provider_streams_own_close_ends_its_span_then_and_once(counting, cap):
    """``await stream.close()`` is how OpenAI's and Anthropic's AsyncStream are closed (they have no
    aclose()): the span ends there, not whenever the stream object is collected."""
    inner = AsyncProviderStream(openai_chunks("abc"))

    @otel_llm.llm_call(model="test-model", provider="openai")
    async def stream() -> AsyncProviderStream:
        return inner

    s = await stream()
    await s.__anext__()
    await s.close()
    assert inner.closed
    span = cap.span("chat test-model")  # ended while the app still holds the stream
    assert span.attributes[sc.OTEL_LLM_STREAM_COMPLETE] is False
    assert span.attributes[sc.OTEL_LLM_STREAM_CHUNKS] == 1
    await s.close()
    del s
    gc.collect()
    assert [s.ends for s in counting.spans] == [1]


async def test_an_async_iterator_without_close_still_has_none(cap):
    """What the app's own async iterator lacks, the stream proxy standing in for it lacks too."""

    class Ticks:
        __module__ = "openai._streaming"  # a provider SDK's async stream: proxied

        def __init__(self) -> None:
            self.n = 0

        def __aiter__(self) -> "Ticks":
            return self

        async def __anext__(self) -> int:
            self.n += 1
            if self.n > 2:
                raise StopAsyncIteration
            return self.n

    @otel_llm.tool("ticks")
    def ticks() -> Ticks:
        return Ticks()

    s = ticks()
    assert isinstance(s, _streams.AsyncStreamProxy)
    with pytest.raises(AttributeError):
        await s.close()
    assert [t async for t in s] == [1, 2]


async def test_an_async_iterator_with_a_sync_close_is_closed_at_once(cap):
    class Feed:
        """An async stream of a provider's SDK (its module's package tells), with a sync close()."""

        __module__ = "openai._streaming"
        closed = False

        def __aiter__(self) -> "Feed":
            return self

        async def __anext__(self) -> int:
            return 1

        def close(self) -> str:
            self.closed = True
            return "closed"

    feed = Feed()

    @otel_llm.tool("feed")
    def open_feed() -> Feed:
        return feed

    s = open_feed()
    assert await s.__anext__() == 1
    assert s.close() == "closed" and feed.closed
    assert cap.span("execute_tool feed").attributes[sc.OTEL_LLM_STREAM_COMPLETE] is False
