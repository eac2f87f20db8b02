"""Summary totals and groupings against sums, counts and percentiles recomputed from the records."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest

from otel_llm_analysis._filters import Filters
from otel_llm_analysis import summaries
from otel_llm_analysis.summaries import summary, time_to_first_token, totals

from _ground_truth import close, group, is_llm, percentile, run_config, store_fixture


loaded = store_fixture(seed=11, traces=160)


#: dimensions whose groups without calls are timed and failed by their spans (summaries._SPAN_DIMENSIONS)
SPAN_DIMENSIONS = ("kind", "node", "collection", "db_operation")


def _expected(spans, key=object(), by=None):
    calls = [s for s in spans if is_llm(s)]
    # a group without calls has its spans' error rate and latency only in a span dimension, under a key
    unit = calls or (spans if by in SPAN_DIMENSIONS and key is not None else [])
    failed = sum(1 for s in calls if s.status_code == 2)
    priced = [s.cost_usd for s in calls if s.cost_usd is not None]
    priced_successes = sum(1 for s in calls if s.cost_usd is not None and s.status_code != 2)
    cost = sum(priced) if priced or not calls else None  # unpriced calls: unknown, not 0
    durations = [s.duration_ms for s in unit]
    return {
        "spans": len(spans),
        "traces": len({s.trace_id for s in spans}),
        "llm_calls": len(calls),
        "turns": sum(1 for s in spans if s.otel_kind == "chat"),
        "failed_calls": failed,
        "input_tokens": sum(s.input_tokens or 0 for s in calls),
        "output_tokens": sum(s.output_tokens or 0 for s in calls),
        "cache_read_tokens": sum(s.cache_read_tokens or 0 for s in calls),
        "cache_write_tokens": sum(s.cache_write_tokens or 0 for s in calls),
        "reasoning_tokens": sum(s.reasoning_tokens or 0 for s in calls),
        "cost_usd": cost,
        "error_rate": sum(1 for s in unit if s.status_code == 2) / len(unit) if unit else None,
        "p50_ms": percentile(durations, 0.5),
        "p95_ms": percentile(durations, 0.95),
        "p99_ms": percentile(durations, 0.99),
        # both per-call costs divide the same priced calls' cost: by all of them, by those that succeeded
        "cost_per_success": cost / priced_successes if cost is not None and priced_successes else None,
        "priced_calls": len(priced),
        "cost_per_call": cost / len(priced) if priced else None,
    }


def _assert_row(row, expected):
    for name, value in expected.items():
        actual = getattr(row, name)
        if isinstance(value, float):
            assert close(actual, value, rel=1e-9, abs_=1e-6), (name, actual, value)
        else:
            assert actual == value, (name, actual, value)


def test_cost_per_success_is_never_below_cost_per_call(loaded):
    """Both are over the priced calls: a success costs at least the mean call (failures still cost)."""
    store, _ = loaded
    for row in [totals(store), *summary(store, "model"), *summary(store, "project")]:
        if row.cost_per_call is not None and row.cost_per_success is not None:
            assert row.cost_per_success >= row.cost_per_call - 1e-12, row


def test_totals_match_the_records(loaded):
    store, data = loaded
    row = totals(store)
    expected = _expected(data.spans)
    _assert_row(row, expected)
    assert row.cost_share == pytest.approx(1.0)
    assert row.cost_per_turn == pytest.approx(expected["cost_usd"] / expected["turns"])
    assert row.cost_per_trace == pytest.approx(expected["cost_usd"] / expected["traces"])
    tokens = expected["input_tokens"] + expected["output_tokens"]
    assert row.tokens_per_turn == pytest.approx(tokens / expected["turns"])
    assert 0 < row.error_rate < 1  # the generator plants failures; a zero here would hide a bug


@pytest.mark.parametrize(
    ("by", "key"),
    [
        ("model", lambda s: s.model),
        ("response_model", lambda s: s.response_model),
        ("project", lambda s: s.project),
        ("service", lambda s: s.service_name),
        ("provider", lambda s: s.provider),
        ("operation", lambda s: s.operation),
        ("day", lambda s: s.start_time.date()),
        ("week", lambda s: datetime.combine(s.start_time.date() - timedelta(s.start_time.weekday()), time())),
        ("kind", lambda s: s.otel_kind),
        ("node", lambda s: s.graph_node),
        ("collection", lambda s: s.db_collection),
        ("user", lambda s: s.user_id),
        ("conversation", lambda s: s.conversation_id),
        ("run_config.max_retries", lambda s: run_config(s, "max_retries")),
    ],
)
def test_grouped_rows_match_the_records(loaded, by, key):
    store, data = loaded
    expected_groups = group(data.spans, key)
    rows = {row.key: row for row in summary(store, by)}
    assert set(rows) == set(expected_groups)
    total_cost = sum(s.cost_usd or 0.0 for s in data.spans if is_llm(s))
    for name, spans in expected_groups.items():
        expected = _expected(spans, name, by)
        _assert_row(rows[name], expected)
        share = None if expected["cost_usd"] is None else expected["cost_usd"] / total_cost
        assert close(rows[name].cost_share, share, abs_=1e-9)


@pytest.mark.parametrize("calls_only", [False, True])
@pytest.mark.parametrize("by", ["model", "run_config.max_retries", None])
def test_without_traces_every_other_figure_is_the_same(loaded, by, calls_only):
    """``traces=False`` (compare, the dashboard's model lists) skips the distinct trace count, nothing else."""
    store, _ = loaded
    filters = Filters(calls_only=calls_only)
    full = {row.key: row for row in summary(store, by, filters)}
    lean = {row.key: row for row in summary(store, by, filters, traces=False)}
    assert set(lean) == set(full) and all(row.traces > 0 for row in full.values())
    for key, row in lean.items():
        assert (row.traces, row.cost_per_trace) == (0, None)
        expected = {name: getattr(full[key], name) for name in row.__slots__ if name not in ("traces", "cost_per_trace")}
        assert {name: getattr(row, name) for name in expected} == expected


@pytest.mark.parametrize("by", ["node", "kind", "collection"])
def test_span_latency_beside_the_summary_is_the_latency_read_after_it(loaded, by, monkeypatch):
    """On DuckDB these dimensions' span latency runs on a second cursor at the same time; read after, the same."""
    store, _ = loaded
    beside = {row.key: row for row in summary(store, by)}
    monkeypatch.setattr(summaries, "_beside", lambda con, summary_sql, latency_sql, params: (
        summaries.fetch_dicts(con, summary_sql, params), summaries._span_latency(con, latency_sql, params)))
    after = {row.key: row for row in summary(store, by)}
    assert set(beside) == set(after)
    assert any(not row.llm_calls and row.p95_ms is not None for row in beside.values())  # groups of spans
    for key, row in beside.items():
        assert (row.p50_ms, row.p95_ms, row.p99_ms, row.spans, row.traces) == (
            after[key].p50_ms, after[key].p95_ms, after[key].p99_ms, after[key].spans, after[key].traces)


def test_cost_share_per_model_sums_to_one_and_orders_by_cost(loaded):
    store, _ = loaded
    rows = summary(store, "model")
    assert sum(r.cost_share or 0 for r in rows) == pytest.approx(1.0)
    assert any(r.cost_usd is None and r.llm_calls for r in rows)  # the generator's unpriced model
    costs = [r.cost_usd or 0 for r in rows]
    assert costs == sorted(costs, reverse=True)


def test_time_window_and_equality_filters(loaded):
    store, data = loaded
    starts = sorted(s.start_time for s in data.spans)
    since, until = starts[len(starts) // 3], starts[2 * len(starts) // 3]
    project = data.spans[0].project
    row = totals(store, Filters(since=since, until=until, project=project))
    chosen = [s for s in data.spans if since <= s.start_time < until and s.project == project]
    _assert_row(row, _expected(chosen))


def test_relative_and_iso_times_parse():
    assert Filters.of("2026-11-01").since == datetime(2026, 11, 1)
    assert Filters.of("2026-11-01T10:00:00Z").since == datetime(2026, 11, 1, 10)
    with pytest.raises(ValueError):
        Filters.of("last tuesday")


def test_time_to_first_token_of_streamed_calls(loaded):
    store, data = loaded
    ttft = [s.stream_ttft_ms for s in data.spans if s.stream_ttft_ms is not None]
    (row,) = time_to_first_token(store)
    assert row.streams == len(ttft) > 0
    assert row.p50_ms == pytest.approx(percentile(ttft, 0.5), abs=2e-3)
    assert row.p95_ms == pytest.approx(percentile(ttft, 0.95), abs=2e-3)


def test_unknown_dimension_is_rejected_before_any_sql(loaded):
    store, _ = loaded
    with pytest.raises(ValueError, match="unknown dimension"):
        summary(store, "colour")
    with pytest.raises(ValueError, match="invalid run_config key"):
        summary(store, "run_config.x'] OR 1=1 --")


def test_empty_store_gives_a_zero_row(tmp_path):
    from otel_llm_analysis.store import TraceStore

    store = TraceStore(str(tmp_path / "empty.duckdb"))
    row = totals(store)
    assert (row.spans, row.llm_calls, row.cost_usd, row.p95_ms) == (0, 0, 0.0, None)
    assert summary(store, "model") == []
    store.close()


def test_spans_of_other_producers_count_as_llm_calls_by_operation(tmp_path):
    """No ``otel_llm.kind`` (OpenLLMetry, OpenLIT...): the GenAI operation decides."""
    import orjson

    from tests.support import synthetic
    from otel_llm_analysis.store import TraceStore

    def span(span_id, parent, operation, **attributes):
        record = synthetic.SpanRecord(
            trace_id="ab" * 16, span_id=span_id, parent_span_id=parent, name=operation, span_kind="CLIENT",
            service_name="other", project="", otel_kind="", start_ns=1_763_600_000_000_000_000,
            end_ns=1_763_600_000_500_000_000, resource={"service.name": "other"},
        )
        record.attributes = {"gen_ai.operation.name": operation, **attributes}
        return record

    spans = [
        span("1" * 16, None, "invoke_agent"),
        span("2" * 16, "1" * 16, "chat", **{"gen_ai.request.model": "gpt-4o", "gen_ai.usage.input_tokens": 10,
                                             "gen_ai.usage.output_tokens": 4, "gen_ai.usage.cost": 0.25}),
        span("3" * 16, "1" * 16, "execute_tool"),
    ]
    path = tmp_path / "traces.jsonl"
    path.write_bytes(orjson.dumps(synthetic.spans_request(spans)) + b"\n")
    store = TraceStore(str(tmp_path / "other.duckdb"))
    store.ingest([str(path)])
    row = totals(store)
    assert (row.spans, row.traces, row.llm_calls, row.turns) == (3, 1, 1, 0)
    assert (row.input_tokens, row.output_tokens, row.cost_usd) == (10, 4, 0.25)
    assert row.p50_ms == pytest.approx(500.0)
    store.close()


#: How long the interrupted-summary test waits before it stops a query the summary left running itself (and
#: fails): far beyond the summary's own stop (well under a second), so a loaded machine's scheduling cannot fail it
VALVE_S = 15


#: Set in the child process that runs the interrupted-summary test itself.
_IN_CHILD = "OTEL_LLM_TEST_INTERRUPT_CHILD"


@pytest.mark.parametrize("during", ["summary query", "wait for the latency"])
def test_an_interrupted_summary_stops_the_latency_query_beside_it(request, during):
    """A Ctrl-C (or a timeout's signal) that reached the summary's thread left the span-latency query on
    the second cursor running: the summary returned only when that query ended (Ctrl-C ignored meanwhile;
    the interrupt surfaced as DuckDB's "Query interrupted"). Now the query beside it stops too.

    And with the summary's own query on the summary's thread, DuckDB, waiting for its workers, could miss
    the signal for as long as its query ran: under load 5 the "summary query" case failed 3 runs in 12 (a
    lone DuckDB query on the main thread missed one SIGINT in 12 too). Both queries now run in threads of
    their own while the summary's thread waits in short steps: 32 runs of 32 passed at load 6-7.

    The signal is real, so the test runs in a process of its own, as a user's Ctrl-C reaches a fresh
    ``otel-llm`` process, whatever earlier tests left behind.
    """
    import os
    import subprocess
    import sys

    if os.environ.get(_IN_CHILD):
        _interrupted_summary(request.getfixturevalue("loaded"), request.getfixturevalue("monkeypatch"), during)
        return
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", request.node.nodeid],
                          env={**os.environ, _IN_CHILD: "1"}, cwd=request.config.rootpath, capture_output=True,
                          text=True, timeout=180)
    assert done.returncode == 0 and "1 passed" in done.stdout, done.stdout[-4000:] + done.stderr[-2000:]


def _interrupted_summary(loaded, monkeypatch, during) -> None:
    import os
    import signal
    import threading
    import time

    store, _ = loaded
    beside: dict[str, object] = {}
    started = threading.Event()
    endless = "SELECT count(*) FROM range(10000000000000) t(n) WHERE n % 7 = 3"

    def slow_latency(cursor, sql, params):
        beside["cursor"] = cursor
        started.set()
        try:
            cursor.execute(endless).fetchall()
        except BaseException as exc:
            beside["stopped_by"] = exc
            raise
        return {}

    if during == "summary query":  # the interrupt lands inside DuckDB on the summary's own connection
        real = summaries.fetch_dicts

        def slow_summary(con, sql, params=None):
            started.wait(5)
            return real(con, endless, {}) if "span_groups" in sql else real(con, sql, params)
        monkeypatch.setattr(summaries, "fetch_dicts", slow_summary)
    monkeypatch.setattr(summaries, "_span_latency", slow_latency)

    def interrupt() -> None:
        started.wait(5)
        time.sleep(1.0)  # (the summary's own query is under way by then, on a busy machine too)
        os.kill(os.getpid(), signal.SIGINT)  # as Ctrl-C: a real signal wakes a thread that waits
        time.sleep(VALVE_S)  # a safety valve: a query the summary left running is stopped by the test, and fails it
        if "stopped_by" not in beside and "cursor" in beside:
            beside["left_running"] = True
            beside["cursor"].interrupt()
            connection(store).interrupt()

    from otel_llm_analysis._filters import connection

    # Ctrl-C's own handler, whatever an earlier test (a CLI run) left installed
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    helper = threading.Thread(target=interrupt, daemon=True)
    helper.start()
    began = time.monotonic()
    try:
        with pytest.raises((KeyboardInterrupt, RuntimeError)):
            summary(store, "node")
    finally:
        signal.signal(signal.SIGINT, previous)
    elapsed = time.monotonic() - began
    assert "left_running" not in beside and elapsed < VALVE_S, elapsed
    assert "stopped_by" in beside  # the query beside it ended, interrupted


def test_a_group_of_only_other_producers_spans_shows_no_calls_error_rate(tmp_path):
    """By project, the no-key row of a peer's non-call spans (an HTTP span that failed, a LangChain chain) is
    no group of calls: 0 calls and no error rate or latency, which are the calls' (its spans' failures are
    not failed calls); every call stays in a group, so the sums are ``totals()``. By node (a span dimension)
    a node's figures are its spans'."""
    import orjson

    from tests.support import synthetic
    from otel_llm_analysis.store import TraceStore

    def span(trace, span_id, parent, name, project, status=0, **attributes):
        record = synthetic.SpanRecord(
            trace_id=trace * 32, span_id=span_id * 16, parent_span_id=parent and parent * 16, name=name,
            span_kind="CLIENT", service_name="app", project=project, otel_kind="", status_code=status,
            start_ns=1_763_600_000_000_000_000, end_ns=1_763_600_000_400_000_000, resource={"service.name": "app"})
        record.attributes = attributes
        return record

    call = {"otel_llm.kind": "llm_call", "otel_llm.project": "shop", "gen_ai.operation.name": "chat",
            "gen_ai.request.model": "gpt-4o", "gen_ai.usage.input_tokens": 10, "gen_ai.usage.output_tokens": 4,
            "otel_llm.graph.node": "answer"}
    spans = [
        span("a", "1", None, "turn", "shop", **{"otel_llm.kind": "chat", "otel_llm.project": "shop"}),
        span("a", "2", "1", "chat gpt-4o", "shop", **call),
        span("a", "3", "1", "chat gpt-4o", "shop", status=2, **call),
        span("b", "4", None, "RunnableSequence.workflow", "", **{"traceloop.span.kind": "workflow"}),
        span("b", "5", "4", "POST", "", status=2, **{"http.request.method": "POST", "langgraph.node": "fetch",
                                                     "http.response.status_code": 500}),
    ]
    path = tmp_path / "traces.jsonl"
    path.write_bytes(orjson.dumps(synthetic.spans_request(spans)) + b"\n")
    with TraceStore(str(tmp_path / "peer.duckdb")) as store:
        store.ingest([str(path)])
        kpi, rows = totals(store), {row.key: row for row in summary(store, "project")}
        assert (kpi.llm_calls, kpi.failed_calls, kpi.error_rate) == (2, 1, 0.5)
        assert sum(row.llm_calls for row in rows.values()) == kpi.llm_calls
        assert sum(row.spans for row in rows.values()) == kpi.spans
        assert (rows["shop"].llm_calls, rows["shop"].error_rate) == (2, 0.5)
        none = rows[None]
        assert (none.llm_calls, none.failed_calls, none.spans) == (0, 0, 2)
        assert (none.error_rate, none.p50_ms, none.p95_ms) == (None, None, None)
        by_node = {row.key: row for row in summary(store, "node")}
        assert (by_node["answer"].llm_calls, by_node["answer"].error_rate) == (2, 0.5)
        assert (by_node["fetch"].llm_calls, by_node["fetch"].error_rate, by_node["fetch"].p50_ms) == (0, 1.0, 400.0)
        assert by_node[None].error_rate is None  # whatever lacks a node: no unit of its own


def test_an_interrupt_while_the_latency_query_is_handed_to_its_thread_stops_it(loaded, monkeypatch):
    """A Ctrl-C that lands while the summary hands the span-latency query to its thread - which may have
    started it already - came before the summary's ``try``: the pool's exit then waited for that query to
    end (seen under load, where the handing-over takes long). It is interrupted as at any other moment."""
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    from otel_llm_analysis import _interruptible

    store, _ = loaded
    started, beside = threading.Event(), {}
    endless = "SELECT count(*) FROM range(10000000000000) t(n) WHERE n % 7 = 3"

    def slow_latency(cursor, sql, params):
        beside["cursor"] = cursor
        started.set()
        cursor.execute(endless).fetchall()
        return {}

    class InterruptedWhileHanding(ThreadPoolExecutor):
        def submit(self, fn, /, *args, **kwargs):
            future = super().submit(fn, *args, **kwargs)
            started.wait(5)
            time.sleep(0.2)  # the query beside is running
            raise KeyboardInterrupt

    def valve() -> None:  # a query left running is stopped by the test, which fails it
        time.sleep(8)
        if not finished.is_set() and "cursor" in beside:
            beside["left_running"] = True
            beside["cursor"].interrupt()

    monkeypatch.setattr(summaries, "_span_latency", slow_latency)
    monkeypatch.setattr(_interruptible, "ThreadPoolExecutor", InterruptedWhileHanding)
    finished = threading.Event()
    threading.Thread(target=valve, daemon=True).start()
    began = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        summary(store, "node")
    finished.set()
    assert "left_running" not in beside and time.monotonic() - began < 8
