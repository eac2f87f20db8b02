"""``otel-llm prune --older-than 30d``: the CLI face of :func:`otel_llm_analysis.retention.prune`.

Why not an ``analysis_command``: a real prune opens the store for writing (and
so waits for no one: DuckDB refuses it while another process has the store
open, and the store's one-line lock message says which), while ``--dry-run``
only reads, beside the analyses. Exit codes: 0 done (or nothing to remove), 1
the store is busy or missing, 2 a usage error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer

from otel_llm_analysis._command import DB_ENV, DEFAULT_DB, OutputFormat, Result, _output_format, emit, fail, open_store

__all__ = ["PRUNE_EPILOG", "prune"]

PRUNE_EPILOG = ("Removes whole traces whose every span started before the cutoff (with their events and links), "
                "and metric points and log records before it; the agents', tools' and retries' tables are made "
                "again from what is left. Files already ingested are not read again, so the data removed does "
                "not come back from them. Exit codes: 0 done, 1 the store is missing or busy, 2 usage error.")


def _cutoff(older_than: Optional[str], before: Optional[str]) -> Any:
    """The cutoff (naive UTC) from exactly one of ``--older-than`` and ``--before``."""
    from otel_llm_analysis._filters import parse_time

    if (older_than is None) == (before is None):
        raise typer.BadParameter("give one of --older-than 30d or --before 2026-11-01", param_hint="--older-than")
    if older_than is not None and not older_than.strip()[-1:].isalpha():
        raise typer.BadParameter(f"{older_than!r}: give an age like 30d, 12h or 2w", param_hint="--older-than")
    hint = "--older-than" if older_than is not None else "--before"
    try:
        cutoff = parse_time(older_than if older_than is not None else before)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=hint) from None
    if cutoff is None:  # an empty value ("--before $UNSET"): no cutoff, never "everything"
        raise typer.BadParameter("an empty value: give an age like 30d or an ISO date like 2026-11-01",
                                 param_hint=hint)
    return cutoff


def prune(
    older_than: Optional[str] = typer.Option(None, "--older-than",
                                             help="Remove data older than this age: 30d, 12h, 2w (m: minutes)."),
    before: Optional[str] = typer.Option(None, "--before", help="Remove data before this ISO date/time (UTC)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Count what would be removed; change nothing."),
    fmt: Optional[OutputFormat] = typer.Option(None, "--format", "-f", help="table (default), json or csv."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write the result to this file."),
    db: str = typer.Option(DEFAULT_DB, "--db", envvar=DB_ENV, help=f"DuckDB file of the store (env {DB_ENV})."),
) -> None:
    """Remove traces, metric points and log records older than a cutoff; say what went, per table."""
    from otel_llm_analysis import retention

    cutoff = _cutoff(older_than, before)
    output = _output_format(fmt, out)
    if "://" in db:
        raise fail("prune works on a DuckDB store; a ClickHouse store keeps data by its tables' TTL", 2)
    if not Path(db).exists():  # a writable open would create an empty store and report nothing removed
        raise fail(f"no database at {db}; nothing to prune")
    with open_store(db, read_only=dry_run) as store:
        try:
            report = retention.prune(store, cutoff, dry_run=dry_run)
        except retention.StoreBusy as exc:
            raise fail(str(exc)) from None
    verb = "would remove" if dry_run else "removed"
    title = f"prune before {cutoff:%Y-%m-%d %H:%M:%S} UTC{' (dry run)' if dry_run else ''}"
    notes = [f"{verb} {report.traces:,} trace(s) and {report.removed:,} row(s) in all"]
    if dry_run:
        notes.append("nothing was changed: run again without --dry-run to remove them")
    if report.finished is not None:
        notes.append(f"finished the prune before {report.finished.isoformat(sep=' ')}, which had stopped before "
                     "making the agents', tools' and retries' tables again: they are made from what is left")
    emit(Result(report.rows, title, ["table", "holds", "removed", "kept"], notes=notes), output, out)
