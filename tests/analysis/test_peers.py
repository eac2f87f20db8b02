"""Other producers' spans count right: real OpenAI client, real peer instrumentors, real files.

Each peer (OpenLLMetry, OpenLIT, OpenInference) instruments a real ``openai``
client in its own process (``tests/support/peer_app.py``), beside otel-llm's
``@llm_call`` on some of the same calls. The mock API records every request it
answered (``wire.json``): the ground truth. Prices are recomputed with
genai-prices' own ``calc_price``, not otel-llm's arithmetic.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import genai_prices
import orjson
import pytest

from otel_llm_analysis import TraceStore, summary, totals
from tests.support import peer_app

PEERS = ("openllmetry", "openlit", "openinference")
WRAPPED = ("wrapped", "wrapped_stream", "wrapped_text", "wrapped_two")


@pytest.fixture(scope="session")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each peer's app run once per session: ``{peer: output directory}``."""
    return peer_app.record("tests.support.peer_app", PEERS, tmp_path_factory.mktemp)


def _wire(directory: Path) -> list[dict[str, Any]]:
    return json.loads((directory / "wire.json").read_text())


def _price(model: str, input_tokens: int, output_tokens: int | None) -> float:
    usage = genai_prices.Usage(input_tokens=input_tokens, output_tokens=output_tokens or 0)
    return float(genai_prices.calc_price(usage, model_ref=model, provider_id="openai").total_price)


def _store(tmp_path: Path, *files: Path) -> TraceStore:
    store = TraceStore(str(tmp_path / "peers.duckdb"))
    for path in files:
        report = store.ingest(path)
        assert report.bad_lines == []
    return store


def _split_by_producer(traces: Path, out: Path) -> tuple[Path, Path]:
    """The same spans in two files: otel-llm's own, and the peer's (scope name)."""
    ours, theirs = out / "ours.jsonl", out / "theirs.jsonl"
    with ours.open("wb") as a, theirs.open("wb") as b:
        for line in traces.read_bytes().splitlines():
            request = orjson.loads(line)
            for target, keep in ((a, True), (b, False)):
                part = {"resourceSpans": [
                    {**rs, "scopeSpans": [ss for ss in rs["scopeSpans"] if (ss["scope"]["name"] == "otel_llm") == keep]}
                    for rs in request["resourceSpans"]]}
                target.write(orjson.dumps(part) + b"\n")
    return ours, theirs


@pytest.mark.parametrize("peer", PEERS)
def test_each_model_call_counts_once_with_its_tokens(recorded, tmp_path, peer):
    """Two LLM spans for one call (``@llm_call`` around the peer's) are one call: calls and tokens as on the wire."""
    wire = _wire(recorded[peer])
    with _store(tmp_path, recorded[peer] / "traces.jsonl") as store:
        kpi = totals(store)
        assert kpi.llm_calls == len(wire) == (9 if peer == "openinference" else 8)  # + the agent's call
        assert kpi.input_tokens == sum(w["input_tokens"] for w in wire)
        assert kpi.output_tokens == sum(w["output_tokens"] or 0 for w in wire)
        # the wrapped calls inherit the turn's context (run config) from otel-llm's span
        by_scenario = {row.key: row for row in summary(store, by="run_config.scenario")}
        expected: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for w in wire:
            expected[w["scenario"]].append(w)
        for scenario in WRAPPED:
            row = by_scenario[scenario]
            assert row.llm_calls == len(expected[scenario]), scenario
            assert row.input_tokens == sum(w["input_tokens"] for w in expected[scenario]), scenario
        assert store.query("SELECT DISTINCT otel_kind, provider FROM llm_calls") == [("llm_call", "openai")]
        assert store.query("SELECT DISTINCT model FROM llm_calls ORDER BY 1") == [
            (peer_app.CHAT_MODEL,), (peer_app.EMBEDDING_MODEL,)]


