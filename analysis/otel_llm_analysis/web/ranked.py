"""The most expensive and the slowest traces as the page shows them, bounded whatever a trace's size.

Why not ``traces.top_traces`` as it is: it returns each ranked trace's whole span
tree, so one trace of 100,000 spans (a long agent loop) was read, walked and
turned into 100,000 objects on every load of the dashboard and for every report
view that listed it, for the ``limit`` (300) spans the page shows of it. Here a
trace's figures are its ``trace_summary`` row (aggregated in SQL), and of its
spans only the ids and parents are read, to find the tree's pre-order and depth;
the columns a tree line shows are read for its first ``limit`` spans alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator, Sequence

import duckdb

from otel_llm_analysis import Filters
from otel_llm_analysis._filters import as_rows, connection, fetch_dicts
from otel_llm_analysis.traces import RankBy, SpanNode, TraceRow, preorder, ranked_trace_ids, span_rowids

#: the columns of a tree line (``SpanNode``'s but its depth, which the walk gives)
_NODE_COLUMNS = ("span_id", "parent_span_id", "name", "otel_kind", "start_time", "duration_ms", "status_code",
                 "model", "input_tokens", "output_tokens", "cost_usd", "status_message")


@dataclass
class Bounded:
    """Ranked traces per ranking (their ``tree`` left empty, ``depth`` set), the first spans of each one's
    tree, and the number of spans of each trace whose tree holds more than the limit."""

    rows: dict[str, list[TraceRow]] = field(default_factory=dict)
    trees: dict[str, list[SpanNode]] = field(default_factory=dict)
    tree_spans: dict[str, int] = field(default_factory=dict)


def top_traces_bounded(store: Any, top: int, rankings: Sequence[RankBy], filters: Filters | None,
                       limit: int) -> Bounded:
    """``traces.top_traces(store, top, by, filters)``'s rows and depths for each ranking ``by``, with trees of
    at most ``limit`` spans; a trace in several rankings is read and walked once."""
    ranked = {by: ranked_trace_ids(store, top, by, filters) for by in rankings}
    ids = list(dict.fromkeys(i for found in ranked.values() for i in found))
    if not ids:
        return Bounded({by: [] for by in rankings})
    rows = _Rows.of(store, ids)
    summaries = {d["trace_id"]: d for d in rows.summaries()}
    out = Bounded()
    depths: dict[str, int] = {}
    firsts: dict[str, list[tuple[Sequence[Any], int]]] = {}
    for trace_id, links in rows.links():
        firsts[trace_id], depths[trace_id], total = _walk(links, 0, limit)
        if total > limit:
            out.tree_spans[trace_id] = total
    for by, found in ranked.items():
        out.rows[by] = as_rows(TraceRow, [summaries[i] for i in found if i in summaries])
        for row in out.rows[by]:
            row.depth = depths.get(row.trace_id, 0)
    out.trees = rows.first_nodes(firsts)
    return out


def trace_page(store: Any, trace_id: str, offset: int, limit: int) -> tuple[list[SpanNode], int] | None:
    """Spans ``offset`` to ``offset + limit`` of one trace's tree in pre-order, and its number of spans;
    None when the store has no such trace. Only the ids and parents of the whole trace are read (to walk
    it); the tree lines are read for the page's spans alone, so a page costs the same whatever the trace."""
    rows = _Rows.of(store, [trace_id])
    for found_id, links in rows.links():
        kept, _, total = _walk(links, offset, limit)
        return rows.first_nodes({found_id: kept}).get(found_id, []), total
    return None


def _walk(links: Sequence[Sequence[Any]], offset: int, limit: int) -> tuple[list[tuple[Sequence[Any], int]], int, int]:
    """(link, depth) of the spans ``offset`` to ``offset + limit`` of the tree in pre-order, its depth and
    its number of spans; streamed, so only the spans kept are held."""
    kept: list[tuple[Sequence[Any], int]] = []
    depth = total = 0
    for index, level in preorder(links):
        if offset <= total < offset + limit:
            kept.append((links[index], level))
        depth, total = max(depth, level), total + 1
    return kept, depth, total


