"""The edges of other producers' OpenAI calls count right: async, streams without usage, tool calls, HTTP
errors, the client's own retries, and otel-llm's ``@chat``/``@tool``/``@agent``/``@llm_call`` around them.

Each peer instruments a real ``openai`` client in its own process (``_peer_edge_app``); the
wire (``wire.json``) says what each ``create()`` got. ``test_peers.py`` covers the plain
sync calls, embeddings and the split files; this file the rest.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import genai_prices
import pytest

from otel_llm_analysis import Filters, TraceStore, agents, compare, summary, time_to_first_token, top_traces, totals
from tests.support import peer_app

PEERS = ("openllmetry", "openinference", "openlit")  # openai-v2 is installed only in .bench-venv
#: the turn each call ran in: its scenario, from the chat span's run config
BY_TURN = """
SELECT t.attr_values[list_position(t.attr_keys, 'otel_llm.run_config.scenario')] AS scenario,
       count(*), sum(c.input_tokens), sum(c.output_tokens), count(*) FILTER (WHERE c.status_code = 2),
       list(DISTINCT c.model), list(DISTINCT c.provider), sum(c.cost_usd), list(c.cost_source ORDER BY c.start_time),
       count(c.stream_ttft_ms)
FROM llm_calls c JOIN span_scopes x USING (trace_id, span_id)
JOIN spans t ON t.trace_id = x.trace_id AND t.span_id = x.turn_span_id
GROUP BY 1"""


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each peer's app run once: ``{peer: output directory}``."""
    return peer_app.record("tests.analysis._peer_edge_app", PEERS, tmp_path_factory.mktemp)


def _wire(directory: Path) -> dict[str, dict[str, Any]]:
    return {w["scenario"]: w for w in json.loads((directory / "wire.json").read_text())}


def _store(tmp_path: Path, traces: Path) -> TraceStore:
    store = TraceStore(str(tmp_path / "edges.duckdb"))
    assert store.ingest(traces).bad_lines == []
    return store


def _price(input_tokens: int, output_tokens: int) -> float:
    usage = genai_prices.Usage(input_tokens=input_tokens, output_tokens=output_tokens)
    return float(genai_prices.calc_price(usage, model_ref="gpt-4o-mini", provider_id="openai").total_price)


@pytest.mark.parametrize("peer", PEERS)
def test_each_create_counts_once_as_the_wire_saw_it(recorded, tmp_path, peer):
    """One call per ``create()`` (the client's retries inside it are not calls), the wire's tokens, failed when
    it raised, the requested model, priced at ingest when the peer gave no cost, never priced without tokens."""
    wire = _wire(recorded[peer])
    assert not [w for w in wire.values() if w["crashed"]]
    assert wire["error_500_retried"]["attempts"] == wire["retry_then_ok"]["attempts"] == 3  # the client retried
    with _store(tmp_path, recorded[peer] / "traces.jsonl") as store:
        seen = {row[0]: row[1:] for row in store.query(BY_TURN)}
        assert set(seen) == set(wire)
        for name, w in wire.items():
            if (peer, name) == ("openlit", "plain_nousage"):
                continue  # OpenLIT fails its own span there: test_an_answer_without_usage_is_a_call_that_succeeded
            calls, inp, out, failed, models, providers, cost, sources, ttft = seen[name]
            tokens = (w["input_tokens"], w["output_tokens"])
            if peer == "openlit" and tokens == (None, None) and not w["error"]:
                # OpenLIT writes its own estimate as the usage of a stream that reported none
                assert inp is not None and inp < 20, name
                tokens = (inp, out)
            assert (calls, inp, out, failed) == (w["calls"], *tokens, w["calls"] if w["error"] else 0), name
            assert (models, providers) == (["gpt-4o-mini"], ["openai"]), name
            if tokens[0] is None:
                assert cost is None and sources == [None] * calls, name
            else:
                assert cost == pytest.approx(_price(*tokens), rel=1e-9), name
                expected = "sdk" if name == "wrapped_async" else "ingest"
                assert sources == [expected] * calls, name
            if w.get("stream"):  # OpenInference's "First Token Stream Event", OpenLLMetry's first
                assert ttft == calls, name  # gen_ai.content.completion.chunk, OpenLIT's time_to_first_token


