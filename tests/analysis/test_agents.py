"""Tools, agents and retries against ground truth computed in plain Python from the generator's records.

The data (``synthetic.generate(agents=...)``) ends half the turns with an agent
step: a ``planner`` agent that calls tools in retry loops, sometimes a nested
``researcher`` agent retried when it fails, tool calls that time out, model
calls that fail; every turn's answer is generated in a retry loop of its own,
numbered with ``otel_llm.attempt`` up to the turn's ``max_retries``.
"""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from otel_llm_analysis import Filters, TraceStore, agents, compare, retries, tools
from tests.analysis import _agent_truth as truth
from tests.analysis._ground_truth import load
from tests.support import synthetic

OPTIONS = dict(seed=23, traces=240, days=20)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Any:
    store, data = load(tmp_path_factory.mktemp("agents"), agents="otel_llm", **OPTIONS)
    yield store, data, truth.Tree(data.spans)
    store.close()


def _same(actual: dict[str, Any], expected: dict[str, Any], context: str) -> None:
    for name, want in expected.items():
        got = actual[name]
        if isinstance(want, float) and got is not None:
            assert math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-6), (context, name, got, want)
        else:
            assert got == want, (context, name, got, want)


def _fields(row: Any) -> dict[str, Any]:
    return {name: getattr(row, name) for name in row.__slots__}


def test_the_data_has_what_the_analyses_count(loaded) -> None:
    """Failing and retried tools, nested and failing agents, loops that gave up: the cases are all there."""
    _, data, tree = loaded
    loops = truth.loops(tree)
    kinds = {s.otel_kind for s in data.spans}
    assert {"tool", "agent"} <= kinds
    assert any(s.otel_kind == "tool" and s.status_code == 2 for s in data.spans)
    assert any(s.otel_kind == "agent" and len(tree.agents(s)) == 2 for s in data.spans)  # nested
    assert any(s.otel_kind == "agent" and s.status_code == 2 for s in data.spans)
    assert {loop.tries[0].otel_kind for loop in loops if len(loop.tries) > 1} == {"llm_call", "tool", "agent"}
    assert any(loop.gave_up for loop in loops) and any(loop.retry_cost for loop in loops)
    assert any(s.otel_kind == "tool" and not tree.agents(s) for s in data.spans)  # called by a node itself


def test_tools_match_ground_truth(loaded) -> None:
    store, _, tree = loaded
    rows = tools(store)
    expected = truth.tools(tree)
    assert {r.tool for r in rows} == set(expected) == set(synthetic.TOOLS) | {"get_time"}
    for row in rows:
        _same(_fields(row), expected[row.tool], row.tool)
    p95s = [r.p95_ms for r in rows]
    assert p95s == sorted(p95s, reverse=True)  # slowest first
    by_errors = tools(store, order="errors")
    assert [r.error_rate for r in by_errors] == sorted((r.error_rate for r in rows), reverse=True)


def test_tools_in_a_window_and_a_project(loaded) -> None:
    store, data, tree = loaded
    since, until = datetime(2026, 11, 5), datetime(2026, 11, 12)
    project = "support"
    rows = tools(store, Filters.of(since, until, project=project))
    expected = truth.tools(tree, lambda s: since <= s.start_time < until and s.project == project)
    assert rows and {r.tool: r.calls for r in rows} == {name: e["calls"] for name, e in expected.items()}
    for row in rows:
        _same(_fields(row), expected[row.tool], row.tool)


def test_agents_match_ground_truth(loaded) -> None:
    store, _, tree = loaded
    rows = agents(store)
    expected = truth.agents(tree)
    assert [r.agent for r in rows] == ["planner", "researcher"]
    for row in rows:
        _same(_fields(row), expected[row.agent], row.agent)
    planner, researcher = rows
    assert planner.gave_up > 0 and planner.failed > 0 and 0 < planner.success_rate < 1
    # a nested agent's work counts in the agent around it too
    assert planner.llm_calls_per_invocation > 2


@pytest.mark.parametrize("by", [None, "run_config.max_retries"])
def test_retries_match_ground_truth(loaded, by) -> None:
    store, _, tree = loaded
    rows = retries(store, by)
    expected = truth.retries(tree, by and by.split(".", 1)[1])
    assert {r.key for r in rows} == set(expected)
    for row in rows:
        _same(_fields(row), expected[row.key], str(row.key))
    if by:
        assert [r.key for r in rows] == ["0", "1", "3"]  # numbers in order


