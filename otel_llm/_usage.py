"""Pure extraction: a provider return value or stream chunk -> token counts.

Why pure and duck-typed: otel-llm depends on no provider SDK, so responses are
read by shape, whether they are pydantic objects (OpenAI, Anthropic),
LangChain messages or plain dicts of the same. Nothing here raises: a value of
an unknown shape yields ``None`` and the span simply carries no usage.

Shapes understood:

* OpenAI chat completions: ``usage.prompt_tokens/completion_tokens``,
  ``prompt_tokens_details.cached_tokens``,
  ``completion_tokens_details.reasoning_tokens``, the ``audio_tokens`` of both
  details (billed at audio rates) and the response's ``service_tier`` when it
  is not the standard one (flex, priority: billed at that tier); stream chunks carry
  ``choices[i].finish_reason`` and, on the last chunk, ``usage``.
  OpenAI-compatible providers' additions to it: DeepSeek's
  ``prompt_cache_hit_tokens`` (cache reads) and ``prompt_cache_miss_tokens``;
  litellm's Anthropic cache counts (``cache_creation_input_tokens``, ...);
  a billed cost in USD (OpenRouter's ``cost``, see :func:`_billed_cost`).
* OpenAI responses API: ``usage.input_tokens/output_tokens``,
  ``input_tokens_details.cached_tokens`` / ``cache_write_tokens``,
  ``output_tokens_details.reasoning_tokens``.
* Anthropic messages: ``usage.input_tokens`` *excludes* cache reads and
  writes; it is normalised so ``input_tokens`` includes them (the semconv
  meaning). Of the writes, ``cache_creation.ephemeral_1h_input_tokens`` are
  the 1-hour ones. Stream events ``message_start`` / ``message_delta`` are unwrapped.
* Gemini ``usage_metadata`` (google-genai objects, their ``model_dump()``) and
  its REST API's JSON (``usageMetadata: {promptTokenCount, ...}``,
  ``modelVersion``, ``responseId``, ``candidates[i].finishReason``).
* Bedrock: Converse's ``usage.inputTokens`` (cache excluded, as Anthropic's);
  InvokeModel's ``x-amzn-bedrock-*-token-count`` headers in boto3's
  ``ResponseMetadata`` and the ``amazon-bedrock-invocationMetrics`` of a
  streamed chunk's JSON, read as Converse's. Meta Llama's InvokeModel body:
  ``prompt_token_count`` / ``generation_token_count``.
* Ollama's API (and its python client's responses): ``prompt_eval_count`` /
  ``eval_count`` and ``done_reason`` on the response (a stream's last line).
* Cohere v2: ``usage.billed_units.input_tokens/output_tokens`` (what is
  billed; ``usage.tokens`` when absent), ``finish_reason`` at the top; its
  stream's ``message-end`` event holds both in its ``delta``. Cohere v1: the
  same counts under ``meta``; its stream's ``stream-end`` holds the response.
* LangChain ``usage_metadata`` (on an ``AIMessage`` or as the value itself):
  ``input_tokens`` (cache included), ``input_token_details.cache_read`` /
  ``cache_creation``, ``output_token_details.reasoning``; of the writes,
  ``input_token_details.ephemeral_1h_input_tokens`` (langchain-anthropic's).
  A ``ChatResult``/``LLMResult`` (``generate()``): the provider's own usage in
  its ``llm_output`` (``token_usage``, ``usage``), read as that provider's.

What counts as a token count (:func:`token_count`, also used by
``record_usage``): an integer of any numeric type (``int``, ``numpy.int64``,
``12.0``, ``Decimal("12")``) in 0..2**63-1, the range of OTLP's int64. A value
that claims to be a number but is not such a count — negative, fractional,
NaN, infinite, a bool, a numeric string, beyond int64 — is *dropped*: the
field stays unknown, :attr:`Usage.dropped` names it (the span carries it as
``otel_llm.usage.dropped``) and the first drop of each field is one notice on
stderr (:mod:`otel_llm._notices`: a person hears of dropped data whatever the
logging setup). A dropped count other than the provider's bill or a total
leaves the call without a cost (:meth:`Usage.partly_counted`): its other
counts would price only part of it. A count the SDK sums from parts (Anthropic's
and Bedrock's input with its cache counts, Gemini's prompt with its tool-use
prompt, its candidates with its thoughts) is dropped too when a part is: the
others' sum would understate it. Values that are not numbers at all (a mock, a nested object)
are a shape we do not read, not a bad count: ignored without a notice.
"""

from __future__ import annotations

import math
import numbers
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from decimal import Decimal
from operator import attrgetter, itemgetter
from typing import Any, NamedTuple

from otel_llm import _notices
from otel_llm._bounded_cache import CLASS_NAMES_REMEMBERED, remember
from otel_llm._content import type_name
from otel_llm._guard import internal_error

__all__ = [
    "INT64_MAX", "MAX_CALL_COST_USD", "RESPONSES_FINAL_EVENTS", "Billing", "Usage", "extract_usage", "read_response",
    "refused_bill", "sane_cost", "shown", "token_count",
]

_SCALARS = (str, bytes, bytearray, int, float, bool, type(None))
_MISSING = object()
INT64_MAX = 2**63 - 1  # OTLP carries int attributes and histogram sums as int64/double
_warned: set[str] = set()  # fields whose first dropped value was already said
# Dropped fields that leave the priced counts whole: the provider's bill (the call is then priced from its
# tokens) and a total (priced only through a split, never on its own).
_COST_NEUTRAL_DROPS = frozenset({"billed_cost", "total_tokens"})
# Above this for one call, the price, the count or the bill is wrong (``otel_llm.pricing``'s docstring).
MAX_CALL_COST_USD = 1000.0


def sane_cost(usd: float) -> bool:
    """Whether ``usd`` can be one call's cost: 0..:data:`MAX_CALL_COST_USD` (not NaN), computed or billed."""
    return 0.0 <= usd <= MAX_CALL_COST_USD


@dataclass(frozen=True, slots=True)
class Billing:
    """Facts of a call that its token counts and rates alone do not price right."""

    # Of the cache writes, those kept for an hour (Anthropic's ``ephemeral_1h``): billed at their own rate.
    cache_write_1h_tokens: int | None = None
    # The call's cost in USD as the provider billed it in its response (OpenRouter's usage.cost), and
    # where in the response it was read: the span's cost then, rather than a pricing of its tokens.
    cost_usd: float | None = None
    cost_source: str | None = None
    # The service tier that billed the call when it is not the standard one (OpenAI's ``service_tier``:
    # flex, priority, scale), priced at that tier's rates where the price table has them.
    service_tier: str | None = None
    # Of the input and output tokens, the audio ones (OpenAI's ``*_tokens_details.audio_tokens``): billed at
    # the model's audio rates.
    audio_input_tokens: int | None = None
    audio_output_tokens: int | None = None


_NO_BILLING = Billing()


def _bill(found: Usage, **facts: Any) -> None:
    """``found.billing`` with ``facts`` (those not ``None``) set."""
    known = {name: value for name, value in facts.items() if value is not None}
    if known:
        found.billing = replace(found.billing or _NO_BILLING, **known)


# ``service_tier`` values that name the standard rate: OpenAI's default (and the request's auto),
# Groq's on_demand, Anthropic's standard.
_STANDARD_TIERS = frozenset({"default", "auto", "on_demand", "standard"})


