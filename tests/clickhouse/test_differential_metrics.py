"""Process metrics on DuckDB and on ClickHouse: the same points give the same analyses.

The points sit around a month's end (the last second of October, the first of November),
at sub-second times, some without a start time or a ``service.instance.id``, with every
kind the exporter stores (gauge, sum, histogram, exponential histogram, summary). The
exporter's metric tables keep ``TimeUnix`` as ``DateTime`` (whole seconds,
docs/clickhouse.md): a point's time on ClickHouse is its second, so it falls in the same
hour, day and month as on DuckDB; what the analyses report of it must be the same.
"""

from __future__ import annotations

import calendar
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator

import orjson
import pytest

from otel_llm_analysis import alerts, traces
from otel_llm_analysis._filters import Filters
from otel_llm_analysis.clickhouse.store import ClickHouseStore
from otel_llm_analysis.processes import process_usage
from otel_llm_analysis.store import TraceStore
from tests.clickhouse.test_differential import both_stores, same
from tests.support.clickhouse_http import ChdbHttpServer
from tests.support.synthetic import key_values

S, MS, MIB = 10**9, 10**6, 2**20
#: 2026-10-31 23:59:59 UTC, in ns
LAST_SECOND = calendar.timegm((2026, 10, 31, 23, 59, 59)) * S


def _times(at_ms: int, start_ms: int | None = None) -> dict[str, Any]:
    """A point's time (and start) ``at_ms`` after :data:`LAST_SECOND` began."""
    times = {"timeUnixNano": str(LAST_SECOND + at_ms * MS), "attributes": []}
    if start_ms is not None:
        times["startTimeUnixNano"] = str(LAST_SECOND + start_ms * MS)
    return times


def _point(at_ms: int, value: float, start_ms: int | None = None) -> dict[str, Any]:
    return {**_times(at_ms, start_ms), "asDouble": value}


def _resource(service: str, instance: str | None, metrics: list[dict[str, Any]]) -> dict[str, Any]:
    attributes = {"service.name": service, **({"service.instance.id": instance} if instance else {})}
    return {"resource": {"attributes": key_values(attributes)},
            "scopeMetrics": [{"scope": {"name": "opentelemetry.instrumentation.system_metrics"}, "metrics": metrics}]}


def _requests() -> dict[str, Any]:
    memory = "process.memory.usage"
    gauges = {"name": memory, "unit": "By", "gauge": {"dataPoints": [
        _point(300, 100 * MIB), _point(900, 300 * MIB), _point(1100, 50 * MIB)]}}  # no start time
    cpu = {"name": "process.cpu.utilization", "unit": "1", "gauge": {"dataPoints": [
        _point(250, 0.5, 0), _point(1250, 0.25, 1000)]}}
    deltas = {"name": memory, "unit": "By", "sum": {"aggregationTemporality": 1, "isMonotonic": False, "dataPoints": [
        _point(200, 10 * MIB, 0), _point(700, 20 * MIB, 200), _point(1500, -25 * MIB, 700)]}}
    histogram = {"name": "gen_ai.client.operation.duration", "unit": "s", "histogram": {
        "aggregationTemporality": 2, "dataPoints": [
            {**_times(400, 0), "count": "3", "sum": 1.5, "bucketCounts": ["1", "2"], "explicitBounds": [1.0]}]}}
    exponential = {"name": "http.server.duration", "unit": "ms", "exponentialHistogram": {
        "aggregationTemporality": 2, "dataPoints": [
            {**_times(600, 0), "count": "2", "sum": 3.0, "scale": 0, "zeroCount": "0",
             "positive": {"offset": 0, "bucketCounts": ["1", "1"]}}]}}
    summary = {"name": "rpc.duration", "unit": "ms", "summary": {"dataPoints": [
        {**_times(800, 0), "count": "4", "sum": 8.0,
         "quantileValues": [{"quantile": 0.5, "value": 2.0}]}]}}
    return {"resourceMetrics": [
        _resource("worker", None, [gauges, cpu, histogram, exponential, summary]),
        _resource("api", "api-1", [deltas]),
    ]}


def _spans() -> dict[str, Any]:
    """One span of the worker, in the last second of October."""
    return {"resourceSpans": [{"resource": {"attributes": key_values({"service.name": "worker"})}, "scopeSpans": [
        {"scope": {"name": "s"}, "spans": [{"traceId": "1" * 32, "spanId": "1" * 16, "name": "work", "kind": 1,
                                            "startTimeUnixNano": str(LAST_SECOND),
                                            "endTimeUnixNano": str(LAST_SECOND + S), "attributes": []}]}]}]}


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory, clickhouse_http: ChdbHttpServer
           ) -> Iterator[tuple[TraceStore, ClickHouseStore]]:
    root = tmp_path_factory.mktemp("differential_metrics")
    (root / "metrics.jsonl").write_bytes(orjson.dumps(_requests()) + b"\n")
    (root / "spans.jsonl").write_bytes(orjson.dumps(_spans()) + b"\n")
    yield from both_stores(root, f"clickhouse://default@127.0.0.1:{clickhouse_http.port}/otel_metrics")


