"""Calls whose usage is only a total count the same on ClickHouse as on DuckDB: unpriced, their tokens told.

The calls are ``tests/analysis/test_unpriced_calls.py``'s (priced, unpriced, totals-only
in each producer's spelling, no usage), ingested into DuckDB and loaded into ClickHouse.
"""

from __future__ import annotations

from pathlib import Path

import orjson

from otel_llm_analysis import summaries, traces
from otel_llm_analysis.clickhouse import load
from otel_llm_analysis.clickhouse.store import ClickHouseStore
from otel_llm_analysis.store import TraceStore
from tests.analysis.test_unpriced_calls import CALLS, _call
from tests.clickhouse.test_differential import same
from tests.support import synthetic


def test_totals_only_calls_and_their_traces_are_the_same_on_both_engines(tmp_path: Path, clickhouse_url: str) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "traces.jsonl").write_bytes(orjson.dumps(synthetic.spans_request([s for s, *_ in CALLS])) + b"\n")
    with TraceStore(":memory:") as duck:
        report = duck.ingest([folder])
        assert load([folder], clickhouse_url).spans_added == report.spans_added == len(CALLS)
        with ClickHouseStore(clickhouse_url) as ch:
            for analysis in (lambda s: summaries.summary(s, None), lambda s: summaries.summary(s, "model"),
                             lambda s: traces.top_traces(s, len(CALLS), "duration")):
                expected = analysis(duck)
                assert expected
                same(expected, analysis(ch))
            usage = "SELECT model, calls, priced_calls, unpriced_calls FROM daily_usage ORDER BY model"
            assert [tuple(row) for row in duck.query(usage)] == [tuple(row) for row in ch.query(usage)]
            total, = summaries.summary(ch, None)
            assert (total.unpriced_calls, total.total_only_calls, total.total_only_tokens) == (4, 3, 1398)


def test_a_producers_zero_cost_on_a_call_with_only_a_total_is_no_price_on_both_engines(
        tmp_path: Path, clickhouse_url: str) -> None:
    # OpenLIT writes gen_ai.usage.cost = 0 when it has no price; on a call whose usage is only a total
    # that 0 is no price (DuckDB: _costs._ZERO_ON_A_TOTAL), so the call is unpriced, never priced at $0
    calls = [_call(1, "gpt-4o", **{"gen_ai.usage.input_tokens": 100, "gen_ai.usage.output_tokens": 20}),
             _call(2, "gpt-4o", **{"gen_ai.usage.total_tokens": 500, "gen_ai.usage.cost": 0}),
             _call(3, "gpt-4o", **{"gen_ai.usage.cost": 0})]  # no tokens at all: a real 0
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "traces.jsonl").write_bytes(orjson.dumps(synthetic.spans_request(calls)) + b"\n")
    with TraceStore(":memory:") as duck:
        duck.ingest([folder])
        assert load([folder], clickhouse_url).spans_added == len(calls)
        with ClickHouseStore(clickhouse_url) as ch:
            expected, = summaries.summary(duck, None)
            assert (expected.priced_calls, expected.unpriced_calls, expected.total_only_tokens) == (2, 1, 500)
            same(expected, summaries.summary(ch, None)[0])
            same(summaries.totals(duck), summaries.totals(ch))
