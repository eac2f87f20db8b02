"""Convenience SQL views (``daily_usage``, ``trace_summary``) for users' own SQL.

Why here and not in ``schema.sql``: they restate the analyses' definitions, which
this package owns; ``otel-llm ingest`` installs them after loading, so
``otel-llm sql "SELECT * FROM daily_usage"`` works on any database it wrote.
"""

from __future__ import annotations

from typing import Any

from otel_llm_analysis._filters import IS_LLM_CALL, connection, load_query

VIEWS = ("daily_usage", "trace_summary")


def install_views(store: Any) -> None:
    """Create or replace the views in a writable store (idempotent)."""
    connection(store).execute(load_query("views").format(is_llm=IS_LLM_CALL))
