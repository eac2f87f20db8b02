"""How many LLM calls the analyses count as succeeded although their span says ERROR: the span failed
in its instrumentation's own code, not the call (``views.sql``: ``instrumentation_failures``).

Why a count: ``llm_calls`` reads such a call's status as unset, so its figures (error rate, success
rate, failed calls) change; the summary says by how much, so nothing is reinterpreted in silence.
"""

from __future__ import annotations

from typing import Any

import duckdb

from otel_llm_analysis._filters import Filters, connection, dimension_sql, per_data_version

__all__ = ["reinterpreted"]


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
    """Whether the store holds any such span (False when its views predate the view)."""
    try:
        ((found,),) = con.execute("SELECT EXISTS (SELECT 1 FROM instrumentation_failures)").fetchall()
    except duckdb.CatalogException:
        return False
    return bool(found)
