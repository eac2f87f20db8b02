"""What a view's figures cannot hold, counted so the page says it instead of showing a part as the whole.

LLM calls the spans do not hold are the analyses' own question (``_unrecorded``:
the CLI asks it too); here, what only the report and the dashboard meet:

* Log records past the listed ones. The logs view lists the newest records and
  the commonest patterns up to a limit; the counts of all of them in the window
  say how many the list leaves out.
"""

from __future__ import annotations

from typing import Any

from otel_llm_analysis._filters import fetch_dicts
from otel_llm_analysis.logs import _where, masked_sql

__all__ = ["log_counts"]


def log_counts(store: Any, severity: str | int | None, text: str | None, since: Any, until: Any,
               **sources: str | None) -> tuple[int, int]:
    """(records, patterns) matching what ``logs.search_logs`` and ``logs.log_patterns`` list with these
    arguments, without their limit."""
    where, params = _where(text, severity, since, until, sources)
    (row,) = fetch_dicts(store, f"SELECT count(*) AS records, count(DISTINCT {masked_sql()}) AS patterns "
                                f"FROM logs WHERE {where}", params)
    return row["records"], row["patterns"]
