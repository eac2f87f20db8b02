"""`summary --by project` says when each project last ran (``last_seen``): the Stage 11
analytics' per-project "Last Run" column, the Runestones monitor's latest job."""

from __future__ import annotations

from otel_llm_analysis._filters import Filters
from otel_llm_analysis.summaries import summary, totals

from _ground_truth import store_fixture

loaded = store_fixture(seed=33, traces=80, days=10)


def test_each_group_says_its_latest_span_start(loaded):
    store, data = loaded
    rows = {row.key: row for row in summary(store, "project")}
    for project in {s.project for s in data.spans}:
        latest = max(s.start_time for s in data.spans if s.project == project)
        assert rows[project].last_seen == latest, project
    assert totals(store).last_seen == max(s.start_time for s in data.spans)
    by_model = {row.key: row for row in summary(store, "model")}
    for model, row in by_model.items():
        if model is not None:
            assert row.last_seen == max(s.start_time for s in data.spans if s.otel_kind == "llm_call"
                                        and not s.nested and (s.request_model or s.response_model) == model)


def test_a_window_ends_it_and_calls_only_still_has_it(loaded):
    store, data = loaded
    middle = sorted(s.start_time for s in data.spans)[len(data.spans) // 2]
    (row,) = summary(store, None, Filters(until=middle))
    assert row.last_seen == max(s.start_time for s in data.spans if s.start_time < middle)
    (calls,) = summary(store, None, Filters(calls_only=True))
    assert calls.last_seen == max(s.start_time for s in data.spans if s.otel_kind == "llm_call" and not s.nested)
