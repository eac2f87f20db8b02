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
from tests.analysis.test_unpriced_calls import CALLS
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