def _tier(value: Any, found: Usage) -> None:
    """The response's ``service_tier`` (``value``'s), on ``found.billing`` when it is not the standard tier."""
    tier = _get(value, "service_tier")
    if type(tier) is str and tier and tier not in _STANDARD_TIERS:
        _bill(found, service_tier=tier)


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
    dropped: tuple[str, ...] = ()  # fields whose value was not a valid token count
    # What the provider bills apart from the token rates (None for most calls: one field, so building
    # a Usage on the hot path costs one store for all of them).
    billing: Billing | None = None
    # The total token count of a response that gives only a total (no input or output count): it
    # can be neither split nor priced, yet the call used tokens. ``None`` whenever a split is known.
    total_tokens: int | None = None

    def merged(self, other: "Usage") -> "Usage":
        """A new Usage where ``other``'s known fields win (used to fold stream chunks)."""
        out = Usage()
        for f in fields(Usage):
            mine, theirs = getattr(self, f.name), getattr(other, f.name)
            if f.name == "finish_reasons":
                setattr(out, f.name, theirs or mine)
            elif f.name == "dropped":  # a count lost here and given there is no longer lost
                kept = tuple(name for name in mine if _value_of(other, name) is None) if mine else mine
                setattr(out, f.name, tuple(dict.fromkeys(kept + theirs)) if theirs else kept)
            elif f.name == "billing" and mine is not None and theirs is not None:  # fact by fact, theirs win
                setattr(out, f.name, replace(mine, **{
                    b.name: getattr(theirs, b.name) for b in fields(Billing) if getattr(theirs, b.name) is not None
                }))
            else:
                setattr(out, f.name, mine if theirs is None else theirs)
        return out

    def partly_counted(self) -> bool:
        """Whether a count the call's price depends on was dropped (``dropped``).

        Such a call's valid counts are kept, but a cost computed from them
        would cover part of the call and be summed as its whole cost: it gets
        none. Reasoning tokens count too: Gemini's thoughts are part of the
        output it prices.
        """
        return any(name not in _COST_NEUTRAL_DROPS for name in self.dropped)

    def is_empty(self) -> bool:
        return (
            self.input_tokens is None
            and self.output_tokens is None
            and self.cache_read_tokens is None
            and self.cache_write_tokens is None
            and self.reasoning_tokens is None
            and self.billing is None
            and self.response_model is None
            and self.response_id is None
            and not self.finish_reasons
            and not self.dropped
            and self.total_tokens is None
        )


def _value_of(usage: Usage, dropped: str) -> Any:
    """The value ``usage`` has for the field a ``Usage.dropped`` entry names (``None``: none)."""
    if dropped == "billed_cost":
        return usage.billing.cost_usd if usage.billing is not None else None
    if dropped in _BILLING_COUNTS:
        return getattr(usage.billing, dropped) if usage.billing is not None else None
    return getattr(usage, dropped, None)


# The counts of ``Billing`` a ``Usage.dropped`` entry may name.
_BILLING_COUNTS = frozenset({"cache_write_1h_tokens", "audio_input_tokens", "audio_output_tokens"})


def _get(obj: Any, key: str) -> Any:
    """``obj[key]`` for mappings, ``obj.key`` otherwise; ``None`` when absent.

    Ordered for speed (this runs on every decorated LLM call): plain dicts
    first, then attributes, and the slower ``Mapping`` ABC check only on a miss.
    Pydantic models (OpenAI, Anthropic, LangChain objects) answer a *missing*
    attribute through a Python ``__getattr__`` that costs ~2 µs; most keys
    probed here are missing, so for them a name that is neither a declared
    field, an extra field nor a class attribute is known absent without asking.
    A class's declared fields are looked up once (:func:`_declared_fields`).
    """
    tp = type(obj)
    if tp is dict:
        return obj.get(key)
    if obj is None:
        return None
    try:
        fields = _FIELDS.get(tp, _MISSING)
        if fields is _MISSING:
            fields = _declared_fields(tp)
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
    except Exception:  # noqa: BLE001 — the app's object raised in its own __getattr__/get: not our fault
        return None
    return value


_CLASS_NAMES: dict[tuple[type, str], bool] = {}
# class -> its pydantic ``__pydantic_fields__`` (``None``: not a pydantic model). Reading
# the attribute goes through pydantic's metaclass; a dict lookup is a third of that.
_FIELDS: dict[type, Any] = {}


def _declared_fields(tp: type) -> Any:
    """The declared fields of a pydantic class (``None`` for any other class), remembered."""
    return remember(_FIELDS, tp, getattr(tp, "__pydantic_fields__", None))


def _class_has(tp: type, key: str) -> bool:
    """``hasattr(tp, key)``, remembered: on a pydantic class a miss costs a metaclass ``__getattr__``."""
    known = _CLASS_NAMES.get((tp, key))
    if known is None:
        known = remember(_CLASS_NAMES, (tp, key), hasattr(tp, key), CLASS_NAMES_REMEMBERED)
    return known


def _has(obj: Any, key: str) -> bool:
    return _get(obj, key) is not None


def token_count(value: Any, field: str, dropped: list[str], strict: bool = False) -> int | None:
    """``value`` as a token count, or ``None``; an invalid number is appended to ``dropped``.

    ``strict`` (values the app passed explicitly): any value that is not a
    count is dropped, not only numbers. The common case (a plain ``int`` in
    range, or ``None``) is two checks.
    """
    if type(value) is int and 0 <= value <= INT64_MAX:
        return value
    if value is None:
        return None
    return _checked_count(value, field, dropped, strict)


def _checked_count(value: Any, field: str, dropped: list[str], strict: bool) -> int | None:
    if not strict and not isinstance(value, (numbers.Number, Decimal, str, bytes)):
        return None  # not a number at all (a mock, an object): a shape we don't read
    count: int | None = None
    try:
        if isinstance(value, numbers.Integral) and not isinstance(value, bool):
            count = int(value)
        elif isinstance(value, Decimal):
            if value.is_finite() and value == value.to_integral_value():
                count = int(value)
        elif isinstance(value, numbers.Real) and not isinstance(value, bool):
            if math.isfinite(value) and value == int(value):
                count = int(value)
    except Exception:  # noqa: BLE001 — the app's number type raised converting itself: no count, as -5 is none
        count = None
    if count is not None and 0 <= count <= INT64_MAX:
        return count
    dropped.append(field)
    if field not in _warned:
        _warned.add(field)
        _notices.notice(
            f"dropped an invalid token count {field}={shown(value)} (a count is an integer in 0..2**63-1); "
            f"spans with a dropped count name it in otel_llm.usage.dropped"
            f"{'' if field in _COST_NEUTRAL_DROPS else ' and get no cost (the other counts would price only part of the call)'}"
            f", further drops of {field} are not reported"
        )
    return None


def shown(value: Any) -> str:
    """A short ``repr`` for a notice; the app's ``__repr__`` may raise or be huge."""
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 — the app's __repr__ failed: not our fault
        text = f"<{type_name(value)}>"
    return text if len(text) <= 80 else text[:77] + "..."


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
    # Reads (input, output, and the objects holding the three nested counts) from an
    # object of a class that declares them (see ``_declared_tokens``); a path the
    # shape lacks reads the input count again, in its place.
    heads: Callable[[Any], tuple[Any, ...]]
    # The key of each nested count (cache read, cache write, reasoning) in its holder; None: not in the shape.
    leaves: tuple[str | None, str | None, str | None]
    # Reads what providers speaking this shape add to it (see ``_openai_additions``); None: nothing.
    added: Callable[[Any, Usage], Usage] | None = None


def _shape(
    markers: tuple[str, ...],
    input: str,  # noqa: A002 — the field's name
    output: str,
    cache_read: tuple[str, ...] | None,
    cache_write: tuple[str, ...] | None,
    reasoning: tuple[str, ...] | None,
    added: Callable[[Any, Usage], Usage] | None = None,
) -> _Shape:
    paths = (cache_read, cache_write, reasoning)
    holders = (p[0] if p else input for p in paths)
    leaves = tuple(p[1] if p else None for p in paths)
    return _Shape(
        markers, input, output, cache_read, cache_write, reasoning, attrgetter(input, output, *holders), leaves,  # type: ignore[arg-type]
        added,
    )


