"""The analysis commands of ``otel-llm``: ingest, summary, trends, budget, check, compare, tools, ...

Each command is thin: it declares its own options, calls the public API of
``otel_llm_analysis`` and returns a :class:`~otel_llm_analysis._command.Result`;
:func:`~otel_llm_analysis._command.analysis_command` adds the shared options
(``--db``, ``--format table|json|csv|parquet``, ``--out``, the filters), opens
the store and shows or writes the result. :func:`register` mounts them on the
root ``otel-llm`` app. Nothing here imports DuckDB until a command runs.
"""

from __future__ import annotations

import glob
import os
from datetime import date
from pathlib import Path
from typing import Any, List, Optional

import typer

from otel_llm_analysis._command import (
    DB_ENV,
    DEFAULT_DB,
    Result,
    analysis_command,
    as_note,
    check_dimension,
    choices,
    fail,
    finite,
    interruptibly,
    no_spans_note,
    note,
    open_store,
    positive,
    require_held,
)

PeriodChoice = choices("PeriodChoice", "hour", "day", "week")
RankChoice = choices("RankChoice", "cost", "duration")
TableChoice = choices("TableChoice", "spans")

BY_HELP = ("model (as requested), response_model (dated), project, service, provider, operation, kind, node, "
           "collection, db_operation (a vector store's), user, conversation, day, week, hour or run_config.<key>")


# --- ingest -----------------------------------------------------------------------

def _paths_exist(paths: List[str], **_options: Any) -> None:
    """Missing or empty paths, paths that hold no data files and ``otel-llm export`` output are one
    line, before the store is touched."""
    from otel_llm_analysis._sources import SourceError, expand
    from otel_llm_analysis.export import span_export_in

    if any(not path.strip() for path in paths):  # an unset "$DATA_DIR": not the current directory
        raise fail("an empty path: give a file, directory or glob")
    for path in paths:
        exported = span_export_in(path)
        if exported is not None:
            raise fail(f"{path} was written by `otel-llm export` ({exported.name} under {exported.parent.name}): "
                       "rows of the store's spans table, not OTLP, so it cannot be ingested again; ingest the "
                       "collector or SDK files it came from, or query it with `duckdb` (read_"
                       f"{exported.suffix[1:]}('{exported.parent.parent}/*/*{exported.suffix}'))")
        table = _TABLE_FILES.get(Path(path).suffix.lower())
        if table is not None and os.path.isfile(path):
            raise fail(f"{path} is a {table} file, not OTLP: `otel-llm ingest` reads the .jsonl (or .zst) files the "
                       "collector or the SDK writes; a result written with --out holds the store's rows, read it "
                       "with `duckdb`")
    missing = next((path for path in paths if not glob.has_magic(path) and _absent(path)), None)
    if missing is not None:
        raise fail(f"no such file or directory: {missing}; {_where_data_comes_from(paths)}")
    try:
        files = expand(paths)
    except SourceError as exc:
        raise fail(str(exc)) from None
    if not files:
        raise fail(f"{', '.join(paths)}: no trace, metric or log files here "
                   f"(*.jsonl, *.json or .zst files from the collector or the SDK); {_where_data_comes_from(paths)}")


#: What ``--out`` and ``export`` write, named by a file given to ``ingest`` (read as JSON lines, each line bad).
_TABLE_FILES = {".parquet": "Parquet", ".csv": "CSV"}


def _absent(path: str) -> bool:
    """Nothing at ``path``; a path that cannot be looked at (a name too long, no permission) is for ``expand``
    to name, with its reason."""
    try:
        os.lstat(path)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return False


def _where_data_comes_from(paths: List[str]) -> str:
    """What to do when ``paths`` hold no data yet: the batches an OTLP app spooled there while the collector
    was unreachable (not data files until delivered), else what writes the files."""
    from otel_llm.exporters._spool_segments import ACTIVE, SEALED

    spooled = [(path, Path(path, "spool")) for path in paths  # the default spool_dir; isdir never raises
               if os.path.isdir(os.path.join(path, "spool"))]
    waiting = [f for _, spool in spooled for suffix in (SEALED, ACTIVE) for f in spool.glob(f"*/*{suffix}")]
    if waiting:
        data_dir, spool = spooled[0]
        return (f"{len(waiting)} file(s) in {spool} hold what an app sent while the collector was unreachable: "
                f"start it (`otel-llm collector start --data-dir {data_dir}`) and run the app again, which sends "
                f"them first, then `otel-llm ingest {data_dir}`")
    return ("an app writes them as its decorated functions run after otel_llm.configure() (to ./otel-data, or "
            "its output_dir= / OTEL_LLM_OUTPUT_DIR; with exporter=\"otlp\" the collector writes its --data-dir); "
            "`otel-llm demo` writes an example")


#: ``otel-llm ingest`` exit code when everything readable loaded but some input did not (see the listed problems).
INGEST_PROBLEMS_EXIT = 3
INGEST_EPILOG = ("Exit codes: 0 loaded, no problems; 1 nothing loaded (a missing path, an unusable database); "
                 f"{INGEST_PROBLEMS_EXIT} loaded with problems: every readable line is in, and each line, item or "
                 "value that is not is listed with file:line and reason.")


