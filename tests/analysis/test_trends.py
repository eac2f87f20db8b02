"""Series, spikes and the month-end forecast against the records and known series."""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import date, datetime, timedelta

import pytest

from otel_llm_analysis._filters import Filters
from otel_llm_analysis.trends import (
    TrendPoint,
    detect_spikes,
    forecast_month_end,
    forecast_total,
    linear_fit,
    period_over_period,
    robust_z,
    series,
    spikes,
)

from _ground_truth import is_llm, load, percentile, store_fixture

SPIKE_DAY = 20  # day index planted in the generator


sparse = store_fixture(seed=5, traces=40, days=50)


def _daily(spans):
    days: dict[date, list] = defaultdict(list)
    for span in spans:
        if is_llm(span):
            days[span.start_time.date()].append(span)
    return days


def test_daily_series_is_zero_filled_and_matches_records(sparse):
    store, data = sparse
    points = series(store, "day")
    days = _daily(data.spans)
    first, last = min(days), max(days)
    assert [p.period.date() for p in points] == [first + timedelta(d) for d in range((last - first).days + 1)]
    assert any(p.calls == 0 for p in points)  # 40 traces over 50 days leave gaps
    for point in points:
        calls = days.get(point.period.date(), [])
        assert point.calls == len(calls)
        assert point.input_tokens == sum(s.input_tokens or 0 for s in calls)
        assert point.output_tokens == sum(s.output_tokens or 0 for s in calls)
        priced = [s.cost_usd for s in calls if s.cost_usd is not None]
        if calls and not priced:  # a day of calls none of which has a price: cost unknown, never $0
            assert point.cost_usd is None
        else:
            assert point.cost_usd == pytest.approx(sum(priced), abs=1e-12)
        assert point.errors == sum(1 for s in calls if s.status_code == 2)
        expected_p95 = percentile([s.duration_ms for s in calls], 0.95)
        assert point.p95_ms == (None if expected_p95 is None else pytest.approx(expected_p95, abs=1e-3))


@pytest.mark.parametrize("period", ["hour", "week"])
def test_other_periods_partition_the_same_calls(sparse, period):
    store, data = sparse
    points = series(store, period)
    calls = [s for s in data.spans if is_llm(s)]
    assert sum(p.calls for p in points) == len(calls)
    assert sum(p.cost_usd or 0 for p in points) == pytest.approx(sum(s.cost_usd or 0 for s in calls))
    step = {"hour": timedelta(hours=1), "week": timedelta(weeks=1)}[period]
    assert all(b.period - a.period == step for a, b in zip(points, points[1:]))
    if period == "week":
        assert all(p.period.weekday() == 0 for p in points)


def test_explicit_window_zero_fills_to_its_ends(sparse):
    store, _ = sparse
    since, until = datetime(2026, 12, 1), datetime(2026, 12, 4)  # after all data
    points = series(store, "day", Filters(since=since, until=until))
    assert [p.period for p in points] == [since, since + timedelta(1), since + timedelta(2)]
    assert all(p.calls == 0 and p.cost_usd == 0 and p.error_rate is None for p in points)


