"""Another producer's LLM call inside otel-llm spans: the same context, and so the same numbers, on both engines.

DuckDB works out at ingest which otel-llm span such a call runs in
(``_call_context``, ``span_rows.context_span_id``); ClickHouse, filled by the
collector's exporter without an ingest step, walks up from the call when
``llm_calls`` is read (``views_clickhouse.sql``: ``llm_call_contexts``). The
shapes of ``tests/analysis/test_call_context.py`` - a call two LangChain spans
below a graph node in a turn, a producer's call outside any otel-llm span, a
peer call in an @agent, a parent cycle - plus a call right in a turn that keeps
its own conversation, and a peer wrapper pair in a turn (a wrapped call takes its
wrapper's context, not the turn's) are ingested into DuckDB and loaded into chdb;
every analysis grouped by the context must come out the same.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterator

import duckdb
import pytest

from otel_llm import semconv
from otel_llm_analysis import Filters, agents, compare, summary, totals
from otel_llm_analysis.clickhouse._export import export_spans
from otel_llm_analysis.clickhouse.store import ClickHouseStore
from otel_llm_analysis.store import TraceStore
from otel_llm_analysis.traces import top_traces
from tests.analysis.test_call_context import OURS, _call, _chain, _line, _node, _span, _turn
from tests.clickhouse.test_differential import both_stores, same, same_on_both
from tests.support.clickhouse_http import ChdbHttpServer


def _ids(trace: str, n: int) -> str:
    return trace[:12] + f"{n:04d}"


def _traces() -> bytes:
    a, b, f, g, h = "a" * 32, "b" * 32, "f" * 32, "9" * 32, "7" * 32
    agent_span = (OURS, _span(g, _ids(g, 2), _ids(g, 1), "invoke_agent helper", 1, {
        semconv.OTEL_LLM_KIND: semconv.KIND_AGENT, semconv.GEN_AI_AGENT_NAME: "helper",
        semconv.OTEL_LLM_PROJECT: "shop", semconv.GEN_AI_CONVERSATION_ID: "c7"}))
    own_conversation = _call(h, _ids(h, 2), _ids(h, 1), 3)
    own_conversation[1]["attributes"].append(
        {"key": semconv.GEN_AI_CONVERSATION_ID, "value": {"stringValue": "own"}})
    wrapper = _call(h, _ids(h, 3), _ids(h, 1), 4)  # a peer's LLM span around a peer's call, in the turn
    return _line([
        # two LangChain spans between the call and the graph node it runs in
        _turn(a, "c1", "s1"), _node(a, _ids(a, 2), _ids(a, 1), "retrieve", "c1", "s1"),
        _chain(a, _ids(a, 3), _ids(a, 2)), _chain(a, _ids(a, 4), _ids(a, 3)),
        _call(a, _ids(a, 5), _ids(a, 4), 10),
        _call(b, _ids(b, 5), None, 7),  # a script's call: no app span around it
        # hostile ids: the call's parent is a producer span whose parent is the call
        _chain(f, _ids(f, 3), _ids(f, 5)), _call(f, _ids(f, 5), _ids(f, 3), 11),
        # a peer's call in an @agent inside a turn
        _turn(g, "c7", "s2"), agent_span, _call(g, _ids(g, 5), _ids(g, 2), 13),
        # right in a turn: its own conversation stays, the turn's user and run config come
        _turn(h, "c8", "s3"), own_conversation, wrapper, _call(h, _ids(h, 4), _ids(h, 3), 5),
    ])


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory, clickhouse_http: ChdbHttpServer
           ) -> Iterator[tuple[TraceStore, ClickHouseStore]]:
    root = tmp_path_factory.mktemp("differential_call_context")
    (root / "traces.jsonl").write_bytes(_traces())
    yield from both_stores(root, f"clickhouse://default@127.0.0.1:{clickhouse_http.port}/otel_differential_context")


ANALYSES: dict[str, Callable[[Any], Any]] = {
    **{f"summary by {by}": (lambda s, by=by: summary(s, by))
       for by in ("conversation", "node", "run_config.scenario", "user", "project", "model")},
    "summary of project shop": lambda s: summary(s, "conversation", Filters(project="shop")),
    "totals": lambda s: totals(s),
    "compare by run_config.scenario": lambda s: compare(s, "run_config.scenario"),
    "top traces": lambda s: top_traces(s, 10),
    "top traces of project shop": lambda s: top_traces(s, 10, filters=Filters(project="shop")),
    "agents": lambda s: agents(s),
}


@pytest.mark.parametrize("name", list(ANALYSES))
def test_the_analysis_is_the_same_on_both_engines(stores: tuple[TraceStore, ClickHouseStore], name: str) -> None:
    same_on_both(stores, name, ANALYSES[name])


def test_the_calls_take_the_nearest_app_spans_context_on_clickhouse(
        stores: tuple[TraceStore, ClickHouseStore]) -> None:
    """Each call's context as DuckDB gives it, and what that is: the node's below the chains, none outside
    any app span or in a cycle, the agent's in the agent, the own conversation kept, the wrapped call none."""
    duck, ch = stores
    sql = (f"SELECT span_id, project, conversation_id, user_id, graph_node, "
           f"attributes['{semconv.OTEL_LLM_RUN_CONFIG_PREFIX}scenario'], attributes['{semconv.OTEL_LLM_GRAPH_NAME}'] "
           "FROM llm_calls ORDER BY span_id")
    expected = duck.query(sql)
    # (the wrapped call, 7…0004, takes its wrapper's context, views.sql's rule 4: compared below only)
    assert [tuple(row) for row in expected if row[0] != _ids("7" * 32, 4)] == [
        (_ids("7" * 32, 2), "shop", "own", "u1", None, "s3", None),
        (_ids("9" * 32, 5), "shop", "c7", None, None, None, None),
        (_ids("a" * 32, 5), "shop", "c1", "u1", "retrieve", "s1", "rag"),
        (_ids("b" * 32, 5), None, None, None, None, None, None),
        (_ids("f" * 32, 5), None, None, None, None, None, None),
    ]
    same([list(r) for r in expected], [list(r) for r in ch.query(sql)], "llm_calls")


def test_a_call_without_context_reads_as_before(stores: tuple[TraceStore, ClickHouseStore]) -> None:
    """The calls no app span holds keep their own attributes only: nothing added, nothing lost."""
    _, ch = stores
    rows = ch.query("SELECT span_id, attr_keys FROM llm_calls WHERE trace_id IN ($b, $f)",
                    {"b": "b" * 32, "f": "f" * 32})
    assert sorted(span for span, _ in rows) == [_ids("b" * 32, 5), _ids("f" * 32, 5)]
    assert all(not [k for k in keys if k.startswith("otel_llm.")] for _, keys in rows)


def test_the_export_writes_each_calls_context_span_as_duckdb_does(
        stores: tuple[TraceStore, ClickHouseStore], tmp_path: Path) -> None:
    """``export spans`` from ClickHouse fills ``context_span_id`` as DuckDB's ``spans`` holds it."""
    duck, ch = stores
    expected = duck.query("SELECT span_id, context_span_id FROM spans ORDER BY span_id")
    assert [row for row in expected if row[1] is not None]
    out = export_spans(ch.connection.client, ch.url.database, tmp_path, "parquet")
    with duckdb.connect() as con:
        written = con.execute(f"SELECT span_id, context_span_id FROM read_parquet('{out}/**/*.parquet') "
                              "ORDER BY span_id").fetchall()
    assert written == [tuple(row) for row in expected]
