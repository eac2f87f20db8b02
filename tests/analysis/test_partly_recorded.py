"""A window with days of LLM calls in spans and days whose calls only GenAI metric points record (spans
sampled out or not shipped): its latency and error rate are the spans' calls' only, and the summary and
trends say so, naming the days and the calls left out, as a budget says its spend is a lower bound."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest
import typer
from typer.testing import CliRunner

from otel_llm_analysis import Filters, TraceStore, series, totals
from otel_llm_analysis.cli import register
from tests.support.synthetic import generate

DAYS = ["2026-11-20", "2026-11-21"]
WINDOW = ("--since", "2026-11-16", "--until", "2026-11-23")


@pytest.fixture(scope="module")
def partly(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, int]:
    """Spans and metric points of 2026-11-17..19, then only the metric points of 2026-11-20..21 (the same ISO
    week), and how many LLM calls those metric points count (their spans, ingested apart)."""
    root = tmp_path_factory.mktemp("partly")
    generate(root / "both", seed=3, traces=30, days=3, end=datetime(2026, 11, 20))
    generate(root / "later", seed=9, traces=20, days=2, end=datetime(2026, 11, 22))
    with TraceStore(str(root / "later.duckdb")) as store:
        store.ingest(root / "later" / "traces.jsonl")
        (later,) = store.query("SELECT count(*) FROM llm_calls")[0]
    db = str(root / "partly.duckdb")
    with TraceStore(db) as store:
        store.ingest(root / "both")
        store.ingest(root / "later" / "metrics.jsonl")
    return db, later


def run(*args: str):
    app = typer.Typer()
    register(app)
    return CliRunner().invoke(app, list(args))


def test_totals_say_which_days_and_how_many_calls_only_metric_points_record(partly: tuple[str, int]) -> None:
    """``totals`` over 16-22 Nov gave the p95 and error rate of the spans' calls (17-19 Nov) as the window's,
    with nothing saying 20-21 Nov's calls were left out; now ``only_in_metrics`` names the days and counts
    those calls, and a window of span days alone has none."""
    db, later = partly
    with TraceStore(db, read_only=True) as store:
        total = totals(store, Filters(since=datetime(2026, 11, 16), until=datetime(2026, 11, 23)))
        assert total.llm_calls > 0 and total.p95_ms is not None
        partial = total.only_in_metrics
        assert partial is not None and partial.days == (date(2026, 11, 20), date(2026, 11, 21)), partial
        assert partial.calls == later, (partial, later)
        spans_only = Filters(since=datetime(2026, 11, 16), until=datetime(2026, 11, 20))
        assert totals(store, spans_only).only_in_metrics is None


def test_summary_marks_its_latency_and_error_rate_partial_in_json_and_table(partly: tuple[str, int]) -> None:
    db, later = partly
    shown = run("summary", *WINDOW, "--format", "json", "--db", db)
    assert shown.exit_code == 0, shown.output
    document = json.loads(shown.stdout)
    (record,) = document["rows"]
    assert record["only_in_metrics"]["days"] == DAYS and record["only_in_metrics"]["calls"] == later, record
    note = next(n for n in document["notes"] if n.startswith("partial: "))
    assert f"{later:,} LLM calls on 2 day(s) (2026-11-20, 2026-11-21)" in note, note
    assert "p95" in note and "error rate" in note and "lower bound" in note, note
    table = " ".join(run("summary", *WINDOW, "--db", db).stdout.split())
    assert "partial: " in table and "2026-11-20, 2026-11-21" in table, table
    grouped = json.loads(run("summary", "--by", "model", *WINDOW, "--format", "json", "--db", db).stdout)
    assert any(n.startswith("partial: ") for n in grouped["notes"]), grouped["notes"]


def test_a_week_holding_days_only_metric_points_record_is_marked_partial(partly: tuple[str, int]) -> None:
    """Per week, 16-22 Nov held the spans' calls of 17-19 Nov and read as the whole week's (calls, cost, error
    rate, p95); its point now says which of its days only metric points record, and the CLI notes it."""
    db, later = partly
    with TraceStore(db, read_only=True) as store:
        (week,) = series(store, "week", Filters(since=datetime(2026, 11, 16), until=datetime(2026, 11, 23)), True)
        assert week.calls > 0 and week.only_in_metrics is not None, week
        assert week.only_in_metrics.days == (date(2026, 11, 20), date(2026, 11, 21)), week.only_in_metrics
        daily = series(store, "day", Filters(since=datetime(2026, 11, 16), until=datetime(2026, 11, 23)), True)
        assert all(p.only_in_metrics is None for p in daily), daily  # a day is in spans or it is not
    shown = run("trends", "--period", "week", *WINDOW, "--format", "json", "--db", db)
    document = json.loads(shown.stdout)
    assert document["series"][0]["only_in_metrics"]["days"] == DAYS, document["series"]
    assert any(n.startswith("2026-11-16: partial: ") for n in document["notes"]), document["notes"]


def test_the_terminal_report_says_its_latency_and_failures_are_the_spans_calls_only(partly: tuple[str, int]) -> None:
    """``print_report`` (the end of ``otel-llm demo``) gave "N LLM calls", the failure rate and the p95 of the
    spans' calls as the store's, though 20-21 Nov's calls are only in metric points."""
    from rich.console import Console

    from otel_llm_analysis.report import print_report

    db, later = partly
    with TraceStore(db, read_only=True) as store:
        console = Console(width=200, record=True, file=open("/dev/null", "w"))
        print_report(store, console)
    said = " ".join(console.export_text().split())
    assert f"partial: {later:,} LLM calls on 2 day(s) (2026-11-20, 2026-11-21)" in said, said
    assert said.index("partial: ") < said.index("latency p50") + 200, said  # beside the figures it qualifies


