"""The agents, tools and retries rows, worked out once per trace at ingest rather than in every query.

Why at ingest: tool calls, agent invocations, retry tries and loops, and turns
all need what each span runs inside (its turn, agents, tries, graph node) - a
walk down each trace's span tree - and then per-turn and per-agent sums over
it. Done in every query that cost seconds on a million spans, while a trace's
rows only change when spans of that trace arrive (or one of its calls is priced).
So after each ingest :func:`refresh_scopes` works out again only the traces
that received spans: ``views.sql``'s ``*_walk(traces)`` macros over all of each
such trace's spans, stored or new, replace those traces' rows of
``span_scope_index`` (the walk), ``tool_call_rows``, ``retry_attempt_rows``,
``retry_loop_rows``, ``agent_invocation_rows`` and ``turn_rows``, which the
views and ``*_in(since, until)`` macros read. A trace whose spans arrive over
several runs, children before parents, is worked out whole each time it grows,
so it ends up as if read at once.

What changed since the last refresh is told by ``span_rows``' rowids: ingest
only appends, so the spans above the last refresh's highest rowid
(``span_scope_state``) are the new ones. The whole store is worked out again
when that cannot be trusted - the rows at or below it are no longer as many as
then (a store rewritten by other means) - or when the macros are not the ones
that made the tables (another otel-llm version; the digest in the state row).
"""

from __future__ import annotations

import hashlib
from importlib import resources

import duckdb

from otel_llm import semconv

__all__ = ["DERIVED", "drop_stale", "refresh_scopes"]

#: (table, the macro that makes its rows for the traces in a table), in the order they are made
DERIVED = (
    ("span_scope_index", "span_scope_index_walk"),
    ("tool_call_rows", "tool_calls_walk"),
    ("retry_attempt_rows", "retry_attempts_walk"),
    ("retry_loop_rows", "retry_loops_walk"),
    ("agent_invocation_rows", "agent_invocations_walk"),
    ("turn_rows", "turns_walk"),
)
_TRACES, _WALK = "_otel_llm_scope_traces", "_otel_llm_scope_walk"  # temporary, while refreshing


def refresh_scopes(con: duckdb.DuckDBPyConnection, *, repriced: bool = False) -> int:
    """Bring the derived tables up to date in one transaction; returns how many traces were worked out.

    ``repriced``: calls already stored may have been priced since the last
    refresh (``_costs.price_calls`` priced some), so the traces whose calls'
    ``cost_source`` changed are worked out again too.
    """
    con.execute("BEGIN TRANSACTION")
    try:
        walked = _refresh(con, repriced)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return walked


def drop_stale(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the derived tables when another ``views.sql`` made them (before it runs: their columns may differ).

    ``views.sql`` creates them again, empty, and :func:`refresh_scopes` fills them.
    """
    columns = {name for (name,) in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = 'span_scope_state' "
        "AND database_name = current_database() AND schema_name = 'main'").fetchall()}
    if not columns:
        return
    state = con.execute("SELECT definition FROM span_scope_state").fetchone() if "definition" in columns else None
    if state is None or state[0] != _definition():
        for table, _ in DERIVED:
            con.execute(f"DROP TABLE IF EXISTS {table}")
        con.execute("DROP TABLE span_scope_state")


def _refresh(con: duckdb.DuckDBPyConnection, repriced: bool) -> int:
    definition = _definition()
    state = con.execute("SELECT watermark, spans, definition FROM span_scope_state").fetchone()
    watermark = state[0] if state and state[2] == definition else None
    if watermark is not None:
        (below,) = con.execute("SELECT count(*) FROM span_rows WHERE rowid <= ?", [watermark]).fetchone()
        if below != state[1]:
            watermark = None
    if watermark is None:  # all made again (the macros' columns may have changed): NULL names every trace
        con.execute(f"CREATE OR REPLACE TEMP TABLE {_WALK} AS SELECT * FROM span_scope_walk(NULL)")
        for table, macro in DERIVED:
            con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM {macro}(NULL, '{_WALK}')")
        (traces,) = con.execute("SELECT count(DISTINCT trace_id) FROM span_rows").fetchone()
    else:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {_TRACES} AS "
                    "SELECT DISTINCT trace_id FROM span_rows WHERE rowid > ?", [watermark])
        if repriced:
            con.execute(f"INSERT INTO {_TRACES} SELECT DISTINCT s.trace_id FROM span_scope_index x "
                        "JOIN span_rows s ON s.rowid = x.r "
                        f"WHERE s.otel_kind = '{semconv.KIND_LLM_CALL}' AND x.cost_source IS DISTINCT FROM s.cost_source "
                        f"EXCEPT SELECT trace_id FROM {_TRACES}")
        (traces,) = con.execute(f"SELECT count(*) FROM {_TRACES}").fetchone()
        if traces:
            con.execute(f"CREATE OR REPLACE TEMP TABLE {_WALK} AS SELECT * FROM span_scope_walk('{_TRACES}')")
            for table, macro in DERIVED:
                if table == "span_scope_index":  # keyed by row: the rows of the spans of those traces
                    con.execute(f"DELETE FROM {table} WHERE r IN (SELECT rowid FROM span_rows "
                                f"WHERE trace_id IN (SELECT trace_id FROM {_TRACES}))")
                else:
                    con.execute(f"DELETE FROM {table} WHERE trace_id IN (SELECT trace_id FROM {_TRACES})")
                con.execute(f"INSERT INTO {table} SELECT * FROM {macro}('{_TRACES}', '{_WALK}')")
        con.execute(f"DROP TABLE {_TRACES}")
    con.execute(f"DROP TABLE IF EXISTS {_WALK}")
    con.execute("DELETE FROM span_scope_state")
    con.execute("INSERT INTO span_scope_state SELECT max(rowid), count(*), ? FROM span_rows", [definition])
    return traces


def _definition() -> str:
    """A digest of ``views.sql`` and the names filled into it: the definitions the derived tables come from."""
    from otel_llm_analysis._scopes import view_parameters

    text = resources.files("otel_llm_analysis").joinpath("views.sql").read_text(encoding="utf-8")
    return hashlib.sha256((text + repr(sorted(view_parameters().items()))).encode()).hexdigest()[:16]
