"""Every callable shape x every way of stopping -> exactly one ended span, right status.

Shapes: sync function, coroutine function, generator function, async generator
function, and functions returning a provider stream object (sync and async).
Ways of stopping: exhaustion, ``break``, an exception mid-way, explicit
``close()``/``aclose()``, task cancellation, garbage collection of an abandoned
stream. Each is run under every decorator.
"""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import pytest
from opentelemetry.trace import StatusCode

import otel_llm
from otel_llm import semconv as sc

ITEMS = ["a", "b", "c"]

DECORATORS = {
    "chat": otel_llm.chat,
    "graph_node": otel_llm.graph_node("node"),
    "vector_op": otel_llm.vector_op("search", collection="docs", db_system="chroma"),
    "llm_call": otel_llm.llm_call(model="test-model", provider="openai"),
    "tool": otel_llm.tool("search_web"),
    "agent": otel_llm.agent("planner"),
}


class Boom(Exception):
    """The user's error, raised after the first item."""


class FakeStream:
    """Shaped like a provider's sync stream (OpenAI ``Stream``): an iterator with close()."""

    def __init__(self, mode: str) -> None:
        self.mode, self.i, self.closed = mode, 0, 0
        self.response = "http-response"

    def __iter__(self) -> "FakeStream":
        return self

    def __next__(self) -> str:
        if self.i == 1 and self.mode == "fail":
            raise Boom("mid-stream")
        if self.i >= len(ITEMS):
            raise StopIteration
        self.i += 1
        return ITEMS[self.i - 1]

    def close(self) -> None:
        self.closed += 1
        self.i = len(ITEMS)


class FakeAsyncStream:
    """Shaped like a provider's async stream (OpenAI ``AsyncStream``)."""

    def __init__(self, mode: str) -> None:
        self.mode, self.i = mode, 0

    def __aiter__(self) -> "FakeAsyncStream":
        return self

    async def __anext__(self) -> str:
        await asyncio.sleep(0)
        if self.i == 1 and self.mode == "fail":
            raise Boom("mid-stream")
        if self.i == 1 and self.mode == "hang":
            await asyncio.Event().wait()
        if self.i >= len(ITEMS):
            raise StopAsyncIteration
        self.i += 1
        return ITEMS[self.i - 1]

    async def close(self) -> None:
        pass


def make(shape: str, mode: str = "ok") -> Any:
    """The undecorated function of ``shape``; ``mode`` = ok | fail | hang (after one item)."""
    if shape == "sync":

        def fn(x: int = 0) -> str:
            if mode == "fail":
                raise Boom("sync")
            return "result"

    elif shape == "async":

        async def fn(x: int = 0) -> str:
            await asyncio.sleep(0)
            if mode == "fail":
                raise Boom("async")
            if mode == "hang":
                await asyncio.Event().wait()
            return "result"

    elif shape == "generator":

        def fn(x: int = 0):
            for i, item in enumerate(ITEMS):
                if i == 1 and mode == "fail":
                    raise Boom("generator")
                yield item

    elif shape == "async_generator":

        async def fn(x: int = 0):
            for i, item in enumerate(ITEMS):
                await asyncio.sleep(0)
                if i == 1 and mode == "fail":
                    raise Boom("async generator")
                if i == 1 and mode == "hang":
                    await asyncio.Event().wait()
                yield item

    elif shape == "sync_stream":

        def fn(x: int = 0) -> FakeStream:
            return FakeStream(mode)

    elif shape == "async_stream":

        async def fn(x: int = 0) -> FakeAsyncStream:
            await asyncio.sleep(0)
            return FakeAsyncStream(mode)

    else:  # pragma: no cover
        raise AssertionError(shape)
    return fn


def only_span(cap):
    spans = cap.spans()
    assert len(spans) == 1, [s.name for s in spans]
    assert spans[0].end_time is not None
    return spans[0]


def assert_stream_span(cap, *, complete: bool, chunks: int, error: bool, error_type: str = "Boom") -> None:
    span = only_span(cap)
    assert span.attributes[sc.OTEL_LLM_STREAM_COMPLETE] is complete
    assert span.attributes[sc.OTEL_LLM_STREAM_CHUNKS] == chunks
    expected = StatusCode.ERROR if error else StatusCode.UNSET
    assert span.status.status_code is expected
    assert (sc.ERROR_TYPE in span.attributes) is error
    if error:
        assert span.attributes[sc.ERROR_TYPE] == error_type


async def settle() -> None:
    """Let the event loop finalize abandoned async generators (its asyncgen hooks
    schedule ``aclose()``), as it would for undecorated ones."""
    gc.collect()
    for _ in range(5):
        await asyncio.sleep(0)


SYNC_STREAMS = ["generator", "sync_stream"]
ASYNC_STREAMS = ["async_generator", "async_stream"]
KINDS = sorted(DECORATORS)


# --- plain functions -------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_sync_function_completes(cap, kind):
    assert DECORATORS[kind](make("sync"))(1) == "result"
    span = only_span(cap)
    assert span.status.status_code is StatusCode.UNSET
    assert sc.OTEL_LLM_STREAM_COMPLETE not in span.attributes


