"""The search for calls only GenAI metric points record matches each stretch of points with the spans that
ended in its reach: a stretch within two clock hours (an SDK exporting every minute gives an hour's) by the hour
of each span minute, a longer one (a process that exported nothing for hours, a daily export) by its range alone.
Both give what the plain definition gives - every span minute of the stretch's service and model within its
reach - here checked against that definition on one store holding both kinds of stretch."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import orjson
import pytest

from otel_llm_analysis import Filters, TraceStore, _filters, _unrecorded
from tests.analysis._exports import calls_of, write_exports, write_spans
from tests.support.synthetic import generate

DAY = datetime(2026, 11, 20)
#: one service's process exports nothing from 09:00 to 15:00: its next point counts six hours of calls at once
SILENT = (DAY + timedelta(hours=9), DAY + timedelta(hours=15))

#: :data:`_unrecorded._UNHELD`'s stretches and held calls as their definition says: every span minute of the
#: stretch's service and model within its reach, (after - 60 s, until]
_DEFINITION = """), held AS (
    SELECT s.service, s.model, s.since, s.until, sum(m.calls) AS held
    FROM stretches s JOIN minutes m ON s.service = m.service AND s.model = m.model
    WHERE m.minute > s.after - INTERVAL 60 SECOND AND m.minute <= s.until
    GROUP BY s.service, s.model, s.since, s.until
)
SELECT s.service"""


def _silenced(path: Path, service: str) -> None:
    """Drop ``service``'s exports of the :data:`SILENT` hours from the OTLP JSON lines at ``path``."""
    kept = []
    for line in path.read_bytes().splitlines():
        request = orjson.loads(line)
        resource = request["resourceMetrics"][0]
        name = next(a["value"]["stringValue"] for a in resource["resource"]["attributes"] if a["key"] == "service.name")
        point = resource["scopeMetrics"][0]["metrics"][0]["histogram"]["dataPoints"][0]
        exported = datetime(1970, 1, 1) + timedelta(microseconds=int(point["timeUnixNano"]) // 1000)
        if not (name == service and SILENT[0] <= exported < SILENT[1]):
            kept.append(line)
    path.write_bytes(b"\n".join(kept) + b"\n")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> TraceStore:
    """A day of calls with per-minute exports, one service silent for six hours, and some traces' spans lost
    (in an hour of the silence and in an afternoon half hour): calls only the points hold, in both kinds of stretch."""
    root = tmp_path_factory.mktemp("unheld_reach")
    data = generate(root / "day", seed=11, traces=1500, days=1, end=DAY + timedelta(days=1))
    calls = calls_of(data.spans)
    write_exports(calls, root / "metrics.jsonl", seed=11)
    silent = sorted({c.service_name for c in calls})[0]
    _silenced(root / "metrics.jsonl", silent)
    began = {s.trace_id: s.start_time for s in data.spans if s.parent_span_id is None}
    lost = ((DAY + timedelta(hours=10), DAY + timedelta(hours=11)),
            (DAY + timedelta(hours=16), DAY + timedelta(hours=16, minutes=30)))
    write_spans([s for s in data.spans if not any(a <= began[s.trace_id] < b for a, b in lost)], root / "spans.jsonl")
    with TraceStore(root / "store.duckdb") as writing:
        writing.ingest([root / "spans.jsonl", root / "metrics.jsonl"])
    with TraceStore(root / "store.duckdb", read_only=True) as reading:
        yield reading


def _statements(store: TraceStore, filters: Filters) -> tuple[str, str, dict]:
    """The search's statement and the same with :data:`_DEFINITION`'s held calls, and their parameters."""
    sql, params = _unrecorded._unheld_statement(store, filters)
    tail = sql[sql.rindex("\nSELECT s.service") + len("\nSELECT s.service"):]
    return sql, sql[:sql.index("), reaches AS (")] + _DEFINITION + tail, params


def _held(sql: str, params: dict, store: TraceStore) -> list[tuple]:
    """Each stretch's held calls, as ``sql`` works them out."""
    head = sql[:sql.rindex("\nSELECT s.service")]
    return sorted(_filters.connection(store).execute(f"{head}\nSELECT * FROM held", params).fetchall())


def test_the_store_holds_stretches_of_either_reach(store: TraceStore) -> None:
    sql, params = _unrecorded._unheld_statement(store, Filters())
    head = sql[:sql.index("), short_hours AS (")]
    ((short, long),) = _filters.connection(store).execute(
        f"{head}) SELECT count(*) FILTER (WHERE short), count(*) FILTER (WHERE NOT short) FROM reaches",
        params).fetchall()
    assert short > 100 and long > 0, (short, long)


@pytest.mark.parametrize("filters", [
    Filters(),
    Filters(since=DAY + timedelta(hours=8), until=DAY + timedelta(hours=11)),
    Filters(since=DAY + timedelta(hours=14), until=DAY + timedelta(hours=17)),
    Filters(model="gpt-4o"),
], ids=["whole", "into the silence", "out of the silence", "a model"])
def test_calls_only_in_points_are_those_of_the_definition(store: TraceStore, filters: Filters) -> None:
    sql, definition, params = _statements(store, filters)
    held = _held(sql, params, store)
    assert held and held == _held(definition, params, store)
    found = _filters.fetch_dicts(store, sql, params)
    assert found == _filters.fetch_dicts(store, definition, params)
    if filters.model is None:
        assert found and sum(row["calls"] for row in found) > 0, found
