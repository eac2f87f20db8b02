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
        return (
            self.input_tokens is None
            and self.output_tokens is None
            and self.cache_read_tokens is None
            and self.cache_write_tokens is None
            and self.reasoning_tokens is None
            and self.response_model is None
            and self.response_id is None
            and not self.finish_reasons
        )


def _get(obj: Any, key: str) -> Any:
    """``obj[key]`` for mappings, ``obj.key`` otherwise; ``None`` when absent.

    Ordered for speed (this runs on every decorated LLM call): plain dicts
    first, then attributes, and the slower ``Mapping`` ABC check only on a miss.
    Pydantic models (OpenAI, Anthropic, LangChain objects) answer a *missing*
    attribute through a Python ``__getattr__`` that costs ~2 µs; most keys
    probed here are missing, so for them a name that is neither a declared
    field, an extra field nor a class attribute is known absent without asking.
    """
    tp = type(obj)
    if tp is dict:
        return obj.get(key)
    if obj is None:
        return None
    fields = getattr(tp, "__pydantic_fields__", None)
    if fields is not None:  # a pydantic model is never a Mapping
        if key in fields:
            return getattr(obj, key, None)
        extra = getattr(obj, "__pydantic_extra__", None)
        if extra and key in extra:
            return extra[key]
        # Neither a field nor an extra: a property or computed field, or absent.
        return getattr(obj, key, None) if _class_has(tp, key) else None
    value = getattr(obj, key, None)
    if value is None and isinstance(obj, Mapping):
        return obj.get(key)
    return value


_CLASS_NAMES: dict[tuple[type, str], bool] = {}


def _class_has(tp: type, key: str) -> bool:
    """``hasattr(tp, key)``, remembered: on a pydantic class a miss costs a metaclass ``__getattr__``."""
    known = _CLASS_NAMES.get((tp, key))
    if known is None:
        known = _CLASS_NAMES[(tp, key)] = hasattr(tp, key)
    return known


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


def _shape_of(u: Any) -> _Shape | None:
    """The first shape whose markers ``u`` has (``None``: Anthropic's or a bare pair)."""
    for shape in _SHAPES:
        if _has(u, shape.markers[0]) or _has(u, shape.markers[1]):
            return shape
    return None


def _declared_shape(tp: type) -> _Shape | None | bool:
    """The shape of a pydantic usage class, decided from its declared fields once.

    ``False`` when the class cannot decide it alone (no declared fields, or
    extra fields allowed and no shape declared): its objects are probed one by one.
    """
    known = _SHAPE_OF.get(tp, _MISSING)
    if known is _MISSING:
        fields = getattr(tp, "__pydantic_fields__", None)
        known = False
        if fields is not None:
            # Declared in full (markers and the fields read): its objects are read directly.
            known = next((s for s in _SHAPES if _declares(fields, s)), None)
            if known is None and (getattr(tp, "model_config", None) or {}).get("extra") == "allow":
                known = False  # an extra field could carry a shape's marker
        _SHAPE_OF[tp] = known
    return known  # type: ignore[return-value]


_SHAPE_OF: dict[type, Any] = {}


def _declares(fields: Any, shape: _Shape) -> bool:
    paths = (shape.cache_read, shape.cache_write, shape.reasoning)
    return (shape.markers[0] in fields or shape.markers[1] in fields) and all(
        name in fields for name in (shape.input, shape.output, *(p[0] for p in paths if p))
    )


def _declared_tokens(u: Any, shape: _Shape) -> Usage:
    """``_tokens`` for a pydantic usage object whose class declares ``shape``'s fields: read directly."""
    return Usage(
        _int(getattr(u, shape.input, None)),
        _int(getattr(u, shape.output, None)),
        None if shape.cache_read is None else _nested(u, shape.cache_read),
        None if shape.cache_write is None else _nested(u, shape.cache_write),
        None if shape.reasoning is None else _nested(u, shape.reasoning),
    )


def _nested(u: Any, path: tuple[str, ...]) -> int | None:
    return _int(_get(getattr(u, path[0], None), path[1]))


def _tokens(u: Any) -> Usage:
    """Token counts from one usage object/dict, whatever its provider's shape."""
    shape = _declared_shape(type(u))
    if shape:
        return _declared_tokens(u, shape)
    if u is None or isinstance(u, _SCALARS):
        return Usage()
    if shape is False:
        shape = _shape_of(u)
    if shape is not None:
        _markers, inp, out, cache_read, cache_write, reasoning = shape
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
        reasons = _choice_reasons(choices)
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


def _choice_reasons(choices: list[Any] | tuple[Any, ...]) -> tuple[str, ...]:
    reasons = []
    for choice in choices:
        reason = _get(choice, "finish_reason")
        if type(reason) is str and reason:
            reasons.append(reason)
    return tuple(reasons)


def _model(value: Any) -> str | None:
    model = _str(_get(value, "model"))
    if model:
        return model
    meta = _get(value, "response_metadata")  # LangChain AIMessage
    return _str(_get(meta, "model_name")) or _str(_get(meta, "model"))


class _Plan(NamedTuple):
    """Where a pydantic response class keeps its facts, from its declared fields."""

    usage: str  # the field holding the usage object
    model: bool  # ``model`` declared
    id: bool  # ``id`` declared
    choices: bool  # ``choices`` declared (finish reasons per choice)


def _plan(tp: type) -> _Plan | None:
    """The plan of a pydantic response class, once per class; ``None``: probe its objects."""
    known = _PLANS.get(tp, _MISSING)
    if known is _MISSING:
        fields = getattr(tp, "__pydantic_fields__", None)
        known = None
        # A declared ``type`` may be an Anthropic stream event (``message_start`` nests the message).
        if fields is not None and "type" not in fields:
            usage = next((name for name in ("usage", "usage_metadata") if name in fields), None)
            if usage is not None:
                known = _Plan(usage, "model" in fields, "id" in fields, "choices" in fields)
        _PLANS[tp] = known
    return known  # type: ignore[return-value]


_PLANS: dict[type, Any] = {}


def _planned(value: Any, plan: _Plan) -> Usage | None:
    """``_extract`` for a planned pydantic response with usage: declared fields read directly.

    Same result as the probing path (tested side by side); ``None`` when the
    object has no usage, so the probing path decides.
    """
    usage_obj = getattr(value, plan.usage, None)
    if usage_obj is None:
        return None
    shape = _SHAPE_OF.get(type(usage_obj)) or _declared_shape(type(usage_obj))
    result = _declared_tokens(usage_obj, shape) if shape else _tokens(usage_obj)
    result.response_model = (_str(value.model) if plan.model else None) or _model(value)
    result.response_id = _str(value.id if plan.id else _get(value, "id"))
    choices = value.choices if plan.choices else None
    reasons = _choice_reasons(choices) if isinstance(choices, (list, tuple)) else ()
    result.finish_reasons = reasons or _finish_reasons(value)
    if result.input_tokens is not None or result.output_tokens is not None:
        return result
    return None if result.is_empty() else result


def _extract(value: Any) -> Usage | None:
    tp = type(value)
    if tp is not dict and tp not in _PLANS:
        plan = _plan(tp)  # first object of its class: plan the class, then read it the planned way
        if plan is not None:
            result = _planned(value, plan)
            if result is not None:
                return result
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
    try:
        plan = _PLANS.get(type(value))  # a known provider class: the common case, first
        if plan is not None:
            found = _planned(value, plan)
            if found is not None:
                return found
        if isinstance(value, _SCALARS):
            return None
        return _extract(value)
    except Exception:  # noqa: BLE001 — a hostile __getattr__ must not break the caller
        return None