@analysis_command(filters=(), writes=True, before=_paths_exist)
def ingest(store: Any, filters: Any,
           paths: List[str] = typer.Argument(..., help="Files, directories or globs of OTLP-JSON lines "
                                                      "(traces, metrics, logs; .jsonl or .zst)."),
           pricing: Optional[Path] = typer.Option(
               None, "--pricing", envvar="OTEL_LLM_PRICING",
               help="Your prices (JSON/YAML, USD per 1M tokens, as configure(pricing=)) for calls that carry "
                    "tokens but no cost; genai-prices otherwise.")) -> Result:
    """Load collector/SDK files into the store; re-running reads only what is new."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn

    from otel_llm_analysis._command import console_for_stdout
    from otel_llm_analysis import terminal
    from otel_llm_analysis._sources import expand
    from otel_llm_analysis.store import StoreError

    files = expand(paths)
    console = console_for_stdout()
    with Progress(TextColumn("[bold]ingest[/bold]"), BarColumn(), DownloadColumn(), TimeElapsedColumn(),
                  console=console, transient=True, disable=not console.is_terminal) as bar:  # no bar in a log
        task = bar.add_task("ingest", total=sum(f.stat().st_size for f in files) or None)
        try:
            report = store.ingest(paths, on_progress=lambda n: bar.advance(task, n), pricing=pricing)
        except StoreError as exc:
            raise fail(str(exc)) from None
    if store.span_coverage:  # said by every analysis command too
        note(store.span_coverage)
    if store.reclassified:  # an upgrade changed figures of data stored before: said once, by the ingest doing it
        note(f"classified {store.reclassified} span(s) stored before again under this version's rules (what they "
             "are, their provider or model): their calls count from now on")
    where = ", ".join(paths)
    read_nothing = report.lines_read == 0 and not report.bad_lines and not any(f.partial_tail for f in report.files)
    if read_nothing and not report.finished_spans:  # rows an interrupted ingest left: the whole report says so
        empty = sum(f.status == "empty" for f in report.files)
        headline = (f"nothing in {where} yet: its {len(files)} file(s) are empty (the app has written no span, "
                    "metric or log there so far)" if empty == len(report.files) and empty
                    else f"nothing new in {where}: its {len(files)} file(s) were read before")
        priced = report.pricing.summary() if report.pricing is not None else ""
        if priced:  # a new --pricing file prices calls stored before: say what it did
            headline += f"; {priced}"
    else:
        headline = f"{where}: {report.summary()}"

    def show(console: Any) -> None:
        # Not wrapped by Rich: each problem stays one line, its file:line intact for the terminal to link.
        # Not markup either: paths and reported values are the producer's text.
        for line in [headline, *(f"bad line {problem}" for problem in report.bad_lines)]:
            console.print(terminal.visible(line), highlight=False, soft_wrap=True, markup=False)

    return Result([report], "ingest", show=show, exit_code=INGEST_PROBLEMS_EXIT if report.bad_lines else 0)


# --- analyses ---------------------------------------------------------------------

#: Most important first: on a narrow terminal the last ones are hidden (and named).
SUMMARY_COLUMNS = ["key", "llm_calls", "cost_usd", "cost_share", "estimated_cost_usd", "input_tokens", "output_tokens", "error_rate",
                   "p95_ms", "cost_per_call", "turns", "traces", "p50_ms", "last_seen"]


@analysis_command()
def summary(store: Any, filters: Any, by: Optional[str] = typer.Option(None, "--by", help=BY_HELP)) -> Result:
    """Totals (no --by) or one row per group: calls, tokens, cost, cost share, errors, latency.

    estimated cost: the cost priced at ingest (none from the producer) or from a producer's estimate of usage.
    """
    from rich.markup import escape

    from otel_llm_analysis import summaries, terminal
    from otel_llm_analysis._unrecorded import only_in_metrics, unrecorded_cost

    check_dimension(store, by)
    if by is not None:
        rows = summaries.summary(store, by, filters, partial=True)
        notes = _unpriced_groups((row.key, row.unpriced_calls, row.llm_calls, row.unpriced_reasons) for row in rows)
        notes += _no_usage_groups((row.key, row.no_usage_calls, row.llm_calls) for row in rows)
        notes += [f"-: the {row.spans:,} span(s) with no {escape(by)}" + ("" if row.llm_calls else
                  " (chat turns, graph nodes, tools...), none of them an LLM call") for row in rows if row.key is None]
        notes += _estimated_usage(sum(row.estimated_usage_calls for row in rows))
        notes += _instrumentation_failures(sum(row.instrumentation_failures for row in rows))
        notes += _only_in_metrics(unrecorded_cost(store, filters, sum(row.llm_calls for row in rows)))
        notes += as_note((partial := only_in_metrics(store, filters, sum(row.llm_calls for row in rows)))
                         and partial.said())
        notes += _partial_rows(rows)
        return Result(rows, f"summary by {by}", SUMMARY_COLUMNS, {"key": by}, notes=notes)
    total = summaries.totals(store, filters)
    first = summaries.time_to_first_token(store, None, filters)
    record = {name: value for name, value in _record(total).items()
              if name not in ("key", "cost_share", "cost_unknown")}  # (why the cost is unknown: a note below)
    record["total_tokens"] = total.total_tokens
    record["ttft_p50_ms"] = first[0].p50_ms if first else None
    record["ttft_p95_ms"] = first[0].p95_ms if first else None
    unrecorded = _only_in_metrics(total.cost_unknown)
    unrecorded = (no_spans_note(store, filters) if not total.spans else []) + unrecorded
    if unrecorded:  # calls only metric points record: what they used and cost is unknown, not 0
        record.update({name: None for name in record
                       if ("token" in name or "cost" in name) and not name.endswith("_calls")})
    partial = as_note(total.only_in_metrics and total.only_in_metrics.said())  # some days' calls not in spans
    return Result([record], "summary", notes=_left_out(total) + _estimated_usage(total.estimated_usage_calls)
                  + _instrumentation_failures(total.instrumentation_failures) + unrecorded + partial,
                  show=lambda console: console.print(terminal.kv_table(  # these: in the notes
                      {k: v for k, v in record.items() if k not in ("unpriced_reasons", "only_in_metrics")},
                      "summary")))


def _record(row: Any) -> dict[str, Any]:
    from otel_llm_analysis.export import to_records

    return to_records([row])[0]


TREND_METRICS = {"calls": "calls", "tokens": "input_tokens", "cost": "cost_usd", "errors": "errors",
                 "error_rate": "error_rate", "p95": "p95_ms"}


@analysis_command()
def trends(
    store: Any,
    filters: Any,
    period: PeriodChoice = typer.Option(PeriodChoice.day, "--period", help="hour, day or week."),
    metric: List[str] = typer.Option([], "--metric", help="Columns to show: " + ", ".join(TREND_METRICS)),
    last: int = typer.Option(45, "--last", min=1, max=1_000_000, help="Table: show the last N periods (json/csv: all)."),
) -> Result:
    """Zero-filled series per period, change vs the previous period, spike days, month-end forecast.

    The forecast is of the current month, or of the month --until's last day falls in, as of that day.
    """
    from rich.markup import escape

    from otel_llm_analysis import trends as analysis
    from otel_llm_analysis.export import to_records
    from otel_llm_analysis.terminal import visible

    unknown = [m for m in metric if m not in TREND_METRICS]
    if unknown:
        raise ValueError(f"unknown metric {', '.join(unknown)}; choose from {', '.join(TREND_METRICS)}")
    points = analysis.series(store, period.value, filters, True)
    spikes = analysis.spikes(store, filters=filters)
    forecast = analysis.forecast_month_end(store, *_forecast_day(filters), filters=filters)
    changes = [c for c in (analysis.period_over_period(points, name) for name in ("cost_usd", "calls")) if c]
    columns = ["period"] + [TREND_METRICS[m] for m in (metric or TREND_METRICS)]
    if "cost_usd" in columns:
        columns.insert(columns.index("cost_usd") + 1, "cost_change_pct")
    if "input_tokens" in columns:
        columns.insert(columns.index("input_tokens") + 1, "output_tokens")
    shown = points[-last:]
    title = f"trends per {period.value}" + (f" (last {len(shown)} of {len(points)})" if len(shown) < len(points) else "")
    first_shown = analysis.truncate(shown[0].period, "day") if shown else None
    notes = [f"{c.metric}: last {period.value} {c.current:,.4g} vs {c.previous:,.4g} "
             f"({'n/a' if c.change_pct is None else f'{c.change_pct:+.1f}%'})" for c in changes]
    notes += [f"[red]spike[/red] {s.period:%Y-%m-%d} {s.metric} {s.value:.4g} (baseline median "
              f"{s.baseline_median:.4g}, robust z {s.z:.1f})" for s in spikes
              if first_shown is None or s.period >= first_shown]
    began = (f" (from {forecast.data_since}, the store's first data)"
             if forecast.data_since and forecast.data_since.day > 1 else "")
    if forecast.cost_unknown:  # the days' calls are only in metric points: no $0 spent, no $0 month-end
        notes.append(f"forecast {forecast.month}: spend {escape(visible(forecast.cost_unknown))}")
    elif not forecast.calls:  # no $0 projection of a month the data may not reach: say where the spans are
        notes.append(f"forecast {forecast.month}: no LLM call from {forecast.data_since} through {forecast.as_of}, "
                     "so no spend to project" + "".join(f"; {said}" for said in _forecast_spans(store, forecast,
                                                                                                  filters)))
    else:
        notes.append(f"forecast {forecast.month}: spent ${forecast.spent:,.4f} in {forecast.days_elapsed} days"
                     f"{began}, month-end ≈ ${forecast.projected_month_end:,.4f} (least squares over the days so far)")
    notes += analysis.left_out(points, period.value)  # calls only metric points record: not $0, not all
    notes += _left_out_in(store, filters)
    document = {"series": to_records(points), "changes": to_records(changes), "spikes": to_records(spikes),
                "forecast": to_records([forecast])[0]}
    table = Result(shown, title, columns)
    return Result(points, title, columns, notes=notes, document=document,
                  show=(lambda console: _show_rows(console, table)) if points else None)


def _forecast_day(filters: Any) -> tuple[Any, Any]:
    """``(month, as_of)`` of the trends forecast: the window's last day when ``--until`` ends it
    before today (a window in a past month forecasts that month), else the current month's today."""
    from datetime import datetime, timedelta, timezone

    today = datetime.now(timezone.utc).date()
    if filters.until is None or filters.until.date() > today:
        return None, None
    day = (filters.until - timedelta(microseconds=1)).date()
    return day, day


