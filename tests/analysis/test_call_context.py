"""Another producer's LLM call inside otel-llm spans takes the app's context from the nearest of them.

The real peers' case (OpenLLMetry, OpenInference, OpenLIT under a chat turn) is
in ``test_peer_edges.py``; this file covers what real runs rarely show: a call
several producer spans below the app's span, inside a graph node, the turn
stored in a later file, a store whose calls were stored before the column
existed, and a hostile parent cycle.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from otel_llm import semconv
from otel_llm_analysis import TraceStore, agents, summary, totals
from tests.support.synthetic import key_values

T0 = 1_767_225_600_000_000_000  # 2026-01-01 UTC
OURS = semconv.INSTRUMENTATION_SCOPE
LANGCHAIN = "openinference.instrumentation.langchain"
OPENAI = "openinference.instrumentation.openai"


def _span(trace: str, span: str, parent: str | None, name: str, at: int, attributes: dict[str, Any]
          ) -> dict[str, Any]:
    return {"traceId": trace, "spanId": span, "parentSpanId": parent or "", "name": name, "kind": 1,
            "startTimeUnixNano": str(T0 + at * 10**9), "endTimeUnixNano": str(T0 + at * 10**9 + 5 * 10**8),
            "attributes": key_values(attributes), "status": {"code": 0}}


def _line(spans: list[tuple[str, dict[str, Any]]]) -> bytes:
    """One export request, a scope per span (as a process with several instrumentations writes it)."""
    scopes = [{"scope": {"name": scope}, "spans": [span]} for scope, span in spans]
    return orjson.dumps({"resourceSpans": [{"resource": {"attributes": key_values({"service.name": "app"})},
                                             "scopeSpans": scopes}]}) + b"\n"


def _turn(trace: str, conversation: str, scenario: str, at: int = 0) -> tuple[str, dict[str, Any]]:
    return OURS, _span(trace, f"{trace[:12]}0001", None, "chat", at, {
        semconv.OTEL_LLM_KIND: semconv.KIND_CHAT, semconv.OTEL_LLM_PROJECT: "shop",
        semconv.GEN_AI_CONVERSATION_ID: conversation, semconv.USER_ID: "u1",
        semconv.OTEL_LLM_RUN_CONFIG_PREFIX + "scenario": scenario})


def _node(trace: str, span: str, parent: str, node: str, conversation: str, scenario: str
          ) -> tuple[str, dict[str, Any]]:
    return OURS, _span(trace, span, parent, node, 1, {
        semconv.OTEL_LLM_KIND: semconv.KIND_GRAPH_NODE, semconv.OTEL_LLM_PROJECT: "shop",
        semconv.OTEL_LLM_GRAPH_NODE: node, semconv.OTEL_LLM_GRAPH_NAME: "rag",
        semconv.GEN_AI_CONVERSATION_ID: conversation, semconv.USER_ID: "u1",
        semconv.OTEL_LLM_RUN_CONFIG_PREFIX + "scenario": scenario})


def _chain(trace: str, span: str, parent: str) -> tuple[str, dict[str, Any]]:
    return LANGCHAIN, _span(trace, span, parent, "RunnableSequence", 1, {"openinference.span.kind": "CHAIN"})


def _call(trace: str, span: str, parent: str, tokens: int) -> tuple[str, dict[str, Any]]:
    return OPENAI, _span(trace, span, parent, "ChatCompletion", 2, {
        "openinference.span.kind": "LLM", "llm.provider": "openai", "llm.model_name": "gpt-4o-mini",
        "llm.token_count.prompt": tokens, "llm.token_count.completion": 1})


def _by(store: TraceStore, by: str) -> dict[Any, tuple[int, int]]:
    return {row.key: (row.llm_calls, row.input_tokens) for row in summary(store, by=by) if row.llm_calls}


def test_a_call_below_producer_spans_takes_the_nearest_app_spans_context(tmp_path: Path) -> None:
    """Two LangChain spans between the call and the graph node it runs in: the node's context, run config
    and graph name; a call of the same producer outside any otel-llm span keeps none."""
    a, b = "a" * 32, "b" * 32
    lines = _line([
        _turn(a, "c1", "s1"), _node(a, "a" * 12 + "0002", "a" * 12 + "0001", "retrieve", "c1", "s1"),
        _chain(a, "a" * 12 + "0003", "a" * 12 + "0002"), _chain(a, "a" * 12 + "0004", "a" * 12 + "0003"),
        _call(a, "a" * 12 + "0005", "a" * 12 + "0004", 10),
        _call(b, "b" * 12 + "0005", None, 7),  # a script's call: no app span around it
    ])
    (tmp_path / "traces.jsonl").write_bytes(lines)
    with TraceStore(str(tmp_path / "s.duckdb")) as store:
        assert store.ingest(tmp_path / "traces.jsonl").bad_lines == []
        assert totals(store).llm_calls == 2
        assert _by(store, "conversation") == {"c1": (1, 10), None: (1, 7)}
        assert _by(store, "node") == {"retrieve": (1, 10), None: (1, 7)}
        assert _by(store, "run_config.scenario") == {"s1": (1, 10), None: (1, 7)}
        assert _by(store, "user") == {"u1": (1, 10), None: (1, 7)}
        ((graph,),) = store.query("SELECT attributes['otel_llm.graph.name'] FROM llm_calls WHERE input_tokens = 10")
        assert graph == "rag"
        # the call's own attributes stay its own; the spans view shows the span as it was exported
        ((keys,),) = store.query("SELECT attr_keys FROM spans WHERE input_tokens = 10")
        assert not [k for k in keys if k.startswith("otel_llm.")]


def test_the_turn_stored_later_gives_its_context_then(tmp_path: Path) -> None:
    """The call's file is ingested before its turn's: no context until the turn is stored, then the turn's;
    the same figures as both files ingested at once."""
    a = "c" * 32
    (tmp_path / "1.jsonl").write_bytes(_line([_call(a, "c" * 12 + "0005", "c" * 12 + "0001", 10)]))
    (tmp_path / "2.jsonl").write_bytes(_line([_turn(a, "c2", "s2")]))
    with TraceStore(str(tmp_path / "split.duckdb")) as store:
        store.ingest(tmp_path / "1.jsonl")
        assert _by(store, "conversation") == {None: (1, 10)}
        store.ingest(tmp_path / "2.jsonl")
        assert _by(store, "conversation") == {"c2": (1, 10)}
        assert _by(store, "run_config.scenario") == {"s2": (1, 10)}
    with TraceStore(str(tmp_path / "once.duckdb")) as once:
        once.ingest([tmp_path / "1.jsonl", tmp_path / "2.jsonl"])
        assert _by(once, "conversation") == {"c2": (1, 10)}


def test_a_span_arriving_between_moves_the_call_to_the_nearer_span(tmp_path: Path) -> None:
    """The call and its turn first, then the graph node it ran in (its parent): the node's context now."""
    a = "d" * 32
    turn, node, call = "d" * 12 + "0001", "d" * 12 + "0002", "d" * 12 + "0005"
    (tmp_path / "1.jsonl").write_bytes(_line([_turn(a, "c1", "s1"), _chain(a, "d" * 12 + "0003", node),
                                              _call(a, call, "d" * 12 + "0003", 10)]))
    (tmp_path / "2.jsonl").write_bytes(_line([_node(a, node, turn, "answer", "c1", "s9")]))
    with TraceStore(str(tmp_path / "s.duckdb")) as store:
        store.ingest(tmp_path / "1.jsonl")
        assert _by(store, "node") == {None: (1, 10)}  # the chain's parent is not stored yet: no app span above
        store.ingest(tmp_path / "2.jsonl")
        assert _by(store, "node") == {"answer": (1, 10)}
        assert _by(store, "run_config.scenario") == {"s9": (1, 10)}


