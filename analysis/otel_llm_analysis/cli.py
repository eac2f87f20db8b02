"""Analysis commands of ``otel-llm``, mounted on the lead's root Typer app.

Why lazy: instrumented apps install otel-llm without the ``[analysis]`` extra, so
importing this module must not import DuckDB; each command opens the store inside
its body and reports a missing extra as one line (exit 2). Errors the user can fix
(missing files, an unreadable database, a bad option) are one line and exit 1 or
2, never a traceback.
"""

from __future__ import annotations

import enum
import importlib.util
import sys
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any, Iterator, List, Optional, Sequence

import typer

DEFAULT_DB = "./otel-data/otel-llm.duckdb"
DB_ENV = "OTEL_LLM_DB"


def _choices(name: str, *values: str) -> Any:
    """A str Enum for a Typer option with fixed values (Typer shows and checks them)."""
    return enum.Enum(name, {value: value for value in values}, type=str)


OutputFormat = _choices("OutputFormat", "table", "json", "csv")
ExportFormat = _choices("ExportFormat", "json", "csv", "parquet")
PeriodChoice = _choices("PeriodChoice", "hour", "day", "week")
RankChoice = _choices("RankChoice", "cost", "duration")
Result = _choices("Result", "summary", "trends", "budget", "compare", "quality", "logs", "patterns", "traces", "spans")


DbOption = typer.Option(DEFAULT_DB, "--db", envvar=DB_ENV, help=f"DuckDB file (env {DB_ENV}).")
FormatOption = typer.Option(OutputFormat.table, "--format", "-f", help="table, json or csv.")
SinceOption = typer.Option(None, "--since", help="Start (inclusive): ISO date/time or relative like 7d, 24h.")
UntilOption = typer.Option(None, "--until", help="End (exclusive): ISO date/time or relative.")
ProjectOption = typer.Option(None, "--project", help="Only this project.")
ModelOption = typer.Option(None, "--model", help="Only this model.")
BY_HELP = ("model (as requested), response_model (dated), project, service, provider, operation, kind, node, collection, user, conversation, "
           "day, week, hour or run_config.<key>")


# --- plumbing -----------------------------------------------------------------


def _fail(message: str, code: int = 1) -> typer.Exit:
    """Print a one-line error to stderr and return the exit to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _require_analysis_extra() -> None:
    if importlib.util.find_spec("duckdb") is None:
        raise _fail("the analysis commands need DuckDB: install otel-llm[analysis]", 2)


@contextmanager
def _store(db: str, *, read_only: bool = True) -> Iterator[Any]:
    """Open the TraceStore at ``db`` (one-line errors for the usual mistakes), close it after.

    Analyses open the file read-only, so they never change it and can run beside
    each other; only ``ingest`` opens it for writing (and creates it).
    """
    _require_analysis_extra()
    if read_only and db != ":memory:" and not Path(db).exists():
        raise _fail(f"no database at {db}; run `otel-llm ingest PATH... --db {db}` first")
    from otel_llm_analysis.store import TraceStore

    try:
        store = TraceStore(db, read_only=read_only)
    except Exception as exc:  # StoreError is one line already; anything else: make it one
        raise _fail(_one_line(exc)) from None
    try:
        yield store
    finally:
        store.close()


def _one_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _filters(since: Optional[str], until: Optional[str], project: Optional[str] = None,
             model: Optional[str] = None) -> Any:
    from otel_llm_analysis._filters import Filters

    try:
        return Filters.of(since, until, project=project, model=model)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def _console() -> Any:
    from rich.console import Console

    return Console()


def _emit(rows: Sequence[Any], fmt: OutputFormat, title: str, columns: Sequence[str] | None = None,
          key_name: str | None = None) -> None:
    """Print rows as a Rich table (fitted to the terminal), JSON or CSV on stdout."""
    from otel_llm_analysis import export

    if fmt is OutputFormat.json:
        sys.stdout.write(export.to_json(rows).decode())
    elif fmt is OutputFormat.csv:
        sys.stdout.write(export.to_csv(rows))
    elif not rows:
        _console().print(f"[dim]{title}: no data[/dim]")
    else:
        console = _console()
        rename = {"key": key_name} if key_name else None
        console.print(export.rich_table(rows, title, columns, width=console.width, rename=rename))


def _show(db: str, fmt: Any, title: str, columns: Sequence[str], key_name: str | None,
          analysis: Any, *args: Any, **kwargs: Any) -> list[Any]:
    """The common command body: open the store, run ``analysis(store, ...)``, print its rows."""
    with _store(db) as store:
        rows = _guard(analysis, store, *args, **kwargs)
    _emit(rows, fmt, title, columns, key_name)
    return rows


def _guard(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Run an analysis; a ValueError (bad dimension, bad month...) becomes a usage error."""
    try:
        return fn(*args, **kwargs)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


