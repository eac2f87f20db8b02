"""Spans of other producers and odd values: every analysis the same on DuckDB and on ClickHouse.

OpenLLMetry (``llm.request.type``, ``gen_ai.usage.prompt_tokens``,
``llm.usage.total_tokens``), OpenInference (``openinference.span.kind = LLM``,
``llm.model_name``, ``llm.token_count.*``, ``session.id``) and OpenLIT (``gen_ai.usage.cost``)
calls, beside otel-llm's, with unicode and empty names, a huge count, attributes
missing, an array-valued finish reason, and calls on the last and first days of a month.
"""

from __future__ import annotations

import calendar
from typing import Any, Iterator

import orjson
import pytest

from otel_llm_analysis import Filters, comparisons, summaries, traces, trends
from otel_llm_analysis.clickhouse.store import ClickHouseStore
from otel_llm_analysis.store import TraceStore
from tests.clickhouse.test_differential import ANALYSES, both_stores, same, same_on_both
from tests.support.clickhouse_http import ChdbHttpServer
from tests.support.synthetic import key_values

S = 10**9
#: producer -> attributes of its LLM call (besides what every call gets below)
PRODUCERS: dict[str, dict[str, Any]] = {
    "otel_llm": {"otel_llm.kind": "llm_call", "gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
                 "gen_ai.request.model": "gpt-4o", "gen_ai.response.model": "gpt-4o-2024-08-06",
                 "gen_ai.usage.input_tokens": 1200, "gen_ai.usage.output_tokens": 300,
                 "gen_ai.response.finish_reasons": ["stop"], "otel_llm.project": "support"},
    "openllmetry": {"llm.request.type": "chat", "gen_ai.system": "OpenAI", "gen_ai.request.model": "gpt-4o-mini",
                    "gen_ai.usage.prompt_tokens": 50, "gen_ai.usage.completion_tokens": 7,
                    "llm.usage.total_tokens": 57},
    "openllmetry_total_only": {"llm.request.type": "chat", "gen_ai.system": "Anthropic",
                               "gen_ai.request.model": "claude-haiku-4-5", "llm.usage.total_tokens": 99},
    "openinference": {"openinference.span.kind": "LLM", "llm.provider": "openai", "llm.model_name": "gpt-4o",
                      "llm.token_count.prompt": 10, "llm.token_count.completion": 5, "llm.token_count.total": 15,
                      "session.id": "sess-ü", "user.id": "用户"},
    "openlit": {"gen_ai.operation.name": "chat", "gen_ai.system": "openai", "gen_ai.request.model": "gpt-4o",
                "gen_ai.usage.input_tokens": 20, "gen_ai.usage.output_tokens": 2, "gen_ai.usage.cost": 0.00013,
                "otel_llm.kind": "llm_call", "otel_llm.project": "ünïcödé ✓"},
    "empty_names": {"otel_llm.kind": "llm_call", "gen_ai.request.model": "", "gen_ai.provider.name": "",
                    "otel_llm.project": "", "gen_ai.usage.input_tokens": 1, "gen_ai.usage.output_tokens": 1},
    "huge": {"otel_llm.kind": "llm_call", "gen_ai.request.model": "gpt-4o", "gen_ai.provider.name": "openai",
             "gen_ai.usage.input_tokens": 2**53, "gen_ai.usage.output_tokens": 0, "user.id": "x" * 300},
    "no_attributes": {"otel_llm.kind": "llm_call"},
    # inside a bare @llm_call(model="gpt-4o"): OpenInference's llm.model_name is the model that answered,
    # so the pair is the call of the model asked for, the wrapper's (_trace makes the node that wrapper)
    "wrapped_openinference": {"openinference.span.kind": "LLM", "llm.provider": "openai",
                              "llm.model_name": "gpt-4o-2024-08-06", "llm.token_count.prompt": 10,
                              "llm.token_count.completion": 5},
    # GenAI semconv before gen_ai.operation.name (the Vercel AI SDK's doGenerate spans): a call by inference
    "no_operation_name": {"gen_ai.system": "openai.chat", "gen_ai.request.model": "gpt-4o",
                          "gen_ai.usage.input_tokens": 12, "gen_ai.usage.output_tokens": 5},
}
#: (year, month, day, hour) of each trace: around month and year ends
WHEN = [(2026, 10, 31, 23), (2026, 11, 1, 0), (2026, 11, 30, 23), (2026, 12, 1, 0), (2026, 12, 31, 23),
        (2027, 1, 1, 0)]


