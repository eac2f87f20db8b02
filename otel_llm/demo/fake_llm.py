"""A deterministic stand-in for the OpenAI Python client, for the offline demo.

Why a fake with the real shapes: otel-llm reads usage from whatever the wrapped
function returns, so the demo's responses must look like the ``openai`` SDK's
objects (``id``, ``model``, ``choices[0].message.content``, ``finish_reason``,
``usage.prompt_tokens/completion_tokens/prompt_tokens_details.cached_tokens``),
including streams whose last chunk carries the usage (``stream_options=
{"include_usage": True}``) and the SDK's exception types. Everything depends on
the seed and the call order, never on the clock, so a run can be reproduced.

Behaviour is chosen from the system prompt, like a model following
instructions: "classify" prompts get an intent label, "grade" prompts a JSON
score, "research" prompts notes from the tool results before them, anything
else an answer stitched from the context in the user message. A request that
offers ``tools`` (OpenAI's function tools) and has no tool result yet is
answered like a model that wants them: one tool call per tool
(``message.tool_calls``, ``finish_reason="tool_calls"``), each tool's required
argument filled with the user's message.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

# Request model -> the dated snapshot the API reports back (what OpenAI does).
RESPONSE_MODELS: Mapping[str, str] = {
    "gpt-4o-mini": "gpt-4o-mini-2024-07-18",
    "gpt-4.1-nano": "gpt-4.1-nano-2025-04-14",
}
# Prefix caching: OpenAI caches prompts of >= 1024 tokens in 128-token steps;
# the demo's prompts are small, so the fake uses smaller figures to show hits.
CACHE_MIN_TOKENS = 256
CACHE_BLOCK_TOKENS = 64
_CREATED_BASE = 1_764_000_000  # fixed "created" epoch: no clock in the output


# --- exceptions, named and shaped like openai's -------------------------------
class APIError(Exception):
    """Base of the fake client's errors (``openai.APIError``)."""

    status_code: int | None = None


class RateLimitError(APIError):
    """HTTP 429, as ``openai.RateLimitError``."""

    status_code = 429


class APITimeoutError(APIError):
    """The request timed out, as ``openai.APITimeoutError``."""


RETRYABLE_ERRORS: tuple[type[APIError], ...] = (RateLimitError, APITimeoutError)


# --- response objects (the attribute names of openai.types.chat) --------------
@dataclass(frozen=True, slots=True)
class PromptTokensDetails:
    cached_tokens: int = 0


@dataclass(frozen=True, slots=True)
class CompletionTokensDetails:
    reasoning_tokens: int = 0


@dataclass(frozen=True, slots=True)
class CompletionUsage:
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    prompt_tokens_details: PromptTokensDetails = field(default_factory=PromptTokensDetails)
    completion_tokens_details: CompletionTokensDetails = field(
        default_factory=CompletionTokensDetails
    )


@dataclass(frozen=True, slots=True)
class Function:
    name: str
    arguments: str  # JSON, as the API sends it


@dataclass(frozen=True, slots=True)
class ChatCompletionMessageToolCall:
    id: str
    function: Function
    type: str = "function"


@dataclass(frozen=True, slots=True)
class ChatCompletionMessage:
    content: str | None
    role: str = "assistant"
    tool_calls: list[ChatCompletionMessageToolCall] | None = None


@dataclass(frozen=True, slots=True)
class Choice:
    index: int
    message: ChatCompletionMessage
    finish_reason: str


@dataclass(frozen=True, slots=True)
class ChatCompletion:
    id: str
    model: str
    created: int
    choices: list[Choice]
    usage: CompletionUsage
    object: str = "chat.completion"


@dataclass(frozen=True, slots=True)
class ChoiceDelta:
    content: str | None = None
    role: str | None = None


@dataclass(frozen=True, slots=True)
class ChunkChoice:
    index: int
    delta: ChoiceDelta
    finish_reason: str | None = None


@dataclass(frozen=True, slots=True)
class ChatCompletionChunk:
    id: str
    model: str
    created: int
    choices: list[ChunkChoice]
    usage: CompletionUsage | None = None
    object: str = "chat.completion.chunk"


# --- the client ------------------------------------------------------------------
Message = Mapping[str, Any]
_WORDS = re.compile(r"[a-z0-9_]+")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_GREETINGS = frozenset("hi hello hey thanks thank great who".split())


