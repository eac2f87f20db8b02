"""Periods whose calls only GenAI metric points record are marked the same way on both engines.

A store with spans and metric points for some days and only the metric points of later days: trends
gives those later days an unknown cost (``unrecorded_points``) on DuckDB and on ClickHouse alike.
"""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path
from typing import Iterator

import pytest

from otel_llm_analysis import trends
from otel_llm_analysis._filters import Filters
from otel_llm_analysis.clickhouse.store import ClickHouseStore
from otel_llm_analysis.store import TraceStore
from tests.clickhouse.test_differential import both_stores, same
from tests.support.clickhouse_http import ChdbHttpServer
from tests.support.synthetic import generate


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory, clickhouse_http: ChdbHttpServer
           ) -> Iterator[tuple[TraceStore, ClickHouseStore]]:
    root = tmp_path_factory.mktemp("unrecorded")
    generate(root / "both", seed=3, traces=30, days=3, end=datetime(2026, 11, 20))
    generate(root / "later", seed=9, traces=20, days=2, end=datetime(2026, 11, 25))
    (root / "metrics-only").mkdir()
    shutil.copy(root / "later" / "metrics.jsonl", root / "metrics-only" / "metrics.jsonl")
    yield from both_stores(root / "both", f"clickhouse://default@127.0.0.1:{clickhouse_http.port}/otel_unrecorded",
                           root / "metrics-only")


@pytest.mark.parametrize("period", ["hour", "day", "week"])
def test_trends_mark_the_same_periods_unknown_on_both_engines(stores: tuple[TraceStore, ClickHouseStore],
                                                              period: str) -> None:
    duck, ch = stores
    window = Filters(since=datetime(2026, 11, 17), until=datetime(2026, 11, 26))
    expected = trends.series(duck, period, window)  # type: ignore[arg-type]
    assert any(p.unrecorded_points for p in expected)
    same(expected, trends.series(ch, period, window))  # type: ignore[arg-type]
