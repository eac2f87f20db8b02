"""The scopes refresh tells an instrumentation's own failure (``instrumentation_failures``) from its own rows.

When the spans an ingest brings hold a candidate (an OpenLIT LLM span with status ERROR), the refresh
reads the candidates' exception events to tell whether OpenLIT failed, not the call. It read the
``instrumentation_failures`` view, which reads the whole store's spans and events (~25 ms on 1M spans);
it reads the rule over the spans being worked out and the events stored with them, and must find the
same rows the view finds for those candidates (as multisets), whether the candidate is new or stored
before in a trace that grew.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any, Iterator

import duckdb
import orjson
import pytest

from otel_llm import semconv
from otel_llm_analysis import TraceStore
from otel_llm_analysis._instrumentation_failures import CANDIDATE
from otel_llm_analysis._scope_index import _FAILED, _SPANS, DERIVED, refresh_scopes  # (its temporary tables)
from tests.support import synthetic
from tests.support.synthetic import key_values

T0 = 1_790_000_000_000_000_000
OPENLIT_FRAME = 'File "/app/.venv/lib/python3.11/site-packages/openlit/instrumentation/openai/openai.py", line 9'
APP_FRAME = 'File "/app/main.py", line 3'


def _span(trace: str, span: str, stack: str | None, *, parent: str | None = None, at: int = 0,
          status: int = 2) -> dict[str, Any]:
    """An OpenLIT chat span of ``trace`` (status ``status``), with an exception event of ``stack`` unless None."""
    record = {"traceId": trace * 32, "spanId": span * 16, "name": "chat gpt-4o", "kind": 3,
              "startTimeUnixNano": str(T0 + at * 10**9), "endTimeUnixNano": str(T0 + at * 10**9 + 10**8),
              "status": {"code": status},
              "attributes": key_values({semconv.GEN_AI_OPERATION_NAME: "chat", semconv.GEN_AI_REQUEST_MODEL: "gpt-4o",
                                        semconv.GEN_AI_PROVIDER_NAME: "openai"})}
    if parent is not None:
        record["parentSpanId"] = parent * 16
    if stack is not None:
        record["events"] = [{"name": "exception", "timeUnixNano": str(T0 + at * 10**9 + 10**7),
                             "attributes": key_values({
                                 "exception.type": "AttributeError",
                                 "exception.message": "'NoneType' object has no attribute 'get'",
                                 "exception.stacktrace": f"Traceback (most recent call last):\n  {stack}\nAttributeError"})}]
    return record


def _file(path: Path, spans: list[dict[str, Any]]) -> Path:
    path.write_bytes(orjson.dumps({"resourceSpans": [{"resource": {}, "scopeSpans": [
        {"scope": {"name": "openlit.otel.tracing"}, "spans": spans}]}]}) + b"\n")
    return path


class _Watching:
    """A connection that, when the refresh makes its failures table, keeps the table's rows, the rows the
    whole store's view gives for the same candidates, and the rows that statement scanned per stored table."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con
        self.failed: list[tuple[str, str]] | None = None
        self.by_view: list[tuple[str, str]] | None = None
        self.scanned: Counter[str] = Counter()
        self.filters: list[list[str]] = []  # the filters of each of its scans of span_events
        self.events_watermark = -1  # the highest span_events rowid before the refresh's ingest

    def execute(self, sql: str, *args: Any) -> Any:
        result = self._con.execute(sql, *args)
        if sql.startswith(f"CREATE OR REPLACE TEMP TABLE {_FAILED} "):
            _scans(json.loads(self._con.get_profiling_information(format="json"))["operator"], self.scanned,
                   self.filters)
            self.failed = self._con.execute(f"SELECT trace_id, span_id FROM {_FAILED}").fetchall()
            self.by_view = self._con.execute(
                f"SELECT f.trace_id, f.span_id FROM (SELECT trace_id, span_id FROM {_SPANS} WHERE {CANDIDATE}) c "
                "JOIN instrumentation_failures f ON f.trace_id = c.trace_id AND f.span_id = c.span_id").fetchall()
        return result

    def cursor(self) -> Any:
        return self._con.cursor()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def _scans(operators: list[dict[str, Any]], into: Counter[str], filters: list[list[str]]) -> None:
    """The rows each table scan of the store's tables read (``rows_scanned`` of DuckDB's profile: whole row
    groups), and the filters of those of span_events."""
    for operator in operators:
        info = operator.get("extra_info", {})
        table = info.get("Table", "")
        if operator.get("type") == "TABLE_SCAN" and table.endswith((".span_rows", ".span_events")):
            into[table.rsplit(".", 1)[1]] += int(operator.get("rows_scanned", 0))
            if table.endswith(".span_events"):
                given = info.get("Filters", [])
                filters.append([given] if isinstance(given, str) else given)
        _scans(operator.get("children", []), into, filters)


