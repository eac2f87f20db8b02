"""What ``_unrecorded.duration_histogram`` counts on the edges of a cumulative histogram's life.

Each cumulative point counts its rise since the point before it in its series (that point may lie before the
window), bucket by bucket; a point lower than the one before in any bucket is a restarted series and counts all it
holds; a new ``start_time`` is a new series; a delta point counts what it holds, even when the one before held the
same; a point that did not grow counts nothing. The window's grown points are added up bucket by bucket, and when
they do not share one set of bounds, or one unit, nothing is: None. The windows below state the result the data
written by :func:`write_points` gives, worked out by hand; tests/clickhouse/test_differential_unrecorded.py reads
the same windows on ClickHouse.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from otel_llm import semconv
from otel_llm_analysis import Filters, TraceStore
from otel_llm_analysis._unrecorded import DurationHistogram, duration_histogram
from tests.support.synthetic import key_values

T0 = datetime(2026, 11, 20)
_T0_NS = 1_795_132_800 * 10**9  # T0 in ns since the epoch (UTC)
BOUNDS = [0.1, 1.0]  # seconds: buckets <= 0.1 s, <= 1 s, above


def _at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def _ns(minutes: float) -> str:
    return str(_T0_NS + round(minutes * 60 * 10**9))


def _point(minutes: float, buckets: list[int], *, start: float = -1.0, bounds: list[float] = BOUNDS,
           model: str, error: str | None = None) -> dict[str, Any]:
    attributes = {semconv.GEN_AI_REQUEST_MODEL: model, **({semconv.ERROR_TYPE: error} if error else {})}
    point = {"startTimeUnixNano": _ns(start), "timeUnixNano": _ns(minutes), "count": str(sum(buckets)),
             "sum": 0.5 * sum(buckets), "attributes": key_values(attributes)}
    if buckets:
        point |= {"bucketCounts": [str(b) for b in buckets], "explicitBounds": bounds}
    return point


def _histogram(points: list[dict[str, Any]], *, delta: bool = False, unit: str = "s") -> dict[str, Any]:
    return {"name": semconv.METRIC_OPERATION_DURATION, "unit": unit,
            "histogram": {"aggregationTemporality": 1 if delta else 2, "dataPoints": points}}


def _request(service: str, metrics: list[dict[str, Any]]) -> dict[str, Any]:
    return {"resourceMetrics": [{"resource": {"attributes": key_values({"service.name": service})},
                                 "scopeMetrics": [{"scope": {"name": "test"}, "metrics": metrics}]}]}


def write_points(folder: Path) -> None:
    """The duration histogram's points of every case, one export per series, as an OTLP file exporter writes
    them (times in minutes after :data:`T0`)."""
    svc = [
        _histogram([  # "a": cumulative, from before the window, with repeats and two restarts
            _point(1.0, [1, 0, 0], model="a"), _point(1.8, [1, 0, 0], model="a"),  # before the window
            _point(3.0, [2, 1, 0], model="a"),  # rise 1, 1, 0 since 00:01:48
            _point(4.0, [2, 1, 0], model="a"),  # the same again: no rise
            _point(5.0, [1, 0, 0], model="a"),  # lower: a restart, counts 1, 0, 0
            _point(6.0, [3, 0, 1], model="a"),  # rise 2, 0, 1
            _point(7.0, [2, 5, 1], model="a"),  # a total that rose, one bucket lower: a restart, counts 2, 5, 1
            _point(10.0, [2, 6, 1], model="a")]),  # after the window
        _histogram([  # "b": cumulative, every call failed
            _point(1.5, [0, 1, 0], model="b", error="TimeoutError"),
            _point(3.5, [0, 2, 1], model="b", error="TimeoutError"),  # rise 0, 1, 1
            _point(6.5, [0, 2, 1], model="b", error="TimeoutError")]),
        _histogram([  # "c": delta, each point its own interval: counted as sent, twice the same included
            _point(2.7, [1, 1, 0], start=1.7, model="c"), _point(3.7, [1, 1, 0], start=2.7, model="c"),
            _point(4.7, [0, 0, 0], start=3.7, model="c")], delta=True),
        _histogram([  # "h": delta points sharing one start (one series): each counted as sent all the same
            _point(2.5, [1, 0, 0], model="h"), _point(3.5, [1, 0, 0], model="h"), _point(4.5, [2, 0, 0], model="h")],
            delta=True),
        _histogram([  # "d": a process restarted at 00:05 with a new start: a new series, whose first point counts all
            _point(2.8, [5, 0, 0], model="d"), _point(5.8, [6, 0, 0], start=5.0, model="d")]),
        _histogram([_point(3.2, [], model="g")]),  # a count without buckets: no bucket to add
    ]
    not_a_histogram = {"name": semconv.METRIC_OPERATION_DURATION, "unit": "s", "sum": {
        "aggregationTemporality": 2, "isMonotonic": True, "dataPoints": [
            {"startTimeUnixNano": _ns(-1), "timeUnixNano": _ns(3.3), "asDouble": 9.0}]}}
    changed = [
        _histogram([  # "e": the bounds change within the series, its buckets as many: the rise is taken across
            _point(1.3, [1, 1, 1], model="e"), _point(8.3, [2, 1, 1], bounds=[0.2, 2.0], model="e")]),
        _histogram([  # "f": a bucket more within the series: counted anew
            _point(1.2, [1, 1], bounds=[0.1], model="f"), _point(3.2, [1, 1, 1], model="f")]),
    ]
    in_ms = [_histogram([_point(20.0, [1, 2, 0], model="m")], unit="ms")]  # the same bounds, in ms
    lines = [_request("svc", [*svc, not_a_histogram]),
             _request("svc", [_histogram([_point(25.0, [1, 0, 0], model="s")])]),
             _request("svc-changed", changed), _request("svc-ms", in_ms),
             _request("svc-short", [_histogram([_point(40.0, [1, 1, 1], model="x")]),  # a bucket short of its bounds:
                                    _histogram([_point(41.0, [1, 1], model="y", error="E")])])]  # added up to it
    (folder / "metrics.jsonl").write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))


#: What ingest says of the point a bucket short (svc-short's "y")
SHORT = "kept as sent, but bucketCounts has 2 entries for 2 explicitBounds (OTLP: one more than the bounds)"

#: The window of most cases, from 00:02 to 00:09
WINDOW = {"since": _at(2), "until": _at(9)}

#: name -> (filters, what the points count there)
CASES: dict[str, tuple[Filters, DurationHistogram | None]] = {
    # a: 1,1,0 + 1,0,0 + 2,0,1 + 2,5,1; b: 0,1,1 (failed); c: 1,1,0 twice; d: 5,0,0 + 6,0,0; h: 1,0,0 twice + 2,0,0
    "resets, repeats, delta and a new start": (Filters(service="svc", **WINDOW), DurationHistogram(
        points=12, calls=35, failed=2, bounds_ms=(100.0, 1000.0), counts=(23, 9, 3))),
    # a: 1,0,0 + 2,0,1 + 2,5,1; d: 6,0,0 (b's repeat at 00:06:30 rose by nothing)
    "a later stretch": (Filters(service="svc", since=_at(5), until=_at(7.5)), DurationHistogram(
        points=4, calls=18, failed=None, bounds_ms=(100.0, 1000.0), counts=(11, 5, 2))),
    "the rise across a change of bounds": (Filters(model="e", since=_at(2)), DurationHistogram(
        points=1, calls=1, failed=None, bounds_ms=(200.0, 2000.0), counts=(1, 0, 0))),
    "a bucket more": (Filters(model="f", since=_at(2)), DurationHistogram(
        points=1, calls=3, failed=None, bounds_ms=(100.0, 1000.0), counts=(1, 1, 1))),
    "bounds that differ: not added up": (Filters(**WINDOW), None),
    "milliseconds": (Filters(service="svc-ms"), DurationHistogram(
        points=1, calls=3, failed=None, bounds_ms=(0.1, 1.0), counts=(1, 2, 0))),
    "units that differ: not added up": (Filters(since=_at(15), until=_at(30)), None),
    # x: 1,1,(1); y: 1,1, all its calls failed: the buckets both have are added, the failed calls all counted
    "a point a bucket short": (Filters(service="svc-short"), DurationHistogram(
        points=2, calls=4, failed=2, bounds_ms=(100.0, 1000.0), counts=(2, 2))),
    "nothing grew": (Filters(service="svc", since=_at(8), until=_at(9.5)), None),
    "no point": (Filters(since=_at(60)), None),
}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder = tmp_path_factory.mktemp("duration_histogram")
    write_points(folder)
    with TraceStore(str(folder / "s.duckdb")) as written:
        report = written.ingest([folder])
        assert report.metric_points_added == 29, report
        assert [line.reason for line in report.bad_lines] == [SHORT], report.bad_lines
    with TraceStore(str(folder / "s.duckdb"), read_only=True) as opened:
        yield opened


@pytest.mark.parametrize("case", list(CASES))
def test_the_duration_histogram_counts_each_points_rise(store: Any, case: str) -> None:
    filters, expected = CASES[case]
    assert duration_histogram(store, filters) == expected
