"""OpenAI-compatible providers and gateways: what they add to OpenAI's usage is read.

DeepSeek, litellm (over Anthropic), OpenRouter and others answer in OpenAI's
chat completion shape, with their own extra fields on ``usage``. Each is read
from a dict, from attribute objects, and from a real ``openai`` object carrying
the extra fields (how the openai SDK hands a compatible provider's answer back:
its pydantic models keep unknown fields as extras).
"""

from __future__ import annotations

from typing import Any

import pytest
from openai.types import CompletionUsage
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from openai.types.completion_usage import PromptTokensDetails
from pydantic import BaseModel

import otel_llm
from otel_llm import semconv as sc

from otel_llm._completion import completion_text
from otel_llm._stream_usage import reader_for
from otel_llm._usage import Usage, extract_usage
from otel_llm.testing import Capture
from tests.sdk.test_usage import ns


def chat(usage: dict[str, Any], model: str = "deepseek-chat") -> dict[str, Any]:
    """A chat completion (one choice) with ``usage``."""
    return {
        "id": "cc-1", "object": "chat.completion", "created": 1, "model": model,
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "hi"}}],
        "usage": usage,
    }


def forms(value: dict[str, Any]) -> list[Any]:
    """``value`` as a dict, as attribute objects, and as the openai SDK's ChatCompletion (twice: its class's
    first object plans the class, the next is read along the plan)."""
    return [value, ns(value), ChatCompletion.model_validate(value), ChatCompletion.model_validate(value)]


# DeepSeek: prompt_tokens = prompt_cache_hit_tokens + prompt_cache_miss_tokens.
DEEPSEEK = chat({"prompt_tokens": 1300, "completion_tokens": 40, "total_tokens": 1340,
                 "prompt_cache_hit_tokens": 1000, "prompt_cache_miss_tokens": 300})


@pytest.mark.parametrize("value", forms(DEEPSEEK), ids=["dict", "object", "openai-first", "openai-planned"])
def test_deepseek_cache_hits_are_cache_reads(value: Any) -> None:
    assert extract_usage(value) == Usage(1300, 40, 1000, None, None, "deepseek-chat", "cc-1", ("stop",))


def test_deepseek_bare_usage_and_counts_without_prompt_tokens() -> None:
    assert extract_usage({"usage": {"prompt_tokens": 1300, "completion_tokens": 40,
                                    "prompt_cache_hit_tokens": 1000}}) == Usage(1300, 40, 1000)
    # Only the split given: the input is its sum.
    assert extract_usage({"prompt_cache_hit_tokens": 1000, "prompt_cache_miss_tokens": 300,
                          "completion_tokens": 40}) == Usage(1300, 40, 1000)


# litellm over Anthropic: its Usage (a subclass of openai's CompletionUsage) counts the cache in
# prompt_tokens (input 200 + cache reads 1000 + cache writes 300), reads in prompt_tokens_details,
# and keeps Anthropic's cache_creation_input_tokens / cache_read_input_tokens as extra fields.
class LiteLLMCacheCreationDetails(BaseModel):
    """litellm's ``CacheCreationTokenDetails``."""

    ephemeral_5m_input_tokens: int | None = None
    ephemeral_1h_input_tokens: int | None = None


class LiteLLMPromptDetails(PromptTokensDetails):
    """litellm's ``PromptTokensDetailsWrapper`` (its fields that matter here)."""

    text_tokens: int | None = None
    cache_creation_tokens: int | None = None
    cache_creation_token_details: LiteLLMCacheCreationDetails | None = None


class LiteLLMUsage(CompletionUsage):
    """litellm's ``Usage``: openai's class, its details wrapped; Anthropic's counts set as extras."""

    prompt_tokens_details: LiteLLMPromptDetails | None = None  # type: ignore[assignment]


class LiteLLMResponse(ChatCompletion):
    """litellm's ``ModelResponse``, as far as its usage goes."""

    usage: LiteLLMUsage | None = None  # type: ignore[assignment]


