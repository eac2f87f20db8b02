"""A provider's object returned from a decorated call is still an instance of its class.

The stream, stream manager or raw response a decorated function returns is
handed back behind a proxy (its span ends with the stream). Apps and libraries
tell a streamed answer from a whole one by its class —
``if isinstance(response, openai.Stream): ...`` — so the proxy answers
``isinstance`` (and ``__class__``, which ``functools.singledispatch`` reads) as
the object it stands for; its span is as before. Real openai and anthropic
clients over an httpx mock transport.
"""

from __future__ import annotations

import functools
from typing import Any

import openai
from anthropic.lib.streaming import MessageStreamManager
from openai.lib.streaming.chat import ChatCompletionStreamManager

import otel_llm
from otel_llm import semconv as sc
from tests.sdk.test_stream_helpers import (
    MESSAGES, anthropic_client, async_openai_client, openai_client, openai_helper_call,
)
from tests.sdk.test_stream_usage import cap  # noqa: F401 — the fixture: gpt-4o-mini at $1/$2 per 1M


def _tokens(cap: Any) -> tuple[int, int]:
    (span,) = cap.spans()
    return span.attributes[sc.GEN_AI_USAGE_INPUT_TOKENS], span.attributes[sc.GEN_AI_USAGE_OUTPUT_TOKENS]


def test_an_openai_stream_is_still_a_stream(cap):
    client = openai_client()

    @otel_llm.llm_call
    def ask() -> Any:
        return client.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
        )

    stream = ask()
    assert isinstance(stream, openai.Stream)
    assert stream.__class__ is openai.Stream

    @functools.singledispatch
    def text(response: Any) -> str:
        raise AssertionError("read as a whole answer")

    @text.register
    def _(response: openai.Stream) -> str:
        return "".join(c.choices[0].delta.content or "" for c in response if c.choices)

    assert text(stream) == "Hello"
    assert _tokens(cap) == (120, 2)


async def test_an_openai_async_stream_is_still_an_async_stream(cap):
    client = async_openai_client()

    @otel_llm.llm_call
    async def ask() -> Any:
        return await client.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
        )

    stream = await ask()
    assert isinstance(stream, openai.AsyncStream)
    assert [c async for c in stream]
    assert _tokens(cap) == (120, 2)


def test_an_anthropic_stream_manager_is_still_a_stream_manager(cap):
    """(``anthropic.Stream``'s metaclass answers ``isinstance`` for its exact type only, so no stand-in
    passes it: its own subclasses do not either.)"""
    client = anthropic_client()

    @otel_llm.llm_call
    def ask() -> Any:
        return client.messages.stream(model="claude-sonnet-4-5", max_tokens=100, messages=MESSAGES)

    manager = ask()
    assert isinstance(manager, MessageStreamManager)
    with manager as stream:
        assert "".join(stream.text_stream) == "Hello"
    assert _tokens(cap) == (25, 15)


def test_a_stream_manager_and_a_raw_response_keep_their_classes(cap):
    manager = openai_helper_call(openai_client())()
    assert isinstance(manager, ChatCompletionStreamManager)
    with manager as stream:
        stream.until_done()
    cap.clear()

    client = openai_client()

    @otel_llm.llm_call
    def raw() -> Any:
        return client.chat.completions.with_raw_response.create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
        )

    response = raw()
    assert isinstance(response, openai._legacy_response.LegacyAPIResponse)
    assert isinstance(response.parse(), openai.Stream)

