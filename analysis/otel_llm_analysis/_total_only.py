"""Whether a store holds LLM calls whose usage is only a total, so the analyses read such totals only then.

Why: a call whose usage is only a total token count (no input/output split) is
an unpriced call whose total is summed apart (``_filters.TOTAL_ONLY_TOKENS``). No
column keeps that total, so reading it reads every call's attribute lists: about
30 ms more per 1M spans on every summary, for producers most stores never hold.
So the store keeps whether it holds any (``ingest_state`` row :data:`NAME`:
``none`` or ``seen``): each ingest looks at the rows it added only, a store this
version has not looked at yet is looked at whole, once, when it is first opened
for writing. While the row is missing (a store another version filled, opened
read-only) or says ``seen``, the analyses read the totals.
"""

from __future__ import annotations

import duckdb

from otel_llm import semconv
from otel_llm_analysis._filters import TOTAL_ONLY_TOKENS, remembered
from otel_llm_analysis import _ingest_state as ingest_state

__all__ = ["NAME", "look_once", "may_hold", "record"]

NAME = "total_only_usage"
_ANY_ABOVE = (f"SELECT EXISTS (SELECT 1 FROM span_rows WHERE rowid > $after "
              f"AND otel_kind = '{semconv.KIND_LLM_CALL}' AND {TOTAL_ONLY_TOKENS} IS NOT NULL)")


def _look(con: duckdb.DuckDBPyConnection, after_rowid: int) -> None:
    ((found,),) = con.execute(_ANY_ABOVE, {"after": after_rowid}).fetchall()
    ingest_state.put(con, NAME, "seen" if found else "none")


def look_once(con: duckdb.DuckDBPyConnection) -> None:
    """On a store opened for writing: look at every stored call, unless this version already did."""
    if ingest_state.get(con, NAME) is None:
        _look(con, -1)


def record(con: duckdb.DuckDBPyConnection, after_rowid: int) -> None:
    """After an ingest stored the span rows above ``after_rowid``: ``seen`` once any of them is such a call."""
    state = ingest_state.get(con, NAME)
    if state != "seen":
        _look(con, after_rowid if state == "none" else -1)


def may_hold(con: object) -> bool:
    """False only when the store is known to hold no such call (a DuckDB store this version looked at); asked
    once per report build or dashboard data version (``_filters.remembered``): every summary asks it."""
    return not isinstance(con, duckdb.DuckDBPyConnection) or remembered(
        con, NAME, lambda con: ingest_state.get(con, NAME) != "none")
