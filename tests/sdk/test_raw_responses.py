"""The raw-response wrappers of the openai (and anthropic) clients returned from a decorated call.

``client.chat.completions.with_raw_response.create(...)`` returns the HTTP
response (``LegacyAPIResponse``) whose ``parse()`` gives the completion;
``with_streaming_response.create(...)`` a context manager whose response the app
reads in the ``with`` block (``parse()``, ``json()``, ``iter_lines()``...).
The usage is in what the app parses: the span carries it when the app parses
the response, and says ``otel_llm.usage.unobserved`` when the app read the
body some other way — never a silent zero, and the app's stream is never
consumed by otel-llm. Real openai clients over an httpx mock transport.
"""

from __future__ import annotations

import json
from typing import Any

import anthropic
import httpx
import openai
import pytest

import otel_llm
from otel_llm import semconv as sc
from otel_llm.testing import Capture
from tests.sdk.test_stream_helpers import MESSAGES, _openai_sse, openai_client
from tests.sdk.test_stream_usage import cap  # noqa: F401 — the fixture: gpt-4o-mini at $1/$2 per 1M

COMPLETION = {
    "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
    "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "Hello"}}],
    "usage": {"prompt_tokens": 120, "completion_tokens": 2, "total_tokens": 122},
}


def _completion(request: httpx.Request) -> httpx.Response:
    if json.loads(request.content).get("stream"):
        return _openai_sse(request)
    return httpx.Response(200, json=COMPLETION)


def _one_span(cap: Capture) -> Any:
    (span,) = cap.spans()
    return span


def _assert_tokens(cap: Capture) -> None:
    attrs = _one_span(cap).attributes
    assert (attrs[sc.GEN_AI_USAGE_INPUT_TOKENS], attrs[sc.GEN_AI_USAGE_OUTPUT_TOKENS]) == (120, 2)
    assert attrs[sc.GEN_AI_RESPONSE_MODEL] == "gpt-4o-mini"
    assert sc.OTEL_LLM_USAGE_UNOBSERVED not in attrs
    (tokens,) = [p for p in cap.metrics()[sc.METRIC_TOKEN_USAGE] if p.attributes[sc.GEN_AI_TOKEN_TYPE] == "input"]
    assert (tokens.count, tokens.sum) == (1, 120)


def _ask(wrapper: str, stream: bool = False) -> Any:
    """A decorated function returning ``client.chat.completions.<wrapper>.create(...)`` (of a stream if ``stream``)."""
    client = openai_client(_completion)
    extra: dict[str, Any] = {"stream": True, "stream_options": {"include_usage": True}} if stream else {}

    @otel_llm.llm_call(model="gpt-4o-mini", provider="openai")
    def ask() -> Any:
        return getattr(client.chat.completions, wrapper).create(model="gpt-4o-mini", messages=MESSAGES, **extra)

    return ask


def test_with_raw_response(cap):
    ask = _ask("with_raw_response")
    raw = ask()
    _assert_tokens(cap)  # the span ended with the call: its body was read
    assert raw.headers["content-type"] == "application/json"
    assert raw.parse().choices[0].message.content == "Hello"
    assert raw.parse() is raw.parse()


def test_with_raw_response_of_a_stream(cap):
    ask = _ask("with_raw_response", stream=True)
    raw = ask()
    assert raw.headers["content-type"] == "text/event-stream"
    assert "".join(c.choices[0].delta.content or "" for c in raw.parse() if c.choices) == "Hello"
    _assert_tokens(cap)
    assert _one_span(cap).attributes[sc.OTEL_LLM_STREAM_CHUNKS] == 4


def test_with_streaming_response_parsed(cap):
    ask = _ask("with_streaming_response")
    with ask() as response:
        assert response.headers["content-type"] == "application/json"
        assert response.parse().choices[0].message.content == "Hello"
        assert not cap.spans()  # the block is the call
    _assert_tokens(cap)


def test_with_streaming_response_of_a_stream_parsed(cap):
    ask = _ask("with_streaming_response", stream=True)
    with ask() as response:
        assert "".join(c.choices[0].delta.content or "" for c in response.parse() if c.choices) == "Hello"
    _assert_tokens(cap)


def test_with_streaming_response_read_as_json(cap):
    ask = _ask("with_streaming_response")
    with ask() as response:
        assert response.json() == COMPLETION
    _assert_tokens(cap)


