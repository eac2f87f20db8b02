"""Which definition the ``llm_calls`` view has on a DuckDB store: the cheapest that gives its rows.

``llm_calls_of`` (views.sql) unions three parts: the calls read straight from their span rows, the
calls paired with an LLM wrapper (``_nesting``) and other producers' calls placed in an otel-llm span's
context (``_call_context``). DuckDB binds and optimizes that whole definition again in every statement
that reads the view: 16 ms on a 1M-span store, against under 3 ms for the first part alone, a sixth of
a summary there. On a store none of whose LLM spans is nested the two other parts are empty, so the
view is the first part alone (``llm_calls_straight``); a store holding an instrumentation's own failure
gets ``llm_calls_reinterpreted()`` (``_instrumentation_failures``), which reads every call's ids. The
macro ``fitted_calls_of(spans)``, which the trace views read over subsets of the store's rows, is fitted
with it.

The straight form is only right while no LLM span is nested, and an ingest writes the pairs and the
contexts as it goes: :func:`widen` makes both whole before an ingest writes anything (statements
during an ingest, such as the dashboard's, read it whole), and :func:`fit` chooses again once the
wrappers are paired, before the scopes refresh: the contexts that refresh places are foreseen (a store
holding another producer's call below any span reads the whole view), so its checkpoint writes the
choice with the rest.
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb

from otel_llm import semconv
from otel_llm_analysis._instrumentation_failures import holds_failures

__all__ = ["definition", "fit", "widen"]

#: The three definitions, from the dearest to read to the cheapest.
REINTERPRETED = "llm_calls_reinterpreted()"
WHOLE = "llm_calls_of(span_rows)"
STRAIGHT = "llm_calls_straight(span_rows)"
#: ``fitted_calls_of``'s body with each: the same over any span rows of the store (failures are reinterpreted
#: in the view only).
_MACRO = {REINTERPRETED: "llm_calls_of(spans)", WHOLE: "llm_calls_of(spans)", STRAIGHT: "llm_calls_straight(spans)"}
#: Whether any LLM span is or may become nested: the rows the straight form leaves out, a wrapper it would
#: read as a call, or a call the scopes refresh may place in an otel-llm span's context (another producer's
#: call with a parent that is neither wrapped nor wrapping: ``_call_context.derive``'s candidates).
_MAY_NEST = (f"SELECT EXISTS (SELECT 1 FROM span_rows WHERE otel_kind = '{semconv.KIND_LLM_CALL}' AND "
             "(wrapper_span_id IS NOT NULL OR wrapped_calls IS NOT NULL OR context_span_id IS NOT NULL "
             f"OR (scope_name IS DISTINCT FROM '{semconv.INSTRUMENTATION_SCOPE}' AND parent_span_id IS NOT NULL)))")


def fit(con: duckdb.DuckDBPyConnection) -> None:
    """Give ``llm_calls`` and ``fitted_calls_of`` the cheapest definition right for the store's rows, whatever
    contexts the next scopes refresh places. Run on a writable store after the views are made and in each
    ingest once the wrappers are paired, before the scopes refresh, whose checkpoint then writes it (a
    catalog write after it would leave the close a checkpoint to run, merging row groups)."""
    if holds_failures(con):
        source = REINTERPRETED
    else:
        ((may_nest,),) = con.execute(_MAY_NEST).fetchall()
        source = WHOLE if may_nest else STRAIGHT
    _use_view(con, source)
    _use_macro(con, _MACRO[source])


def widen(con: duckdb.DuckDBPyConnection) -> None:
    """Make a straight ``llm_calls`` and ``fitted_calls_of`` whole, before an ingest writes rows that may be
    nested."""
    if definition(con) == STRAIGHT:
        _use_view(con, WHOLE)
    _use_macro(con, _MACRO[WHOLE])


def definition(con: duckdb.DuckDBPyConnection) -> str | None:
    """The definition ``llm_calls`` has (what follows ``SELECT * FROM``), None when there is no such view."""
    made = con.execute("SELECT sql FROM duckdb_views() WHERE view_name = 'llm_calls' AND NOT internal").fetchall()
    return _source(made[0][0], _MACRO) if made else None


def _macro(con: duckdb.DuckDBPyConnection) -> str | None:
    """What ``fitted_calls_of(spans)`` reads, None when there is no such macro."""
    made = con.execute("SELECT macro_definition FROM duckdb_functions() WHERE function_name = 'fitted_calls_of' "
                       "AND database_name = current_database()").fetchall()
    return _source(made[0][0], _MACRO.values()) if made else None


def _source(sql: str, sources: Iterable[str]) -> str:
    """Which of ``sources`` ``sql`` reads from (its end), else ``sql`` itself."""
    for source in sources:
        if sql.rstrip().rstrip(";").endswith(source):
            return source
    return sql


def _use_view(con: duckdb.DuckDBPyConnection, source: str) -> None:
    """Make ``llm_calls`` read ``source``, unless it already does (a view made again is a catalog write)."""
    if definition(con) != source:
        con.execute(f"CREATE OR REPLACE VIEW llm_calls AS SELECT * FROM {source}")


def _use_macro(con: duckdb.DuckDBPyConnection, body: str) -> None:
    """Make ``fitted_calls_of(spans)`` read ``body``, unless it already does."""
    if _macro(con) != body:
        con.execute(f"CREATE OR REPLACE MACRO fitted_calls_of(spans) AS TABLE SELECT * FROM {body}")