# --- ingest -------------------------------------------------------------------


#: ``otel-llm ingest`` exit code when everything readable loaded but some input did not (see the listed problems).
INGEST_PROBLEMS_EXIT = 3
INGEST_EPILOG = ("Exit codes: 0 loaded, no problems; 1 nothing loaded (a missing path, an unusable database); "
                 f"{INGEST_PROBLEMS_EXIT} loaded with problems: every readable line is in, and each line, item or "
                 "value that is not is listed with file:line and reason.")


def ingest(
    paths: List[str] = typer.Argument(..., help="Files, directories or globs of traces/metrics/logs JSONL."),
    db: str = DbOption,
) -> None:
    """Load collector/SDK files into the DuckDB store; re-running reads only what is new."""
    _require_analysis_extra()
    missing = [p for p in paths if not _matches(p)]
    if missing:
        raise _fail(f"no such file: {', '.join(missing)}")
    if db != ":memory:":
        Path(db).parent.mkdir(parents=True, exist_ok=True)
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn

    console = _console()
    with _store(db, read_only=False) as store:
        with Progress(TextColumn("[bold]ingest[/bold]"), BarColumn(), DownloadColumn(), TimeElapsedColumn(),
                      console=console, transient=True) as bar:
            task = bar.add_task("ingest", total=sum(_sizes(p) for p in paths) or None)
            try:
                report = store.ingest(paths, on_progress=lambda n: bar.advance(task, n))
            except Exception as exc:  # StoreError (missing/unreadable path, read-only file): one line
                raise _fail(_one_line(exc)) from None
        from otel_llm_analysis.views import install_views

        install_views(store)
    console.print(report.summary(), highlight=False)
    for problem in report.bad_lines:
        console.print(f"[red]bad line[/red] {problem}", highlight=False, markup=True, soft_wrap=True)
    if report.bad_lines:
        raise typer.Exit(INGEST_PROBLEMS_EXIT)


def _matches(spec: str) -> bool:
    import glob

    return Path(spec).exists() or bool(glob.glob(spec))


def _sizes(spec: str) -> int:
    """Bytes the progress bar expects from one argument (a file, directory or glob)."""
    import glob

    paths = [Path(spec)] if Path(spec).exists() else [Path(p) for p in glob.glob(spec)]
    total = 0
    for path in paths:
        files = [f for f in path.rglob("*") if ".json" in f.name] if path.is_dir() else [path]
        total += sum(f.stat().st_size for f in files if f.is_file())
    return total


# --- analyses -----------------------------------------------------------------

#: In priority order: on a narrow terminal the last ones are dropped first.
SUMMARY_COLUMNS = ["key", "llm_calls", "cost_usd", "cost_share", "input_tokens", "output_tokens", "error_rate",
                   "p95_ms", "cost_per_call", "turns", "traces", "p50_ms"]


def summary(
    by: Optional[str] = typer.Option(None, "--by", help=BY_HELP),
    since: Optional[str] = SinceOption,
    until: Optional[str] = UntilOption,
    project: Optional[str] = ProjectOption,
    model: Optional[str] = ModelOption,
    fmt: OutputFormat = FormatOption,
    db: str = DbOption,
) -> None:
    """Totals (no --by) or one row per group: calls, tokens, cost, cost share, errors, latency."""
    from otel_llm_analysis import summaries

    filters = _filters(since, until, project, model)
    if by is not None:
        _show(db, fmt, f"summary by {by}", SUMMARY_COLUMNS, by, summaries.summary, by, filters)
        return
    with _store(db) as store:
        total = summaries.totals(store, filters)
        first = summaries.time_to_first_token(store, None, filters)
    _emit_kpis(total, first[0] if first else None, fmt)