def _forecast_spans(store: Any, forecast: Any, filters: Any) -> list[str]:
    """Where the spans are when none starts in the forecast's days (``no_spans_note``): a month the store's
    data does not reach, not a month without spend."""
    from dataclasses import replace
    from datetime import datetime, timedelta

    days = replace(filters, since=datetime.combine(forecast.data_since, datetime.min.time()),
                   until=datetime.combine(forecast.as_of + timedelta(days=1), datetime.min.time()))
    return no_spans_note(store, days)


def _show_rows(console: Any, result: Result) -> None:
    """The default table of ``result`` (for commands whose table shows fewer rows than they export)."""
    from otel_llm_analysis import terminal

    terminal.table(result.rows, result.title, result.columns, width=console.width, rename=result.rename).print(console)


def _unpriced(unpriced: int, calls: int, label: str | None = None, reasons: Any = None) -> str:
    """The line saying how many calls a cost shown leaves out (``label``: whose calls, app text), and why:
    ``reasons`` (reason -> calls, ``_unpriced.REASONS``) says how many for each, as what would price them differs."""
    from rich.markup import escape

    from otel_llm_analysis._unpriced import reasons_text
    from otel_llm_analysis.terminal import visible

    where = f"{escape(visible(label))}: " if label is not None else ""
    if reasons:
        return f"{where}{unpriced} of {calls} calls have no cost: {reasons_text(reasons)}, so the cost shown leaves them out"
    return (f"{where}{unpriced} of {calls} calls have no price (their model has none, their usage is only a "
            "total, or a token count was dropped, unreadable or contradicts another), so the cost shown leaves them out")


