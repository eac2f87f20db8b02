"""Which definition the ``llm_calls`` view has on a DuckDB store: the cheapest that gives its rows.

``llm_calls_of`` (views.sql) unions three parts: the calls read straight from their span rows, the
calls paired with an LLM wrapper (``_nesting``) and other producers' calls placed in an otel-llm span's
context (``_call_context``). DuckDB binds and optimizes that whole definition again in every statement
that reads the view: 16 ms on a 1M-span store, against under 3 ms for the first part alone, a sixth of
a summary there. On a store none of whose LLM spans is nested the two other parts are empty, so the
view is the first part alone (``llm_calls_straight``); a store holding an instrumentation's own failure
gets ``llm_calls_reinterpreted()`` (``_instrumentation_failures``), which reads every call's ids.

The straight form is only right while no LLM span is nested, and an ingest writes the pairs and the
contexts as it goes: :func:`widen` makes the view whole before an ingest writes anything (statements
during an ingest, such as the dashboard's, read it whole), and :func:`fit` chooses again once every
derived column is written (after the scopes refresh, which places the contexts).
"""

from __future__ import annotations

import duckdb

from otel_llm import semconv
from otel_llm_analysis._instrumentation_failures import holds_failures

__all__ = ["definition", "fit", "widen"]

#: The three definitions, from the dearest to read to the cheapest.
REINTERPRETED = "llm_calls_reinterpreted()"
WHOLE = "llm_calls_of(span_rows)"
STRAIGHT = "llm_calls_straight(span_rows)"
#: Whether any LLM span is nested: the rows the straight form leaves out, or a wrapper it would read as a call.
_NESTED = (f"SELECT EXISTS (SELECT 1 FROM span_rows WHERE otel_kind = '{semconv.KIND_LLM_CALL}' AND "
           "(wrapper_span_id IS NOT NULL OR wrapped_calls IS NOT NULL OR context_span_id IS NOT NULL))")


def fit(con: duckdb.DuckDBPyConnection) -> None:
    """Give ``llm_calls`` the cheapest definition right for the store's rows as they are now. Run on a writable
    store after the views are made and after each ingest, once the scopes refresh has placed the contexts."""
    if holds_failures(con):
        _use(con, REINTERPRETED)
    else:
        ((nested,),) = con.execute(_NESTED).fetchall()
        _use(con, WHOLE if nested else STRAIGHT)


def widen(con: duckdb.DuckDBPyConnection) -> None:
    """Make a straight ``llm_calls`` whole, before an ingest writes rows that may be nested."""
    if definition(con) == STRAIGHT:
        _use(con, WHOLE)


def definition(con: duckdb.DuckDBPyConnection) -> str | None:
    """The definition ``llm_calls`` has (what follows ``SELECT * FROM``), None when there is no such view."""
    made = con.execute("SELECT sql FROM duckdb_views() WHERE view_name = 'llm_calls' AND NOT internal").fetchall()
    if not made:
        return None
    for source in (REINTERPRETED, WHOLE, STRAIGHT):
        if made[0][0].rstrip().rstrip(";").endswith(source):
            return source
    return made[0][0]


def _use(con: duckdb.DuckDBPyConnection, source: str) -> None:
    """Make ``llm_calls`` read ``source``, unless it already does (a view made again is a catalog write)."""
    if definition(con) != source:
        con.execute(f"CREATE OR REPLACE VIEW llm_calls AS SELECT * FROM {source}")