def _openai_additions(u: Any, found: Usage) -> Usage:
    """``found`` (read as OpenAI's chat usage) completed with what OpenAI-compatible providers add to ``u``.

    Their ``prompt_tokens`` includes the cache, as OpenAI's does; only counts
    OpenAI's own fields left unknown are taken. DeepSeek:
    ``prompt_cache_hit_tokens`` are cache reads (``prompt_cache_miss_tokens``
    the rest of the input). litellm (over Anthropic, whose cache it adds to
    ``prompt_tokens``): Anthropic's ``cache_creation_input_tokens`` /
    ``cache_read_input_tokens`` kept on its Usage, or the writes as
    ``prompt_tokens_details.cache_creation_tokens`` (the 1-hour ones in its
    ``cache_creation_token_details``).
    """
    dropped: list[str] = []
    if found.cache_read_tokens is None:
        found.cache_read_tokens = token_count(
            _first(u, "prompt_cache_hit_tokens", "cache_read_input_tokens"), "cache_read_tokens", dropped,
        )
    if found.cache_write_tokens is None:
        write = _get(u, "cache_creation_input_tokens")
        if write is None:
            write = _get(_get(u, "prompt_tokens_details"), "cache_creation_tokens")
        found.cache_write_tokens = token_count(write, "cache_write_tokens", dropped)
    if found.cache_write_tokens:
        _bill(found, cache_write_1h_tokens=token_count(
            _get(_get(_get(u, "prompt_tokens_details"), "cache_creation_token_details"), _ANTHROPIC_1H),
            "cache_write_1h_tokens", dropped,
        ))
    if found.input_tokens is None and found.cache_read_tokens is not None:
        miss = token_count(_get(u, "prompt_cache_miss_tokens"), "input_tokens", dropped)
        if miss is not None:
            found.input_tokens = _bounded(found.cache_read_tokens + miss, "input_tokens", dropped)
    _billed_cost(u, found, dropped)
    if dropped:
        found.dropped = tuple(dict.fromkeys(found.dropped + tuple(dropped)))
    return found


def _billed_cost(u: Any, found: Usage, dropped: list[str]) -> None:
    """The provider's bill for the call in ``u`` (a usage), set on ``found``; an amount that is not one is dropped.

    OpenRouter: ``cost`` is what it charged (credits, which are USD); with the
    user's own provider key (``is_byok``) that is its fee, and the provider
    bills ``cost_details.upstream_inference_cost`` on top, so both are the call's cost
    (the fee alone is a part of it: without a readable upstream bill, no bill is read).
    A dropped bill is said once (the call is then priced from its tokens).
    """
    raw = _get(u, "cost")
    if raw is None:
        return
    cost = _amount(raw)
    if cost is None:
        if isinstance(raw, (numbers.Number, Decimal, str, bytes)):  # claims to be an amount: said
            _drop_bill(f"usage.cost={shown(raw)} is no amount (a finite number >= 0 in USD)", dropped)
        return  # not a number at all (a mock, an object): a shape we don't read
    source = "response:usage.cost"
    if _get(u, "is_byok") is True:
        raw_upstream = _get(_get(u, "cost_details"), "upstream_inference_cost")
        upstream = _amount(raw_upstream)
        if upstream is None:
            _drop_bill(f"usage.cost_details.upstream_inference_cost={shown(raw_upstream)} is no amount beside "
                       "is_byok (usage.cost is then OpenRouter's fee alone, a part of the call's cost)", dropped)
            return
        cost += upstream
        source = "response:usage.cost+cost_details.upstream_inference_cost"
    if not refused_bill(cost, source.removeprefix("response:"), dropped):
        _bill(found, cost_usd=cost, cost_source=source)


def refused_bill(usd: float, named: str, dropped: list[str]) -> bool:
    """Whether the bill ``usd`` (an amount, read from ``named``) is refused as more than one call costs
    (:func:`sane_cost`, the bound a computed price is held to): then dropped (``billed_cost`` in ``dropped``),
    the first such bill said on stderr, and the call priced from its tokens."""
    if sane_cost(usd):
        return False
    _drop_bill(f"{named}={usd!r} USD is above {MAX_CALL_COST_USD:g} USD, more than one call costs (a wrong unit "
               "or a corrupt bill)", dropped, said="billed_cost_bound")
    return True


def _drop_bill(why: str, dropped: list[str], said: str = "billed_cost") -> None:
    """A bill dropped (``billed_cost`` in ``dropped``) because ``why``; the first drop of each kind ``said``
    (no amount, beyond the bound) on stderr."""
    dropped.append("billed_cost")
    if said not in _warned:
        _warned.add(said)
        _notices.notice(
            f"ignored the provider's bill for a call: {why}; the call is priced from its tokens. Spans "
            "name it in otel_llm.usage.dropped as billed_cost, further such bills are not reported"
        )


