"""Usage extraction: every provider shape, as objects and as dicts; never raises."""

from __future__ import annotations

from types import SimpleNamespace as NS
from typing import Any

import pytest

import otel_llm
from otel_llm import semconv as sc

from otel_llm._usage import Usage, extract_usage


def ns(value: Any) -> Any:
    """The same data as attribute objects (how provider SDKs hand it back)."""
    if isinstance(value, dict):
        return NS(**{k: ns(v) for k, v in value.items()})
    if isinstance(value, list):
        return [ns(v) for v in value]
    return value


OPENAI_CHAT = {
    "id": "chatcmpl-1", "model": "gpt-4o-2024-08-06",
    "choices": [{"index": 0, "finish_reason": "stop"}, {"index": 1, "finish_reason": "length"}],
    "usage": {"prompt_tokens": 1000, "completion_tokens": 200, "total_tokens": 1200,
              "prompt_tokens_details": {"cached_tokens": 400},
              "completion_tokens_details": {"reasoning_tokens": 50}},
}
OPENAI_RESPONSES = {
    "id": "resp_1", "model": "o4-mini", "status": "completed",
    "usage": {"input_tokens": 900, "output_tokens": 300,
              "input_tokens_details": {"cached_tokens": 100},
              "output_tokens_details": {"reasoning_tokens": 120}},
}
ANTHROPIC = {
    "id": "msg_1", "type": "message", "model": "claude-sonnet-4-5", "stop_reason": "end_turn",
    "usage": {"input_tokens": 100, "output_tokens": 40,
              "cache_read_input_tokens": 500, "cache_creation_input_tokens": 200},
}
LANGCHAIN_MESSAGE = {
    "id": "run-1", "content": "hi",
    "response_metadata": {"model_name": "gpt-4o-mini", "finish_reason": "stop"},
    "usage_metadata": {"input_tokens": 700, "output_tokens": 80, "total_tokens": 780,
                       "input_token_details": {"cache_read": 300, "cache_creation": 20},
                       "output_token_details": {"reasoning": 10}},
}
# google-genai's response as ``model_dump()`` gives it (its objects: tests/sdk/test_gemini_bedrock_usage.py).
GEMINI = {
    "response_id": "g-1", "model_version": "gemini-2.5-pro",
    "candidates": [{"index": 0, "finish_reason": "STOP"}, {"index": 1, "finish_reason": "MAX_TOKENS"}],
    "usage_metadata": {"prompt_token_count": 1000, "candidates_token_count": 200, "thoughts_token_count": 50,
                       "cached_content_token_count": 400, "tool_use_prompt_token_count": 30,
                       "total_token_count": 1280},
}
# boto3's bedrock-runtime converse() result: camelCase, input excludes the cache.
BEDROCK = {
    "output": {"message": {"role": "assistant", "content": [{"text": "hi"}]}}, "stopReason": "max_tokens",
    "usage": {"inputTokens": 100, "outputTokens": 40, "totalTokens": 840,
              "cacheReadInputTokens": 500, "cacheWriteInputTokens": 200},
}
# Ollama's own API (/api/chat, /api/generate; its python client's ChatResponse alike): counts at the top.
OLLAMA = {
    "model": "llama3.2", "created_at": "2026-01-01T00:00:00Z", "message": {"role": "assistant", "content": "hi"},
    "done": True, "done_reason": "stop", "total_duration": 5_000_000, "prompt_eval_count": 26, "eval_count": 298,
}
OPENAI_CHUNK_MID = {"id": "c1", "model": "gpt-4o", "choices": [{"index": 0, "delta": {"content": "x"},
                                                                   "finish_reason": None}]}
OPENAI_CHUNK_FINISH = {"id": "c1", "model": "gpt-4o", "choices": [{"index": 0, "delta": {},
                                                                      "finish_reason": "stop"}]}
OPENAI_CHUNK_USAGE = {"id": "c1", "model": "gpt-4o", "choices": [],
                      "usage": {"prompt_tokens": 12, "completion_tokens": 34}}
ANTHROPIC_START = {"type": "message_start", "message": {"id": "msg_2", "model": "claude-haiku-4-5",
                   "usage": {"input_tokens": 10, "output_tokens": 1, "cache_read_input_tokens": 90}}}
