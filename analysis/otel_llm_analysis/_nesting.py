"""Which LLM spans sit directly inside another LLM span: the derived columns behind ``llm_calls``.

``@llm_call`` around a call a peer instrumentor also traces gives two LLM spans,
one inside the other; ``llm_calls`` (views.sql) counts them as one call. The
pairs are found by a self-join of LLM spans, too slow to repeat in every query,
so after each ingest (and after pricing) this sets ``span_rows.wrapper_span_id``
(the LLM span a span sits directly in) and ``wrapped_calls`` (how many LLM spans
sit directly in it). A parent and child that arrive in different files or runs
pair up on the later ingest. Nearly all rows keep both NULL, which is what lets
``llm_calls`` read them without a join.

Why incremental: spans are only ever added, so pairs are only ever added, and a
new pair has a new span on one side. With ``since`` (the earliest start among
the spans an ingest read) only the spans of that period are joined: a child not
yet paired that started since then, and LLM spans still open since then (a
wrapper is open when its child starts, and a child starts after its wrapper
did). Those are constant time bounds, which DuckDB checks against each row
group's min/max: the refresh reads the new data's period, not the store. The
bounds allow :data:`MARGIN_NS` of clock difference; stored spans without a time
always take part, and spans read without a start time pair over the whole store.
A store refreshed this way for the first time (``ingest_state`` holds no
``nesting`` entry) is derived in full once.
"""

from __future__ import annotations

import duckdb

from otel_llm import semconv
from otel_llm_analysis import _ingest_state as ingest_state
from otel_llm_analysis._rows import window

__all__ = ["MARGIN_NS", "refresh_nesting"]

#: Slack on the time bounds (ns): a wrapper and its call are timed by one process's
#: clock, so this only covers rounding and a clock stepped in between.
MARGIN_NS = 600 * 10**9
_STATE = "nesting"
_VERSION = "1"
_LLM = f"otel_kind = '{semconv.KIND_LLM_CALL}'"


def _bounds(since_ns: int | None, undated: bool) -> tuple[str, str]:
    """(child predicate, wrapper predicate) on ``span_rows`` for an incremental refresh.

    A span read without a start time may pair with a stored span of any time, so
    then both sides are the whole store (such spans are rare: every exported span
    has its times). Stored spans without a time always take part: DuckDB skips
    the row groups whose statistics say they hold none.
    """
    if undated or since_ns is None:
        return "TRUE", "TRUE"
    since = since_ns - MARGIN_NS
    return window("start_time", since, undated=True), window("end_time", since, undated=True)


def _statements(child: str, wrapper: str) -> tuple[str, ...]:
    """Pair the unpaired LLM spans matching ``child`` with their LLM parents matching ``wrapper``."""
    return (
        f"""CREATE OR REPLACE TEMP TABLE _llm_pairs AS
        SELECT c.trace_id, c.span_id, c.parent_span_id AS wrapper
        FROM (SELECT trace_id, span_id, parent_span_id FROM span_rows
              WHERE {child} AND {_LLM} AND wrapper_span_id IS NULL AND parent_span_id IS NOT NULL) c
        JOIN (SELECT trace_id, span_id FROM span_rows WHERE {wrapper} AND {_LLM}) w
          ON w.trace_id = c.trace_id AND w.span_id = c.parent_span_id""",
        f"""UPDATE span_rows SET wrapper_span_id = p.wrapper FROM _llm_pairs p
        WHERE {child} AND span_rows.trace_id = p.trace_id AND span_rows.span_id = p.span_id""",
        f"""UPDATE span_rows SET wrapped_calls = coalesce(wrapped_calls, 0) + p.n
        FROM (SELECT trace_id, wrapper, count(*) AS n FROM _llm_pairs GROUP BY ALL) p
        WHERE {wrapper} AND span_rows.trace_id = p.trace_id AND span_rows.span_id = p.wrapper""",
    )


def refresh_nesting(con: duckdb.DuckDBPyConnection, since_ns: int | None = None, undated: bool = False) -> int:
    """Pair the LLM spans of an ingest with their LLM wrappers or calls, in one transaction.

    ``since_ns`` / ``undated``: the earliest non-zero start among the spans the
    ingest read, and whether some had none (``IngestReport.first_start_ns`` /
    ``undated_spans``); nothing read, nothing to do. A store never refreshed
    incrementally is derived in full. Returns how many LLM spans were newly paired.
    """
    # fetchall: a result left half-read blocks the connection's next register()
    full = ingest_state.get(con, _STATE) != _VERSION
    if not full and since_ns is None and not undated:
        return 0
    con.execute("BEGIN TRANSACTION")
    try:
        if full:
            con.execute("UPDATE span_rows SET wrapper_span_id = NULL, wrapped_calls = NULL "
                        "WHERE wrapper_span_id IS NOT NULL OR wrapped_calls IS NOT NULL")
            child = wrapper = "TRUE"
        else:
            child, wrapper = _bounds(since_ns, undated)
        create, *updates = _statements(child, wrapper)
        con.execute(create)
        ((count,),) = con.execute("SELECT count(*) FROM _llm_pairs").fetchall()
        if count:
            for statement in updates:
                con.execute(statement)
        con.execute("DROP TABLE _llm_pairs")
        if full:
            ingest_state.put(con, _STATE, _VERSION)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return count
