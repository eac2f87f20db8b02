"""The convenience views exist in every store and agree with the analyses and the records."""

from __future__ import annotations

from collections import defaultdict

import pytest

from otel_llm_analysis import TraceStore, summary, top_traces
from otel_llm_analysis._filters import Filters

from _ground_truth import is_llm, store_fixture

loaded = store_fixture(seed=61, traces=120)


def test_views_exist_in_a_store_made_by_the_api_alone(tmp_path):
    with TraceStore(str(tmp_path / "api.duckdb")) as store:
        names = {n for (n,) in store.query("SELECT view_name FROM duckdb_views() WHERE NOT internal")}
    assert {"spans", "llm_calls", "evaluations", "daily_usage", "trace_summary"} <= names
    with TraceStore(str(tmp_path / "api.duckdb"), read_only=True) as store:  # and a read-only reader sees them
        assert store.query("SELECT count(*) FROM daily_usage") == [(0,)]


def test_daily_usage_matches_the_records(loaded):
    store, data = loaded
    expected = defaultdict(lambda: [0, 0, 0, None])
    for s in data.spans:
        if not is_llm(s):
            continue
        row = expected[(s.start_time.date(), s.project, s.model)]
        row[0] += 1
        row[1] += s.status_code == 2
        row[2] += s.input_tokens or 0
        if s.cost_usd is not None:
            row[3] = (row[3] or 0.0) + s.cost_usd
    rows = store.query("SELECT day, project, model, calls, failed_calls, input_tokens, cost_usd FROM daily_usage")
    assert len(rows) == len(expected)
    for day, project, model, calls, failed, tokens, cost in rows:
        want = expected[(day, project, model)]
        assert [calls, failed, tokens] == want[:3]
        assert cost == (None if want[3] is None else pytest.approx(want[3]))  # unpriced model: NULL, not 0
    assert any(cost is None for *_, cost in rows)


def test_daily_usage_and_summary_give_the_same_per_model_totals(loaded):
    store, _ = loaded
    by_view = dict(store.query("SELECT model, sum(calls) FROM daily_usage GROUP BY ALL"))
    by_summary = {r.key: r.llm_calls for r in summary(store, by="model") if r.llm_calls}
    assert by_view == by_summary
    readme_sql = dict(store.query("SELECT model, count(*) FROM llm_calls GROUP BY ALL"))
    assert readme_sql == by_summary


def test_top_traces_rows_are_trace_summary_rows(loaded):
    store, _ = loaded
    view = {r[0]: r for r in store.query(
        "SELECT trace_id, root_name, spans, llm_calls, tokens, cost_usd, errors FROM trace_summary")}
    for row in top_traces(store, 10, "cost") + top_traces(store, 10, "duration", Filters.of(project="support")):
        assert view[row.trace_id] == (row.trace_id, row.root_name, row.spans, row.llm_calls, row.tokens,
                                      row.cost_usd, row.errors)