def test_a_store_from_before_the_column_gets_the_context_on_its_next_writable_open(tmp_path: Path) -> None:
    """Calls stored by a version without ``context_span_id`` (its derived tables made from other views): the
    first writable open works the whole store out again, context included; a read-only open says it waits."""
    a = "e" * 32
    (tmp_path / "t.jsonl").write_bytes(_line([_turn(a, "c1", "s1"), _call(a, "e" * 12 + "0005", "e" * 12 + "0001", 10)]))
    path = str(tmp_path / "old.duckdb")
    with TraceStore(path) as store:
        store.ingest(tmp_path / "t.jsonl")
        store.query("UPDATE span_rows SET context_span_id = NULL")
        store.query("UPDATE span_scope_state SET definition = 'an older views.sql'")
        assert _by(store, "conversation") == {None: (1, 10)}
    with TraceStore(path) as store:
        assert _by(store, "conversation") == {"c1": (1, 10)}


def test_a_whole_store_rework_clears_a_stale_context(tmp_path: Path) -> None:
    """A context left on a span that no longer needs one (here: set on the turn itself) is cleared when the
    whole store is worked out again; a store holding none is not written to for it (``_any_placed``)."""
    a = "f" * 32
    (tmp_path / "t.jsonl").write_bytes(_line([_turn(a, "c1", "s1"), _call(a, "f" * 12 + "0005", "f" * 12 + "0001", 10)]))
    path = str(tmp_path / "stale.duckdb")
    turn = "f" * 12 + "0001"
    with TraceStore(path) as store:
        store.ingest(tmp_path / "t.jsonl")
        placed = store.query("SELECT span_id, context_span_id FROM span_rows WHERE context_span_id IS NOT NULL")
        assert placed == [("f" * 12 + "0005", turn)]
        store.query(f"UPDATE span_rows SET context_span_id = '{turn}' WHERE span_id = '{turn}'")
        store.query("UPDATE span_scope_state SET definition = 'an older views.sql'")
    with TraceStore(path) as store:
        assert store.query("SELECT span_id, context_span_id FROM span_rows WHERE context_span_id IS NOT NULL") == placed
        assert _by(store, "conversation") == {"c1": (1, 10)}


