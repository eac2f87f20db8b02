"""An app's unit tests stand mocks in for provider clients: what a decorated call returns is the mock.

``unittest.mock.MagicMock`` answers every protocol, ``__next__`` and ``__anext__``
among them, so by shape it looks like a stream. It is a test double of a
response, not a stream: the decorated function returns it as it is (``is``,
``==`` and ``assert_*`` work on it as without otel-llm) and its span ends with
the call.
"""

from __future__ import annotations

from unittest.mock import AsyncMock, MagicMock

import otel_llm
from otel_llm import semconv as sc


def test_a_magicmock_response_is_returned_as_it_is_and_the_call_ends(cap):
    response = MagicMock()
    response.choices[0].message.content = "hi"

    @otel_llm.llm_call(model="test-model", provider="openai")
    def ask() -> MagicMock:
        return response

    got = ask()
    assert got is response
    assert got.choices[0].message.content == "hi"
    span = cap.span("chat test-model")
    assert span.end_time is not None
    assert sc.OTEL_LLM_STREAM_CHUNKS not in span.attributes


async def test_an_asyncmock_clients_response_is_returned_as_it_is(cap):
    response = MagicMock()
    create = AsyncMock(return_value=response)

    @otel_llm.llm_call(model="test-model", provider="openai")
    async def ask() -> MagicMock:
        return await create(model="test-model")

    assert await ask() is response
    create.assert_awaited_once_with(model="test-model")
    assert cap.span("chat test-model").end_time is not None


def test_a_magicmock_standing_in_for_a_stream_still_iterates(cap):
    stream = MagicMock()
    stream.__iter__.return_value = iter(["a", "b"])

    @otel_llm.tool("chunks")
    def chunks() -> MagicMock:
        return stream

    assert list(chunks()) == ["a", "b"]
    assert cap.span("execute_tool chunks").end_time is not None
