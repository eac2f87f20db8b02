"""How many LLM calls the analyses count as succeeded although their span says ERROR: the span failed
in its instrumentation's own code, not the call (``views.sql``: ``instrumentation_failures``).

Why a count: ``llm_calls`` reads such a call's status as unset, so its figures (error rate, success
rate, failed calls) change; the summary says by how much, so nothing is reinterpreted in silence.
"""

from __future__ import annotations

from typing import Any

import duckdb

from otel_llm import semconv
from otel_llm_analysis._filters import Filters, connection, dimension_sql, per_data_version

__all__ = ["fit_llm_calls", "reinterpreted"]

#: An LLM span that may be an instrumentation's own failure (``instrumentation_failures``' first test): a
#: narrow scan, so a store without any never reads the span events to find none.
_MAY_HOLD = (f"SELECT EXISTS (SELECT 1 FROM span_rows WHERE otel_kind = '{semconv.KIND_LLM_CALL}' "
             "AND status_code = 2 AND starts_with(scope_name, 'openlit.'))")


def reinterpreted(store: Any, by: str | None = None, filters: Filters | None = None) -> dict[Any, int]:
    """Group key (``None`` without ``by``) -> calls of ``llm_calls`` under ``filters`` whose span failed in its
    instrumentation's own code. Empty on another engine than DuckDB, on a store whose views predate
    ``instrumentation_failures`` (opened read-only), and on a store without any (looked at once per data
    version)."""
    con = connection(store)
    if not isinstance(con, duckdb.DuckDBPyConnection):
        return {}
    if not per_data_version(con, "instrumentation failures", _any):
        return {}
    where, params = (filters or Filters()).where()
    rows = con.execute(
        f"SELECT {dimension_sql(by)} AS key, count(*) FROM llm_calls WHERE {where} AND (trace_id, span_id) IN "
        "(SELECT trace_id, span_id FROM instrumentation_failures) GROUP BY ALL", params).fetchall()
    return dict(rows)


def _any(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the store holds any such span (False when its views predate the view): the narrow scan
    first, the view (which reads the span events) only when it finds a candidate."""
    try:
        ((found,),) = con.execute(_MAY_HOLD).fetchall()
        if found:
            ((found,),) = con.execute("SELECT EXISTS (SELECT 1 FROM instrumentation_failures)").fetchall()
    except duckdb.CatalogException:
        return False
    return bool(found)


def fit_llm_calls(con: duckdb.DuckDBPyConnection) -> None:
    """Make ``llm_calls`` the view that reinterprets instrumentation failures when the store holds one,
    else the plain one (``views.sql``): the reinterpretation reads every call's ids, which only a store
    holding such a span needs. Run on a writable store where the views are made and in each ingest, before
    the scopes refresh, whose checkpoint then writes it."""
    source = "llm_calls_reinterpreted()" if _any(con) else "llm_calls_of(span_rows)"
    made = con.execute("SELECT sql FROM duckdb_views() WHERE view_name = 'llm_calls' AND NOT internal").fetchall()
    if not made or source not in made[0][0]:  # (a view made again is a catalog write: none when it is the same)
        con.execute(f"CREATE OR REPLACE VIEW llm_calls AS SELECT * FROM {source}")
