"""Which otel-llm span another producer's LLM call runs in: the derived column behind its context in ``llm_calls``.

A peer instrumentor's call (OpenLLMetry's, OpenInference's, OpenLIT's span of
an ``openai`` call) made inside an otel-llm chat turn, graph node, agent or
tool carries none of the app's context: the project, conversation, user,
graph node and run config are attributes otel-llm sets on its own spans only.
``llm_calls`` (views.sql) gives such a call the context of the nearest otel-llm
span it runs in, as ``agents`` and ``tools`` give a turn's context to what runs
in it, so ``summary(by="conversation")`` counts the same calls as ``agents``.

Why a derived column: finding that span walks up the span tree, which joining
every call with its ancestors in each query made 3-4x slower on a million
spans. So after each ingest :func:`derive` sets ``span_rows.context_span_id``
on the few calls that need it - LLM spans of another instrumentation scope
that are neither wrapped by an LLM span nor wrap one (those take the wrapper's
context, ``_nesting``) - and ``llm_calls`` reads every other call straight from
``span_rows``. It runs where the derived tables are refreshed
(``_scope_index``), over the spans of the traces that received spans: whole
traces, so a call whose turn arrives in a later file or run gets its context
when the turn is stored, and a span that arrives in between moves it to the
nearer span.
"""

from __future__ import annotations

import duckdb

from otel_llm import semconv

__all__ = ["derive"]

# temporary: the calls to place and the spans of their traces
_CALLS, _NODES = "_otel_llm_context_calls", "_otel_llm_context_nodes"
#: Deeper than any real span tree; it bounds a walk through a hostile parent cycle.
MAX_DEPTH = 1000


def derive(con: duckdb.DuckDBPyConnection, spans: str, *, everywhere: bool = False) -> int:
    """Set ``context_span_id`` of the other producers' unpaired LLM calls among ``spans``; returns how many changed.

    ``spans``: a table or view of span rows with their rowid as ``r`` (whole
    traces). ``everywhere``: ``spans`` is the whole store, whose stale values
    (a call now paired, a store classified again) are cleared too. Runs inside
    the caller's transaction.
    """
    if everywhere and _any_placed(con):
        con.execute("UPDATE span_rows SET context_span_id = NULL WHERE context_span_id IS NOT NULL")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {_CALLS} AS
        SELECT r, trace_id, parent_span_id FROM {spans}
        WHERE otel_kind = '{semconv.KIND_LLM_CALL}' AND wrapper_span_id IS NULL AND wrapped_calls IS NULL
          AND scope_name IS DISTINCT FROM '{semconv.INSTRUMENTATION_SCOPE}' AND parent_span_id IS NOT NULL""")
    try:
        ((calls, low, high),) = con.execute(f"SELECT count(*), min(r), max(r) FROM {_CALLS}").fetchall()
        if not calls:
            return 0
        con.execute(f"""CREATE OR REPLACE TEMP TABLE {_NODES} AS
            SELECT trace_id, span_id, parent_span_id, scope_name = '{semconv.INSTRUMENTATION_SCOPE}' AS ours
            FROM {spans} WHERE trace_id IN (SELECT trace_id FROM {_CALLS})""")
        placed = f"""
            WITH RECURSIVE up AS (
                SELECT r, trace_id, parent_span_id AS at, 0 AS depth FROM {_CALLS}
                UNION ALL
                SELECT u.r, u.trace_id, n.parent_span_id, u.depth + 1
                FROM up u JOIN {_NODES} n ON n.trace_id = u.trace_id AND n.span_id = u.at
                WHERE n.ours IS NOT TRUE AND n.parent_span_id IS NOT NULL AND u.depth < {MAX_DEPTH}
            )
            SELECT c.r, f.span_id AS context_span_id
            FROM {_CALLS} c LEFT JOIN (
                SELECT u.r, min(n.span_id) AS span_id  -- one, should a hostile trace repeat a span id
                FROM up u JOIN {_NODES} n ON n.trace_id = u.trace_id AND n.span_id = u.at
                WHERE n.ours GROUP BY u.r
            ) f USING (r)"""
        ((changed,),) = con.execute(
            f"""UPDATE span_rows SET context_span_id = p.context_span_id FROM ({placed}) p
            WHERE span_rows.rowid BETWEEN {int(low)} AND {int(high)} AND span_rows.rowid = p.r
              AND span_rows.context_span_id IS DISTINCT FROM p.context_span_id""").fetchall()
        con.execute(f"DROP TABLE {_NODES}")
        return int(changed)
    finally:
        con.execute(f"DROP TABLE IF EXISTS {_CALLS}")


def _any_placed(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether any stored span has a ``context_span_id`` (a read, skipping row groups that hold none).

    Why ask before clearing: an UPDATE of ``span_rows``, even one that changes
    nothing, waits for the checkpoint ``_scope_index.refresh_scopes`` runs beside
    the refresh - on a first ingest, that held the whole walk back until the
    checkpoint ended (measured on 1M spans: the walk started 1.8 s late).
    """
    ((placed,),) = con.execute(
        "SELECT EXISTS (SELECT 1 FROM span_rows WHERE context_span_id IS NOT NULL)").fetchall()
    return bool(placed)
