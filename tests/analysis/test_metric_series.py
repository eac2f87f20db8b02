"""A metric point's series is stored at ingest (``metric_points.series_id``: the hash of its metric, resource,
attributes and start), and the analyses measure each cumulative point's rise within it.

What they find must be what telling the series by their columns finds (as ClickHouse does), on every store: one
this version made, one an older version made (no such column: computed in the queries when opened read-only,
added and filled when opened for writing), one an older version wrote points into since (the column left NULL),
and one whose stored hash another DuckDB version computed (here: a hash that merges every series into one),
which must not be read as it is.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pytest

from otel_llm import semconv
from otel_llm_analysis import Filters, TraceStore, _coverage, _unrecorded, totals
from otel_llm_analysis._filters import connection
from tests.analysis._exports import calls_of, write_exports, write_spans
from tests.support.synthetic import generate

DAY = datetime(2026, 11, 20)
WINDOWS = {"all": Filters(), "afternoon": Filters(since=DAY + timedelta(hours=12, minutes=7), until=DAY + timedelta(
    hours=20, seconds=13))}
#: windows of one model each (the model filter narrows the series whose points name it)
MODELS = [Filters(model="gpt-4o"), Filters(since=DAY + timedelta(hours=13), model="claude-sonnet-4-5")]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A day of calls exported every minute by each service's process, the spans of two hours' traces lost: calls
    only the metric points hold. One model's series of one service (its most used in the hours lost) name no
    model (:func:`_unnamed`)."""
    root = tmp_path_factory.mktemp("metric_series")
    generated = generate(root / "day", seed=7, traces=400, days=1, end=DAY + timedelta(days=1))
    write_exports(calls_of(generated.spans), root / "metrics.jsonl", seed=7)
    began = {s.trace_id: s.start_time for s in generated.spans if s.parent_span_id is None}
    lost = (DAY + timedelta(hours=14), DAY + timedelta(hours=16))
    _unnamed(root / "metrics.jsonl", *Counter((c.service_name, c.model) for c in calls_of(generated.spans)
                                              if c.model and lost[0] <= began[c.trace_id] < lost[1]).most_common(1)[0][0])
    write_spans([s for s in generated.spans if not lost[0] <= began[s.trace_id] < lost[1]], root / "spans.jsonl")
    return root


def _unnamed(path: Path, service: str, model: str) -> None:
    """Leave ``gen_ai.request.model`` out of ``service``'s points of ``model`` in the OTLP JSON lines at ``path``
    (as a producer that does not say it): series whose points name no model."""
    lines = []
    for line in path.read_bytes().splitlines():
        request = orjson.loads(line)
        for resource in request["resourceMetrics"]:
            named = {a["key"]: a["value"]["stringValue"] for a in resource["resource"]["attributes"]}
            for scope in resource["scopeMetrics"]:
                for metric in scope["metrics"]:
                    for point in metric["histogram"]["dataPoints"] if named["service.name"] == service else ():
                        point["attributes"] = [a for a in point["attributes"] if a != {
                            "key": semconv.GEN_AI_REQUEST_MODEL, "value": {"stringValue": model}}]
        lines.append(orjson.dumps(request))
    path.write_bytes(b"\n".join(lines) + b"\n")


def _store(tmp: Path, data: Path) -> str:
    db = str(tmp / "s.duckdb")
    with TraceStore(db) as store:
        store.ingest([data / "spans.jsonl", data / "metrics.jsonl"])
    return db


def _found(store: Any) -> dict[str, Any]:
    """What every analysis of metric points' rises finds in each window."""
    found: dict[str, Any] = {}
    for name, filters in WINDOWS.items():
        found[name] = {
            "unheld": _unrecorded.unheld_calls(store, filters),
            "points": _unrecorded.llm_metric_points(store, filters),
            "hours": _unrecorded.llm_metric_points_by(store, filters, "hour"),
            "days": _unrecorded.llm_metric_points_by(store, filters, "day"),
            "histogram": _unrecorded.duration_histogram(store, filters),
            "only in metrics": totals(store, filters).only_in_metrics,
        }
    found["unheld, windows read at once"] = _unrecorded._unheld_sets(store, [*WINDOWS.values(), *MODELS])
    found["coverage"] = _coverage.note(connection(store), "store")
    return found


