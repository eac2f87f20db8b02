"""What each span runs inside (turn, agents, tries, graph node), worked out once per trace at ingest.

Why at ingest: the tools, agents and retries analyses need, for every span, its
nearest enclosing turn, agents and tries - a walk down each trace's span tree.
Repeated in every query it cost seconds on a million spans; the trees only
change when spans arrive. So after each ingest :func:`refresh_scopes` walks
again only the traces that received spans (``views.sql``'s ``span_scope_walk``
over all of each such trace's spans, stored or new) and replaces their rows of
``span_scope_index``, which the analyses' macros read. A trace whose spans
arrive over several runs, children before parents, is walked whole each time it
grows, so it ends up as if read at once.

What changed since the last walk is told by ``span_rows``' rowids: ingest only
appends, so the spans above the last walk's highest rowid (``span_scope_state``)
are the new ones. If the rows at or below it are no longer as many as then (a
store rewritten by other means), the whole store is walked again rather than
trusting stale row numbers.
"""

from __future__ import annotations

import duckdb

__all__ = ["refresh_scopes"]

_TRACES = "_otel_llm_scope_traces"


def refresh_scopes(con: duckdb.DuckDBPyConnection) -> int:
    """Bring ``span_scope_index`` up to date in one transaction; returns how many traces were walked."""
    con.execute("BEGIN TRANSACTION")
    try:
        walked = _refresh(con)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return walked


def _refresh(con: duckdb.DuckDBPyConnection) -> int:
    state = con.execute("SELECT watermark, spans FROM span_scope_state").fetchone()
    watermark = state[0] if state else None
    if watermark is not None:
        (below,) = con.execute("SELECT count(*) FROM span_rows WHERE rowid <= ?", [watermark]).fetchone()
        if below != state[1]:
            watermark = None
    if watermark is None:
        con.execute("DELETE FROM span_scope_index")
        con.execute(f"CREATE OR REPLACE TEMP TABLE {_TRACES} AS SELECT DISTINCT trace_id FROM span_rows")
    else:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {_TRACES} AS "
                    "SELECT DISTINCT trace_id FROM span_rows WHERE rowid > ?", [watermark])
        con.execute(f"DELETE FROM span_scope_index WHERE trace_id IN (SELECT trace_id FROM {_TRACES})")
    (traces,) = con.execute(f"SELECT count(*) FROM {_TRACES}").fetchone()
    if traces:
        con.execute(f"INSERT INTO span_scope_index SELECT * FROM span_scope_walk('{_TRACES}')")
    con.execute(f"DROP TABLE {_TRACES}")
    con.execute("DELETE FROM span_scope_state")
    con.execute("INSERT INTO span_scope_state SELECT max(rowid), count(*) FROM span_rows")
    return traces