def test_a_parent_cycle_ends_the_walk(tmp_path: Path) -> None:
    """Hostile ids: a producer span whose parent is the call itself - the call keeps no context, and the
    ingest ends with every call counted."""
    a = "f" * 32
    call, chain = "f" * 12 + "0005", "f" * 12 + "0003"
    (tmp_path / "t.jsonl").write_bytes(_line([_chain(a, chain, call), _call(a, call, chain, 10)]))
    with TraceStore(str(tmp_path / "s.duckdb")) as store:
        store.ingest(tmp_path / "t.jsonl")
        assert totals(store).llm_calls == 1
        assert _by(store, "conversation") == {None: (1, 10)}


def test_agents_and_summary_count_a_peer_call_in_an_agent_alike(tmp_path: Path) -> None:
    """A peer's call in an @agent inside a turn: the agent's calls equal the conversation's in summary."""
    a = "9" * 32
    turn, agent = "9" * 12 + "0001", "9" * 12 + "0002"
    agent_span = (OURS, _span(a, agent, turn, "invoke_agent helper", 1, {
        semconv.OTEL_LLM_KIND: semconv.KIND_AGENT, semconv.GEN_AI_AGENT_NAME: "helper",
        semconv.OTEL_LLM_PROJECT: "shop", semconv.GEN_AI_CONVERSATION_ID: "c7"}))
    (tmp_path / "t.jsonl").write_bytes(_line([_turn(a, "c7", "s1"), agent_span, _call(a, "9" * 12 + "0005", agent, 10)]))
    with TraceStore(str(tmp_path / "s.duckdb")) as store:
        store.ingest(tmp_path / "t.jsonl")
        (row,) = agents(store)
        assert (row.agent, row.llm_calls, row.input_tokens) == ("helper", 1, 10)
        assert _by(store, "conversation") == {"c7": (1, 10)}
