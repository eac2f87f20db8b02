"""Cheaper models: what each model's calls would have cost at another model's prices, with the evidence.

Why this shape: the replaced systems printed optimisation advice. The one piece
of advice the data can back is a price comparison: the tokens a model's calls
used (input, cache reads and writes, output), priced per call at another
model's rates from the same price table the store is priced with
(``otel_llm.pricing.PriceBook``: your pricing file over genai-prices). Both
sides are priced at standard rates, so the saving is the rates' difference on
your own traffic, not a billing detail.

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

from otel_llm._usage import Usage
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


_USAGE = """
SELECT model, any_value(provider) AS provider, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
       count(*) AS calls
FROM llm_calls WHERE {where} AND model IS NOT NULL AND (input_tokens IS NOT NULL OR output_tokens IS NOT NULL)
GROUP BY model, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens
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
    usage: dict[str, list[tuple[Usage, int]]] = defaultdict(list)
    for row in fetch_dicts(store, _USAGE.format(where=where), params):
        usage[row["model"]].append((Usage(row["input_tokens"], row["output_tokens"], row["cache_read_tokens"],
                                          row["cache_write_tokens"]), row["calls"]))
    providers = {model: row["provider"] for model, row in outcomes.items()}
    names = list(dict.fromkeys([*outcomes, *candidates]))
    rates = {name: book.rates(name, providers.get(name)) for name in names}
    priced = {name: r for name, r in rates.items() if r is not None}
    advice = Advice([], sorted(name for name, r in rates.items() if r is None))
    for model, calls in usage.items():
        own = priced.get(model)
        if own is None:
            continue
        cost = sum(own.price(u) * n for u, n in calls)
        found = []
        for other, other_rates in priced.items():
            if other == model:
                continue
            alternative = sum(other_rates.price(u) * n for u, n in calls)
            if alternative < cost:
                found.append(CheaperModel(
                    model, sum(n for _, n in calls), cost, other, alternative, cost - alternative,
                    100.0 * (cost - alternative) / cost, outcomes[model]["success_rate"],
                    outcomes[other]["success_rate"] if other in outcomes else None, passes.get(model),
                    passes.get(other)))
        advice.rows += sorted(found, key=lambda row: -row.savings_usd)[:per_model]
    advice.rows.sort(key=lambda row: -row.savings_usd)
    return advice
