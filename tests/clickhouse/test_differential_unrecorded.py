"""Periods whose calls only GenAI metric points record are marked the same way on both engines.

A store with spans and metric points for some days and only the metric points of later days: trends
gives those later days an unknown cost (``unrecorded_points``) on DuckDB and on ClickHouse alike; check
reads the p95 latency and the error rate of a window of those days from the duration histogram
(``_unrecorded.duration_histogram``), and the histogram's points count the same on the edges of a cumulative
series' life (restarts, a new start, delta points, bounds that change; tests/analysis/test_duration_histogram.py);
a budget or a cost check over days of both kinds is a lower bound
(``_unrecorded.unrecorded_spend``, ``trends.spend_lower_bound``); the days of points, and whether the duration
histogram has points there, are told the same on either side of each day's grace (tests/analysis/test_timed_days.py).
"""

from __future__ import annotations

import shutil
from datetime import date, datetime
from pathlib import Path
from typing import Iterator

import pytest

from otel_llm_analysis import _unrecorded, alerts, budgets, trends
from otel_llm_analysis._filters import Filters
from otel_llm_analysis._unrecorded import duration_histogram
from otel_llm_analysis.clickhouse.store import ClickHouseStore
from otel_llm_analysis.store import TraceStore
from tests.analysis import test_timed_days
from tests.analysis.test_duration_histogram import CASES, write_points
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


#: Days whose spans hold no LLM call, only the metric points of the calls made there
METRICS_ONLY = Filters(since=datetime(2026, 11, 21), until=datetime(2026, 11, 26))


def test_check_reads_the_duration_histogram_the_same_on_both_engines(stores: tuple[TraceStore, ClickHouseStore]
                                                                      ) -> None:
    duck, ch = stores
    thresholds = alerts.Thresholds(p95_latency_ms=100, error_rate=0.01, peak_memory_mb=None)
    expected = alerts.check(duck, thresholds, METRICS_ONLY)
    assert [(row.check, "histogram point" in (row.reason or "")) for row in expected] == [
        ("p95_latency_ms", True), ("error_rate", True)], expected
    same(expected, alerts.check(ch, thresholds, METRICS_ONLY))


def test_a_spend_over_days_only_metric_points_record_is_a_lower_bound_on_both_engines(
        stores: tuple[TraceStore, ClickHouseStore]) -> None:
    duck, ch = stores
    plan = budgets.parse_budgets({"budgets": [{"name": "all", "monthly": 0.001}, {"name": "big", "monthly": 10**6}]})
    expected = budgets.budget_status(duck, plan, month="2026-11", as_of=date(2026, 11, 25))
    assert all(b.unrecorded_days and b.spent > 0 for b in expected), expected
    same(expected, budgets.budget_status(ch, plan, month="2026-11", as_of=date(2026, 11, 25)))
    window = Filters(since=datetime(2026, 11, 17), until=datetime(2026, 11, 26))
    thresholds = alerts.Thresholds(p95_latency_ms=None, error_rate=None, peak_memory_mb=None, cost_usd=0.001)
    check = alerts.check(duck, thresholds, window)
    assert [(row.status, "lower bound" in (row.reason or "")) for row in check] == [("breached", True)], check
    same(check, alerts.check(ch, thresholds, window))


@pytest.fixture(scope="module")
def edges(tmp_path_factory: pytest.TempPathFactory, clickhouse_http: ChdbHttpServer
          ) -> Iterator[tuple[TraceStore, ClickHouseStore]]:
    """The duration histogram's points of tests/analysis/test_duration_histogram.py on both engines (one of them a
    bucket short of its bounds, which ingest names)."""
    root = tmp_path_factory.mktemp("histogram_edges")
    write_points(root)
    yield from both_stores(root, f"clickhouse://default@127.0.0.1:{clickhouse_http.port}/otel_histogram_edges",
                           bad_lines_allowed=True)


@pytest.mark.parametrize("case", list(CASES))
def test_the_duration_histogram_counts_each_points_rise_on_both_engines(
        edges: tuple[TraceStore, ClickHouseStore], case: str) -> None:
    duck, ch = edges
    filters, expected = CASES[case]
    assert duration_histogram(duck, filters) == expected
    same(expected, duration_histogram(ch, filters))


@pytest.fixture(scope="module")
def graced(tmp_path_factory: pytest.TempPathFactory, clickhouse_http: ChdbHttpServer
           ) -> Iterator[tuple[TraceStore, ClickHouseStore]]:
    """The GenAI metric points of tests/analysis/test_timed_days.py, on either side of each day's grace, on both
    engines."""
    root = tmp_path_factory.mktemp("timed_days")
    test_timed_days.write_points(root)
    yield from both_stores(root, f"clickhouse://default@127.0.0.1:{clickhouse_http.port}/otel_timed_days")


@pytest.mark.parametrize("window", [*test_timed_days.WINDOWS, "other service"])
def test_the_days_of_points_and_of_the_duration_histogram_are_the_same_on_both_engines(
        graced: tuple[TraceStore, ClickHouseStore], window: str) -> None:
    duck, ch = graced
    filters = test_timed_days.WINDOWS.get(window, test_timed_days.OTHER_SERVICE)
    expected = test_timed_days.timed_days(duck, filters)
    assert expected == test_timed_days.days_of(duck, filters)
    assert test_timed_days.timed_days(ch, filters) == expected
    same(_unrecorded.uncounted_days(duck, filters), _unrecorded.uncounted_days(ch, filters))