@pytest.mark.parametrize("peer", PEERS)
def test_a_peer_call_takes_its_turns_project_conversation_and_run_config(recorded, tmp_path, peer):
    """A peer's call inside an otel-llm chat turn (or its @agent/@tool) is the turn's project, conversation and
    run config, in ``summary`` as in ``agents``: the same calls whichever analysis reads them."""
    wire = _wire(recorded[peer])
    all_calls = sum(w["calls"] for w in wire.values())
    with _store(tmp_path, recorded[peer] / "traces.jsonl") as store:
        edges = Filters(project="edges")
        kpi = totals(store, edges)
        assert (kpi.llm_calls, kpi.turns) == (all_calls, len(wire))
        by_scenario = {row.key: row for row in summary(store, by="run_config.scenario")}
        by_conversation = {row.key: row for row in summary(store, by="conversation")}
        for name, w in wire.items():
            assert by_scenario[name].llm_calls == w["calls"], name
            assert by_scenario[name].input_tokens == (w["input_tokens"] or 0) or peer == "openlit", name
            assert by_conversation[f"t-{name}"].llm_calls == w["calls"], name
        for unkeyed in (by_scenario.get(None), by_conversation.get(None)):  # the peers' spans, no call
            assert unkeyed is None or unkeyed.llm_calls == 0
        (agent,) = agents(store, edges)
        helper = by_conversation["t-agent_tool"]
        assert (agent.agent, agent.llm_calls, agent.input_tokens) == ("helper_agent", helper.llm_calls,
                                                                       helper.input_tokens)
        assert sum(row.calls for row in compare(store, by="model", filters=edges)) == all_calls
        assert sum(t.llm_calls for t in top_traces(store, top=100, filters=edges)) == all_calls


@pytest.mark.parametrize("peer", PEERS)
@pytest.mark.parametrize("by", ["project", "conversation", "model", "run_config.scenario"])
def test_a_group_without_calls_shows_no_calls_error_rate_or_latency(recorded, tmp_path, peer, by):
    """Grouped by a call dimension, every call is in one group (the sums are ``totals()``), and a group that
    made no LLM call - otel-llm's turns whose peer calls carry no key, the no-key group of other spans - shows
    no error rate or latency: those columns are the calls', and its spans' figures are not its calls'."""
    with _store(tmp_path, recorded[peer] / "traces.jsonl") as store:
        kpi, rows = totals(store), summary(store, by=by)
        assert sum(row.llm_calls for row in rows) == kpi.llm_calls
        assert sum(row.failed_calls for row in rows) == kpi.failed_calls
        assert sum(row.spans for row in rows) == kpi.spans  # no span lost either
        without_calls = [row for row in rows if not row.llm_calls]
        if by == "conversation":  # every turn is a group of its own, one that made no call included
            assert without_calls and all(row.turns for row in without_calls if row.key is not None)
        for row in without_calls:
            assert (row.error_rate, row.p50_ms, row.p95_ms, row.p99_ms) == (None, None, None, None), row
        for row in rows:
            if row.llm_calls:
                assert row.error_rate == row.failed_calls / row.llm_calls and row.p50_ms is not None, row


def test_openlits_time_to_first_token_is_the_streamed_calls(recorded, tmp_path):
    """OpenLIT writes ``gen_ai.server.time_to_first_token`` (seconds, the GenAI semconv metric's name and unit)
    on every call, the whole duration on one that did not stream: a stream's time to first token in ms, none
    on a call that did not stream (it is no stream in ``time_to_first_token``)."""
    with _store(tmp_path, recorded["openlit"] / "traces.jsonl") as store:
        spans = store.query("SELECT attributes['gen_ai.request.stream'], "
                            "TRY_CAST(attributes['gen_ai.server.time_to_first_token'] AS DOUBLE), stream_ttft_ms "
                            "FROM spans WHERE scope_name LIKE 'openlit%' AND otel_kind = 'llm_call'")
        streamed = [(seconds, ms) for stream, seconds, ms in spans if stream == "true"]
        assert len(streamed) == sum(w["calls"] for w in _wire(recorded["openlit"]).values() if w.get("stream"))
        assert all(ms == pytest.approx(seconds * 1000, abs=1e-6) for seconds, ms in streamed), streamed  # ns
        assert [ms for stream, _, ms in spans if stream != "true"] == [None] * (len(spans) - len(streamed))
        (first,) = time_to_first_token(store)
        assert first.streams == len(streamed)