def test_a_since_inside_a_period_counts_what_summary_counts(sparse):
    """``--since 12:00`` with daily periods: the first day counted that day's calls before noon too, so
    trends and ``summary --since`` gave two call counts and costs for one window. The first period is
    labelled by its day and holds only the calls from ``since`` on."""
    from otel_llm_analysis import totals

    store, data = sparse
    busiest = max(_daily(data.spans).items(), key=lambda kv: len(kv[1]))[0]
    calls = sorted(s.start_time for s in data.spans if is_llm(s) and s.start_time.date() == busiest)
    since = calls[len(calls) // 2]  # inside the day, with calls before it
    until = datetime.combine(busiest, datetime.min.time()) + timedelta(days=2)
    window = Filters(since=since, until=until)
    points = series(store, "day", window)
    assert points[0].period == datetime.combine(busiest, datetime.min.time())
    assert points[0].calls == sum(1 for t in calls if t >= since) < len(calls)
    assert sum(p.calls for p in points) == totals(store, window).llm_calls
    assert sum(p.cost_usd or 0 for p in points) == pytest.approx(totals(store, window).cost_usd or 0)


def test_period_over_period_change(sparse):
    store, _ = sparse
    points = series(store, "day")
    change = period_over_period(points, "calls")
    assert change.current == points[-1].calls and change.previous == points[-2].calls
    assert change.change == points[-1].calls - points[-2].calls
    assert period_over_period(points[:1]) is None


def _modified_z(value, baseline):
    """Iglewicz-Hoaglin, written independently of the module."""
    med = statistics.median(baseline)
    mad = statistics.median(sorted(abs(b - med) for b in baseline))
    return 0.6745 * (value - med) / mad if mad else None


def test_planted_cost_spike_is_flagged(tmp_path):
    store, data = load(tmp_path, seed=3, traces=400, days=30, spikes={SPIKE_DAY: 12.0})
    found = spikes(store, metrics=("cost_usd",))
    first_day = min(_daily(data.spans))
    spike_day = datetime(2026, 11, 20).date() - timedelta(days=30 - SPIKE_DAY)
    assert spike_day in {s.period.date() for s in found}
    # every day flagged agrees with the formula recomputed from the records (days
    # whose baseline has MAD 0 use the documented fallback and are left aside)
    daily = _daily(data.spans)
    values = [sum(x.cost_usd or 0 for x in daily.get(first_day + timedelta(d), []))
              for d in range((max(daily) - first_day).days + 1)]
    expected, fallback = set(), set()
    for i, value in enumerate(values):
        baseline = values[max(0, i - 7):i]
        if len(baseline) < 3:
            continue
        z = _modified_z(value, baseline)
        if z is None:
            fallback.add(first_day + timedelta(i))
        elif z > 3.5:
            expected.add(first_day + timedelta(i))
    found_days = {s.period.date() for s in found}
    assert expected <= found_days <= expected | fallback
    store.close()


def _points(values, metric="error_rate"):
    start = datetime(2026, 1, 1)
    out = []
    for i, value in enumerate(values):
        point = TrendPoint(start + timedelta(i), 10, 0, 0, 0.0, 0, None, None)
        setattr(point, metric, value)
        out.append(point)
    return out


def test_error_rate_spike_and_threshold_edge():
    rates = [0.05, 0.06, 0.04, 0.05, 0.07, 0.05, 0.06, 0.50, 0.05]
    found = detect_spikes(_points(rates), "error_rate")
    assert [s.period.day for s in found] == [8]
    assert found[0].baseline_median == pytest.approx(0.05)
    # a rise exactly at the threshold is not a spike; just above is
    baseline = [1.0, 2.0, 3.0, 4.0, 5.0]  # median 3, MAD 1
    at = 3 + 3.5 / 0.6745
    assert robust_z(at, baseline) == pytest.approx(3.5)
    assert detect_spikes(_points(baseline + [at - 1e-9], "cost_usd"), "cost_usd", threshold=3.5) == []
    assert len(detect_spikes(_points(baseline + [at + 1e-6], "cost_usd"), "cost_usd", threshold=3.5)) == 1


def test_flat_baseline_uses_fallbacks():
    assert robust_z(5.0, [1.0, 1.0, 1.0, 1.0, 4.0]) == pytest.approx((5 - 1) / (1.253314 * 0.6))
    assert robust_z(2.0, [1.0, 1.0, 1.0]) == float("inf")
    assert robust_z(1.0, [1.0, 1.0, 1.0]) == 0.0
    assert detect_spikes(_points([None, None, None, 0.9]), "error_rate") == []  # no baseline


def test_forecast_on_a_known_linear_series():
    daily = [1.0 + 0.5 * d for d in range(1, 11)]  # ten days of a known line
    intercept, slope = linear_fit(daily)
    assert (intercept, slope) == (pytest.approx(1.0), pytest.approx(0.5))
    assert forecast_total(daily, 30) == pytest.approx(sum(1.0 + 0.5 * d for d in range(1, 31)))
    falling = [10.0 - d for d in range(1, 6)]  # hits zero on day 10: never negative spend
    assert forecast_total(falling, 30) == pytest.approx(sum(max(0.0, 10.0 - d) for d in range(1, 31)))
    assert forecast_total([4.0], 30) == pytest.approx(120.0)


def test_forecast_from_the_store_matches_least_squares(tmp_path):
    store, data = load(tmp_path, seed=8, traces=200, days=40)
    as_of = date(2026, 11, 15)
    forecast = forecast_month_end(store, "2026-11", as_of)
    daily = _daily(data.spans)
    costs = [sum(s.cost_usd or 0 for s in daily.get(date(2026, 11, d), [])) for d in range(1, 16)]
    slope, intercept = statistics.linear_regression(range(1, 16), costs)
    assert forecast.spent == pytest.approx(sum(costs))
    assert (forecast.slope, forecast.intercept) == (pytest.approx(slope), pytest.approx(intercept))
    expected = sum(costs) + sum(max(0.0, intercept + slope * d) for d in range(16, 31))
    assert forecast.projected_month_end == pytest.approx(expected)
    assert (forecast.days_elapsed, forecast.days_in_month) == (15, 30)
    store.close()
