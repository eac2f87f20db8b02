"""`running` on the exporter's own metric tables (``TimeUnix`` in whole seconds), as on DuckDB.

The SDK exports ``otel_llm.active`` at every metric export; an app exporting more
than once a second (``metric_export_interval_ms`` under 1000) leaves several exports
in one second, which the exporter's ``DateTime`` column cannot tell apart by time.
``running`` must still show each process's last export, one row per kind and span
name with that export's counts, as DuckDB (which keeps the points' µs) shows them —
not every point of the last second, nor a series missing from that export. What whole
seconds cannot give is pinned below as known limitations: the export's time within its
second (``as_of`` is the second, and an ``--until`` inside a second reads the whole
second), and which export a point came in once several exports share one part (merged,
or batched into one insert): then only each series' own order tells them apart.
"""

from __future__ import annotations

import calendar
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Iterator

import orjson
import pytest

from otel_llm import semconv
from otel_llm_analysis.clickhouse import ExporterSchema, load
from otel_llm_analysis.clickhouse.store import ClickHouseStore
from otel_llm_analysis.running import RunningCalls, reporting_processes, running
from otel_llm_analysis.store import TraceStore
from tests.support.clickhouse_http import ChdbHttpServer
from tests.support.synthetic import key_values

S, MS = 10**9, 10**6
#: 2026-11-20 12:00:00 UTC, in ns: the api's last exports fall in this second
SECOND = calendar.timegm((2026, 11, 20, 12, 0, 0)) * S
CHAT, PLAN, SEARCH = ("llm_call", "chat gpt-4o"), ("agent", "invoke_agent planner"), ("tool", "execute_tool search")
#: (process, export time in ns, {(kind, name): calls running}): three exports of the api in its last second, the
#: counts changing between them, and a tool first seen in its last export; a worker exporting once a second.
EXPORTS: list[tuple[tuple[str, str], int, dict[tuple[str, str], int]]] = [
    (("api", "api-1"), SECOND - S + 500 * MS, {CHAT: 5, PLAN: 5}),
    (("api", "api-1"), SECOND + 300 * MS, {CHAT: 1, PLAN: 2}),
    (("api", "api-1"), SECOND + 600 * MS, {CHAT: 3, PLAN: 1}),
    (("api", "api-1"), SECOND + 900 * MS, {CHAT: 2, PLAN: 0, SEARCH: 1}),
    (("worker", "w-1"), SECOND - 3 * S + 250 * MS, {CHAT: 7}),
    (("worker", "w-1"), SECOND - 2 * S + 250 * MS, {CHAT: 4}),
]


def _export(process: tuple[str, str], at_ns: int, counts: dict[tuple[str, str], int]) -> bytes:
    """One metric export of ``process`` (one OTLP request, one line, as the SDK's file exporter writes it)."""
    points = [{"startTimeUnixNano": str(SECOND - 60 * S), "timeUnixNano": str(at_ns), "asInt": str(n),
               "attributes": key_values({semconv.OTEL_LLM_KIND: kind, semconv.OTEL_LLM_SPAN_NAME: name})}
              for (kind, name), n in counts.items()]
    service, instance = process
    return orjson.dumps({"resourceMetrics": [{
        "resource": {"attributes": key_values({"service.name": service, "service.instance.id": instance})},
        "scopeMetrics": [{"scope": {"name": "otel_llm"}, "metrics": [{
            "name": semconv.METRIC_ACTIVE, "unit": "{call}",
            "sum": {"aggregationTemporality": 2, "isMonotonic": False, "dataPoints": points}}]}]}]}) + b"\n"


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory, clickhouse_http: ChdbHttpServer
           ) -> Iterator[tuple[TraceStore, ClickHouseStore]]:
    """The exports ingested into DuckDB, and loaded into tables made by the exporter's own DDL (whole seconds)."""
    root = tmp_path_factory.mktemp("running_whole_seconds")
    (root / "metrics.jsonl").write_bytes(b"".join(_export(*export) for export in EXPORTS))
    database = "otel_running_seconds"
    for statement in ExporterSchema(database=database).statements():
        clickhouse_http.query(statement)
    url = f"clickhouse://default@127.0.0.1:{clickhouse_http.port}/{database}"
    assert load([root], url).metric_points_added == sum(len(counts) for *_, counts in EXPORTS)
    with TraceStore(":memory:") as duck:
        duck.ingest([root])
        with ClickHouseStore(url) as ch:
            assert ch.query("SELECT toTypeName(TimeUnix) FROM otel_metrics_sum LIMIT 1") == [("DateTime",)]
            yield duck, ch


def _in_seconds(rows: list[RunningCalls]) -> list[RunningCalls]:
    """``rows`` with ``as_of`` at its second: what a whole-second table keeps of an export's time."""
    return [replace(row, as_of=row.as_of.replace(microsecond=0)) for row in rows]