@pytest.mark.parametrize("peer", PEERS)
def test_openlits_estimate_of_a_streams_usage_is_counted_as_estimated(recorded, tmp_path, peer):
    """A stream without ``stream_options.include_usage`` reports no usage: OpenLIT writes its own estimate
    (``ceil(len(text) / 2)`` tokens) as ``gen_ai.usage.*``, told by the cache attributes it writes only when the
    API reported usage. Such a call is counted as estimated usage, and its cost is in the estimated cost; no
    other call (the wire's usage) is."""
    wire = _wire(recorded[peer])
    guessed = {name for name, w in wire.items() if w.get("stream") and w["input_tokens"] is None}
    assert len(guessed) == 3 and wire["plain_nousage"]["input_tokens"] is None
    with _store(tmp_path, recorded[peer] / "traces.jsonl") as store:
        kpi = totals(store)
        by_scenario = {row.key: row for row in summary(store, by="run_config.scenario")}
        expected = len(guessed) if peer == "openlit" else 0
        assert kpi.estimated_usage_calls == expected
        assert sum(row.estimated_usage_calls for row in summary(store, by="model")) == expected
        if peer == "openlit":  # the estimated calls' cost, read through the turn each ran in (as BY_TURN)
            guessed_cost = store.query(
                "SELECT sum(c.cost_usd) FROM llm_calls c JOIN span_scopes x USING (trace_id, span_id) "
                "JOIN spans t ON t.trace_id = x.trace_id AND t.span_id = x.turn_span_id "
                "WHERE t.attr_values[list_position(t.attr_keys, 'otel_llm.run_config.scenario')] "
                f"IN {tuple(guessed)}")[0][0]
            assert guessed_cost > 0 and kpi.estimated_cost_usd >= guessed_cost
        assert all(not row.estimated_usage_calls for row in by_scenario.values() if row.key not in (*guessed, None))



@pytest.mark.parametrize("peer", PEERS)
def test_an_answer_without_usage_is_a_call_that_succeeded(recorded, tmp_path, peer):
    """A successful answer that reports no usage is one call that succeeded, with no tokens and no cost."""
    wire = _wire(recorded[peer])["plain_nousage"]
    assert (wire["error"], wire["input_tokens"], wire["crashed"]) == (False, None, None)
    with _store(tmp_path, recorded[peer] / "traces.jsonl") as store:
        seen = {row[0]: row[1:] for row in store.query(BY_TURN)}
        calls, inp, out, failed, models, providers, cost, sources, ttft = seen["plain_nousage"]
        assert (calls, inp, out, failed, cost) == (1, None, None, 0, None)
        # OpenLIT failed its own span (an exception inside openlit): counted as succeeded, and said
        reinterpreted = 1 if peer == "openlit" else 0
        assert totals(store).instrumentation_failures == reinterpreted
        by_scenario = {row.key: row for row in summary(store, by="run_config.scenario")}
        assert (by_scenario["plain_nousage"].failed_calls, by_scenario["plain_nousage"].instrumentation_failures) \
            == (0, reinterpreted)
        wire_errors = sum(1 for w in _wire(recorded[peer]).values() if w["error"])
        assert totals(store).failed_calls == wire_errors  # the API's errors still fail their calls
    if peer == "openlit":  # and the summary says so
        from typer.testing import CliRunner

        from otel_llm.cli import app

        shown = CliRunner().invoke(app, ["summary", "--db", str(tmp_path / "edges.duckdb")], env={"COLUMNS": "300"})
        assert shown.exit_code == 0, shown.output
        assert "1 call(s) counted as succeeded though their span says ERROR" in " ".join(shown.output.split())
