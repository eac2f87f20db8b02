"""``otel-llm demo``: run the RAG demo app into files and summarise what it wrote.

Why the first summary is computed from the files: it shows a newcomer that the
embedded default works end to end (app -> decorators -> exporter -> jsonl) and
where the data is, before any analysis tooling is involved. The demo then
hands the files to the DuckDB analysis (``_analysis_report``, when the
``[analysis]`` extra is installed) for the summary and budget status.
"""

from __future__ import annotations

import math
import os
import shlex
import shutil
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

import otel_llm
from otel_llm import semconv
from otel_llm.demo.app import DemoSummary, run
from otel_llm.demo.report import ModelRow, model_rows, read_spans
from otel_llm_analysis._command import console_for_stdout
from otel_llm_analysis.terminal import say

SIGNALS = ("traces", "metrics", "logs")


NEXT_STEPS: tuple[tuple[str, str], ...] = (
    ("otel-llm summary --by node", "cost, tokens and latency per graph node"),
    ("otel-llm tools", "the researcher's tools: calls, timeouts, latency"),
    ("otel-llm retries --by run_config.max_retries", "success against attempts"),
    ("otel-llm traces --top 3 --tree", "the costliest turns, span by span"),
    ("otel-llm report", "the same as one HTML file to open or mail"),
    ("otel-llm serve --watch {data}", "a live dashboard while an app writes"),
    ('otel-llm sql "SELECT model, count(*) FROM llm_calls GROUP BY ALL"', "your own SQL"),
)


def demo(
    turns: Annotated[int, typer.Option(min=1, max=1_000_000, help="Chat turns to run.")] = 50,
    output_dir: Annotated[
        Path, typer.Option(help="Directory for traces.jsonl, metrics.jsonl and logs.jsonl.")
    ] = Path("./otel-data"),
    seed: Annotated[int, typer.Option(help="Seed for the plan and the fake LLM.")] = 7,
    latency_scale: Annotated[
        float, typer.Option(min=0.0, max=100.0, help="Multiplier of the simulated LLM latency (0: none).")
    ] = 1.0,
    budget: Annotated[
        float, typer.Option(min=0.0, help="Monthly budget in USD for the closing budget status.")
    ] = 0.05,
) -> DemoSummary:
    """Run a deterministic RAG chat app instrumented with otel-llm, writing OTLP-JSON files.

    Files are appended to, never truncated; the figures printed first are this
    run's, the analysis after them covers every run in the directory.
    """
    if not math.isfinite(budget) or budget <= 0:
        raise typer.BadParameter(f"{budget} is not a positive number of USD", param_hint="--budget")
    console = console_for_stdout()  # a closed pipe (| head) ends the command quietly
    shown_dir = output_dir
    output_dir = output_dir.expanduser().resolve()
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        typer.echo(f"error: cannot create {shown_dir}: {exc.strerror or exc}", err=True)
        raise typer.Exit(1) from None
    traces = output_dir / "traces.jsonl"
    offset = traces.stat().st_size if traces.exists() else 0

    started = time.perf_counter()
    otel_llm.configure(
        exporter="file", output_dir=output_dir, service_name="rag-demo", project="demo",
        process_metrics=True,
    )
    try:
        summary = run(turns, seed, latency_scale)
    finally:
        otel_llm.shutdown()
    elapsed = time.perf_counter() - started

    if traces.exists() and traces.stat().st_size < offset:
        offset = 0  # rotated during the run: the live file holds only this run
    spans = list(read_spans(traces, offset)) if traces.exists() else []
    _print_run(console, summary, spans, shown_dir, output_dir, elapsed)
    if _analysis_report(output_dir, shown_dir, console, budget):
        _print_next_steps(console, shown_dir)
    return summary


def _print_run(
    console: Console, summary: DemoSummary, spans: list[dict], shown_dir: Path, output_dir: Path, elapsed: float
) -> None:
    """This run, read back from its files: what was written where (no DuckDB needed)."""
    kinds = Counter(s["attributes"].get(semconv.OTEL_LLM_KIND, "other") for s in spans)
    say(console, [f"[bold]rag-demo[/]: {_n(summary.turns, 'turn')} in {_n(summary.threads, 'thread')}",
         f"{_n(summary.users, 'user')}", f"{elapsed:.2f} s"], ", ")
    listing = [f"{n} {k}," for k, n in sorted(kinds.items())]  # phrases a narrow terminal may break between
    if listing:
        listing[0], listing[-1] = "(" + listing[0], listing[-1][:-1] + ")"
    say(console, [f"{len(spans)} spans written", *listing], " ")
    files = [(str(shown_dir / f"{name}.jsonl"), output_dir / f"{name}.jsonl") for name in SIGNALS]
    wide = max(len(shown) for shown, _ in files)
    for shown, path in files:
        size = f"{path.stat().st_size:>11,} bytes" if path.exists() else "not written"
        console.print(f"  {shown:<{wide}}  {size}", highlight=False, soft_wrap=True)
    labels = ", ".join(f"{summary.evaluations[k]} {k}" for k in ("pass", "warning", "fail"))
    say(console, [f"{_n(summary.failed_llm_calls, 'failed LLM call')} retried",
         f"{summary.streamed_llm_calls} answers streamed", f"answers graded: {labels}",
         f"{_n(summary.log_records, 'app log record')}"], "; ")
    if summary.spans["agent"]:
        say(console, [f"researcher agent in {_n(summary.spans['agent'], 'turn')}",
             f"{_n(sum(summary.tool_calls.values()), 'tool call')}",
             f"{summary.failed_tool_calls} search timeouts retried ({summary.tool_gave_up} gave up)"], "; ")


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _cost_table(rows: list[ModelRow]) -> Table:
    """Tokens and cost per model of this run, read back from traces.jsonl (shown without the analysis extra)."""
    table = Table(title="this run by model (read back from traces.jsonl)", title_justify="left")
    for header in ("model", "calls", "errors", "input", "cached", "output", "cost USD"):
        table.add_column(header, justify="left" if header == "model" else "right")
    for r in rows:
        cost = "no price" if r.cost_usd is None else f"{r.cost_usd:.6f}"
        table.add_row(
            r.model, str(r.calls), str(r.errors), f"{r.input_tokens:,}",
            f"{r.cached_tokens:,}", f"{r.output_tokens:,}", cost,
        )
    return table


