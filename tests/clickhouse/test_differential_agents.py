"""Tools, agents, retries and compare's turn figures on DuckDB and on ClickHouse over the same data.

DuckDB works out each span's scope (turn, agents, tries, graph node) at ingest;
ClickHouse, filled by the collector's exporter without an ingest step, walks
the span trees when the views are read (``clickhouse/views_scopes_clickhouse.sql``).
The same files - agent steps written as otel-llm, OpenInference and OpenLLMetry
write them (nested and retried agents, tools in retry loops, tools called
outside any agent, model calls a peer instrumentor wraps), plus the edge cases
of the analysis tests (a run without a chat span, a tool whose parent never
arrived, a trace without LLM work, spans whose parents form a cycle) - are
ingested into DuckDB and loaded into chdb behind its HTTP interface; every
analysis and every row of the views must come out the same (floats to 1e-9
relative, as ``test_differential``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterator

import orjson
import pytest

from otel_llm_analysis import Filters, agents, compare, retries, tools
from otel_llm_analysis.clickhouse.store import ClickHouseStore
from otel_llm_analysis.store import TraceStore
from tests.clickhouse.test_differential import both_stores, same, same_on_both
from tests.support import synthetic
from tests.support.clickhouse_http import ChdbHttpServer

WINDOW = Filters.of("2026-11-05", "2026-11-15")


def _edge_cases(path: Path) -> None:
    """The shapes of ``tests/analysis/test_agents.py``'s edge-case test, a parent cycle and a recursive agent."""
    def span(trace: str, span_id: str, parent: str | None, kind: str, name: str, start: int, end: int,
             **attrs: Any) -> synthetic.SpanRecord:
        return synthetic.SpanRecord(
            trace_id=trace * 32, span_id=span_id, parent_span_id=parent, name=name, span_kind="INTERNAL",
            service_name="svc", project="p", otel_kind=kind, start_ns=start, end_ns=end, attributes=attrs)

    t0 = 1_794_000_000 * 10**9  # 2026-11-11
    spans = [  # a run without a chat span: its root is the turn
        span("a", "1" * 16, None, "agent", "invoke_agent root", t0, t0 + 10_000_000,
             **{"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "root"}),
        span("a", "2" * 16, "1" * 16, "tool", "lookup.tool", t0 + 1_000_000, t0 + 3_000_000,
             **{"traceloop.span.kind": "tool", "traceloop.entity.name": "lookup"}),
        # a tool whose parent never arrived: counted, in no turn
        span("a", "3" * 16, "9" * 16, "tool", "lookup", t0 + 4_000_000, t0 + 5_000_000,
             **{"openinference.span.kind": "TOOL", "tool.name": "lookup"}),
        # no LLM work: no turn
        span("b", "4" * 16, None, "vector_op", "insert docs", t0, t0 + 9_000_000, **{"otel_llm.kind": "vector_op"}),
        # parents in a cycle: the spans run in nothing
        span("c", "5" * 16, "6" * 16, "tool", "execute_tool spin", t0, t0 + 2_000_000,
             **{"gen_ai.operation.name": "execute_tool"}),
        span("c", "6" * 16, "5" * 16, "agent", "spinner.agent", t0, t0 + 3_000_000,
             **{"traceloop.span.kind": "agent"}),
        # a recursive agent: an unpriced call, then its inner invocation's call whose usage was not observed
        span("d", "d1" * 8, None, "agent", "invoke_agent rec", t0, t0 + 10_000_000,
             **{"otel_llm.kind": "agent", "gen_ai.agent.name": "rec"}),
        span("d", "d2" * 8, "d1" * 8, "llm_call", "chat no-price-model", t0 + 1_000_000, t0 + 2_000_000,
             **{"otel_llm.kind": "llm_call", "gen_ai.provider.name": "openai",
                "gen_ai.request.model": "no-price-model", "gen_ai.usage.input_tokens": 10,
                "gen_ai.usage.output_tokens": 5}),
        span("d", "d3" * 8, "d1" * 8, "agent", "invoke_agent rec", t0 + 3_000_000, t0 + 9_000_000,
             **{"otel_llm.kind": "agent", "gen_ai.agent.name": "rec"}),
        span("d", "d4" * 8, "d3" * 8, "llm_call", "chat no-price-model", t0 + 4_000_000, t0 + 5_000_000,
             **{"otel_llm.kind": "llm_call", "gen_ai.provider.name": "openai",
                "gen_ai.request.model": "no-price-model", "otel_llm.usage.unobserved": "response not parsed"}),
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps(synthetic.spans_request(spans)) + b"\n")


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory, clickhouse_http: ChdbHttpServer
           ) -> Iterator[tuple[TraceStore, ClickHouseStore]]:
    root = tmp_path_factory.mktemp("differential_agents")
    for seed, (producer, traces) in enumerate((("otel_llm", 60), ("openinference", 20), ("openllmetry", 20))):
        synthetic.generate(root / producer, traces=traces, days=20, agents=producer, peer_spans=seed == 0,
                           seed=23 + seed)
    _edge_cases(root / "edge" / "traces.jsonl")
    yield from both_stores(root, f"clickhouse://default@127.0.0.1:{clickhouse_http.port}/otel_differential_agents")


ANALYSES: dict[str, Callable[[Any], Any]] = {
    "tools": lambda s: tools(s),
    "tools by errors, in a window and a project": lambda s: tools(s, Filters.of("2026-11-05", "2026-11-15",
                                                                                project="support"), order="errors"),
    "agents": lambda s: agents(s),
    "agents in a window": lambda s: agents(s, WINDOW),
    "retries": lambda s: retries(s),
    **{f"retries by {by}": (lambda s, by=by: retries(s, by))
       for by in ("run_config.max_retries", "model", "project", "day")},
    "retries in a window": lambda s: retries(s, "run_config.max_retries", WINDOW),
    "compare by model, with its turns": lambda s: compare(s, "model"),
    "compare by run_config.max_retries, with its turns": lambda s: compare(s, "run_config.max_retries"),
}


@pytest.mark.parametrize("name", list(ANALYSES))
def test_the_analysis_is_the_same_on_both_engines(stores: tuple[TraceStore, ClickHouseStore], name: str) -> None:
    same_on_both(stores, name, ANALYSES[name])


def test_compare_has_the_turn_figures(stores: tuple[TraceStore, ClickHouseStore]) -> None:
    _, ch = stores
    rows = compare(ch, "run_config.max_retries")
    assert all(r.turns > 0 and r.first_time_right_rate is not None for r in rows if r.key is not None)


#: Every view's rows, by the columns both engines have (ids, scopes, counts, times, outcomes).
VIEWS = {
    "span_scopes": "trace_id, span_id, depth, root_span_id, turn_span_id, agent_span_id, agent_name, graph_node, "
                   "agent_depth, attempt_span_id",
    "tool_calls": "trace_id, span_id, parent_span_id, tool_name, tool_type, tool_call_id, attempt, start_time, "
                  "end_time, duration_ms, status_code, status_message, error_type, agent_name, agent_span_id, "
                  "graph_node, turn_span_id, turn_duration_ms, project, service_name, conversation_id, user_id",
    "retry_attempts": "trace_id, span_id, parent_span_id, otel_kind, target, tool_call_id, attempt, start_time, "
                      "end_time, duration_ms, status_code, loop_span_id, is_last",
    "retry_loops": "trace_id, loop_span_id, parent_span_id, otel_kind, target, tries, attempts, outcome, start_time, "
                   "end_time, duration_ms, retry_ms, llm_calls, cost_usd, retry_cost_usd, retry_unknown_cost_calls, "
                   "turn_span_id, "
                   "agent_span_id",
    "agent_invocations": "trace_id, span_id, parent_span_id, agent_name, agent_id, parent_agent_span_id, "
                         "same_name_outer_span_id, start_time, "
                         "end_time, duration_ms, status_code, llm_calls, failed_calls, input_tokens, output_tokens, "
                         "cost_usd, priced_calls, unpriced_calls, unobserved_calls, tool_calls, failed_tool_calls, "
                         "retry_loops, gave_up_loops, "
                         "succeeded, graph_node, turn_span_id, project, service_name, conversation_id, user_id",
    "turns": "trace_id, span_id, name, is_chat, start_time, end_time, duration_ms, status_code, project, "
             "service_name, conversation_id, user_id, otel_kind, graph_node, operation, db_collection, model, "
             "response_model, provider, llm_calls, failed_calls, input_tokens, output_tokens, cost_usd, priced_calls, "
             "tool_calls, failed_tool_calls, agent_invocations, retries, retry_loops, gave_up_loops, loop_attempts, "
             "max_attempts, retry_ms, retry_cost_usd, retry_unknown_cost_calls, succeeded, first_time_right",
}


@pytest.mark.parametrize("view", list(VIEWS))
@pytest.mark.parametrize("window", [None, WINDOW], ids=["whole store", "window"])
def test_the_views_rows_are_the_same(stores: tuple[TraceStore, ClickHouseStore], view: str,
                                     window: Filters | None) -> None:
    duck, ch = stores
    key = "loop_span_id" if view == "retry_loops" else "span_id"
    sql = f"SELECT {VIEWS[view]} FROM {view}_in($since, $until) ORDER BY trace_id, {key}"
    params = {"since": window.since if window else None, "until": window.until if window else None}
    expected = duck.query(sql, params)
    assert expected
    rows = ch.query(sql, params)
    same([list(r) for r in expected], [list(r) for r in rows], view)


def test_the_edge_cases_are_counted_as_on_duckdb(stores: tuple[TraceStore, ClickHouseStore]) -> None:
    """The edge-case traces on ClickHouse: the run's root is its turn; the orphan tool has no turn; the cycle
    runs in nothing; the indexing trace is no turn."""
    _, ch = stores
    edge = {"a": "a" * 32, "b": "b" * 32, "c": "c" * 32}
    rows = ch.query("SELECT span_id, turn_span_id, agent_name FROM tool_calls WHERE trace_id IN ($a, $b, $c) "
                    "ORDER BY span_id", edge)
    assert rows == [("2" * 16, "1" * 16, "root"), ("3" * 16, None, None), ("5" * 16, None, None)]
    turns = ch.query("SELECT trace_id, span_id, is_chat FROM turns WHERE trace_id IN ($a, $b, $c)", edge)
    assert turns == [("a" * 32, "1" * 16, False)]
    assert ch.query("SELECT count() FROM span_scopes WHERE trace_id = $c", {"c": "c" * 32}) == [(0,)]


def test_a_recursive_agent_counts_each_call_once_on_clickhouse(stores: tuple[TraceStore, ClickHouseStore]) -> None:
    """rec inside rec: 2 invocations, 2 calls (not 3); the unpriced and the unobserved call are counted apart."""
    _, ch = stores
    row = {r.agent: r for r in agents(ch)}["rec"]
    assert (row.invocations, row.llm_calls, row.input_tokens, row.unpriced_calls, row.unobserved_calls) == (
        2, 2, 10, 1, 1)
