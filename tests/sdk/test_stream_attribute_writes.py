"""The app may write attributes on the stream a decorated call returned, as on the provider's own.

The proxy standing in for the stream forwarded reads to it, but had no room for writes:
``stream.request_label = ...`` raised ``AttributeError`` where the undecorated stream took it.
Writes and deletions of any name not the proxy's own now go to the stream.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import otel_llm


class ChunkStream:
    """A provider-shaped sync stream (its type named ``…Stream``)."""

    def __init__(self) -> None:
        self._chunks = iter([{"choices": [{"delta": {"content": "hi"}}]}])

    def __iter__(self) -> "ChunkStream":
        return self

    def __next__(self) -> Any:
        return next(self._chunks)


class AsyncChunkStream:
    def __init__(self) -> None:
        self._left = 1

    def __aiter__(self) -> "AsyncChunkStream":
        return self

    async def __anext__(self) -> Any:
        if not self._left:
            raise StopAsyncIteration
        self._left -= 1
        return {"choices": [{"delta": {"content": "hi"}}]}


@pytest.mark.parametrize("make", [ChunkStream, AsyncChunkStream], ids=["sync", "async"])
def test_an_attribute_written_on_a_returned_stream_reaches_the_stream(cap, make) -> None:
    inner = make()
    stream = otel_llm.llm_call(model="m")(lambda: inner)()
    assert stream is not inner  # behind the proxy
    stream.request_label = "nightly"
    assert inner.request_label == "nightly"
    assert stream.request_label == "nightly"
    del stream.request_label
    assert not hasattr(inner, "request_label")
    if make is ChunkStream:
        assert len(list(stream)) == 1
    else:
        async def drain() -> int:
            return len([chunk async for chunk in stream])

        assert asyncio.run(drain()) == 1
    assert cap.span("chat m").attributes["otel_llm.stream.chunks"] == 1