def _amount(value: Any) -> float | None:
    """``value`` as an amount of money: a finite real number >= 0 (not a bool, not text); else ``None``
    (also for a number of the app's type that raises converting itself)."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, Decimal)):
        return None
    try:
        amount = float(value)
    except Exception:  # noqa: BLE001 — the app's number type: no amount
        return None
    return amount if math.isfinite(amount) and amount >= 0 else None


def _first(u: Any, *keys: str) -> Any:
    """The value of the first of ``keys`` that ``u`` has (``None``: none)."""
    for key in keys:
        value = _get(u, key)
        if value is not None:
            return value
    return None


def _audio(prompt_details: Any, completion_details: Any, found: Usage) -> None:
    """OpenAI's audio tokens (``audio_tokens`` of ``prompt_tokens_details`` and ``completion_tokens_details``,
    part of the input and output counts) on ``found.billing``, when either is non-zero."""
    if prompt_details is None and completion_details is None:
        return
    dropped: list[str] = []
    audio_in = token_count(_get(prompt_details, "audio_tokens"), "audio_input_tokens", dropped)
    audio_out = token_count(_get(completion_details, "audio_tokens"), "audio_output_tokens", dropped)
    if audio_in or audio_out:
        _bill(found, audio_input_tokens=audio_in or None, audio_output_tokens=audio_out or None)
    if dropped:
        found.dropped = tuple(dict.fromkeys(found.dropped + tuple(dropped)))


# The names ``_openai_additions`` reads: a usage class declaring one (or whose prompt_tokens_details
# class declares one) is read through it too.
_OPENAI_ADDED = (
    "prompt_cache_hit_tokens", "prompt_cache_miss_tokens", "cache_creation_input_tokens", "cache_read_input_tokens",
    "cache_creation_tokens", "cost",
)

# Anthropic's name of the cache writes kept for an hour (in ``usage.cache_creation``; litellm's and
# LangChain's copies of it keep the name).
_ANTHROPIC_1H = "ephemeral_1h_input_tokens"


def _langchain_additions(u: Any, found: Usage) -> Usage:
    """``found`` (LangChain's usage_metadata) with langchain-anthropic's 1-hour cache writes."""
    if found.cache_write_tokens:
        dropped: list[str] = []
        _bill(found, cache_write_1h_tokens=token_count(
            _get(_get(u, "input_token_details"), _ANTHROPIC_1H), "cache_write_1h_tokens", dropped,
        ))
        if dropped:
            found.dropped = tuple(dict.fromkeys(found.dropped + tuple(dropped)))
    return found


def _responses_additions(u: Any, found: Usage) -> Usage:
    """``found`` (read as the Responses API's usage) with a gateway's bill in ``u`` (OpenRouter's ``cost``)."""
    dropped: list[str] = []
    _billed_cost(u, found, dropped)
    if dropped:
        found.dropped = tuple(dict.fromkeys(found.dropped + tuple(dropped)))
    return found


_SHAPES: tuple[_Shape, ...] = tuple(_shape(*row) for row in (
    (  # OpenAI chat completions (and the OpenAI-compatible APIs: DeepSeek, ...)
        ("prompt_tokens", "completion_tokens"), "prompt_tokens", "completion_tokens",
        ("prompt_tokens_details", "cached_tokens"), None, ("completion_tokens_details", "reasoning_tokens"),
        _openai_additions,
    ),
    (  # LangChain usage_metadata
        ("input_token_details", "output_token_details"), "input_tokens", "output_tokens",
        ("input_token_details", "cache_read"), ("input_token_details", "cache_creation"),
        ("output_token_details", "reasoning"), _langchain_additions,
    ),
    (  # OpenAI responses API (cache reads and writes both part of its input_tokens)
        ("input_tokens_details", "output_tokens_details"), "input_tokens", "output_tokens",
        ("input_tokens_details", "cached_tokens"), ("input_tokens_details", "cache_write_tokens"),
        ("output_tokens_details", "reasoning_tokens"), _responses_additions,
    ),
))

_CHAT = _SHAPES[0]  # OpenAI's chat usage: its details may hold audio counts


def _at(obj: Any, path: tuple[str, ...] | None, field: str, dropped: list[str]) -> int | None:
    if path is None:
        return None
    for key in path:
        obj = _get(obj, key)
    return token_count(obj, field, dropped)


def _shape_of(u: Any) -> _Shape | None:
    """The first shape whose markers ``u`` has (``None``: Anthropic's or a bare pair)."""
    for shape in _SHAPES:
        if _has(u, shape.markers[0]) or _has(u, shape.markers[1]):
            return shape
    return None


def _declared_shape(tp: type) -> _Shape | None | bool:
    """The shape of a pydantic usage class, decided from its declared fields once.

    ``False`` when the class cannot decide it alone (no declared fields, a
    shape's marker declared without all the fields that shape reads, or extra
    fields allowed and no shape declared): its objects are probed one by one.
    ``None`` only when no shape's marker can be there: Anthropic's layout or a bare pair.
    """
    known = _SHAPE_OF.get(tp, _MISSING)
    if known is _MISSING:
        fields = getattr(tp, "__pydantic_fields__", None)
        known = False
        if fields is not None:
            # Declared in full (markers and the fields read): its objects are read directly.
            known = next((s for s in _SHAPES if _declares(fields, s)), None)
            if known is None and (
                (getattr(tp, "model_config", None) or {}).get("extra") == "allow"  # an extra could be a marker
                or any(marker in fields for s in _SHAPES for marker in s.markers)  # a shape declared in part
            ):
                known = False
        remember(_SHAPE_OF, tp, known)
    return known  # type: ignore[return-value]


_SHAPE_OF: dict[type, Any] = {}


def _declares(fields: Any, shape: _Shape) -> bool:
    paths = (shape.cache_read, shape.cache_write, shape.reasoning)
    return (shape.markers[0] in fields or shape.markers[1] in fields) and all(
        name in fields for name in (shape.input, shape.output, *(p[0] for p in paths if p))
    )


def _declared_tokens(u: Any, shape: _Shape) -> Usage:
    """``_tokens`` for a pydantic usage object whose class declares ``shape``'s fields: read directly.

    Counts that are plain ints in range (what providers send) are taken as
    they are; any other value sends all five through :func:`token_count`.
    """
    try:
        inp, out, read_in, write_in, reasoning_in = shape.heads(u)  # one C-level pass
    except AttributeError:  # a declared field left unset (``model_construct``)
        inp, out = getattr(u, shape.input, None), getattr(u, shape.output, None)
        read_in, write_in, reasoning_in = (
            getattr(u, p[0], None) if p else None for p in (shape.cache_read, shape.cache_write, shape.reasoning)
        )
    read, write, reasoning = shape.leaves
    values = (
        inp,
        out,
        None if read is None or read_in is None else _leaf(read_in, read),
        None if write is None or write_in is None else _leaf(write_in, write),
        None if reasoning is None or reasoning_in is None else _leaf(reasoning_in, reasoning),
    )
    found = None
    for value in values:
        if value is not None and (type(value) is not int or not 0 <= value <= INT64_MAX):
            dropped: list[str] = []
            counts = [token_count(v, name, dropped) for v, name in zip(values, _TOKEN_FIELDS)]
            found = Usage(*counts, dropped=tuple(dropped))
            break
    if found is None:
        found = Usage(*values)
    if shape is _CHAT:
        _audio(read_in, reasoning_in, found)
    if shape.added is not None and (getattr(u, "__pydantic_extra__", None) or _declares_added(type(u))):
        found = shape.added(u, found)
    return _with_total(u, found) if found.input_tokens is None and found.output_tokens is None else found


_DECLARES_ADDED: dict[type, bool] = {}


def _declares_added(tp: type) -> bool:
    """Whether a pydantic usage class declares a field an OpenAI-compatible provider adds, remembered."""
    known = _DECLARES_ADDED.get(tp)
    if known is None:
        details = _declared_class(tp, "prompt_tokens_details", ())
        known = remember(_DECLARES_ADDED, tp, any(
            name in (getattr(cls, "__pydantic_fields__", None) or {}) for cls in (tp, details) for name in _OPENAI_ADDED
        ))
    return known


def _leaf(holder: Any, key: str) -> Any:
    """``_get(holder, key)`` for a details object: a plain attribute read when its class declares ``key``."""
    fields = _FIELDS.get(type(holder))
    if fields is not None and key in fields:
        return getattr(holder, key, None)
    return _get(holder, key)


# The token fields of Usage, in order (the names token_count reports a dropped value under).
_TOKEN_FIELDS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "reasoning_tokens")


# How the usage layouts spell a total token count: OpenAI's and LangChain's, google-genai's,
# Gemini's REST JSON, Bedrock Converse's.
_TOTAL_KEYS = ("total_tokens", "total_token_count", "totalTokenCount", "totalTokens")


def _with_total(u: Any, found: Usage) -> Usage:
    """``found`` (no input or output count read from ``u``) with the total ``u`` gives, if any.

    Read only when the split is unknown: a total beside a split says nothing more.
    """
    for key in _TOTAL_KEYS:
        raw = _get(u, key)
        if raw is not None:
            dropped: list[str] = []
            found.total_tokens = token_count(raw, "total_tokens", dropped)
            if dropped:
                found.dropped = tuple(dict.fromkeys(found.dropped + tuple(dropped)))
            break
    return found


def _tokens(u: Any) -> Usage:
    """Token counts from one usage object/dict, whatever its provider's shape: its split, else its total."""
    shape = _declared_shape(type(u))
    if shape:
        return _declared_tokens(u, shape)
    if u is None or isinstance(u, _SCALARS):
        return Usage()
    found = _split_tokens(u, shape)
    if found.input_tokens is None:
        return _with_total(u, found) if found.output_tokens is None else _beside_total(u, found, "input_tokens")
    return found if found.output_tokens is not None else _beside_total(u, found, "output_tokens")


def _beside_total(u: Any, found: Usage, missing: str) -> Usage:
    """``found`` (``missing`` unknown, the other side of the split known) with ``missing`` named dropped when
    ``u``'s total passes the known side: the call had tokens its counts leave out, priced it would cost a part.

    A total equal to the known side (an embedding's ``prompt_tokens`` = ``total_tokens``) leaves nothing out.
    """
    known = found.output_tokens if missing == "input_tokens" else found.input_tokens
    for key in _TOTAL_KEYS:
        raw = _get(u, key)
        if raw is not None:
            total = token_count(raw, "total_tokens", [])
            if total is not None and known is not None and total > known and missing not in found.dropped:
                found.dropped = (*found.dropped, missing)
                if f"{missing}:total" not in _warned:
                    _warned.add(f"{missing}:total")
                    other = "output_tokens" if missing == "input_tokens" else "input_tokens"
                    _notices.notice(
                        f"a usage gave {key}={total} beside {other}={known} and no {missing}: the call had tokens "
                        f"its counts leave out, so it gets no cost (otel_llm.usage.dropped names {missing}), "
                        "further such usages are not reported"
                    )
            break
    return found


def _split_tokens(u: Any, shape: _Shape | None | bool) -> Usage:
    """The counts of ``u`` (not a scalar; ``shape``: its declared shape, ``False``/``None`` when none)."""
    dropped: list[str] = []
    if shape is False:
        shape = _shape_of(u)
    if shape is not None:
        _markers, inp, out, cache_read, cache_write, reasoning, _heads, _leaves, added = shape
        found = Usage(
            input_tokens=token_count(_get(u, inp), "input_tokens", dropped),
            output_tokens=token_count(_get(u, out), "output_tokens", dropped),
            cache_read_tokens=_at(u, cache_read, "cache_read_tokens", dropped),
            cache_write_tokens=_at(u, cache_write, "cache_write_tokens", dropped),
            reasoning_tokens=_at(u, reasoning, "reasoning_tokens", dropped),
            dropped=tuple(dropped),
        )
        if shape is _CHAT:
            _audio(_get(u, "prompt_tokens_details"), _get(u, "completion_tokens_details"), found)
        return found if added is None else added(u, found)
    raw_input = _get(u, "input_tokens")
    if raw_input is None and _get(u, "output_tokens") is None:
        for inp, out in _PAIRS:
            if _has(u, out):
                return Usage(
                    input_tokens=token_count(_get(u, inp), "input_tokens", dropped),
                    output_tokens=token_count(_get(u, out), "output_tokens", dropped),
                    dropped=tuple(dropped),
                )
        if _has(u, "prompt_token_count") or _has(u, "candidates_token_count"):
            return _gemini_tokens(u, _GEMINI_COUNTS, dropped)
        if _has(u, "promptTokenCount") or _has(u, "candidatesTokenCount"):  # Gemini's REST JSON
            return _gemini_tokens(u, _GEMINI_REST_COUNTS, dropped)
        if _has(u, "inputTokens") or _has(u, "outputTokens"):  # Bedrock Converse
            return _cache_excluded(
                u, _get(u, "inputTokens"), "outputTokens", "cacheReadInputTokens", "cacheWriteInputTokens", dropped,
            )
        for counts in (_get(u, "billed_units"), _get(u, "tokens")):  # Cohere v2: billed, else seen by the model
            if counts is not None and not isinstance(counts, _SCALARS) and (
                _has(counts, "input_tokens") or _has(counts, "output_tokens")
            ):
                return _tokens(counts)
    # Anthropic — or a bare {input_tokens, output_tokens}, same meaning.
    found = _cache_excluded(
        u, raw_input, "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens", dropped,
    )
    _tier(u, found)  # Anthropic's usage.service_tier: priority, batch (standard: nothing)
    if found.cache_write_tokens:
        _bill(found, cache_write_1h_tokens=token_count(
            _get(_get(u, "cache_creation"), _ANTHROPIC_1H), "cache_write_1h_tokens", dropped,
        ))
        if dropped:
            found.dropped = tuple(dict.fromkeys(dropped))
    return found


# Layouts that are a bare (input, output) pair, no cache or reasoning, known by their output's
# name: Meta Llama's InvokeModel body on Bedrock (whose prompt count is named as Gemini's), Ollama's API.
_PAIRS = (("prompt_token_count", "generation_token_count"), ("prompt_eval_count", "eval_count"))


def _cache_excluded(
    u: Any, raw_input: Any, output: str, cache_read: str, cache_write: str, dropped: list[str],
) -> Usage:
    """A layout whose input count *excludes* cache reads and writes (Anthropic, Bedrock): they are added to it
    (with one of the three dropped, the input is unknown: the others' sum is below it)."""
    mark = len(dropped)
    raw_input = token_count(raw_input, "input_tokens", dropped)
    cache_read_n = token_count(_get(u, cache_read), "cache_read_tokens", dropped)
    cache_write_n = token_count(_get(u, cache_write), "cache_write_tokens", dropped)
    total_input = _total(mark, _sum(raw_input, cache_read_n, cache_write_n) if raw_input is not None else None,
                         "input_tokens", dropped)
    return Usage(
        input_tokens=total_input,
        output_tokens=token_count(_get(u, output), "output_tokens", dropped),
        cache_read_tokens=cache_read_n,
        cache_write_tokens=cache_write_n,
        dropped=tuple(dropped),
    )


class _GeminiCounts(NamedTuple):
    """The names of Gemini's usage counts in one spelling."""

    prompt: str
    tool_prompt: str
    candidates: str
    thoughts: str
    cached: str


# google-genai's objects (and their ``model_dump()``), and the REST API's JSON (``usageMetadata``).
_GEMINI_COUNTS = _GeminiCounts(
    "prompt_token_count", "tool_use_prompt_token_count", "candidates_token_count", "thoughts_token_count",
    "cached_content_token_count",
)
_GEMINI_REST_COUNTS = _GeminiCounts(
    "promptTokenCount", "toolUsePromptTokenCount", "candidatesTokenCount", "thoughtsTokenCount",
    "cachedContentTokenCount",
)


def _gemini_tokens(u: Any, names: _GeminiCounts, dropped: list[str]) -> Usage:
    """Gemini's usage (``names``: its spelling): the prompt count includes the cached tokens; the output ones
    exclude thoughts.

    Output is candidates + thoughts (reasoning included, as OpenAI counts it),
    input the prompt plus the tool-use prompt (tool results Gemini reads back,
    billed as input; genai-prices counts them alike). Gemini leaves out a count
    that is zero, so either part of a sum may be absent; a part dropped leaves
    the sum unknown.
    """
    mark = len(dropped)
    prompt = token_count(_get(u, names.prompt), "input_tokens", dropped)
    tool_prompt = token_count(_get(u, names.tool_prompt), "input_tokens", dropped)
    input_tokens = _total(mark, _sum(prompt, tool_prompt), "input_tokens", dropped)
    mark = len(dropped)
    candidates = token_count(_get(u, names.candidates), "output_tokens", dropped)
    thoughts = token_count(_get(u, names.thoughts), "reasoning_tokens", dropped)
    return Usage(
        input_tokens=input_tokens,
        output_tokens=_total(mark, _sum(candidates, thoughts), "output_tokens", dropped),
        cache_read_tokens=token_count(_get(u, names.cached), "cache_read_tokens", dropped),
        reasoning_tokens=thoughts,
        dropped=tuple(dropped),
    )


# The Responses API's last stream events: each carries the whole response, usage included.
RESPONSES_FINAL_EVENTS = frozenset({"response.completed", "response.incomplete", "response.failed"})


def _total(mark: int, total: int | None, field: str, dropped: list[str]) -> int | None:
    """``total``, the sum of parts read since ``dropped`` held ``mark`` names, as ``field``'s count.

    A part dropped since then leaves the total unknown, named in ``dropped`` too:
    the sum of the others would understate it (and a count summed, compared,
    priced as the whole).
    """
    if len(dropped) > mark:
        if field not in dropped:
            dropped.append(field)
        return None
    return _bounded(total, field, dropped)


def _bounded(total: int | None, field: str, dropped: list[str]) -> int | None:
    """A sum of valid counts, dropped (and said) when it passes int64."""
    return token_count(total, field, dropped) if total is not None and total > INT64_MAX else total


def _looks_like_usage(value: Any) -> bool:
    return any(
        _has(value, k) for k in (
            "prompt_tokens", "completion_tokens", "input_tokens", "output_tokens",
            "prompt_token_count", "candidates_token_count", "inputTokens", "outputTokens",  # Gemini, Bedrock
            "promptTokenCount", "candidatesTokenCount",  # Gemini's REST JSON
            "eval_count",  # Ollama
            *_TOTAL_KEYS,  # a usage that is only a total
        )
    )


# Bedrock InvokeModel's counts, named as Converse names them (the input excludes the cache in both):
# in the response headers (botocore lowercases their names), and in the invocation metrics
# on the last chunk of InvokeModelWithResponseStream.
_BEDROCK_HEADER_COUNTS = (
    ("x-amzn-bedrock-input-token-count", "inputTokens"),
    ("x-amzn-bedrock-output-token-count", "outputTokens"),
    ("x-amzn-bedrock-cache-read-input-token-count", "cacheReadInputTokens"),
    ("x-amzn-bedrock-cache-write-input-token-count", "cacheWriteInputTokens"),
)
_BEDROCK_METRIC_COUNTS = (
    ("inputTokenCount", "inputTokens"),
    ("outputTokenCount", "outputTokens"),
    ("cacheReadInputTokenCount", "cacheReadInputTokens"),
    ("cacheWriteInputTokenCount", "cacheWriteInputTokens"),
)
_BEDROCK_INVOCATION_METRICS = "amazon-bedrock-invocationMetrics"


def _bedrock_invoke_usage(value: dict[Any, Any]) -> dict[str, Any] | None:
    """Bedrock InvokeModel's counts as a Converse usage dict (``None``: none there).

    From boto3's result, the headers (``ResponseMetadata.HTTPHeaders``): the
    body, a stream the app reads once, is never touched. From a streamed
    chunk's model JSON, its ``amazon-bedrock-invocationMetrics``. A header is
    text: one of ASCII digits is the count, any other value goes on to
    :func:`token_count`, which drops it (and names it).
    """
    metrics = value.get(_BEDROCK_INVOCATION_METRICS)
    if isinstance(metrics, Mapping):
        return _renamed(metrics, _BEDROCK_METRIC_COUNTS)
    meta = value.get("ResponseMetadata")
    headers = meta.get("HTTPHeaders") if type(meta) is dict else None
    return _renamed(headers, _BEDROCK_HEADER_COUNTS) if isinstance(headers, Mapping) else None


def _renamed(source: Mapping[Any, Any], names: tuple[tuple[str, str], ...]) -> dict[str, Any] | None:
    """The counts of ``source`` under their Converse names, header text as numbers; ``None``: none there."""
    found = {}
    for name, converse in names:
        raw = source.get(name)
        if raw is not None:
            found[converse] = int(raw) if type(raw) is str and raw.isascii() and raw.isdigit() else raw
    return found or None


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
    reason = _str(_get(value, "finish_reason"))  # Cohere v2
    if reason:
        return (reason,)
    meta = _get(value, "response_metadata")  # LangChain AIMessage
    reason = _str(_get(meta, "finish_reason")) or _str(_get(meta, "stop_reason"))
    if reason:
        return (reason,)
    reason = _str(_get(_get(value, "incomplete_details"), "reason"))  # OpenAI responses API
    if reason:
        return (reason,)
    candidates = _get(value, "candidates")  # Gemini: a FinishReason enum per candidate (a string in REST JSON)
    if isinstance(candidates, (list, tuple)):
        reasons = tuple(r for r in (_candidate_reason(c) for c in candidates) if r)
        if reasons:
            return reasons
    reason = _str(_get(value, "stopReason")) or _str(_get(value, "done_reason"))  # Bedrock Converse, Ollama
    return (reason,) if reason else ()


def _candidate_reason(candidate: Any) -> str | None:
    """A Gemini candidate's finish reason: google-genai's ``finish_reason``, the REST JSON's ``finishReason``."""
    return _name(_get(candidate, "finish_reason")) or _name(_get(candidate, "finishReason"))


def _name(value: Any) -> str | None:
    """A non-empty string, or the string value of an enum member (google-genai's ``FinishReason.STOP``: "STOP")."""
    return _str(value) or _str(_get(value, "value"))


def _choice_reasons(choices: list[Any] | tuple[Any, ...]) -> tuple[str, ...]:
    """The non-empty string ``finish_reason`` of each choice, in order."""
    if len(choices) == 1:  # the common case (n=1): no list to build
        reason = _get(choices[0], "finish_reason")
        return (reason,) if type(reason) is str and reason else ()
    reasons = []
    for choice in choices:
        reason = _get(choice, "finish_reason")
        if type(reason) is str and reason:
            reasons.append(reason)
    return tuple(reasons)


def _response_id(value: Any) -> str | None:
    """The id of a response that has no ``id``: Gemini's ``response_id`` (``responseId`` in its REST JSON)."""
    return _str(_get(value, "response_id")) or _str(_get(value, "responseId"))


def _model(value: Any) -> str | None:
    model = _str(_get(value, "model"))
    if model:
        return model
    meta = _get(value, "response_metadata")  # LangChain AIMessage
    if meta is None:
        meta = _get(value, "llm_output")  # LangChain ChatResult / LLMResult
    return (
        _str(_get(meta, "model_name")) or _str(_get(meta, "model"))
        or _str(_get(value, "model_version")) or _str(_get(value, "modelVersion"))  # Gemini: object, REST JSON
    )


def _llm_output_usage(value: Any) -> Any:
    """The provider's usage in a LangChain ``ChatResult``/``LLMResult``'s ``llm_output``, if any:
    langchain-openai's ``token_usage``, langchain-anthropic's ``usage``."""
    output = _get(value, "llm_output")
    if not isinstance(output, Mapping):
        return None
    usage = output.get("token_usage")
    return usage if usage is not None else output.get("usage")


class _Plan(NamedTuple):
    """Where a pydantic response class keeps its facts, from its declared fields."""

    usage: str  # the field holding the usage object
    model: bool  # ``model`` declared
    id: bool  # ``id`` declared
    choices: bool  # ``choices`` declared (finish reasons per choice)
    # All four declared (an OpenAI chat completion): one C-level read of
    # (usage, model, id, choices) instead of four lookups.
    read_all: Callable[[Any], tuple[Any, Any, Any, Any]] | None = None
    # The whole layout declared, down to the choices' messages (see ``_Layout``).
    layout: "_Layout | None" = None
    # A provider's own layout read by its own function (Gemini's: ``_gemini_response``).
    reader: Callable[[Any], tuple["Usage | None", None]] | None = None
    # ``service_tier`` declared (OpenAI's responses): read for a tier billed otherwise than the standard one.
    tier: bool = False


class _Layout(NamedTuple):
    """A chat completion class read in a few C-level passes: the classes it declares, all the way down.

    From the declared fields (and their annotations) of the response class,
    its usage class (with a declared shape), the classes holding the nested
    counts, its choice class and the choice's message class. An object whose
    parts are of exactly these classes, with plain int counts in range, a
    model name and one choice with a finish reason — what a provider's chat
    completion is — is read by :func:`_read_layout` without probing; any other
    object goes the general way (:func:`_planned`), with the same result.
    """

    # (usage, model, id, choices), then the service tier when the class declares one (``tiered``), read from
    # the object's ``__dict__``, where pydantic keeps declared fields: a dict lookup each, not a class lookup first.
    read_all: Callable[[Any], tuple[Any, ...]]
    usage_class: type
    # The usage shape's ``heads``, then the usage's pydantic extras: fields a provider added
    # (DeepSeek's, a gateway's) send the object the general way, which reads them.
    heads: Callable[[Any], tuple[Any, ...]]
    holders: tuple[type | None, type | None, type | None]  # the class of each count holder (None: not in the shape)
    leaves: tuple[str | None, str | None, str | None]  # the count's key in each holder
    choice_class: type
    message_class: type
    # The response class declares ``service_tier``: a tier other than the standard one goes the general way.
    tiered: bool = False
    # The count holders are OpenAI's details (``cached_tokens`` and ``reasoning_tokens``, each holder
    # declaring ``audio_tokens``): read by name, and a non-zero audio count goes the general way.
    audio: bool = False


def _declared_class(owner: type, name: str, keys: tuple[str, ...]) -> type | None:
    """The pydantic class the field ``name`` of ``owner`` holds (``X``, ``X | None``, ``list[X]``) if it declares ``keys``."""
    info = (getattr(owner, "__pydantic_fields__", None) or {}).get(name)
    annotation = getattr(info, "annotation", None)
    for candidate in (annotation, *typing.get_args(annotation)):
        fields = getattr(candidate, "__pydantic_fields__", None) if isinstance(candidate, type) else None
        if fields is not None and all(key in fields for key in keys):
            return candidate
    return None


def _layout(tp: type, usage: str) -> _Layout | None:
    """The layout of a planned response class, when every class down to the messages is declared; else ``None``."""
    usage_class = _declared_class(tp, usage, ())
    shape = _declared_shape(usage_class) if usage_class is not None else None
    choice_class = _declared_class(tp, "choices", ("finish_reason", "message"))
    message_class = _declared_class(choice_class, "message", ("tool_calls",)) if choice_class else None
    if not shape or message_class is None:
        return None
    paths = (shape.cache_read, shape.cache_write, shape.reasoning)
    holders = tuple(_declared_class(usage_class, p[0], (p[1],)) if p else None for p in paths)
    if any(p and holder is None for p, holder in zip(paths, holders)):
        return None  # a nested count whose holder class is not declared: the general path reads it
    if _declares_added(usage_class):
        return None  # a provider's own usage class: the general path reads what it adds
    heads = attrgetter(shape.input, shape.output, *(p[0] if p else shape.input for p in paths), "__pydantic_extra__")
    tiered = "service_tier" in (getattr(tp, "__pydantic_fields__", None) or {})
    read_holder, _, reasoning_holder = holders
    audio = shape.leaves == _OPENAI_DETAILS and all(
        cls is not None and "audio_tokens" in (getattr(cls, "__pydantic_fields__", None) or {})
        for cls in (read_holder, reasoning_holder)
    )
    return _Layout(
        itemgetter(usage, "model", "id", "choices", *(("service_tier",) if tiered else ())), usage_class, heads,
        holders, shape.leaves, choice_class, message_class, tiered, audio,  # type: ignore[arg-type]
    )


# The keys of the counts in OpenAI's chat usage details (cache reads, cache writes, reasoning).
_OPENAI_DETAILS = ("cached_tokens", None, "reasoning_tokens")


# What ``_held_count`` says of a count a layout cannot read: the general path reads the object.
_NOT_USUAL: Any = object()


def _held_count(holder: Any, holder_class: type, key: str | None) -> Any:
    """The count ``key`` of ``holder`` (a layout's count holder, of a count the shape has),
    or ``_NOT_USUAL`` when the holder is not of ``holder_class`` or the count not a plain int in range."""
    if type(holder) is not holder_class:
        return _NOT_USUAL
    count = getattr(holder, key)  # type: ignore[arg-type]
    return count if count is None or (type(count) is int and 0 <= count <= INT64_MAX) else _NOT_USUAL


# The tool calls of a message that asks for none (shared: nothing appends to it).
_NO_CALLS: list[Any] = []


def _read_layout(value: Any, layout: _Layout) -> tuple[Usage, list[Any]] | None:
    """``_planned`` for an object of the usual layout (see :class:`_Layout`); ``None``: read it the general way.

    Runs on the caller's thread for every decorated call that returns a chat
    completion: every check is a type identity or a range, every read one
    C-level pass.
    """
    # The layout's parts in one unpacking (a NamedTuple's attributes are a lookup each).
    read_all, usage_class, heads, holders, leaves, choice_class, message_class, tiered, audio = layout
    try:
        if tiered:
            usage_obj, model, response_id, choices, tier = read_all(value.__dict__)
            # A tier other than the standard one (rare) is billed otherwise: the general path reads it.
            if tier != "default" and tier is not None and (type(tier) is not str or tier not in _STANDARD_TIERS):
                return None
        else:
            usage_obj, model, response_id, choices = read_all(value.__dict__)
        if (
            type(usage_obj) is not usage_class or type(model) is not str or not model
            or type(choices) is not list or len(choices) != 1 or type(choices[0]) is not choice_class
        ):
            return None
        inp, out, read_in, write_in, reasoning_in, added = heads(usage_obj)
        reason, message = _FIELDS_REASON_AND_MESSAGE(choices[0].__dict__)
        if (
            added or type(inp) is not int or type(out) is not int or inp < 0 or out < 0 or inp > INT64_MAX
            or out > INT64_MAX or type(reason) is not str or not reason or type(message) is not message_class
        ):
            return None
        read_class, write_class, reasoning_class = holders
        read_key, write_key, reasoning_key = leaves
        read = reasoning = None
        if audio:
            # OpenAI's details, read by name (a plain attribute read is half a getattr). Audio tokens (rare)
            # are billed at audio rates: a non-zero audio count sends the object the general way.
            if read_in is not None:
                if type(read_in) is not read_class or read_in.audio_tokens:
                    return None
                read = read_in.cached_tokens
            if reasoning_in is not None:
                if type(reasoning_in) is not reasoning_class or reasoning_in.audio_tokens:
                    return None
                reasoning = reasoning_in.reasoning_tokens
        else:
            # A count the shape does not have (no holder class) is None, without a call.
            if read_in is not None and read_class is not None:
                read = _held_count(read_in, read_class, read_key)
            if reasoning_in is not None and reasoning_class is not None:
                reasoning = _held_count(reasoning_in, reasoning_class, reasoning_key)
        write = None if write_in is None or write_class is None else _held_count(write_in, write_class, write_key)
        if (
            write is _NOT_USUAL  # (a _NOT_USUAL read or reasoning count is not an int either)
            or (read is not None and (type(read) is not int or read < 0 or read > INT64_MAX))
            or (reasoning is not None and (type(reasoning) is not int or reasoning < 0 or reasoning > INT64_MAX))
        ):
            return None
        calls = message.tool_calls
    except (AttributeError, KeyError):  # a declared field left unset (``model_construct``): the general path reads it
        return None
    return Usage(
        inp, out, read, write, reasoning, model, response_id if type(response_id) is str and response_id else None,
        (reason,),
    ), (calls if type(calls) is list else list(calls) if calls and isinstance(calls, tuple) else _NO_CALLS)


def _plan(tp: type) -> _Plan | None:
    """The plan of a pydantic response class, once per class; ``None``: probe its objects."""
    known = _PLANS.get(tp, _MISSING)
    if known is _MISSING:
        fields = getattr(tp, "__pydantic_fields__", None)
        known = None
        # A declared ``type`` may be an Anthropic stream event (``message_start`` nests the message).
        if fields is not None and "type" not in fields:
            usage = next((name for name in ("usage", "usage_metadata") if name in fields), None)
            if usage == "usage_metadata" and all(name in fields for name in _GEMINI_FIELDS):
                known = _Plan(usage, False, False, False, reader=_gemini_response)
            elif usage is not None:
                declared = ("model" in fields, "id" in fields, "choices" in fields)
                read_all = attrgetter(usage, "model", "id", "choices") if all(declared) else None
                known = _Plan(usage, *declared, read_all, _layout(tp, usage) if read_all is not None else None,
                              tier="service_tier" in fields)
        remember(_PLANS, tp, known)
    return known  # type: ignore[return-value]


_PLANS: dict[type, Any] = {}


def _planned(value: Any, plan: _Plan) -> tuple[Usage | None, list[Any] | None]:
    """``_extract`` for a planned pydantic response with usage: declared fields read directly.

    Same result as the probing path (tested side by side); ``None`` when the
    object has no usage, so the probing path decides. Second: the tool calls of
    the response's choices, found in the same pass as their finish reasons
    (``None``: not read; ``_toolcalls.requested`` looks for them).
    """
    if plan.reader is not None:
        return plan.reader(value)
    read_all = plan.read_all
    if read_all is not None:
        try:
            usage_obj, model, response_id, choices = read_all(value)
        except AttributeError:  # a declared field left unset (``model_construct``): read one by one
            read_all = None
    if read_all is None:
        usage_obj = getattr(value, plan.usage, None)
        if usage_obj is None:
            return None, None
        model = getattr(value, "model", None) if plan.model else None
        response_id = getattr(value, "id", None) if plan.id else _get(value, "id")
        choices = getattr(value, "choices", None) if plan.choices else None
    if usage_obj is None:
        return None, None
    shape = _SHAPE_OF.get(type(usage_obj), _MISSING)
    if shape is _MISSING:
        shape = _declared_shape(type(usage_obj))
    result = _declared_tokens(usage_obj, shape) if shape else _tokens(usage_obj)
    result.response_model = model if type(model) is str and model else _model(value)
    result.response_id = response_id if type(response_id) is str and response_id else _response_id(value)
    if isinstance(choices, (list, tuple)):
        reasons, calls = _choice_facts(choices)
    else:
        reasons, calls = (), None
    result.finish_reasons = reasons or _finish_reasons(value)
    if plan.tier:
        _tier(value, result)
    if result.input_tokens is None and result.output_tokens is None and result.is_empty():
        return None, None
    return result, calls


# What google-genai's ``GenerateContentResponse`` declares: usage, model, id, candidates.
_GEMINI_FIELDS = ("usage_metadata", "model_version", "response_id", "candidates")
_GEMINI_READ = attrgetter(*_GEMINI_FIELDS)


def _gemini_response(value: Any) -> tuple[Usage | None, None]:
    """``_planned`` for a Gemini response: its declared fields read in one pass, as the probing path reads them."""
    try:
        usage_obj, model, response_id, candidates = _GEMINI_READ(value)
    except AttributeError:  # a declared field left unset (``model_construct``): the probing path reads it
        return None, None
    if usage_obj is None:
        return None, None
    result = _tokens(usage_obj)
    result.response_model = _str(model)
    result.response_id = _str(response_id)
    if isinstance(candidates, (list, tuple)):
        result.finish_reasons = tuple(r for r in (_candidate_reason(c) for c in candidates) if r)
    return (None if result.is_empty() else result), None


# What a pydantic choice of a chat completion holds: its finish reason and message.
_REASON_AND_MESSAGE = attrgetter("finish_reason", "message")
# The same two fields of a choice of a layout's declared class, from its ``__dict__`` (see ``_Layout.read_all``).
_FIELDS_REASON_AND_MESSAGE = itemgetter("finish_reason", "message")


def _choice_facts(choices: list[Any] | tuple[Any, ...]) -> tuple[tuple[str, ...], list[Any]]:
    """The non-empty string ``finish_reason`` of each choice, and the tool calls of their messages, in one pass."""
    reasons: tuple[str, ...] = ()
    calls: list[Any] = []
    for choice in choices:
        if type(choice) is dict:
            reason, message = choice.get("finish_reason"), choice.get("message")
        else:
            try:
                reason, message = _REASON_AND_MESSAGE(choice)
            except Exception:  # noqa: BLE001 — not declared, or the app's object raised: read as _get reads
                reason, message = _get(choice, "finish_reason"), _get(choice, "message")
        if type(reason) is str and reason:
            reasons += (reason,)
        if message is not None:
            found = message.get("tool_calls") if type(message) is dict else _get(message, "tool_calls")
            if found and isinstance(found, (list, tuple)):
                calls += found
    return reasons, calls


def _extract(value: Any) -> Usage | None:
    tp = type(value)
    if tp is not dict and tp not in _PLANS:
        plan = _plan(tp)  # first object of its class: plan the class, then read it the planned way
        if plan is not None:
            result = _planned(value, plan)[0]
            if result is not None:
                return result
    event = _get(value, "type")
    if event == "message_start":  # Anthropic stream: the message is nested
        value = _get(value, "message")
    elif event == "message-end":  # Cohere v2 stream: usage and finish reason in its delta
        value = _get(value, "delta")
    elif type(event) is str and event in RESPONSES_FINAL_EVENTS:  # Responses API stream: the response is nested
        value = _get(value, "response")
    elif event is None and _get(value, "event_type") == "stream-end":  # Cohere v1 stream: the response is nested
        value = _get(value, "response")
    usage_obj = _get(value, "usage")
    if usage_obj is None:
        usage_obj = _get(value, "usage_metadata")  # LangChain AIMessage, Gemini
        if usage_obj is None:
            usage_obj = _get(value, "usageMetadata")  # Gemini's REST JSON
            if usage_obj is None:
                meta = _get(value, "meta")  # Cohere v1: its counts under meta
                if meta is not None and (_has(meta, "billed_units") or _has(meta, "tokens")):
                    usage_obj = meta
            if usage_obj is None and type(value) is dict:
                usage_obj = _bedrock_invoke_usage(value)
            if usage_obj is None:
                usage_obj = _llm_output_usage(value)
    if usage_obj is None and _looks_like_usage(value):
        usage_obj = value  # a bare usage dict or object
    result = _tokens(usage_obj)
    result.response_model = _model(value)
    result.response_id = _str(_get(value, "id")) or _response_id(value)
    result.finish_reasons = _finish_reasons(value)
    _tier(value, result)
    return None if result.is_empty() else result


def extract_usage(value: object) -> Usage | None:
    """Usage found in ``value`` (a response, stream chunk or usage dict), else ``None``. Never raises.

    The app's objects may raise when read (a hostile ``__getattr__``): ``_get``
    treats that as "absent". Anything else raised here is otel-llm's own fault
    and goes through the guard.
    """
    return read_response(value)[0]


def read_response(value: object) -> tuple[Usage | None, list[Any] | None]:
    """:func:`extract_usage`, and the tool calls of a chat completion's choices when read on the way.

    The second value is ``None`` when they were not read (another shape, or
    no usage): ``_toolcalls.requested`` then looks for them. Never raises.
    """
    try:
        plan = _PLANS.get(type(value))  # a known provider class: the common case, first
        if plan is not None:
            layout = plan.layout
            if layout is not None:
                usual = _read_layout(value, layout)
                if usual is not None:
                    return usual
            found = _planned(value, plan)
            if found[0] is not None:
                return found
        if isinstance(value, _SCALARS):
            return None, None
        return _extract(value), None
    except Exception as exc:  # noqa: BLE001 — our fault: logged once (raised in our tests)
        internal_error("usage.extract", exc)
        return None, None