def _derived(con: duckdb.DuckDBPyConnection) -> dict[str, Counter[tuple[Any, ...]]]:
    return {table: Counter(tuple(map(repr, row)) for row in con.execute(f"SELECT * FROM {table}").fetchall())
            for table, *_ in DERIVED}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[TraceStore]:
    """A store of synthetic traces, an OpenLIT failure (trace ``d``) and an OpenLIT span with the app's
    exception (trace ``a``), worked out."""
    data = synthetic.generate(tmp_path / "old", seed=5, traces=40, days=2)
    old = _file(tmp_path / "old.jsonl", [_span("a", "1", APP_FRAME), _span("d", "6", OPENLIT_FRAME, at=1)])
    with TraceStore(str(tmp_path / "s.duckdb")) as opened:
        opened.ingest([str(p) for p in data.files] + [str(old)])
        yield opened


def _refresh_watched(store: TraceStore, new: Path) -> _Watching:
    """Ingest ``new``, then work out again what its refresh worked out (the state as before the ingest), watched."""
    con = store.connection
    state = con.execute("SELECT * FROM span_scope_state").fetchall()
    watched = _Watching(con)
    watched.events_watermark = state[0][3]
    store.ingest(new)
    con.execute("DELETE FROM span_scope_state")
    con.executemany("INSERT INTO span_scope_state VALUES (?, ?, ?, ?, ?)", state)
    con.execute("SET enable_profiling = 'no_output'")
    con.execute("SET profiling_coverage = 'ALL'")
    try:
        assert refresh_scopes(watched) > 0
    finally:
        con.execute("SET enable_profiling = 'no_output'")
        con.execute("RESET enable_profiling")
    return watched


def _as_whole(con: duckdb.DuckDBPyConnection) -> dict[str, Counter[tuple[Any, ...]]]:
    """The derived tables as a refresh of the whole store makes them."""
    con.execute("DELETE FROM span_scope_state")
    refresh_scopes(con)
    return _derived(con)


def test_a_new_failure_is_told_from_the_ingests_own_rows(store: TraceStore, tmp_path: Path) -> None:
    """A new trace with OpenLIT's failure (``b``) and one whose exception is the app's (``c``): the refresh finds
    ``b`` as the view does, reading no stored span and only the events stored with the new spans."""
    con = store.connection
    ((spans, events),) = con.execute("SELECT (SELECT count(*) FROM span_rows), (SELECT count(*) FROM span_events)"
                                     ).fetchall()
    watched = _refresh_watched(store, _file(tmp_path / "new.jsonl", [
        _span("b", "2", OPENLIT_FRAME, at=5), _span("b", "3", None, parent="2", at=6, status=0),
        _span("c", "4", APP_FRAME, at=7)]))
    assert watched.failed == [("b" * 32, "2" * 16)]
    assert Counter(watched.failed) == Counter(watched.by_view)
    assert events > 10 and spans > 100  # (what reading the store would scan)
    assert watched.scanned["span_rows"] == 0, watched.scanned  # the spans worked out are the refresh's own
    # the events stored with the new spans: the row groups above the last refresh's (a profile counts whole groups)
    assert watched.filters and all(f"(rowid > {watched.events_watermark})" in scan for scan in watched.filters), \
        watched.filters
    made = _derived(con)
    assert made == _as_whole(con)


def test_a_failure_stored_before_in_a_trace_that_grew_is_read_as_the_view_reads_it(store: TraceStore,
                                                                                    tmp_path: Path) -> None:
    """Trace ``a`` (its candidate stored before, with the app's exception) grows by a span with the same ids and
    another start (a second record of it, with an exception event of OpenLIT's) and by a child: the stored
    event counts too, as in the view, so neither record is OpenLIT's failure."""
    con = store.connection
    watched = _refresh_watched(store, _file(tmp_path / "grown.jsonl", [
        _span("a", "1", OPENLIT_FRAME, at=3), _span("a", "5", None, parent="1", at=4, status=0)]))
    assert watched.failed is not None and Counter(watched.failed) == Counter(watched.by_view)
    assert watched.failed == []
    made = _derived(con)
    assert made == _as_whole(con)
