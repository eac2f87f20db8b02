"""Google Gemini (``google-genai``) and AWS Bedrock Converse (``boto3``) calls: tokens, cost, stream usage.

The real clients run against a mock transport, so otel-llm meets the objects
an app gets: google-genai's pydantic ``GenerateContentResponse`` (an httpx
``MockTransport`` answers its requests, SSE for streams) and boto3's plain
dicts (a ``before-send`` hook answers botocore's request with the JSON, or
the binary event stream, Bedrock sends; botocore parses it as it parses AWS's).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import struct
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.eventstream
import httpx
import pytest
from botocore.awsrequest import AWSResponse
from google import genai
from google.genai import types

import otel_llm
from otel_llm import _usage
from otel_llm import semconv as sc
from otel_llm._usage import Usage, extract_usage
from otel_llm.pricing import PriceBook
from otel_llm.testing import Capture
from tests.sdk.test_stream_usage import _usage_by_probing

BEDROCK_MODEL = "us.anthropic.claude-3-5-sonnet-20240620-v1:0"
PRICING = {
    "gemini-2.5-flash": {"input": 1.0, "output": 2.0, "cache_read": 0.5},
    BEDROCK_MODEL: {"input": 1.0, "output": 2.0, "cache_read": 0.5, "cache_write": 1.5},
}


@pytest.fixture
def cap() -> Iterator[Capture]:
    with Capture(pricing=PRICING) as capture:
        yield capture


def _llm_span(cap: Capture) -> Any:
    (span,) = [s for s in cap.spans() if s.attributes.get(sc.OTEL_LLM_KIND) == sc.KIND_LLM_CALL]
    return span


# --- Gemini -----------------------------------------------------------------------------------

GEMINI_USAGE = {"promptTokenCount": 1200, "candidatesTokenCount": 40, "thoughtsTokenCount": 60,
                "cachedContentTokenCount": 1024, "totalTokenCount": 1300}


def _gemini_body(text: str, usage: dict[str, Any], finish: str | None = "STOP") -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": [{"text": text}]}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    return {"candidates": [candidate], "usageMetadata": usage, "modelVersion": "gemini-2.5-flash",
            "responseId": "resp-g1"}


def _gemini_handler(request: httpx.Request) -> httpx.Response:
    """The Gemini API: one JSON response, or SSE chunks whose running usage ends in the totals."""
    if ":streamGenerateContent" in request.url.path:
        chunks = [
            _gemini_body("Hel", {"promptTokenCount": 1200, "candidatesTokenCount": 1}, finish=None),
            _gemini_body("lo", {"promptTokenCount": 1200, "candidatesTokenCount": 2}, finish=None),
            _gemini_body("!", GEMINI_USAGE),
        ]
        sse = "".join(f"data: {json.dumps(c)}\r\n\r\n" for c in chunks)
        return httpx.Response(200, content=sse.encode(), headers={"content-type": "text/event-stream"})
    return httpx.Response(200, json=_gemini_body("Hello!", GEMINI_USAGE))


def gemini_client() -> genai.Client:
    transport = {"transport": httpx.MockTransport(_gemini_handler)}
    return genai.Client(api_key="test-key", http_options=types.HttpOptions(
        client_args=transport, async_client_args={"transport": httpx.MockTransport(_gemini_handler)},
    ))


def _assert_gemini(cap: Capture, chunks: int | None = None) -> None:
    attrs = _llm_span(cap).attributes
    assert attrs[sc.GEN_AI_USAGE_INPUT_TOKENS] == 1200  # prompt_token_count: cached tokens included
    assert attrs[sc.GEN_AI_USAGE_OUTPUT_TOKENS] == 100  # candidates 40 + thoughts 60
    assert attrs[sc.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] == 60
    assert attrs[sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == 1024
    assert sc.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS not in attrs
    assert attrs[sc.GEN_AI_RESPONSE_MODEL] == "gemini-2.5-flash"
    assert attrs[sc.GEN_AI_RESPONSE_ID] == "resp-g1"
    assert attrs[sc.GEN_AI_RESPONSE_FINISH_REASONS] == ("STOP",)
    assert attrs[sc.GEN_AI_USAGE_COST] == pytest.approx(((1200 - 1024) * 1.0 + 1024 * 0.5 + 100 * 2.0) / 1e6)
    if chunks is not None:
        assert attrs[sc.OTEL_LLM_STREAM_CHUNKS] == chunks
    (tokens,) = [p for p in cap.metrics()[sc.METRIC_TOKEN_USAGE] if p.attributes[sc.GEN_AI_TOKEN_TYPE] == "output"]
    assert (tokens.count, tokens.sum) == (1, 100)


def test_gemini_generate_content(cap):
    client = gemini_client()

    @otel_llm.llm_call(model="gemini-2.5-flash", provider="gcp.gemini")
    def ask() -> Any:
        return client.models.generate_content(model="gemini-2.5-flash", contents="hi")

    assert ask().text == "Hello!"
    _assert_gemini(cap)


async def test_gemini_async_generate_content(cap):
    client = gemini_client()

    @otel_llm.llm_call(model="gemini-2.5-flash", provider="gcp.gemini")
    async def ask() -> Any:
        return await client.aio.models.generate_content(model="gemini-2.5-flash", contents="hi")

    assert (await ask()).text == "Hello!"
    _assert_gemini(cap)


def test_gemini_stream_usage_from_its_last_chunk(cap):
    client = gemini_client()

    @otel_llm.llm_call(model="gemini-2.5-flash", provider="gcp.gemini")
    def ask() -> Any:
        return client.models.generate_content_stream(model="gemini-2.5-flash", contents="hi")

    assert "".join(chunk.text for chunk in ask()) == "Hello!"
    _assert_gemini(cap, chunks=3)


async def test_gemini_async_stream_usage_from_its_last_chunk(cap):
    client = gemini_client()

    @otel_llm.llm_call(model="gemini-2.5-flash", provider="gcp.gemini")
    def ask() -> Any:  # returns client.aio's coroutine: the span covers its awaiting and the stream
        return client.aio.models.generate_content_stream(model="gemini-2.5-flash", contents="hi")

    assert "".join([chunk.text async for chunk in await ask()]) == "Hello!"
    _assert_gemini(cap, chunks=3)


def test_gemini_stream_whose_last_chunk_has_no_usage_keeps_the_last_counts(cap):
    """A last chunk without ``usage_metadata`` (a trailing chunk) does not lose the totals before it."""
    client = gemini_client()  # kept: a dropped client closes its connection
    response = client.models.generate_content(model="gemini-2.5-flash", contents="hi")
    tail = response.model_copy(update={"usage_metadata": None})

    @otel_llm.llm_call(model="gemini-2.5-flash", provider="gcp.gemini")
    def ask() -> Any:
        yield from (response, tail)

    list(ask())
    _assert_gemini(cap, chunks=2)


def test_gemini_dumped_response_dict_reads_alike():
    """``response.model_dump()`` (snake_case dict): the same usage as the object."""
    client = gemini_client()  # kept: a dropped client closes its connection
    response = client.models.generate_content(model="gemini-2.5-flash", contents="hi")
    expected = Usage(1200, 100, 1024, None, 60, "gemini-2.5-flash", "resp-g1", ("STOP",))
    assert extract_usage(response) == expected
    assert extract_usage(response.model_dump()) == expected


def test_gemini_planned_read_equals_probing():
    """google-genai's response class is read through its per-class plan; the generic reader agrees."""
    client = gemini_client()
    response = client.models.generate_content(model="gemini-2.5-flash", contents="hi")
    assert _usage._plan(type(response)) is not None
    planned = _usage.extract_usage(response)
    assert planned is not None and planned == _usage_by_probing(response)


