"""Pure extraction: a provider return value or stream chunk -> token counts.

Why pure and duck-typed: otel-llm depends on no provider SDK, so responses are
read by shape, whether they are pydantic objects (OpenAI, Anthropic),
LangChain messages or plain dicts of the same. Nothing here raises: a value of
an unknown shape yields ``None`` and the span simply carries no usage.

Shapes understood:

* OpenAI chat completions: ``usage.prompt_tokens/completion_tokens``,
  ``prompt_tokens_details.cached_tokens``,
  ``completion_tokens_details.reasoning_tokens``; stream chunks carry
  ``choices[i].finish_reason`` and, on the last chunk, ``usage``.
* OpenAI responses API: ``usage.input_tokens/output_tokens``,
  ``input_tokens_details.cached_tokens``, ``output_tokens_details.reasoning_tokens``.
* Anthropic messages: ``usage.input_tokens`` *excludes* cache reads and
  writes; it is normalised so ``input_tokens`` includes them (the semconv
  meaning). Stream events ``message_start`` / ``message_delta`` are unwrapped.
* LangChain ``usage_metadata`` (on an ``AIMessage`` or as the value itself):
  ``input_tokens`` (cache included), ``input_token_details.cache_read`` /
  ``cache_creation``, ``output_token_details.reasoning``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, NamedTuple

__all__ = ["Usage", "extract_usage"]

_SCALARS = (str, bytes, bytearray, int, float, bool, type(None))
_MISSING = object()


@dataclass(slots=True)
class Usage:
    """Token counts and response facts of one LLM call (``None`` = unknown)."""

    input_tokens: int | None = None  # ALL input tokens, cached ones included (semconv)
    output_tokens: int | None = None  # reasoning tokens included
    cache_read_tokens: int | None = None
    cache_write_tokens: int | None = None
    reasoning_tokens: int | None = None
    response_model: str | None = None
    response_id: str | None = None
    finish_reasons: tuple[str, ...] = ()

    def merged(self, other: "Usage") -> "Usage":
        """A new Usage where ``other``'s known fields win (used to fold stream chunks)."""
        out = Usage()
        for f in fields(Usage):
            mine, theirs = getattr(self, f.name), getattr(other, f.name)
            if f.name == "finish_reasons":
                setattr(out, f.name, theirs or mine)
            else:
                setattr(out, f.name, mine if theirs is None else theirs)
        return out

    def is_empty(self) -> bool:
        return self == _EMPTY


_EMPTY = Usage()


def _get(obj: Any, key: str) -> Any:
    """``obj[key]`` for mappings, ``obj.key`` otherwise; ``None`` when absent.

    Ordered for speed (this runs on every decorated LLM call): plain dicts
    first, then attributes, and the slower ``Mapping`` ABC check only on a miss.
    """
    if type(obj) is dict:
        return obj.get(key)
    if obj is None:
        return None
    value = getattr(obj, key, None)
    if value is None and isinstance(obj, Mapping):
        return obj.get(key)
    return value


def _has(obj: Any, key: str) -> bool:
    return _get(obj, key) is not None


def _int(value: Any) -> int | None:
    """A non-negative token count, or ``None`` (mocks, strings and bools are not counts)."""
    if type(value) is int:
        return value if value >= 0 else None
    if type(value) is float and value.is_integer() and value >= 0:
        return int(value)
    return None


def _str(value: Any) -> str | None:
    return value if type(value) is str and value else None


def _sum(*values: int | None) -> int | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


class _Shape(NamedTuple):
    """A usage layout whose input count already includes cached tokens."""

    markers: tuple[str, ...]  # the first shape with any of these keys present wins
    input: str
    output: str
    cache_read: tuple[str, ...] | None
    cache_write: tuple[str, ...] | None
    reasoning: tuple[str, ...] | None


