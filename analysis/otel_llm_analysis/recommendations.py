"""Cheaper models: what each model's calls would have cost at another model's prices, with the evidence.

Why this shape: the replaced systems printed optimisation advice. The one piece
of advice the data can back is a price comparison: the tokens a model's calls
used (input, cache reads and writes, output), priced as each call would be at
another model's rates from the same price table the store is priced with
(``otel_llm.pricing.PriceBook``: your pricing file over genai-prices). Both
sides are priced at standard rates, so the saving is the rates' difference on
your own traffic, not a billing detail. A call's price is linear in its counts
once its tier (by input tokens) is known, so the database sums the counts of
each model's calls per tier band and those sums are priced: a few rows per
model, not one per distinct usage (190k rows per filter combination of a
1M-span report).

Whether the other model answers as well is not in the prices: each suggestion
carries what the store knows of both models' outcomes - their calls' success
rate and, when evaluations exist, their pass rate (``quality --by model``'s) - and a candidate the store
has no calls of (``candidates``) has none. A different tokenizer would count
the same text differently; the comparison keeps the counts as they are.

Alternatives are the models the store's calls used in the window, plus any
``candidates`` named; a model with no price in the table is left out and named.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable

from otel_llm.pricing import ModelRates
from otel_llm_analysis._filters import Filters, fetch_dicts
from otel_llm_analysis.qa import quality

__all__ = ["Advice", "CheaperModel", "cheaper_models"]


@dataclass(slots=True)
class CheaperModel:
    """One model's calls, and what they would cost at a cheaper model's rates."""

    model: str
    calls: int
    cost_usd: float
    alternative: str
    alternative_cost_usd: float
    savings_usd: float
    savings_pct: float
    success_rate: float | None
    alternative_success_rate: float | None
    pass_rate: float | None
    alternative_pass_rate: float | None


@dataclass(slots=True)
class Advice:
    """The suggestions, and the models that could not be compared (no price in the table)."""

    rows: list[CheaperModel]
    unpriced_models: list[str] = field(default_factory=list)


#: Each model's calls with usage, per tier band (``{band}``: how many of the price tiers' starts a call's input
#: exceeds): their count, their summed counts as priced (uncached input, cache reads and writes, output) and one
#: call's input (every call of a band is priced at the same per-token rates). A few rows, however many calls.
_USAGE = """
SELECT model, {band} AS band, count(*) AS calls, min(coalesce(input_tokens, 0)) AS total_input,
       sum(greatest(coalesce(input_tokens, 0) - coalesce(cache_read_tokens, 0) - coalesce(cache_write_tokens, 0), 0))
           AS uncached,
       sum(coalesce(cache_read_tokens, 0)) AS cache_read, sum(coalesce(cache_write_tokens, 0)) AS cache_write,
       sum(coalesce(output_tokens, 0)) AS output
FROM llm_calls WHERE {where} AND model IS NOT NULL AND (input_tokens IS NOT NULL OR output_tokens IS NOT NULL)
GROUP BY model, band
"""
_OUTCOMES = """
SELECT model, any_value(provider) AS provider, avg(CASE WHEN status_code = 2 THEN 0 ELSE 1 END) AS success_rate
FROM llm_calls WHERE {where} AND model IS NOT NULL GROUP BY model
"""


def cheaper_models(store: Any, book: Any, filters: Filters | None = None, *,
                   candidates: Iterable[str] = (), per_model: int = 3) -> Advice:
    """For each model with calls in ``filters``' window, up to ``per_model`` cheaper models (``book``: a
    ``PriceBook``), the largest saving first."""
    filters = filters or Filters()
    where, params = filters.where()
    outcomes = {row["model"]: row for row in fetch_dicts(store, _OUTCOMES.format(where=where), params)}
    passes = {row.key: row.pass_rate for row in quality(store, "model", filters)}  # the model each evaluation rates
    providers = {model: row["provider"] for model, row in outcomes.items()}
    names = list(dict.fromkeys([*outcomes, *candidates]))
    rates = {name: book.rates(name, providers.get(name)) for name in names}
    priced = {name: r for name, r in rates.items() if r is not None}
    usage: dict[str, list[_Band]] = defaultdict(list)
    for row in fetch_dicts(store, _USAGE.format(where=where, band=_band(priced.values())), params):
        usage[row["model"]].append(_Band(row["calls"], row["total_input"],
                                         (row["uncached"], row["cache_read"], row["cache_write"], row["output"])))
    advice = Advice([], sorted(name for name, r in rates.items() if r is None))
    for model, bands in usage.items():
        own = priced.get(model)
        if own is None:
            continue
        cost = _cost(own, bands)
        found = []
        for other, other_rates in priced.items():
            if other == model:
                continue
            alternative = _cost(other_rates, bands)
            if alternative < cost:
                found.append(CheaperModel(
                    model, sum(band.calls for band in bands), cost, other, alternative, cost - alternative,
                    100.0 * (cost - alternative) / cost, outcomes[model]["success_rate"],
                    outcomes[other]["success_rate"] if other in outcomes else None, passes.get(model),
                    passes.get(other)))
        advice.rows += sorted(found, key=lambda row: -row.savings_usd)[:per_model]
    advice.rows.sort(key=lambda row: -row.savings_usd)
    return advice


@dataclass(slots=True)
class _Band:
    """A model's calls in one tier band (:data:`_USAGE`)."""

    calls: int
    total_input: int  # one of these calls' input tokens: where the tiered rates are read
    tokens: tuple[int, int, int, int]  # summed: uncached input, cache reads, cache writes, output


def _band(rates: Iterable[ModelRates]) -> str:
    """SQL: how many of the tier starts of ``rates`` a call's input exceeds (``0`` when none is tiered)."""
    starts = sorted({start for r in rates for start in r.tier_starts})
    return " + ".join(f"CASE WHEN coalesce(input_tokens, 0) > {int(start)} THEN 1 ELSE 0 END"
                      for start in starts) or "0"


def _cost(rates: ModelRates, bands: list[_Band]) -> float:
    """What the calls of ``bands`` cost at ``rates``: each band's summed counts at its per-token rates
    (``ModelRates.per_token``), as :meth:`~otel_llm.pricing.ModelRates.price` prices each call."""
    return sum(sum(n * rate for n, rate in zip(band.tokens, rates.per_token(band.total_input))) for band in bands)
