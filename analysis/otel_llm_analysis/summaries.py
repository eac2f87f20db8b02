"""Totals and per-dimension summaries: KPI figures and per-project/per-model tables.

Definitions (the README repeats them; ``_filters`` holds the SQL):

* **LLM call**: a row of the ``llm_calls`` view: a span of kind ``llm_call``
  (otel-llm's, or another producer's mapped kind), counted once when two
  producers traced the same call one inside the other (``views.sql``).
* **turn**: a span of kind ``chat``. **Tokens and cost** are summed over LLM calls.
* **error rate / latency** describe the group's unit: its LLM calls when it has
  any; latency percentiles are linear-interpolated (DuckDB ``quantile_cont``,
  numpy's default). A group without calls has them only in a span dimension
  (``_SPAN_DIMENSIONS``: a graph node's are its spans'); elsewhere (a turn whose
  calls carry no project, the no-key row of another producer's HTTP or chain
  spans) they stay ``None``: the columns are the calls', and a span's failure is
  no failed call. The ``None`` group of a dimension (spans without a model, a
  node...) gets neither unless it holds LLM calls: a figure over whatever else
  lacks the value would mean nothing.
* **cost** sums the calls that carry a cost; a model without a price has none (the
  SDK never writes a silent 0), so ``priced_calls`` says how many calls the cost
  covers. A group whose calls all lack a price has cost ``None`` (shown as "-"),
  never ``0``. ``estimated_cost_usd`` is the part priced at ingest (from tokens,
  because the producer wrote no usable cost); ``unpriced_calls`` the calls with
  tokens and no cost: their model has no price, or their usage is only a total
  (``total_only_calls``), which can be neither priced nor split into input and
  output, so its tokens are summed apart (``total_only_tokens``). A call is
  priced, unpriced, or carries no usage at all.
* **estimated usage**: ``estimated_usage_calls`` are calls whose tokens are their
  producer's estimate, not the API's usage (``_filters.IS_ESTIMATED_USAGE``: OpenLIT's
  guess for a stream that reported none). Their tokens are in the token sums as the
  producer wrote them, and their cost is in ``estimated_cost_usd`` whoever priced it.
* **cost per call** and **cost per successful call** divide that same cost by the
  same priced calls: all of them, or those that did not fail (failures still cost
  money, so a success costs at least the mean call).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Sequence

import duckdb

from otel_llm_analysis._filters import (
    IS_ERROR,
    IS_LLM_SPAN,
    IS_TURN,
    Filters,
    as_rows,
    connection,
    dimension_sql,
    estimated_usage_sql,
    fetch_dicts,
    load_query,
    ratio,
    total_only_sql,
)
from otel_llm_analysis._filter_sets import IN_SET, SETS, ask_together, per_set, set_rows, shared_filters
from otel_llm_analysis._instrumentation_failures import reinterpreted
from otel_llm_analysis._interruptible import Work, side_by_side
from otel_llm_analysis._rows import SPANS, stored_columns
from otel_llm_analysis._total_only import may_hold
from otel_llm_analysis._unrecorded import OnlyInMetrics, only_in_metrics, only_in_metrics_by, unrecorded_cost
from otel_llm_analysis._unpriced import COUNTED, from_counts, may_hold_dropped, named_refusals, reason_sql, refusals

#: Dimensions whose groups are spans that are not LLM calls (graph nodes, span
#: kinds, vector collections and operations): their latency always needs span_latency.sql, which
#: on DuckDB then runs beside the summary query, on its own cursor. Each query
#: alone leaves the second core idle in its single-threaded parts (each group's
#: quantiles): summary(by=node) on 1M spans 94 -> 83 ms (medians of 80 interleaved calls).
_SPAN_DIMENSIONS = frozenset({"node", "kind", "collection", "db_operation"})

@dataclass(slots=True)
class SummaryRow:
    """One group of the summary (``key`` is ``None`` for the overall totals)."""

    key: Any
    spans: int
    traces: int
    llm_calls: int
    turns: int
    failed_calls: int
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    reasoning_tokens: int
    cost_usd: float | None
    error_rate: float | None
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    cost_share: float | None
    cost_per_call: float | None
    cost_per_turn: float | None
    cost_per_trace: float | None
    cost_per_success: float | None
    tokens_per_turn: float | None
    priced_calls: int = 0
    #: the part of ``cost_usd`` priced at ingest (calls whose producer wrote no usable cost), or priced
    #: from estimated usage (``estimated_usage_calls``)
    estimated_cost_usd: float | None = None
    #: calls whose tokens are their producer's estimate (OpenLIT's for a stream that reported no usage),
    #: not the API's usage: in the token sums as written, their cost in ``estimated_cost_usd``
    estimated_usage_calls: int = 0
    #: calls with tokens but no cost: their model has no price (add it with ``ingest --pricing``),
    #: or their usage is only a total (``total_only_calls``)
    unpriced_calls: int = 0
    #: ``unpriced_calls`` by reason (``_unpriced.REASONS``: no price, usage only a total, a count unreadable,
    #: dropped or contradicting another, output beside no input count): what would price them differs
    unpriced_reasons: dict[str, int] = field(default_factory=dict)
    #: calls whose usage is only a total token count: neither priced nor in the input/output tokens
    total_only_calls: int = 0
    #: the tokens of those calls (not in ``input_tokens`` / ``output_tokens`` nor in ``total_tokens``)
    total_only_tokens: int = 0
    #: calls with neither a cost nor any token count: failed before an answer, or the app read the raw
    #: HTTP response itself (``otel_llm.usage.unobserved``); priced + unpriced + these = ``llm_calls``
    no_usage_calls: int = 0
    #: calls with a token count (input/output, or only a total): what a mean of tokens per call divides by
    token_calls: int = 0
    #: calls counted as succeeded though their span says ERROR: it failed in its instrumentation's own code
    #: (OpenLIT reading an answer without usage; ``views.sql``'s ``instrumentation_failures``), not the call
    instrumentation_failures: int = 0
    #: the latest start of the group's spans (its calls' with ``calls_only``): when it last ran
    last_seen: datetime | None = None
    #: the group's calls (:func:`totals`: the window's) that only GenAI metric points record (spans sampled out
    #: or not shipped), beside its calls in spans: the call figures above leave them out. Filled by
    #: :func:`totals`, and by :func:`summary` when asked (``partial``); ``shared`` when the points do not name
    #: the group (a project...): calls of the services its calls ran on, which may be other groups'
    only_in_metrics: OnlyInMetrics | None = None
    #: :func:`totals` only: why the window's cost is unknown (``cost_usd`` and ``estimated_cost_usd`` None, not
    #: 0) when its spans hold no LLM call and GenAI metric points count calls there (``_unrecorded.unrecorded_cost``)
    cost_unknown: str | None = None

    @property
    def total_tokens(self) -> int:
        """Input plus output tokens (cache and reasoning tokens are already inside them)."""
        return self.input_tokens + self.output_tokens


def summary(store: Any, by: str | None = None, filters: Filters | None = None, *,
            traces: bool = True, partial: bool = False) -> list[SummaryRow]:
    """Summary rows grouped by ``by`` (see ``_filters.DIMENSIONS``); one row when ``by`` is None.

    Rows are ordered by cost, then span count. ``cost_share`` is the group's share
    of the cost of all rows returned (per model: the model's share of the spend).
    With ``filters.calls_only`` only call figures are computed (spans, turns
    and failed spans are 0). ``traces=False`` skips counting each group's
    distinct traces (``traces`` is then 0 and ``cost_per_trace`` None) for callers
    that do not show them: it is the query's dearest figure (about a third of
    ``compare``'s call figures on 1M spans). ``partial=True`` gives each group
    with LLM calls the calls of it only GenAI metric points record
    (``only_in_metrics``, ``_unrecorded.only_in_metrics_by``), for callers that
    show the rows.
    """
    filters = filters or Filters()
    parts, params = _summary_parts(store, by, filters, traces)
    summary_sql, latency_sql = load_query("summary").format(**parts, **_ONE_SET), load_query("span_latency").format(**parts)
    ask_together(store, filters, lambda asked: _statement(store, by, asked, traces),
                 lambda sets: summary_sets(store, by, sets, traces=traces))
    where = parts["where"]
    con = connection(store)
    # beside it on a second cursor, unless the store reads one snapshot (the dashboard's, during an ingest):
    # a cursor is a connection of its own, outside that snapshot's transaction
    if by in _SPAN_DIMENSIONS and isinstance(con, duckdb.DuckDBPyConnection) and not getattr(
            store, "holds_snapshot", False):
        groups, span_latency = _beside(con, summary_sql, latency_sql, params)
    else:
        groups, span_latency = fetch_dicts(con, summary_sql, params), None
    if by in _SPAN_DIMENSIONS and any(not d["llm_calls"] and d["key"] is not None for d in groups):
        # their latency is their spans'
        if span_latency is None:
            span_latency = _span_latency(con, latency_sql, params)
        for d in groups:
            if not d["llm_calls"]:
                d["latency"] = span_latency.get(d["key"])
    rows = []
    refused: dict[Any, Any] | None = None
    for d in groups:
        p50, p95, p99 = d.pop("latency") or (None, None, None)
        if d["llm_calls"] and not d["priced_calls"]:  # calls of unpriced models: cost unknown, not 0
            d["cost_usd"] = d["cost_share"] = d["estimated_cost_usd"] = None
        tokens = d["input_tokens"] + d["output_tokens"]
        d["unpriced_reasons"] = from_counts(d["unpriced_calls"], {why: d.pop(f"unpriced_{why}") for why in COUNTED})
        if d["unpriced_calls"]:  # the SDK's own reason, where the span says it (asked once a summary)
            if refused is None:
                refused = refusals(store, parts["key"], where, params, parts["unpriced_reason"],
                                   parts["is_unpriced"])
            d["unpriced_reasons"] = named_refusals(d["unpriced_reasons"], refused.get(d["key"], []))
        d.update(
            p50_ms=p50,
            p95_ms=p95,
            p99_ms=p99,
            cost_per_call=ratio(d["cost_usd"], d["priced_calls"]),
            cost_per_turn=ratio(d["cost_usd"], d["turns"]),
            cost_per_trace=ratio(d["cost_usd"], d["traces"]),
            cost_per_success=ratio(d["cost_usd"], d.pop("priced_successes")),
            tokens_per_turn=ratio(tokens, d["turns"]),
        )
        rows.extend(as_rows(SummaryRow, [d]))
    failures = reinterpreted(store, by, filters) if rows else {}
    for row in rows:
        row.instrumentation_failures = failures.get(row.key, 0)
    if partial and any(row.llm_calls for row in rows):
        marks = only_in_metrics_by(store, filters, by)
        for row in rows:
            row.only_in_metrics = marks.get(row.key) if row.llm_calls else None
    return rows


#: ``summary.sql``'s set placeholders for one filter set: the statement reads the filters' bound parameters
_ONE_SET = dict(sets="", set_id="", by_set="", and_set="", per_set="", partition="")
#: ... and for many (:func:`summary_sets`): ``$sets`` is the list of sets, each set's bounds read as columns
_MANY_SETS = dict(sets=f", {SETS}", set_id="set_id, ", by_set=", set_id", and_set=" AND s.set_id = c.set_id",
                  per_set=" coalesce(s.set_id, c.set_id) AS set_id,", partition="PARTITION BY set_id")


def _summary_parts(store: Any, by: str | None, filters: Filters, traces: bool) -> tuple[dict[str, str], dict[str, Any]]:
    """``summary.sql``'s and ``span_latency.sql``'s parts (but the set placeholders) and bound parameters."""
    where, params = filters.where()
    trace = _trace(connection(store))
    distinct = f"count(DISTINCT {trace})" if traces else "0::BIGINT"
    parts = dict(key=dimension_sql(by), where=where, trace=trace, is_llm_span=IS_LLM_SPAN, is_turn=IS_TURN,
                 is_error=IS_ERROR,
                 is_estimated_usage=estimated_usage_sql(connection(store)),
                 **total_only_sql(may_hold(connection(store))),
                 unpriced_reason=reason_sql(dropped=may_hold_dropped(connection(store))),
                 reason_counts=", ".join(f"count(*) FILTER (WHERE why = '{why}') AS unpriced_{why}" for why in COUNTED),
                 reason_counts_joined=", ".join(f"coalesce(c.unpriced_{why}, 0) AS unpriced_{why}" for why in COUNTED),
                 reason_columns=", ".join(f"unpriced_{why}" for why in COUNTED),
                 spans_are_units="TRUE" if by in _SPAN_DIMENSIONS else "FALSE",
                 count_spans="FALSE" if filters.calls_only else "TRUE", span_traces=distinct,
                 call_traces=distinct if filters.calls_only else "NULL::BIGINT")
    return parts, params


def _trace(con: Any) -> str:
    """The trace as ``summary.sql`` counts it: ``trace_key`` on a DuckDB store that has it, else ``trace_id``
    (an older version's store opened read-only; ClickHouse)."""
    if isinstance(con, duckdb.DuckDBPyConnection) and "trace_key" in stored_columns(con, SPANS.name):
        return "trace_key"
    return "trace_id"


def _statement(store: Any, by: str | None, filters: Filters, traces: bool) -> tuple[str, dict[str, Any]]:
    """The summary statement :func:`summary` asks for ``filters``, and its parameters."""
    parts, params = _summary_parts(store, by, filters, traces)
    return load_query("summary").format(**parts, **_ONE_SET), params


def summary_sets(store: Any, by: str | None, filter_sets: Sequence[Filters], *, traces: bool = True
                 ) -> list[list[dict[str, Any]]]:
    """For each of ``filter_sets``, the rows :func:`summary`'s statement answers for it (its groups, ordered), all
    read in one statement; the sets differ only in their window, project and model.

    Why: a report build asks the same summaries for dozens of filter combinations, and on a small store
    each statement's cost is DuckDB binding and optimizing it (about 10 ms), not its rows. Each set's
    rows are grouped, shared and ordered within that set exactly as its own statement does.
    """
    if not filter_sets:
        return []
    parts, params = _summary_parts(store, by, shared_filters(filter_sets), traces)
    parts["where"] = f"{parts['where']} AND {IN_SET}"
    return per_set(fetch_dicts(store, load_query("summary").format(**parts, **_MANY_SETS),
                               {**params, "sets": set_rows(filter_sets)}), len(filter_sets))


def _span_latency(con: Any, sql: str, params: dict[str, Any]) -> dict[Any, Any]:
    """Latency percentiles of each group's spans that are not LLM calls, by key (``span_latency.sql``)."""
    return {d["key"]: d["latency"] for d in fetch_dicts(con, sql, params)}


def _beside(con: duckdb.DuckDBPyConnection, summary_sql: str, latency_sql: str,
            params: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[Any, Any]]:
    """The summary's groups on ``con`` and, at the same time on a cursor of its own, the span latency.

    Both run as ``_interruptible`` works: on threads of their own while this thread waits in short steps,
    so a Ctrl-C stops both wherever it lands (on this thread, DuckDB can miss it for as long as its query
    runs), and an exception on either side stops the other.
    """
    cursor = con.cursor()
    try:
        latency, groups = side_by_side(Work(lambda: _span_latency(cursor, latency_sql, params), cursor.interrupt),
                                       Work(lambda: fetch_dicts(con, summary_sql, params), con.interrupt))
    finally:
        cursor.close()
    return groups, latency


def totals(store: Any, filters: Filters | None = None, *, partial: bool = True) -> SummaryRow:
    """The overall KPI row (an all-zero row on an empty store), with the days whose calls only GenAI metric
    points record (``only_in_metrics``) when its figures leave such calls out; when all of the window's calls
    are only in such points, its cost is unknown (None) and ``cost_unknown`` says why.

    ``partial=False`` leaves ``only_in_metrics`` None, not searched for (as :func:`summary`'s ``partial``), for
    callers that show none of it: the dashboard's poll of the span count, the figures of the period before,
    a budget month's unpriced calls. That search reads every duration-histogram point of the window and every
    LLM span (about 0.4 s on two months of an SDK's per-minute exports), and a writable store keeps no answer."""
    filters = filters or Filters()
    rows = summary(store, None, filters)
    row = rows[0] if rows else _zero_row()
    row.only_in_metrics = only_in_metrics(store, filters, row.llm_calls) if partial else None
    row.cost_unknown = unrecorded_cost(store, filters, row.llm_calls)
    if row.cost_unknown:
        row.cost_usd = row.estimated_cost_usd = None
    return row


def _zero_row() -> SummaryRow:
    """The KPI row of a window without spans."""
    counts = dict.fromkeys(("spans", "traces", "llm_calls", "turns", "failed_calls", "input_tokens", "output_tokens",
                            "cache_read_tokens", "cache_write_tokens", "reasoning_tokens", "unpriced_calls", "total_only_calls",
                            "total_only_tokens", "no_usage_calls", "token_calls", "estimated_usage_calls"), 0)
    ratios = dict.fromkeys(("error_rate", "p50_ms", "p95_ms", "p99_ms", "cost_share", "cost_per_call",
                            "cost_per_turn", "cost_per_trace", "cost_per_success", "tokens_per_turn"))
    return SummaryRow(key=None, cost_usd=0.0, estimated_cost_usd=0.0, **counts, **ratios)


@dataclass(slots=True)
class FirstTokenRow:
    """Time to first token of streamed LLM calls, per group."""

    key: Any
    streams: int
    p50_ms: float | None
    p95_ms: float | None


def time_to_first_token(store: Any, by: str | None = None, filters: Filters | None = None) -> list[FirstTokenRow]:
    """p50/p95 of (first ``llm.first_token`` event - span start) over streamed calls."""
    where, params = (filters or Filters()).where()
    sql = load_query("first_token").format(key=dimension_sql(by), where=where)
    rows = []
    for d in fetch_dicts(store, sql, params):
        p50, p95 = d.pop("latency") or (None, None)
        rows.append(FirstTokenRow(key=d["key"], streams=d["streams"], p50_ms=p50, p95_ms=p95))
    return rows

