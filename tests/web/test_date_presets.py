"""The date presets of a report or dashboard over a window longer than its data name days that hold data."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from fastapi.testclient import TestClient

from otel_llm_analysis import Filters, TraceStore, totals
from otel_llm_analysis.web.live import LiveStore
from otel_llm_analysis.web.server import create_app
from otel_llm_analysis.web.views import Query
from tests.support.synthetic import generate


def test_presets_of_a_window_past_the_data_end_with_the_datas_last_day(tmp_path: Path) -> None:
    """``--since 2026-11-01 --until 2026-12-01`` over data ending on 2026-11-19 offered "last day of the
    data: 2026-11-30" and "last 7 days of the data: 2026-11-24 – 2026-11-30": days without any data,
    so the preset showed nothing. The presets end with the data's last day, and hold its calls."""
    generate(tmp_path / "data", seed=3, traces=60, days=10, end=datetime(2026, 11, 20))
    with TraceStore(tmp_path / "store.duckdb") as store:
        store.ingest(tmp_path / "data")
        base = Filters(since=datetime(2026, 11, 1), until=datetime(2026, 12, 1))
        offered = TestClient(create_app(LiveStore(store), Query(filters=base))).get("/api/choices").json()
        ranges = {r["key"]: r for r in offered["ranges"]}
        assert ranges[""]["since"].startswith("2026-11-01") and ranges[""]["until"].startswith("2026-12-01")
        day, week = ranges["24h"], ranges["7d"]
        assert day["label"] == "last day of the data: 2026-11-19", day
        assert week["label"] == "last 7 days of the data: 2026-11-13 – 2026-11-19", week
        last_day = Filters(since=datetime(2026, 11, 19), until=datetime(2026, 11, 20))
        assert totals(store, last_day).llm_calls > 0
