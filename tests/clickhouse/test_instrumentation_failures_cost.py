"""ClickHouse reads an instrumentation's own failure from a table kept at insert, never every span's events.

Whether a span failed in its instrumentation's own code is told by its exception events, which only
``otel_traces`` holds. A materialized view writes the few such spans to a table of their own as they
arrive, so ``llm_calls`` on a store holding none reads an empty table instead of the events; a failure
loaded later (the collector's next insert) is counted at once; a database whose span table predates that
table gets it filled when a store opens.
"""

from __future__ import annotations

import re
from pathlib import Path

from otel_llm_analysis import summaries
from otel_llm_analysis.clickhouse import load
from otel_llm_analysis.clickhouse._ddl import TRACES_TABLE
from otel_llm_analysis.clickhouse._views import instrumentation_failures_table_name
from otel_llm_analysis.clickhouse.store import ClickHouseStore
from tests.clickhouse.test_call_context_cost import own_sdk_only  # noqa: F401 - the fixture: otel-llm's spans alone
from tests.clickhouse.test_differential_instrumentation_failures import (IN_APP, IN_OPENLIT, OPENLIT, _exception,
                                                                         _request, _span)

FAILED_IN_OPENLIT = f"{1 + 1:016x}"
COUNT_FAILED = "SELECT count() FROM llm_calls WHERE status_code = 2"


def _plan(store: ClickHouseStore, query: str) -> str:
    return "\n".join(row[0] for row in store.connection.client.query(f"EXPLAIN indexes = 1 {query}").result_rows)


def _reads(store: ClickHouseStore, query: str) -> dict[str, list[int]]:
    """Table -> the parts each of its reads selects in ``EXPLAIN indexes = 1`` of ``query`` (0: none); a table
    without parts is no read (``ReadNothing``)."""
    plan = _plan(store, query)
    reads: dict[str, list[int]] = {}
    for block in re.split(r"ReadFromMergeTree \(", plan)[1:]:
        table = block.split(")", 1)[0].split(".")[-1]
        parts = re.search(r"Parts: (\d+)/(\d+)", block.split("ReadFromMergeTree", 1)[0])
        reads.setdefault(table, []).append(int(parts.group(1)) if parts else 0)
    return reads


def _failure(folder: Path) -> Path:
    folder.mkdir()
    (folder / "traces.jsonl").write_bytes(_request(OPENLIT, [_span(0), _span(1, status=2, events=[
        _exception(IN_APP, IN_OPENLIT)])]))
    return folder


def _status(store: ClickHouseStore) -> int | None:
    rows = store.query("SELECT status_code FROM llm_calls WHERE span_id = $id", {"id": FAILED_IN_OPENLIT})
    return rows[0][0] if rows else None


def test_llm_calls_of_a_store_without_any_read_no_span_event(own_sdk_only: str) -> None:
    with ClickHouseStore(own_sdk_only) as store:
        assert store.query("SELECT count() FROM instrumentation_failures") == [(0,)]
        assert store.query(COUNT_FAILED)[0][0] > 0  # the generated errors stay failures
        reads = _reads(store, COUNT_FAILED)
        assert TRACES_TABLE not in reads, reads  # no event read at query time
        assert instrumentation_failures_table_name() not in reads, reads  # an empty table: nothing read
        assert "ReadNothing" in _plan(store, COUNT_FAILED)  # (the set of the failures' ids)
        assert [row.instrumentation_failures for row in summaries.summary(store, None)] == [0]


def test_a_failure_loaded_later_is_counted_as_a_succeeded_call(own_sdk_only: str, tmp_path: Path) -> None:
    with ClickHouseStore(own_sdk_only) as store:
        assert load([_failure(tmp_path / "openlit")], own_sdk_only).spans_added == 2  # through the materialized view
        assert _status(store) == 0
        # read for the calls' spans and their wrappers' (window_spans), its one part each time
        assert _reads(store, COUNT_FAILED)[instrumentation_failures_table_name()] == [1, 1]
        assert TRACES_TABLE not in _reads(store, COUNT_FAILED)
        assert [row.instrumentation_failures for row in summaries.summary(store, None)] == [1]
        assert [row.instrumentation_failures for row in summaries.summary(store, "model")
                if row.key == "gpt-4o"] == [1]


def test_a_span_table_older_than_the_failures_table_gets_it_filled(own_sdk_only: str, tmp_path: Path) -> None:
    load([_failure(tmp_path / "openlit")], own_sdk_only)
    with ClickHouseStore(own_sdk_only) as store:
        database, table = store.url.database, instrumentation_failures_table_name()
        for statement in (f"DROP VIEW `{database}`.`{table}_mv`", f"DROP TABLE `{database}`.`{table}`"):
            store.connection.client.command(statement)
    with ClickHouseStore(own_sdk_only) as store:
        assert _status(store) == 0
        assert store.query("SELECT span_id, exception_message FROM instrumentation_failures") == [
            (FAILED_IN_OPENLIT, "'NoneType' object has no attribute 'get'")]
