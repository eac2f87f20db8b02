"""The days of a window's GenAI metric points, each with whether the duration histogram has points there
(``_unrecorded._TIMED_DAYS``): the look that tells ``uncounted_days`` whether any day's points count no call.

A point exported in a day's first :data:`_unrecorded.EXPORT_GRACE_S` seconds counts the day before's calls: it
makes no day of its own, and a duration point there does not make its day one whose calls the histogram counts.
The points written by :func:`write_points` sit on both sides of that edge (and exactly on it), of three GenAI
metrics, two services and two models, beside a process metric that is no GenAI one. What the statement answers,
for one filter set and for several read at once, is checked against that rule applied to the stored points in
Python; tests/clickhouse/test_differential_unrecorded.py reads the same windows on ClickHouse.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Iterator

import orjson
import pytest

from otel_llm import semconv
from otel_llm_analysis import Filters, TraceStore, _unrecorded
from otel_llm_analysis._filters import fetch_dicts
from tests.support.synthetic import key_values

T0 = datetime(2026, 11, 20)
_T0_NS = 1_795_132_800 * 10**9  # T0 in ns since the epoch (UTC)
DAY = timedelta(days=1)

#: (metric, service, model, when): each a point of its own series' next export (whole seconds: ClickHouse's
#: metric tables keep a point's time to the second)
POINTS = [
    (semconv.METRIC_OPERATION_DURATION, "svc", "m", T0 + timedelta(seconds=30)),  # day 0: within the grace only
    (semconv.METRIC_COST, "svc", "m", T0 + timedelta(hours=10)),
    (semconv.METRIC_OPERATION_DURATION, "svc", "m", T0 + DAY + timedelta(seconds=120)),  # day 1: on the edge
    (semconv.METRIC_COST, "svc", "m", T0 + DAY + timedelta(seconds=119)),
    (semconv.METRIC_COST, "svc", "m", T0 + 2 * DAY + timedelta(seconds=60)),  # day 2: within the grace: no day
    ("process.memory.usage", "svc", None, T0 + 2 * DAY + timedelta(hours=12)),  # no GenAI metric
    (semconv.METRIC_TOKEN_USAGE, "svc", "m", T0 + 3 * DAY + timedelta(hours=12)),  # day 3: its last second
    (semconv.METRIC_OPERATION_DURATION, "svc", "m", T0 + 4 * DAY - timedelta(seconds=1)),
    (semconv.METRIC_TOKEN_USAGE, "svc", "m", T0 + 4 * DAY + timedelta(seconds=120)),  # day 4: a second short
    (semconv.METRIC_OPERATION_DURATION, "svc", "m", T0 + 4 * DAY + timedelta(seconds=119)),
    (semconv.METRIC_OPERATION_DURATION, "svc", "other", T0 + 5 * DAY + timedelta(hours=6)),  # day 5: per model
    (semconv.METRIC_COST, "svc", "m", T0 + 5 * DAY + timedelta(hours=6)),
    (semconv.METRIC_TOKEN_USAGE, "api", None, T0 + 2 * DAY + timedelta(hours=12)),  # another service, no model
    (semconv.METRIC_OPERATION_DURATION, "api", None, T0 + 6 * DAY + timedelta(hours=1)),
]

#: windows of one service, read at once too (``_timed_days_sets``), and one of the other service
WINDOWS = {
    "all": Filters(),
    "from inside day 1's grace": Filters(since=T0 + DAY + timedelta(seconds=60)),
    "to day 4's edge": Filters(until=T0 + 4 * DAY + timedelta(seconds=120)),
    "days 1-3": Filters(since=T0 + DAY, until=T0 + 4 * DAY),
    "model m": Filters(model="m"),
    "model m from day 3": Filters(since=T0 + 3 * DAY, model="m"),
    "no point": Filters(since=T0 - 10 * DAY, until=T0 - 9 * DAY),
}
OTHER_SERVICE = Filters(service="api")


def _ns(moment: datetime) -> str:
    return str(_T0_NS + (moment - T0) // timedelta(microseconds=1) * 1000)


def _metric(name: str, model: str | None, when: datetime, count: int) -> dict[str, Any]:
    attributes = key_values({semconv.GEN_AI_REQUEST_MODEL: model} if model else {})
    point = {"startTimeUnixNano": _ns(T0 - DAY), "timeUnixNano": _ns(when), "attributes": attributes}
    if name in (semconv.METRIC_COST, "process.memory.usage"):
        return {"name": name, "unit": "USD" if name == semconv.METRIC_COST else "By", "sum": {
            "aggregationTemporality": 2, "isMonotonic": True, "dataPoints": [point | {"asDouble": 0.5 * count}]}}
    return {"name": name, "unit": "s", "histogram": {"aggregationTemporality": 2, "dataPoints": [
        point | {"count": str(count), "sum": 0.5 * count, "bucketCounts": [str(count), "0"],
                 "explicitBounds": [1.0]}]}}


def write_points(folder: Path) -> None:
    """:data:`POINTS` as an OTLP file exporter writes them, one export each; a series' count rises with each
    of its points."""
    counts: dict[tuple[str, str, str | None], int] = {}
    with (folder / "metrics.jsonl").open("wb") as out:
        for name, service, model, when in POINTS:
            counts[name, service, model] = count = counts.get((name, service, model), 0) + 1
            request = {"resourceMetrics": [{"resource": {"attributes": key_values({"service.name": service})},
                                            "scopeMetrics": [{"scope": {"name": "test"},
                                                              "metrics": [_metric(name, model, when, count)]}]}]}
            out.write(orjson.dumps(request) + b"\n")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TraceStore]:
    root = tmp_path_factory.mktemp("timed_days")
    write_points(root)
    with TraceStore(":memory:") as duck:
        assert duck.ingest([root]).bad_lines == []
        yield duck


def days_of(store: Any, filters: Filters) -> set[tuple[datetime, bool]]:
    """The rule, applied in Python to the stored points: each day (its midnight) holding a point of the filters'
    GenAI metrics, service, model and window past its first :data:`_unrecorded.EXPORT_GRACE_S` seconds, and whether
    one of those is the duration histogram's."""
    days: dict[datetime, bool] = {}
    grace = timedelta(seconds=_unrecorded.EXPORT_GRACE_S)
    for name, service, model, when in store.query(
            f"SELECT metric_name, service_name, attributes['{semconv.GEN_AI_REQUEST_MODEL}'], time FROM metric_points"):
        day = datetime.combine(when.date(), datetime.min.time())
        if (name in _unrecorded.LLM_METRICS and when - day >= grace
                and (filters.service is None or service == filters.service)
                and (filters.model is None or model == filters.model)
                and (filters.since is None or when >= filters.since) and (filters.until is None or when < filters.until)):
            days[day] = days.get(day, False) or name == semconv.METRIC_OPERATION_DURATION
    return set(days.items())


