"""``otel-llm demo``: run the RAG demo app into files and summarise what it wrote.

Why the first summary is computed from the files: it shows a newcomer that the
embedded default works end to end (app -> decorators -> exporter -> jsonl) and
where the data is, before any analysis tooling is involved. The demo then
hands the files to the DuckDB analysis (``_analysis_report``, when the
``[analysis]`` extra is installed) for the summary and budget status.
"""

from __future__ import annotations

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

SIGNALS = ("traces", "metrics", "logs")


def demo(
    turns: Annotated[int, typer.Option(min=1, help="Chat turns to run.")] = 50,
    output_dir: Annotated[
        Path, typer.Option(help="Directory for traces.jsonl, metrics.jsonl and logs.jsonl.")
    ] = Path("./otel-data"),
    seed: Annotated[int, typer.Option(help="Seed for the plan and the fake LLM.")] = 7,
    latency_scale: Annotated[
        float, typer.Option(min=0.0, help="Multiplier of the simulated LLM latency (0: none).")
    ] = 1.0,
    budget: Annotated[
        float, typer.Option(min=0.0, help="Monthly budget in USD for the closing budget status.")
    ] = 0.05,
) -> DemoSummary:
    """Run a deterministic RAG chat app instrumented with otel-llm, writing OTLP-JSON files.

    Files are appended to, never truncated; the figures printed are this run's.
    """
    console = Console()
    output_dir = output_dir.expanduser().resolve()
    output_dir.mkdir(parents=True, exist_ok=True)
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
    _print_report(console, summary, spans, output_dir, elapsed)
    _analysis_report(output_dir, console, budget)
    return summary


def _print_report(
    console: Console, summary: DemoSummary, spans: list[dict], output_dir: Path, elapsed: float
) -> None:
    kinds = Counter(s["attributes"].get(semconv.OTEL_LLM_KIND, "other") for s in spans)
    console.print(
        f"[bold]rag-demo[/]: {_n(summary.turns, 'turn')} in {_n(summary.threads, 'thread')} "
        f"by {_n(summary.users, 'user')}, {elapsed:.2f} s"
    )
    for name in SIGNALS:
        path = output_dir / f"{name}.jsonl"
        size = f"{path.stat().st_size:,} bytes" if path.exists() else "not written"
        console.print(f"  {path}  ({size})")
    console.print(
        f"{len(spans)} spans written: "
        + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
        + f"; {summary.failed_llm_calls} failed LLM call(s) retried, "
        f"{summary.streamed_llm_calls} streamed"
    )
    labels = ", ".join(f"{summary.evaluations[k]} {k}" for k in ("pass", "warning", "fail"))
    console.print(f"answer_relevance evaluations: {labels}; {summary.log_records} app log records")
    console.print(_cost_table(model_rows(spans)))


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _cost_table(rows: list[ModelRow]) -> Table:
    table = Table(title="Tokens and cost by model (read back from traces.jsonl)")
    for header in ("model", "calls", "errors", "input", "cached", "output", "cost USD"):
        table.add_column(header, justify="left" if header == "model" else "right")
    for r in rows:
        cost = "—  (no price)" if r.cost_usd is None else f"{r.cost_usd:.6f}"
        table.add_row(
            r.model, str(r.calls), str(r.errors), f"{r.input_tokens:,}",
            f"{r.cached_tokens:,}", f"{r.output_tokens:,}", cost,
        )
    total = sum(r.cost_usd or 0.0 for r in rows)
    table.add_section()
    table.add_row(
        "total", str(sum(r.calls for r in rows)), str(sum(r.errors for r in rows)),
        f"{sum(r.input_tokens for r in rows):,}", f"{sum(r.cached_tokens for r in rows):,}",
        f"{sum(r.output_tokens for r in rows):,}", f"{total:.6f}",
    )
    return table


def _analysis_report(output_dir: Path, console: Console, monthly_budget: float) -> None:
    """ANALYSIS HOOK (issue 4) — the single place the demo hands over to the analysis.

    Ingests ``output_dir``'s files (incrementally) into ``otel-llm.duckdb`` beside
    them — the analysis CLI's default database for ``./otel-data`` — and prints
    the summary and budget status. Without the ``[analysis]`` extra (or before
    the store exists) it only says how to analyse the files.
    """
    try:
        from otel_llm_analysis import StoreError, TraceStore
        from otel_llm_analysis.report import print_report
    except ImportError:
        console.print(f"Analyse them with: otel-llm ingest {output_dir}/*.jsonl  (needs otel-llm\\[analysis])")
        return
    db = output_dir / "otel-llm.duckdb"
    try:
        with TraceStore(str(db)) as store:
            store.ingest([str(p) for p in (output_dir / f"{s}.jsonl" for s in SIGNALS) if p.exists()])
            console.rule(f"analysis of {output_dir} (all runs so far, {db.name})")
            print_report(store, console, monthly_budget=monthly_budget)
    except StoreError as exc:  # e.g. the database is open in another process
        typer.echo(f"error: the telemetry is written, but {db} cannot be used: {exc}", err=True)
        raise typer.Exit(1) from None