NOW = datetime(2026, 11, 20, 12, 0, 30)
CASES: dict[str, dict[str, Any]] = {
    "now": {"now": NOW},
    "until after the last exports": {"until": datetime(2026, 11, 20, 12, 0, 1), "now": NOW},
    "until between the api's seconds": {"until": datetime(2026, 11, 20, 11, 59, 59, 800_000)},
    "the worker stale": {"now": datetime(2026, 11, 20, 12, 0, 2), "stale_after": timedelta(seconds=2.5)},
}


@pytest.mark.parametrize("case", list(CASES))
def test_running_shows_each_processs_last_export_once(stores: tuple[TraceStore, ClickHouseStore], case: str) -> None:
    duck, ch = (running(store, **CASES[case]) for store in stores)
    assert duck, "the processes were running calls"
    assert ch == _in_seconds(duck)


def test_the_last_export_is_the_last_of_its_second(stores: tuple[TraceStore, ClickHouseStore]) -> None:
    _, ch = stores
    api = {(row.kind, row.name): row.running for row in running(ch, now=NOW) if row.service == "api"}
    assert api == {CHAT: 2, SEARCH: 1}  # the 900 ms export's counts; the planner's 0 is not running
    assert all(reporting_processes(store) == 2 for store in stores)


def test_an_until_inside_a_second_reads_that_whole_second(stores: tuple[TraceStore, ClickHouseStore]) -> None:
    """The known limitation: a whole-second table cannot split a second, so ``--until`` 12:00:00.7 reads all of
    12:00:00's exports on ClickHouse (the 900 ms one last) where DuckDB stops before the 900 ms export."""
    until = datetime(2026, 11, 20, 12, 0, 0, 700_000)
    duck, ch = stores
    api = {(row.kind, row.name): row.running for row in running(duck, until=until, now=NOW) if row.service == "api"}
    assert api == {CHAT: 3, PLAN: 1}  # DuckDB: the 600 ms export
    whole_second = datetime(2026, 11, 20, 12, 0, 1)
    assert running(ch, until=until, now=NOW) == _in_seconds(running(duck, until=whole_second, now=NOW))


#: The api's last second, each export inserted on its own (as the exporter inserts the exports it is sent): the
#: planner's series is in the 300 ms export and not in the 600 ms one (its last).
DROPPED: list[tuple[tuple[str, str], int, dict[tuple[str, str], int]]] = [
    (("api", "api-1"), SECOND + 300 * MS, {CHAT: 1, PLAN: 2}),
    (("api", "api-1"), SECOND + 600 * MS, {CHAT: 3}),
]


@pytest.fixture
def dropped(tmp_path: Path, clickhouse_http: ChdbHttpServer, database: str
            ) -> Iterator[tuple[TraceStore, ClickHouseStore]]:
    """:data:`DROPPED` in DuckDB, and in whole-second tables one insert (one part) per export, merges stopped
    so the parts stay as the inserts left them (the newest data, before a background merge)."""
    for statement in ExporterSchema(database=database).statements():
        clickhouse_http.query(statement)
    clickhouse_http.query(f"SYSTEM STOP MERGES `{database}`.otel_metrics_sum")
    url = f"clickhouse://default@127.0.0.1:{clickhouse_http.port}/{database}"
    for i, export in enumerate(DROPPED):
        (tmp_path / str(i)).mkdir()
        (tmp_path / str(i) / "metrics.jsonl").write_bytes(_export(*export))
        load([tmp_path / str(i)], url)
    with TraceStore(":memory:") as duck, ClickHouseStore(url) as ch:
        duck.ingest([tmp_path])
        yield duck, ch
    clickhouse_http.query(f"SYSTEM START MERGES `{database}`.otel_metrics_sum")


def test_a_series_missing_from_the_last_export_of_a_second_is_not_running(
        dropped: tuple[TraceStore, ClickHouseStore]) -> None:
    duck, ch = dropped
    assert [(row.kind, row.name, row.running) for row in running(duck, now=NOW)] == [(*CHAT, 3)]
    assert running(ch, now=NOW) == _in_seconds(running(duck, now=NOW))


def test_once_merged_into_one_part_a_series_missing_from_the_last_export_still_shows(
        dropped: tuple[TraceStore, ClickHouseStore], clickhouse_http: ChdbHttpServer, database: str) -> None:
    """The known limitation: one part (a merge, or exports batched into one insert) keeps no trace of which
    export a point came in, only the order of each series' points; the planner's last point is its 300 ms one,
    read as of the second's last export."""
    duck, ch = dropped
    clickhouse_http.query(f"SYSTEM START MERGES `{database}`.otel_metrics_sum")
    clickhouse_http.query(f"OPTIMIZE TABLE `{database}`.otel_metrics_sum FINAL")
    assert {(row.kind, row.name, row.running) for row in running(ch, now=NOW)} == {(*CHAT, 3), (*PLAN, 2)}
    assert [(row.kind, row.name, row.running) for row in running(duck, now=NOW)] == [(*CHAT, 3)]