def timed_days(store: Any, filters: Filters) -> set[tuple[datetime, bool]]:
    """What ``_timed_days_statement`` answers for ``filters``, as :func:`days_of` gives it."""
    return {(row["day"], bool(row["timed"])) for row in fetch_dicts(store, *_unrecorded._timed_days_statement(filters))}


def test_the_points_sit_on_both_sides_of_each_days_grace(store: TraceStore) -> None:
    every = dict(days_of(store, Filters()))
    assert every == {T0: False, T0 + DAY: True, T0 + 2 * DAY: False, T0 + 3 * DAY: True, T0 + 4 * DAY: False,
                     T0 + 5 * DAY: True, T0 + 6 * DAY: True}, every  # the rule's answer, worked out by hand


@pytest.mark.parametrize("window", [*WINDOWS, "other service"])
def test_the_days_of_a_window_are_the_rules(store: TraceStore, window: str) -> None:
    filters = WINDOWS.get(window, OTHER_SERVICE)
    assert timed_days(store, filters) == days_of(store, filters)


def test_the_days_of_windows_read_at_once_are_each_windows_own(store: TraceStore) -> None:
    read = _unrecorded._timed_days_sets(store, list(WINDOWS.values()))
    assert [{(row["day"], bool(row["timed"])) for row in rows} for rows in read] == [
        days_of(store, filters) for filters in WINDOWS.values()]


@pytest.mark.parametrize("window", list(WINDOWS))
def test_days_whose_points_count_no_call_are_all_found(store: TraceStore, window: str) -> None:
    """``uncounted_days`` looks at the days of points only to skip its search when each has duration points:
    it must find every day ``metrics_only_days`` gives without the histogram's calls (no span here: each day of
    grown points is one)."""
    filters = WINDOWS[window]
    found = _unrecorded.uncounted_days(store, filters)
    assert found == {day: grown for day, grown in _unrecorded.metrics_only_days(store, filters).items()
                     if grown[1] is None}
    if window == "all":
        assert set(found) == {T0, T0 + 2 * DAY, T0 + 4 * DAY}, found