def _emit_kpis(total: Any, first_token: Any, fmt: OutputFormat) -> None:
    from otel_llm_analysis.export import format_value, to_records

    record = to_records([total])[0]
    record.pop("key")
    record.pop("cost_share")  # 100 % by definition for the totals
    record["total_tokens"] = total.total_tokens
    record["ttft_p50_ms"] = first_token.p50_ms if first_token else None
    record["ttft_p95_ms"] = first_token.p95_ms if first_token else None
    if fmt is not OutputFormat.table:
        _emit([record], fmt, "summary")
        return
    from rich.table import Table

    table = Table(title="summary", show_header=False)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name, value in record.items():
        table.add_row(name, format_value(name, value))
    _console().print(table)


TREND_METRICS = {"calls": "calls", "tokens": "input_tokens", "cost": "cost_usd", "errors": "errors",
                 "error_rate": "error_rate", "p95": "p95_ms"}


def trends(
    period: PeriodChoice = typer.Option(PeriodChoice.day, "--period", help="hour, day or week."),
    metric: List[str] = typer.Option([], "--metric", help="Columns to show: " + ", ".join(TREND_METRICS)),
    since: Optional[str] = SinceOption,
    until: Optional[str] = UntilOption,
    project: Optional[str] = ProjectOption,
    model: Optional[str] = ModelOption,
    last: int = typer.Option(45, "--last", help="Table: show the last N periods (json/csv: all)."),
    fmt: OutputFormat = FormatOption,
    db: str = DbOption,
) -> None:
    """Zero-filled series per period, change vs the previous period, spike days, month-end forecast."""
    from otel_llm_analysis import trends as analysis

    unknown = [m for m in metric if m not in TREND_METRICS]
    if unknown:
        raise typer.BadParameter(f"unknown metric {', '.join(unknown)}; choose from {', '.join(TREND_METRICS)}")
    filters = _filters(since, until, project, model)
    with _store(db) as store:
        points = analysis.series(store, period.value, filters)
        spikes = analysis.spikes(store, filters=filters)
        forecast = analysis.forecast_month_end(store, filters=filters)
    columns = ["period"] + [TREND_METRICS[m] for m in (metric or TREND_METRICS)]
    if "cost_usd" in columns:
        columns.insert(columns.index("cost_usd") + 1, "cost_change_pct")
    if "input_tokens" in columns:
        columns.insert(columns.index("input_tokens") + 1, "output_tokens")
    if fmt is OutputFormat.json:  # one document: series, changes, spikes, forecast
        from otel_llm_analysis.export import to_json, to_records

        changes = [analysis.period_over_period(points, name) for name in ("cost_usd", "calls")]
        document = {"series": to_records(points), "changes": to_records([c for c in changes if c]),
                    "spikes": to_records(spikes), "forecast": to_records([forecast])[0]}
        sys.stdout.write(to_json([document]).decode())
        return
    if fmt is OutputFormat.csv:
        _emit(points, fmt, "trends")
        return
    console = _console()
    truncate_day = lambda moment: analysis.truncate(moment, "day")  # noqa: E731
    shown = points[-last:] if last > 0 else points
    title = f"trends per {period.value}" + (f" (last {len(shown)} of {len(points)})" if len(shown) < len(points) else "")
    _emit(shown, fmt, title, columns)
    for name in ("cost_usd", "calls"):
        change = analysis.period_over_period(points, name)
        if change is not None:
            pct = "n/a" if change.change_pct is None else f"{change.change_pct:+.1f}%"
            console.print(f"{name}: last {period.value} {change.current:,.4g} vs {change.previous:,.4g} ({pct})")
    for spike in spikes:
        if shown and spike.period < truncate_day(shown[0].period):
            continue  # before the window shown
        console.print(f"[red]spike[/red] {spike.period:%Y-%m-%d} {spike.metric} {spike.value:.4g} "
                      f"(baseline median {spike.baseline_median:.4g}, robust z {spike.z:.1f})")
    console.print(f"forecast {forecast.month}: spent ${forecast.spent:,.4f} in {forecast.days_elapsed} days, "
                  f"month-end ≈ ${forecast.projected_month_end:,.4f} (least squares over the days so far)")


BUDGET_EPILOG = ("Exit codes: 0 every budget below 90 % used; 1 a budget is critical (>= 90 %), "
                 "so `otel-llm budget` can gate a CI job; 2 usage error (no budget given, bad file).")
STATUS_STYLE = {"ok": "green", "warning": "yellow", "critical": "bold red", "breached": "bold red", "no data": "dim"}


