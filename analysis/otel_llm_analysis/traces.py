"""The slowest and the most expensive traces, each with its span tree.

Ranking is one aggregate query; depth and the tree come from the few top traces'
spans, assembled in Python, so a span whose parent was never exported becomes a
root of its own subtree instead of disappearing.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, Iterator, Literal, Sequence

import duckdb

from otel_llm_analysis._filter_sets import SETS, ask_together, in_set, per_set, set_rows, shared_filters
from otel_llm_analysis._filters import Filters, as_rows, connection, fetch_dicts, load_query
from otel_llm_analysis._unpriced import reasons_of_traces

RankBy = Literal["cost", "duration"]
#: ranking measure: a column of a per-trace view
_RANK = {"cost": ("trace_calls", "cost_usd"), "duration": ("trace_spans", "duration_ms")}


@dataclass(slots=True)
class SpanNode:
    """A span in a tree (``depth`` 1 is a root), in pre-order, children by start time."""

    span_id: str
    parent_span_id: str | None
    name: str
    otel_kind: str | None
    depth: int
    start_time: datetime
    duration_ms: float | None
    status_code: int | None
    model: str | None
    input_tokens: int | None
    output_tokens: int | None
    cost_usd: float | None
    status_message: str | None = None  # why a failed span (status_code 2) failed


#: What a tree shows of each span: the columns of :class:`SpanNode` (its depth comes from the walk).
_TREE_COLUMNS = tuple(f.name for f in fields(SpanNode) if f.name != "depth")
#: The same as a DuckDB struct of each span (``queries/ranked_traces.sql``).
_TREE_STRUCT = "{" + ", ".join(f"{c}: {c}" for c in _TREE_COLUMNS) + "}"


@dataclass(slots=True)
class TraceRow:
    """One ranked trace; ``depth`` is the number of levels of its span tree."""

    trace_id: str
    root_name: str
    start_time: datetime
    duration_ms: float
    spans: int
    llm_calls: int
    tokens: int
    cost_usd: float | None  # None when none of its LLM calls has a cost
    errors: int
    #: the calls ``cost_usd`` sums, and those it leaves out (tokens, no price); None on a store whose
    #: views predate them (opened read-only) or an engine whose trace views lack them
    priced_calls: int | None = None
    unpriced_calls: int | None = None
    depth: int = 0
    tree: list[SpanNode] = field(default_factory=list)


def top_traces(store: Any, top: int = 10, by: RankBy = "cost", filters: Filters | None = None) -> list[TraceRow]:
    """The ``top`` traces by ``cost`` (their LLM calls') or ``duration`` (wall time), with trees.

    A trace is a candidate when one of its spans matches ``filters``; its figures
    are the whole trace's (the ``trace_summary`` view's definition).
    """
    ids = ranked_trace_ids(store, top, by, filters)
    if not ids:
        return []
    details = _read_by_rowid(store, ids)
    if details is not None:
        trees = {trace_id: _preorder(details[trace_id].pop("tree")) for trace_id in details}
    else:
        # The ranked traces' rows, filtered by a constant list (list_contains) that
        # the engine pushes into both halves of the view: a join with the ranking was 4x slower.
        details = {d["trace_id"]: d for d in fetch_dicts(
            store, "SELECT * FROM trace_summary WHERE list_contains($ids, trace_id)", {"ids": ids})}
        trees = span_trees(store, ids)
    rows = as_rows(TraceRow, [details[i] for i in ids])
    for row in rows:
        row.tree = trees.get(row.trace_id, [])
        row.depth = max((node.depth for node in row.tree), default=0)
    return rows


@dataclass(slots=True)
class TraceCalls:
    """The LLM calls of some traces, split as ``summary`` splits a group's: those whose cost a row holds,
    those with tokens and no price, those with no usage recorded (the rest)."""

    llm_calls: int
    priced_calls: int
    unpriced_calls: int
    no_usage_calls: int
    #: ``unpriced_calls`` by reason (``_unpriced.REASONS``); empty when ``calls_of`` was given no store
    unpriced_reasons: dict[str, int] = field(default_factory=dict)


def calls_of(rows: Sequence[TraceRow], store: Any = None) -> TraceCalls:
    """The calls of the traces ``rows`` show, whole, as their figures count them.

    What a ranking's costs leave out is said of these calls: the rows are whole traces (a trace is
    ranked when any span of it matches the filters), so the calls the filters match (a window
    beginning inside a trace, the top few of many traces) are another set. A row whose views predate
    the priced/unpriced split (``None``) counts its calls as neither. With ``store``, the unpriced
    calls are counted by reason too.
    """
    calls = sum(row.llm_calls for row in rows)
    priced = sum(row.priced_calls or 0 for row in rows)
    unpriced = sum(row.unpriced_calls or 0 for row in rows)
    known = sum(row.llm_calls for row in rows if row.priced_calls is not None and row.unpriced_calls is not None)
    reasons = reasons_of_traces(store, [row.trace_id for row in rows]) if store is not None and unpriced else {}
    return TraceCalls(calls, priced, unpriced, known - priced - unpriced, reasons)


def ranked_trace_ids(store: Any, top: int = 10, by: RankBy = "cost", filters: Filters | None = None) -> list[str]:
    """The ids of :func:`top_traces`'s traces, best first, without reading their spans."""
    if by not in _RANK:
        raise ValueError(f"rank traces by cost or duration, not {by!r}")
    filters = filters or Filters()
    ask_together(store, filters, lambda asked: _ranked_statement(top, by, asked),
                 lambda sets: _ranked_sets(store, top, by, sets))
    return [d["trace_id"] for d in fetch_dicts(store, *_ranked_statement(top, by, filters))]


