"""A histogram, exponential histogram or summary point without a ``sum`` has none on both engines, not 0.

OTLP makes a histogram's sum optional (an instrument that records negative values leaves it out); DuckDB's ingest
stores such a point's ``sum`` as NULL, while ``otel-llm load`` wrote 0.0 into the exporter's ``Sum Float64``, so
``count(sum)``, ``avg(sum)`` or ``sum IS NULL`` answered differently on the two engines and the point seemed to
hold values adding up to 0. The tables ``otel-llm load`` creates hold NULL there now
(``ExporterSchema.nullable_sums``); a table the exporter created keeps its ``Float64``, into which the load writes
0.0 as the exporter itself does (its driver writes ``Sum()``, 0 when absent).
"""

from __future__ import annotations

from pathlib import Path

import orjson

from otel_llm.collector import exporter_sql_dir
from otel_llm_analysis.clickhouse import ExporterSchema, load
from otel_llm_analysis.clickhouse.store import ClickHouseStore
from otel_llm_analysis.store import TraceStore
from tests.clickhouse.test_differential import same
from tests.support.clickhouse_http import ChdbHttpServer
from tests.support.synthetic import key_values

T0 = 1_790_000_000_000_000_000
S = 10**9


def _point(second: int, count: int, total: float | None, **more: object) -> dict:
    point = {"timeUnixNano": str(T0 + second * S), "startTimeUnixNano": str(T0), "count": str(count), **more}
    return point if total is None else {**point, "sum": total}


def _metrics_file(path: Path) -> Path:
    """Per kind, a point without a sum, one whose sum is 0 and one whose sum is 2.5 (counts 1, 2, 3)."""
    sums = (None, 0.0, 2.5)
    histogram = {"name": "h", "histogram": {"aggregationTemporality": 2, "dataPoints": [
        _point(i, i + 1, total, bucketCounts=["0", str(i + 1)], explicitBounds=[1.0]) for i, total in enumerate(sums)]}}
    exponential = {"name": "e", "exponentialHistogram": {"aggregationTemporality": 2, "dataPoints": [
        _point(i, i + 1, total, scale=0, zeroCount=str(i + 1)) for i, total in enumerate(sums)]}}
    summary = {"name": "s", "summary": {"dataPoints": [
        _point(i, i + 1, total, quantileValues=[{"quantile": 0.5, "value": 1.0}]) for i, total in enumerate(sums)]}}
    request = {"resourceMetrics": [{"resource": {"attributes": key_values({"service.name": "svc"})},
                                    "scopeMetrics": [{"scope": {"name": "s"},
                                                      "metrics": [histogram, exponential, summary]}]}]}
    path.write_bytes(orjson.dumps(request) + b"\n")
    return path


SQL = "SELECT metric_type, count, sum, sum IS NULL AS absent FROM metric_points ORDER BY metric_type, count"


def test_a_point_without_a_sum_has_none_on_both_engines(tmp_path: Path, clickhouse_http: ChdbHttpServer,
                                                         clickhouse_url: str) -> None:
    path = _metrics_file(tmp_path / "metrics.jsonl")
    with TraceStore(":memory:") as duck:
        ingested = duck.ingest(path)
        loaded = load(path, clickhouse_url)
        assert (ingested.bad_lines, loaded.bad_lines) == ([], [])
        assert ingested.metric_points_added == loaded.metric_points_added == 9
        expected = [(kind, count, total, total is None) for kind in ("exponential_histogram", "histogram", "summary")
                    for count, total in ((1, None), (2, 0.0), (3, 2.5))]
        assert duck.query(SQL) == expected
        with ClickHouseStore(clickhouse_url) as ch:
            same(duck.query(SQL), ch.query(SQL))
            aggregate = "SELECT metric_type, count(sum), avg(sum) FROM metric_points GROUP BY ALL ORDER BY ALL"
            same(duck.query(aggregate), ch.query(aggregate))


def test_into_the_exporters_own_tables_an_absent_sum_loads_as_the_exporter_writes_it(
        tmp_path: Path, clickhouse_http: ChdbHttpServer, clickhouse_url: str, database: str) -> None:
    """Tables the collector's exporter created keep ``Sum Float64`` (no NULL): the load writes 0.0 there, as the
    exporter writes a point it receives without a sum; the rest of the point loads as in a table of the load's."""
    for statement in ExporterSchema(database=database).statements(exporter_sql_dir()):
        clickhouse_http.query(statement)
    path = _metrics_file(tmp_path / "metrics.jsonl")
    assert load(path, clickhouse_url).metric_points_added == 9
    with ClickHouseStore(clickhouse_url) as ch:
        assert [row[:3] for row in ch.query(SQL)] == [
            (kind, count, total) for kind in ("exponential_histogram", "histogram", "summary")
            for count, total in ((1, 0.0), (2, 0.0), (3, 2.5))]


def test_a_point_the_exporter_delivered_is_not_loaded_again_from_its_file(
        tmp_path: Path, clickhouse_http: ChdbHttpServer, clickhouse_url: str, database: str) -> None:
    """The exporter writes a point without a sum as 0 into the load's tables too; loading the collector's file
    of the same points (no sum) adds none of them: an absent sum compares as the exporter's 0."""
    delivered = f"{database}_delivered"
    for statement in ExporterSchema(database=delivered, subsecond_metrics=True).statements(exporter_sql_dir()):
        clickhouse_http.query(statement)
    path = _metrics_file(tmp_path / "metrics.jsonl")
    url = clickhouse_url.rsplit("/", 1)[0]
    assert load(path, f"{url}/{delivered}").metric_points_added == 9  # as the exporter writes them: 0 for none
    for statement in ExporterSchema(database=database, subsecond_metrics=True, nullable_sums=True).statements(
            exporter_sql_dir()):
        clickhouse_http.query(statement)
    for table in ("otel_metrics_histogram", "otel_metrics_exponential_histogram", "otel_metrics_summary"):
        clickhouse_http.query(f"INSERT INTO `{database}`.{table} SELECT * FROM `{delivered}`.{table}")
    again = load(path, clickhouse_url)
    assert (again.metric_points_added, again.duplicates_skipped) == (0, 9)