ANTHROPIC_DELTA = {"type": "message_delta", "delta": {"stop_reason": "max_tokens"},
                   "usage": {"output_tokens": 77}}

TABLE = [
    ("openai-chat", OPENAI_CHAT, Usage(1000, 200, 400, None, 50, "gpt-4o-2024-08-06", "chatcmpl-1",
                                       ("stop", "length"))),
    ("openai-responses", OPENAI_RESPONSES, Usage(900, 300, 100, None, 120, "o4-mini", "resp_1", ())),
    # Anthropic input excludes cache: normalised to 100 + 500 + 200.
    ("anthropic", ANTHROPIC, Usage(800, 40, 500, 200, None, "claude-sonnet-4-5", "msg_1", ("end_turn",))),
    ("langchain-message", LANGCHAIN_MESSAGE, Usage(700, 80, 300, 20, 10, "gpt-4o-mini", "run-1", ("stop",))),
    ("langchain-usage-metadata", LANGCHAIN_MESSAGE["usage_metadata"], Usage(700, 80, 300, 20, 10)),
    ("bare-openai-usage", OPENAI_CHAT["usage"], Usage(1000, 200, 400, None, 50)),
    ("bare-anthropic-usage", ANTHROPIC["usage"], Usage(800, 40, 500, 200)),
    ("bare-input-output", {"input_tokens": 5, "output_tokens": 6}, Usage(5, 6)),
    # Gemini: input = prompt (cache included) + tool-use prompt; output = candidates + thoughts.
    ("gemini", GEMINI, Usage(1030, 250, 400, None, 50, "gemini-2.5-pro", "g-1", ("STOP", "MAX_TOKENS"))),
    ("gemini-usage-metadata", GEMINI["usage_metadata"], Usage(1030, 250, 400, None, 50)),
    ("gemini-thoughts-only", {"usage_metadata": {"prompt_token_count": 7, "thoughts_token_count": 9}},
     Usage(7, 9, reasoning_tokens=9)),
    # Bedrock Converse: inputTokens excludes the cache, normalised to 100 + 500 + 200.
    ("bedrock-converse", BEDROCK, Usage(800, 40, 500, 200, finish_reasons=("max_tokens",))),
    ("bare-bedrock-usage", BEDROCK["usage"], Usage(800, 40, 500, 200)),
    ("ollama", OLLAMA, Usage(26, 298, response_model="llama3.2", finish_reasons=("stop",))),
    ("chunk-middle", OPENAI_CHUNK_MID, Usage(response_model="gpt-4o", response_id="c1")),
    ("chunk-finish", OPENAI_CHUNK_FINISH, Usage(response_model="gpt-4o", response_id="c1",
                                                finish_reasons=("stop",))),
    ("chunk-usage", OPENAI_CHUNK_USAGE, Usage(12, 34, response_model="gpt-4o", response_id="c1")),
    ("anthropic-message-start", ANTHROPIC_START, Usage(100, 1, 90, None, None, "claude-haiku-4-5", "msg_2")),
    ("anthropic-message-delta", ANTHROPIC_DELTA, Usage(None, 77, finish_reasons=("max_tokens",))),
]


@pytest.mark.parametrize(("shape", "value", "expected"), TABLE, ids=[t[0] for t in TABLE])
@pytest.mark.parametrize("as_object", [False, True], ids=["dict", "object"])
def test_extracts_every_shape(shape: str, value: Any, expected: Usage, as_object: bool) -> None:
    assert extract_usage(ns(value) if as_object else value) == expected


def test_stream_chunks_fold_with_merged() -> None:
    total = Usage()
    for chunk in (OPENAI_CHUNK_MID, OPENAI_CHUNK_FINISH, OPENAI_CHUNK_USAGE):
        found = extract_usage(chunk)
        if found is not None:
            total = total.merged(found)
    assert total == Usage(12, 34, response_model="gpt-4o", response_id="c1", finish_reasons=("stop",))


def test_anthropic_stream_events_fold() -> None:
    total = extract_usage(ANTHROPIC_START).merged(extract_usage(ANTHROPIC_DELTA))  # type: ignore[union-attr]
    assert (total.input_tokens, total.output_tokens, total.cache_read_tokens) == (100, 77, 90)
    assert total.finish_reasons == ("max_tokens",)