def test_with_streaming_response_read_line_by_line_says_usage_unobserved(cap):
    """The app reads the raw lines itself: otel-llm cannot see the usage, and says so instead of a zero."""
    ask = _ask("with_streaming_response")
    with ask() as response:
        assert json.loads("".join(response.iter_lines())) == COMPLETION
    attrs = _one_span(cap).attributes
    assert sc.GEN_AI_USAGE_INPUT_TOKENS not in attrs
    assert attrs[sc.OTEL_LLM_USAGE_UNOBSERVED] == "response not parsed"
    assert sc.METRIC_TOKEN_USAGE not in cap.metrics()


async def test_async_with_streaming_response_parsed(cap):
    http = httpx.AsyncClient(transport=httpx.MockTransport(_completion))
    client = openai.AsyncOpenAI(api_key="k", base_url="http://llm.test/v1", http_client=http, max_retries=0)

    @otel_llm.llm_call(model="gpt-4o-mini", provider="openai")
    def ask() -> Any:
        return client.chat.completions.with_streaming_response.create(model="gpt-4o-mini", messages=MESSAGES)

    async with ask() as response:
        assert (await response.parse()).choices[0].message.content == "Hello"
    _assert_tokens(cap)


async def test_async_with_raw_response(cap):
    http = httpx.AsyncClient(transport=httpx.MockTransport(_completion))
    client = openai.AsyncOpenAI(api_key="k", base_url="http://llm.test/v1", http_client=http, max_retries=0)

    @otel_llm.llm_call(model="gpt-4o-mini", provider="openai")
    async def ask() -> Any:
        return await client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=MESSAGES)

    raw = await ask()
    _assert_tokens(cap)
    assert raw.parse().usage.prompt_tokens == 120


def test_anthropic_with_raw_response(cap):
    """anthropic's client has the same wrappers: its raw message is read as its message is."""
    message = {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
               "content": [{"type": "text", "text": "Hello"}], "stop_reason": "end_turn", "stop_sequence": None,
               "usage": {"input_tokens": 20, "output_tokens": 2, "cache_read_input_tokens": 100}}
    http = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(200, json=message)))
    client = anthropic.Anthropic(api_key="k", base_url="http://llm.test", http_client=http, max_retries=0)

    @otel_llm.llm_call(model="claude-sonnet-4-5", provider="anthropic")
    def ask() -> Any:
        return client.messages.with_raw_response.create(model="claude-sonnet-4-5", max_tokens=10, messages=MESSAGES)

    assert ask().parse().content[0].text == "Hello"
    attrs = _one_span(cap).attributes
    assert (attrs[sc.GEN_AI_USAGE_INPUT_TOKENS], attrs[sc.GEN_AI_USAGE_OUTPUT_TOKENS]) == (120, 2)
    assert attrs[sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == 100


def test_with_raw_response_that_cannot_be_parsed_says_usage_unobserved(cap):
    """``with_raw_response.parse(response_format=...)`` whose answer does not fit the format: the app's own
    ``parse()`` raises (as without otel-llm), and the span says its usage was not observed."""
    from pydantic import BaseModel

    class Answer(BaseModel):
        value: int

    client = openai_client(_completion)

    @otel_llm.llm_call(model="gpt-4o-mini", provider="openai")
    def ask() -> Any:
        return client.chat.completions.with_raw_response.parse(
            model="gpt-4o-mini", messages=MESSAGES, response_format=Answer)

    raw = ask()
    attrs = _one_span(cap).attributes
    assert attrs[sc.OTEL_LLM_USAGE_UNOBSERVED] == "response not parsed"
    assert sc.GEN_AI_USAGE_INPUT_TOKENS not in attrs
    with pytest.raises(Exception, match="validation error|Invalid JSON"):
        raw.parse()


async def test_async_with_raw_response_of_a_stream(cap):
    http = httpx.AsyncClient(transport=httpx.MockTransport(_completion))
    client = openai.AsyncOpenAI(api_key="k", base_url="http://llm.test/v1", http_client=http, max_retries=0)

    @otel_llm.llm_call(model="gpt-4o-mini", provider="openai")
    async def ask() -> Any:
        return await client.chat.completions.with_raw_response.create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True, stream_options={"include_usage": True})

    raw = await ask()
    assert not cap.spans()  # the stream is the call
    assert "".join([c.choices[0].delta.content or "" async for c in raw.parse() if c.choices]) == "Hello"
    _assert_tokens(cap)
