"""Pure pricing: (model, usage) -> cost in USD, or ``None`` when the model is unknown.

Where prices come from: the user's ``pricing`` (a dict, or a JSON/YAML file;
USD per 1M tokens: ``input``, ``output``, ``cache_read``, ``cache_write``,
``cache_write_1h``, ``input_audio``, ``output_audio``)
merged over the bundled snapshot of `genai-prices` (auto-update stays off, so
costs are reproducible offline). User entries win.

Why we do our own arithmetic: one ``genai_prices.calc_price`` call costs about
70 µs, three times a whole span. So each (provider, model) is resolved **once**
through genai-prices' data lookup (``find_provider_model`` + ``get_prices``,
which also maps dated names such as ``gpt-4o-2024-08-06`` to their family) and
the per-token rates are cached; a span then costs four multiplications.

A ``vendor/model`` id (OpenRouter's and litellm's naming, e.g.
``anthropic/claude-sonnet-4.5``) that the call's provider does not list is
priced at the vendor's own list price (``claude-sonnet-4.5`` by Anthropic),
else at OpenRouter's listing of the id. Any other id the call's provider does
not list is priced at its maker's listing, else at the one provider that lists
it (Groq's models called through the openai client), and the cost's ``note``
names that provider; an id several providers list is not priced.

Tiered prices (e.g. long-context rates) are handled like genai-prices does:
the tier is chosen by the call's *total* input tokens and applies to all of
that call's tokens (the "cliff" model). Time-conditional prices (off-peak
discounts, price changes) are resolved at lookup time and then cached for the
life of the PriceBook. Non-token prices (per-request fees, web searches) are
ignored: otel-llm only knows tokens.

Arithmetic: uncached input = input − cache_read − cache_write at the input
rate; cache reads and writes at their own rates (the input rate when the model
has none); output (reasoning included) at the output rate. Cached tokens are
thus priced once, at the cache rate. Cache writes kept for an hour (Anthropic's
1-hour TTL, ``Usage.billing.cache_write_1h_tokens``) are priced at the model's 1-hour
write rate (genai-prices' ``cache_write_1h_mtok``); a model without one prices
them at its cache-write rate, and the cost's ``note`` says so.

OpenAI's service tiers (``Usage.billing.service_tier``: flex, priority, ...)
are priced at the tier's rates where genai-prices lists them for the model
(its ``price_variants``); a tier without listed rates is priced at the
standard rates and the cost's ``note`` says so (the span's ``otel_llm.cost.note``).
Audio tokens (``Usage.billing.audio_input_tokens`` / ``audio_output_tokens``, part
of the input and output counts) are priced at the model's audio rates
(``input_audio_mtok`` / ``output_audio_mtok``); a model without one prices them
at its text rate, and the ``note`` says so.

Incomplete usage: a call whose usage lost a count to an invalid value
(``Usage.dropped``, other than the provider's bill) gets no cost, as an unknown
model does; the dropped count's notice on stderr says so. The counts left
would price only part of the call, a low cost summed as its whole. So does a
call with output tokens and no input count (every call reads a prompt) whose
model has an input rate: no cost, one notice per model. Cache reads
and writes beyond the input that includes them (or beside no input count), audio
tokens beyond the input or output, 1-hour writes beyond the writes are counts
that contradict each other: no cost, one notice per model. So are
input or output tokens of a model whose price has no rate for them (a user
entry with an output price alone), rather than a cost that leaves them out.

Sanity bound: a cost is never negative, NaN or above :data:`MAX_CALL_COST_USD`
($1,000) for one call. The most expensive models listed today charge about
$600 per million output tokens, so a long-context call with a long answer
costs tens of dollars; a thousand dollars for one call means a wrong price
unit (per token instead of per million) or a corrupt token count. Such a call
gets no cost (its tokens are kept; :meth:`ModelRates.refusal`, the ingest's rule,
refuses it alike) and one notice per model on stderr says why
(:mod:`otel_llm._notices`, as for a model without a price: a cost dropped is
said whatever the logging setup). A bill the provider or the app gives for a
call is held to the same bound (``_usage.refused_bill``).

Faults: a bad user price file or entry is the user's to fix (one notice on
stderr each, the rest loads: its calls would otherwise go unpriced or priced
otherwise without a word); anything else failing here is otel-llm's own fault
and goes through the internal-error guard.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NamedTuple

from otel_llm import _notices
from otel_llm._bounded_cache import BoundedCache
from otel_llm._guard import internal_error
from otel_llm._names import MAX_NAME_CHARS
from otel_llm._usage import MAX_CALL_COST_USD, Usage, sane_cost, shown

__all__ = ["CACHED_MODELS", "Cost", "MAX_CALL_COST_USD", "ModelRates", "PriceBook"]

_PER_MILLION = 1_000_000.0
# Models without a price named on stderr, one notice each; past them one notice says more are not named
# (a model name that changes per call, a deployment id with a request id, must not flood the app's stderr).
_UNKNOWN_MODELS_SAID = 10
# Models a PriceBook's caches keep per generation (BoundedCache): twice as many at most; more are resolved again.
CACHED_MODELS = 128
_USER_KEYS = ("input", "output", "cache_read", "cache_write", "cache_write_1h", "input_audio", "output_audio")

# gen_ai.provider.name (semconv) -> genai-prices provider id, where they differ.
_PROVIDER_IDS = {
    "gcp.gemini": "google",
    "gcp.vertex_ai": "google",
    "gcp.gen_ai": "google",
    "aws.bedrock": "aws",
    "azure.ai.openai": "azure",
    "azure.ai.inference": "azure",
    "x_ai": "x-ai",
    "mistral_ai": "mistral",
}
# The vendor prefix of a litellm model id (``gemini/gemini-2.5-pro``) -> genai-prices provider id, where they differ.
_VENDOR_IDS = {"gemini": "google", "vertex_ai": "google", "bedrock": "aws", "xai": "x-ai", "mistralai": "mistral"}
# A (provider, model) not in a PriceBook's cache yet (``None`` there means "no price").
_UNRESOLVED: Any = object()
# Date suffixes providers append to a model family: -2024-08-06, -20241022, @20241022.
_DATED = re.compile(r"(?:[-@]\d{4}-\d{2}-\d{2}|[-@]\d{8})$")
# The resource path Google's APIs put before a model's name (google-genai's ``model_version``, the REST
# API's ``modelVersion``, Vertex AI's full names): no part of the name a price table lists.
_RESOURCE_PATH = re.compile(r"^(?:projects/[^/]+/locations/[^/]+/)?(?:publishers/[^/]+/)?models/(?=[^/]+$)")
# An AWS Bedrock model id (``anthropic.claude-…-v1:0``, with an optional cross-region prefix
# ``us.``/``eu.``/``apac.``/``global.``…): a vendor and a dot no other provider's names start with.
# Priced by genai-prices' AWS entries only, so such an id is looked up there even when the
# call names no provider (or another one).
_BEDROCK_ID = re.compile(
    r"^(?:[a-z]{2,6}(?:-[a-z]+)?\.)?"
    r"(?:anthropic|amazon|meta|mistral|cohere|ai21|deepseek|qwen|openai|writer|twelvelabs|stability)\."
)


class Cost(NamedTuple):
    """The price of one call in USD and where the rate came from (a tuple: built on every priced call)."""

    usd: float
    source: str  # "user" | "genai-prices@<version>"
    # What the cost could not price as billed (a tier or a 1-hour write without its rate): the span's
    # otel_llm.cost.note. ``None`` for most calls.
    note: str | None = None


# ``Cost(usd, source)`` without the Python-level ``__new__`` of a NamedTuple: the same tuple, built in C.
_new_cost = tuple.__new__


@dataclass(frozen=True)
class _Rate:
    """USD per token, with optional (threshold, rate) tiers chosen by total input tokens."""

    base: float
    tiers: tuple[tuple[int, float], ...] = ()

    def at(self, total_input: int) -> float:
        if not self.tiers:
            return self.base
        for start, rate in reversed(self.tiers):
            if total_input > start:
                return rate
        return self.base


@dataclass(frozen=True)
class ModelRates:
    """Per-token rates of one model, resolved once."""

    input: _Rate | None
    output: _Rate | None
    cache_read: _Rate | None
    cache_write: _Rate | None
    source: str
    cache_write_1h: _Rate | None = None  # writes kept for an hour; None: priced as ``cache_write``
    input_audio: _Rate | None = None  # audio input tokens; None: priced as ``input``
    output_audio: _Rate | None = None  # audio output tokens; None: priced as ``output``
    # Why these rates are another provider's than the call's (its cost's note); None: the call's own.
    note: str | None = None

    def __post_init__(self) -> None:
        # No tiered rate (most models): (input, cache read, cache write, output, 1-hour cache write)
        # USD per token, so pricing a call is four products (five with 1-hour writes); an unpriced part costs 0.
        rates = (self.input, self.cache_read, self.cache_write, self.output, self.cache_write_1h)
        flat = None
        if not any(rate is not None and rate.tiers for rate in rates):
            base = self.input.base if self.input is not None else None
            write = 0.0 if base is None else (self.cache_write.base if self.cache_write else base)
            flat = (
                base or 0.0,
                0.0 if base is None else (self.cache_read.base if self.cache_read else base),
                write,
                self.output.base if self.output is not None else 0.0,
                self.cache_write_1h.base if self.cache_write_1h and base is not None else write,
            )
        object.__setattr__(self, "_flat", flat)

    def refusal(self, usage: Usage) -> str | None:
        """Why ``usage`` gets no cost at these rates (``None``: it is priced), as :meth:`PriceBook.cost` rules.

        A dropped count the price depends on, counts that contradict each other,
        tokens of a kind these rates have no rate for, or no count of a kind they
        price every call by (:meth:`missing_count`): any price would be a part
        taken for the whole. A price no call costs (:func:`sane_cost`) is a wrong
        unit or a corrupt count, refused as :meth:`PriceBook.cost` refuses it. For callers that price with :meth:`price`
        directly (the analysis's ingest) and report refusals themselves.
        """
        if usage.dropped and usage.partly_counted():
            return "a token count was dropped as invalid"
        if _contradiction(usage) is not None:
            return "token counts contradict each other"
        missing = self.missing_rate(usage)
        if missing is not None:
            return f"its price has no {missing} rate"
        lacking = self.missing_count(usage)
        if lacking is not None:
            return lacking
        if not sane_cost(self.price(usage)):
            return f"its cost is outside 0..{MAX_CALL_COST_USD:g} USD for one call"
        return None

    def missing_count(self, usage: Usage) -> str | None:
        """Why ``usage`` lacks a count these rates price its call by (worded for a notice), else ``None``.

        Every call reads a prompt: output tokens beside no input count are a part
        of the call, and their price a part of its cost. An output count left out
        is none (Gemini omits a count of 0, an embedding answers no tokens).
        """
        if self.input is not None and usage.input_tokens is None and usage.output_tokens is not None:
            return "no input token count"
        return None

    def missing_rate(self, usage: Usage) -> str | None:
        """The kind of tokens (``input`` / ``output``) ``usage`` has and these rates have no rate for, else None."""
        if self.input is None and usage.input_tokens:
            return "input"
        if self.output is None and usage.output_tokens:
            return "output"
        return None

    @property
    def tier_starts(self) -> tuple[int, ...]:
        """The input-token counts above which a rate :meth:`per_token` gives changes (ascending; empty: untiered)."""
        rates = (self.input, self.cache_read, self.cache_write, self.output)
        return tuple(sorted({start for rate in rates if rate is not None for start, _ in rate.tiers}))

    def per_token(self, total_input: int) -> tuple[float, float, float, float]:
        """USD per token of a call with ``total_input`` input tokens and no billing facts: (uncached input,
        cache read, cache write, output), the terms :meth:`price` sums, in its order.

        Why: a call's price is linear in its counts once its tier is known, so the calls of one tier are
        priced from their summed counts (``otel_llm_analysis.recommendations``) instead of one by one.
        """
        flat: _FlatRates | None = self._flat  # type: ignore[attr-defined]
        if flat is not None:
            return flat[0], flat[1], flat[2], flat[3]
        if self.input is None:
            uncached = read = write = 0.0
        else:
            uncached = self.input.at(total_input)
            read = self.cache_read.at(total_input) if self.cache_read else uncached
            write = self.cache_write.at(total_input) if self.cache_write else uncached
        return uncached, read, write, self.output.at(total_input) if self.output is not None else 0.0

    def price(self, usage: Usage) -> float:
        flat: _FlatRates | None = self._flat  # type: ignore[attr-defined]
        billing = usage.billing
        if flat is not None and (billing is None or not (billing.audio_input_tokens or billing.audio_output_tokens)):
            return _flat_price(flat, usage)  # (audio tokens are priced term by term, below)
        total_in = usage.input_tokens or 0
        read = usage.cache_read_tokens or 0
        write = usage.cache_write_tokens or 0
        uncached = max(total_in - read - write, 0)
        write_1h = min(billing.cache_write_1h_tokens or 0, write) if billing is not None else 0
        # Of the uncached input and of the output, the audio tokens, at the audio rates.
        audio_in = min(billing.audio_input_tokens or 0, uncached) if billing is not None else 0
        output = usage.output_tokens or 0
        audio_out = min(billing.audio_output_tokens or 0, output) if billing is not None else 0
        usd = 0.0
        if self.input is not None:
            rate = self.input.at(total_in)
            write_rate = self.cache_write.at(total_in) if self.cache_write else rate
            usd += (uncached - audio_in) * rate
            usd += audio_in * (self.input_audio.at(total_in) if self.input_audio else rate)
            usd += read * (self.cache_read.at(total_in) if self.cache_read else rate)
            usd += (write - write_1h) * write_rate
            if write_1h:
                usd += write_1h * (self.cache_write_1h.at(total_in) if self.cache_write_1h else write_rate)
        if self.output is not None:
            rate = self.output.at(total_in)
            usd += (output - audio_out) * rate + audio_out * (self.output_audio.at(total_in) if self.output_audio else rate)
        return usd


# A model's untiered rates, USD per token: (input, cache read, cache write, output, 1-hour cache write).
_FlatRates = tuple[float, float, float, float, float]


def _flat_price(flat: _FlatRates, usage: Usage) -> float:
    """The cost of ``usage`` at untiered rates: uncached input, cache reads, cache writes, output — in that order
    (the analysis prices stored calls with the same terms in the same order, so both agree to the last bit)."""
    read = usage.cache_read_tokens or 0
    write = usage.cache_write_tokens or 0
    uncached = (usage.input_tokens or 0) - read - write
    if uncached < 0:
        uncached = 0
    billing = usage.billing
    if billing is not None and billing.cache_write_1h_tokens:  # of the writes, those kept for an hour, at their rate
        write_1h = min(billing.cache_write_1h_tokens, write)
        return (uncached * flat[0] + read * flat[1] + (write - write_1h) * flat[2] + write_1h * flat[4]
                + (usage.output_tokens or 0) * flat[3])
    return uncached * flat[0] + read * flat[1] + write * flat[2] + (usage.output_tokens or 0) * flat[3]


def _contradiction(usage: Usage) -> str | None:
    """What in ``usage`` exceeds the count that includes it (cache tokens the input, audio tokens the
    input or output, 1-hour writes the writes), worded for a notice; ``None`` for a usage that adds up.

    Such a usage has a wrong count, and which one is not known: no price of it is right.
    """
    read, write = usage.cache_read_tokens, usage.cache_write_tokens
    if (read or write) and (read or 0) + (write or 0) > (usage.input_tokens or 0):
        return (f"more cached tokens than input tokens (input_tokens={usage.input_tokens}, cache_read_tokens={read}, "
                f"cache_write_tokens={write}; the input includes them)")
    billing = usage.billing
    if billing is None:
        return None
    for part, count, whole, of in (
        ("audio input", billing.audio_input_tokens, usage.input_tokens, "input"),
        ("audio output", billing.audio_output_tokens, usage.output_tokens, "output"),
        ("1-hour cache write", billing.cache_write_1h_tokens, write, "cache write"),
    ):
        if count and count > (whole or 0):
            return f"more {part} tokens ({count}) than {of} tokens ({whole}, which include them)"
    return None


def _version() -> str:
    try:
        import genai_prices

        return str(genai_prices.__version__)
    except Exception as exc:  # noqa: BLE001 — a runtime dependency missing: our packaging fault
        internal_error("pricing.version", exc)
        return "unknown"


def _rate_from_genai(price: Any) -> _Rate | None:
    """genai-prices Decimal or TieredPrices (USD per 1M tokens) -> per-token _Rate."""
    if price is None:
        return None
    tiers = getattr(price, "tiers", None)
    if tiers is not None:
        return _Rate(
            float(price.base) / _PER_MILLION,
            tuple((int(t.start), float(t.price) / _PER_MILLION) for t in tiers),
        )
    return _Rate(float(price) / _PER_MILLION)


def _rate_from_user(value: Any) -> _Rate | None:
    """A user's price (USD per 1M tokens) as a per-token rate; ``None`` when absent.

    A bool is no price (``True`` would read as 1 USD), nor is infinity (every call
    of its model would be dropped as insane, one by one): refused with the entry.
    """
    if value is None:
        return None
    number = float(value) if not isinstance(value, bool) else math.nan
    if not (math.isfinite(number) and number >= 0):
        raise ValueError(f"price must be a finite non-negative number, got {value!r}")
    return _Rate(number / _PER_MILLION)


def _normalise(model: str) -> str:
    """``model`` as price tables name it: trimmed, lower case, without a Google resource path
    (``models/gemini-2.5-pro``, Vertex's ``projects/p/locations/l/publishers/google/models/...``)."""
    return _RESOURCE_PATH.sub("", model.strip().lower())


def _family(model: str) -> str:
    return _DATED.sub("", model)


def _load_mapping(pricing: Mapping[str, Any] | str | os.PathLike[str]) -> Mapping[str, Any]:
    if isinstance(pricing, Mapping):
        return pricing
    path = Path(pricing)
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            import yaml  # optional: only needed for YAML price files
        except ImportError:
            raise ValueError("reading YAML price files needs PyYAML (pip install pyyaml)") from None
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ValueError(f"not valid YAML{_where(exc)}") from None
    else:
        data = json.loads(text)
    if not isinstance(data, Mapping):
        raise ValueError("expected a mapping of model -> prices")
    return data


def _where(exc: Exception) -> str:
    """`` (line L, column C: problem)`` of a YAML error, on one line (PyYAML's own spans several)."""
    mark, problem = getattr(exc, "problem_mark", None), getattr(exc, "problem", None)
    if mark is None:
        return f" ({problem})" if problem else ""
    return f" (line {mark.line + 1}, column {mark.column + 1}: {problem})"


def _user_rates(pricing: Mapping[str, Any] | str | os.PathLike[str] | None,
                strict: bool = False) -> dict[str, ModelRates]:
    """Parse user pricing; bad entries are reported and skipped, never raised (``strict``: the first
    is raised, as a one-line ``ValueError``, for a command that must not price without them)."""
    if pricing is None:
        return {}
    try:
        data = _load_mapping(pricing)
        entries = list(data.items())  # a user's Mapping runs its own code here
    except Exception as exc:  # noqa: BLE001 — the user's file or mapping: reported, not raised
        if strict:
            raise ValueError(str(exc)) from None
        what = "pricing" if isinstance(pricing, Mapping) else f"pricing file {pricing}"
        _notices.notice(f"could not load {what}: {exc}; only the bundled prices apply")
        return {}
    rates: dict[str, ModelRates] = {}
    for model, entry in entries:
        try:
            if not isinstance(entry, Mapping):
                raise ValueError("expected a mapping with input/output/cache_read/cache_write")
            unknown = set(entry) - set(_USER_KEYS)
            if unknown:
                raise ValueError(f"unknown price keys {sorted(unknown)}")
            parsed = {k: _rate_from_user(entry.get(k)) for k in _USER_KEYS}
            if parsed["input"] is None and parsed["output"] is None:
                raise ValueError("needs at least input or output")
            rates[_normalise(str(model))] = ModelRates(source="user", **parsed)
        except Exception as exc:  # noqa: BLE001 — the user's entry (a Mapping of theirs may raise anything)
            if strict:
                raise ValueError(f"entry {model!r}: {exc}") from None
            _notices.notice(f"ignoring pricing entry {shown(model)}: {shown(str(exc))}")
    return rates


class PriceBook:
    """User prices over genai-prices, resolved once per (provider, model) and cached.

    The caches keep at most ``2 * CACHED_MODELS`` models, those in use among
    them (:class:`BoundedCache`): an app with an id in its model names would
    otherwise grow them for the life of the process. A model let go is
    resolved again, to the same rates. Thread-safe without a lock: two
    threads resolving the same model at once store equal values.
    """

    def __init__(self, user: Mapping[str, ModelRates] | None = None, use_genai_prices: bool = True,
                 *, notify_unknown: bool = True) -> None:
        self._user = dict(user or {})
        self._use_genai = use_genai_prices
        # An app is told once per unknown model on stderr; the analysis passes False
        # because its ingest report names those models itself.
        self._notify_unknown = notify_unknown
        self._cache: BoundedCache[tuple[str | None, str], ModelRates | None] = BoundedCache(CACHED_MODELS)
        # The untiered models of ``_cache`` (provider, model) -> (their rates, source): what ``cost`` reads.
        self._flat_cache: BoundedCache[tuple[str | None, str], tuple[_FlatRates, str]] = BoundedCache(CACHED_MODELS)
        self._warned: set[str] = set()
        self._warned_no_model = False
        # (refusal, model) already said, up to CACHED_MODELS of them: see _say_once
        self._said: set[tuple[str, str]] = set()
        # (provider, model, tier)
        self._tiers: BoundedCache[tuple[str | None, str, str], ModelRates | None] = BoundedCache(CACHED_MODELS)
        self._source = f"genai-prices@{_version()}"

    @classmethod
    def load(cls, pricing: Mapping[str, Any] | str | os.PathLike[str] | None, *,
             notify_unknown: bool = True, strict: bool = False) -> "PriceBook":
        """User prices (a mapping or a JSON/YAML file) over genai-prices. What cannot be read is
        skipped with a notice (an app never stops for it), or with ``strict`` raised as a
        one-line ``ValueError`` (an ingest must not price without the prices it was given)."""
        return cls(_user_rates(pricing, strict), notify_unknown=notify_unknown)

    def load_table(self) -> None:
        """Load genai-prices' table now (60-230 ms, once per process), so no call of the app pays it.

        ``configure()`` calls it: otherwise the first priced call loads it, and an
        app sees that call take a quarter of a second. Never raises.
        """
        if not self._use_genai:
            return
        try:
            from genai_prices import data_snapshot

            data_snapshot.get_snapshot()
        except Exception as exc:  # noqa: BLE001 — a runtime dependency missing: our packaging fault
            internal_error("pricing.genai_prices", exc)

    def fingerprint(self) -> str:
        """What this book's prices are made of (the user's rates, the genai-prices version):
        two books with the same fingerprint price every call alike."""
        text = repr((sorted(self._user.items()), self._use_genai, self._source))
        return hashlib.sha256(text.encode()).hexdigest()

    def rates(self, model: str | None, provider: str | None = None) -> ModelRates | None:
        """The cached rates of a model, resolving them on first use; ``None`` when unknown."""
        if not model:
            if self._notify_unknown and not self._warned_no_model:
                self._warned_no_model = True
                _notices.notice(  # a call with tokens and no model name (Cohere answers without one)
                    "a call with tokens names no model (neither its response, its decorator nor a model=/modelId= argument): "
                    "it gets no cost. "
                    "Name it with @otel_llm.llm_call(model=...)."
                )
            return None
        key = (provider, model)
        cached = self._cache.get(key, _UNRESOLVED)
        if cached is not _UNRESOLVED:
            return cached  # type: ignore[return-value]
        found = self._resolve(model, provider)
        self._cache[key] = found
        # The flat path prices a kind of token without a rate at 0: only models with both rates take it.
        if (found is not None and found._flat is not None and found.note is None  # type: ignore[attr-defined]
                and found.input is not None and found.output is not None):
            self._flat_cache[key] = (found._flat, found.source)  # type: ignore[attr-defined]
        if found is None and self._notify_unknown and model not in self._warned:
            self._say_unknown(model, provider)
        return found

    def cost(self, model: str | None, usage: Usage, provider: str | None = None) -> Cost | None:
        """Cost of one call, or ``None`` (unknown model, no token counts, a dropped count, or not sane). Never raises.

        A usage that lost a count it is priced by (:meth:`Usage.partly_counted`)
        has no cost: the price of the counts left would be a part taken for the whole.
        Nor has one whose counts contradict each other (:func:`_contradiction`:
        cache reads and writes beyond the input that includes them, ...): one
        of its counts is wrong, and which is not known; nor one with
        tokens of a kind (input, output) its model's price has no rate for; nor
        output tokens without the input count its model's price needs
        (:meth:`ModelRates.missing_count`).

        Runs on every priced call: a model with untiered rates (most) is one
        cache hit in ``_flat_cache`` and four products; the rest go through
        :meth:`rates` and :meth:`ModelRates.price`.
        """
        inp = usage.input_tokens
        if inp is not None and usage.billing is None and not usage.dropped:
            usual = self.usual_cost(
                model, provider, inp, usage.output_tokens, usage.cache_read_tokens, usage.cache_write_tokens)
            if usual is not None:
                return _new_cost(Cost, (*usual, None))
        if (inp is None and usage.output_tokens is None) or (usage.dropped and usage.partly_counted()):
            return None
        contradiction = _contradiction(usage)
        if contradiction is not None:
            self._say_once("counts", model, (
                f"a call of model {shown(model)} has {contradiction}: counts that contradict each other get no "
                "cost. The call keeps its tokens, further such calls of this model are not reported."))
            return None
        note = None
        try:
            # (A usage without an input count goes the long way: its rates say whether it lacks one.)
            flat = (self._flat_cache.get((provider, model))
                    if usage.billing is None and usage.input_tokens is not None else None)
            if flat is not None:
                usd = _flat_price(flat[0], usage)
                source = flat[1]
            else:
                rates = self._cache.get((provider, model), _UNRESOLVED)
                if rates is _UNRESOLVED:
                    rates = self.rates(model, provider)
                if rates is None:
                    return None
                missing = rates.missing_rate(usage)
                if missing is not None:
                    self._say_once("rate", model, (
                        f"a call of model {shown(model)} has {missing} tokens and "
                        f"its price ({rates.source}) has no {missing} rate: "
                        "it gets no cost rather than one leaving them out. Add the rate with configure(pricing=...); "
                        "the call keeps its tokens, further such calls of this model are not reported."))
                    return None
                lacking = rates.missing_count(usage)
                if lacking is not None:
                    self._say_once("count", model, (
                        f"a call of model {shown(model)} has {lacking} (output_tokens={usage.output_tokens}): it "
                        "gets no cost rather than the price of a part of it. The call keeps its tokens, further "
                        "such calls of this model are not reported."))
                    return None
                note = rates.note
                if usage.billing is not None:  # rare: the call was billed apart from the model's standard rates
                    rates, billed_note = self._billed_rates(model, provider, rates, usage)
                    note = "; ".join(n for n in (note, billed_note) if n) or None
                usd = rates.price(usage)
                source = rates.source
        except Exception as exc:  # noqa: BLE001 — our fault: logged once (raised in our tests)
            internal_error("pricing.cost", exc)
            return None
        if not sane_cost(usd):
            self._warn_insane(model, usd, usage)
            return None
        return _new_cost(Cost, (usd, source, note))

    def usual_cost(self, model: str | None, provider: str | None, inp: int, out: int | None, read: int | None,
                   write: int | None) -> tuple[float, str] | None:
        """(USD, source) of the usual call, from its counts; ``None``: ask :meth:`cost`, which prices the rest.

        The usual call: a usage with an input count, no billing facts and nothing dropped (the caller
        knows), of a model with untiered rates (``_flat_cache``), its cache counts within the input (no
        contradiction) and its price within :data:`MAX_CALL_COST_USD`. One lookup and four products, in
        :func:`_flat_price`'s terms and order, so both give the same bits; the llm_call kind asks it
        with the counts it has already read, before building a :class:`Cost`.
        """
        flat = self._flat_cache.get((provider, model))
        if flat is None:
            return None
        read = read or 0
        write = write or 0
        if read + write > inp:
            return None
        rates = flat[0]
        usd = (inp - read - write) * rates[0] + read * rates[1] + write * rates[2] + (out or 0) * rates[3]
        return (usd, flat[1]) if 0.0 <= usd <= MAX_CALL_COST_USD else None

    def refusal(self, model: str | None, usage: Usage, provider: str | None = None) -> str | None:
        """Why :meth:`cost` gives ``usage`` (a call with tokens) no cost, for the span to say
        (``otel_llm.cost.refused``); ``None``: it is priced, or has no token counts. Never raises.

        Asked only of calls left unpriced (their rates are cached by then): no model name, no price for it,
        or :meth:`ModelRates.refusal`'s reasons (a dropped count, contradicting counts, a missing rate or
        count, a price beyond :data:`MAX_CALL_COST_USD`).
        """
        if usage.input_tokens is None and usage.output_tokens is None:
            return None
        if not model:
            return "no model name"
        try:
            rates = self.rates(model, provider)
            return "no price for its model" if rates is None else rates.refusal(usage)
        except Exception as exc:  # noqa: BLE001 — our fault: logged once (raised in our tests)
            internal_error("pricing.refusal", exc)
            return None

    def _billed_rates(self, model: str | None, provider: str | None, rates: ModelRates,
                      usage: Usage) -> tuple[ModelRates, str | None]:
        """The rates that price a call with billing facts (``usage.billing``), and what they could not price
        as billed (``None``: nothing): the tier's rates where the price table has them, else the standard ones."""
        billing = usage.billing
        notes = []
        tier = billing.service_tier if billing is not None else None
        if tier and model:
            tiered = self._tier_rates(model, provider, tier, rates)
            if tiered is None:
                notes.append(f"service tier {tier!r} priced at the standard rate: the price table has no {tier!r} "
                             f"rate for {model!r} ({rates.source})")
            else:
                rates = tiered
        if billing is not None and billing.cache_write_1h_tokens and rates.cache_write_1h is None:
            notes.append("1-hour cache writes priced at the 5-minute cache-write rate: the price table has no "
                         f"1-hour rate for {model!r} ({rates.source})")
        for count, rate, what in (
            (billing.audio_input_tokens if billing else None, rates.input_audio, "input"),
            (billing.audio_output_tokens if billing else None, rates.output_audio, "output"),
        ):
            if count and rate is None:
                notes.append(f"audio {what} tokens priced at the text {what} rate: the price table has no audio "
                             f"{what} rate for {model!r} ({rates.source})")
        return rates, "; ".join(notes) or None

    def _tier_rates(self, model: str, provider: str | None, tier: str, standard: ModelRates) -> ModelRates | None:
        """The rates of ``model`` in service tier ``tier`` (genai-prices' ``price_variants``), once per
        (provider, model, tier); ``None``: none listed (the user's own rates have no tiers)."""
        key = (provider, model, tier)
        found = self._tiers.get(key, _UNRESOLVED)
        if found is _UNRESOLVED:
            found = None
            if standard.source != "user" and self._use_genai:
                info = self._genai_model(_normalise(model), provider)[0]
                now = datetime.now(tz=timezone.utc)
                # genai-prices keys batch rates by processing, the others by service tier.
                context = {"processing": "batch"} if tier == "batch" else {"service_tier": tier}
                if info is not None and any(
                    v.when == context and any(vars(v.prices).values())
                    and (v.constraint is None or v.constraint.active(now))
                    for v in info.price_variants or ()
                ):
                    found = self._genai_rates(info.get_prices(now, context))
            self._tiers[key] = found
        return found

    def _say_unknown(self, model: str, provider: str | None) -> None:
        """Name ``model`` (without a price) on stderr, up to :data:`_UNKNOWN_MODELS_SAID` models; then say once
        that further ones are not named."""
        if len(self._warned) >= _UNKNOWN_MODELS_SAID:
            if len(self._warned) == _UNKNOWN_MODELS_SAID:
                self._warned.add("")  # (no model name is empty: marks the bound as said)
                _notices.notice(f"more than {_UNKNOWN_MODELS_SAID} models have no price; their calls get no cost, "
                                "further such models are not reported.")
            return
        self._warned.add(model)
        _notices.notice(  # on the console whatever the logging setup
            f"no price for model {shown(model)} (provider {shown(provider)}); its calls get no cost. "
            f"Add it with configure(pricing={{{shown(model)}: {{'input': ..., 'output': ...}}}})."
        )

    def _say_once(self, refusal: str, model: str | None, text: str) -> None:
        """``text`` on stderr, the first time this book refuses a cost for ``refusal`` to ``model``; past
        :data:`CACHED_MODELS` such notices, one says further ones are not reported (a model name that
        changes per call must neither flood stderr nor grow the set of those said)."""
        key = (refusal, str(model))
        if key in self._said:
            return
        if len(self._said) >= CACHED_MODELS:
            if len(self._said) == CACHED_MODELS:
                self._said.add(("", ""))  # (no refusal is unnamed: marks the bound as said)
                _notices.notice(f"more than {CACHED_MODELS} models had calls refused a cost; further such "
                                "calls get no cost without a notice.")
            return
        self._said.add(key)
        _notices.notice(text)

    def _warn_insane(self, model: str | None, usd: float, usage: Usage) -> None:
        self._say_once("insane", model, (
            f"dropped the cost of a call of model {shown(model)}: {usd!r} USD is outside 0..{MAX_CALL_COST_USD} USD "
            f"for one call (input_tokens={usage.input_tokens}, output_tokens={usage.output_tokens}). Check the "
            "price unit (USD per 1M tokens) and the token counts; the call keeps its tokens, further such calls "
            "of this model are not reported."
        ))

    def _resolve(self, model: str, provider: str | None) -> ModelRates | None:
        if len(model) > MAX_NAME_CHARS:  # no model id is that long (``_names``): not matched against every price
            return None
        name = _normalise(model)
        for candidate in (name, _family(name)):
            if candidate in self._user:
                return self._user[candidate]
        if not self._use_genai:
            return None
        return self._from_genai(name, provider)

    def _from_genai(self, model: str, provider: str | None) -> ModelRates | None:
        info, note = self._genai_model(model, provider)
        if info is None:
            return None
        return self._genai_rates(info.get_prices(datetime.now(tz=timezone.utc)), note)

    def _genai_rates(self, prices: Any, note: str | None = None) -> ModelRates:
        """genai-prices' ``ModelPrice`` as per-token rates."""
        return ModelRates(
            input=_rate_from_genai(getattr(prices, "input_mtok", None)),
            output=_rate_from_genai(getattr(prices, "output_mtok", None)),
            cache_read=_rate_from_genai(getattr(prices, "cache_read_mtok", None)),
            cache_write=_rate_from_genai(getattr(prices, "cache_write_mtok", None)),
            cache_write_1h=_rate_from_genai(getattr(prices, "cache_write_1h_mtok", None)),
            input_audio=_rate_from_genai(getattr(prices, "input_audio_mtok", None)),
            output_audio=_rate_from_genai(getattr(prices, "output_audio_mtok", None)),
            source=self._source,
            note=note,
        )

    def _genai_model(self, model: str, provider: str | None) -> tuple[Any, str | None]:
        """The genai-prices ``ModelInfo`` that prices ``model`` called through ``provider`` (``None``: none),
        and why it is another provider's (``None``: the call's own, or the provider its id names).

        In order: the call's provider; the provider genai-prices matches the id to (the model's maker);
        a Bedrock id at AWS; a ``vendor/model`` id at its vendor, else OpenRouter; last, the one provider
        that lists the id (Groq's models called through the openai client). An id listed by several
        providers, none of them the call's, is not priced: which one billed it is not known.
        """
        try:
            from genai_prices import data_snapshot
        except Exception as exc:  # noqa: BLE001 — a runtime dependency missing: our packaging fault
            internal_error("pricing.genai_prices", exc)
            return None, None
        snapshot = data_snapshot.get_snapshot()
        provider_id = _PROVIDER_IDS.get(provider, provider) if provider else None
        bedrock = ("aws",) if _BEDROCK_ID.match(model) else ()
        lookups = [(model, pid) for pid in dict.fromkeys((provider_id, None, *bedrock))]
        vendor, slash, name = model.partition("/")
        if slash and name and "/" not in name:
            # A vendor/model id (OpenRouter's, litellm's), named so whichever client sent it: the
            # vendor's own list price, else OpenRouter's listing of the id (it passes vendors' prices on).
            pid = _VENDOR_IDS.get(vendor) or _PROVIDER_IDS.get(vendor, vendor)
            lookups += [(name, pid), (model, "openrouter")]
        for model_ref, pid in lookups:
            try:
                found, info = snapshot.find_provider_model(model_ref, None, pid, None)
            except LookupError:  # genai-prices' way of saying "no such model"
                continue
            if not _priced(info):
                continue
            note = None
            if pid is None and provider_id is not None and found.id != provider_id:
                note = _elsewhere(found.id, info.id, provider)
            return info, note
        listed = [(p.id, m) for p in snapshot.providers for m in p.models if m.is_match(model) and _priced(m)]
        if len(listed) == 1:
            found_id, info = listed[0]
            return info, _elsewhere(found_id, info.id, provider)
        return None, None


def _priced(info: Any) -> bool:
    """Whether a genai-prices model has a token price today (an input or output rate)."""
    prices = info.get_prices(datetime.now(tz=timezone.utc))
    return getattr(prices, "input_mtok", None) is not None or getattr(prices, "output_mtok", None) is not None


def _elsewhere(found_id: str, model_id: str, provider: str | None) -> str:
    """The note of a call priced at another provider's listing than its own."""
    return (f"priced as {found_id}'s {model_id!r}: the price table lists no such model for provider {provider!r}"
            if provider else f"priced as {found_id}'s {model_id!r}, the one provider that lists it")
