"""Figures the store cannot give are said unknown or counted, never shown as $0 or cut off in silence."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from fastapi.testclient import TestClient

from otel_llm_analysis import TraceStore, search_logs
from otel_llm_analysis.web.live import LiveStore
from otel_llm_analysis.web.server import create_app
from otel_llm_analysis.web.views import Query
from tests.support.synthetic import generate
from tests.web._pages import wait_render
from tests.web.conftest import Watched, cli, serving


def _cards(body: dict) -> dict:
    return {card["key"]: card["value"] for card in body["cards"]}


def test_a_metrics_only_store_says_its_cost_is_unknown_not_zero(tmp_path: Path, watched: Watched) -> None:
    """An app exporting its gen_ai metric points and no spans (spans sampled out, another SDK's traces not
    shipped) made LLM calls that cost money: the spans hold none, so the cost card read "$0", as if free.
    The summary says the cost and tokens are unknown there and why, and the card shows "unknown"."""
    generate(tmp_path / "data", seed=3, traces=30, days=3, end=datetime(2026, 11, 20))
    with TraceStore(tmp_path / "metrics.duckdb") as store:
        store.ingest(tmp_path / "data" / "metrics.jsonl")
        assert store.query("SELECT count(*) FROM spans")[0][0] == 0
        assert store.query("SELECT count(*) FROM metric_points WHERE metric_name = 'otel_llm.cost'")[0][0] > 0
        live = LiveStore(store)
        body = TestClient(create_app(live, Query())).get("/api/summary").json()
        cards = _cards(body)
        assert cards["cost_usd"] is None and cards["cost_per_call"] is None and cards["total_tokens"] is None, cards
        assert "not recorded in spans" in body["cost_unknown"], body
        with serving(live) as url:
            page = watched.page
            page.goto(url + "/")
            wait_render(page, 0)
            card = page.locator("[data-kpi='cost_usd']")
            assert card.locator(".value").inner_text() == "unknown"
            assert "not recorded in spans" in card.inner_text()
            assert "$0" not in card.inner_text()
            watched.assert_clean(url + "/")


def test_a_store_without_llm_metrics_or_calls_still_costs_zero(tmp_path: Path) -> None:
    """Logs alone (no LLM call anywhere): nothing was spent that the store knows of, and $0 stays $0."""
    generate(tmp_path / "data", seed=3, traces=30, days=3, end=datetime(2026, 11, 20))
    with TraceStore(tmp_path / "logs.duckdb") as store:
        store.ingest(tmp_path / "data" / "logs.jsonl")
        body = TestClient(create_app(LiveStore(store), Query())).get("/api/summary").json()
        assert _cards(body)["cost_usd"] == 0 and body["cost_unknown"] is None, body


def test_report_logs_count_the_error_records_and_patterns_it_does_not_list(tmp_path: Path, watched: Watched) -> None:
    """The report listed the newest 20 ERROR records and the 20 commonest patterns of the window and said
    nothing of the others: a window of 100 errors read as 20. The page now says "newest 20 of N" and how many
    records and patterns it leaves out."""
    generate(tmp_path / "data", seed=5, traces=300, days=3, end=datetime(2026, 11, 20), error_rate=0.4)
    db = tmp_path / "store.duckdb"
    with TraceStore(db) as store:
        store.ingest(tmp_path / "data")
        errors = len(search_logs(store, None, "ERROR", limit=100_000))
        patterns = store.query(
            "SELECT count(DISTINCT body) FROM logs WHERE severity_text IN ('ERROR', 'FATAL')")[0][0]
        assert errors > 20, errors
        body = TestClient(create_app(LiveStore(store), Query())).get("/api/logs").json()
        assert body["records_total"] == errors and len(body["records"]) == 20
        assert body["patterns_total"] >= len(body["rows"]) and sum(r["count"] for r in body["rows"]) <= errors
        assert patterns >= body["patterns_total"]
    out = tmp_path / "report.html"
    cli("report", "--db", str(db), "-o", str(out))
    page = watched.page
    page.goto(out.as_uri())
    wait_render(page, 0)
    said = page.locator("#view-log-records").inner_text()
    assert f"Newest 20 of {errors:,} ERROR+ log records" in said, said
    assert f"{errors - 20:,} older" in said, said
    watched.assert_clean(out.as_uri())
