"""Producer mappings, cost sources and pricing at ingest, on hand-made spans of each producer.

Expected values are written out here by hand (not derived from ``_producers``'
tables), so a wrong table entry fails a test.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import genai_prices
import orjson
import pytest
from typer.testing import CliRunner

from otel_llm_analysis import Filters, TraceStore, summary, totals
from otel_llm_analysis._spellings import TOTAL_TOKENS
from otel_llm_analysis.store import StoreError
from tests.support.synthetic import key_values

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
GENAI = f"genai-prices@{genai_prices.__version__}"


def _line(spans: list[dict[str, Any]]) -> bytes:
    out = []
    for i, s in enumerate(spans):
        out.append({"traceId": s.get("trace", TRACE), "spanId": s["id"], "parentSpanId": s.get("parent", ""),
                    "name": s.get("name", "span"), "kind": 3,
                    "startTimeUnixNano": str(1_764_000_000_000_000_000 + i * 1000),
                    "endTimeUnixNano": str(1_764_000_001_000_000_000 - i * 1000),
                    "status": {"code": s.get("status", 0)},
                    "attributes": key_values(s.get("attrs", {}))})
    return orjson.dumps({"resourceSpans": [{"resource": {"attributes": key_values({"service.name": "svc"})},
                                            "scopeSpans": [{"scope": {"name": "peer"}, "spans": out}]}]})


def _ingest(store: TraceStore, tmp_path: Path, spans: list[dict[str, Any]], name: str = "traces.jsonl",
            unreadable: tuple[str, ...] = (), **kw: Any):
    """Ingest ``spans``; the only problems reported are the ``unreadable`` typed columns, in order."""
    path = tmp_path / name
    path.write_bytes(_line(spans) + b"\n")
    report = store.ingest(path, **kw)
    assert [p.reason.split(" left empty:")[0] for p in report.bad_lines] == list(unreadable), report.bad_lines
    return report


def _sid(n: int) -> str:
    return f"{n:016x}"


KINDS = [
    ({"openinference.span.kind": "LLM"}, "llm_call"),
    ({"openinference.span.kind": "EMBEDDING"}, "llm_call"),
    ({"openinference.span.kind": "RETRIEVER"}, "vector_op"),
    ({"openinference.span.kind": "TOOL"}, "tool"),
    ({"openinference.span.kind": "AGENT"}, "agent"),
    ({"openinference.span.kind": "CHAIN"}, "graph_node"),
    ({"openinference.span.kind": "RERANKER"}, None),
    ({"openinference.span.kind": "GUARDRAIL", "gen_ai.operation.name": "chat"}, "llm_call"),  # next source tried
    ({"traceloop.span.kind": "tool"}, "tool"),
    ({"traceloop.span.kind": "agent"}, "agent"),
    ({"traceloop.span.kind": "task"}, "graph_node"),
    ({"traceloop.span.kind": "workflow"}, None),
    ({"gen_ai.operation.name": "execute_tool"}, "tool"),
    ({"gen_ai.operation.name": "invoke_agent"}, "agent"),
    ({"gen_ai.operation.name": "create_agent"}, None),
    ({"gen_ai.operation.name": "embeddings"}, "llm_call"),
    ({"gen_ai.operation.name": "generate_content"}, "llm_call"),
    ({"llm.request.type": "completion"}, "llm_call"),
    ({"otel_llm.kind": "tool", "gen_ai.operation.name": "execute_tool"}, "tool"),
    ({"otel_llm.kind": "chat", "openinference.span.kind": "AGENT"}, "chat"),  # ours first
    ({}, None),
    # no kind attribute: a GenAI model with a provider or token usage is a call (semconv <= 1.26, Vercel AI SDK)
    ({"gen_ai.system": "openai", "gen_ai.request.model": "gpt-4o"}, "llm_call"),
    ({"gen_ai.response.model": "gpt-4o", "gen_ai.usage.prompt_tokens": 3}, "llm_call"),
    ({"gen_ai.request.model": "gpt-4o", "gen_ai.usage.output_tokens": 3}, "llm_call"),
    ({"gen_ai.request.model": "gpt-4o"}, None),  # a model name alone: a span configuring one
    ({"gen_ai.provider.name": "openai", "gen_ai.usage.input_tokens": 3}, None),  # no model named
    ({"gen_ai.operation.name": "create_agent", "gen_ai.request.model": "gpt-4o", "gen_ai.system": "openai"}, None),
    ({"traceloop.span.kind": "workflow", "gen_ai.request.model": "gpt-4o", "gen_ai.system": "openai"}, None),
]


@pytest.mark.parametrize("attrs, kind", KINDS, ids=[str(a) for a, _ in KINDS])
def test_producer_kinds_map_onto_ours(store, tmp_path, attrs, kind):
    _ingest(store, tmp_path, [{"id": _sid(1), "attrs": attrs}])
    assert store.query("SELECT otel_kind FROM spans") == [(kind,)]


PROVIDERS = [
    ("gen_ai.system", "OpenAI", "openai"),
    ("gen_ai.provider.name", "openai", "openai"),
    ("llm.provider", "azure", "azure.ai.openai"),
    ("gen_ai.system", "Azure", "azure.ai.openai"),
    ("gen_ai.provider.name", "azure.ai.openai", "azure.ai.openai"),
    ("gen_ai.system", "az.ai.inference", "azure.ai.inference"),
    ("llm.system", "vertexai", "gcp.vertex_ai"),
    ("llm.provider", "google", "gcp.gen_ai"),
    ("gen_ai.system", "Anthropic", "anthropic"),
    ("llm.provider", "mistralai", "mistral_ai"),
    ("llm.provider", "xai", "x_ai"),
    ("gen_ai.system", "AWS", "aws.bedrock"),
    ("gen_ai.provider.name", " Groq ", "groq"),
]


@pytest.mark.parametrize("attribute, value, expected", PROVIDERS, ids=[f"{a}={v}" for a, v, _ in PROVIDERS])
def test_provider_spellings_group_under_the_semconv_value(store, tmp_path, attribute, value, expected):
    _ingest(store, tmp_path, [{"id": _sid(1), "attrs": {attribute: value, "gen_ai.operation.name": "chat"}}])
    assert store.query("SELECT provider FROM spans") == [(expected,)]


def test_summary_by_provider_puts_every_spelling_of_openai_in_one_row(store, tmp_path):
    spellings = ["OpenAI", "openai", "OPENAI"]
    _ingest(store, tmp_path, [{"id": _sid(i + 1), "attrs": {"gen_ai.system": s, "gen_ai.operation.name": "chat"}}
                              for i, s in enumerate(spellings)])
    assert [(r.key, r.llm_calls) for r in summary(store, by="provider")] == [("openai", 3)]


def _call(n: int, model: str = "gpt-4o-mini", inp: int = 1000, out: int = 100, **attrs: Any) -> dict[str, Any]:
    return {"id": _sid(n), "attrs": {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
                                     "gen_ai.request.model": model, "gen_ai.usage.input_tokens": inp,
                                     "gen_ai.usage.output_tokens": out, **attrs}}


def _price(model: str, inp: int, out: int) -> float:
    usage = genai_prices.Usage(input_tokens=inp, output_tokens=out)
    return float(genai_prices.calc_price(usage, model_ref=model, provider_id="openai").total_price)


COSTS = [
    # (extra attributes, expected cost (or "price" for the genai-prices price), source, table).
    # A cost that is no number from 0 to $1,000 (NaN, < 0, beyond the bound) is also reported as unreadable, with
    # its file and line; OpenLIT's 0 is read but unusable, not reported (its convention for "no price").
    ({"gen_ai.usage.cost": 0.0}, "price", "ingest", GENAI),  # OpenLIT offline: 0 with tokens is not free
    ({"gen_ai.usage.cost": 0.25}, 0.25, "producer", None),
    ({"gen_ai.usage.cost": -1.0}, "price", "ingest", GENAI),
    ({"gen_ai.usage.cost": "NaN"}, "price", "ingest", GENAI),
    # beyond any model call's price (a unit error, a hostile span): one such cost would be every total
    ({"gen_ai.usage.cost": 1e300}, "price", "ingest", GENAI),
    ({"gen_ai.usage.cost": 2e6, "otel_llm.cost.source": "user"}, "price", "ingest", GENAI),
    # the SDK's bound on one call (otel_llm.pricing.MAX_CALL_COST_USD), for a producer's cost too
    ({"gen_ai.usage.cost": 1000}, 1000, "producer", None),
    ({"gen_ai.usage.cost": 5000}, "price", "ingest", GENAI),
    ({"gen_ai.usage.cost": 1e6}, "price", "ingest", GENAI),
    ({"gen_ai.usage.cost": 0.0, "otel_llm.cost.source": "user"}, 0.0, "sdk", "user"),  # a user price of 0 is real
    ({"gen_ai.usage.cost": 0.5, "otel_llm.cost.source": "genai-prices@0.2.3"}, 0.5, "sdk", "genai-prices@0.2.3"),
    ({"llm.cost.total": 0.125}, 0.125, "producer", None),
    ({}, "price", "ingest", GENAI),  # OpenLLMetry / OpenInference: tokens, no cost
]


@pytest.mark.parametrize("attrs, cost, source, table", COSTS, ids=[str(c[0]) for c in COSTS])
def test_cost_source_of_each_call(store, tmp_path, attrs, cost, source, table):
    written = attrs.get("gen_ai.usage.cost")
    refused = written is not None and not 0 <= float(written) <= 1000
    _ingest(store, tmp_path, [_call(1, **attrs)], unreadable=("cost_usd",) if refused else ())
    ((got, got_source, got_table),) = store.query("SELECT cost_usd, cost_source, cost_table FROM spans")
    assert got == pytest.approx(_price("gpt-4o-mini", 1000, 100) if cost == "price" else cost)
    assert (got_source, got_table) == (source, table)


def test_zero_cost_without_tokens_is_a_free_call(store, tmp_path):
    _ingest(store, tmp_path, [{"id": _sid(1), "attrs": {"gen_ai.operation.name": "chat", "gen_ai.usage.cost": 0}}])
    assert store.query("SELECT cost_usd, cost_source FROM spans") == [(0.0, "producer")]


def test_unknown_model_keeps_a_null_cost_counted_and_reported(store, tmp_path):
    report = _ingest(store, tmp_path, [_call(1, model="my-private-model", inp=50, out=5),
                                       _call(2, model="my-private-model", inp=60, out=6, **{"gen_ai.usage.cost": 0}),
                                       _call(3)])
    assert store.query("SELECT cost_usd, cost_source FROM spans WHERE request_model = 'my-private-model'") == [
        (None, None), (None, None)]
    assert report.pricing.unpriced == {"my-private-model": 2}
    assert "2 call(s) with tokens have no price: my-private-model (2)" in report.summary()
    kpi = totals(store)
    assert (kpi.llm_calls, kpi.priced_calls, kpi.unpriced_calls) == (3, 1, 2)
    assert kpi.cost_usd == pytest.approx(_price("gpt-4o-mini", 1000, 100))
    assert kpi.estimated_cost_usd == pytest.approx(kpi.cost_usd)
    (row,) = [r for r in summary(store, by="model") if r.key == "my-private-model"]
    assert row.cost_usd is None and row.unpriced_calls == 2  # never a made-up 0


def test_pricing_file_prices_calls_already_stored(store, tmp_path):
    _ingest(store, tmp_path, [_call(1, model="my-private-model", inp=2_000_000, out=1_000_000)])
    assert store.query("SELECT cost_usd FROM spans") == [(None,)]
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps({"my-private-model": {"input": 1.5, "output": 4.0}}))
    report = store.ingest(tmp_path / "traces.jsonl", pricing=prices)  # nothing new to read; still priced
    assert report.spans_added == 0 and report.pricing.priced == 1
    assert store.query("SELECT cost_usd, cost_source, cost_table FROM spans") == [(2 * 1.5 + 4.0, "ingest", "user")]


def test_pricing_from_the_environment_and_the_cli(tmp_path, monkeypatch):
    from otel_llm.cli import app

    prices = tmp_path / "prices.yaml"
    prices.write_text("my-private-model: {input: 2.0, output: 8.0}\n")
    (tmp_path / "traces.jsonl").write_bytes(_line([_call(1, model="my-private-model", inp=10**6, out=10**6)]) + b"\n")
    db = tmp_path / "cli.duckdb"
    result = CliRunner().invoke(app, ["ingest", str(tmp_path / "traces.jsonl"), "--db", str(db),
                                      "--pricing", str(prices)])
    assert result.exit_code == 0, result.output
    assert "priced 1 call(s) at ingest (user)" in result.output
    with TraceStore(str(db), read_only=True) as store:
        assert store.query("SELECT cost_usd FROM spans") == [(10.0,)]
    monkeypatch.setenv("OTEL_LLM_PRICING", str(prices))
    with TraceStore(":memory:") as store:
        store.ingest(tmp_path / "traces.jsonl")
        assert store.query("SELECT cost_usd FROM spans") == [(10.0,)]
    with TraceStore(":memory:") as store, pytest.raises(StoreError, match="no pricing file at"):
        store.ingest(tmp_path / "traces.jsonl", pricing=tmp_path / "missing.json")


def test_openinference_request_model_comes_from_its_invocation_parameters(store, tmp_path):
    _ingest(store, tmp_path, [{"id": _sid(1), "attrs": {
        "openinference.span.kind": "LLM", "llm.model_name": "gpt-4o-2024-08-06",
        "llm.invocation_parameters": json.dumps({"model": "gpt-4o", "temperature": 0.2}),
        "llm.token_count.prompt": 10, "llm.token_count.completion": 2}},
        {"id": _sid(2), "attrs": {"openinference.span.kind": "LLM", "llm.model_name": "gpt-4o-2024-08-06",
                                  "llm.invocation_parameters": "not json"}}])
    assert store.query("SELECT model, request_model, response_model FROM spans ORDER BY span_id") == [
        ("gpt-4o", "gpt-4o", "gpt-4o-2024-08-06"), ("gpt-4o-2024-08-06", None, "gpt-4o-2024-08-06")]


# --- one model call, one row ------------------------------------------------------------

ROOT = {"id": _sid(100), "name": "turn", "attrs": {"otel_llm.kind": "chat", "otel_llm.project": "p"}}


def _ours(n: int, parent: str = ROOT["id"], **attrs: Any) -> dict[str, Any]:
    return {"id": _sid(n), "parent": parent, "name": "ours",
            "attrs": {"otel_llm.kind": "llm_call", "gen_ai.operation.name": "chat", "otel_llm.project": "p",
                      "otel_llm.run_config.temperature": 0.2, "gen_ai.request.model": "gpt-4o-mini", **attrs}}


def _peer(n: int, parent: str, inp: int = 1000, out: int = 100, **attrs: Any) -> dict[str, Any]:
    return {"id": _sid(n), "parent": parent, "name": "peer",
            "attrs": {"openinference.span.kind": "LLM", "llm.provider": "openai", "llm.model_name": "gpt-4o-mini",
                      "llm.token_count.prompt": inp, "llm.token_count.completion": out, **attrs}}


SDK_COST = {"gen_ai.usage.input_tokens": 1000, "gen_ai.usage.output_tokens": 100, "gen_ai.usage.cost": 0.5,
            "otel_llm.cost.source": "user"}


def test_our_span_around_a_peer_span_is_one_call_with_the_sdk_cost_and_our_context(store, tmp_path):
    _ingest(store, tmp_path, [ROOT, _ours(1, **SDK_COST), _peer(2, _sid(1))])
    rows = store.query("SELECT span_id, wrapper_span_id, input_tokens, cost_usd, cost_source, project, "
                       "attributes['otel_llm.run_config.temperature'] FROM llm_calls")
    assert rows == [(_sid(2), _sid(1), 1000, 0.5, "sdk", "p", "0.2")]
    rows = {r.key: r for r in summary(store, by="run_config.temperature")}
    assert (rows["0.2"].llm_calls, rows["0.2"].input_tokens, rows["0.2"].cost_usd) == (1, 1000, 0.5)
    assert rows[None].llm_calls == 0  # the turn


def test_without_sdk_usage_the_peer_tokens_win_and_are_priced(store, tmp_path):
    _ingest(store, tmp_path, [ROOT, _ours(1), _peer(2, _sid(1), inp=300, out=30)])
    assert store.query("SELECT input_tokens, output_tokens, cost_source FROM llm_calls") == [(300, 30, "ingest")]


def test_a_producer_cost_beats_a_price_made_at_ingest(store, tmp_path):
    # ours has tokens but an unknown model (no SDK cost); the peer reports a cost
    _ingest(store, tmp_path, [ROOT, _ours(1, **{"gen_ai.request.model": "unknown-x", "gen_ai.usage.input_tokens": 7}),
                              _peer(2, _sid(1), **{"llm.cost.total": 0.01})])
    assert store.query("SELECT cost_usd, cost_source, input_tokens FROM llm_calls") == [(0.01, "producer", 1000)]


def test_our_span_inside_a_peer_span_is_one_call_too(store, tmp_path):
    _ingest(store, tmp_path, [ROOT, _peer(1, ROOT["id"]), _ours(2, parent=_sid(1), **SDK_COST)])
    assert store.query("SELECT span_id, wrapper_span_id, cost_source, project FROM llm_calls") == [
        (_sid(2), _sid(1), "sdk", "p")]


@pytest.mark.parametrize("calls_only", [False, True])
@pytest.mark.parametrize("by", ["project", "run_config.temperature"])
def test_a_call_whose_group_comes_from_a_wrapper_outside_the_window_counts_its_trace(store, tmp_path, by,
                                                                                     calls_only):
    # the wrapper (ours: project, run config) starts before the window, the peer call inside it: the call's row
    # takes its group from the wrapper, and no span in the window has that group, yet the call has a trace
    _ingest(store, tmp_path, [ROOT, _ours(1, **SDK_COST), _peer(2, _sid(1))])
    since = datetime.fromtimestamp(1_764_000_000 + 2e-6, timezone.utc)  # the peer's start (3rd span: +2 us)
    rows = {r.key: r for r in summary(store, by=by, filters=Filters(since=since, calls_only=calls_only))}
    key = "p" if by == "project" else "0.2"
    assert (rows[key].llm_calls, rows[key].traces, rows[key].spans) == (1, 1, 0)
    assert rows[key].cost_usd == 0.5


def test_a_wrapper_around_several_calls_lends_context_only(store, tmp_path):
    _ingest(store, tmp_path, [ROOT, _ours(1, **SDK_COST), _peer(2, _sid(1), inp=10, out=1, status=0),
                              {**_peer(3, _sid(1), inp=20, out=2), "status": 2}])
    rows = store.query("SELECT span_id, input_tokens, cost_source, status_code, project FROM llm_calls ORDER BY 1")
    assert rows == [(_sid(2), 10, "ingest", 0, "p"), (_sid(3), 20, "ingest", 2, "p")]
    kpi = totals(store)
    assert (kpi.llm_calls, kpi.input_tokens, kpi.failed_calls) == (2, 30, 1)


def test_a_failed_wrapper_marks_its_single_call_failed(store, tmp_path):
    _ingest(store, tmp_path, [ROOT, {**_ours(1, **SDK_COST), "status": 2}, _peer(2, _sid(1))])
    assert store.query("SELECT status_code FROM llm_calls") == [(2,)]
    assert totals(store).failed_calls == 1


def test_llm_spans_without_nesting_are_all_calls(store, tmp_path):
    _ingest(store, tmp_path, [ROOT, _ours(1, **SDK_COST), _peer(2, ROOT["id"])])
    assert store.query("SELECT count(*), count(wrapper_span_id) FROM llm_calls") == [(2, 0)]


@pytest.mark.parametrize("total", TOTAL_TOKENS)  # every spelling (decode finds them by the word "total" first)
def test_usage_given_only_as_a_total_is_reported_not_a_silent_zero(store, tmp_path, total):
    """A producer that sends only a total (no input/output split) used tokens nobody can price or
    split: the call is reported with its file, line and span, rather than counted as 0 tokens in
    silence. A total beside the split is ordinary and says nothing."""
    only_total = {"id": _sid(1), "attrs": {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o-mini",
                                            total: 500}}
    with_split = _call(2, **{total: 1100})
    path = tmp_path / "traces.jsonl"
    path.write_bytes(_line([only_total, with_split]) + b"\n")
    report = store.ingest(path)
    (problem,) = report.bad_lines
    assert (problem.path, problem.line) == (str(path), 1)
    assert problem.where.endswith("spans[0]") and total in problem.reason and "total" in problem.reason
    assert totals(store).llm_calls == 2


def test_a_call_without_an_operation_name_counts_with_its_tokens(store, tmp_path):
    """A span of GenAI semconv before gen_ai.operation.name (the Vercel AI SDK's doGenerate spans) was in
    no analysis: its call and tokens were left out of summary without a word."""
    _ingest(store, tmp_path, [{"id": _sid(1), "name": "ai.generateText.doGenerate",
                               "attrs": {"gen_ai.system": "openai.chat", "gen_ai.request.model": "gpt-4o",
                                         "gen_ai.usage.input_tokens": 12, "gen_ai.usage.output_tokens": 5}}])
    t = totals(store)
    assert (t.llm_calls, t.input_tokens, t.output_tokens) == (1, 12, 5)


def test_a_total_on_a_span_that_is_no_model_call_says_nothing(store, tmp_path):
    chain = {"id": _sid(1), "attrs": {"openinference.span.kind": "CHAIN", "llm.token_count.total": 900}}
    _ingest(store, tmp_path, [chain, _call(2)])


def test_ingest_counts_priced_and_unpriced_calls_as_the_analyses_count_calls(tmp_path):
    """A call two producers traced (the SDK's span around a peer's) is one call in every analysis,
    but ingest's line counted spans: "priced 266 call(s) ... 66 call(s) with tokens have no price"
    where summary counts 33 unpriced calls (and the 266 were peer copies whose price lost to the
    SDK's cost). It counts calls now: the same figures as summary."""
    from otel_llm_analysis import TraceStore
    from otel_llm_analysis.summaries import totals
    from tests.support import synthetic

    data = synthetic.generate(tmp_path / "d", seed=11, traces=150, days=40, agents="otel_llm", peer_spans=True)
    with TraceStore(str(tmp_path / "s.duckdb")) as store:
        report = store.ingest([str(p) for p in data.files])
        row = totals(store)
        ((from_ingest,),) = store.query("SELECT count(*) FROM llm_calls WHERE cost_source = 'ingest'")
    assert sum(report.pricing.unpriced.values()) == row.unpriced_calls > 0
    assert report.pricing.priced == from_ingest
    assert f"{row.unpriced_calls} call(s) with tokens have no price" in report.summary()


@pytest.mark.parametrize("ours_outside", [True, False])
@pytest.mark.parametrize("sdk_cost", [False, True])
def test_a_paired_call_is_filed_under_the_model_asked_for_as_an_unpaired_one(store, tmp_path, ours_outside, sdk_cost):
    """A bare ``@llm_call`` (request model only) paired with OpenInference's span of the same call (its
    ``llm.model_name`` is the dated snapshot that answered, no invocation parameters): the pair's ``model``
    took the winning span's own ``model``, which for the peer is its response model, so the call was filed
    under ``gpt-4o-2024-08-06`` while an unpaired call of ``gpt-4o`` is filed under ``gpt-4o``. ``model`` is
    the pair's request model (from either span), else its response model, as for every other call."""
    peer_attrs = {"llm.model_name": "gpt-4o-2024-08-06", "llm.provider": "openai"}
    ours_attrs = {"gen_ai.request.model": "gpt-4o", **(SDK_COST if sdk_cost else {})}
    if ours_outside:
        ours, peer = _ours(1, **ours_attrs), _peer(2, _sid(1), **peer_attrs)
    else:  # our span inside the peer's: the peer wraps
        peer, ours = _peer(1, ROOT["id"], **peer_attrs), _ours(2, parent=_sid(1), **ours_attrs)
    alone = _ours(3, **{"gen_ai.request.model": "gpt-4o", "gen_ai.response.model": "gpt-4o-2024-08-06",
                        "gen_ai.usage.input_tokens": 5, "gen_ai.usage.output_tokens": 1})
    _ingest(store, tmp_path, [ROOT, ours, peer, alone])
    rows = store.query("SELECT model, request_model, response_model FROM llm_calls ORDER BY span_id")
    assert rows == [("gpt-4o", "gpt-4o", "gpt-4o-2024-08-06")] * 2
    by_model = {row.key: row.llm_calls for row in summary(store, by="model") if row.llm_calls}
    assert by_model == {"gpt-4o": 2}
    assert {row.key: row.llm_calls for row in summary(store, by="response_model") if row.llm_calls} == {
        "gpt-4o-2024-08-06": 2}