@pytest.mark.parametrize("kind", KINDS)
def test_sync_function_raises(cap, kind):
    with pytest.raises(Boom, match="sync"):
        DECORATORS[kind](make("sync", "fail"))()
    span = only_span(cap)
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes[sc.ERROR_TYPE] == "Boom"


@pytest.mark.parametrize("kind", KINDS)
async def test_async_function_completes(cap, kind):
    assert await DECORATORS[kind](make("async"))(1) == "result"
    assert only_span(cap).status.status_code is StatusCode.UNSET


@pytest.mark.parametrize("kind", KINDS)
async def test_async_function_raises(cap, kind):
    with pytest.raises(Boom, match="async"):
        await DECORATORS[kind](make("async", "fail"))()
    assert only_span(cap).status.status_code is StatusCode.ERROR


@pytest.mark.parametrize("kind", KINDS)
async def test_async_function_cancelled(cap, kind):
    task = asyncio.ensure_future(DECORATORS[kind](make("async", "hang"))())
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    span = only_span(cap)
    assert span.status.status_code is StatusCode.ERROR  # cancelled: the call did not finish
    assert span.attributes[sc.ERROR_TYPE] == "CancelledError"


# --- sync streams ------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shape", SYNC_STREAMS)
def test_sync_stream_exhausted(cap, kind, shape):
    assert list(DECORATORS[kind](make(shape))()) == ITEMS
    assert_stream_span(cap, complete=True, chunks=3, error=False)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shape", SYNC_STREAMS)
def test_sync_stream_break(cap, kind, shape):
    for item in DECORATORS[kind](make(shape))():
        assert item == "a"
        break
    assert_stream_span(cap, complete=False, chunks=1, error=False)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shape", SYNC_STREAMS)
def test_sync_stream_raises(cap, kind, shape):
    seen = []
    with pytest.raises(Boom):
        for item in DECORATORS[kind](make(shape, "fail"))():
            seen.append(item)
    assert seen == ["a"]
    assert_stream_span(cap, complete=False, chunks=1, error=True)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shape", SYNC_STREAMS)
def test_sync_stream_closed(cap, kind, shape):
    stream = DECORATORS[kind](make(shape))()
    assert next(stream) == "a"
    stream.close()
    assert_stream_span(cap, complete=False, chunks=1, error=False)
    with pytest.raises(StopIteration):
        next(stream)  # a closed stream stays exhausted
    if shape == "sync_stream":
        assert stream.closed == 1  # close() reached the provider object (attribute forwarded)
    assert len(cap.spans()) == 1


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shape", SYNC_STREAMS)
def test_sync_stream_abandoned_and_collected(cap, kind, shape):
    stream = DECORATORS[kind](make(shape))()
    next(stream)
    assert cap.spans() == []  # still open while referenced
    del stream
    gc.collect()
    assert_stream_span(cap, complete=False, chunks=1, error=False)


# --- async streams -----------------------------------------------------------------


async def _open_async(kind: str, shape: str, mode: str = "ok") -> Any:
    result = DECORATORS[kind](make(shape, mode))()
    return await result if shape == "async_stream" else result


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shape", ASYNC_STREAMS)
async def test_async_stream_exhausted(cap, kind, shape):
    assert [x async for x in await _open_async(kind, shape)] == ITEMS
    assert_stream_span(cap, complete=True, chunks=3, error=False)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shape", ASYNC_STREAMS)
async def test_async_stream_break(cap, kind, shape):
    async for item in await _open_async(kind, shape):
        assert item == "a"
        break
    await settle()
    assert_stream_span(cap, complete=False, chunks=1, error=False)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shape", ASYNC_STREAMS)
async def test_async_stream_raises(cap, kind, shape):
    seen = []
    with pytest.raises(Boom):
        async for item in await _open_async(kind, shape, "fail"):
            seen.append(item)
    assert seen == ["a"]
    assert_stream_span(cap, complete=False, chunks=1, error=True)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shape", ASYNC_STREAMS)
async def test_async_stream_aclosed(cap, kind, shape):
    stream = await _open_async(kind, shape)
    assert await stream.__anext__() == "a"
    await stream.aclose()
    assert_stream_span(cap, complete=False, chunks=1, error=False)
    await stream.aclose()  # twice: still one span
    assert len(cap.spans()) == 1


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shape", ASYNC_STREAMS)
async def test_async_stream_task_cancelled(cap, kind, shape):
    seen: list[str] = []

    async def consume() -> None:
        async for item in await _open_async(kind, shape, "hang"):
            seen.append(item)

    task = asyncio.ensure_future(consume())
    while not seen:
        await asyncio.sleep(0.001)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert seen == ["a"]
    assert_stream_span(cap, complete=False, chunks=1, error=True, error_type="CancelledError")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shape", ASYNC_STREAMS)
async def test_async_stream_abandoned_and_collected(cap, kind, shape):
    stream = await _open_async(kind, shape)
    await stream.__anext__()
    assert cap.spans() == []
    del stream
    await settle()
    assert_stream_span(cap, complete=False, chunks=1, error=False)
