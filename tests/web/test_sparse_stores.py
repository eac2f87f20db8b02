"""Stores that hold some signals only (logs, metric points, no LLM calls): the pages still offer their dates."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from otel_llm_analysis import Filters, TraceStore, log_patterns
from otel_llm_analysis.web.choices import choices
from otel_llm_analysis.web.live import LiveStore
from tests.support.synthetic import generate
from tests.web._pages import choose, table_rows, wait_render
from tests.web.conftest import Watched, serving


def test_a_logs_only_store_offers_date_presets_on_the_dashboard(tmp_path: Path, watched: Watched) -> None:
    """A store of logs alone (the app's logs shipped, its traces not) offered one date choice, "whole report":
    the presets were worked out from the LLM calls' days only. They come from the days of whatever the store
    holds, and a preset narrows the log patterns to its days as ``log_patterns(since, until)`` does."""
    generate(tmp_path / "data", seed=3, traces=150, days=20, end=datetime(2026, 11, 20), error_rate=0.3)
    with TraceStore(tmp_path / "logs.duckdb") as store:
        store.ingest(tmp_path / "data" / "logs.jsonl")
        assert store.query("SELECT count(*) FROM spans")[0][0] == 0
        offered = {r.key: r for r in choices(store, Filters()).ranges}
        assert {"", "24h", "7d"} <= set(offered), sorted(offered)
        week = offered["7d"]
        assert week.until == datetime(2026, 11, 20) or week.until == datetime(2026, 11, 21), week
        expected = {r.pattern: r.count for r in log_patterns(store, "ERROR", None, week.since, week.until, 20)}
        everything = {r.pattern: r.count for r in log_patterns(store, "ERROR", None, None, None, 20)}
        assert expected and expected != everything  # the preset narrows them
        live = LiveStore(store)
        with serving(live) as url:
            page = watched.page
            page.goto(url + "/")
            wait_render(page, 0)
            labels = page.eval_on_selector_all("#f-range option", "os => os.map(o => o.value)")
            assert "7d" in labels, labels
            choose(page, "#f-range", "7d")
            shown = {k: v["count"] for k, v in table_rows(page, "logs").items()}
            assert shown == expected
            watched.assert_clean(url + "/")