LITELLM_USAGE = {"prompt_tokens": 1500, "completion_tokens": 40, "total_tokens": 1540,
                 "prompt_tokens_details": {"cached_tokens": 1000, "cache_creation_tokens": 300},
                 "cache_creation_input_tokens": 300, "cache_read_input_tokens": 1000}
LITELLM = chat(LITELLM_USAGE, model="claude-sonnet-4-5-20250929")
LITELLM_EXPECTED = Usage(1500, 40, 1000, 300, None, "claude-sonnet-4-5-20250929", "cc-1", ("stop",))


@pytest.mark.parametrize(
    "value",
    [*forms(LITELLM), LiteLLMResponse.model_validate(LITELLM), LiteLLMResponse.model_validate(LITELLM)],
    ids=["dict", "object", "openai-first", "openai-planned", "litellm-first", "litellm-planned"],
)
def test_litellm_anthropic_cache_writes_are_cache_writes(value: Any) -> None:
    assert extract_usage(value) == LITELLM_EXPECTED


@pytest.mark.parametrize("usage", [
    {k: v for k, v in LITELLM_USAGE.items() if k != "cache_creation_input_tokens"},  # in the details only
    {k: v for k, v in LITELLM_USAGE.items() if k != "prompt_tokens_details"},  # top level only
], ids=["details", "top-level"])
def test_litellm_cache_counts_wherever_it_puts_them(usage: dict[str, Any]) -> None:
    assert extract_usage(LiteLLMUsage.model_validate(usage)) == Usage(1500, 40, 1000, 300)
    assert extract_usage({"usage": usage}) == Usage(1500, 40, 1000, 300)


def _groq_chunks() -> list[dict[str, Any]]:
    """A Groq stream: the usage on the last chunk's ``x_groq`` (its own ``usage`` absent)."""
    base = {"id": "chatcmpl-g", "object": "chat.completion.chunk", "created": 1, "model": "llama-3.1-8b-instant"}
    return [
        {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": "hi"}, "finish_reason": None}],
         "x_groq": {"id": "req_1"}},
        {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
         "x_groq": {"id": "req_1", "usage": {"prompt_tokens": 40, "completion_tokens": 9, "total_tokens": 49,
                                             "queue_time": 0.01, "prompt_time": 0.002}}},
    ]


@pytest.mark.parametrize("as_openai", [False, True], ids=["dict", "openai-chunks"])
def test_groq_stream_usage_in_x_groq_is_read(as_openai: bool) -> None:
    chunks: list[Any] = _groq_chunks()
    if as_openai:
        chunks = [ChatCompletionChunk.model_validate(c) for c in chunks]
    reader = reader_for(chunks[0])
    for chunk in chunks:
        reader(chunk)
    assert reader.result() == Usage(40, 9, response_model="llama-3.1-8b-instant", response_id="chatcmpl-g",
                                    finish_reasons=("stop",))