def test_merged_other_wins_only_where_known() -> None:
    a = Usage(input_tokens=1, output_tokens=2, response_model="m", finish_reasons=("stop",))
    b = Usage(output_tokens=9)
    assert a.merged(b) == Usage(1, 9, response_model="m", finish_reasons=("stop",))


class Hostile:
    def __getattr__(self, name: str) -> Any:
        raise RuntimeError("boom")


class Mockish:
    """Like unittest.mock.Mock: every attribute exists and is not a number."""

    def __getattr__(self, name: str) -> Any:
        return Mockish()


@pytest.mark.parametrize(
    "value",
    [None, "text", b"bytes", 42, 3.5, True, [], {}, {"usage": None}, {"usage": "12"},
     {"choices": "nope"}, object(), Hostile(), Mockish()],
    ids=lambda value: repr(value) if type(value).__repr__ is not object.__repr__ else type(value).__name__,
)  # an object's own repr names its address, which differs between the suite's xdist workers
def test_unknown_shapes_give_none_and_never_raise(value: Any) -> None:
    assert extract_usage(value) is None


@pytest.mark.parametrize(
    "value, dropped",
    [
        ({"usage": {"prompt_tokens": "many", "completion_tokens": -1}}, ("input_tokens", "output_tokens")),
        ({"usage": {"input_tokens": True}}, ("input_tokens",)),
        ({"usage_metadata": {"prompt_token_count": "many", "candidates_token_count": -1}},
         ("input_tokens", "output_tokens")),
        ({"usage": {"inputTokens": True, "outputTokens": 2**63}}, ("input_tokens", "output_tokens")),
        ({"usage_metadata": {"prompt_token_count": 2**63 - 1, "tool_use_prompt_token_count": 1}}, ("input_tokens",)),
    ],
    ids=repr,
)
def test_invalid_counts_give_no_count_but_say_so(value: Any, dropped: tuple[str, ...]) -> None:
    assert extract_usage(value) == Usage(dropped=dropped)


def test_partial_usage_keeps_known_fields() -> None:
    assert extract_usage({"usage": {"prompt_tokens": 7}}) == Usage(input_tokens=7)
    assert extract_usage({"usage": {"completion_tokens": 3.0}}) == Usage(output_tokens=3)


def test_langchain_chat_and_llm_results_are_read_from_their_llm_output(cap) -> None:
    """``BaseChatModel.generate()`` / ``_generate()`` return an ``LLMResult`` / ``ChatResult``: the
    provider's usage is in ``llm_output`` (langchain-openai's ``token_usage``, langchain-anthropic's
    ``usage``, cache excluded as Anthropic counts it)."""
    from langchain_core.messages import AIMessage
    from langchain_core.outputs import ChatGeneration, ChatResult, LLMResult

    generation = ChatGeneration(message=AIMessage(content="hi"))
    openai_like = LLMResult(generations=[[generation]], llm_output={
        "token_usage": {"prompt_tokens": 10, "completion_tokens": 3, "prompt_tokens_details": {"cached_tokens": 4}},
        "model_name": "test-model"})
    anthropic_like = ChatResult(generations=[generation], llm_output={
        "model": "claude-x", "usage": {"input_tokens": 5, "output_tokens": 2, "cache_read_input_tokens": 20}})

    found = extract_usage(openai_like)
    assert (found.input_tokens, found.output_tokens, found.cache_read_tokens, found.response_model) == (
        10, 3, 4, "test-model")
    found = extract_usage(anthropic_like)
    assert (found.input_tokens, found.output_tokens, found.cache_read_tokens, found.response_model) == (
        25, 2, 20, "claude-x")
    assert extract_usage(ChatResult(generations=[generation], llm_output=None)) is None

    otel_llm.llm_call(provider="openai")(lambda: openai_like)()
    attributes = cap.spans()[0].attributes
    assert (attributes[sc.GEN_AI_USAGE_INPUT_TOKENS], attributes[sc.GEN_AI_USAGE_COST]) == (
        10, pytest.approx((6 * 1 + 4 * 0.5 + 3 * 2) * 1e-6))
