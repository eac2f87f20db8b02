"""Summed costs on ClickHouse do not depend on the order the rows are stored or read in.

Floating-point addition is not associative: ClickHouse's ``sum`` adds a float
column in several interleaved partial sums, in whatever order the parts and
threads give the rows, so a store loaded in another order (or merged) could
answer a total that differs in its last digits. Every cost the analyses sum is
the sum of the values sorted ascending, added one by one: the same bits for the
same values, whatever their order, and the same bits DuckDB gives for the same
sum written ``list_sum(list_sort(list(x)))`` (the change the DuckDB side needs
for bit-equal totals across engines; asserted here on the DuckDB store).
"""

from __future__ import annotations

import random
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator

import orjson
import pytest

from otel_llm_analysis import summaries, traces, trends
from otel_llm_analysis.clickhouse import load
from otel_llm_analysis.clickhouse.store import ClickHouseStore
from otel_llm_analysis.store import TraceStore
from tests.support.clickhouse_http import ChdbHttpServer
from tests.support.synthetic import key_values

S = 10**9
T0 = int(datetime(2026, 11, 2).timestamp()) * S
CALLS = 600


def _costs() -> list[float]:
    """Costs over eleven orders of magnitude, so the order of addition changes the last bits."""
    rng = random.Random(7)
    return [rng.random() * 10 ** rng.randint(-9, 2) for _ in range(CALLS)]


def _write(folder: Path, indices: range, costs: list[float]) -> None:
    """Calls ``indices`` (one a trace, three traces a day, two models) as one collector-format line."""
    spans = []
    for i in indices:
        start = T0 + (i // 3) * 86_400 * S // 40 + i * S
        spans.append({"traceId": f"{i // 2 + 1:032x}", "spanId": f"{i + 1:016x}", "name": "chat",
                      "kind": 3, "startTimeUnixNano": str(start), "endTimeUnixNano": str(start + S // 10),
                      "attributes": key_values({"gen_ai.request.model": ("gpt-4o", "claude")[i % 2],
                                                "gen_ai.system": "openai", "gen_ai.operation.name": "chat",
                                                "gen_ai.usage.input_tokens": 10, "gen_ai.usage.output_tokens": 5,
                                                "gen_ai.usage.cost": costs[i]})})
    folder.mkdir(parents=True)
    (folder / "calls.jsonl").write_bytes(orjson.dumps({"resourceSpans": [{
        "resource": {"attributes": key_values({"service.name": "s"})},
        "scopeSpans": [{"scope": {"name": "producer"}, "spans": spans}]}]}) + b"\n")


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory, clickhouse_http: ChdbHttpServer
           ) -> Iterator[tuple[TraceStore, ClickHouseStore, ClickHouseStore]]:
    """The same calls in DuckDB and in two ClickHouse databases, loaded in opposite orders (other parts)."""
    root = tmp_path_factory.mktemp("cost_sums")
    costs = _costs()
    halves = [root / "first", root / "second"]
    _write(halves[0], range(0, CALLS // 2), costs)
    _write(halves[1], range(CALLS // 2, CALLS), costs)
    urls = [f"clickhouse://default@127.0.0.1:{clickhouse_http.port}/otel_cost_sums_{order}" for order in ("a", "b")]
    for folder in halves:
        load([folder], urls[0])
    for folder in reversed(halves):
        load([folder], urls[1])
    with TraceStore(":memory:") as duck, ClickHouseStore(urls[0]) as one, ClickHouseStore(urls[1]) as other:
        duck.ingest(halves)
        yield duck, one, other


ANALYSES: dict[str, Any] = {
    "summary": lambda s: summaries.summary(s, None),
    "summary by model": lambda s: summaries.summary(s, "model"),
    "summary by day": lambda s: summaries.summary(s, "day"),
    "trends by day": lambda s: trends.series(s, "day"),
    "top traces by cost": lambda s: traces.top_traces(s, 50, "cost"),
}


@pytest.mark.parametrize("name", list(ANALYSES))
def test_costs_sum_to_the_same_bits_whatever_order_the_rows_are_in(
        stores: tuple[TraceStore, ClickHouseStore, ClickHouseStore], name: str) -> None:
    _, one, other = stores
    assert ANALYSES[name](one) == ANALYSES[name](other)  # exact: no tolerance


def test_the_total_cost_is_the_sorted_sum_duckdb_gives_with_list_sum_of_list_sort(
        stores: tuple[TraceStore, ClickHouseStore, ClickHouseStore]) -> None:
    duck, one, _ = stores
    expected = 0.0
    for cost in sorted(_costs()):
        expected += cost
    assert summaries.summary(one, None)[0].cost_usd == expected
    ((duck_sorted,),) = duck.query("SELECT list_sum(list_sort(list(cost_usd))) FROM llm_calls")
    assert duck_sorted == expected
    by_trace = {row.trace_id: row.cost_usd for row in traces.top_traces(one, CALLS, "cost")}
    assert by_trace == dict(duck.query("SELECT trace_id, list_sum(list_sort(list(cost_usd))) FROM llm_calls "
                                       "GROUP BY trace_id"))


def test_a_cost_sum_over_no_values_is_null_as_duckdbs(stores: tuple[TraceStore, ClickHouseStore, ClickHouseStore]
                                                      ) -> None:
    duck, one, _ = stores
    sql = ("SELECT sum(cost_usd), sum(cost_usd) FILTER (WHERE model = 'none'), sum(CASE WHEN false THEN cost_usd END) "
           "FROM llm_calls WHERE model = 'none'")
    assert one.query(sql) == duck.query(sql) == [(None, None, None)]
