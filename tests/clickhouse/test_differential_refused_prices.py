"""Calls ingest leaves unpriced by the SDK's rules are unpriced on ClickHouse too.

A call whose SDK dropped a priced count (``otel_llm.usage.dropped``), whose
cache counts exceed the input that includes them, which has output tokens and no
input count, or whose price is beyond any one call's (``sane_cost``) gets no cost from DuckDB's
ingest (``ModelRates.refusal``); ClickHouse prices in its ``spans`` view and
must leave the same calls without a cost, or the same data totals differently
on the two engines.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import orjson
import pytest

from otel_llm import semconv
from otel_llm_analysis import summaries
from otel_llm_analysis.clickhouse.store import ClickHouseStore
from otel_llm_analysis.store import TraceStore
from tests.clickhouse.test_differential import both_stores, same, same_on_both
from tests.support.clickhouse_http import ChdbHttpServer
from tests.support.synthetic import key_values

T0 = 1_790_000_000_000_000_000
USAGES = {
    "dropped input": {semconv.GEN_AI_USAGE_OUTPUT_TOKENS: 1000, semconv.OTEL_LLM_USAGE_DROPPED: ["input_tokens"]},
    "cache beyond input": {semconv.GEN_AI_USAGE_INPUT_TOKENS: 100, semconv.GEN_AI_USAGE_OUTPUT_TOKENS: 10,
                           semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: 500},
    "dropped bill only": {semconv.GEN_AI_USAGE_INPUT_TOKENS: 7, semconv.GEN_AI_USAGE_OUTPUT_TOKENS: 10,
                          semconv.OTEL_LLM_USAGE_DROPPED: ["billed_cost"]},
    "plain": {semconv.GEN_AI_USAGE_INPUT_TOKENS: 7, semconv.GEN_AI_USAGE_OUTPUT_TOKENS: 10},
    "output without input": {semconv.GEN_AI_USAGE_OUTPUT_TOKENS: 1000},
    "input without output": {semconv.GEN_AI_USAGE_INPUT_TOKENS: 1000},
    "beyond a call's cost": {semconv.GEN_AI_USAGE_INPUT_TOKENS: 10**9, semconv.GEN_AI_USAGE_OUTPUT_TOKENS: 10},
    "producer bill beyond a call's": {semconv.GEN_AI_USAGE_INPUT_TOKENS: 7, semconv.GEN_AI_USAGE_OUTPUT_TOKENS: 10,
                                      "gen_ai.usage.cost": 5000.0},
}
#: The call whose producer's cost is refused: priced at ingest, and reported with its file and line
BEYOND = "producer bill beyond a call's"


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory, clickhouse_http: ChdbHttpServer
           ) -> Iterator[tuple[TraceStore, ClickHouseStore]]:
    root = tmp_path_factory.mktemp("refused_prices")
    (root / "calls.jsonl").write_bytes(orjson.dumps(_request()) + b"\n")
    with TraceStore(":memory:") as store:  # the one problem: the producer's bill beyond one call's, named
        problems = store.ingest(root).bad_lines
    assert [(p.line, p.where, p.reason.split(" = ")[0]) for p in problems] == [
        (1, f"span {list(USAGES).index(BEYOND) + 1:016x}", "cost_usd left empty: gen_ai.usage.cost")], problems
    yield from both_stores(root, f"clickhouse://default@127.0.0.1:{clickhouse_http.port}/otel_refused",
                           bad_lines_allowed=True)


def _request() -> dict:
    """One export request: a call of gpt-4o per :data:`USAGES` entry, named after it."""
    spans = [{"traceId": f"{i:032x}", "spanId": f"{i:016x}", "name": name, "kind": 3,
              "startTimeUnixNano": str(T0 + i * 10**9), "endTimeUnixNano": str(T0 + i * 10**9 + 10**8),
              "attributes": key_values({"gen_ai.request.model": "gpt-4o", "gen_ai.system": "openai",
                                        "gen_ai.operation.name": "chat", **usage})}
             for i, (name, usage) in enumerate(USAGES.items(), 1)]
    return {"resourceSpans": [{"resource": {"attributes": key_values({"service.name": "s"})},
                               "scopeSpans": [{"scope": {"name": "producer"}, "spans": spans}]}]}


def test_the_same_calls_are_left_unpriced_on_both_engines(stores: tuple[TraceStore, ClickHouseStore]) -> None:
    sql = "SELECT name, cost_source FROM spans WHERE otel_kind = 'llm_call' ORDER BY name"
    duck, ch = (store.query(sql) for store in stores)
    assert dict(duck) == {"cache beyond input": None, "dropped bill only": "ingest", "dropped input": None,
                          "plain": "ingest", "output without input": None, "input without output": "ingest",
                          "beyond a call's cost": None, "producer bill beyond a call's": "ingest"}
    same(duck, ch)


def test_the_summary_is_the_same_on_both_engines(stores: tuple[TraceStore, ClickHouseStore]) -> None:
    same_on_both(stores, "summary", lambda s: summaries.summary(s, None))