def _ranked_statement(top: int, by: RankBy, filters: Filters) -> tuple[str, dict[str, Any]]:
    """``top_traces.sql`` ranking the traces ``filters`` selects by ``by``, and its parameters."""
    where, params = filters.where()
    ranking, measure = _RANK[by]
    candidates = "TRUE" if where == "TRUE" else f"trace_id IN (SELECT trace_id FROM spans WHERE {where})"
    return (load_query("top_traces").format(order=by, ranking=ranking, measure=measure, candidates=candidates),
            {**params, "top": top})


def _ranked_sets(store: Any, top: int, by: RankBy, filter_sets: Sequence[Filters]) -> list[list[dict[str, Any]]]:
    """The rows of :func:`_ranked_statement` of each of ``filter_sets`` (sharing their service and calls_only), in
    one statement: each set's traces (all of them for a set that filters nothing, as there) ranked apart."""
    where, params = shared_filters(filter_sets).where("s")
    ranking, measure = _RANK[by]
    sql = f"""-- Traces (those with a span matching each set's filters) ranked by {by} for several filter sets
        WITH sets AS {SETS}, candidates AS (
            SELECT DISTINCT set_id, s.trace_id FROM spans s, sets WHERE {where} AND {in_set("s")}
        )
        SELECT set_id, trace_id FROM (
            SELECT sets.set_id, r.trace_id,
                   row_number() OVER (PARTITION BY sets.set_id
                                      ORDER BY r.{measure} DESC NULLS LAST, r.trace_id) AS place
            FROM {ranking} r CROSS JOIN sets
                 LEFT JOIN candidates c ON c.set_id = sets.set_id AND c.trace_id = r.trace_id
            WHERE sets.set_everything OR c.trace_id IS NOT NULL)
        WHERE place <= $top ORDER BY set_id, place"""
    everything = [f.where()[0] == "TRUE" for f in filter_sets]
    sets = set_rows(filter_sets, set_everything=everything)
    return per_set(fetch_dicts(store, sql, {**params, "top": top, "sets": sets}), len(filter_sets))


def span_trees(store: Any, trace_ids: Sequence[str]) -> dict[str, list[SpanNode]]:
    """Pre-order span trees of the given traces."""
    if not trace_ids:
        return {}
    spans = fetch_dicts(store, f"SELECT trace_id, {', '.join(_TREE_COLUMNS)} FROM spans "
                               "WHERE list_contains($ids, trace_id) ORDER BY start_time, span_id",
                        {"ids": list(trace_ids)})
    by_trace: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for span in spans:
        by_trace[span.pop("trace_id")].append(span)
    return {trace_id: _preorder(members) for trace_id, members in by_trace.items()}


def span_rowids(store: Any, trace_ids: Sequence[str]) -> list[int] | None:
    """On DuckDB, the rowids of the span rows of ``trace_ids``: one narrow scan of the trace ids, after which
    a read of those rows by rowid (``rowid IN (SELECT unnest($rows))``) takes only the row groups holding them,
    not every column of every span. None elsewhere: ClickHouse has no rowid."""
    con = connection(store)
    if not isinstance(con, duckdb.DuckDBPyConnection):
        return None
    found = con.execute("SELECT rowid FROM span_rows WHERE list_contains($ids, trace_id)",
                        {"ids": list(trace_ids)}).fetchall()
    return [rowid for (rowid,) in found]


def _read_by_rowid(store: Any, ids: list[str]) -> dict[str, dict[str, Any]] | None:
    """On DuckDB, the traces' ``trace_summary`` rows, each with its ``tree`` of span dicts.

    Filtering a million spans by ten trace ids costs every column read (the span
    ids' decompression most), twice (summary rows, then trees); the rows read by
    their rowids (:func:`span_rowids`) are only the row groups holding them, once
    (``queries/ranked_traces.sql``). None elsewhere: ClickHouse has no rowid, and
    a store set up by an older otel-llm and opened read-only has no
    ``trace_summary_of``; the caller then filters the views by trace id.
    """
    rowids = span_rowids(store, ids)
    if rowids is None:
        return None
    try:
        rows = fetch_dicts(store, load_query("ranked_traces").format(tree=_TREE_STRUCT), {"rows": rowids})
    except duckdb.CatalogException:
        return None
    return {d["trace_id"]: d for d in rows}


def _preorder(spans: list[dict[str, Any]]) -> list[SpanNode]:
    """The spans (ordered by start time) as tree nodes in :func:`preorder`'s walk."""
    walk = preorder([(span["span_id"], span["parent_span_id"]) for span in spans])
    return [SpanNode(depth=depth, **spans[index]) for index, depth in walk]


def preorder(links: Sequence[Sequence[Any]]) -> Iterator[tuple[int, int]]:
    """Depth-first walk of spans given as (span id, parent id, ...), ordered by start time: (index in
    ``links``, depth) of each span id once, children by start time; spans caught in a parent cycle become roots.

    A generator, so a caller wanting a huge tree's depth and first lines holds no list of all its nodes.
    """
    ids = {link[0] for link in links}
    children: dict[str | None, list[int]] = defaultdict(list)
    for index, link in enumerate(links):
        span_id, parent = link[0], link[1]
        children[parent if parent in ids and parent != span_id else None].append(index)
    seen: set[str] = set()
    for root in itertools.chain(children[None], range(len(links))):
        stack = [(root, 1)]
        while stack:
            index, depth = stack.pop()
            span_id = links[index][0]
            if span_id in seen:
                continue
            seen.add(span_id)
            yield index, depth
            stack.extend((child, depth + 1) for child in reversed(children[span_id]))