@pytest.mark.parametrize("peer", PEERS)
def test_costs_come_from_the_sdk_or_are_priced_at_ingest(recorded, tmp_path, peer):
    """The SDK's price wins for a wrapped call; a peer's call without a usable cost is priced, never free."""
    wire = _wire(recorded[peer])
    with _store(tmp_path, recorded[peer] / "traces.jsonl") as store:
        rows = store.query("SELECT attr_values[list_position(attr_keys, 'otel_llm.run_config.scenario')], "
                           "cost_usd, cost_source, cost_table, input_tokens, output_tokens, model FROM llm_calls")
        sdk_scenarios = {"wrapped", "wrapped_stream"}
        for scenario, cost, source, table, inp, out, model in rows:
            assert cost == pytest.approx(_price(model, inp, out), rel=1e-9)
            if scenario in sdk_scenarios:
                assert (source, table) == ("sdk", f"genai-prices@{genai_prices.__version__}")
            else:
                assert (source, table) == ("ingest", f"genai-prices@{genai_prices.__version__}"), scenario
        kpi = totals(store)
        assert kpi.priced_calls == kpi.llm_calls and kpi.unpriced_calls == 0
        assert kpi.cost_usd == pytest.approx(sum(_price(w["model"], w["input_tokens"], w["output_tokens"])
                                                 for w in wire), rel=1e-9)
        assert kpi.estimated_cost_usd == pytest.approx(sum(c for s, c, src, *_ in rows if src == "ingest"))
        if peer == "openlit":  # OpenLIT offline writes 0: stored as written, not summed as a free call
            zeros = store.query("SELECT count(*) FROM spans WHERE scope_name LIKE 'openlit%' "
                                "AND attributes['gen_ai.usage.cost'] = '0' AND cost_source = 'ingest'")
            assert zeros == [(len(wire),)]


@pytest.mark.parametrize("peer", PEERS)
@pytest.mark.parametrize("order", ["peer first", "ours first"])
def test_parent_and_child_in_different_files_and_runs(recorded, tmp_path, peer, order):
    """The rule holds when the two spans of a call arrive in different files, ingested in separate runs."""
    wire = _wire(recorded[peer])
    ours, theirs = _split_by_producer(recorded[peer] / "traces.jsonl", tmp_path)
    first, second = (theirs, ours) if order == "peer first" else (ours, theirs)
    with _store(tmp_path, first) as store:
        alone = totals(store).llm_calls
        assert alone == (len(wire) if first is theirs else 4)  # before the other half: each call as seen
        report = store.ingest(second)
        assert report.spans_added > 0
        kpi = totals(store)
        assert kpi.llm_calls == len(wire)
        assert kpi.input_tokens == sum(w["input_tokens"] for w in wire)
        (sdk_priced,) = store.query("SELECT count(*) FROM llm_calls WHERE cost_source = 'sdk'")[0]
        assert sdk_priced == 2  # wrapped, wrapped_stream: the SDK's cost wins whichever came first


def test_openinference_kinds_map_onto_ours(recorded, tmp_path):
    """AGENT, TOOL, CHAIN, RETRIEVER, LLM from OpenInference's own decorators and instrumentor."""
    with _store(tmp_path, recorded["openinference"] / "traces.jsonl") as store:
        kinds = dict(store.query("SELECT name, otel_kind FROM spans WHERE name IN "
                                 "('assistant', 'lookup_weather', 'plan', 'search_docs')"))
        assert kinds == {"assistant": "agent", "lookup_weather": "tool", "plan": "graph_node",
                         "search_docs": "vector_op"}
        # its streamed call's "First Token Stream Event" gives time to first token
        (ttft,) = store.query("SELECT count(stream_ttft_ms) FROM spans WHERE name = 'ChatCompletion'")[0]
        assert ttft >= 2


def test_openinference_agent_and_tool_count_in_tools_agents_and_retries(recorded, tmp_path):
    """OpenInference's own AGENT and TOOL spans, inside an otel-llm chat turn, in `tools`, `agents`, `retries`.

    The agent's LLM call is the peer instrumentor's span of a real ``openai`` request (the wire's tokens); the
    agent and tool spans carry no project: they take their turn's.
    """
    from otel_llm_analysis import Filters, agents, retries, tools

    wire = [w for w in _wire(recorded["openinference"]) if w["scenario"] == "agent"]
    with _store(tmp_path, recorded["openinference"] / "traces.jsonl") as store:
        (tool,) = tools(store, Filters(project="peers"))
        assert (tool.tool, tool.calls, tool.errors, tool.turns, tool.agents) == ("lookup_weather", 1, 0, 1, "assistant")
        (agent,) = agents(store, Filters(project="peers"))
        assert (agent.agent, agent.invocations, agent.llm_calls, agent.tool_calls) == ("assistant", 1, len(wire), 1)
        assert agent.input_tokens == sum(w["input_tokens"] for w in wire)
        assert agent.output_tokens == sum(w["output_tokens"] for w in wire)
        assert agent.success_rate == 1.0
        (turns,) = retries(store)
        assert turns.turns == len({w["scenario"] for w in _wire(recorded["openinference"])})  # one chat turn each
        assert turns.loops == 0 and turns.first_time_right_rate == 1.0