def test_more_retries_more_success_and_more_attempts(loaded) -> None:
    """Seed 003's question, answered from the traces: success rate against attempts and duration per max_retries."""
    store, _, tree = loaded
    rows = {r.key: r for r in compare(store, "run_config.max_retries")}
    expected = truth.retries(tree, "max_retries")
    for key, row in rows.items():
        want = expected[key]
        assert row.turns == want["turns"]
        assert math.isclose(row.turn_success_rate, want["success_rate"])
        assert math.isclose(row.first_time_right_rate, want["first_time_right_rate"])
        assert math.isclose(row.mean_attempts, want["mean_attempts"])
        assert math.isclose(row.mean_turn_ms, want["mean_turn_ms"])
        assert math.isclose(row.p95_turn_ms, want["p95_turn_ms"])
    assert rows["0"].turn_success_rate < rows["1"].turn_success_rate < rows["3"].turn_success_rate
    assert rows["0"].mean_attempts == 1 < rows["1"].mean_attempts


def test_every_span_has_its_scope_and_every_tool_its_turn(loaded) -> None:
    """Nothing is lost in the walk: each span once, each tool call and agent with its turn."""
    store, data, tree = loaded
    scoped = dict(store.query("SELECT span_id, turn_span_id FROM span_scopes"))
    assert len(scoped) == len(data.spans) == store.query("SELECT count(*) FROM span_scopes")[0][0]
    for span in data.spans:
        assert scoped[span.span_id] == tree.turn(span).span_id
    assert store.query("SELECT count(*), count(turn_span_id) FROM tool_calls")[0] == (
        sum(s.otel_kind == "tool" for s in data.spans),) * 2
    assert store.query("SELECT count(*) FROM turns")[0][0] == sum(s.otel_kind == "chat" for s in data.spans)


@pytest.mark.parametrize("producer", ["openinference", "openllmetry"])
def test_other_producers_tool_and_agent_spans_count_the_same(tmp_path: Path, loaded, producer: str) -> None:
    """The same agent steps written with OpenInference's or OpenLLMetry's attributes give the same figures.

    Their spans carry no attempt numbers, no project and no graph node: the
    retries are not seen, the rest comes from the tree.
    """
    store, _, _ = loaded
    theirs, data = load(tmp_path, agents=producer, **OPTIONS)
    tree = truth.Tree(data.spans)
    try:
        ours_tools = {r.tool: _fields(r) for r in tools(store)}
        for row in tools(theirs):
            _same(_fields(row), truth.tools(tree)[row.tool], row.tool)
            _same(_fields(row), {k: v for k, v in ours_tools[row.tool].items() if k != "retries"}, row.tool)
            assert row.retries == 0
        assert {r.tool: r.calls for r in tools(theirs)} == {r.tool: r.calls for r in tools(store)}
        for row in agents(theirs):
            _same(_fields(row), truth.agents(tree)[row.agent], row.agent)
        assert [(r.agent, r.invocations, r.llm_calls, r.tool_calls) for r in agents(theirs)] == [
            (r.agent, r.invocations, r.llm_calls, r.tool_calls) for r in agents(store)]
        # a peer's tool span has no project: it takes its turn's
        support = tools(theirs, Filters(project="support"))
        assert sum(r.calls for r in support) == sum(
            1 for s in data.spans if s.otel_kind == "tool" and s.project == "support")
    finally:
        theirs.close()