def _unobserved(unobserved: int, calls: int, label: str | None) -> str:
    """The line saying how many of ``label``'s calls had no usage to read (``otel_llm.usage.unobserved``)."""
    from rich.markup import escape

    from otel_llm_analysis.terminal import visible

    return (f"{escape(visible('-' if label is None else label))}: {unobserved} of {calls} calls have no usage "
            "observed (the app read the raw HTTP response itself), so the tokens and cost shown leave them out")


def _unpriced_groups(groups: Any) -> list[str]:
    """:func:`_unpriced` for each ``(key, unpriced calls, calls, reasons)`` group that has unpriced calls."""
    return [_unpriced(unpriced, calls, "-" if key is None else str(key), reasons)
            for key, unpriced, calls, reasons in groups if unpriced]


def _left_out(total: Any) -> list[str]:
    """The lines saying which calls of the totals row ``total`` (a ``SummaryRow``) its cost and tokens
    leave out: those with tokens and no price, and those with no usage recorded at all."""
    notes = ([_unpriced(total.unpriced_calls, total.llm_calls, reasons=getattr(total, "unpriced_reasons", None))]
             if total.unpriced_calls else [])
    if total.no_usage_calls:
        notes.append(_no_usage(total.no_usage_calls, total.llm_calls))
    return notes


def _no_usage(no_usage: int, calls: int, label: str | None = None) -> str:
    """The line saying how many calls have no usage recorded at all (``label``: whose calls, app text)."""
    from rich.markup import escape

    from otel_llm_analysis.terminal import visible

    where = f"{escape(visible(label))}: " if label is not None else ""
    return (f"{where}{no_usage} of {calls} calls have no usage recorded (failed before an answer, a stream without "
            "its usage chunk, or the app read the raw HTTP response itself), so the tokens and cost shown leave "
            "them out")


def _estimated_usage(calls: int) -> list[str]:
    """The line saying how many calls' tokens are their producer's estimate rather than the API's usage
    (``SummaryRow.estimated_usage_calls``): their tokens are summed as written, their cost is estimated."""
    return [f"{calls} call(s) carry their producer's estimate of usage (OpenLIT stream without "
            "stream_options.include_usage)"] if calls else []


def _instrumentation_failures(calls: int) -> list[str]:
    """The line saying how many calls count as succeeded though their span says ERROR
    (``SummaryRow.instrumentation_failures``): the instrumentation failed in its own code, not the call."""
    return [f"{calls} call(s) counted as succeeded though their span says ERROR: it failed inside the "
            "instrumentation's own code (OpenLIT reading an answer without usage), not the call; their usage "
            "is unknown"] if calls else []


def _only_in_metrics(said: str | None) -> list[str]:
    """The line saying the tokens and cost of a window are unknown, not 0, when its spans hold no LLM call and
    GenAI metric points count calls there: ``said``, why (``_unrecorded.unrecorded_cost``), else None."""
    return as_note(said and f"tokens and cost {said}")


def _partial_rows(rows: Any) -> list[str]:
    """The line of each row (a ``SummaryRow`` or ``ComparisonRow``) some of whose calls only GenAI metric points
    record (``only_in_metrics``): its figures are those of its calls in spans only."""
    return [note for row in rows if row.only_in_metrics for note in as_note(row.only_in_metrics.said(row.key))]


def _no_usage_groups(groups: Any) -> list[str]:
    """:func:`_no_usage` for each ``(key, calls without usage, calls)`` group that has some."""
    return [_no_usage(no_usage, calls, "-" if key is None else str(key)) for key, no_usage, calls in groups if no_usage]


def _left_out_in(store: Any, filters: Any) -> list[str]:
    """:func:`_left_out` of the calls under ``filters``: the calls a total of their cost or tokens misses."""
    from dataclasses import replace

    from otel_llm_analysis.summaries import summary

    rows = summary(store, None, replace(filters, calls_only=True), traces=False)
    return _left_out(rows[0]) if rows else []


BUDGET_EPILOG = ("Exit codes: 0 every budget below 90 % used (one whose project or model has no calls yet is $0 "
                 "spent, and says so); 1 a budget is critical (>= 90 %), "
                 "so `otel-llm budget` can gate a CI job; 2 usage error (no budget given, bad file); "
                 "3 a budget's status is unknown: none of its "
                 "calls has a cost (no price, or no usage recorded), or its calls are only in GenAI metric points "
                 "(spans sampled out or not shipped), so its spend is not known; or some days' calls are, and the "
                 "spend of the others, a lower bound, is below 90 % (at 90 % it is critical: exit 1).")
BUDGET_COLUMNS = ["budget", "monthly_usd", "spent", "percent_used", "status", "projected_month_end", "runs_out_on",
                  "remaining"]