def _gemini_rest(path: str) -> httpx.Response:
    """The app's own call of Gemini's REST API (no google-genai): httpx against the same API."""
    http = httpx.Client(transport=httpx.MockTransport(_gemini_handler))
    return http.post(f"https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:{path}",
                     json={"contents": [{"parts": [{"text": "hi"}]}]})


def test_gemini_rest_json_dict(cap):
    """The REST API's camelCase JSON (``usageMetadata``, ``modelVersion``...) returned as a dict is read."""

    @otel_llm.llm_call(model="gemini-2.5-flash", provider="gcp.gemini")
    def ask() -> dict[str, Any]:
        return _gemini_rest("generateContent").json()

    assert ask()["candidates"][0]["content"]["parts"][0]["text"] == "Hello!"
    _assert_gemini(cap)


def test_gemini_rest_sse_chunks(cap):
    """The REST API's SSE stream, each ``data:`` line parsed to a dict and yielded: the last usage is the total."""

    @otel_llm.llm_call(model="gemini-2.5-flash", provider="gcp.gemini")
    def ask() -> Iterator[dict[str, Any]]:
        for line in _gemini_rest("streamGenerateContent?alt=sse").iter_lines():
            if line.startswith("data: "):
                yield json.loads(line[len("data: "):])

    assert "".join(c["candidates"][0]["content"]["parts"][0]["text"] for c in ask()) == "Hello!"
    _assert_gemini(cap, chunks=3)


