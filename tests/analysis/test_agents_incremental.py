"""The agents, tools and retries rows made at ingest (``_scope_index``) are what one read of all the data gives.

They are worked out per trace after each ingest, for the traces that received
spans. These tests feed the same spans in several runs, children before their
parents, and compare every view with a store that read them at once; and check
what may not be missed: parent ids in a cycle, calls priced by a later ingest,
a store whose derived tables came from other definitions.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import orjson
import pytest

from otel_llm_analysis import TraceStore, agents, retries, tools
from otel_llm_analysis._scope_index import refresh_scopes
from tests.support import synthetic

VIEWS = ("span_scopes", "tool_calls", "agent_invocations", "retry_attempts", "retry_loops", "turns", "qa_subjects")
T0 = 1_790_000_000 * 10**9


def _rows(store: TraceStore, view: str) -> list[tuple[Any, ...]]:
    """The view's rows in a fixed order; sums of floats to 12 digits (their order of addition may differ)."""
    rows = [tuple(float(f"{v:.12g}") if isinstance(v, float) else v for v in row)
            for row in store.query(f"SELECT * FROM {view}")]
    return sorted(rows, key=repr)


def _write(path: Path, spans: list[synthetic.SpanRecord]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(synthetic.spans_request([s])) + b"\n" for s in spans))
    return path


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("incremental")
    data = synthetic.generate(root / "data", seed=5, traces=80, days=5, agents="otel_llm")
    with TraceStore(str(root / "once.duckdb")) as once:
        once.ingest([str(p) for p in data.files])
        yield data, {view: _rows(once, view) for view in VIEWS}


def test_spans_arriving_over_several_ingests_children_first_give_the_same_rows(tmp_path: Path, generated) -> None:
    data, expected = generated
    spans = [s for s in data.spans]
    random.Random(3).shuffle(spans)
    parts = [spans[i::3] for i in range(3)]
    part_of = {s.span_id: i for i, part in enumerate(parts) for s in part}
    # some children really arrive before their parents (and are roots of their trace until then)
    assert any(s.parent_span_id and part_of[s.parent_span_id] > part_of[s.span_id] for s in spans)
    with TraceStore(str(tmp_path / "parts.duckdb")) as store:
        for i, part in enumerate(parts):
            store.ingest([str(_write(tmp_path / f"part{i}.jsonl", part))])
        for view in VIEWS:
            assert _rows(store, view) == expected[view], view
        assert refresh_scopes(store.connection) == 0  # up to date: nothing left to work out


def test_a_trace_grown_by_a_later_ingest_is_worked_out_again_alone(tmp_path: Path) -> None:
    """The orphan tool's turn appears when the chat span above it arrives.

    Until then it is the root of its trace's walk, but not a turn (it has a parent);
    the other trace, a run without a chat span, is its own root's turn all along.
    """
    tool = _span("2" * 16, "1" * 16, "tool", "execute_tool lookup", 1, 3, **{"gen_ai.tool.name": "lookup"})
    chat = _span("1" * 16, None, "chat", "chat", 0, 10)
    other = _span("3" * 16, None, "tool", "execute_tool clock", 0, 1, trace="b", **{"gen_ai.tool.name": "clock"})
    with TraceStore(str(tmp_path / "s.duckdb")) as store:
        store.ingest([str(_write(tmp_path / "1.jsonl", [tool, other]))])
        assert {r.tool: r.turns for r in tools(store)} == {"lookup": 0, "clock": 1}
        store.ingest([str(_write(tmp_path / "2.jsonl", [chat]))])
        assert {r.tool: r.turns for r in tools(store)} == {"lookup": 1, "clock": 1}
        assert store.query("SELECT turn_span_id FROM tool_calls WHERE tool_name = 'lookup'") == [("1" * 16,)]


def test_parent_ids_in_a_cycle_end_the_walk_and_keep_the_spans(tmp_path: Path) -> None:
    """Spans whose parents point at each other (or at themselves) never reach a root: counted, in no turn."""
    spans = [
        _span("1" * 16, "2" * 16, "agent", "invoke_agent a", 0, 10, **{"gen_ai.agent.name": "a"}),
        _span("2" * 16, "1" * 16, "tool", "execute_tool t", 1, 2, **{"gen_ai.tool.name": "t"}),
        _span("3" * 16, "3" * 16, "tool", "execute_tool self", 3, 4, **{"gen_ai.tool.name": "self"}),
        _span("4" * 16, None, "chat", "chat", 0, 20, trace="b"),
        _span("5" * 16, "4" * 16, "tool", "execute_tool t", 5, 7, trace="b", **{"gen_ai.tool.name": "t"}),
    ]
    with TraceStore(str(tmp_path / "s.duckdb")) as store:
        store.ingest([str(_write(tmp_path / "cycle.jsonl", spans))])
        assert {(r.tool, r.calls, r.turns) for r in tools(store)} == {("t", 2, 1), ("self", 1, 0)}
        (agent,) = agents(store)
        assert (agent.agent, agent.invocations, agent.tool_calls) == ("a", 1, 0)
        assert store.query("SELECT span_id FROM span_scopes ORDER BY span_id") == [("4" * 16,), ("5" * 16,)]
        (turns,) = retries(store)
        assert turns.turns == 1


