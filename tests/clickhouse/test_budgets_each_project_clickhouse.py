"""A default budget for every project finds the same projects and spend on ClickHouse as on DuckDB."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from otel_llm_analysis.budgets import Budget, budget_status
from otel_llm_analysis.clickhouse import load
from otel_llm_analysis.clickhouse.store import ClickHouseStore
from otel_llm_analysis.store import TraceStore
from tests.clickhouse.test_differential import same
from tests.support.synthetic import generate


def test_each_project_budgets_are_the_same_on_both_engines(tmp_path: Path, clickhouse_url: str):
    generate(tmp_path / "d", traces=60, days=20, end=datetime(2026, 11, 20), seed=8)
    plan = [Budget(100, each_project=True), Budget(1, project="search")]
    with TraceStore(":memory:") as duck:
        duck.ingest([tmp_path / "d"])
        load([tmp_path / "d"], clickhouse_url)
        with ClickHouseStore(clickhouse_url) as ch:
            rows = budget_status(duck, plan, "2026-11", date(2026, 11, 15))
            assert {r.project for r in rows} == {"search", "support", "summaries"}
            same(rows, budget_status(ch, plan, "2026-11", date(2026, 11, 15)))