def test_gemini_camel_case_dict_reads_as_the_response_object():
    """``model_dump(by_alias=True)`` / the REST JSON: the same usage as google-genai's object."""
    client = gemini_client()  # kept: a dropped client closes its connection
    response = client.models.generate_content(model="gemini-2.5-flash", contents="hi")
    camel = response.model_dump(by_alias=True, exclude_none=True)
    assert "usageMetadata" in camel
    assert extract_usage(camel) == extract_usage(response)
    assert extract_usage(camel["usageMetadata"]) == extract_usage(response.usage_metadata)


# --- Bedrock Converse -------------------------------------------------------------------------

BEDROCK_USAGE = {"inputTokens": 100, "outputTokens": 40, "totalTokens": 840,
                 "cacheReadInputTokens": 500, "cacheWriteInputTokens": 200}


def _event_header(name: str, value: str) -> bytes:
    key, text = name.encode(), value.encode()
    return struct.pack("B", len(key)) + key + b"\x07" + struct.pack(">H", len(text)) + text  # 7: string


def _event(kind: str, payload: dict[str, Any]) -> bytes:
    """One message of AWS's binary event stream (``application/vnd.amazon.eventstream``)."""
    headers = b"".join(_event_header(k, v) for k, v in (
        (":event-type", kind), (":content-type", "application/json"), (":message-type", "event")))
    body = json.dumps(payload).encode()
    prelude = struct.pack(">II", 16 + len(headers) + len(body), len(headers))
    message = prelude + struct.pack(">I", binascii.crc32(prelude)) + headers + body
    return message + struct.pack(">I", binascii.crc32(message))


class _RawBody:
    """The raw body botocore reads a response from."""

    closed: list["_RawBody"] = []

    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, amt: int | None = None, decode_content: bool | None = None) -> Iterator[bytes]:
        yield self.read()

    def read(self, amt: int | None = None) -> bytes:
        data, self._data = self._data, b""
        return data

    def close(self) -> None:
        _RawBody.closed.append(self)


# InvokeModel (Anthropic's own body on Bedrock): the counts Bedrock puts in the headers, excluding the cache.
INVOKE_HEADERS = {
    "content-type": "application/json", "X-Amzn-Bedrock-Input-Token-Count": "100",
    "X-Amzn-Bedrock-Output-Token-Count": "40", "X-Amzn-Bedrock-Cache-Read-Input-Token-Count": "500",
    "X-Amzn-Bedrock-Cache-Write-Input-Token-Count": "200", "X-Amzn-Bedrock-Invocation-Latency": "12",
}
INVOKE_BODY = {
    "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-3-5-sonnet-20240620",
    "content": [{"type": "text", "text": "Hello!"}], "stop_reason": "end_turn",
    "usage": {"input_tokens": 100, "output_tokens": 40, "cache_read_input_tokens": 500,
              "cache_creation_input_tokens": 200},
}
INVOKE_STREAM_EVENTS = [
    {"type": "message_start", "message": {"id": "msg_1", "model": "claude-3-5-sonnet-20240620",
                                          "usage": {"input_tokens": 100, "output_tokens": 1}}},
    {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hel"}},
    {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "lo!"}},
    {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 40}},
    {"type": "message_stop", "amazon-bedrock-invocationMetrics": {
        "inputTokenCount": 100, "outputTokenCount": 40, "invocationLatency": 12, "firstByteLatency": 5,
        "cacheReadInputTokenCount": 500, "cacheWriteInputTokenCount": 200}},
]


