"""Pricing "at ingest" on ClickHouse: LLM spans with tokens and no usable cost, priced in the ``spans`` view.

DuckDB prices such spans once, after ingest (``_costs.price_calls``): OpenLLMetry
and OpenInference write tokens and no cost, OpenLIT a 0 when it has no price.
ClickHouse rows arrive from the exporter, with no ingest step, so the price is
an expression of the view instead: when the store opens, the (provider,
response model, requested model) groups that need a price are read, priced by
the same :class:`otel_llm.pricing.PriceBook` (the user's file over the bundled
genai-prices snapshot) and written into the view as literals, with the SDK's
arithmetic (``ModelRates.price``: uncached, cache-read and cache-write input,
then output; tiers chosen by total input tokens) in the same order, so each
call costs the same double on both engines. ``cost_source`` is ``'ingest'`` and
``cost_table`` the price table, as in DuckDB.

Prices are the ones in force when the store opened (DuckDB: when ingest ran);
two analysts opening one database with different pricing files replace each
other's view — the last one opened prices the calls.
"""

from __future__ import annotations

from typing import Any, Sequence

from otel_llm import semconv
from otel_llm.pricing import MAX_CALL_COST_USD, ModelRates, PriceBook

__all__ = ["NEEDS_PRICE", "priced_sql"]

#: The spans DuckDB prices after ingest (``_costs._NEEDS_PRICE``), over the view's columns; ``{own}`` is
#: the span's own usable cost.
NEEDS_PRICE = ("otel_kind = 'llm_call' AND {own} IS NULL "
               "AND (input_tokens IS NOT NULL OR output_tokens IS NOT NULL)")
#: What keeps such a span unpriced on both engines (``ModelRates.refusal``, the SDK's rules, and
#: ``_costs``): a priced count unreadable, a priced count the SDK dropped (``otel_llm.usage.dropped``, an
#: array the exporter stores as JSON text), or cache counts beyond the input that includes them. A
#: rate the model's price lacks is each group's own condition (:func:`priced_sql`).
_PRICED_COUNTS = "['input_tokens', 'output_tokens', 'cache_read_tokens', 'cache_write_tokens']"
REFUSED = (f"(hasAny(unreadable_columns, {_PRICED_COUNTS}) "
           f"OR arrayExists(n -> n NOT IN ('billed_cost', 'total_tokens'), "
           f"JSONExtract(ifNull(attributes['{semconv.OTEL_LLM_USAGE_DROPPED}'], ''), 'Array(String)')) "
           "OR ((ifNull(cache_read_tokens, 0) > 0 OR ifNull(cache_write_tokens, 0) > 0) "
           "AND ifNull(cache_read_tokens, 0) + ifNull(cache_write_tokens, 0) > ifNull(input_tokens, 0)))")
_NULL = "'\\0'"  # stands for NULL in the group comparison (no model or provider is spelled so)


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _rate(rate: Any, total_in: str) -> str:
    """``_Rate.at(total_in)`` as SQL: the last tier whose start the total input passes, else the base."""
    if not rate.tiers:
        return repr(rate.base)
    branches = ", ".join(f"{total_in} > {start}, {value!r}" for start, value in reversed(rate.tiers))
    return f"multiIf({branches}, {rate.base!r})"


def _price(rates: ModelRates) -> str:
    """``ModelRates.price(usage)`` as SQL over the view's token columns, term by term in its order."""
    total_in, read, write = "ifNull(input_tokens, 0)", "ifNull(cache_read_tokens, 0)", "ifNull(cache_write_tokens, 0)"
    terms = ["0.0"]
    if rates.input is not None:
        rate = _rate(rates.input, total_in)
        terms.append(f"greatest({total_in} - {read} - {write}, 0) * {rate}")
        terms.append(f"{read} * {_rate(rates.cache_read, total_in) if rates.cache_read else rate}")
        terms.append(f"{write} * {_rate(rates.cache_write, total_in) if rates.cache_write else rate}")
    if rates.output is not None:
        terms.append(f"ifNull(output_tokens, 0) * {_rate(rates.output, total_in)}")
    expression = terms[0]
    for term in terms[1:]:  # left to right, as Python adds them
        expression = f"({expression} + {term})"
    return expression


def _refusals(rates: ModelRates, price: str) -> list[str]:
    """What these rates must see to price a span, as SQL conditions - ``ModelRates.refusal``'s own rules
    (the rules every group shares are :data:`REFUSED`): no tokens of a kind the price has no rate for
    (``missing_rate``), an input count beside the output where the price has an input rate
    (``missing_count``), and a price one call can cost (``sane_cost``)."""
    conditions = [f"ifNull({column}, 0) = 0" for column, rate in (("input_tokens", rates.input),
                                                                 ("output_tokens", rates.output)) if rate is None]
    if rates.input is not None:
        conditions.append("NOT (input_tokens IS NULL AND output_tokens IS NOT NULL)")
    conditions.append(f"{price} BETWEEN 0 AND {MAX_CALL_COST_USD!r}")
    return conditions


def priced_sql(groups: Sequence[tuple[str | None, str | None, str | None]], book: PriceBook,
               own_cost: str) -> tuple[str, str]:
    """``(cost, table)`` SQL expressions pricing the spans of ``groups`` (provider, response model,
    requested model) whose own cost (``own_cost``) is not usable; NULL for the others and for a model
    ``book`` cannot price."""
    costs, tables = [], []
    for provider, response_model, request_model in groups:
        rates = next((r for m in (response_model, request_model) if m
                      for r in [book.rates(m, provider)] if r is not None), None)
        if rates is None:
            continue
        price = _price(rates)
        match = " AND ".join([f"ifNull({column}, {_NULL}) = {_quote(value) if value is not None else _NULL}"
                              for column, value in (("provider", provider), ("response_model", response_model),
                                                    ("request_model", request_model))]
                             + _refusals(rates, price))
        costs.append(f"{match}, {price}")
        tables.append(f"{match}, {_quote(rates.source)}")
    if not costs:
        return "CAST(NULL AS Nullable(Float64))", "CAST(NULL AS Nullable(String))"
    needs = f"{NEEDS_PRICE.format(own=own_cost)} AND NOT {REFUSED}"
    return (f"if({needs}, multiIf({', '.join(costs)}, NULL), NULL)",
            f"if({needs}, multiIf({', '.join(tables)}, NULL), NULL)")