def _analysis_report(output_dir: Path, shown_dir: Path, console: Console, monthly_budget: float) -> bool:
    """The single place the demo hands over to the analysis; False when it cannot.

    Ingests ``output_dir``'s files (incrementally) into ``otel-llm.duckdb`` beside
    them - the analysis commands' default database for ``./otel-data`` - and
    prints the report. Without the ``[analysis]`` extra it shows this run's
    tokens and cost read back from the file and says how to install the rest.
    """
    try:
        from otel_llm_analysis import StoreError, StoreInUse, TraceStore
        from otel_llm_analysis.report import print_report
    except ImportError:
        console.print(_cost_table(model_rows(read_spans(output_dir / "traces.jsonl"))))
        ingest = f"otel-llm ingest {shlex.quote(str(shown_dir))}"
        console.print(f"To analyse them: pip install 'otel-llm[analysis]', then: {ingest}", markup=False,
                      highlight=False, soft_wrap=True)
        return False
    db = output_dir / "otel-llm.duckdb"
    try:
        with TraceStore(str(db)) as store:
            store.ingest([str(p) for p in (output_dir / f"{s}.jsonl" for s in SIGNALS) if p.exists()])
            console.print()
            console.rule(f"[bold]analysis[/bold] of {_short(shown_dir)}, all runs", align="left")
            print_report(store, console, monthly_budget=monthly_budget)
    except StoreInUse as exc:
        # `otel-llm serve --watch` holds its store while it runs and ingests what lands here: nothing failed.
        typer.echo(f"note: the telemetry is written; {db} is open in another process (PID {exc.pid}), so the "
                   "analysis is not shown here: a running `otel-llm serve --watch` dashboard ingests these files "
                   "itself", err=True)
        return False
    except StoreError as exc:  # a store that cannot be used at all
        typer.echo(f"error: the telemetry is written, but {db} cannot be used: {exc}", err=True)
        raise typer.Exit(1) from None
    return True


def _short(path: Path) -> str:
    """A directory as the user named it, shortened from the left to fit a heading."""
    text = str(path)
    return text if len(text) <= 40 else "…" + text[-39:]


def _activation_hint() -> str | None:
    """``source …/activate`` when the ``otel-llm`` on PATH is not this one (a venv not activated)."""
    bin_dir = Path(sys.executable).parent
    found = shutil.which("otel-llm")
    if found is not None and Path(found).resolve().parent == bin_dir.resolve():
        return None
    activate = bin_dir / "activate"
    if not activate.is_file():
        return None
    try:
        shown = os.path.relpath(activate)
    except ValueError:  # another drive
        shown = str(activate)
    return f"source {shown if len(shown) < len(str(activate)) else activate}"


def _store_hint(store: Path) -> str | None:
    """``export OTEL_LLM_DB=…`` when ``store`` is not the one the analysis commands read by default (the demo
    ran with another ``--output-dir``): without it, the commands shown would read ./otel-data's store."""
    from otel_llm_analysis._command import DB_ENV, DEFAULT_DB

    if store.resolve() == Path(DEFAULT_DB).resolve():
        return None
    return f"export {DB_ENV}={shlex.quote(str(store))}"


def _print_next_steps(console: Console, shown_dir: Path) -> None:
    """What to run next: the commands this installation has, each with what it shows."""
    from otel_llm.cli import app

    available = {c.name or c.callback.__name__ for c in app.registered_commands}  # type: ignore[union-attr]
    store = shown_dir / "otel-llm.duckdb"
    steps = [(command.format(data=shlex.quote(str(shown_dir))), what) for command, what in NEXT_STEPS
             if command.split()[1] in available]
    console.print()
    console.print("[bold]Next[/bold] (the analysis commands read " f"{store}):", highlight=False, soft_wrap=True)
    setup = [hint for hint in (_activation_hint(), _store_hint(store)) if hint]
    for hint in setup:
        console.print(f"  first, in this shell: {hint}", highlight=False, soft_wrap=True)
    wide = max(len(command) for command, _ in steps)
    for command, what in steps:
        if wide + len(what) + 6 <= console.width:
            line = f"  {command:<{wide}}  [dim]# {what}[/dim]"
        elif len(command) + len(what) + 6 <= console.width:
            line = f"  {command}  [dim]# {what}[/dim]"
        else:
            line = f"  {command}"
        console.print(line, highlight=False, soft_wrap=True)
    console.print("  Your own app: decorate it as the README's Quickstart shows; its files land", highlight=False,
                  soft_wrap=True)
    console.print(f"  in ./otel-data too, and `otel-llm ingest ./otel-data` adds its calls.", highlight=False,
                  soft_wrap=True)