def test_calls_priced_by_a_later_ingest_count_in_their_agents_and_turns(tmp_path: Path) -> None:
    agent = _span("1" * 16, None, "agent", "invoke_agent a", 0, 10, **{"gen_ai.agent.name": "a"})
    call = _span("2" * 16, "1" * 16, "llm_call", "chat my-private-model", 1, 5, **{
        "gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "my-private-model",
        "gen_ai.usage.input_tokens": 1_000_000, "gen_ai.usage.output_tokens": 1_000_000})
    later = _span("3" * 16, None, "tool", "execute_tool t", 0, 1, trace="b", **{"gen_ai.tool.name": "t"})
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps({"my-private-model": {"input": 1.5, "output": 4.0}}))
    with TraceStore(str(tmp_path / "s.duckdb")) as store:
        store.ingest([str(_write(tmp_path / "1.jsonl", [agent, call]))])
        (row,) = agents(store)
        assert row.cost_usd is None and store.query("SELECT cost_usd FROM turns") == [(None,)]
        report = store.ingest([str(_write(tmp_path / "2.jsonl", [later]))], pricing=prices)
        assert report.pricing.priced == 1
        (row,) = agents(store)
        assert row.cost_usd == pytest.approx(5.5)
        assert store.query("SELECT cost_usd FROM turns WHERE span_id = ?", ["1" * 16]) == [(pytest.approx(5.5),)]


def test_tables_made_by_other_definitions_or_a_rewritten_store_are_made_again(tmp_path: Path, generated) -> None:
    data, expected = generated
    path = str(tmp_path / "s.duckdb")
    with TraceStore(path) as store:
        store.ingest([str(p) for p in data.files])
        store.query("DELETE FROM turn_rows")
        store.query("UPDATE span_scope_state SET definition = 'made by another version'")
    with TraceStore(path) as reopened:  # opened for writing: other definitions, so all made again
        assert _rows(reopened, "turns") == expected["turns"]
        reopened.query("DELETE FROM tool_call_rows")
        reopened.query("UPDATE span_scope_state SET spans = spans - 1")  # rows no longer as counted
        assert refresh_scopes(reopened.connection) == len({s.trace_id for s in data.spans})
        for view in VIEWS:
            assert _rows(reopened, view) == expected[view], view
        reopened.query("DELETE FROM qa_subject_rows")
        reopened.query("UPDATE span_scope_state SET events = events - 1")  # span events no longer as counted
        assert refresh_scopes(reopened.connection) == len({s.trace_id for s in data.spans})
        assert _rows(reopened, "qa_subjects") == expected["qa_subjects"]


def test_a_trace_grown_days_after_its_first_spans_gives_the_rows_of_one_ingest(tmp_path: Path) -> None:
    """A refresh finds a grown trace's stored spans by their period, however far from the new data's.

    An agent's tool is tried on day 0 and again on day 5, a model call inside
    the agent on each day; the day-5 spans arrive in a later ingest with an
    unrelated trace. The retry loop, the agent's and the turn's figures must be
    those of one ingest of everything (the first ingest's rows for the trace,
    made without the day-5 spans, must go).
    """
    day = 86_400_000
    first = [
        _span("1" * 16, None, "chat", "chat", 0, 6 * day),
        _span("2" * 16, "1" * 16, "agent", "invoke_agent a", 1, 6 * day - 1, **{"gen_ai.agent.name": "a"}),
        _failed(_span("3" * 16, "2" * 16, "tool", "execute_tool t", 2, 3,
                      **{"gen_ai.tool.name": "t", "otel_llm.attempt": 1})),
        _call("4" * 16, "2" * 16, 4, 5),
    ]
    later = [
        _span("5" * 16, "2" * 16, "tool", "execute_tool t", 5 * day, 5 * day + 1,
              **{"gen_ai.tool.name": "t", "otel_llm.attempt": 2}),
        _call("6" * 16, "2" * 16, 5 * day + 2, 5 * day + 3),
        _span("7" * 16, None, "chat", "chat", 5 * day, 5 * day + 9, trace="b"),
        _call("8" * 16, "7" * 16, 5 * day + 1, 5 * day + 8, trace="b"),
    ]
    with TraceStore(str(tmp_path / "once.duckdb")) as once:
        once.ingest([str(_write(tmp_path / "all.jsonl", first + later))])
        expected = {view: _rows(once, view) for view in VIEWS}
    with TraceStore(str(tmp_path / "steps.duckdb")) as store:
        store.ingest([str(_write(tmp_path / "first.jsonl", first))])
        store.ingest([str(_write(tmp_path / "later.jsonl", later))])
        for view in VIEWS:
            assert _rows(store, view) == expected[view], view
        assert store.query("SELECT tries, attempts, outcome FROM retry_loops") == [(2, 2, "succeeded")]
        assert store.query("SELECT llm_calls, tool_calls, retry_loops FROM agent_invocations") == [(2, 2, 1)]
        assert store.query("SELECT llm_calls, tool_calls FROM turns WHERE trace_id = ?", ["a" * 32]) == [(2, 2)]


def _failed(span: synthetic.SpanRecord) -> synthetic.SpanRecord:
    span.status_code = 2
    return span


def _call(span_id: str, parent: str, start_ms: int, end_ms: int, trace: str = "a") -> synthetic.SpanRecord:
    """A model call with tokens and a cost."""
    return _span(span_id, parent, "llm_call", "chat gpt-4o-mini", start_ms, end_ms, trace=trace, **{
        "gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.usage.input_tokens": 10, "gen_ai.usage.output_tokens": 5})


def _span(span_id: str, parent: str | None, kind: str, name: str, start_ms: int, end_ms: int, trace: str = "a",
          **attributes: Any) -> synthetic.SpanRecord:
    """A span as otel-llm's SDK writes it (``otel_llm.kind``), times in ms after a fixed start."""
    return synthetic.SpanRecord(
        trace_id=trace * 32, span_id=span_id, parent_span_id=parent, name=name, span_kind="INTERNAL",
        service_name="svc", project="p", otel_kind=kind, start_ns=T0 + start_ms * 10**6,
        end_ns=T0 + end_ms * 10**6, attributes={"otel_llm.kind": kind, **attributes})