@pytest.fixture(scope="module")
def by_columns(tmp_path_factory: pytest.TempPathFactory, data: Path) -> dict[str, Any]:
    """What the analyses find telling each series by its columns (ClickHouse's way), on a store of this version."""
    db = _store(tmp_path_factory.mktemp("by_columns"), data)
    with pytest.MonkeyPatch.context() as patch, TraceStore(db, read_only=True) as store:
        patch.setattr(_unrecorded, "_series", lambda _store: _unrecorded.SERIES)
        return _found(store)


def test_the_data_has_calls_only_metric_points_hold(by_columns: dict[str, Any]) -> None:
    for name in WINDOWS:
        assert by_columns[name]["unheld"] and by_columns[name]["only in metrics"] is not None
        assert by_columns[name]["histogram"] is not None and by_columns[name]["points"][0] > 0
    assert len(by_columns["all"]["hours"]) > 20
    assert {s.model is None for s in by_columns["all"]["unheld"]} == {True, False}  # points naming a model or none
    assert all(by_columns["unheld, windows read at once"]), by_columns["unheld, windows read at once"]


def test_the_stored_series_is_the_hash_of_the_stored_columns(tmp_path: Path, data: Path) -> None:
    db = _store(tmp_path, data)
    with duckdb.connect(db, read_only=True) as con:
        ((points, series, same, distinct, columns),) = con.execute(
            "SELECT count(*), count(series_id), count(*) FILTER (WHERE series_id = hash(metric_name, resource_attributes, "
            "attributes, start_time)), count(DISTINCT series_id), count(DISTINCT (metric_name, resource_attributes, "
            "attributes, start_time)) FROM metric_points").fetchall()
    assert points > 1000 and series == points and same == points and distinct == columns > 1


def test_the_analyses_find_alike_on_every_store(tmp_path: Path, data: Path, by_columns: dict[str, Any]) -> None:
    db = _store(tmp_path, data)
    with TraceStore(db, read_only=True) as store:
        assert _unrecorded._series(store) is _unrecorded.SERIES_STORED
        assert _found(store) == by_columns

    with duckdb.connect(db) as con:  # what an older version leaves: no such column
        con.execute("ALTER TABLE metric_points DROP COLUMN series_id")
    with TraceStore(db, read_only=True) as old:
        assert _unrecorded._series(old) is _unrecorded.SERIES_HASHED
        assert _found(old) == by_columns
    with TraceStore(db) as upgraded:  # opened for writing: added and filled
        assert upgraded.query("SELECT count(*) FROM metric_points WHERE series_id IS NULL") == [(0,)]
        assert _found(upgraded) == by_columns

    with duckdb.connect(db) as con:  # an older version wrote points since: by name, the column left NULL
        con.execute("UPDATE metric_points SET series_id = NULL WHERE time > ?", [DAY + timedelta(hours=18)])
    with TraceStore(db, read_only=True) as partly:
        assert _unrecorded._series(partly) is _unrecorded.SERIES_HASHED
        assert _found(partly) == by_columns
    with TraceStore(db) as store:
        assert store.query("SELECT count(*) FROM metric_points WHERE series_id IS NULL") == [(0,)]
        assert _found(store) == by_columns


def test_a_hash_of_another_duckdb_version_is_not_read(tmp_path: Path, data: Path, by_columns: dict[str, Any]) -> None:
    db = _store(tmp_path, data)
    with duckdb.connect(db) as con:  # every series merged into one: read as it is, every figure would be wrong
        con.execute("UPDATE metric_points SET series_id = 42")
    with TraceStore(db, read_only=True) as stale:
        assert _unrecorded._series(stale) is _unrecorded.SERIES_HASHED
        assert _found(stale) == by_columns
    with TraceStore(db) as store:  # opened for writing: computed again
        assert store.query("SELECT count(*) FROM metric_points WHERE series_id = hash(metric_name, resource_attributes, "
                           "attributes, start_time)") == store.query("SELECT count(*) FROM metric_points")
        assert _unrecorded._series(store) is _unrecorded.SERIES_STORED
        assert _found(store) == by_columns
