"""``otel-llm queries``: the CLI face of :func:`otel_llm_analysis.popular_queries.popular_queries`."""

from __future__ import annotations

from typing import Any

import typer

from otel_llm_analysis._command import Result, analysis_command

__all__ = ["QUERY_COLUMNS", "queries"]

QUERY_COLUMNS = ["query", "turns", "share", "conversations", "users", "first_seen", "last_seen"]


@analysis_command(filters=("since", "until", "project"))
def queries(
    store: Any,
    filters: Any,
    top: int = typer.Option(20, "--top", min=1, max=100_000, help="How many queries."),
) -> Result:
    """The users' most frequent messages to @otel_llm.chat turns (needs configure(capture_content=True)).

    The text shown is what the SDK stored: captured only on opt-in, after your redact hook.
    """
    from otel_llm_analysis import popular_queries as analysis

    rows = analysis.popular_queries(store, filters, top)
    messages, untexted = analysis.user_messages(store, filters)
    notes = []
    if not messages:
        notes.append("no user messages here: @otel_llm.chat records each turn's user message")
    elif untexted:
        notes.append(f"{untexted:,} of {messages:,} user messages carry no text (content capture is off unless the "
                     f"app runs configure(capture_content=True)): the counts are of the other {messages - untexted:,}")
    return Result(rows, "popular queries", QUERY_COLUMNS, notes=notes)