_SHAPES: tuple[_Shape, ...] = tuple(_Shape(*row) for row in (
    (  # OpenAI chat completions
        ("prompt_tokens", "completion_tokens"), "prompt_tokens", "completion_tokens",
        ("prompt_tokens_details", "cached_tokens"), None, ("completion_tokens_details", "reasoning_tokens"),
    ),
    (  # LangChain usage_metadata
        ("input_token_details", "output_token_details"), "input_tokens", "output_tokens",
        ("input_token_details", "cache_read"), ("input_token_details", "cache_creation"),
        ("output_token_details", "reasoning"),
    ),
    (  # OpenAI responses API
        ("input_tokens_details", "output_tokens_details"), "input_tokens", "output_tokens",
        ("input_tokens_details", "cached_tokens"), None, ("output_tokens_details", "reasoning_tokens"),
    ),
))


def _at(obj: Any, path: tuple[str, ...] | None) -> int | None:
    if path is None:
        return None
    for key in path:
        obj = _get(obj, key)
    return _int(obj)


def _tokens(u: Any) -> Usage:
    """Token counts from one usage object/dict, whatever its provider's shape."""
    if u is None or isinstance(u, _SCALARS):
        return Usage()
    for markers, inp, out, cache_read, cache_write, reasoning in _SHAPES:
        if any(_has(u, m) for m in markers):
            return Usage(
                input_tokens=_int(_get(u, inp)),
                output_tokens=_int(_get(u, out)),
                cache_read_tokens=_at(u, cache_read),
                cache_write_tokens=_at(u, cache_write),
                reasoning_tokens=_at(u, reasoning),
            )
    # Anthropic (input excludes cache) — or a bare {input_tokens, output_tokens}, same meaning.
    raw_input = _int(_get(u, "input_tokens"))
    cache_read_n = _int(_get(u, "cache_read_input_tokens"))
    cache_write_n = _int(_get(u, "cache_creation_input_tokens"))
    return Usage(
        input_tokens=_sum(raw_input, cache_read_n, cache_write_n) if raw_input is not None else None,
        output_tokens=_int(_get(u, "output_tokens")),
        cache_read_tokens=cache_read_n,
        cache_write_tokens=cache_write_n,
    )


def _looks_like_usage(value: Any) -> bool:
    return any(
        _has(value, k) for k in ("prompt_tokens", "completion_tokens", "input_tokens", "output_tokens")
    )


def _finish_reasons(value: Any) -> tuple[str, ...]:
    choices = _get(value, "choices")
    if isinstance(choices, (list, tuple)):
        reasons = tuple(r for r in (_str(_get(c, "finish_reason")) for c in choices) if r)
        if reasons:
            return reasons
    for holder in (value, _get(value, "delta")):  # Anthropic message / message_delta event
        reason = _str(_get(holder, "stop_reason"))
        if reason:
            return (reason,)
    meta = _get(value, "response_metadata")  # LangChain AIMessage
    reason = _str(_get(meta, "finish_reason")) or _str(_get(meta, "stop_reason"))
    if reason:
        return (reason,)
    reason = _str(_get(_get(value, "incomplete_details"), "reason"))  # OpenAI responses API
    return (reason,) if reason else ()


def _model(value: Any) -> str | None:
    model = _str(_get(value, "model"))
    if model:
        return model
    meta = _get(value, "response_metadata")  # LangChain AIMessage
    return _str(_get(meta, "model_name")) or _str(_get(meta, "model"))


def _extract(value: Any) -> Usage | None:
    if _get(value, "type") == "message_start":  # Anthropic stream: the message is nested
        value = _get(value, "message")
    usage_obj = _get(value, "usage")
    if usage_obj is None:
        usage_obj = _get(value, "usage_metadata")  # LangChain AIMessage
    if usage_obj is None and _looks_like_usage(value):
        usage_obj = value  # a bare usage dict or object
    result = _tokens(usage_obj)
    result.response_model = _model(value)
    result.response_id = _str(_get(value, "id"))
    result.finish_reasons = _finish_reasons(value)
    return None if result.is_empty() else result


def extract_usage(value: object) -> Usage | None:
    """Usage found in ``value`` (a response, stream chunk or usage dict), else ``None``. Never raises."""
    if isinstance(value, _SCALARS):
        return None
    try:
        return _extract(value)
    except Exception:  # noqa: BLE001 — a hostile __getattr__ must not break the caller
        return None