def _invoke_chunk(payload: dict[str, Any]) -> bytes:
    """One ``chunk`` event of InvokeModelWithResponseStream: the model's JSON, base64 in the event's JSON."""
    return _event("chunk", {"bytes": base64.b64encode(json.dumps(payload).encode()).decode()})


def _bedrock_send(request: Any, **_: Any) -> AWSResponse:
    if request.url.endswith("/invoke"):
        return AWSResponse(request.url, 200, INVOKE_HEADERS, _RawBody(json.dumps(INVOKE_BODY).encode()))
    if request.url.endswith("/invoke-with-response-stream"):
        data = b"".join(_invoke_chunk(e) for e in INVOKE_STREAM_EVENTS)
        return AWSResponse(request.url, 200, {"content-type": "application/vnd.amazon.eventstream"}, _RawBody(data))
    if request.url.endswith("/converse-stream"):
        data = b"".join([
            _event("messageStart", {"role": "assistant"}),
            _event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "Hello!"}}),
            _event("contentBlockStop", {"contentBlockIndex": 0}),
            _event("messageStop", {"stopReason": "end_turn"}),
            _event("metadata", {"usage": BEDROCK_USAGE, "metrics": {"latencyMs": 12}}),
        ])
        return AWSResponse(request.url, 200, {"content-type": "application/vnd.amazon.eventstream"}, _RawBody(data))
    body = {"output": {"message": {"role": "assistant", "content": [{"text": "Hello!"}]}},
            "stopReason": "end_turn", "usage": BEDROCK_USAGE, "metrics": {"latencyMs": 12}}
    return AWSResponse(request.url, 200, {"content-type": "application/json"}, _RawBody(json.dumps(body).encode()))


def bedrock_client() -> Any:
    client = boto3.client("bedrock-runtime", region_name="us-east-1",
                          aws_access_key_id="test", aws_secret_access_key="test")
    client.meta.events.register("before-send.bedrock-runtime.*", _bedrock_send)
    return client


MESSAGES = [{"role": "user", "content": [{"text": "hi"}]}]


