"""Days whose LLM calls only GenAI metric points record (spans sampled out or not shipped) are data the
dashboard's window covers: its budget and forecast read them as the CLI's do, never as days that did not happen."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest
import typer
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from otel_llm_analysis import Budget, Filters, TraceStore, totals
from otel_llm_analysis.cli import register
from otel_llm_analysis.web.choices import choices
from otel_llm_analysis.web.live import LiveStore
from otel_llm_analysis.web.server import create_app
from otel_llm_analysis.web.views import Query
from tests.support.synthetic import generate
from tests.web._pages import wait_render
from tests.web.conftest import Watched, serving

DAYS = ["2026-11-23", "2026-11-24"]


@pytest.fixture(scope="module")
def partly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Spans and metric points of 2026-11-18..20, then only the metric points of 2026-11-23..24."""
    root = tmp_path_factory.mktemp("partly")
    generate(root / "both", seed=3, traces=30, days=3, end=datetime(2026, 11, 20))
    generate(root / "later", seed=9, traces=20, days=2, end=datetime(2026, 11, 25))
    db = root / "partly.duckdb"
    with TraceStore(db) as store:
        store.ingest(root / "both")
        store.ingest(root / "later" / "metrics.jsonl")
    return db


def _cli(*args: str) -> dict:
    app = typer.Typer()
    register(app)
    result = CliRunner().invoke(app, [*args, "--format", "json"])
    assert result.exit_code in (0, 3), result.output
    return json.loads(result.stdout)


def test_the_dashboards_default_window_reaches_metrics_only_days_and_its_budget_agrees_with_the_cli(
        partly: Path) -> None:
    """The dashboard's window ended with the last span's day (2026-11-20): its budget was judged as of then,
    "ok" on the spans' spend, and its forecast projected that spend, while ``otel-llm budget`` for November
    saw the calls of 23-24 Nov in the metric points and said the spend is a lower bound (unknown). The window
    now ends with the last day the store knows of calls on, and both pages agree with the CLI."""
    told = _cli("budget", "--monthly", "1000", "--month", "2026-11", "--db", str(partly))["rows"][0]
    forecast_told = _cli("trends", "--until", "2026-11-25", "--db", str(partly))["forecast"]
    assert told["unrecorded_days"] == DAYS and told["status"] == "unknown", told  # the CLI's view, as pinned
    with TraceStore(partly, read_only=True) as store:
        app = TestClient(create_app(LiveStore(store), Query(budgets=(Budget(1000.0),))))
        summary = app.get("/api/summary").json()
        assert summary["window"][1].startswith("2026-11-25"), summary["window"]
        (row,) = app.get("/api/budgets").json()["rows"]
        for name in ("status", "spent", "percent_used", "cost_unknown", "unrecorded_days", "projected_month_end",
                     "burn_rate_per_day", "calls"):
            assert row[name] == told[name], (name, row[name], told[name])
        forecast = app.get("/api/trends").json()["forecast"]
        assert forecast["as_of"] == forecast_told["as_of"] == "2026-11-24", (forecast, forecast_told)
        for name in ("spent", "cost_unknown", "projected_month_end", "calls"):
            assert forecast[name] == forecast_told[name], (name, forecast[name], forecast_told[name])
        ranges = {r.key: r for r in choices(store, Filters()).ranges}
        assert ranges["24h"].label == "last day of the data: 2026-11-24", ranges["24h"]
        assert ranges["24h"].until == datetime(2026, 11, 25), ranges["24h"]


def test_the_key_figures_say_their_latency_and_error_rate_leave_out_the_metrics_only_days(
        partly: Path, watched: Watched) -> None:
    """Over 17-24 Nov the cards showed the p95 latency, error rate, calls and cost of the spans' calls (17-19
    Nov) as the window's, with nothing saying the calls of 23-24 Nov were left out. ``/api/summary`` now gives
    ``only_in_metrics`` (the days, the calls the duration histogram counts) and those cards say "partial"."""
    with TraceStore(partly, read_only=True) as store:
        expected = totals(store, Filters(since=datetime(2026, 11, 17), until=datetime(2026, 11, 25))).only_in_metrics
        assert expected is not None and expected.calls
        live = LiveStore(store)
        body = TestClient(create_app(live, Query())).get("/api/summary").json()
        assert body["only_in_metrics"] == {"days": DAYS, "points": expected.points, "calls": expected.calls,
                                           "between": [[first.isoformat(), last.isoformat()]
                                                       for first, last in expected.between],
                                           "shared": False, "said": expected.said()}, body
        with serving(live) as url:
            page = watched.page
            page.goto(url + "/")
            wait_render(page, 0)
            for key in ("p95_ms", "error_rate", "llm_calls", "cost_usd", "ttft_p95_ms"):
                said = page.locator(f"[data-kpi='{key}']").inner_text()
                assert "partial: the spans' calls only" in said, (key, said)
            said = " ".join(page.locator("#view-summary").inner_text().split())
            assert f"partial: {expected.calls:,} LLM calls on 2 day(s) (2026-11-23, 2026-11-24)" in said, said
            said = page.locator("[data-kpi='spans']").inner_text()
            assert "partial" not in said, said  # the spans are what they are: no call figure
            said = " ".join(page.locator("#view-trends").inner_text().split())
            assert "2 day(s) whose spans hold no LLM call have GenAI metric points counting calls " \
                   "(2026-11-23, 2026-11-24)" in said, said  # their $0 in the charts is no spend
            # each model's row is its spans' calls' only: marked, and a note names it
            models = {row["key"]: row["only_in_metrics"] for row in
                      TestClient(create_app(live, Query())).get("/api/models").json()["rows"]}
            marked = [key for key, partial in models.items() if partial]
            assert marked, models
            assert page.locator("#view-models td:first-child .partial").count() == len(marked)
            said = " ".join(page.locator("#view-models").inner_text().split())
            assert all(f"{key}: partial: " in said for key in marked), said
            watched.screenshot("metrics-only-days-partial-cards")
            watched.assert_clean(url + "/")


def test_days_only_metric_points_record_before_the_first_span_open_the_window(tmp_path: Path) -> None:
    """Metric points alone on 10-11 Nov, then spans and points on 17-19 Nov: the window and the presets start
    with 10 Nov: its calls are data, not days before the data."""
    generate(tmp_path / "early", seed=9, traces=20, days=2, end=datetime(2026, 11, 12))
    generate(tmp_path / "both", seed=3, traces=30, days=3, end=datetime(2026, 11, 20))
    with TraceStore(tmp_path / "s.duckdb") as store:
        store.ingest(tmp_path / "early" / "metrics.jsonl")
        store.ingest(tmp_path / "both")
        assert store.query("SELECT min(start_time) FROM spans")[0][0] >= datetime(2026, 11, 17)
        summary = TestClient(create_app(LiveStore(store), Query())).get("/api/summary").json()
        assert summary["window"] == ["2026-11-10T00:00:00", "2026-11-20T00:00:00"], summary["window"]
        ranges = {r.key: r for r in choices(store, Filters()).ranges}
        assert set(ranges) == {"", "24h", "7d"}, sorted(ranges)  # 10 days of data: no 30-day preset
        assert ranges["7d"].label == "last 7 days of the data: 2026-11-13 – 2026-11-19", ranges["7d"]
