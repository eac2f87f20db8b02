"""Histogram points whose buckets contradict themselves are kept as sent and named, with file, line and where.

OTLP: an explicit-bucket histogram has one bucket more than its bounds, and its
count is the sum of its buckets. A point breaking either would give any
percentile or share read from its buckets silently wrong.
"""

from __future__ import annotations

from pathlib import Path

import orjson

from otel_llm_analysis.store import TraceStore

_T = 1_763_600_000_000_000_000


def _request(points: list[dict]) -> dict:
    return {"resourceMetrics": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "svc"}}]},
                                 "scopeMetrics": [{"scope": {"name": "s"}, "metrics": [
                                     {"name": "gen_ai.client.operation.duration", "unit": "s",
                                      "histogram": {"aggregationTemporality": 2, "dataPoints": points}}]}]}]}


def _point(offset: int, count: int, buckets: list[int], bounds: list[float]) -> dict:
    return {"timeUnixNano": str(_T + offset), "count": str(count), "sum": 1.5,
            "bucketCounts": [str(b) for b in buckets], "explicitBounds": bounds}


def test_a_histogram_point_with_buckets_that_do_not_add_up_is_kept_and_named(tmp_path: Path):
    path = tmp_path / "metrics.jsonl"
    lines = [
        _request([_point(0, 3, [1, 1, 1], [0.1, 0.5])]),  # sound
        _request([_point(1, 2, [1, 1], [0.1, 0.5, 1.0])]),  # a bucket short of its bounds
        _request([_point(2, 5, [1, 1, 1], [0.1, 0.5])]),  # count is not the buckets' sum
        _request([{"timeUnixNano": str(_T + 3), "count": "4", "sum": 2.0}]),  # no buckets at all: fine
    ]
    path.write_bytes(b"\n".join(orjson.dumps(line) for line in lines) + b"\n")
    with TraceStore(str(tmp_path / "s.duckdb")) as store:
        report = store.ingest([str(path)])
        assert store.query("SELECT count(*) FROM metric_points")[0][0] == 4  # every point kept
    problems = sorted((p.line, p.where, p.reason) for p in report.bad_lines)
    where = "$.resourceMetrics[0].scopeMetrics[0].metrics[0].histogram.dataPoints[0]"
    assert problems == [
        (2, where, "kept as sent, but bucketCounts has 2 entries for 3 explicitBounds (OTLP: one more than the bounds)"),
        (3, where, "kept as sent, but count 5 is not the sum of bucketCounts (3)"),
    ]


def test_a_metric_without_data_is_named(tmp_path: Path):
    """A metric with no gauge, sum, histogram, exponential histogram or summary loads nothing: said, not skipped."""
    path = tmp_path / "metrics.jsonl"
    request = _request([_point(0, 3, [1, 1, 1], [0.1, 0.5])])
    request["resourceMetrics"][0]["scopeMetrics"][0]["metrics"].append({"name": "queue.depth", "unit": "1"})
    path.write_bytes(orjson.dumps(request) + b"\n")
    with TraceStore(str(tmp_path / "s.duckdb")) as store:
        report = store.ingest([str(path)])
        assert store.query("SELECT count(*) FROM metric_points")[0][0] == 1
    assert [(p.line, p.where, p.reason) for p in report.bad_lines] == [
        (1, "$.resourceMetrics[0].scopeMetrics[0].metrics[1]",
         "not loaded: metric `queue.depth` has no data (gauge, sum, histogram, exponentialHistogram or summary)")]


def test_an_exponential_histogram_point_whose_count_is_not_its_buckets_is_kept_and_named(tmp_path: Path):
    """OTLP: an exponential histogram's count is its zero count plus every positive and negative bucket."""
    def point(offset: int, count: int, zero: int, positive: list[int], negative: list[int] | None = None) -> dict:
        p = {"timeUnixNano": str(_T + offset), "count": str(count), "sum": 3.0, "scale": 2, "zeroCount": str(zero),
             "positive": {"offset": -3, "bucketCounts": [str(b) for b in positive]}}
        if negative is not None:
            p["negative"] = {"offset": 0, "bucketCounts": [str(b) for b in negative]}
        return p

    def request(p: dict) -> dict:
        return {"resourceMetrics": [{"resource": {}, "scopeMetrics": [{"metrics": [
            {"name": "d", "exponentialHistogram": {"aggregationTemporality": 2, "dataPoints": [p]}}]}]}]}

    path = tmp_path / "metrics.jsonl"
    lines = [request(point(0, 6, 1, [2, 3])), request(point(1, 10, 1, [2, 3])),
             request(point(2, 8, 0, [2, 3], [3])), request(point(3, 7, 0, [2, 3], [3]))]
    path.write_bytes(b"\n".join(orjson.dumps(line) for line in lines) + b"\n")
    with TraceStore(str(tmp_path / "s.duckdb")) as store:
        report = store.ingest([str(path)])
        assert store.query("SELECT count(*) FROM metric_points")[0][0] == 4  # every point kept
    where = "$.resourceMetrics[0].scopeMetrics[0].metrics[0].exponentialHistogram.dataPoints[0]"
    assert sorted((p.line, p.where, p.reason) for p in report.bad_lines) == [
        (2, where, "kept as sent, but count 10 is not zeroCount + the positive and negative bucketCounts (6)"),
        (4, where, "kept as sent, but count 7 is not zeroCount + the positive and negative bucketCounts (8)"),
    ]


def test_points_without_explicit_buckets_have_empty_ones_also_in_a_store_made_before(tmp_path: Path):
    """A gauge has no explicit buckets: stored as empty lists, as ClickHouse's ``metric_points`` gives them (its
    arrays cannot be NULL; tests/clickhouse/test_differential_metrics.py), and the NULLs an older version stored
    are filled so when the store is opened. The points' keys are unchanged: the same file read again adds none."""
    path = tmp_path / "metrics.jsonl"
    gauge = {"resourceMetrics": [{"resource": {}, "scopeMetrics": [{"scope": {"name": "s"}, "metrics": [
        {"name": "process.memory.usage", "gauge": {"dataPoints": [{"timeUnixNano": str(_T), "asInt": "7"}]}}]}]}]}
    path.write_bytes(orjson.dumps(_request([_point(0, 3, [1, 2], [0.5])])) + b"\n" + orjson.dumps(gauge) + b"\n")
    db = str(tmp_path / "s.duckdb")
    sql = "SELECT metric_type, bucket_counts, explicit_bounds FROM metric_points ORDER BY metric_type"
    with TraceStore(db) as store:
        assert store.ingest(path).metric_points_added == 2
        assert store.query(sql) == [("gauge", [], []), ("histogram", [1, 2], [0.5])]
        store.query("UPDATE metric_points SET bucket_counts = NULL, explicit_bounds = NULL "  # as before
                    "WHERE metric_type = 'gauge'")
    with TraceStore(db) as store:
        assert store.query(sql) == [("gauge", [], []), ("histogram", [1, 2], [0.5])]
        copy = tmp_path / "copy" / "metrics.jsonl"
        copy.parent.mkdir()
        copy.write_bytes(path.read_bytes())
        again = store.ingest(copy)
        assert (again.metric_points_added, again.duplicates_skipped) == (0, 2)