def budget(
    monthly: Optional[float] = typer.Option(None, "--monthly", help="Monthly budget in USD."),
    project: Optional[str] = typer.Option(None, "--project", help="Apply --monthly to this project."),
    model: Optional[str] = typer.Option(None, "--model", help="Apply --monthly to this model."),
    file: Optional[Path] = typer.Option(None, "--file", help="Budgets YAML/JSON file."),
    month: Optional[str] = typer.Option(None, "--month", help="YYYY-MM (default: current UTC month)."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Evaluate as of this day (YYYY-MM-DD)."),
    fmt: OutputFormat = FormatOption,
    db: str = DbOption,
) -> None:
    """Budget status: spent, remaining, % used (ok < 70 % <= warning < 90 % <= critical), projection."""
    from otel_llm_analysis import budgets as analysis

    plan = []
    if file is not None:
        try:
            plan += analysis.load_budgets(file)
        except (OSError, ValueError) as exc:
            raise _fail(f"cannot read budgets from {file}: {exc}", 2) from None
    if monthly is not None:
        plan.append(analysis.Budget(monthly, project=project, model=model))
    if not plan:
        raise _fail("give a budget with --monthly 50 or --file budgets.yaml", 2)
    day = _guard(date.fromisoformat, as_of) if as_of else None
    with _store(db) as store:
        statuses = _guard(analysis.budget_status, store, plan, month, day)
    columns = ["budget", "monthly_usd", "spent", "remaining", "percent_used", "status",
               "projected_month_end", "runs_out_on"]
    _emit_statuses(statuses, fmt, f"budgets {statuses[0].month} as of {statuses[0].as_of}", columns)
    if analysis.any_critical(statuses):
        raise typer.Exit(1)


def _emit_statuses(rows: Sequence[Any], fmt: OutputFormat, title: str, columns: Sequence[str]) -> None:
    """A gate's rows: a table with its ``status`` column coloured, or JSON/CSV."""
    if fmt is not OutputFormat.table:
        _emit(rows, fmt, title)
        return
    from otel_llm_analysis.export import rich_table

    style = lambda name, value: STATUS_STYLE.get(value) if name == "status" else None  # noqa: E731
    console = _console()
    console.print(rich_table(rows, title, columns, style=style, width=console.width))


CHECK_EPILOG = ("Exit codes: 0 no limit crossed (a check without data passes); 1 a limit is crossed, "
                "so `otel-llm check --since 1h` can alert from cron or gate a CI job; 2 usage error.")


def check(
    max_p95_ms: Optional[float] = typer.Option(2000.0, "--max-p95-ms", help="p95 LLM-call latency limit (ms)."),
    max_error_rate: Optional[float] = typer.Option(0.05, "--max-error-rate", help="Failed / all LLM calls."),
    max_ttft_ms: Optional[float] = typer.Option(None, "--max-ttft-ms", help="p95 time to first token (ms)."),
    max_memory_mb: Optional[float] = typer.Option(500.0, "--max-memory-mb", help="Peak process memory (MB)."),
    max_cost: Optional[float] = typer.Option(None, "--max-cost", help="Spend in the window (USD)."),
    since: Optional[str] = SinceOption,
    until: Optional[str] = UntilOption,
    project: Optional[str] = ProjectOption,
    fmt: OutputFormat = FormatOption,
    db: str = DbOption,
) -> None:
    """Alert thresholds (seed 004's: p95 > 2 s, error rate > 5 %, memory > 500 MB); exit 1 when crossed."""
    from otel_llm_analysis import alerts

    limits = alerts.Thresholds(max_p95_ms, max_error_rate, max_ttft_ms, max_memory_mb, max_cost)
    with _store(db) as store:
        rows = _guard(alerts.check, store, limits, _filters(since, until, project))
    _emit_statuses(rows, fmt, "checks", ["check", "observed", "limit", "status"])
    if alerts.any_breached(rows):
        raise typer.Exit(1)


def compare(
    by: str = typer.Option("model", "--by", help="model or run_config.<key> (any --by of summary)."),
    min_calls: int = typer.Option(1, "--min-calls", help="Calls a group needs to be named best."),
    since: Optional[str] = SinceOption,
    until: Optional[str] = UntilOption,
    project: Optional[str] = ProjectOption,
    fmt: OutputFormat = FormatOption,
    db: str = DbOption,
) -> None:
    """Calls, success rate, mean cost, p95 latency and score per group; best marked (see README score)."""
    from otel_llm_analysis import comparisons as analysis

    columns = ["key", "calls", "success_rate", "cost_per_call", "p95_ms", "score", "best", "tokens_per_call"]
    _show(db, fmt, f"compare by {by}", columns, by, analysis.compare, by, _filters(since, until, project),
          min_calls=min_calls)


def quality(
    by: Optional[str] = typer.Option(None, "--by", help="project, model, day or run_config.<key>."),
    evaluation: Optional[str] = typer.Option(None, "--evaluation", help="Only this gen_ai.evaluation.name."),
    since: Optional[str] = SinceOption,
    until: Optional[str] = UntilOption,
    project: Optional[str] = ProjectOption,
    fmt: OutputFormat = FormatOption,
    db: str = DbOption,
) -> None:
    """Evaluation outcomes: pass / warning / fail, pass rate = pass / (pass + warning + fail), not run."""
    from otel_llm_analysis import qa as analysis

    columns = ["key", "passed", "warning", "failed", "pass_rate", "not_run", "errored"]
    _show(db, fmt, "quality" + (f" by {by}" if by else ""), columns, by, analysis.quality, by,
          _filters(since, until, project), evaluation=evaluation)


def logs(
    search: Optional[str] = typer.Option(None, "--search", help="Case-insensitive text in the body."),
    severity: Optional[str] = typer.Option(None, "--severity", help="At or above: DEBUG, INFO, WARN, ERROR."),
    since: Optional[str] = SinceOption,
    until: Optional[str] = UntilOption,
    patterns: bool = typer.Option(False, "--patterns", help="Group messages into patterns (default ERROR+)."),
    limit: int = typer.Option(50, "--limit"),
    fmt: OutputFormat = FormatOption,
    db: str = DbOption,
) -> None:
    """Search log records, or group error messages into patterns with counts and first/last seen."""
    from otel_llm_analysis import logs as analysis

    if patterns:
        _show(db, fmt, "log patterns", ["pattern", "count", "first_seen", "last_seen", "example_trace_id"], None,
              analysis.log_patterns, severity or "ERROR", search, since, until, limit)
    else:
        _show(db, fmt, "logs", ["time", "severity_text", "body", "trace_id"], None,
              analysis.search_logs, search, severity, since, until, limit)


def traces(
    top: int = typer.Option(10, "--top", help="How many traces."),
    by: RankChoice = typer.Option(RankChoice.cost, "--by", help="cost or duration."),
    tree: bool = typer.Option(False, "--tree", help="Print each trace's span tree."),
    since: Optional[str] = SinceOption,
    until: Optional[str] = UntilOption,
    project: Optional[str] = ProjectOption,
    fmt: OutputFormat = FormatOption,
    db: str = DbOption,
) -> None:
    """The most expensive or slowest traces: root, depth, spans, LLM calls, tokens, cost."""
    from otel_llm_analysis import traces as analysis

    measure, other = ("cost_usd", "duration_ms") if by is RankChoice.cost else ("duration_ms", "cost_usd")
    columns = ["trace_id", measure, "root_name", "llm_calls", "tokens", other, "depth", "spans", "errors", "start_time"]
    rows = _show(db, fmt, f"top {top} traces by {by.value}", columns, None, analysis.top_traces, top, by.value,
                 _filters(since, until, project))
    if tree and fmt is OutputFormat.table:
        console = _console()
        for row in rows:
            console.print(render_tree(row))


def render_tree(row: Any) -> Any:
    """A Rich tree of one trace's spans, with duration, model, tokens and cost."""
    from rich.tree import Tree

    from otel_llm_analysis.export import format_value

    root = Tree(f"[bold]{row.trace_id}[/bold] {row.root_name} ({format_value('cost_usd', row.cost_usd)})")
    stack: list[Any] = [root]
    for node in row.tree:
        del stack[node.depth:]
        parts = [node.name, f"{format_value('duration_ms', node.duration_ms)} ms"]
        if node.model:
            parts.append(node.model)
        if node.input_tokens or node.output_tokens:
            parts.append(f"{(node.input_tokens or 0) + (node.output_tokens or 0):,} tok")
        if node.cost_usd is not None:
            parts.append(format_value("cost_usd", node.cost_usd))
        label = " · ".join(parts)
        stack.append(stack[-1].add(f"[red]{label}[/red]" if node.status_code == 2 else label))
    return root


def sql(
    query: str = typer.Argument(..., help="SQL over spans, span_events, metric_points, logs (see README)."),
    fmt: OutputFormat = FormatOption,
    db: str = DbOption,
) -> None:
    """Run your own SQL on a read-only connection and print the result."""
    with _store(db) as store:
        try:
            names, values = store.query_columns(query)
        except Exception as exc:
            raise _fail(_one_line(exc)) from None
    _emit([dict(zip(names, row)) for row in values], fmt, "result", names)


def export_(
    result: Result = typer.Argument(..., help="summary, trends, budget, compare, quality, logs, patterns, "
                                             "traces, or spans (the whole table, partitioned by day)."),
    fmt: ExportFormat = typer.Option(ExportFormat.parquet, "--format", "-f", help="json, csv or parquet."),
    out: Path = typer.Option(..., "--out", "-o", help="Output file (a directory for spans)."),
    by: Optional[str] = typer.Option(None, "--by", help="Grouping for summary/compare/quality."),
    period: PeriodChoice = typer.Option(PeriodChoice.day, "--period", help="For trends."),
    monthly: Optional[float] = typer.Option(None, "--monthly", help="For budget."),
    budgets_file: Optional[Path] = typer.Option(None, "--file", help="For budget."),
    month: Optional[str] = typer.Option(None, "--month", help="For budget: YYYY-MM."),
    top: int = typer.Option(10, "--top", help="For traces."),
    since: Optional[str] = SinceOption,
    until: Optional[str] = UntilOption,
    db: str = DbOption,
) -> None:
    """Write an analysis result as JSON/CSV/Parquet, or all spans as Parquet partitioned by day."""
    from otel_llm_analysis import export as exporter

    filters = _filters(since, until)
    with _store(db) as store:
        if result is Result.spans:
            if fmt is not ExportFormat.parquet:
                raise typer.BadParameter("spans export only as parquet (a directory partitioned by day)")
            path = exporter.export_spans(store, out)
            typer.echo(f"wrote spans to {path}/day=*/")
            return
        rows = _guard(_result_rows, store, result, filters, by=by, period=period.value, monthly=monthly,
                      budgets_file=budgets_file, month=month, top=top)
    if not rows:
        raise _fail(f"nothing to export: {result.value} has no rows")
    path = exporter.export_rows(rows, fmt.value, out)
    typer.echo(f"wrote {len(rows)} {result.value} rows to {path}")


def _result_rows(store: Any, result: Result, filters: Any, *, by: Optional[str], period: str,
                 monthly: Optional[float], budgets_file: Optional[Path], month: Optional[str],
                 top: int) -> list[Any]:
    """The rows of one named analysis, for export."""
    if result is Result.summary:
        from otel_llm_analysis.summaries import summary as run

        return run(store, by, filters)
    if result is Result.trends:
        from otel_llm_analysis.trends import series

        return series(store, period, filters)  # type: ignore[arg-type]
    if result is Result.budget:
        from otel_llm_analysis.budgets import Budget, budget_status, load_budgets

        plan = load_budgets(budgets_file) if budgets_file else []
        plan += [Budget(monthly)] if monthly is not None else []
        if not plan:
            raise ValueError("give --monthly or --file for a budget export")
        return budget_status(store, plan, month)
    if result is Result.compare:
        from otel_llm_analysis.comparisons import compare as run

        return run(store, by or "model", filters)
    if result is Result.quality:
        from otel_llm_analysis.qa import quality as run

        return run(store, by, filters)
    if result in (Result.logs, Result.patterns):
        from otel_llm_analysis import logs as analysis

        if result is Result.logs:
            return analysis.search_logs(store, since=filters.since, until=filters.until, limit=1_000_000)
        return analysis.log_patterns(store, since=filters.since, until=filters.until)
    from otel_llm_analysis.traces import top_traces

    return top_traces(store, top, "cost", filters)


def register(app: typer.Typer) -> None:
    """Add the analysis commands (ingest, summary, trends, budget, ...) to the root ``app``."""
    app.command("ingest", epilog=INGEST_EPILOG)(ingest)
    app.command("summary")(summary)
    app.command("trends")(trends)
    app.command("budget", epilog=BUDGET_EPILOG)(budget)
    app.command("check", epilog=CHECK_EPILOG)(check)
    app.command("compare")(compare)
    app.command("quality")(quality)
    app.command("logs")(logs)
    app.command("traces")(traces)
    app.command("sql")(sql)
    app.command("export")(export_)


__all__ = ["register", "render_tree", "DEFAULT_DB", "DB_ENV"]
