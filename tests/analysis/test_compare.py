"""Model and run-config comparisons and the documented best-configuration score."""

from __future__ import annotations

import pytest

from otel_llm_analysis.comparisons import ComparisonRow, compare, score

from _ground_truth import group, is_llm, percentile, run_config, store_fixture


loaded = store_fixture(seed=17, traces=200, error_rate=0.15)


def _expected_scores(groups):
    stats = {}
    for key, calls in groups.items():
        priced = [c.cost_usd for c in calls if c.cost_usd is not None]
        stats[key] = (
            sum(c.status_code != 2 for c in calls) / len(calls),
            sum(priced) / len(priced) if priced else None,
            percentile([c.duration_ms for c in calls], 0.95),
        )
    named = {key: stat for key, stat in stats.items() if key is not None}  # the unnamed group is not scored
    worst_cost = max((c for _, c, _ in named.values() if c is not None), default=0.0)
    worst_p95 = max(p for _, _, p in named.values())
    return {
        key: 100 * (0.5 * s + 0.25 * ((1 - c / worst_cost) if c is not None else 0.0) + 0.25 * (1 - p / worst_p95))
        for key, (s, c, p) in named.items()
    } | ({None: None} if None in stats else {})


@pytest.mark.parametrize(
    ("by", "key"),
    [
        ("model", lambda s: s.model),
        ("response_model", lambda s: s.response_model),
        ("run_config.temperature", lambda s: run_config(s, "temperature")),
        ("run_config.max_retries", lambda s: run_config(s, "max_retries")),
    ],
)
def test_groups_and_scores_match_the_records(loaded, by, key):
    store, data = loaded
    groups = group([s for s in data.spans if is_llm(s)], key)
    rows = compare(store, by)
    assert {r.key for r in rows} == set(groups)
    scores = _expected_scores(groups)
    for row in rows:
        calls = groups[row.key]
        priced = [c.cost_usd for c in calls if c.cost_usd is not None]
        assert row.calls == len(calls)
        assert row.successes == sum(c.status_code != 2 for c in calls)
        assert row.success_rate == pytest.approx(row.successes / row.calls)
        assert row.cost_per_call == (pytest.approx(sum(priced) / len(priced)) if priced else None)
        assert row.p95_ms == pytest.approx(percentile([c.duration_ms for c in calls], 0.95), abs=1e-3)
        assert row.input_tokens == sum(c.input_tokens or 0 for c in calls)
        assert row.score == (None if row.key is None else pytest.approx(scores[row.key], abs=1e-4))
    best = max((k for k in scores if k is not None), key=scores.get)
    assert [r.key for r in rows if r.best] == [best]
    assert rows[0].key == best  # best first


def test_score_formula_on_a_hand_made_pair():
    a = ComparisonRow("a", 10, 10, 1.0, 10.0, 1.0, 100.0, 0, 0, 0.0)
    b = ComparisonRow("b", 10, 5, 0.5, 20.0, 2.0, 200.0, 0, 0, 0.0)
    unpriced = ComparisonRow("c", 10, 10, 1.0, 0.0, None, 100.0, 0, 0, 0.0)
    score([a, b, unpriced])
    assert a.score == pytest.approx(100 * (0.5 + 0.25 * 0.5 + 0.25 * 0.5))
    assert b.score == pytest.approx(100 * 0.25)
    assert unpriced.score == pytest.approx(100 * (0.5 + 0.0 + 0.25 * 0.5))  # no free pass on cost
    assert (a.best, b.best, unpriced.best) == (True, False, False)


def test_min_calls_keeps_tiny_groups_out_of_best():
    big = ComparisonRow("big", 100, 90, 0.9, 10.0, 0.1, 100.0, 0, 0, 0.0)
    tiny = ComparisonRow("tiny", 2, 2, 1.0, 0.0, 0.0, 1.0, 0, 0, 0.0)
    score([big, tiny], min_calls=10)
    assert big.best and tiny.score is None and not tiny.best


def test_the_turns_query_runs_beside_the_calls_query_with_the_same_rows(loaded, monkeypatch):
    """On DuckDB the turns' figures (``retries``) are read on a cursor of their own while the calls' run on the
    store's connection (each query alone leaves the second core idle in its single-threaded parts): the rows
    are those of the turns computed apart."""
    import threading

    from otel_llm_analysis import comparisons
    from otel_llm_analysis._filters import connection
    from otel_llm_analysis.retry_outcomes import retries

    store, _ = loaded
    asked = []
    real = comparisons.retries
    monkeypatch.setattr(comparisons, "retries", lambda on, *args: asked.append(
        (on, threading.current_thread())) or real(on, *args))
    rows = compare(store, "run_config.max_retries")
    assert len(asked) == 1 and asked[0][0] is not connection(store), asked  # was: the store's connection
    assert asked[0][1] is not threading.current_thread()
    apart = compare(store, "run_config.max_retries", turns=retries(store, "run_config.max_retries"))
    assert [(r.key, r.turns, r.turn_success_rate, r.mean_attempts, r.p95_turn_ms) for r in rows] == \
        [(r.key, r.turns, r.turn_success_rate, r.mean_attempts, r.p95_turn_ms) for r in apart]
    assert any(r.turns for r in rows)