def test_check_of_a_partly_recorded_window_bounds_p95_and_error_rate_by_the_calls_left_out(
        partly: tuple[str, int]) -> None:
    """``check`` judged the p95 latency and error rate of 16-22 Nov on the spans' calls (17-19 Nov) alone and
    passed (exit 0) whatever 20-21 Nov's calls, only in metric points, did. Those N calls could be the fastest or
    the slowest, all failed or none: the p95 lies between the spans' calls at ranks ceil(0.95 (n + N)) - N and
    ceil(0.95 (n + N)), the error rate between f / (n + N) and (f + N) / (n + N). Breached when the low bound
    crosses the limit, ok when the high one stays within it, else unknown (exit 3); the reason says so."""
    import math

    db, later = partly
    with TraceStore(db, read_only=True) as store:
        spans = totals(store, Filters(since=datetime(2026, 11, 16), until=datetime(2026, 11, 20)))
        durations = sorted(d for (d,) in store.query(
            "SELECT duration_ms FROM llm_calls WHERE start_time < '2026-11-20'"))
    n, failed = len(durations), round(spans.error_rate * spans.llm_calls)
    rank = math.ceil(0.95 * (n + later))
    low_p95 = durations[rank - later - 1] if rank - later >= 1 else 0.0
    low_rate, high_rate = failed / (n + later), (failed + later) / (n + later)

    def checked(p95: float, rate: float):
        result = run("check", *WINDOW, "--max-p95-ms", str(p95), "--max-error-rate", str(rate), "--format", "json",
                     "--db", db)
        return result.exit_code, {row["check"]: row for row in json.loads(result.stdout)["rows"]}

    code, rows = checked(low_p95 * 0.99, low_rate * 0.9)
    assert code == 1 and rows["p95_latency_ms"]["status"] == "breached", rows
    assert rows["error_rate"]["status"] == "breached" and low_rate > 0, rows
    code, rows = checked(1e9, min(1.0, high_rate))
    assert rows["error_rate"]["status"] == "ok", rows
    assert rows["p95_latency_ms"]["status"] == ("unknown" if rank > n else "ok"), rows  # the slowest: any time
    code, rows = checked(1e9, (low_rate + high_rate) / 2)
    assert code == 3 and rows["error_rate"]["status"] == "unknown", rows
    said = rows["error_rate"]["reason"]
    assert said.startswith(f"partial: {later:,} LLM calls on 2 day(s) (2026-11-20, 2026-11-21)"), said
    assert f"between {low_rate:.1%} and {high_rate:.1%}" in said, said


def test_the_terminal_reports_budget_month_is_the_datas_last_month_metric_points_included(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    """Spans in October, then only metric points in November: the report's budget was October's (the newest
    span's month), saying nothing of November's calls; it is November's, whose spend is a lower bound."""
    import io

    from rich.console import Console

    from otel_llm_analysis.report import print_report

    root = tmp_path_factory.mktemp("report_month")
    generate(root / "october", seed=3, traces=10, days=2, end=datetime(2026, 10, 20))
    generate(root / "november", seed=9, traces=10, days=2, end=datetime(2026, 11, 6))
    with TraceStore(str(root / "store.duckdb")) as store:
        store.ingest(root / "october")
        store.ingest(root / "november" / "metrics.jsonl")
        out = io.StringIO()
        print_report(store, Console(file=out, width=200), monthly_budget=50.0)
    text = " ".join(out.getvalue().split())
    assert "for 2026-11" in text and "for 2026-10" not in text, text