@analysis_command(filters=())
def budget(
    store: Any,
    filters: Any,
    monthly: Optional[float] = typer.Option(None, "--monthly", callback=positive, help="Monthly budget in USD."),
    project: Optional[str] = typer.Option(None, "--project", help="Apply --monthly to this project."),
    each_project: bool = typer.Option(False, "--each-project",
                                      help="Apply --monthly to each project with calls in the month."),
    model: Optional[str] = typer.Option(None, "--model", help="Apply --monthly to this model."),
    file: Optional[Path] = typer.Option(None, "--file", help="Budgets YAML/JSON file (see docs/analyses.md)."),
    month: Optional[str] = typer.Option(None, "--month", help="YYYY-MM (default: the current UTC month)."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Evaluate as of this day (YYYY-MM-DD)."),
) -> Result:
    """Budget status: spent, % used (ok < 70 % <= warning < 90 % <= critical), month-end projection."""
    from rich.markup import escape

    from otel_llm_analysis import budgets as analysis
    from otel_llm_analysis._catalog import catalog
    from otel_llm_analysis.terminal import visible

    plan = []
    if file is not None:
        from yaml import YAMLError

        try:
            plan += analysis.load_budgets(file)
        except OSError as exc:
            raise fail(f"cannot read budgets from {file}: {exc.strerror or exc}", 2) from None
        except (ValueError, YAMLError) as exc:  # the parser's message, on one line
            raise fail(f"cannot read budgets from {file}: {' '.join(str(exc).split())}", 2) from None
    if each_project and (project is not None or monthly is None):
        raise fail("--each-project applies --monthly to every project: give --monthly, and no --project", 2)
    if monthly is not None:
        plan.append(analysis.Budget(monthly, project=project, model=model, each_project=each_project))
    if not plan:
        raise fail("give a budget with --monthly 50 or --file budgets.yaml", 2)
    day = date.fromisoformat(as_of) if as_of else None
    statuses = analysis.budget_status(store, plan, month, day)
    if not statuses:  # only --each-project, and no project has calls in the month
        return Result([], "budgets", BUDGET_COLUMNS, notes=["no project has LLM calls in the month, so there is "
                                                            "no project to budget"])
    notes = [_unpriced(s.unpriced_calls, s.calls, s.budget, s.unpriced_reasons) for s in statuses if s.unpriced_calls]
    notes += [_no_usage(s.no_usage_calls, s.calls, s.budget) for s in statuses if s.no_usage_calls]
    notes += [f"{escape(visible(s.budget))}: spend {escape(visible(s.cost_unknown))}" for s in statuses
              if s.cost_unknown]  # calls only metric points record: unknown, not $0
    known = catalog(store)
    notes += [_no_calls(s, known.unknown(project=s.project, model=s.model)) for s in statuses
              if not s.calls and not s.cost_unknown]
    began = statuses[0].data_since
    if began is not None and began.day > 1:
        notes.append(f"the store's data begins on {began}: burn rates and projections count the days from then, "
                     "and spent holds nothing from before")
    # calls only metric points record: unknown, not $0 (a month with calls in spans too: its spend a lower bound)
    rows = [{**_record(s), **dict.fromkeys(_SPEND_FIGURES)} if s.cost_unknown and not s.calls else s
            for s in statuses]
    return Result(rows, f"budgets {statuses[0].month} as of {statuses[0].as_of}", BUDGET_COLUMNS, gate=True,
                  notes=notes, exit_code=1 if analysis.any_critical(statuses)
                  else CHECK_UNKNOWN_EXIT if analysis.any_unknown(statuses) else 0)


#: A budget's figures read off its spend: unknown (None), not $0, when its calls are only in metric points.
_SPEND_FIGURES = ("spent", "remaining", "percent_used", "burn_rate_per_day", "projected_month_end", "runs_out_on")


def _no_calls(status: Any, unseen: str | None) -> str:
    """The note of a budget with no call in its month. ``unseen``: why its project or model has no call in the
    whole store ("no data for project X (the store has projects: ...)"): a budget set before the first call,
    or a misspelt name, which the store's names make plain. Either way $0 is spent, and the budget is ok."""
    from rich.markup import escape

    from otel_llm_analysis.terminal import visible

    if unseen:
        return f"{escape(visible(status.budget))}: no calls yet, so $0 is spent - {escape(visible(unseen))}"
    return (f"{escape(visible(status.budget))}: no LLM call in {status.month} through {status.as_of}, so nothing "
            "is spent (or the store lacks them)")


#: ``otel-llm check`` exit code when no limit is crossed but a check could not be told (status unknown).
CHECK_UNKNOWN_EXIT = 3
CHECK_EPILOG = ("Exit codes: 0 no limit crossed (a check without data passes); 1 a limit is crossed, "
                "so `otel-llm check --since 1h` can alert from cron or gate a CI job; 2 usage error; "
                f"{CHECK_UNKNOWN_EXIT} not checked: a check's value is unknown (--max-cost over calls none of "
                "which has a cost: no price, or no usage recorded; or, of calls only GenAI metric points record, the spend, "
                "the time to first token, a p95 latency whose limit lies in the p95 call's duration bucket, or an "
                "error rate their points carry no error.type for).")


@analysis_command(filters=("since", "until", "project"))
def check(
    store: Any,
    filters: Any,
    max_p95_ms: float = typer.Option(2000.0, "--max-p95-ms", callback=positive, help="p95 LLM-call latency (ms)."),
    max_error_rate: float = typer.Option(0.05, "--max-error-rate", callback=finite, min=0.0, max=1.0,
                                         help="Failed / all LLM calls, 0 to 1."),
    max_ttft_ms: Optional[float] = typer.Option(None, "--max-ttft-ms", callback=positive,
                                                help="p95 time to first token (ms)."),
    max_memory_mb: float = typer.Option(500.0, "--max-memory-mb", callback=positive,
                                        help="Peak process memory (MiB: 1,048,576 bytes)."),
    max_cost: Optional[float] = typer.Option(None, "--max-cost", callback=positive, help="Spend in the window (USD)."),
    min_pass_rate: Optional[float] = typer.Option(None, "--min-pass-rate", callback=finite, min=0.0, max=1.0,
                                                  help="Evaluations' pass rate floor, 0 to 1 (QA failure alert)."),
    max_cpu: Optional[float] = typer.Option(None, "--max-cpu", callback=finite, min=0.0, max=1.0,
                                            help="Peak process CPU utilization, 0 to 1 (share of all CPUs)."),
) -> Result:
    """Alert thresholds as a gate: p95 latency > 2 s, error rate > 5 %, memory > 500 MiB by default; exit 1 when crossed."""
    from otel_llm_analysis import alerts

    limits = alerts.Thresholds(max_p95_ms, max_error_rate, max_ttft_ms, max_memory_mb, max_cost, min_pass_rate,
                               peak_cpu_utilization=max_cpu)
    rows = alerts.check(store, limits, filters)
    notes = _left_out_in(store, filters) if max_cost is not None else []
    notes += [f"{row.check}: unknown, the spend cannot be checked against {row.limit:g}: the calls without a "
              "price or without usage recorded may cost anything" for row in rows
              if row.status == "unknown" and row.reason is None]  # a reason: said by no_data_notes below
    notes += alerts.no_data_notes(rows)  # a check without data says what the store holds instead
    code = 1 if alerts.any_breached(rows) else CHECK_UNKNOWN_EXIT if alerts.any_unknown(rows) else 0
    return Result(rows, "checks", ["check", "observed", "limit", "status"], gate=True, notes=notes, exit_code=code)


@analysis_command(filters=("since", "until"))
def processes(
    store: Any,
    filters: Any,
    period: PeriodChoice = typer.Option(PeriodChoice.hour, "--period", help="hour, day or week."),
    service: Optional[str] = typer.Option(None, "--service", help="Only this service's processes."),
) -> Result:
    """Each process's memory, CPU and threads per period (needs configure(process_metrics=True))."""
    from dataclasses import replace

    from otel_llm_analysis.processes import process_usage, service_names

    require_held("service", service, lambda: service_names(store), what="process metrics",
                 whose="process metrics of services")
    rows = process_usage(store, period.value, replace(filters, service=service))
    notes = [] if rows else ["no process metrics here: the app writes them with configure(process_metrics=True)"]
    return Result(rows, f"processes per {period.value}", PROCESS_COLUMNS, notes=notes)


PROCESS_COLUMNS = ["period", "service", "instance", "peak_memory_mb", "mean_memory_mb", "mean_cpu_utilization",
                   "peak_threads", "points"]


@analysis_command(filters=("since", "until", "project"))
def compare(
    store: Any,
    filters: Any,
    by: str = typer.Option("model", "--by", help="model or run_config.<key> (any --by of summary)."),
    min_calls: int = typer.Option(1, "--min-calls", min=1, max=1_000_000_000, help="Calls a group needs to be named best."),
) -> Result:
    """Calls, success rate, mean cost, p95 latency and a 0-100 score per group; the best is marked; then the turns.

    score = 50 x success rate + 25 x (1 - cost / the highest cost) + 25 x (1 - p95 / the highest p95), of the calls.

    Beneath: the turns' success (no error, no retry loop gave up), first-time-right, attempts and duration.
    """
    from otel_llm_analysis import comparisons

    check_dimension(store, by)
    rows = comparisons.compare(store, by, filters, min_calls=min_calls)
    rename = {"key": _key_header(by)}
    notes = _unpriced_groups((row.key, row.unpriced_calls, row.calls, row.unpriced_reasons) for row in rows)
    notes += _no_usage_groups((row.key, row.no_usage_calls, row.calls) for row in rows)
    notes += _partial_rows(rows)
    result = Result(rows, f"compare by {by}", COMPARE_COLUMNS, rename, notes=notes)
    if any(row.turns for row in rows):  # the turns' table beneath: success against attempts and duration
        turns = Result(rows, f"turns by {by}", COMPARE_TURN_COLUMNS, rename)

        def show(console: Any) -> None:
            _show_rows(console, result)
            _show_rows(console, turns)
        result.show = show
    return result


COMPARE_COLUMNS = ["key", "calls", "success_rate", "cost_per_call", "p95_ms", "score", "best", "tokens_per_call"]
#: Shown as a second table on a terminal (json, csv and parquet have every field in one row).
COMPARE_TURN_COLUMNS = ["key", "turns", "turn_success_rate", "first_time_right_rate", "mean_attempts",
                        "mean_turn_ms", "p95_turn_ms"]


def _key_header(by: str) -> str:
    """The key column's header: the dimension, a run_config key without its prefix (narrow terminals)."""
    return by[len("run_config."):] if by.startswith("run_config.") else by


ToolOrderChoice = choices("ToolOrderChoice", "p95", "errors", "calls", "time_share")


@analysis_command(filters=("since", "until", "project"))
def tools(
    store: Any,
    filters: Any,
    order: ToolOrderChoice = typer.Option(ToolOrderChoice.p95, "--sort",
                                          help="p95 (slowest first), errors (most failing first), calls or "
                                               "time_share (share of their turns' time)."),
) -> Result:
    """Per tool: calls, error rate, p50/p95 latency, share of the turn's time, calls per turn, who calls it."""
    from otel_llm_analysis import tool_usage

    return Result(tool_usage.tools(store, filters, order=order.value), "tools", TOOL_COLUMNS)


TOOL_COLUMNS = ["tool", "calls", "error_rate", "p50_ms", "p95_ms", "time_share", "calls_per_turn", "retries",
                "agents", "nodes", "turns"]


@analysis_command(filters=("since", "until", "project"))
def agents(store: Any, filters: Any) -> Result:
    """Per agent: invocations, success rate, model and tool calls, tokens and cost per invocation."""
    from otel_llm_analysis import agent_usage

    rows = agent_usage.agents(store, filters)
    notes = _unpriced_groups((row.agent, row.unpriced_calls, row.llm_calls, None) for row in rows)
    notes += [_unobserved(row.unobserved_calls, row.llm_calls, row.agent) for row in rows if row.unobserved_calls]
    return Result(rows, "agents", AGENT_COLUMNS, notes=notes)


AGENT_COLUMNS = ["agent", "invocations", "success_rate", "llm_calls_per_invocation", "tool_calls_per_invocation",
                 "tokens_per_invocation", "cost_per_invocation", "p95_ms", "failed", "gave_up"]


@analysis_command()
def retries(store: Any, filters: Any, by: Optional[str] = typer.Option(None, "--by", help=BY_HELP)) -> Result:
    """First-time-right and success rate of turns, attempts per retry loop, the cost and time of retries."""
    from otel_llm_analysis import retry_outcomes

    check_dimension(store, by)
    rows = retry_outcomes.retries(store, by, filters)
    columns = RETRY_COLUMNS if by else RETRY_COLUMNS[1:]
    notes = _left_out_in(store, filters) if rows else []
    notes += [f"{_label(row.key if by else 'retries')}: {row.retry_calls_without_cost} calls made in retried tries "
              "have no known cost (no price, or no usage observed), so the retry cost shown leaves them out"
              for row in rows if row.retry_calls_without_cost]
    return Result(rows, "retries" + (f" by {by}" if by else ""), columns,
                  {"key": _key_header(by or ""), "attempts": "loops by attempts"}, notes=notes)


def _label(key: Any) -> str:
    """A group's key in a note (app text: escaped, made visible; no key: ``-``)."""
    from rich.markup import escape

    from otel_llm_analysis.terminal import visible

    return escape(visible("-" if key is None else str(key)))


RETRY_COLUMNS = ["key", "turns", "success_rate", "first_time_right_rate", "mean_attempts", "mean_turn_ms",
                 "retry_time_share", "retry_cost_usd", "gave_up", "attempts", "p95_turn_ms"]


@analysis_command(filters=("since", "until", "project"))
def quality(
    store: Any,
    filters: Any,
    by: Optional[str] = typer.Option(None, "--by", help="project, model, day or run_config.<key>."),
    evaluation: Optional[str] = typer.Option(None, "--evaluation", help="Only this gen_ai.evaluation.name."),
) -> Result:
    """Evaluation outcomes: pass / warning / fail, pass rate = pass / (pass + warning + fail), not run.

    errored and other (a score without a label, a label of another word) are counted, not rated.
    """
    from otel_llm_analysis import qa

    require_held("evaluation", evaluation, lambda: qa.evaluation_names(store))
    check_dimension(store, by)
    rows = qa.quality(store, by, filters, evaluation=evaluation)
    return Result(rows, "quality" + (f" by {by}" if by else ""),
                  ["key", "passed", "warning", "failed", "pass_rate", "not_run", "errored", "other"],
                  {"key": by or "all"})


@analysis_command(filters=("since", "until"))
def logs(
    store: Any,
    filters: Any,
    search: Optional[str] = typer.Option(None, "--search", help="Case-insensitive text in the body."),
    severity: Optional[str] = typer.Option(None, "--severity", help="At or above: DEBUG, INFO, WARN, ERROR, FATAL."),
    patterns: bool = typer.Option(False, "--patterns", help="Group messages into patterns (default ERROR and above)."),
    limit: int = typer.Option(50, "--limit", min=1, max=1_000_000, help="At most this many records or patterns."),
    service: Optional[str] = typer.Option(None, "--service", help="Only this service's records (service.name)."),
    logger: Optional[str] = typer.Option(None, "--logger", help="Only this logger's records (its scope name)."),
    trace: Optional[str] = typer.Option(None, "--trace", help="Only the records of this trace id."),
    grep: Optional[str] = typer.Option(None, "--grep", help="Only bodies matching this regular expression (RE2)."),
    ignore_case: bool = typer.Option(False, "--ignore-case", "-i", help="--grep ignores case."),
) -> Result:
    """Search log records, or group error messages into patterns with counts and first/last seen."""
    from otel_llm_analysis import logs as analysis

    if ignore_case and grep is None:
        raise ValueError("--ignore-case applies to --grep: give --grep PATTERN (--search already ignores case)")
    for source, name in (("service", service), ("logger", logger)):
        require_held(source, name, lambda: analysis.source_names(store, source), what="log records",
                     whose=f"log records of {source}s")
    sources = {"service": service, "logger": logger, "trace_id": trace, "pattern": grep, "ignore_case": ignore_case}
    if patterns:
        rows = analysis.log_patterns(store, severity or "ERROR", search, filters.since, filters.until, limit, **sources)
        return Result(rows, "log patterns", ["pattern", "count", "first_seen", "last_seen", "example_trace_id"],
                      notes=[] if rows else _no_logs(store, filters))
    rows = analysis.search_logs(store, search, severity, filters.since, filters.until, limit, **sources)
    return Result(rows, "logs", ["time", "severity_text", "body", "service_name", "logger", "trace_id"],
                  notes=[] if rows else _no_logs(store, filters))


def _no_logs(store: Any, filters: Any) -> list[str]:
    """The note of a search finding nothing because its window holds no log record at all (``_catalog.no_logs``:
    where the records are, or what the store holds), so "no data" does not read as a quiet window."""
    from otel_llm_analysis._catalog import no_logs

    return as_note(no_logs(store, filters))


@analysis_command(filters=("since", "until", "project"))
def traces(
    store: Any,
    filters: Any,
    top: int = typer.Option(10, "--top", min=1, max=10_000, help="How many traces."),
    by: RankChoice = typer.Option(RankChoice.cost, "--by", help="cost or duration."),
    tree: bool = typer.Option(False, "--tree", help="Print each trace's span tree (failed spans marked ✗)."),
) -> Result:
    """The most expensive or slowest traces: root, LLM calls, tokens, cost, duration, depth, spans, errors."""
    from otel_llm_analysis import terminal
    from otel_llm_analysis import traces as analysis

    measure, other = ("cost_usd", "duration_ms") if by is RankChoice.cost else ("duration_ms", "cost_usd")
    columns = ["trace_id", measure, "root_name", "llm_calls", "priced_calls", "unpriced_calls", "tokens", other,
               "errors", "depth", "spans", "start_time"]
    rows = analysis.top_traces(store, top, by.value, filters)
    # the rows are whole traces: what their figures leave out is said of their calls, not of the filters'
    result = Result(rows, f"top {top} traces by {by.value}", columns, notes=_left_out(analysis.calls_of(rows, store)))
    if tree and rows:  # no rows: the "no data" line, not an empty table
        def show(console: Any) -> None:
            _show_rows(console, result)
            for row in rows:
                console.print(terminal.span_tree(row))
        result.show = show
    return result


@analysis_command(filters=())
def sql(store: Any, filters: Any,
        query: str = typer.Argument(..., help="SQL over spans, llm_calls, span_events, metric_points, logs, "
                                          "daily_usage, trace_summary (see README).")) -> Result:
    """Run your own read-only SQL on the store (no file or network access, no settings) and print the result."""
    from otel_llm_analysis.store import StoreError

    if not query.strip():
        raise typer.BadParameter("give a SQL statement, e.g. \"SELECT count(*) FROM spans\"", param_hint="QUERY")
    try:
        names, values = store.sql(query)
    except StoreError as exc:
        raise fail(str(exc)) from None
    statements = _statements(query)
    notes = [f"{statements} statements: only the last one's result is shown"] if statements > 1 else []
    return Result([dict(zip(names, row)) for row in values], "result", names, notes=notes)


def _statements(query: str) -> int:
    """How many statements ``query`` holds (1 when DuckDB cannot tell: another engine's SQL)."""
    import duckdb

    try:
        return len(duckdb.extract_statements(query))
    except duckdb.Error:
        return 1


ExportFormat = choices("ExportFormat", "parquet", "csv", "json")


def export(
    table: TableChoice = typer.Argument(TableChoice.spans, help="The table to export: spans."),
    out: Path = typer.Option(..., "--out", "-o", help="Directory to write, one folder per day."),
    fmt: ExportFormat = typer.Option(ExportFormat.parquet, "--format", "-f", help="parquet, csv or json files."),
    db: str = typer.Option(DEFAULT_DB, "--db", envvar=DB_ENV,
                           help=f"DuckDB file of the store, or clickhouse://… (env {DB_ENV})."),
) -> None:
    """Write a whole table as files partitioned by day (DIR/day=YYYY-MM-DD/...).

    An analysis result is written by its own command: `otel-llm summary --by model --out models.csv`.
    """
    from otel_llm_analysis import export as exporter

    def written(store: Any) -> Path:
        if not store.query("SELECT count(*) FROM spans")[0][0]:  # DuckDB's COPY would write nothing, silently
            raise fail("nothing to write: the store has no spans (run `otel-llm ingest PATH` first)")
        try:
            return exporter.export_spans(store, out, fmt.value)
        except OSError as exc:
            raise fail(f"cannot write {out}: {exc.strerror or exc}") from None

    with open_store(db) as store:
        path = interruptibly(store, lambda: written(store))
    typer.echo(f"wrote {table.value} as {fmt.value} to {path}/day=*/")


def register(app: typer.Typer) -> None:
    """Add the analysis commands (ingest, summary, trends, budget, ...) to the root ``app``."""
    app.command("ingest", epilog=INGEST_EPILOG)(ingest)
    app.command("summary")(summary)
    app.command("trends")(trends)
    app.command("budget", epilog=BUDGET_EPILOG)(budget)
    app.command("check", epilog=CHECK_EPILOG)(check)
    app.command("processes")(processes)
    app.command("compare")(compare)
    app.command("tools")(tools)
    app.command("agents")(agents)
    app.command("retries")(retries)
    app.command("quality")(quality)
    app.command("logs")(logs)
    app.command("traces")(traces)
    app.command("sql")(sql)
    app.command("export")(export)
    from otel_llm_analysis.retention_command import PRUNE_EPILOG, prune

    app.command("prune", epilog=PRUNE_EPILOG)(prune)
    from otel_llm_analysis.running_command import running

    app.command("running")(running)
    from otel_llm_analysis.queries_command import queries

    app.command("queries")(queries)
    from otel_llm_analysis.sessions_command import sessions

    app.command("sessions")(sessions)
    from otel_llm_analysis.recommend_command import recommend

    app.command("recommend")(recommend)
    from otel_llm_analysis.clickhouse.command import LOAD_EPILOG, load

    app.command("load", epilog=LOAD_EPILOG)(load)
    from otel_llm_analysis.web.cli import register as register_web  # report, serve

    register_web(app)


__all__ = ["register", "DEFAULT_DB", "DB_ENV"]
