"""Analyses of a time window on ClickHouse: DuckDB's answers, from the window's traces only.

On ClickHouse the agents' views and ``llm_calls`` are worked out when read; an
analysis of a window works out only the traces with a span starting in it (all of
each such trace, so a trace straddling a bound resolves its parents and wrappers
as over the whole store), reading the span table between those traces' first and
last starts. The data makes that hard: generated agent traces (otel-llm spans with
a peer's span nested in every call) where some turns began a day before the rest
of their trace and some traces end with a span a day later, so the windows' bounds
cut through traces; and the root of some traces and the wrapping call spans of
others arrive in a second load (DuckDB: a second ingest), after their children.
Every analysis and every row of the windowed views must equal DuckDB's; the plan of
a windowed query must read only the partitions the window's traces reach.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable, Iterator

import orjson
import pytest

from otel_llm_analysis import Filters, agents, compare, retries, summaries, tools, trends
from otel_llm_analysis.clickhouse._views import span_table_name
from otel_llm_analysis.clickhouse.store import ClickHouseStore
from otel_llm_analysis.store import TraceStore
from tests.clickhouse._kept import fills
from tests.clickhouse.test_differential import both_stores, same, same_on_both
from tests.clickhouse.test_differential_agents import VIEWS
from tests.support import synthetic
from tests.support.clickhouse_http import ChdbHttpServer

DAY_NS = 86_400 * 10**9
#: Bounds inside days, so that they cut through the stretched traces.
WINDOWS = {
    "a week, cut mid-day": Filters.of("2026-11-05 06:00:00", "2026-11-12 18:00:00"),
    "since a time": Filters.of("2026-11-14 12:00:00", None),
    "until a time": Filters.of(None, "2026-11-08 09:30:00"),
}


def _write(path: Path, spans: list[synthetic.SpanRecord]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = (orjson.dumps(synthetic.spans_request(spans[i:i + 64])) for i in range(0, len(spans), 64))
    path.write_bytes(b"\n".join(lines) + b"\n")


def straddling_data(root: Path) -> tuple[Path, Path]:
    """Generated agent traces, stretched across days and split in two loads: ``(first, late)`` folders."""
    data = synthetic.generate(root / "generated", traces=120, days=20, agents="otel_llm", peer_spans=True, seed=41)
    by_trace: dict[str, list[synthetic.SpanRecord]] = {}
    for span in data.spans:
        by_trace.setdefault(span.trace_id, []).append(span)
    first, late = [], []
    for n, spans in enumerate(by_trace.values()):
        spans = sorted(spans, key=lambda s: (s.start_ns, s.span_id))
        if n % 3 == 0:  # the turn began a day before the rest of its trace
            spans = [replace(s, start_ns=s.start_ns - DAY_NS) if s.parent_span_id is None else s for s in spans]
        if n % 5 == 0:  # the trace's last span starts a day later
            spans[-1] = replace(spans[-1], start_ns=spans[-1].start_ns + DAY_NS, end_ns=spans[-1].end_ns + DAY_NS)
        parents = {s.parent_span_id for s in spans}
        wrappers = {s.span_id for s in spans if s.span_id in parents and s.request_model is not None}
        for span in spans:
            arrives_late = ((n % 4 == 0 and span.parent_span_id is None)  # the root, after its children
                            or (n % 4 == 1 and span.span_id in wrappers))  # a call's wrapper, after the call
            (late if arrives_late else first).append(span)
    _write(root / "first" / "traces.jsonl", first)
    _write(root / "late" / "traces.jsonl", late)
    return root / "first", root / "late"


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory, clickhouse_http: ChdbHttpServer
           ) -> Iterator[tuple[TraceStore, ClickHouseStore]]:
    first, late = straddling_data(tmp_path_factory.mktemp("differential_window"))
    yield from both_stores(first, f"clickhouse://default@127.0.0.1:{clickhouse_http.port}/otel_differential_window",
                           late)


def _params(window: Filters) -> dict[str, Any]:
    return {"since": window.since, "until": window.until}


@pytest.mark.parametrize("window", list(WINDOWS))
def test_the_windows_bounds_cut_through_traces(stores: tuple[TraceStore, ClickHouseStore], window: str) -> None:
    """The data is what the other tests need: traces with spans on both sides of a bound, and wrappers
    and roots that arrived after their children."""
    duck, _ = stores
    (straddling,), = duck.query(
        "SELECT count(*) FROM (SELECT trace_id FROM span_rows GROUP BY trace_id "
        "HAVING bool_or(($since IS NULL OR start_time >= $since) AND ($until IS NULL OR start_time < $until)) "
        "AND bool_or(NOT (($since IS NULL OR start_time >= $since) AND ($until IS NULL OR start_time < $until))))",
        _params(WINDOWS[window]))
    assert straddling >= 3
    (wrapped,), = duck.query("SELECT count(*) FROM span_rows WHERE wrapper_span_id IS NOT NULL")
    assert wrapped > 0


ANALYSES: dict[str, Callable[[Any, Filters], Any]] = {
    "tools": lambda s, w: tools(s, w),
    "agents": lambda s, w: agents(s, w),
    "retries": lambda s, w: retries(s, None, w),
    "retries by model": lambda s, w: retries(s, "model", w),
    "compare by model, with its turns": lambda s, w: compare(s, "model", w),
    "summary by model": lambda s, w: summaries.summary(s, "model", w),
    "trends by day": lambda s, w: trends.series(s, "day", w),
}


@pytest.mark.parametrize("window", list(WINDOWS))
@pytest.mark.parametrize("name", list(ANALYSES))
def test_the_analysis_of_a_window_is_the_same_on_both_engines(stores: tuple[TraceStore, ClickHouseStore],
                                                              name: str, window: str) -> None:
    same_on_both(stores, f"{name}, {window}", lambda s: ANALYSES[name](s, WINDOWS[window]))


def test_the_month_end_forecast_is_the_same(stores: tuple[TraceStore, ClickHouseStore]) -> None:
    same_on_both(stores, "forecast", lambda s: trends.forecast_month_end(s, "2026-11", as_of=date(2026, 11, 15)))


@pytest.mark.parametrize("window", list(WINDOWS))
@pytest.mark.parametrize("view", [*VIEWS, "llm_calls"])
def test_the_windowed_views_rows_are_the_same(stores: tuple[TraceStore, ClickHouseStore], view: str,
                                              window: str) -> None:
    duck, ch = stores
    if view == "llm_calls":  # read with a time filter: ClickHouse works out only the window's traces
        columns = ("trace_id, span_id, wrapper_span_id, start_time, model, provider, input_tokens, output_tokens, "
                   "cost_usd, cost_source, status_code, project, graph_node")
        params = {"since": WINDOWS[window].since or datetime(1970, 1, 1),
                  "until": WINDOWS[window].until or datetime(2200, 1, 1)}
        sql = (f"SELECT {columns} FROM llm_calls WHERE start_time >= $since AND start_time < $until "
               "ORDER BY trace_id, span_id")
    else:
        key = "loop_span_id" if view == "retry_loops" else "span_id"
        sql = f"SELECT {VIEWS[view]} FROM {view}_in($since, $until) ORDER BY trace_id, {key}"
        params = _params(WINDOWS[window])
    expected = duck.query(sql, params)
    assert expected
    same([list(r) for r in expected], [list(r) for r in ch.query(sql, params)], view)
    if view == "llm_calls":  # read from the calls of the window's traces, kept as a table
        filled = "\n".join(fills(ch, ch.connection.statements[-1]))
        assert "window_spans(since = " in filled and "window_spans(since = NULL, until = NULL)" not in filled


def _reads(plan: str) -> list[tuple[str, int, int, str]]:
    """``(table, parts read, parts, partition condition)`` of each MergeTree read in ``EXPLAIN indexes = 1``."""
    reads = []
    for block in re.split(r"ReadFromMergeTree \(", plan)[1:]:
        table = block.split(")", 1)[0].split(".")[-1]
        parts = re.search(r"Min-Max.*?Parts: (\d+)/(\d+)", block, re.S)
        condition = re.search(r"Partition\n.*?Condition: ([^\n]*)", block, re.S)
        reads.append((table, int(parts.group(1)) if parts else -1, int(parts.group(2)) if parts else -1,
                      condition.group(1) if condition else ""))
    return reads


def _days(condition: str) -> tuple[int, int]:
    """The day numbers bounding a partition condition such as
    ``and((toDate(start_time) in (-Inf, 20515]), (toDate(start_time) in [20462, +Inf)))``."""
    upper = re.search(r"in \(-Inf, (\d+)\]", condition)
    lower = re.search(r"in \[(\d+), \+Inf\)", condition)
    assert upper and lower, condition
    return int(lower.group(1)), int(upper.group(1))


def test_a_windowed_query_reads_the_windows_partitions_and_the_straddling_traces(
        stores: tuple[TraceStore, ClickHouseStore]) -> None:
    """EXPLAIN of the statements that filled the tables ``tools`` read for a window (the views kept as
    tables, _kept_views): every read of the span table (the window's traces, then all their spans) is
    bounded on the partition and ordering keys - to the days from the first to the last start of the
    traces with a span in the window, further than the window itself (straddling traces), far from the
    whole store - and the exporter's table is not read at all."""
    duck, ch = stores
    window = WINDOWS["a week, cut mid-day"]
    tools(ch, window)
    plan = "\n".join(row[0] for select in fills(ch, ch.connection.statements[-1])
                     for row in ch.connection.client.query(f"EXPLAIN indexes = 1 {select}").result_rows)
    (first, last), = duck.query(
        "SELECT min(start_time)::DATE - DATE '1970-01-01', max(start_time)::DATE - DATE '1970-01-01' FROM span_rows "
        "WHERE trace_id IN (SELECT trace_id FROM span_rows WHERE start_time >= $since AND start_time < $until)",
        _params(window))
    since_day = (window.since.date() - date(1970, 1, 1)).days
    reads = _reads(plan)
    span_reads = [r for r in reads if r[0] == span_table_name()]
    assert span_reads and not [r for r in reads if r[0].startswith("otel_traces")], reads
    reach = []
    for table, read, parts, condition in span_reads:
        low, high = _days(condition)  # the partition key takes the bounds: no open side
        assert first <= low and high <= last, (low, high, first, last)
        assert 0 < read < parts, (table, read, parts)  # the ordering key's min-max index skips parts
        reach.append(low)
    assert min(reach) < since_day  # the straddling traces' spans before the window were read
    (stored,), = ch.query(f"SELECT count() FROM (SELECT DISTINCT toDate(start_time) FROM {span_table_name()})")
    assert last - first + 1 < stored  # and the whole store was not