# mistralai (v1): its stream yields CompletionEvent objects whose ``data`` is the chunk, OpenAI-shaped.
class MistralUsageInfo(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class MistralDelta(BaseModel):
    role: str | None = None
    content: str | None = None


class MistralChoice(BaseModel):
    index: int
    delta: MistralDelta
    finish_reason: str | None = None


class MistralChunk(BaseModel):
    id: str
    object: str | None = None
    created: int | None = None
    model: str
    usage: MistralUsageInfo | None = None
    choices: list[MistralChoice]


class MistralEvent(BaseModel):
    """mistralai's ``CompletionEvent``."""

    data: MistralChunk


def _mistral_events() -> list[MistralEvent]:
    def event(**fields: Any) -> MistralEvent:
        return MistralEvent(data=MistralChunk(id="m-1", model="mistral-small-latest", **fields))

    return [
        event(choices=[{"index": 0, "delta": {"role": "assistant", "content": "Bon"}}]),
        event(choices=[{"index": 0, "delta": {"content": "jour"}, "finish_reason": "stop"}],
              usage={"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15}),
    ]


def test_mistral_stream_events_are_read_through_their_data() -> None:
    events = _mistral_events()
    reader = reader_for(events[0])
    for event in events:
        reader(event)
    assert reader.result() == Usage(12, 3, response_model="mistral-small-latest", response_id="m-1",
                                    finish_reasons=("stop",))


def test_a_mistral_stream_call_has_its_tokens_and_cost() -> None:
    @otel_llm.llm_call(provider="mistral_ai")
    def ask() -> Any:
        yield from _mistral_events()

    with Capture(project="p") as cap:
        assert [e.data.id for e in ask()] == ["m-1", "m-1"]
    span = [s for s in cap.spans() if s.attributes.get(sc.OTEL_LLM_KIND) == sc.KIND_LLM_CALL][-1]
    assert (span.attributes[sc.GEN_AI_USAGE_INPUT_TOKENS], span.attributes[sc.GEN_AI_USAGE_OUTPUT_TOKENS]) == (12, 3)
    assert span.attributes[sc.GEN_AI_USAGE_COST] > 0


# Cohere v2 (cohere.ClientV2.chat): counts under usage.billed_units (what is billed, floats in its SDK)
# and usage.tokens (what the model saw); the finish reason at the top; streamed, both on message-end's delta.
COHERE = {"id": "co-1", "finish_reason": "COMPLETE",
          "message": {"role": "assistant", "content": [{"type": "text", "text": "hi"}]},
          "usage": {"billed_units": {"input_tokens": 17.0, "output_tokens": 5.0},
                    "tokens": {"input_tokens": 210.0, "output_tokens": 5.0}}}


@pytest.mark.parametrize("value", [COHERE, ns(COHERE)], ids=["dict", "object"])
def test_cohere_v2_billed_units_are_the_tokens(value: Any) -> None:
    assert extract_usage(value) == Usage(17, 5, response_id="co-1", finish_reasons=("COMPLETE",))


def test_cohere_v2_stream_ends_with_its_usage() -> None:
    events = [{"type": "message-start", "id": "co-2", "delta": {"message": {"role": "assistant"}}},
              {"type": "content-delta", "index": 0, "delta": {"message": {"content": {"text": "hi"}}}},
              {"type": "message-end", "delta": {"finish_reason": "MAX_TOKENS", "usage": COHERE["usage"]}}]
    for chunks in (events, ns(events)):
        reader = reader_for(chunks[0])
        for event in chunks:
            reader(event)
        assert reader.result() == Usage(17, 5, response_id="co-2", finish_reasons=("MAX_TOKENS",))


# Cohere v1 (cohere.Client.chat): the same counts under meta; streamed, stream-end's response holds them.
COHERE_V1 = {"text": "hi", "generation_id": "g-1", "finish_reason": "COMPLETE",
             "meta": {"api_version": {"version": "1"}, "billed_units": {"input_tokens": 17.0, "output_tokens": 5.0},
                      "tokens": {"input_tokens": 210.0, "output_tokens": 5.0}}}


@pytest.mark.parametrize("value", [COHERE_V1, ns(COHERE_V1), {"event_type": "stream-end", "is_finished": True,
                                                                "finish_reason": "COMPLETE", "response": COHERE_V1}],
                         ids=["dict", "object", "stream-end"])
def test_cohere_v1_meta_billed_units_are_the_tokens(value: Any) -> None:
    assert extract_usage(value) == Usage(17, 5, finish_reasons=("COMPLETE",))


@pytest.mark.parametrize(("value", "text"), [
    (COHERE, "hi"),  # v2: message.content blocks
    ({"type": "content-delta", "index": 0, "delta": {"message": {"content": {"text": "Bon"}}}}, "Bon"),  # v2 stream
    (COHERE_V1, "hi"),  # v1: text
    ({"event_type": "text-generation", "text": "jour", "is_finished": False}, "jour"),  # v1 stream
    (_mistral_events()[0], "Bon"),  # mistralai stream event: its data's delta
], ids=["cohere-v2", "cohere-v2-delta", "cohere-v1", "cohere-v1-stream", "mistral-event"])
def test_captured_completion_text_of_cohere_and_mistral(value: Any, text: str) -> None:
    assert completion_text(value) == text
    if isinstance(value, dict):
        assert completion_text(ns(value)) == text
