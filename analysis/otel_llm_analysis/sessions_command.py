"""``otel-llm sessions``: the CLI face of :func:`otel_llm_analysis.session_memory.session_memory`."""

from __future__ import annotations

from typing import Any

import typer

from otel_llm_analysis._command import Result, analysis_command

__all__ = ["SESSION_COLUMNS", "sessions"]

SESSION_COLUMNS = ["conversation", "service", "started", "ended", "points", "peak_memory_mb", "growth_mb",
                   "first_memory_mb", "last_memory_mb", "instance", "spans"]


@analysis_command(filters=("since", "until", "project"))
def sessions(
    store: Any,
    filters: Any,
    top: int = typer.Option(50, "--top", min=1, max=1_000_000, help="How many conversations (highest peak first)."),
) -> Result:
    """Memory per chat session: peak, first, last and growth of its process's memory (process_metrics=True).

    The memory of the process that ran each conversation, while it ran (needs configure(process_metrics=True)).

    Conversations one process serves at once share its memory; one shorter than the export interval may have no point.
    """
    from otel_llm_analysis.session_memory import session_memory

    rows = session_memory(store, filters, top=top)
    unmeasured = sum(1 for row in rows if not row.points)
    notes = []
    if not rows:
        notes.append("no conversations here: spans carry gen_ai.conversation.id from @otel_llm.chat(thread_id) "
                     "or otel_llm.session(thread_id=)")
    elif unmeasured:
        notes.append(f"{unmeasured} of {len(rows)} conversations have no memory point while they ran: "
                     "configure(process_metrics=True), and export more often than they last "
                     "(OTEL_METRIC_EXPORT_INTERVAL, ms)")
    return Result(rows, "memory per session", SESSION_COLUMNS, notes=notes)
