"""`otel-llm processes` on ClickHouse gives DuckDB's rows for the same process metrics."""

from __future__ import annotations

from pathlib import Path

from otel_llm_analysis._filters import Filters
from otel_llm_analysis.clickhouse import load
from otel_llm_analysis.clickhouse.store import ClickHouseStore
from otel_llm_analysis.processes import process_usage
from otel_llm_analysis.store import TraceStore
from tests.clickhouse.test_differential import same
from tests.support.process_app import run_processes


def test_process_usage_is_the_same_on_both_engines(tmp_path: Path, clickhouse_url: str):
    out = tmp_path / "otel-data"
    run_processes(out, {"scraper": 4, "processor": 2})
    with TraceStore(":memory:") as duck:
        duck.ingest([out])
        load([out], clickhouse_url)
        with ClickHouseStore(clickhouse_url) as ch:
            for period in ("hour", "day"):
                for filters in (Filters(), Filters(service="processor"), Filters.of("2000-01-01", "2000-01-02")):
                    rows = process_usage(duck, period, filters)
                    same(rows, process_usage(ch, period, filters))
            assert {row.service for row in process_usage(duck)} == {"scraper", "processor"}
            assert all(row.points > 1 for row in process_usage(ch))