def _assert_bedrock(cap: Capture, finish: str | None = "end_turn") -> None:
    """Bedrock's counts (Converse's, or InvokeModel's: its stop reason, ``finish=None``, is in the body, not read)."""
    attrs = _llm_span(cap).attributes
    assert attrs[sc.GEN_AI_USAGE_INPUT_TOKENS] == 800  # inputTokens excludes the cache: 100 + 500 + 200
    assert attrs[sc.GEN_AI_USAGE_OUTPUT_TOKENS] == 40
    assert attrs[sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == 500
    assert attrs[sc.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] == 200
    assert attrs.get(sc.GEN_AI_RESPONSE_FINISH_REASONS) == ((finish,) if finish else None)
    assert attrs[sc.GEN_AI_USAGE_COST] == pytest.approx((100 * 1.0 + 500 * 0.5 + 200 * 1.5 + 40 * 2.0) / 1e6)
    (tokens,) = [p for p in cap.metrics()[sc.METRIC_TOKEN_USAGE] if p.attributes[sc.GEN_AI_TOKEN_TYPE] == "input"]
    assert (tokens.count, tokens.sum) == (1, 800)


def test_bedrock_converse(cap):
    client = bedrock_client()

    @otel_llm.llm_call(model=BEDROCK_MODEL, provider="aws.bedrock")
    def ask() -> Any:
        return client.converse(modelId=BEDROCK_MODEL, messages=MESSAGES)

    assert ask()["output"]["message"]["content"][0]["text"] == "Hello!"
    _assert_bedrock(cap)


def test_bare_llm_call_around_boto3_converse_takes_the_model_from_model_id(cap):
    """Converse's response names no model: a bare ``@llm_call`` reads the one asked for from ``modelId=``."""
    converse = otel_llm.llm_call(bedrock_client().converse)  # the client's own method, decorated
    assert converse(modelId=BEDROCK_MODEL, messages=MESSAGES)["stopReason"] == "end_turn"
    span = _llm_span(cap)
    assert span.name == f"chat {BEDROCK_MODEL}"
    assert span.attributes[sc.GEN_AI_REQUEST_MODEL] == BEDROCK_MODEL
    _assert_bedrock(cap)
    (tokens,) = [p for p in cap.metrics()[sc.METRIC_TOKEN_USAGE] if p.attributes[sc.GEN_AI_TOKEN_TYPE] == "input"]
    assert tokens.attributes[sc.GEN_AI_REQUEST_MODEL] == BEDROCK_MODEL


def test_bare_llm_call_takes_the_model_from_a_parameter_named_model(cap):
    """The app's own function, its model passed by position: read by the parameter's name."""
    client = bedrock_client()

    @otel_llm.llm_call
    def ask(model: str, messages: list[Any]) -> Any:
        return client.converse(modelId=model, messages=messages)

    ask(BEDROCK_MODEL, MESSAGES)
    assert _llm_span(cap).attributes[sc.GEN_AI_REQUEST_MODEL] == BEDROCK_MODEL
    _assert_bedrock(cap)


def test_a_decorators_model_wins_over_the_model_argument(cap):
    client = bedrock_client()

    @otel_llm.llm_call(model=BEDROCK_MODEL)
    def ask(model: str) -> Any:
        return client.converse(modelId=BEDROCK_MODEL, messages=MESSAGES)

    ask(model="an-alias")
    assert _llm_span(cap).attributes[sc.GEN_AI_REQUEST_MODEL] == BEDROCK_MODEL


def test_bedrock_converse_stream_usage_from_its_metadata_event(cap):
    client = bedrock_client()

    @otel_llm.llm_call(model=BEDROCK_MODEL, provider="aws.bedrock")
    def ask() -> Any:
        yield from client.converse_stream(modelId=BEDROCK_MODEL, messages=MESSAGES)["stream"]

    text = "".join(e["contentBlockDelta"]["delta"]["text"] for e in ask() if "contentBlockDelta" in e)
    assert text == "Hello!"
    _assert_bedrock(cap)
    assert _llm_span(cap).attributes[sc.OTEL_LLM_STREAM_CHUNKS] == 5


@pytest.mark.parametrize("operation, key, finish", [
    ("converse_stream", "stream", "end_turn"), ("invoke_model_with_response_stream", "body", None),
])
def test_bedrock_stream_returned_as_boto3_gives_it(cap, operation, key, finish):
    """``return client.converse_stream(...)`` (or ``invoke_model_with_response_stream``): the span covers the
    dict's ``stream`` (``body``), where the usage arrives (the ``metadata`` event, the last chunk's metrics)."""
    client = bedrock_client()
    request = {"messages": MESSAGES} if operation == "converse_stream" else {"body": INVOKE_REQUEST}

    @otel_llm.llm_call(model=BEDROCK_MODEL, provider="aws.bedrock")
    def ask() -> Any:
        return getattr(client, operation)(modelId=BEDROCK_MODEL, **request)

    response = ask()
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert not [s for s in cap.spans() if s.attributes.get(sc.OTEL_LLM_KIND) == sc.KIND_LLM_CALL]  # still open
    events = list(response[key])
    if key == "stream":
        assert [next(iter(e)) for e in events] == [
            "messageStart", "contentBlockDelta", "contentBlockStop", "messageStop", "metadata"]
    else:
        assert [json.loads(e["chunk"]["bytes"]) for e in events] == INVOKE_STREAM_EVENTS
    _assert_bedrock(cap, finish)
    assert _llm_span(cap).attributes[sc.OTEL_LLM_STREAM_CHUNKS] == 5
    assert _llm_span(cap).attributes[sc.OTEL_LLM_STREAM_COMPLETE] is True


def test_bedrock_event_stream_returned_alone(cap):
    client = bedrock_client()

    @otel_llm.llm_call(model=BEDROCK_MODEL, provider="aws.bedrock")
    def ask() -> Any:
        return client.converse_stream(modelId=BEDROCK_MODEL, messages=MESSAGES)["stream"]

    stream = ask()
    assert len(list(stream)) == 5
    _assert_bedrock(cap)
    _RawBody.closed.clear()
    stream.close()  # the EventStream's own close (of its HTTP body), through the proxy
    assert len(_RawBody.closed) == 1


INVOKE_REQUEST = json.dumps({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 100,
                             "messages": [{"role": "user", "content": "hi"}]})


def test_bedrock_invoke_model_tokens_from_its_headers_body_left_unread(cap):
    client = bedrock_client()

    @otel_llm.llm_call(model=BEDROCK_MODEL, provider="aws.bedrock")
    def ask() -> Any:
        return client.invoke_model(modelId=BEDROCK_MODEL, body=INVOKE_REQUEST)

    response = ask()
    _assert_bedrock(cap, finish=None)
    assert json.loads(response["body"].read()) == INVOKE_BODY  # the app's body: still all there


async def test_bedrock_invoke_model_from_an_async_function(cap):
    """aioboto3-style: an ``async def`` awaiting a client that returns the same dict."""
    client = bedrock_client()

    @otel_llm.llm_call(model=BEDROCK_MODEL, provider="aws.bedrock")
    async def ask() -> Any:
        return await asyncio.to_thread(client.invoke_model, modelId=BEDROCK_MODEL, body=INVOKE_REQUEST)

    response = await ask()
    _assert_bedrock(cap, finish=None)
    assert json.loads(response["body"].read()) == INVOKE_BODY


def test_bedrock_invoke_model_header_that_is_not_a_count_is_dropped_and_named(cap):
    client = bedrock_client()

    @otel_llm.llm_call(model=BEDROCK_MODEL, provider="aws.bedrock")
    def ask() -> Any:
        response = client.invoke_model(modelId=BEDROCK_MODEL, body=INVOKE_REQUEST)
        response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-bedrock-output-token-count"] = "4x"
        return response

    ask()
    attrs = _llm_span(cap).attributes
    assert attrs[sc.GEN_AI_USAGE_INPUT_TOKENS] == 800
    assert sc.GEN_AI_USAGE_OUTPUT_TOKENS not in attrs
    assert attrs[sc.OTEL_LLM_USAGE_DROPPED] == ("output_tokens",)


def test_bedrock_invoke_stream_chunks_yielded_by_a_generator(cap):
    client = bedrock_client()

    @otel_llm.llm_call(model=BEDROCK_MODEL, provider="aws.bedrock")
    def ask() -> Any:
        yield from client.invoke_model_with_response_stream(modelId=BEDROCK_MODEL, body=INVOKE_REQUEST)["body"]

    assert len(list(ask())) == 5
    _assert_bedrock(cap, finish=None)


def test_bedrock_llama_body_returned_as_a_dict(cap):
    """Meta Llama's InvokeModel body (``prompt_token_count``, ``generation_token_count``), parsed and returned:
    both counts read (its prompt count is not Gemini's, whose output is ``candidates_token_count``)."""
    body = {"generation": "Hello!", "prompt_token_count": 12, "generation_token_count": 3, "stop_reason": "stop"}

    @otel_llm.llm_call(model="meta.llama3-70b-instruct-v1:0", provider="aws.bedrock")
    def ask() -> dict[str, Any]:
        return dict(body)

    assert ask() == body
    attrs = _llm_span(cap).attributes
    assert (attrs[sc.GEN_AI_USAGE_INPUT_TOKENS], attrs[sc.GEN_AI_USAGE_OUTPUT_TOKENS]) == (12, 3)
    assert attrs[sc.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)


def test_a_dict_result_with_another_stream_key_is_a_result(cap):
    @otel_llm.llm_call(model=BEDROCK_MODEL, provider="aws.bedrock")
    def ask() -> Any:
        return {"stream": [1, 2], "usage": {"inputTokens": 3, "outputTokens": 4}}

    assert ask() == {"stream": [1, 2], "usage": {"inputTokens": 3, "outputTokens": 4}}
    assert _llm_span(cap).attributes[sc.GEN_AI_USAGE_INPUT_TOKENS] == 3


@pytest.mark.parametrize("provider", ["aws.bedrock", None], ids=["aws.bedrock", "no-provider"])
@pytest.mark.parametrize("model", [
    "anthropic.claude-3-5-sonnet-20240620-v1:0", "us.anthropic.claude-3-5-sonnet-20240620-v1:0",
    "eu.anthropic.claude-3-5-sonnet-20240620-v1:0",
])
def test_bedrock_model_ids_get_their_models_price(model, provider):
    """genai-prices' AWS prices: a Bedrock model id (with or without its region prefix) is priced as its
    model, also when the call names no provider (the id says it is Bedrock's)."""
    book = PriceBook.load(None)
    bedrock = book.rates(model, provider)
    anthropic = book.rates("claude-3-5-sonnet-20240620", "anthropic")
    assert bedrock is not None and anthropic is not None
    assert (bedrock.input, bedrock.output) == (anthropic.input, anthropic.output)


# --- streamed completion text, with capture on ------------------------------------------------


_KEPT: list[Any] = []  # clients kept while their streams are read: a dropped google-genai client closes


def _gemini_stream() -> Any:
    _KEPT.append(gemini_client())
    return _KEPT[-1].models.generate_content_stream(model="gemini-2.5-flash", contents="hi")


def _gemini_rest_stream() -> Iterator[dict[str, Any]]:
    for line in _gemini_rest("streamGenerateContent?alt=sse").iter_lines():
        if line.startswith("data: "):
            yield json.loads(line[len("data: "):])


def _converse_stream() -> Any:
    return bedrock_client().converse_stream(modelId=BEDROCK_MODEL, messages=MESSAGES)


def _invoke_stream() -> Any:
    return bedrock_client().invoke_model_with_response_stream(modelId=BEDROCK_MODEL, body=INVOKE_REQUEST)


@pytest.mark.parametrize("stream", [_gemini_stream, _gemini_rest_stream, _converse_stream, _invoke_stream],
                         ids=["gemini", "gemini-rest", "bedrock-converse", "bedrock-invoke"])
@pytest.mark.parametrize("capture_content", [True, False], ids=["capture", "no-capture"])
def test_streamed_completion_text_is_captured_and_redacted(stream, capture_content):
    """With capture on, a Gemini or Bedrock stream's text is the captured completion, through the redact hook;
    off (the default), no completion is recorded."""
    with Capture(pricing=PRICING, capture_content=capture_content, redact=lambda t: t.replace("lo", "**")) as cap:

        @otel_llm.llm_call(model=BEDROCK_MODEL, provider="x")
        def ask() -> Any:
            return stream()

        response = ask()
        for _ in response["stream"] if isinstance(response, dict) and "stream" in response else (
                response["body"] if isinstance(response, dict) else response):
            pass
        span = _llm_span(cap)
    replies = [e.attributes[sc.EVENT_ATTR_CONTENT] for e in span.events if e.name == sc.EVENT_LLM_RESPONSE]
    assert replies == (["Hel**!"] if capture_content else [])


def test_gemini_thought_parts_are_not_completion_text(cap_content):
    """A Gemini part marked ``thought`` is the model's reasoning, not the completion."""
    chunk = {"candidates": [{"content": {"parts": [{"text": "pondering", "thought": True}, {"text": "Hi"}]}}],
             "modelVersion": "gemini-2.5-flash"}

    @otel_llm.llm_call(model="gemini-2.5-flash", provider="gcp.gemini")
    def ask() -> Iterator[dict[str, Any]]:
        yield chunk

    list(ask())
    (span,) = cap_content.spans()
    assert [e.attributes[sc.EVENT_ATTR_CONTENT] for e in span.events if e.name == sc.EVENT_LLM_RESPONSE] == ["Hi"]


# --- aioboto3 (aiobotocore) streams ---------------------------------------------------------------
# aiobotocore is not a dependency here: its ``AioEventStream`` is rebuilt below as aiobotocore
# defines it (a botocore ``EventStream`` subclass whose ``__aiter__`` returns the async generator
# its ``__anext__`` makes), over the event stream botocore itself parses.


class AioEventStream(botocore.eventstream.EventStream):
    """aiobotocore's ``AioEventStream``, as aiobotocore writes it."""

    async def _create_raw_event_generator(self) -> Any:
        buffer = botocore.eventstream.EventStreamBuffer()
        async for chunk, _ in self._raw_stream.content.iter_chunks():
            buffer.add_data(chunk)
            for event in buffer:
                yield event

    def __iter__(self) -> Any:
        raise NotImplementedError("Use async-for instead")

    def __aiter__(self) -> Any:
        return self.__anext__()

    async def __anext__(self) -> Any:  # an async generator, as in aiobotocore
        async for event in self._event_generator:
            parsed_event = self._parse_event(event)
            if parsed_event:
                yield parsed_event


AioEventStream.__module__ = "aiobotocore.eventstream"


class _AiohttpContent:
    """aiohttp's ``StreamReader`` as aiobotocore reads it: ``iter_chunks()`` of (bytes, end of chunk)."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    async def iter_chunks(self) -> Any:
        yield self._data, True


async def _aio_converse_stream() -> dict[str, Any]:
    """What aioboto3's ``await client.converse_stream(...)`` returns: boto3's dict, its stream an AioEventStream."""
    response = bedrock_client().converse_stream(modelId=BEDROCK_MODEL, messages=MESSAGES)
    sync = response["stream"]
    data = b"".join([
        _event("messageStart", {"role": "assistant"}),
        _event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "Hello!"}}),
        _event("messageStop", {"stopReason": "end_turn"}),
        _event("metadata", {"usage": BEDROCK_USAGE, "metrics": {"latencyMs": 12}}),
    ])
    raw = type("AiohttpResponse", (), {"content": _AiohttpContent(data)})()
    response["stream"] = AioEventStream(raw, sync._output_shape, sync._parser, sync._operation_name)
    return response


async def test_aioboto3_converse_stream_returned_alone(cap):
    """``return (await client.converse_stream(...))["stream"]``: iterated with ``async for`` as without otel-llm."""

    @otel_llm.llm_call(model=BEDROCK_MODEL, provider="aws.bedrock")
    async def ask() -> Any:
        return (await _aio_converse_stream())["stream"]

    events = [e async for e in await ask()]
    assert [next(iter(e)) for e in events] == ["messageStart", "contentBlockDelta", "messageStop", "metadata"]
    _assert_bedrock(cap)


async def test_aioboto3_converse_stream_returned_as_it_gives_it(cap):
    @otel_llm.llm_call(model=BEDROCK_MODEL, provider="aws.bedrock")
    async def ask() -> Any:
        return await _aio_converse_stream()

    response = await ask()
    assert len([e async for e in response["stream"]]) == 4
    _assert_bedrock(cap)
    assert _llm_span(cap).attributes[sc.OTEL_LLM_STREAM_CHUNKS] == 4


@pytest.mark.parametrize("call", [
    lambda: _KEPT[-1].models.generate_content(model="gemini-2.5-flash", contents="hi"),
    lambda: _gemini_rest("generateContent").json(),
    lambda: bedrock_client().converse(modelId=BEDROCK_MODEL, messages=MESSAGES),
], ids=["gemini", "gemini-rest", "bedrock-converse"])
def test_completion_text_is_captured_not_the_whole_response(cap_content, call):
    """With capture on, a Gemini or Bedrock Converse response's completion is its text, as an OpenAI one's is."""
    _KEPT.append(gemini_client())

    @otel_llm.llm_call(model=BEDROCK_MODEL, provider="x")
    def ask() -> Any:
        return call()

    ask()
    (span,) = cap_content.spans()
    assert [e.attributes[sc.EVENT_ATTR_CONTENT] for e in span.events if e.name == sc.EVENT_LLM_RESPONSE] == ["Hello!"]
