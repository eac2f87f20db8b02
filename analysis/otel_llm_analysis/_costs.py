"""Pricing at ingest: LLM spans that carry tokens but no usable cost get one.

OpenLLMetry and OpenInference write tokens and no cost; OpenLIT writes
``gen_ai.usage.cost = 0`` when it has no price (ingest treats that as no cost,
see ``_producers.cost_sql``; on a call whose usage is only a total, which
``cost_sql`` cannot see, the pass here does: :data:`_ZERO_ON_A_TOTAL`). Those calls are priced here from the same source
and with the same arithmetic as otel-llm's SDK: ``otel_llm.pricing.PriceBook``
(the user's pricing file or dict over the bundled genai-prices snapshot), so a
call costs the same whether the SDK or the ingest priced it. Each priced row
records ``cost_source = 'ingest'`` and the table in ``cost_table``; a model
neither table knows keeps a NULL cost and is counted in the report, never
priced at 0.

Which calls an ingest looks at: those among the spans it read (from their
earliest start on) while the price tables are the ones the store was last
priced with; every stored call still without a cost when they changed
(``PriceBook.fingerprint``, kept in ``ingest_state``), so adding a model to the
pricing file and ingesting again prices the calls already stored. A call left
unpriced by the same tables stays unpriced, so the first rule loses nothing and
keeps an ingest's cost that of its new data. Prices are today's (the rate in
force when the PriceBook resolves the model), as in the SDK; a model's later
price change does not re-price stored calls.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import duckdb
import pyarrow as pa

from otel_llm import semconv
from otel_llm._usage import Usage
from otel_llm.pricing import PriceBook
from otel_llm_analysis._filters import IS_UNPRICED, TOTAL_ONLY_TOKENS
from otel_llm_analysis import _ingest_state as ingest_state
from otel_llm_analysis._rows import string_list_sql, window
from otel_llm_analysis._unpriced import REASON_SQL, UNREADABLE_COUNT

__all__ = ["PricingReport", "count_calls", "price_calls"]

#: Spans priced at ingest: LLM spans with token counts and no usable cost.
_NEEDS_PRICE = (f"otel_kind = '{semconv.KIND_LLM_CALL}' AND cost_usd IS NULL "
                "AND (input_tokens IS NOT NULL OR output_tokens IS NOT NULL)")
#: A call one of whose priced counts was present but unreadable (``unreadable_columns``; a located
#: problem of the ingest): priced from the counts left, its cost would be wrong (an input count of -5
#: read as none makes it the output's alone) and look like any other, so it keeps no cost.
_UNREADABLE = "a token count was unreadable"
#: The pricing line's words for the reasons ``_unpriced`` tells from a call's data (``ModelRates.refusal``'s
#: for those it shares); a call of reason ``no_price`` is said under its model, or under the refusal this pass made
_REFUSED_AS = {"total_only": "usage only a total", "unreadable": _UNREADABLE,
               "dropped": "a token count was dropped as invalid", "contradicting": "token counts contradict each other",
               "no_input": "no input token count"}
#: The counts otel-llm's SDK dropped as invalid (``otel_llm.usage.dropped``): priced as the SDK would
_DROPPED = string_list_sql(f"attr_values[list_position(attr_keys, '{semconv.OTEL_LLM_USAGE_DROPPED}')]")
_UNNAMED = "(no model)"
#: A producer's cost of 0 on an LLM span whose usage is only a total: no price (OpenLIT's 0), as
#: on a call with input and output tokens, since a call with tokens is not free. The total is no
#: column, so ``_producers.cost_sql`` took the 0 as the cost of a call without tokens.
_ZERO_ON_A_TOTAL = (f"otel_kind = '{semconv.KIND_LLM_CALL}' AND cost_usd = 0 AND cost_source = 'producer' "
                    f"AND {TOTAL_ONLY_TOKENS} > 0")


@dataclass
class PricingReport:
    """What pricing at ingest did: calls priced, and the calls still without a price by model."""

    priced: int = 0
    tables: list[str] = field(default_factory=list)  # the price tables used (user, genai-prices@x)
    #: model -> calls with tokens and no price, among the calls looked at: those the
    #: ingest read, or every stored one when the price tables changed (``whole_store``)
    unpriced: dict[str, int] = field(default_factory=dict)
    whole_store: bool = False
    #: why -> calls with tokens left without a price whatever the price tables hold: usage only a total,
    #: a token count unreadable or dropped as invalid by the SDK, counts that contradict each other
    #: (``_unpriced.REASONS``), or a price without a rate for their tokens (``ModelRates.refusal``: the
    #: SDK's rules), among the calls looked at
    refused: dict[str, int] = field(default_factory=dict)
    #: Where this pass looked (SQL over span rows) and the spans it priced: what :func:`count_calls` recounts
    scope: str = field(default="FALSE", repr=False)
    priced_spans: pa.Table | None = field(default=None, repr=False)
    refused_spans: pa.Table | None = field(default=None, repr=False)  # trace_id, span_id, why

    def summary(self) -> str:
        """One line for humans; empty when there was nothing to price."""
        parts = []
        if self.priced:
            parts.append(f"priced {self.priced} call(s) at ingest ({', '.join(self.tables)})")
        if self.unpriced:
            models = ", ".join(f"{m} ({n})" for m, n in sorted(self.unpriced.items(), key=lambda i: (-i[1], i[0])))
            parts.append(f"{sum(self.unpriced.values())} call(s) with tokens have no price: {models} "
                         "(add them with --pricing FILE)")
        if self.refused:
            reasons = ", ".join(f"{why} ({n})" for why, n in sorted(self.refused.items(), key=lambda i: (-i[1], i[0])))
            parts.append(f"{sum(self.refused.values())} call(s) not priced, their cost unknown rather than "
                         f"a part of it: {reasons}")
        return "; ".join(parts)


_STATE = "pricing"


def price_calls(con: duckdb.DuckDBPyConnection, book: PriceBook, since_ns: int | None = None,
                undated: bool = False) -> PricingReport:
    """Price the LLM spans that have tokens and no cost; report the ones that stay unpriced.

    ``since_ns`` / ``undated`` describe the spans the ingest read
    (``IngestReport.first_start_ns`` / ``undated_spans``); they are the ones
    looked at unless ``book`` differs from the tables the store was last priced
    with, when every stored call is.
    """
    fingerprint = book.fingerprint()
    report = PricingReport(whole_store=ingest_state.get(con, _STATE) != fingerprint)
    scope = "TRUE" if report.whole_store else window("start_time", since_ns, undated=undated)
    report.scope = scope
    if scope == "FALSE":
        return report
    con.execute(f"UPDATE span_rows SET cost_usd = NULL, cost_source = NULL, cost_table = NULL "
                f"WHERE {scope} AND {_ZERO_ON_A_TOTAL}")
    needs_price = f"{scope} AND {_NEEDS_PRICE} AND NOT {UNREADABLE_COUNT}"
    groups = con.execute(
        f"SELECT provider, response_model, request_model, count(*) FROM span_rows WHERE {needs_price} GROUP BY ALL"
    ).fetchall()
    priceable: list[tuple[Any, ...]] = []
    for provider, response_model, request_model, calls in groups:
        rates = next((r for m in (response_model, request_model) if m
                      for r in [book.rates(m, provider)] if r is not None), None)
        if rates is None:
            name = response_model or request_model or _UNNAMED
            report.unpriced[name] = report.unpriced.get(name, 0) + calls
        else:
            priceable.append((provider, response_model, request_model, rates))
    if not priceable:
        _remember(con, report, fingerprint)
        return report
    columns: dict[str, list[Any]] = {"trace_id": [], "span_id": [], "cost_usd": [], "cost_table": []}
    refused: dict[str, list[Any]] = {"trace_id": [], "span_id": [], "why": []}
    for provider, response_model, request_model, rates in priceable:
        before = len(columns["trace_id"])
        rows = con.execute(
            f"SELECT trace_id, span_id, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, "
            f"{_DROPPED} FROM span_rows WHERE {needs_price} AND provider IS NOT DISTINCT FROM $provider "
            "AND response_model IS NOT DISTINCT FROM $response AND request_model IS NOT DISTINCT FROM $request",
            {"provider": provider, "response": response_model, "request": request_model},
        ).fetchall()
        for trace_id, span_id, inp, out, cache_read, cache_write, dropped in rows:
            usage = Usage(input_tokens=inp, output_tokens=out, cache_read_tokens=cache_read,
                          cache_write_tokens=cache_write, dropped=tuple(dropped or ()))
            why = rates.refusal(usage)
            if why is not None:
                for name, value in (("trace_id", trace_id), ("span_id", span_id), ("why", why)):
                    refused[name].append(value)
                continue
            columns["trace_id"].append(trace_id)
            columns["span_id"].append(span_id)
            columns["cost_usd"].append(rates.price(usage))
            columns["cost_table"].append(rates.source)
        if rates.source not in report.tables and len(columns["trace_id"]) > before:
            report.tables.append(rates.source)
    if refused["trace_id"]:
        report.refused_spans = pa.table(refused)
    con.register("_ingest_prices", pa.table(columns))
    try:
        con.execute(
            "UPDATE span_rows SET cost_usd = p.cost_usd, cost_source = 'ingest', cost_table = p.cost_table "
            f"FROM _ingest_prices p WHERE {scope} AND span_rows.trace_id = p.trace_id AND span_rows.span_id = p.span_id"
        )
    finally:
        con.unregister("_ingest_prices")
    report.priced = len(columns["trace_id"])
    report.priced_spans = pa.table({"trace_id": columns["trace_id"], "span_id": columns["span_id"]})
    _remember(con, report, fingerprint)
    return report


def count_calls(con: duckdb.DuckDBPyConnection, report: PricingReport) -> None:
    """Recount ``report`` in calls as the analyses count them, once the spans are paired (``_nesting``).

    :func:`price_calls` prices every LLM span, both halves of a call two producers
    traced included, so its counts are spans; the report says calls: those of
    ``llm_calls`` where the pass looked - priced at ingest when the call's cost is
    one this pass made (its own span's or its wrapper's), unpriced by the rule of
    ``summary``'s ``unpriced_calls`` (``_filters.IS_UNPRICED``).
    """
    if report.scope == "FALSE":
        return
    refused = report.refused_spans if report.refused_spans is not None else pa.table(
        {"trace_id": pa.array([], pa.string()), "span_id": pa.array([], pa.string()), "why": pa.array([], pa.string())})
    con.register("_ingest_refused", refused)
    try:
        labels = " ".join(f"WHEN '{key}' THEN '{label}'" for key, label in _REFUSED_AS.items())
        rows = con.execute(
            f"SELECT coalesce(response_model, request_model, '{_UNNAMED}'), "
            f"CASE {REASON_SQL} {labels} ELSE (SELECT any_value(r.why) FROM _ingest_refused r "
            "WHERE r.trace_id = c.trace_id AND r.span_id IN (c.span_id, c.wrapper_span_id)) END, count(*) "
            f"FROM llm_calls c WHERE {report.scope} AND {IS_UNPRICED} GROUP BY ALL").fetchall()
    finally:
        con.unregister("_ingest_refused")
    report.unpriced, report.refused = {}, {}
    for name, why, calls in rows:
        counts, key = (report.unpriced, name) if why is None else (report.refused, why)
        counts[key] = counts.get(key, 0) + calls
    if report.priced_spans is None:
        return
    con.register("_ingest_priced", report.priced_spans)
    try:
        ((report.priced,),) = con.execute(
            f"SELECT count(*) FROM llm_calls c WHERE {report.scope} AND cost_source = 'ingest' AND EXISTS "
            "(SELECT 1 FROM _ingest_priced p WHERE p.trace_id = c.trace_id "
            "AND (p.span_id = c.span_id OR p.span_id = c.wrapper_span_id))").fetchall()
    finally:
        con.unregister("_ingest_priced")


def _remember(con: duckdb.DuckDBPyConnection, report: PricingReport, fingerprint: str) -> None:
    """After a whole-store pass: the tables every stored call has now been priced with."""
    if report.whole_store:
        ingest_state.put(con, _STATE, fingerprint)

