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

__all__ = ["CANDIDATE", "holds_failures", "raised_in_openlit", "reinterpreted"]

#: An LLM span that may be an instrumentation's own failure (``instrumentation_failures``' first test), over
#: the span columns: OpenLIT's, with status ERROR. DuckDB SQL, which ClickHouse's span derivation transpiles.
CANDIDATE = f"otel_kind = '{semconv.KIND_LLM_CALL}' AND status_code = 2 AND starts_with(scope_name, 'openlit.')"
#: The narrow scan for a candidate, so a store without any never reads the span events to find none.
_MAY_HOLD = f"SELECT EXISTS (SELECT 1 FROM span_rows WHERE {CANDIDATE})"


def raised_in_openlit(stacktrace: str) -> str:
    """DuckDB SQL: whether the Python stack trace ``stacktrace`` (an SQL expression: an exception event's
    ``exception.stacktrace``) has its innermost frame, the last ``File "..."``, inside the openlit package
    (``instrumentation_failures``' second test, which every exception event of the span passes). False
    for a trace without frames; NULL for none."""
    return (f"""regexp_matches(coalesce(regexp_extract_all({stacktrace}, 'File "([^"]*)"', 1)[-1], ''), """
            r"'[/\\]openlit[/\\]')")


def reinterpreted(store: Any, by: str | None = None, filters: Filters | None = None) -> dict[Any, int]:
    """Group key (``None`` without ``by``) -> calls of ``llm_calls`` under ``filters`` whose span failed in its
    instrumentation's own code. Empty on a store whose views predate ``instrumentation_failures`` (opened
    read-only) and on a store without any: on DuckDB looked at once per data version; on ClickHouse, whose
    view reads the few such spans kept at insert (``clickhouse/_span_table``), asked each time."""
    con = connection(store)
    if isinstance(con, duckdb.DuckDBPyConnection):
        if not per_data_version(con, "instrumentation failures", holds_failures):
            return {}
    elif not _listed(con):
        return {}
    where, params = (filters or Filters()).where()
    rows = con.execute(
        f"SELECT {dimension_sql(by)} AS key, count(*) FROM llm_calls WHERE {where} AND (trace_id, span_id) IN "
        "(SELECT trace_id, span_id FROM instrumentation_failures) GROUP BY ALL", params).fetchall()
    return dict(rows)


def holds_failures(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the store holds any such span (False when its views predate the view): the narrow scan
    first, the view (which reads the span events) only when it finds a candidate."""
    try:
        ((found,),) = con.execute(_MAY_HOLD).fetchall()
        return bool(found) and _listed(con)
    except duckdb.CatalogException:
        return False


def _listed(con: Any) -> bool:
    """Whether the ``instrumentation_failures`` view lists any span."""
    ((found,),) = con.execute("SELECT EXISTS (SELECT 1 FROM instrumentation_failures)").fetchall()
    return bool(found)
