"""QA view: evaluation outcomes, pass rate and "not run" per group, from the records."""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest

from otel_llm_analysis._filters import Filters
from otel_llm_analysis.qa import quality

from _ground_truth import is_llm, run_config, store_fixture


loaded = store_fixture(seed=29, traces=180)


def _last_model(spans):
    calls = sorted((s for s in spans if is_llm(s) and s.request_model), key=lambda s: s.end_ns)
    return calls[-1].request_model if calls else None


def _expected(data, key):
    """{group: Counter(pass/warning/fail/not_run)} from events and turns."""
    traces = defaultdict(list)
    for span in data.spans:
        traces[span.trace_id].append(span)
    out: dict = defaultdict(Counter)
    for trace in traces.values():
        turn = next(s for s in trace if s.otel_kind == "chat")
        group = key(turn, trace)
        labels = [e.eval_label for s in trace for e in s.events if e.name == "gen_ai.evaluation.result"]
        for label in labels:
            out[group][label] += 1
        if not labels and any(is_llm(s) for s in trace):
            out[group]["not_run"] += 1
    return out


@pytest.mark.parametrize(
    ("by", "key"),
    [
        (None, lambda turn, trace: None),
        ("project", lambda turn, trace: turn.project),
        ("model", lambda turn, trace: _last_model(trace)),
        ("run_config.temperature", lambda turn, trace: run_config(turn, "temperature")),
        ("day", lambda turn, trace: turn.start_time.date()),
    ],
)
def test_outcomes_and_pass_rate_per_group(loaded, by, key):
    store, data = loaded
    expected = _expected(data, key)
    rows = {row.key: row for row in quality(store, by)}
    assert set(rows) == set(expected)
    for name, counts in expected.items():
        row = rows[name]
        assert (row.passed, row.warning, row.failed, row.not_run) == (
            counts["pass"], counts["warning"], counts["fail"], counts["not_run"])
        rated = counts["pass"] + counts["warning"] + counts["fail"]
        assert row.pass_rate == (pytest.approx(counts["pass"] / rated) if rated else None)
    if by is None:
        (total,) = rows.values()
        assert total.passed and total.warning and total.failed and total.not_run  # all four planted


def test_evaluation_name_and_time_filters(loaded):
    store, data = loaded
    events = [e for e in data.events if e.name == "gen_ai.evaluation.result" and e.eval_name == "relevance"]
    (row,) = quality(store, None, evaluation="relevance")
    assert row.rated == len(events) > 0
    (all_rows,) = quality(store, None)
    assert all_rows.rated > row.rated
    later = quality(store, None, Filters.of(since="2030-01-01"))
    assert later == []