def count_tokens(text: str) -> int:
    """Roughly four characters per token, as OpenAI's rule of thumb."""
    return max(1, (len(text) + 3) // 4)


def _message_tokens(message: Message) -> int:
    calls = message.get("tool_calls")
    text = (message.get("content") or "") + (json.dumps(calls) if calls else "")
    return 4 + count_tokens(text)  # per-message framing


class FakeOpenAI:
    """``client.chat.completions.create(...)`` with seeded, reproducible output.

    ``failing_requests`` holds the 0-based indices of ``create`` calls that
    raise a retryable error instead of answering (the demo's retry path);
    ``latency_scale`` multiplies the simulated latency (0 disables sleeping).
    """

    def __init__(
        self,
        seed: int,
        *,
        failing_requests: frozenset[int] = frozenset(),
        latency_scale: float = 1.0,
    ) -> None:
        self._rng = random.Random(seed)
        self._seed = seed
        self._failing = failing_requests
        self._latency = latency_scale
        self._requests = 0
        self._seen_prefixes: set[bytes] = set()
        self.chat = SimpleNamespace(completions=SimpleNamespace(create=self.create))

    @property
    def requests(self) -> int:
        """How many ``create`` calls were made (failed ones included)."""
        return self._requests

    def create(
        self,
        *,
        model: str,
        messages: Sequence[Message],
        temperature: float = 1.0,
        max_tokens: int | None = None,
        stream: bool = False,
        stream_options: Mapping[str, bool] | None = None,
        tools: Sequence[Mapping[str, Any]] | None = None,
    ) -> ChatCompletion | Iterator[ChatCompletionChunk]:
        """Answer ``messages`` like the Chat Completions API (or raise, if scheduled)."""
        index = self._requests
        self._requests += 1
        if index in self._failing:
            self._fail(model)
        prompt_tokens = sum(_message_tokens(m) for m in messages) + 3
        cached = self._cached_tokens(model, messages)
        tool_calls = self._tool_calls(index, messages, tools)
        if tool_calls and not stream:
            return self._asking_for_tools(index, model, tool_calls, prompt_tokens, cached)
        content = self._respond(messages, temperature)
        completion_tokens = count_tokens(content)
        finish_reason = "stop"
        if max_tokens is not None and completion_tokens > max_tokens:
            content = content[: max_tokens * 4]
            completion_tokens, finish_reason = max_tokens, "length"
        usage = CompletionUsage(
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            total_tokens=prompt_tokens + completion_tokens,
            prompt_tokens_details=PromptTokensDetails(cached_tokens=cached),
        )
        response_id = f"chatcmpl-{self._seed:x}{index:06d}"
        response_model = RESPONSE_MODELS.get(model, model)
        self._sleep(2.0 + 0.01 * prompt_tokens)  # time to first token
        if stream:
            include_usage = bool(stream_options and stream_options.get("include_usage"))
            return self._chunks(
                response_id, response_model, index, content, finish_reason,
                usage if include_usage else None,
            )
        self._sleep(0.02 * completion_tokens)
        return ChatCompletion(
            id=response_id,
            model=response_model,
            created=_CREATED_BASE + index,
            choices=[Choice(0, ChatCompletionMessage(content), finish_reason)],
            usage=usage,
        )

    # -- internals -----------------------------------------------------------
    def _tool_calls(
        self, index: int, messages: Sequence[Message], tools: Sequence[Mapping[str, Any]] | None
    ) -> list[ChatCompletionMessageToolCall]:
        """One call per offered function tool, until the conversation holds a tool result."""
        if not tools or any(m.get("role") == "tool" for m in messages):
            return []
        question = (messages[-1].get("content") or "") if messages else ""
        calls = []
        for n, tool in enumerate(t["function"] for t in tools if t.get("type") == "function"):
            required = tool.get("parameters", {}).get("required", [])
            arguments = json.dumps({name: question for name in required[:1]})
            calls.append(ChatCompletionMessageToolCall(
                f"call_{self._seed:x}{index:05d}{n}", Function(tool["name"], arguments)))
        return calls

    def _asking_for_tools(
        self, index: int, model: str, calls: list[ChatCompletionMessageToolCall], prompt_tokens: int, cached: int
    ) -> ChatCompletion:
        completion_tokens = count_tokens(json.dumps([[c.function.name, c.function.arguments] for c in calls]))
        self._sleep(2.0 + 0.01 * prompt_tokens + 0.02 * completion_tokens)
        return ChatCompletion(
            id=f"chatcmpl-{self._seed:x}{index:06d}",
            model=RESPONSE_MODELS.get(model, model),
            created=_CREATED_BASE + index,
            choices=[Choice(0, ChatCompletionMessage(None, tool_calls=calls), "tool_calls")],
            usage=CompletionUsage(
                prompt_tokens=prompt_tokens, completion_tokens=completion_tokens,
                total_tokens=prompt_tokens + completion_tokens,
                prompt_tokens_details=PromptTokensDetails(cached_tokens=cached),
            ),
        )

    def _fail(self, model: str) -> None:
        if self._rng.random() < 0.5:
            self._sleep(3.0)
            raise RateLimitError(
                "Error code: 429 - {'error': {'message': 'Rate limit reached for "
                f"{model} in organization org-demo on tokens per min (TPM): Limit 200000, "
                "Used 199812, Requested 1337. Please try again in 340ms.', "
                "'type': 'tokens', 'code': 'rate_limit_exceeded'}}"
            )
        self._sleep(20.0)
        raise APITimeoutError("Request timed out.")

    def _sleep(self, milliseconds: float) -> None:
        if self._latency > 0:
            time.sleep(milliseconds * self._latency / 1000)

    def _cached_tokens(self, model: str, messages: Sequence[Message]) -> int:
        """Tokens of the longest earlier-seen message prefix, in cache blocks."""
        digest = hashlib.sha256(model.encode())
        prefix_tokens = cached = 0
        for message in messages:
            digest.update(json.dumps(dict(message), sort_keys=True).encode())
            prefix_tokens += _message_tokens(message)
            key = digest.copy().digest()
            if key in self._seen_prefixes and prefix_tokens >= CACHE_MIN_TOKENS:
                cached = prefix_tokens - prefix_tokens % CACHE_BLOCK_TOKENS
            self._seen_prefixes.add(key)
        return cached

    def _respond(self, messages: Sequence[Message], temperature: float) -> str:
        system = messages[0].get("content", "").lower() if messages else ""
        user = messages[-1].get("content", "") if messages else ""
        if "classify" in system:
            return self._classify(user)
        if "grade" in system:
            return self._grade(user, temperature)
        if "research" in system:
            return self._notes(messages)
        return self._answer(user, temperature)

    @staticmethod
    def _notes(messages: Sequence[Message]) -> str:
        """What the tools found, as a research agent would sum it up."""
        found = [m.get("content") or "" for m in messages if m.get("role") == "tool"]
        useful = [text for text in found if text and "nothing" not in text and "unavailable" not in text]
        return " ".join(useful) if useful else "The tools found nothing more on this."

    def _classify(self, text: str) -> str:
        words = set(_WORDS.findall(text.lower()))
        return "chitchat" if words & _GREETINGS and len(words) <= 5 else "question"

    def _answer(self, prompt: str, temperature: float) -> str:
        context, _, question = prompt.rpartition("Question:")
        sentences = [
            s.strip()
            for line in context.splitlines()
            if line.startswith("- ")
            for s in _SENTENCE.split(line[2:])
            if s.strip()
        ]
        if not sentences:
            if "?" not in question:
                return "You're welcome! Ask me anything about tracing your LLM app."
            return (
                "I could not find this in the otel-llm documentation, so I would rather not "
                "guess. Try rephrasing, or ask about configuration, cost or tracing."
            )
        spread = 1 + round(temperature * 3)
        take = min(len(sentences), 1 + self._rng.randrange(spread + 1))
        return "According to the documentation: " + " ".join(sentences[:take])

    def _grade(self, prompt: str, temperature: float) -> str:
        fields = dict(
            line.split(":", 1) for line in prompt.splitlines() if ":" in line
        )
        question = set(_WORDS.findall(fields.get("Question", "").lower()))
        answer = set(_WORDS.findall(fields.get("Answer", "").lower()))
        overlap = len(question & answer) / max(1, len(question))
        # Hotter generations read worse to the grader: noise widens downwards.
        noise = self._rng.uniform(-0.15 - 0.45 * temperature, 0.15)
        score = min(1.0, max(0.0, 0.35 + overlap + noise))
        return json.dumps({"score": round(score, 2)})

    def _chunks(
        self,
        response_id: str,
        model: str,
        index: int,
        content: str,
        finish_reason: str,
        usage: CompletionUsage | None,
    ) -> Iterator[ChatCompletionChunk]:
        """The stream: a role delta, word-group deltas, the finish, then usage."""
        created = _CREATED_BASE + index

        def chunk(choices: list[ChunkChoice], **extra: object) -> ChatCompletionChunk:
            return ChatCompletionChunk(response_id, model, created, choices, **extra)

        yield chunk([ChunkChoice(0, ChoiceDelta(content="", role="assistant"))])
        words = content.split(" ")
        for start in range(0, len(words), 3):
            self._sleep(0.3)
            piece = " ".join(words[start : start + 3])
            yield chunk([ChunkChoice(0, ChoiceDelta(content=piece if start == 0 else " " + piece))])
        yield chunk([ChunkChoice(0, ChoiceDelta(), finish_reason)])
        if usage is not None:
            yield chunk([], usage=usage)
