"""Which LLM spans sit directly inside another LLM span: the derived columns behind ``llm_calls``.

``@llm_call`` around a call a peer instrumentor also traces gives two LLM spans,
one inside the other; ``llm_calls`` (views.sql) counts them as one call. The
pairs are found by a self-join of all LLM spans, too slow to repeat in every
query, so after each ingest (and after pricing) this sets, over the whole store,
``span_rows.wrapper_span_id`` (the LLM span a span sits directly in) and
``wrapped_calls`` (how many LLM spans sit directly in it). A parent and child
that arrive in different files or runs pair up on the later ingest. Nearly all
rows keep both NULL, which is what lets ``llm_calls`` read them without a join.
"""

from __future__ import annotations

import duckdb

from otel_llm import semconv

__all__ = ["refresh_nesting"]

_PAIRS = f"""
SELECT c.trace_id, c.span_id, c.parent_span_id AS wrapper
FROM span_rows c JOIN span_rows w ON w.trace_id = c.trace_id AND w.span_id = c.parent_span_id
WHERE c.otel_kind = '{semconv.KIND_LLM_CALL}' AND w.otel_kind = '{semconv.KIND_LLM_CALL}'
"""
_STATEMENTS = (
    "UPDATE span_rows SET wrapper_span_id = NULL, wrapped_calls = NULL "
    "WHERE wrapper_span_id IS NOT NULL OR wrapped_calls IS NOT NULL",
    f"CREATE OR REPLACE TEMP TABLE _llm_pairs AS {_PAIRS}",
    "UPDATE span_rows SET wrapper_span_id = p.wrapper FROM _llm_pairs p "
    "WHERE span_rows.trace_id = p.trace_id AND span_rows.span_id = p.span_id",
    "UPDATE span_rows SET wrapped_calls = p.n "
    "FROM (SELECT trace_id, wrapper, count(*) AS n FROM _llm_pairs GROUP BY ALL) p "
    "WHERE span_rows.trace_id = p.trace_id AND span_rows.span_id = p.wrapper",
)


def refresh_nesting(con: duckdb.DuckDBPyConnection) -> int:
    """Recompute the nesting columns in one transaction; returns how many LLM spans are nested."""
    con.execute("BEGIN TRANSACTION")
    try:
        for statement in _STATEMENTS:
            con.execute(statement)
        (count,) = con.execute("SELECT count(*) FROM _llm_pairs").fetchone()
        con.execute("DROP TABLE _llm_pairs")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return count