def test_orphans_and_turns_without_a_chat_span(tmp_path: Path) -> None:
    """A run without a chat span: its root is the turn. A tool whose parent never arrived: counted, no turn.

    A trace that did no LLM work (an indexing job) is no turn.
    """
    def span(span_id: str, parent: str | None, kind: str, name: str, start: int, end: int, trace: str = "a",
             **attrs: Any) -> Any:
        return synthetic.SpanRecord(
            trace_id=trace * 32, span_id=span_id, parent_span_id=parent, name=name, span_kind="INTERNAL",
            service_name="svc", project="p", otel_kind=kind, start_ns=start, end_ns=end, attributes=attrs)

    t0 = 1_790_000_000 * 10**9
    spans = [
        span("1" * 16, None, "agent", "invoke_agent root", t0, t0 + 10_000_000,
             **{"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "root"}),
        span("2" * 16, "1" * 16, "tool", "lookup.tool", t0 + 1_000_000, t0 + 3_000_000,
             **{"traceloop.span.kind": "tool", "traceloop.entity.name": "lookup"}),
        span("3" * 16, "9" * 16, "tool", "lookup", t0 + 4_000_000, t0 + 5_000_000,
             **{"openinference.span.kind": "TOOL", "tool.name": "lookup"}),
        span("4" * 16, None, "vector_op", "insert docs", t0, t0 + 9_000_000, trace="b",
             **{"otel_llm.kind": "vector_op"}),
    ]
    path = tmp_path / "traces.jsonl"
    import orjson

    path.write_bytes(orjson.dumps(synthetic.spans_request(spans)) + b"\n")
    with TraceStore(str(tmp_path / "s.duckdb")) as store:
        store.ingest([str(path)])
        (row,) = tools(store)
        assert (row.tool, row.calls, row.turns, row.agents) == ("lookup", 2, 1, "root")
        assert math.isclose(row.time_share, 2 / 10) and row.calls_per_turn == 1
        (agent,) = agents(store)
        assert (agent.agent, agent.tool_calls, agent.success_rate) == ("root", 1, 1.0)
        (turn,) = retries(store)
        assert (turn.turns, turn.loops, turn.first_time_right) == (1, 0, 1)


def test_empty_store_has_no_rows(tmp_path: Path) -> None:
    with TraceStore(str(tmp_path / "empty.duckdb")) as store:
        assert tools(store) == [] and agents(store) == [] and retries(store) == []
        assert retries(store, "run_config.max_retries") == [] and compare(store, "model") == []


def test_model_filter_is_refused_for_tools_and_agents(loaded) -> None:
    store, _, _ = loaded
    for analysis in (tools, agents):
        with pytest.raises(ValueError, match="no model"):
            analysis(store, Filters(model="gpt-4o"))


def test_a_store_from_before_the_views_says_how_to_add_them(tmp_path: Path) -> None:
    """Views are created when a store is opened for writing: an older store, read-only, lacks them - one line."""
    import duckdb

    from otel_llm_analysis import StoreError
    from tests.analysis.test_agents_cli import run

    path = tmp_path / "old.duckdb"
    TraceStore(str(path)).close()
    with duckdb.connect(str(path)) as con:  # what a store written by an older otel-llm has: no such macros
        for (name,) in con.execute("SELECT function_name FROM duckdb_functions() WHERE function_type = 'table_macro' "
                                   "AND function_name LIKE '%\\_in' ESCAPE '\\'").fetchall():
            view = name[:-3]
            con.execute(f"DROP VIEW IF EXISTS {view}")
            con.execute(f"DROP MACRO TABLE {name}")
    with TraceStore(str(path), read_only=True) as old:
        for analysis in (tools, agents, retries):
            with pytest.raises(StoreError, match="otel-llm ingest"):
                analysis(old)
    result = run("tools", "--db", str(path))
    assert result.exit_code == 1 and "predates" in result.output and "Traceback" not in result.output
    TraceStore(str(path)).close()  # opened for writing: the views are back
    with TraceStore(str(path), read_only=True) as upgraded:
        assert tools(upgraded) == []


@pytest.mark.parametrize("kind, attributes, span_name, expected", [
    ("tool", {"gen_ai.tool.name": "search_web"}, "execute_tool other", "search_web"),
    ("tool", {"tool.name": "lookup"}, "lookup", "lookup"),  # OpenInference
    ("tool", {"traceloop.entity.name": "get_weather"}, "get_weather.tool", "get_weather"),  # OpenLLMetry
    ("tool", {}, "execute_tool search_web", "search_web"),
    ("tool", {}, "search_web.tool", "search_web"),
    ("tool", {}, "execute_tool ", "execute_tool "),  # nothing after the prefix: the span name stays
    ("tool", {}, ".tool", ".tool"),
    ("agent", {"gen_ai.agent.name": "planner"}, "invoke_agent x", "planner"),
    ("agent", {}, "invoke_agent planner", "planner"),
    ("agent", {}, "planner.agent", "planner"),
    ("agent", {}, "assistant", "assistant"),  # OpenInference's decorator: the span is named after the agent
])
def test_tool_and_agent_names_of_every_producer(kind: str, attributes: dict[str, str], span_name: str,
                                                expected: str) -> None:
    import duckdb

    from otel_llm_analysis._producers import entity_name_sql

    lookup = lambda name: "$" + {k: f"a{i}" for i, k in enumerate(attributes)}.get(name, "none")  # noqa: E731
    params = {"none": None, "name": span_name, **{f"a{i}": v for i, v in enumerate(attributes.values())}}
    sql = f"SELECT {entity_name_sql(kind, lookup, '$name')}"
    assert duckdb.execute(sql, params).fetchone()[0] == expected
