"""The completion text of a model response or stream chunk, for capture (with capture on only).

Why its own module: each provider puts the model's text somewhere else, and
this is read only when the app opted in to capture (``ContentPolicy``); the
usage readers (``_usage``, ``_stream_usage``) stay free of it. Read by shape,
without importing any provider SDK, and never raising:

* OpenAI chat completions and chunks: ``choices[0].message``/``delta`` ``.content``;
  the completions API's ``choices[0].text``;
  anything with a string ``content`` (LangChain messages).
* Anthropic messages (and LangChain's) whose ``content`` is a list of blocks: the text blocks;
  Anthropic ``content_block_delta`` text deltas; the Responses API's messages' ``output_text``
  blocks and its ``response.output_text.delta`` events.
* A response's string ``message.content`` (Ollama's chat API, each of its stream lines),
  or its blocks (Cohere v2); Cohere v2's ``content-delta`` events, Cohere v1's
  ``text`` (a response's, a ``text-generation`` event's).
* mistralai's stream events: their ``data``, an OpenAI-shaped chunk.
* Gemini (google-genai objects and REST JSON alike): the text parts of the
  first candidate's ``content.parts``, thought parts left out.
* Bedrock: Converse's ``output.message.content[].text``, ``converse_stream``'s
  ``contentBlockDelta.delta.text``, and ``invoke_model_with_response_stream``'s
  ``chunk.bytes`` (the model's JSON event, read as the above).

Tool-call JSON and thinking are not completion text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = ["completion_text"]

# The types of content blocks that hold completion text (None: an untyped block, Gemini's or Bedrock's).
_TEXT_BLOCKS = (None, "text", "output_text")


def _field(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)


def completion_text(value: Any) -> str | None:
    """The text of a response or stream chunk (see the module), else ``None``."""
    if isinstance(value, str):
        return value
    try:
        choices = _field(value, "choices")
        if choices:
            first = choices[0]
            text = _field(_field(first, "message") or _field(first, "delta"), "content")
            if text is None:
                text = _field(first, "text")  # the (legacy) completions API
        else:
            text = _field(value, "content")
            if isinstance(text, (list, tuple)):  # Anthropic's message, LangChain's: content blocks
                text = _blocks_text(text)
            elif text is None:
                text = _event_text(value)
            if text is None:
                text = _message_text(_field(value, "message"))
            if text is None:
                text = _gemini_text(_field(value, "candidates"))
            if text is None:
                text = _responses_text(_field(value, "output"))
            if text is None and isinstance(value, Mapping):
                text = _bedrock_text(value)
            if text is None:
                text = _wrapped_text(_field(value, "data"))
            if text is None:
                text = _field(value, "text")  # Cohere v1: a response's, a text-generation event's
    except (AttributeError, KeyError, IndexError, TypeError, ValueError):  # ValueError: a data frame's truth value
        return None
    return text if isinstance(text, str) else None


def _event_text(event: Any) -> Any:
    """The text an event of a provider's event stream adds to the completion (tool-call JSON and
    thinking deltas are not completion text)."""
    kind = _field(event, "type")
    if kind == "content_block_delta":  # Anthropic: a text_delta's .text (input_json_delta has none)
        return _field(_field(event, "delta"), "text")
    if kind == "response.output_text.delta":  # the Responses API
        return _field(event, "delta")
    if kind == "content-delta":  # Cohere v2
        return _field(_field(_field(_field(event, "delta"), "message"), "content"), "text")
    return None


def _wrapped_text(data: Any) -> str | None:
    """The text of a chunk wrapped in an event's ``data`` (mistralai's ``CompletionEvent``)."""
    if data is None or isinstance(data, (str, bytes, bytearray)) or not _field(data, "choices"):
        return None
    return completion_text(data)


def _message_text(message: Any) -> str | None:
    """A response's ``message.content``: a string (Ollama's chat API and its stream lines) or blocks (Cohere v2)."""
    if message is None:
        return None
    text = _field(message, "content")
    if isinstance(text, (list, tuple)):
        return _blocks_text(text)
    return text if isinstance(text, str) else None


def _gemini_text(candidates: Any) -> str | None:
    """The text parts of Gemini's first candidate, joined; ``None`` when it has none (a function call)."""
    if not candidates or not isinstance(candidates, (list, tuple)):
        return None
    parts = _field(_field(candidates[0], "content"), "parts")
    return _blocks_text(parts) if isinstance(parts, (list, tuple)) else None


def _responses_text(output: Any) -> str | None:
    """The text of a Responses API response's ``output``: its messages' ``output_text`` blocks, joined."""
    if not isinstance(output, (list, tuple)):
        return None  # Bedrock Converse's ``output`` is a mapping: read by _bedrock_text
    texts = [
        text for item in output
        if _field(item, "type") == "message" and isinstance(blocks := _field(item, "content"), (list, tuple))
        and (text := _blocks_text(blocks)) is not None
    ]
    return "".join(texts) if texts else None


def _blocks_text(blocks: list[Any] | tuple[Any, ...]) -> str | None:
    """The text of a list of content blocks, joined; ``None`` when none has text.

    A block is a string, or has a string ``text`` and no ``type`` other than
    ``"text"`` (Anthropic's and LangChain's typed blocks, Bedrock's and
    Gemini's untyped ones); Gemini's ``thought`` parts are reasoning, left out.
    """
    texts = []
    for block in blocks:
        if isinstance(block, str):
            texts.append(block)
            continue
        text = _field(block, "text")
        if isinstance(text, str) and _field(block, "type") in _TEXT_BLOCKS and not _field(block, "thought"):
            texts.append(text)
    return "".join(texts) if texts else None


def _bedrock_text(value: Mapping[Any, Any]) -> str | None:
    """The text of a Bedrock Converse response, a ``converse_stream`` event or an invoke stream chunk."""
    delta = value.get("contentBlockDelta")
    if delta is not None:
        return _field(_field(delta, "delta"), "text")
    output = value.get("output")
    if output is not None:
        blocks = _field(_field(output, "message"), "content")
        return _blocks_text(blocks) if isinstance(blocks, (list, tuple)) else None
    data = _field(value.get("chunk"), "bytes")
    if isinstance(data, (bytes, bytearray, str)):
        try:
            payload = json.loads(data)
        except ValueError:  # not JSON (or not UTF-8): not a shape we read
            return None
        return completion_text(payload) if isinstance(payload, dict) else None
    return None