@dataclass
class _Rows:
    """Where the spans of some traces are read from: on DuckDB the span rows at the rowids of those traces'
    spans (``traces.span_rowids``), so each read takes only the row groups holding them; elsewhere
    (ClickHouse has no rowid) the views, filtered by trace id. ``trace_summary_of`` reads them on DuckDB: a
    store an older otel-llm made, opened read-only, may lack it, and then the view is filtered."""

    store: Any
    ids: list[str]
    rowids: list[int] | None

    @classmethod
    def of(cls, store: Any, ids: Sequence[str]) -> "_Rows":
        return cls(store, list(ids), span_rowids(store, ids))

    def _spans(self, columns: str, tail: str = "") -> tuple[str, dict[str, Any]]:
        """A SELECT of ``columns`` of these traces' spans, and its parameters."""
        if self.rowids is None:
            return f"SELECT {columns} FROM spans WHERE list_contains($ids, trace_id) {tail}", {"ids": self.ids}
        return f"SELECT {columns} FROM span_rows WHERE rowid IN (SELECT unnest($rows)) {tail}", {"rows": self.rowids}

    def summaries(self) -> list[dict[str, Any]]:
        """The traces' ``trace_summary`` rows."""
        if self.rowids is not None:
            spans, params = self._spans("*")
            try:
                return fetch_dicts(self.store, f"WITH picked AS ({spans}) SELECT * FROM trace_summary_of(picked)",
                                   params)
            except duckdb.CatalogException:
                pass
        return fetch_dicts(self.store, "SELECT * FROM trace_summary WHERE list_contains($ids, trace_id)",
                           {"ids": self.ids})

    def links(self) -> Iterator[tuple[str, Sequence[Sequence[Any]]]]:
        """Each trace's id and spans as (span id, parent id, trace id[, rowid on DuckDB]), by start time: all a
        walk needs, as the plain tuples read (one list for all the traces, each trace a slice of it)."""
        columns = "span_id, parent_span_id, trace_id" + ("" if self.rowids is None else ", rowid")
        rows = connection(self.store).execute(
            *self._spans(columns, "ORDER BY trace_id, start_time, span_id")).fetchall()
        start = 0
        for end in range(1, len(rows) + 1):
            if end == len(rows) or rows[end][2] != rows[start][2]:
                yield rows[start][2], rows[start:end]
                start = end

    def first_nodes(self, walks: dict[str, list[tuple[Sequence[Any], int]]]) -> dict[str, list[SpanNode]]:
        """The tree lines of the spans ``walks`` names (their links, :meth:`links`), in its order: on DuckDB
        the rows at those spans' rowids, the very rows walked."""
        wanted = [link for walk in walks.values() for link, _ in walk]
        if not wanted:
            return {}
        columns = f"trace_id, {', '.join(_NODE_COLUMNS)}"
        if self.rowids is None:
            found = fetch_dicts(self.store, f"SELECT {columns} FROM spans WHERE list_contains($traces, trace_id) "
                                            "AND list_contains($spans, span_id)",
                                {"traces": list(walks), "spans": [link[0] for link in wanted]})
        else:
            found = fetch_dicts(self.store, f"SELECT {columns} FROM span_rows WHERE rowid IN (SELECT unnest($rows))",
                                {"rows": [link[3] for link in wanted]})
        nodes = {(d.pop("trace_id"), d["span_id"]): d for d in found}
        return {trace_id: [SpanNode(depth=depth, **nodes[(trace_id, link[0])]) for link, depth in walk
                           if (trace_id, link[0]) in nodes]
                for trace_id, walk in walks.items()}


__all__ = ["Bounded", "top_traces_bounded", "trace_page"]
