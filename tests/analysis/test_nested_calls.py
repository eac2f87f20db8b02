"""Bulk data with a peer's second span inside every LLM call gives the same call figures as without it.

The same seed is generated twice, with and without the OpenInference-style spans
(``synthetic.generate(peer_spans=True)``); every analysis of calls must agree,
and both must match the records.
"""

from __future__ import annotations

from dataclasses import asdict

import pytest

from otel_llm_analysis import compare, quality, series, summary, top_traces, totals
from otel_llm_analysis import traces

from _ground_truth import is_llm, load

OPTIONS = dict(seed=71, traces=120, days=20)
CALL_FIELDS = ("llm_calls", "failed_calls", "input_tokens", "output_tokens", "cache_read_tokens", "reasoning_tokens",
               "cost_usd", "priced_calls", "unpriced_calls", "estimated_cost_usd", "p50_ms", "p95_ms", "turns")


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    plain, plain_data = load(tmp_path_factory.mktemp("plain"), **OPTIONS)
    nested, nested_data = load(tmp_path_factory.mktemp("nested"), peer_spans=True, **OPTIONS)
    yield plain, plain_data, nested, nested_data
    plain.close()
    nested.close()


def _calls(row):
    return {f: getattr(row, f) for f in CALL_FIELDS}


def _same(left, right):
    """Equal, but for float sums in another order and latency: a call's span is the innermost one
    (the generator's peer span starts 1 us later and ends 1 us earlier than otel-llm's), and the
    comparison score, which reads latency."""
    assert left.keys() == right.keys()
    for key in left:
        for name, a in left[key].items():
            b = right[key][name]
            if isinstance(a, float) and b is not None:
                tolerance = 0.0021 if name.endswith("_ms") or name == "score" else 1e-12
                assert b == pytest.approx(a, rel=1e-9, abs=tolerance), (key, name)
            else:
                assert b == a, (key, name)


def test_the_nested_data_really_has_two_llm_spans_per_call(pair):
    plain, plain_data, nested, nested_data = pair
    extra = [s for s in nested_data.spans if s.nested]
    assert len(extra) == sum(is_llm(s) for s in plain_data.spans) > 0
    assert nested.query("SELECT count(*) FROM spans WHERE otel_kind = 'llm_call'") == [
        (2 * len(extra),)]


@pytest.mark.parametrize("by", [None, "model", "response_model", "project", "provider", "node", "day",
                                "run_config.temperature", "user"])
def test_summary_counts_each_call_once(pair, by):
    plain, plain_data, nested, _ = pair
    # the peer's spans carry no project, user or run config: a group of spans without calls
    left = {r.key: _calls(r) for r in summary(plain, by) if r.llm_calls}
    right = {r.key: _calls(r) for r in summary(nested, by) if r.llm_calls}
    _same(left, right)
    if by is None:
        calls = [s for s in plain_data.spans if is_llm(s)]
        assert left[None]["llm_calls"] == len(calls)
        assert left[None]["input_tokens"] == sum(s.input_tokens or 0 for s in calls)
        assert left[None]["cost_usd"] == pytest.approx(sum(s.cost_usd or 0 for s in calls))
        assert left[None]["estimated_cost_usd"] == 0  # the SDK priced every call; nothing was estimated


def test_every_other_call_analysis_agrees(pair):
    plain, _, nested, _ = pair
    _same({p.period: asdict(p) for p in series(plain, "day")}, {p.period: asdict(p) for p in series(nested, "day")})
    _same({r.key: asdict(r) for r in compare(plain, "run_config.temperature")},
          {r.key: asdict(r) for r in compare(nested, "run_config.temperature")})
    assert [asdict(r) for r in quality(nested, "model")] == [asdict(r) for r in quality(plain, "model")]
    strip = lambda rows: [(r.trace_id, r.llm_calls, r.tokens, r.cost_usd) for r in rows]  # noqa: E731
    assert strip(top_traces(nested, 5, "cost")) == strip(top_traces(plain, 5, "cost"))
    assert totals(nested).spans == totals(plain).spans + totals(plain).llm_calls  # spans are still spans


@pytest.mark.parametrize("by", ["cost", "duration"])
def test_ranked_traces_read_by_rowid_are_the_views_rows(pair, by, monkeypatch):
    """DuckDB reads the ranked traces' rows once, by rowid; filtering the views by trace id gives the same."""
    plain, _, nested, _ = pair
    for store in (plain, nested):  # nested: wrappers lend their calls tokens, cost and context
        by_rowid = top_traces(store, 8, by)
        assert traces._read_by_rowid(store, [by_rowid[0].trace_id]) is not None  # this store takes the rowid path
        monkeypatch.setattr(traces, "_read_by_rowid", lambda _store, _ids: None)
        by_views = top_traces(store, 8, by)
        monkeypatch.undo()
        assert by_rowid == by_views and len(by_rowid) == 8 and all(row.tree for row in by_rowid)
