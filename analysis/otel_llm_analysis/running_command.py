"""``otel-llm running``: the CLI face of :func:`otel_llm_analysis.running.running` (what runs now)."""

from __future__ import annotations

from typing import Any

import typer

from otel_llm_analysis._command import Result, analysis_command

__all__ = ["RUNNING_COLUMNS", "running"]

RUNNING_COLUMNS = ["service", "instance", "kind", "name", "running", "as_of", "stale"]


@analysis_command(filters=("until",))
def running(
    store: Any,
    filters: Any,
    stale_after: str = typer.Option("5m", "--stale-after",
                                    help="A process with no export for this long (5m, 1h) is marked stale: "
                                         "it may have stopped mid-call."),
) -> Result:
    """Calls, agents, tools and turns started and not ended, per process, as of each one's last metric export.

    Read from the SDK's otel_llm.active metric (spans are exported only when they end); --until shows an
    earlier moment.
    """
    from datetime import timedelta

    from otel_llm_analysis import running as analysis
    from otel_llm_analysis._filters import parse_time

    reference = datetime_now()
    wrong = ValueError(f"--stale-after {stale_after!r}: give a duration like 5m, 1h or 2d")
    if not stale_after.strip()[-1:].isalpha():
        raise wrong
    try:
        stale = reference - parse_time(stale_after, now=reference)  # type: ignore[operator]
    except ValueError as exc:
        raise ValueError(f"--stale-after: {exc}") from None
    if stale <= timedelta(0):
        raise wrong
    rows = analysis.running(store, until=filters.until, now=filters.until or reference, stale_after=stale)
    notes = []
    if not analysis.reporting_processes(store, until=filters.until):
        notes.append("no process here reports otel_llm.active: it is written by otel-llm's SDK with metrics on "
                     "(ingest the metric files too)")
    elif not any(not row.stale for row in rows):
        notes.append("nothing running in the processes that exported within --stale-after")
    if any(row.stale for row in rows):
        notes.append(f"stale: no export for over {stale_after}: the process may have stopped with these in flight")
    return Result(rows, "running", RUNNING_COLUMNS, notes=notes)


def datetime_now() -> Any:
    """Now, naive UTC (as the store's times)."""
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).replace(tzinfo=None)