WINDOWS = {"all": Filters(), "october": Filters.of("2026-10-01", "2026-11-01"),
           "november": Filters.of("2026-11-01", "2026-12-01"), "api": Filters(service="api")}


@pytest.mark.parametrize("period", ["hour", "day", "week"])
@pytest.mark.parametrize("window", list(WINDOWS))
def test_process_usage_is_the_same_on_both_engines(stores: tuple[TraceStore, ClickHouseStore], period: str,
                                                    window: str) -> None:
    duck, ch = (process_usage(store, period, WINDOWS[window]) for store in stores)
    if window != "api":
        assert duck, "the window holds points"
    same(duck, ch)


def test_a_process_without_an_instance_id_is_none_on_both_engines(stores: tuple[TraceStore, ClickHouseStore]) -> None:
    for store in stores:
        instances = {row.service: row.instance for row in process_usage(store, "day")}
        assert instances == {"worker": None, "api": "api-1"}, type(store).__name__


@pytest.mark.parametrize("window", list(WINDOWS))
def test_peak_memory_is_the_same_on_both_engines(stores: tuple[TraceStore, ClickHouseStore], window: str) -> None:
    duck, ch = (alerts._peak_memory_mb(store, WINDOWS[window]) for store in stores)
    assert duck is not None
    assert duck == ch


def test_every_kind_of_point_and_its_start_read_the_same_on_both_engines(
        stores: tuple[TraceStore, ClickHouseStore]) -> None:
    sql = ("SELECT metric_type, metric_name, count(*) AS points, count(start_time) AS started, "
           "min(date_trunc('day', time)) AS first_day, max(date_trunc('day', time)) AS last_day "
           "FROM metric_points GROUP BY metric_type, metric_name ORDER BY metric_type, metric_name")
    duck, ch = (store.query(sql) for store in stores)
    assert {row[0] for row in duck} == {"gauge", "sum", "histogram", "exponential_histogram", "summary"}
    memory = {row[0]: row[2:] for row in duck if row[1] == "process.memory.usage"}
    assert memory == {"gauge": (3, 0, datetime(2026, 10, 31), datetime(2026, 11, 1)),  # the gauges have no start
                      "sum": (3, 3, datetime(2026, 10, 31), datetime(2026, 11, 1))}
    same(duck, ch)


def test_a_database_without_log_or_metric_tables_opens_and_has_none(tmp_path: Path, clickhouse_http: ChdbHttpServer,
                                                                     database: str) -> None:
    """A collector whose pipelines send ClickHouse only traces creates only the trace tables: the analyses
    run there, with no logs and no metric points (as a DuckDB store of those spans), where the store
    could not open (its views read otel_logs)."""
    from otel_llm.collector import exporter_sql_dir
    from otel_llm_analysis import logs
    from otel_llm_analysis.clickhouse import ExporterSchema

    for statement in ExporterSchema(database=database).statements(exporter_sql_dir()):
        if "otel_logs" not in statement and "otel_metrics" not in statement:
            clickhouse_http.query(statement)
    (tmp_path / "spans.jsonl").write_bytes(orjson.dumps(_spans()) + b"\n")
    clickhouse_http.query(  # the span of _spans() as the exporter stores it
        f"INSERT INTO `{database}`.otel_traces (Timestamp, TraceId, SpanId, SpanName, SpanKind, ServiceName, "
        f"Duration, StatusCode) VALUES (fromUnixTimestamp64Nano({LAST_SECOND}), '{'1' * 32}', '{'1' * 16}', 'work', "
        f"'Internal', 'worker', {S}, 'Unset')")
    url = f"clickhouse://default@127.0.0.1:{clickhouse_http.port}/{database}"
    with TraceStore(":memory:") as duck:
        duck.ingest([tmp_path])
        with ClickHouseStore(url) as ch:
            for store in (duck, ch):
                assert process_usage(store, "day") == [] and alerts._peak_memory_mb(store, Filters()) is None
                assert logs.search_logs(store, None, None, None, None, 10) == []
                assert store.query("SELECT count(*) FROM metric_points") == [(0,)]
            same(traces.top_traces(duck, 5, "duration"), traces.top_traces(ch, 5, "duration"))


def test_every_kind_of_point_has_the_same_bucket_columns_on_both_engines(
        stores: tuple[TraceStore, ClickHouseStore]) -> None:
    """A gauge, sum, exponential histogram or summary point has no explicit buckets: ClickHouse's ``metric_points``
    gives it empty ``bucket_counts`` and ``explicit_bounds`` (its arrays cannot be NULL) where DuckDB's store held
    NULL, so the same SQL (``WHERE bucket_counts IS NULL``, ``count(bucket_counts)``) answered differently.
    Both give empty lists now; a histogram's are its own."""
    sql = ("SELECT metric_type, metric_name, bucket_counts, explicit_bounds, bucket_counts IS NULL AS no_buckets "
           "FROM metric_points ORDER BY metric_type, metric_name, bucket_counts, explicit_bounds")
    duck, ch = (store.query(sql) for store in stores)
    assert [row[1:4] for row in duck if row[0] == "histogram"] == [("gen_ai.client.operation.duration", [1, 2], [1.0])]
    assert {row[0] for row in duck} == {"gauge", "sum", "histogram", "exponential_histogram", "summary"}
    same(duck, ch)
