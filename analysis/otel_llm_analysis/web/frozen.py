"""A report build's deep views, copied into TEMP tables of the same names while it runs, on a small store.

Why: on a small store nearly all of a report's time is DuckDB binding and
optimizing the deep views (``llm_calls`` is a macro over ``span_rows`` that
nests wrappers and calls; ``trace_summary``, ``daily_usage`` ...) once per
statement, for more than a thousand statements; reading the few rows costs
little. A TEMP table of the same name answers the same statements with the same
rows (DuckDB resolves a name in the connection's temp schema before the store's
own), so each statement binds a table instead of the view's whole definition.

Only where that holds and pays: a DuckDB connection (TEMP tables belong to the
connection: a cursor opened beside it reads the views themselves, with the same
data), a store whose data does not change during the block (a report build;
never the live dashboard, which reads new data after each ingest), and a store
of at most :data:`FROZEN_MAX_SPANS` spans: above it the statements' cost is
their data, and a copy of the views would hold a second copy of it in memory.
The tables are dropped when the block ends, an error included.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

import duckdb

from otel_llm_analysis._filters import connection

#: the views copied: those whose definition costs DuckDB several milliseconds to bind and optimize in each
#: statement that reads them (``llm_calls`` about as much as the rest of a summary)
FROZEN_VIEWS = ("llm_calls", "spans", "trace_summary", "trace_calls", "trace_spans", "daily_usage", "evaluations",
                "instrumentation_failures", "agent_invocations")
#: the largest store (spans) whose views are copied
FROZEN_MAX_SPANS = 50_000


@contextmanager
def frozen_views(store: Any) -> Iterator[tuple[str, ...]]:
    """Within the block, the :data:`FROZEN_VIEWS` of ``store`` are TEMP tables holding their rows (see the module
    doc); yields the names copied (none when the store is too large, not DuckDB's, lacks a view, or the block
    is already inside one)."""
    con = _duckdb(store)
    made: list[str] = []
    try:
        if con is not None and _worth_it(con):
            for name in FROZEN_VIEWS:
                con.execute(f"CREATE TEMP TABLE {name} AS SELECT * FROM main.{name}")
                made.append(name)
        yield tuple(made)
    finally:
        for name in reversed(made):
            con.execute(f"DROP TABLE IF EXISTS temp.{name}")


def _duckdb(store: Any) -> Any:
    """The store's DuckDB connection, or None (another engine, or no connection)."""
    try:
        con = connection(store)
    except TypeError:
        return None
    return con if isinstance(con, duckdb.DuckDBPyConnection) else None


def _worth_it(con: Any) -> bool:
    """Every view is the store's own (none copied already: a nested block copies nothing) and the store is small."""
    try:
        ((views, copied, spans),) = con.execute(
            "SELECT (SELECT count(*) FROM duckdb_views() WHERE NOT internal AND NOT temporary "
            "AND list_contains($names, view_name)), "
            "(SELECT count(*) FROM duckdb_tables() WHERE temporary AND list_contains($names, table_name)), "
            "(SELECT count(*) FROM main.span_rows)", {"names": list(FROZEN_VIEWS)}).fetchall()
    except duckdb.Error:  # not an otel-llm store
        return False
    return views == len(FROZEN_VIEWS) and copied == 0 and spans <= FROZEN_MAX_SPANS


__all__ = ["FROZEN_MAX_SPANS", "FROZEN_VIEWS", "frozen_views"]
