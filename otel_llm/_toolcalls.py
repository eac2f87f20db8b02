"""Tool calls by shape: which ones a model response asked for, which one a tool function received.

Why: a model answers "call ``search_web`` with these arguments, id
``call_abc``"; the app then runs the tool. The id is what ties the two spans
together — the llm_call span lists the ids its response asked for
(``otel_llm.response.tool_call_ids``), the tool span carries the one it ran
(``gen_ai.tool.call.id``) and, when the model call happened in this process,
a span link to it. Like ``_usage``, everything is read by shape, with no
provider SDK imported.

Shapes of a response (:func:`requested`):

* OpenAI chat completions: ``choices[i].message.tool_calls[j]`` (``id``,
  ``function.name``, ``function.arguments``; ``custom.name``/``input`` for
  custom tools); also the message itself.
* OpenAI responses API: ``output[i]`` with ``type == "function_call"``
  (``call_id``, ``name``, ``arguments``).
* Anthropic messages: ``content[i]`` with ``type == "tool_use"`` (``id``,
  ``name``, ``input``).
* LangChain ``AIMessage``: ``tool_calls[i]`` (``id``, ``name``, ``args``).

Shapes of what a tool receives (:func:`received`): one of the tool calls
above (an OpenAI ``ChatCompletionMessageToolCall``, a responses
``function_call`` item, an Anthropic ``tool_use`` block, a LangChain
``ToolCall`` dict), or — through the decorator's ``call_id_arg`` or a
parameter named ``tool_call_id``, as LangChain's ``InjectedToolCallId``
passes it — the id itself as a string.

Streamed model responses are not read (their tool calls arrive in pieces, and
the per-chunk path stays cheap): their tool spans still carry the id, without
the link.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any, NamedTuple

from opentelemetry.trace import SpanContext

from otel_llm._names import bounded_name
from otel_llm._usage import _choice_facts, _get, _plan

__all__ = ["ORIGINS", "ToolCallRef", "received", "refs_among", "requested", "tool_call_id"]

_SCALARS = (str, bytes, bytearray, int, float, bool, type(None))


class ToolCallRef(NamedTuple):
    """One tool call as the model asked for it: its id, tool name and arguments (when known)."""

    id: str
    name: str | None = None
    arguments: Any = None  # a JSON string (OpenAI) or a mapping (Anthropic, LangChain)


def tool_call_id(value: str) -> str:
    """A tool call id (the model's, or the app's ``tool_call_id=`` argument) as spans and :data:`ORIGINS` take
    it: bounded (:func:`otel_llm._names.bounded_name`), so the id a tool receives is the one its model call
    remembered."""
    return bounded_name(value, "tool call id")


def _text(value: Any, what: str) -> str | None:
    """A non-empty string of the model's (a ``what``), bounded (it becomes an attribute), else ``None``."""
    return bounded_name(value, what) if type(value) is str and value else None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, (list, tuple)) else []  # type: ignore[return-value]


def received(value: Any) -> ToolCallRef | None:
    """The tool call ``value`` is (one of the shapes in the module docstring), else ``None``."""
    if isinstance(value, _SCALARS):
        return None
    marker = _get(value, "type")
    if not isinstance(marker, str):  # a data frame's ``type`` column compares element-wise: not a marker
        return None
    if marker == "tool_call":  # LangChain ToolCall
        call_id, name, arguments = _get(value, "id"), _get(value, "name"), _get(value, "args")
    elif marker == "function_call":  # OpenAI responses API item
        call_id, name, arguments = _get(value, "call_id"), _get(value, "name"), _get(value, "arguments")
    elif marker == "tool_use":  # Anthropic content block
        call_id, name, arguments = _get(value, "id"), _get(value, "name"), _get(value, "input")
    elif marker in ("function", "custom"):  # OpenAI chat completions tool call (function or custom tool)
        spec = _get(value, marker)
        call_id, name = _get(value, "id"), _get(spec, "name")
        arguments = _get(spec, "arguments" if marker == "function" else "input")
    else:
        return None
    call_id = _text(call_id, "tool call id")
    return None if call_id is None else ToolCallRef(call_id, _text(name, "tool name"), arguments)


def requested(value: Any) -> tuple[ToolCallRef, ...]:
    """The tool calls a model response asks for, in order (``()`` when none or unknown shape).

    Runs on every llm_call result, so it reads as little as it can. A pydantic
    chat completion class — ``_usage``'s once-per-class plan says it declares
    ``choices`` — is read along that field, with no probing; other values are
    probed by shape, an OpenAI chat completion known by ``choices`` first (a
    miss on a pydantic object is slow). A response that asks for no tool call
    stops there.
    """
    plan = _plan(type(value))
    if plan is not None and plan.choices:
        choices = value.choices
        if choices is not None:
            # the same pass over the choices that reads their finish reasons (``_usage``)
            candidates = _choice_facts(choices)[1] if isinstance(choices, (list, tuple)) else []
            return refs_among(candidates) if candidates else ()
    if isinstance(value, _SCALARS):
        return ()
    choices = _get(value, "choices")
    if choices is not None:  # OpenAI chat completions
        candidates = _choice_calls(choices)
    else:
        calls = _get(value, "tool_calls")  # LangChain AIMessage, an OpenAI message
        if calls is not None:
            candidates = _list(calls)
        else:  # Anthropic content blocks, else OpenAI responses-API output items
            candidates = _list(_get(value, "content")) or _list(_get(value, "output"))
    return refs_among(candidates)


def _choice_calls(choices: Any) -> list[Any]:
    """The tool calls of every choice's message (OpenAI chat completions)."""
    found: list[Any] = []
    for choice in choices if isinstance(choices, (list, tuple)) else ():
        calls = _get(_get(choice, "message"), "tool_calls")
        if calls:
            found += _list(calls)
    return found


def refs_among(candidates: list[Any]) -> tuple[ToolCallRef, ...]:
    """The tool calls among ``candidates``, by id: one call listed twice counts once.

    Also what an llm_call uses when ``_usage.read_response`` found the
    candidates while reading the finish reasons of a chat completion's choices.
    """
    refs: dict[str, ToolCallRef] = {}
    for candidate in candidates:
        ref = received(candidate) or _langchain_call(candidate)
        if ref is not None and ref.id not in refs:
            refs[ref.id] = ref
    return tuple(refs.values())


def _langchain_call(value: Any) -> ToolCallRef | None:
    """A LangChain tool call dict without its ``type`` key (older langchain-core)."""
    if not isinstance(value, dict) or "args" not in value:
        return None
    call_id = _text(value.get("id"), "tool call id")
    return None if call_id is None else ToolCallRef(call_id, _text(value.get("name"), "tool name"), value.get("args"))


class _Origins:
    """tool call id -> the span context of the model call that asked for it (most recent ids only).

    Process-wide and bounded: a tool normally runs right after the model call
    that asked for it, so the last few thousand ids are plenty; older ones are
    forgotten (their tool spans keep the id, without the link).
    """

    def __init__(self, capacity: int = 4096) -> None:
        self._capacity = capacity
        self._by_id: OrderedDict[str, SpanContext] = OrderedDict()
        self._lock = threading.Lock()

    def remember(self, call_ids: Iterable[str], origin: SpanContext) -> None:
        with self._lock:
            for call_id in call_ids:
                self._by_id[call_id] = origin
                self._by_id.move_to_end(call_id)
            while len(self._by_id) > self._capacity:
                self._by_id.popitem(last=False)

    def origin(self, call_id: str) -> SpanContext | None:
        with self._lock:
            return self._by_id.get(call_id)


ORIGINS = _Origins()
