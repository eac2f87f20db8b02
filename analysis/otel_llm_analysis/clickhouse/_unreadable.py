"""The spans whose token count or cost cannot be read, said when a ClickHouse store opens.

Why here: DuckDB's ``ingest`` (and ``otel-llm load``) says each value it leaves empty
(``'-5'`` tokens, a ``'NaN'`` cost) with its file and line. Spans the collector's
exporter inserts into ClickHouse pass through no ingest, so the store says them
when it opens, in ingest's words, with the span and trace in place of a file line:
nothing is left empty in silence. The span table marks them as it derives each
span (its ``unreadable_columns``, :func:`._views.unreadable_sql`), so this is one
read of that narrow column, not of the attribute maps.
"""

from __future__ import annotations

from typing import Any

from otel_llm_analysis.ingest import unreadable_problems

__all__ = ["EXAMPLES", "LISTING", "note"]

#: How many spans the note names (the count covers them all).
EXAMPLES = 3
#: The query that lists every such span (``otel-llm sql``).
LISTING = "SELECT trace_id, span_id, unreadable_columns FROM spans WHERE notEmpty(unreadable_columns)"


def note(client: Any, database: str, table: str) -> str | None:
    """One line for the spans of ``database.table`` (the span table) holding an unreadable count or cost,
    or None when there are none."""
    ((spans, examples),) = client.query(
        f"SELECT uniqExact(trace_id, span_id), groupArray({EXAMPLES})((trace_id, span_id, unreadable_columns, "
        f"mapKeys(attributes), mapValues(attributes))) FROM `{database}`.`{table}` "
        "WHERE notEmpty(unreadable_columns)").result_rows
    if not spans:
        return None
    said = [f"{problem.where} of trace {problem.path}: {problem.reason}"
            for problem in unreadable_problems([(trace, 0, span, columns, list(keys), list(values))
                                                for trace, span, columns, keys, values in examples])]
    more = "; …" if spans > EXAMPLES else ""
    return (f"{spans:,} span(s) hold a token count or cost that cannot be read, left empty as ingest leaves "
            f"them (those calls count as without usage or price): {'; '.join(said)}{more} "
            f"(all of them: otel-llm sql \"{LISTING}\")")
