"""``otel-llm load FILES... --to clickhouse://…``: the CLI face of :func:`otel_llm_analysis.clickhouse.load`.

Output and exit codes are ``otel-llm ingest``'s: one headline, then each bad
line as ``file:line: reason``; 0 loaded, 1 nothing loaded (a missing path, an
unreachable server), 2 a usage error (a URL that is not ``clickhouse://``, the
extra missing), 3 loaded with problems.
"""

from __future__ import annotations

from typing import Any, List

import typer

from otel_llm_analysis._command import fail, missing_extra, note

__all__ = ["LOAD_EPILOG", "URL_ENV", "load"]

#: Where ``--to`` (and ``--db``) can come from instead of the command line (it may hold a password).
URL_ENV = "OTEL_LLM_CLICKHOUSE_URL"
LOAD_EPILOG = ("Idempotent: a span already stored (same trace and span id), or a log record or metric point "
               "identical to a stored one, is skipped, so re-running adds nothing. Exit codes as ingest: "
               "0 loaded, 1 nothing loaded, 2 usage error, 3 loaded with problems (each listed as file:line).")


def load(
    paths: List[str] = typer.Argument(..., help="Files, directories or globs of OTLP-JSON lines (SDK or collector "
                                               "dumps: traces, metrics, logs; .jsonl or .zst)."),
    to: str = typer.Option(..., "--to", envvar=URL_ENV,
                           help="clickhouse://user:password@host:8123/database (clickhouses:// for HTTPS); "
                                f"env {URL_ENV}."),
    create: bool = typer.Option(True, "--create/--no-create",
                                help="Create the exporter's tables when missing (from its own DDL templates)."),
) -> None:
    """Bulk-load file dumps into ClickHouse, in the collector's ClickHouse exporter's tables and values."""
    from otel_llm_analysis._command import console_for_stdout
    from otel_llm_analysis._sources import SourceError
    from otel_llm_analysis.clickhouse._client import ClickHouseError, ClickHouseURL

    try:
        target = ClickHouseURL.parse(to)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--to") from None
    try:
        from otel_llm_analysis.clickhouse._load import load as run
    except ImportError as exc:
        raise missing_extra(exc) from None
    from otel_llm.collector import ExporterSqlMissing

    try:
        report = run(paths, target, create=create, progress=note)
    except ImportError as exc:
        raise missing_extra(exc) from None
    except (SourceError, ClickHouseError, ExporterSqlMissing) as exc:
        raise fail(str(exc)) from None
    console = console_for_stdout()
    for line in [f"{', '.join(paths)} -> {target}: {report.summary()}",
                 *(f"bad line {problem}" for problem in report.bad_lines)]:
        console.print(line, highlight=False, soft_wrap=True)
    if report.bad_lines:
        raise typer.Exit(3)
