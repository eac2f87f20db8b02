"""A span without a usable end reads the same on DuckDB and on ClickHouse: no end time, no duration.

DuckDB's ingest leaves ``end_time`` and ``duration_ms`` NULL when a span has no end
(``endTimeUnixNano`` absent or 0) and when its end is before its start (reported,
``_decode._drop_backward_ends``). The collector's exporter stores ``Duration`` as
the end minus the start in an unsigned column, so such a span arrives with a
duration wrapped past 2**63 ns (and ``otel-llm load`` writes the same row): read as
it is, a call of 16,656,744,073 seconds drags every percentile and puts the end in
1970 or 2554. The span table reads that wrapped value as no end, as DuckDB does.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator

import orjson
import pytest

from otel_llm_analysis import summaries, traces, trends
from otel_llm_analysis.clickhouse.store import ClickHouseStore
from otel_llm_analysis.store import TraceStore
from tests.clickhouse.test_differential import both_stores, same
from tests.support.clickhouse_http import ChdbHttpServer
from tests.support.synthetic import key_values

T0 = 1_790_000_000_000_000_000
S = 10**9
CALL = {"otel_llm.kind": "llm_call", "gen_ai.request.model": "m", "gen_ai.usage.input_tokens": 3,
        "gen_ai.usage.output_tokens": 2}
#: span number -> its endTimeUnixNano (None: absent); every span starts at T0 + n s
ENDS: dict[int, str | None] = {0: None, 1: "0", 2: str(T0 + 2 * S - S // 10), 3: str(T0 + 3 * S + S // 10),
                               4: str(T0 + 4 * S + S // 5), 5: str(T0 + 5 * S)}


def _span(n: int, end: str | None) -> dict[str, Any]:
    span = {"traceId": f"{n + 1:032x}", "spanId": f"{n + 1:016x}", "name": "chat", "kind": 3,
            "startTimeUnixNano": str(T0 + n * S), "attributes": key_values(CALL)}
    if end is not None:
        span["endTimeUnixNano"] = end
    return span


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory, clickhouse_http: ChdbHttpServer
           ) -> Iterator[tuple[TraceStore, ClickHouseStore]]:
    root = tmp_path_factory.mktemp("differential_span_ends")
    (root / "traces.jsonl").write_bytes(orjson.dumps({"resourceSpans": [{
        "resource": {"attributes": key_values({"service.name": "s"})},
        "scopeSpans": [{"scope": {"name": "p"}, "spans": [_span(n, end) for n, end in ENDS.items()]}]}]}) + b"\n")
    yield from both_stores(root, f"clickhouse://default@127.0.0.1:{clickhouse_http.port}/otel_span_ends",
                           bad_lines_allowed=True)


ANALYSES: dict[str, Callable[[Any], Any]] = {
    "calls' ends": lambda s: sorted(s.query("SELECT span_id, end_time, duration_ms FROM llm_calls")),
    "spans' ends": lambda s: sorted(s.query("SELECT span_id, end_time, duration_ms FROM spans")),
    "summary": lambda s: summaries.summary(s, None),
    "trends": lambda s: trends.series(s, "day"),
    "top traces by duration": lambda s: traces.top_traces(s, 10, "duration"),
    "trace summary": lambda s: sorted(s.query("SELECT trace_id, duration_ms FROM trace_summary")),
    "daily usage p95": lambda s: s.query("SELECT p95_ms FROM daily_usage"),
}


@pytest.mark.parametrize("analysis", list(ANALYSES))
def test_a_span_without_a_usable_end_has_no_duration_on_both_engines(
        stores: tuple[TraceStore, ClickHouseStore], analysis: str) -> None:
    duck, ch = (ANALYSES[analysis](store) for store in stores)
    same(duck, ch)


def test_the_spans_with_an_end_keep_it(stores: tuple[TraceStore, ClickHouseStore]) -> None:
    durations = dict(stores[1].query("SELECT span_id, duration_ms FROM spans"))
    assert [durations[f"{n + 1:016x}"] for n in ENDS] == [None, None, None, 100.0, 200.0, 0.0]
