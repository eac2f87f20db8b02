"""Token sums beyond 64 bits read the same on both engines.

DuckDB sums a ``BIGINT`` column into a ``HUGEINT`` (128 bits): a total past
2**63 - 1 is exact. ClickHouse's ``sum`` of an ``Int64`` is an ``Int64`` and wraps
around in silence, so a store whose token counts add up past 2**63 (counts up to
2**53 each are read; 1,100 of them pass it) would show a negative total there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import orjson
import pytest

from otel_llm_analysis import summaries, traces, trends
from otel_llm_analysis.clickhouse.store import ClickHouseStore
from otel_llm_analysis.store import TraceStore
from tests.clickhouse.test_differential import both_stores, same_on_both
from tests.support.clickhouse_http import ChdbHttpServer
from tests.support.synthetic import key_values

T0 = 1_790_000_000_000_000_000
CALLS = 1_100
HUGE = 2**53  # the largest count a span's attribute is read as


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory, clickhouse_http: ChdbHttpServer
           ) -> Iterator[tuple[TraceStore, ClickHouseStore]]:
    root = tmp_path_factory.mktemp("large_sums")
    spans = [{"traceId": f"{i // 550 + 1:032x}", "spanId": f"{i + 1:016x}", "name": "chat", "kind": 3,
              "startTimeUnixNano": str(T0 + i * 10**9), "endTimeUnixNano": str(T0 + i * 10**9 + 10**8),
              "attributes": key_values({"gen_ai.request.model": "gpt-4o", "gen_ai.system": "openai",
                                        "gen_ai.operation.name": "chat", "gen_ai.usage.input_tokens": HUGE,
                                        "gen_ai.usage.output_tokens": HUGE, "gen_ai.usage.cost": 1.0})}
             for i in range(CALLS)]
    (root / "calls.jsonl").write_bytes(orjson.dumps({"resourceSpans": [{
        "resource": {"attributes": key_values({"service.name": "s"})},
        "scopeSpans": [{"scope": {"name": "producer"}, "spans": spans}]}]}) + b"\n")
    yield from both_stores(root, f"clickhouse://default@127.0.0.1:{clickhouse_http.port}/otel_large_sums")


def test_the_token_totals_past_64_bits_are_duckdbs(stores: tuple[TraceStore, ClickHouseStore]) -> None:
    duck, ch = stores
    assert summaries.summary(duck, None)[0].input_tokens == CALLS * HUGE > 2**63
    same_on_both(stores, "summary", lambda s: summaries.summary(s, "model"))


@pytest.mark.parametrize("name", ["totals", "trends by day", "top traces"])
def test_every_token_sum_is_the_same_on_both_engines(stores: tuple[TraceStore, ClickHouseStore], name: str) -> None:
    analysis = {"totals": lambda s: summaries.totals(s), "trends by day": lambda s: trends.series(s, "day"),
                "top traces": lambda s: traces.top_traces(s, 5, "cost")}[name]
    same_on_both(stores, name, analysis)