def _trace(index: int, producer: str, start_ns: int) -> list[dict[str, Any]]:
    """A chat turn (otel-llm's chat span, a node) around one call of ``producer``, the last one failing;
    for a ``wrapped_`` producer the node is a bare ``@llm_call`` instead, the call traced twice."""
    trace = f"{index + 1:032x}"
    failed = index % 5 == 4
    call = {"traceId": trace, "spanId": f"{index:08x}00000003", "parentSpanId": f"{index:08x}00000002",
            "name": f"chat {producer}", "kind": 3, "startTimeUnixNano": str(start_ns + S // 10),
            "endTimeUnixNano": str(start_ns + S // 10 + (index + 1) * 37_000_000),
            "attributes": key_values(PRODUCERS[producer]),
            "status": {"code": 2, "message": "boom ✗"} if failed else {}}
    node = {"traceId": trace, "spanId": f"{index:08x}00000002", "parentSpanId": f"{index:08x}00000001",
            "name": "answer", "kind": 1, "startTimeUnixNano": str(start_ns + S // 20),
            "endTimeUnixNano": str(start_ns + 2 * S), "attributes": key_values(
                {"otel_llm.kind": "llm_call", "gen_ai.request.model": "gpt-4o", "gen_ai.provider.name": "openai"}
                if producer.startswith("wrapped_") else {"otel_llm.kind": "graph_node", "otel_llm.graph.node": "answer"})}
    chat = {"traceId": trace, "spanId": f"{index:08x}00000001", "name": "turn", "kind": 1,
            "startTimeUnixNano": str(start_ns), "endTimeUnixNano": str(start_ns + 3 * S),
            "attributes": key_values({"otel_llm.kind": "chat"})}
    return [chat, node, call]


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory, clickhouse_http: ChdbHttpServer
           ) -> Iterator[tuple[TraceStore, ClickHouseStore]]:
    root = tmp_path_factory.mktemp("differential_producers")
    spans = []
    for i, (year, month, day, hour) in enumerate(WHEN):
        start = calendar.timegm((year, month, day, hour, 59 if hour else 0, 59 if hour else 1)) * S
        for j, producer in enumerate(PRODUCERS):
            spans += _trace(i * len(PRODUCERS) + j, producer, start)
    (root / "traces.jsonl").write_bytes(orjson.dumps({"resourceSpans": [{
        "resource": {"attributes": key_values({"service.name": "søvc"})},
        "scopeSpans": [{"scope": {"name": "mixed"}, "spans": spans}]}]}) + b"\n")
    yield from both_stores(root, f"clickhouse://default@127.0.0.1:{clickhouse_http.port}/otel_producers",
                           bad_lines_allowed=True)


MONTH_END = Filters.of("2026-11-01", "2026-12-01")
MORE: dict[str, Any] = {
    "summary by day in November": lambda s: summaries.summary(s, "day", MONTH_END),
    "summary by week in November": lambda s: summaries.summary(s, "week", MONTH_END),
    "trends by day over the year's end": lambda s: trends.series(s, "day", Filters.of("2026-12-30", "2027-01-03")),
    "trends by week": lambda s: trends.series(s, "week"),
    "top traces by tokens": lambda s: traces.top_traces(s, 50, "cost"),
    "compare by provider": lambda s: comparisons.compare(s, "provider", turns=[]),
    "summary by user": lambda s: summaries.summary(s, "user"),
}
ALL = {**ANALYSES, **MORE}
#: Analyses the data gives nothing to (no logs, streams, evaluations, run configs or budgets' months here).
EMPTY = {"time to first token by model", "logs", "logs search", "log patterns", "compare by run_config",
         "quality", "quality by model", "summary by run_config.max_retries"}


@pytest.mark.parametrize("name", [name for name in ALL if name not in EMPTY])
def test_the_analysis_is_the_same_on_both_engines(stores: tuple[TraceStore, ClickHouseStore], name: str) -> None:
    same_on_both(stores, name, ALL[name])


def test_each_calls_figures_read_the_same_on_both_engines(stores: tuple[TraceStore, ClickHouseStore]) -> None:
    sql = ("SELECT span_id, otel_kind, operation, provider, model, response_model, project, input_tokens, "
           "output_tokens, cost_usd, cost_source, conversation_id, user_id, graph_node, status_code, "
           "status_message FROM llm_calls ORDER BY span_id")
    duck, ch = (store.query(sql) for store in stores)
    assert len(duck) == len(WHEN) * len(PRODUCERS)  # the call traced twice counts once
    # the model asked for, also of the wrapped pair (whose inner span names only the model that answered)
    assert {row[4] for row in duck if row[5] == "gpt-4o-2024-08-06"} == {"gpt-4o"}
    same(duck, ch)
