"""Where a stream's usage lives: one reader per stream shape, chosen on its first chunk.

Why readers: probing every chunk with the full ``extract_usage`` costs tens of
microseconds per chunk on pydantic objects (a dozen failed attribute lookups),
for data that providers put in one known place. The shape of a stream does not
change between its chunks, so it is recognised once, on the first chunk, and
each later chunk costs one or two attribute reads and a comparison:

* OpenAI chat completion chunks (``choices``): ``usage`` on the final chunk
  (``stream_options={"include_usage": True}``), each choice's
  ``finish_reason`` on its last chunk, model and id on every chunk. Groq
  puts the usage in ``x_groq.usage`` of its last chunk: read there, at the
  end, when no chunk had a ``usage``.
* OpenAI Responses API events (``type`` ``response.*``): everything on the
  ``response`` of ``response.completed`` (``.incomplete``, ``.failed``).
* Anthropic message events (``type`` ``message_start`` ...): ``message_start``
  (model, id, input and cache tokens) and ``message_delta`` (stop reason,
  cumulative counts: those it carries replace ``message_start``'s, field by
  field, as the anthropic SDK accumulates them).
* LangChain message chunks (``usage_metadata``): counts on some chunks, *added*
  across chunks as LangChain itself adds them when it merges chunks; model and
  finish reason in ``response_metadata``.
* Gemini ``GenerateContentResponse`` chunks (``usage_metadata`` and
  ``candidates``), or the dicts of its REST API's SSE stream (``usageMetadata``
  or ``modelVersion``, and ``candidates``): running counts, so the last chunk
  that carries usage holds the totals; the finish reason on the last chunk.
* Bedrock ``converse_stream`` events (dicts, the first ``messageStart``): the
  stop reason on ``messageStop``, the counts on the ``metadata`` event.
* Bedrock ``invoke_model_with_response_stream`` events (dicts, ``chunk``):
  the counts in the last chunk's ``amazon-bedrock-invocationMetrics``.
* Cohere v2 events (the first ``message-start``, the only one with the
  response id): the id kept, the rest read on the last event (``message-end``).
* Chunks that wrap such a chunk in ``data`` (mistralai's ``CompletionEvent``,
  whose ``data`` is an OpenAI-shaped chunk): the wrapped chunks are read.
* Anything else — text, a generator's own dicts — the last chunk, read once
  when the stream ends (where a generator puts a final usage object).

Anthropic's and Gemini's counts are running counts until the event that gives
the finish reason, as are LangChain's sums: a stream left before it (``break``,
a failure part way) has its output count unknown, not the count so far
(:func:`_final`; LangChain's only when not read to its end, :meth:`StreamUsage.cut_short`).

The chunk that carries usage goes through the one ``extract_usage`` once, so
stream and non-stream values are read, normalised and validated alike.
Readers see chunks of one stream only, in order, on the iterating thread.

A chunk of a recognised shape may still be malformed (``{"choices": 1}``, a
``usage_metadata`` that is no mapping, an event ``type`` that is a list): a
field of the wrong type is read as absent, so such a chunk carries no usage and
the stream goes on — it is the app's data, not otel-llm's fault to report.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from otel_llm import _notices
from otel_llm._usage import RESPONSES_FINAL_EVENTS, Usage, _get, extract_usage

__all__ = ["NO_CHAT_STREAM_USAGE", "StreamUsage", "reader_for"]

# otel_llm.usage.unobserved of an OpenAI chat stream read to its end without a usage chunk.
NO_CHAT_STREAM_USAGE = "stream sent no usage: request it with stream_options={'include_usage': True}"

_ANTHROPIC_EVENTS = frozenset({
    "message_start", "message_delta", "message_stop",
    "content_block_start", "content_block_delta", "content_block_stop", "ping", "error",
})

Getter = Callable[[Any, str, Any], Any]  # getattr, or _dict_get for dict chunks


_so_far_said = False  # whether a stream left before its final usage was said (once per process)


def _final(usage: Usage | None) -> Usage | None:
    """``usage`` of a stream whose provider sends running counts (Anthropic, Gemini), as the call's.

    Such a stream's counts are final on the event that gives its finish reason;
    before it (a consumer's ``break``, a stream failing part way) the output
    count is the count so far, and priced it would be a part of the cost taken
    for the whole: it is unknown (named dropped, said once), the input count,
    final from the first event, is kept.
    """
    global _so_far_said
    if usage is None or usage.finish_reasons or (usage.output_tokens is None and usage.reasoning_tokens is None):
        return usage
    usage.output_tokens = usage.reasoning_tokens = None
    usage.dropped = tuple(dict.fromkeys((*usage.dropped, "output_tokens")))
    if not _so_far_said:
        _so_far_said = True
        _notices.notice(
            "a stream stopped before its final usage (no finish reason: left by its consumer or failed part way); "
            "its output count so far is not the call's, so the span has none and no cost (otel_llm.usage.dropped "
            "names output_tokens). Further such streams are not reported."
        )
    return usage


def _merge(known: Usage | None, found: Usage | None) -> Usage | None:
    """``found``'s known fields win over ``known``'s (a later chunk is more complete)."""
    if found is None:
        return known
    return found if known is None else known.merged(found)


class StreamUsage:
    """Reads one stream's usage: called with each chunk, asked for the result at the end."""

    __slots__ = ()

    def __call__(self, chunk: Any) -> None:
        raise NotImplementedError

    def result(self) -> Usage | None:
        """Usage, model, id and finish reasons of the stream so far (``None``: nothing found)."""
        raise NotImplementedError

    def missing_usage(self) -> str | None:
        """Why a stream read to its end carried no token counts, when its provider says why; else ``None``."""
        return None

    def cut_short(self, usage: Usage | None) -> Usage | None:
        """``usage`` (this stream's :meth:`result`) of a stream not read to its end, as the call's.

        Most readers' counts arrive whole, on one chunk: what was read stands.
        Readers that add counts up as chunks come (LangChain's) have, before the
        finish reason, the output so far (:func:`_final`).
        """
        return usage


class _LastChunk(StreamUsage):
    """Unknown shapes: whatever the last chunk says."""

    __slots__ = ("_last",)

    def __init__(self) -> None:
        self._last: Any = None

    def __call__(self, chunk: Any) -> None:
        self._last = chunk

    def result(self) -> Usage | None:
        return extract_usage(self._last)


class _CohereEvents(_LastChunk):
    """Cohere v2 stream events: the response id on ``message-start`` (only there), the rest on the last event."""

    __slots__ = ("_id",)

    def __init__(self, first: Any) -> None:
        super().__init__()
        found = _get(first, "id")
        self._id = found if type(found) is str and found else None

    def result(self) -> Usage | None:
        usage = extract_usage(self._last)
        if self._id is not None:
            if usage is None:
                usage = Usage(response_id=self._id)
            elif usage.response_id is None:
                usage.response_id = self._id
        return usage


class _OpenAIChatChunks(StreamUsage):
    """``chat.completion.chunk``: the usage chunk, each choice's finish reason, the last chunk."""

    __slots__ = ("_get", "_usage_chunk", "_reasons", "_last", "_finish_chunk")

    def __init__(self, get: Getter) -> None:
        self._get = get
        self._usage_chunk: Any = None
        self._reasons: dict[Any, str] = {}
        self._last: Any = None
        self._finish_chunk: Any = None  # the last chunk with a finish reason (Groq's usage may be on it)

    def __call__(self, chunk: Any) -> None:
        get = self._get
        if get(chunk, "usage", None) is not None:
            self._usage_chunk = chunk
        choices = get(chunk, "choices", None)
        if not choices or not isinstance(choices, (list, tuple)):  # none, or malformed: no finish reason here
            self._last = chunk
            return
        for choice in choices:
            reason = get(choice, "finish_reason", None)
            if isinstance(reason, str):
                index = get(choice, "index", None)
                self._reasons[index if type(index) is int else None] = reason
                self._finish_chunk = chunk
        self._last = chunk

    def result(self) -> Usage | None:
        usage_chunk = self._usage_chunk
        if usage_chunk is None:  # Groq: on its last chunk, in x_groq
            usage_chunk = next((
                {"usage": found} for c in (self._last, self._finish_chunk)
                for found in (_get(_get(c, "x_groq"), "usage"),) if found is not None
            ), None)
        usage = _last_and_usage_chunk(self._last, usage_chunk)
        if self._reasons:
            reasons = tuple(r for r in self._reasons.values() if r)
            if reasons:
                usage = usage or Usage()
                usage.finish_reasons = reasons
        return usage


    def missing_usage(self) -> str | None:
        # OpenAI sends a chat stream's counts only when asked; OpenAI-compatible servers do the same.
        return NO_CHAT_STREAM_USAGE


def _last_and_usage_chunk(last: Any, usage_chunk: Any) -> Usage | None:
    """What the last chunk says (model, id, finish reasons), with the counts of the last chunk that had usage."""
    usage = extract_usage(last)
    if usage_chunk is not None and usage_chunk is not last:
        usage = _merge(usage, extract_usage(usage_chunk))
    return usage


class _GeminiChunks(StreamUsage):
    """Gemini chunks: running usage (``usage_metadata``, ``usageMetadata`` in REST JSON), the totals on the last.

    Each chunk's usage is the stream's so far (not a delta), so the last chunk
    that carries one holds the totals; the last chunk holds the finish reasons.
    ``key``, the usage field's spelling, is decided on the first chunk.
    """

    __slots__ = ("_get", "_key", "_usage_chunk", "_last")

    def __init__(self, get: Getter, key: str) -> None:
        self._get = get
        self._key = key
        self._usage_chunk: Any = None
        self._last: Any = None

    def __call__(self, chunk: Any) -> None:
        if self._get(chunk, self._key, None) is not None:
            self._usage_chunk = chunk
        self._last = chunk

    def result(self) -> Usage | None:
        return _final(_last_and_usage_chunk(self._last, self._usage_chunk))


class _BedrockEvents(StreamUsage):
    """Bedrock ``converse_stream`` events, one-key dicts: ``messageStop`` (stop reason), ``metadata`` (usage)."""

    __slots__ = ("_usage", "_stop_reason")

    def __init__(self) -> None:
        self._usage: Any = None
        self._stop_reason: Any = None

    def __call__(self, chunk: Any) -> None:
        if type(chunk) is not dict:
            return
        stop = chunk.get("messageStop")
        if stop is not None:
            self._stop_reason = _get(stop, "stopReason")
        meta = chunk.get("metadata")
        if meta is not None:
            self._usage = _get(meta, "usage")

    def result(self) -> Usage | None:
        return extract_usage({"usage": self._usage, "stopReason": self._stop_reason})


class _BedrockInvokeChunks(_LastChunk):
    """Bedrock ``invoke_model_with_response_stream`` events (``{"chunk": {"bytes": b"<model JSON>"}}``).

    The counts are in the last chunk's ``amazon-bedrock-invocationMetrics``:
    only that chunk's JSON is parsed, once, at the end (per chunk: one store).
    """

    __slots__ = ()

    def result(self) -> Usage | None:
        data = _get(_get(self._last, "chunk"), "bytes")
        if not isinstance(data, (bytes, bytearray, str)):
            return None
        try:
            payload = json.loads(data)
        except ValueError:  # not JSON (or not UTF-8): the model's data, not a shape we read
            return None
        return extract_usage(payload) if type(payload) is dict else None


class _TypedEvents(StreamUsage):
    """Event streams (``type`` on each event): only the events that carry usage are read."""

    __slots__ = ("_get", "_usage", "_wanted", "_unwrap")

    def __init__(self, get: Getter, wanted: frozenset[str], unwrap: str | None) -> None:
        self._get = get
        self._usage: Usage | None = None
        self._wanted = wanted
        self._unwrap = unwrap  # the field holding the payload to read (Responses: "response")

    def __call__(self, chunk: Any) -> None:
        event = self._get(chunk, "type", None)
        if type(event) is str and event in self._wanted:
            payload = chunk if self._unwrap is None else self._get(chunk, self._unwrap, None)
            self._usage = _merge(self._usage, extract_usage(payload))

    def result(self) -> Usage | None:
        return self._usage


# The counts of an Anthropic ``usage``: cumulative on ``message_delta``, each one present or not.
_ANTHROPIC_COUNTS = (
    "input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens",
    "cache_creation",  # the writes by how long they are kept (1 hour, 5 minutes)
    "service_tier",  # not a count: the tier that billed the call (message_start's)
)


class _AnthropicEvents(StreamUsage):
    """Anthropic message events, accumulated the way the anthropic SDK accumulates them.

    ``message_start`` carries the message (model, id, input and cache counts);
    each ``message_delta`` carries cumulative counts, but not always all of
    them — a field it lacks keeps the value it had. The raw counts are kept per
    field and read (Anthropic's input excludes the cache) once, at the end: a
    delta's ``input_tokens`` alone must not drop the cached tokens from the input.
    """

    __slots__ = ("_message", "_counts", "_stop_reason")

    def __init__(self) -> None:
        self._message: Any = None
        self._counts: dict[str, Any] = {}
        self._stop_reason: Any = None

    def __call__(self, chunk: Any) -> None:
        kind = _get(chunk, "type")
        if kind == "message_start":
            self._message = _get(chunk, "message")
            self._take(_get(self._message, "usage"))
        elif kind == "message_delta":
            self._take(_get(chunk, "usage"))
            reason = _get(_get(chunk, "delta"), "stop_reason")
            if reason is not None:
                self._stop_reason = reason

    def _take(self, usage: Any) -> None:
        if usage is None:
            return
        counts = self._counts
        for name in _ANTHROPIC_COUNTS:
            value = _get(usage, name)
            if value is not None:
                counts[name] = value

    def result(self) -> Usage | None:
        message = self._message
        return _final(extract_usage({
            "id": _get(message, "id"),
            "model": _get(message, "model"),
            "stop_reason": self._stop_reason if self._stop_reason is not None else _get(message, "stop_reason"),
            "usage": self._counts or None,
        }))


class _LangChainChunks(StreamUsage):
    """``AIMessageChunk``: usage_metadata summed over chunks, response_metadata merged."""

    __slots__ = ("_get", "_usage", "_meta")

    def __init__(self, get: Getter) -> None:
        self._get = get
        self._usage: dict[str, Any] | None = None
        self._meta: dict[str, Any] = {}

    def __call__(self, chunk: Any) -> None:
        get = self._get
        usage = get(chunk, "usage_metadata", None)
        if usage and isinstance(usage, Mapping):
            self._usage = _added(self._usage or {}, usage)
        meta = get(chunk, "response_metadata", None)
        if meta and isinstance(meta, Mapping):
            self._meta.update(meta)

    def result(self) -> Usage | None:
        return extract_usage({"usage_metadata": self._usage, "response_metadata": self._meta})

    def cut_short(self, usage: Usage | None) -> Usage | None:
        # Only then: an integration may put no finish reason in response_metadata, and a stream read to its
        # end has every chunk's counts added.
        return _final(usage)


class _Unwrapped(StreamUsage):
    """Chunks wrapping the provider's chunk in ``data`` (mistralai's ``CompletionEvent``): ``inner`` reads ``data``."""

    __slots__ = ("_get", "_inner")

    def __init__(self, get: Getter, inner: StreamUsage) -> None:
        self._get = get
        self._inner = inner

    def __call__(self, chunk: Any) -> None:
        self._inner(self._get(chunk, "data", None))

    def result(self) -> Usage | None:
        return self._inner.result()


def _added(total: Mapping[str, Any], more: Mapping[str, Any]) -> dict[str, Any]:
    """Nested token counts added key by key (LangChain's ``add_usage``)."""
    out = dict(total)
    for key, value in more.items():
        mine = out.get(key)
        if isinstance(value, Mapping):
            out[key] = _added(mine if isinstance(mine, Mapping) else {}, value)
        elif type(value) is int and (mine is None or type(mine) is int):
            out[key] = (mine or 0) + value
        else:
            out[key] = value
    return out


def _getter(first: Any) -> Getter:
    return _dict_get if isinstance(first, dict) else getattr  # type: ignore[return-value]


def _dict_get(chunk: Any, key: str, default: Any) -> Any:
    """``dict.get`` for a stream of dicts; a chunk of another type (a keep-alive ``None``,
    a closing text a generator yields) is read as :func:`otel_llm._usage._get` reads any value."""
    return chunk.get(key, default) if type(chunk) is dict else _get(chunk, key)


def _has(first: Any, name: str) -> bool:
    """Whether the first chunk has the field ``name``; a chunk whose property raises has none."""
    if isinstance(first, dict):
        return name in first
    try:
        return hasattr(first, name)
    except Exception:  # noqa: BLE001 — the app's object raised in its own property: not our fault
        return False


def reader_for(first: Any) -> StreamUsage:
    """The reader for the stream whose first chunk is ``first``."""
    if isinstance(first, (str, bytes, bytearray)) or first is None:
        return _LastChunk()
    get = _getter(first)
    # ``_get``, not ``hasattr``: on a pydantic chunk without ``type`` (OpenAI's) a miss
    # through the model's ``__getattr__`` costs microseconds; ``_get`` knows it absent.
    event = _get(first, "type")
    if isinstance(event, str):
        if event == "message-start":  # Cohere v2
            return _CohereEvents(first)
        if event in _ANTHROPIC_EVENTS:
            return _AnthropicEvents()
        if event.startswith("response."):
            return _TypedEvents(get, RESPONSES_FINAL_EVENTS, "response")
    if _has(first, "choices"):
        return _OpenAIChatChunks(get)
    if _has(first, "usage_metadata"):
        if _has(first, "response_metadata"):
            return _LangChainChunks(get)
        if _has(first, "candidates"):
            return _GeminiChunks(get, "usage_metadata")
    if type(first) is dict and "candidates" in first and ("usageMetadata" in first or "modelVersion" in first):
        return _GeminiChunks(get, "usageMetadata")  # Gemini's REST API, its SSE lines parsed
    if type(first) is dict and "messageStart" in first:
        return _BedrockEvents()
    if type(first) is dict and "chunk" in first:
        return _BedrockInvokeChunks()
    data = _get(first, "data")
    if data is not None and not isinstance(data, (str, bytes, bytearray)) and _has(data, "choices"):
        return _Unwrapped(get, reader_for(data))
    return _LastChunk()
