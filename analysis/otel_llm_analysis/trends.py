"""Time series of LLM calls, spike detection, and the month-end cost forecast.

* **Series**: per hour/day/week, zero-filled between the window's ends: calls,
  tokens, cost, failed calls, error rate, p95 call latency, and the change of
  cost versus the previous period.
* **Spikes**: a day is a spike when its value is far above its rolling baseline,
  by the *robust z-score* of Iglewicz and Hoaglin:
  ``z = 0.6745 * (x - median) / MAD`` over the ``window`` (default 7) days
  *before* it, flagged when ``z > threshold`` (default 3.5, their recommended
  cut-off). Median and MAD ignore the outliers a mean and standard deviation
  would chase. When MAD is 0 (a flat baseline) the mean absolute deviation
  scaled by 1.2533 stands in; when that is 0 too, any rise is a spike (z = inf).
  At least ``min_baseline`` (default 3) earlier days are needed to judge a day.
* **Forecast**: least squares line ``cost = a + b * day`` through the month's
  daily costs so far (day 1 .. as-of day, zero-filled); month-end cost = spent so
  far + the line's values (floored at 0) for the remaining days. A store whose
  first span falls within the month counts from that day (``data_since``): the
  days before it are unknown, not days without spend. A day whose calls only
  GenAI metric points record (``unrecorded_points``) makes the spend a lower
  bound and the month-end unknown (``Forecast.cost_unknown`` says which days).
"""

from __future__ import annotations

import calendar
import math
import statistics
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from typing import Any, Literal, Sequence

from otel_llm_analysis._filters import (
    IS_ERROR,
    LLM_CALLS,
    Filters,
    connection,
    fetch_dicts,
    load_query,
    ratio,
    total_only_sql,
)
from otel_llm_analysis._filter_sets import IN_SET, SETS, ask_together, per_set, set_rows, shared_filters
from otel_llm_analysis._total_only import may_hold
from otel_llm_analysis._unrecorded import (
    OnlyInMetrics,
    llm_metric_points_by,
    llm_metric_times,
    metrics_only_days,
    unrecorded_cost,
    unrecorded_periods,
    unrecorded_spend,
    window_calls,
)

Period = Literal["hour", "day", "week"]
_STEP = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(weeks=1)}


@dataclass(slots=True)
class TrendPoint:
    """One period of the series (``period`` is the period's start, naive UTC).

    ``cost_usd`` sums the period's priced calls; it is ``None`` (unknown, never a $0 that
    reads as free) when the period has calls and none of them has a cost, as a
    ``summary`` group's; a period without calls costs 0, unless GenAI metric points count calls
    there (``unrecorded_points``): then its cost is unknown too.
    """

    period: datetime
    calls: int
    input_tokens: int
    output_tokens: int
    cost_usd: float | None
    errors: int
    error_rate: float | None
    p95_ms: float | None
    cost_change_pct: float | None = None
    #: the calls ``cost_usd`` holds, and those with tokens but no cost (no price, or usage only as a total)
    priced_calls: int = 0
    unpriced_calls: int = 0
    #: GenAI metric points that grew in a period whose spans hold no LLM call (``_unrecorded``): calls were
    #: made there that the spans do not hold (sampled out, not shipped), so its cost is unknown (``None``)
    unrecorded_points: int = 0
    #: a period with calls in spans and calls only metric points record (other days of its week, other hours of
    #: its day): its figures are the spans' calls' only (``_unrecorded.OnlyInMetrics``)
    only_in_metrics: OnlyInMetrics | None = None

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens


def truncate(moment: datetime, period: Period) -> datetime:
    """Start of the hour/day/ISO week (Monday) containing ``moment``."""
    if period == "hour":
        return moment.replace(minute=0, second=0, microsecond=0)
    day = datetime(moment.year, moment.month, moment.day)
    return day - timedelta(days=day.weekday()) if period == "week" else day


def series(store: Any, period: Period = "day", filters: Filters | None = None, partial: bool = False
           ) -> list[TrendPoint]:
    """Zero-filled series of LLM-call metrics per ``period``.

    The window is ``filters.since``/``until`` when given, else the data's first
    and last call (:func:`calls_bounds`: days whose calls only GenAI metric points
    record included); an empty window gives an empty list. Periods are whole (the
    first is the period holding the window's start), the calls counted are the
    window's: with a ``since`` inside a period, the first period holds the calls
    from ``since`` on, as ``summary`` with the same filters counts them. ``partial=True`` gives each
    period with calls in spans the calls of it only GenAI metric points record (``only_in_metrics``), for
    callers that show the periods (a query of its own: budgets, spikes and the forecast do without).
    """
    if period not in _STEP:
        raise ValueError(f"period must be hour, day or week, not {period!r}")
    filters = filters or Filters()
    start, end = filters.since, filters.until
    if start is None or end is None:
        bounds = calls_bounds(store, filters)
        if bounds is None:
            return []
        start, end = start or bounds[0], end or bounds[1]
    window = replace(filters, since=filters.since or truncate(start, period), until=end)
    start = truncate(start, period)
    points = _counted(store, period, window, start, end)
    _mark_unrecorded(store, period, window, points, start, end)
    if partial and any(p.calls for p in points):
        _mark_partial(store, period, window, points)
    for before, point in zip(points, points[1:]):
        point.cost_change_pct = _change_pct(point.cost_usd, before.cost_usd)
    return points


def calls_bounds(store: Any, filters: Filters) -> tuple[datetime, datetime] | None:
    """[first, last] moments (the end exclusive) of the LLM calls the store knows of within ``filters``: the
    calls in spans, and the days whose calls only GenAI metric points record (``_unrecorded.metrics_only_days``,
    from their midnight to the next): the data's window ends there, not at the last span, so budgets and
    forecasts read off it count those days. None when there are neither. Asked once per report build for each
    filter combination (``_filters.fetch_dicts``): every view with a window reads it."""
    where, params = filters.where()
    (bounds,) = fetch_dicts(store, f"SELECT min(start_time) AS first, max(start_time) AS last FROM {LLM_CALLS} "
                                   f"WHERE {where}", params)
    first, last = bounds["first"], bounds["last"]
    points = llm_metric_times(store, filters)
    outside = points is not None and (first is None or points[0] < truncate(first, "day")
                                      or points[1] >= truncate(last, "day") + timedelta(days=1))
    days = list(metrics_only_days(store, filters)) if outside else []  # days within the calls' add nothing
    if days:
        first = min(first or days[0], days[0])
        last = max(last or days[-1], days[-1] + timedelta(days=1) - timedelta(microseconds=1))
    return None if first is None else (first, last + timedelta(microseconds=1))


def data_days(store: Any, filters: Filters) -> tuple[datetime, datetime] | None:
    """[first day, day after the last day] of :func:`calls_bounds`; None when the store knows of no call there."""
    bounds = calls_bounds(store, filters)
    if bounds is None:
        return None
    return truncate(bounds[0], "day"), truncate(bounds[1] - timedelta(microseconds=1), "day") + timedelta(days=1)


def _counted(store: Any, period: Period, window: Filters, start: datetime, end: datetime) -> list[TrendPoint]:
    """The periods from ``start`` to ``end`` with the LLM calls ``window`` selects (``trends.sql``)."""
    if window.since is not None and (start, end) == (truncate(window.since, period), window.until):
        # a window's own periods (every series'): a report build reads the windows it expects at once
        ask_together(store, window, lambda asked: _statement(store, period, asked),
                     lambda windows: _counted_sets(store, period, windows), _bounded)
    sql, params = _statement(store, period, window, start, end)
    points: list[TrendPoint] = []
    for d in fetch_dicts(store, sql, params):
        if d["calls"] and not d["priced_calls"]:  # calls none of which has a cost: unknown, not 0
            d["cost_usd"] = None
        points.append(TrendPoint(error_rate=ratio(d["errors"], d["calls"]), **d))
    return points


#: ``trends.sql``'s set placeholders for one window (its periods from ``$start`` to ``$end``), and for many
_ONE_WINDOW = dict(periods="SELECT range AS period FROM range($start, $end, INTERVAL 1 {period})", sets="", set_id="",
                   by_set="", p_set="")
_MANY_WINDOWS = dict(periods=f"SELECT set_id, unnest(range(set_start, set_until, INTERVAL 1 {{period}})) AS period "
                             f"FROM {SETS}", sets=f", {SETS}", set_id="set_id, ", by_set=", set_id", p_set="p.set_id, ")


def _statement(store: Any, period: Period, window: Filters, start: datetime | None = None,
               end: datetime | None = None, sets: dict[str, str] = _ONE_WINDOW) -> tuple[str, dict[str, Any]]:
    """The ``trends.sql`` statement of ``window``'s calls per period from ``start`` (by default the period holding
    its start) to ``end`` (by default its end), and its parameters."""
    where, params = window.where()
    if sets is not _ONE_WINDOW:
        where = f"{where} AND {IN_SET}"
    parts = {name: text.format(period=period) for name, text in sets.items()}
    sql = load_query("trends").format(period=period, where=where, is_error=IS_ERROR, **parts,
                                      **total_only_sql(may_hold(connection(store))))
    if sets is not _ONE_WINDOW:
        return sql, params
    start = truncate(window.since, period) if start is None and window.since is not None else start
    return sql, {**params, "start": start, "end": window.until if end is None else end}


def _counted_sets(store: Any, period: Period, windows: list[Filters]) -> list[list[dict[str, Any]]]:
    """For each of ``windows`` (each with a start and an end), the rows its own :func:`_statement` answers, all read
    in one statement (``_filter_sets``)."""
    sql, params = _statement(store, period, shared_filters(windows, _bounded), sets=_MANY_WINDOWS)
    starts = [truncate(window.since, period) for window in windows]  # type: ignore[arg-type]
    return per_set(fetch_dicts(store, sql, {**params, "sets": set_rows(windows, set_start=starts)}), len(windows))


def _bounded(window: Filters) -> bool:
    """Whether a window has a start and an end: only those have their periods read with others'."""
    return window.since is not None and window.until is not None


def _mark_unrecorded(store: Any, period: Period, window: Filters, points: list[TrendPoint], start: datetime,
                     end: datetime) -> None:
    """Give the periods whose spans hold no LLM call and whose GenAI metric points grew an unknown cost
    (``_unrecorded.unrecorded_cost``'s rule per period): their $0 would read as nothing spent. Metric points
    carry no project: with a project filter, a period is marked only when no project's calls are in it."""
    quiet = {p.period: p for p in points if not p.calls}
    if not quiet:
        return
    if window.project is not None:
        others = _counted(store, period, replace(window, project=None), start, end)
        quiet = {p.period: quiet[p.period] for p in others if not p.calls and p.period in quiet}
    for begun, grew in llm_metric_points_by(store, window, period).items():
        point = quiet.get(begun)
        if point is not None:
            point.unrecorded_points, point.cost_usd = grew, None


def _mark_partial(store: Any, period: Period, window: Filters, points: list[TrendPoint]) -> None:
    """Give the periods with calls in spans the calls made in them that only GenAI metric points record
    (``_unrecorded.window_calls``: other hours of the day, other days of the week)."""
    stretches, days, shared = window_calls(store, window)
    if not stretches and not days:
        return
    for point in points:
        if point.calls:
            end = point.period + _STEP[period]
            point.only_in_metrics = OnlyInMetrics.of_stretches(
                [s for s in stretches if point.period <= s.made < end],
                {day: grown for day, grown in days.items() if day < end and point.period < day + _STEP["day"]},
                shared=shared)


def _change_pct(current: float | None, previous: float | None) -> float | None:
    """Percent change from ``previous`` to ``current``; None when either is unknown or ``previous`` is 0."""
    if current is None or previous is None:
        return None
    return ratio((current - previous) * 100.0, previous)


@dataclass(slots=True)
class Change:
    """Last period versus the one before it."""

    metric: str
    current_period: datetime
    current: float
    previous: float
    change: float
    change_pct: float | None


def period_over_period(points: Sequence[TrendPoint], metric: str = "cost_usd") -> Change | None:
    """Change of ``metric`` between the last two points (``None`` with fewer than two, or when either
    value is unknown: a cost of calls without a price, an error rate of a period without calls)."""
    if len(points) < 2:
        return None
    current, previous = getattr(points[-1], metric), getattr(points[-2], metric)
    if current is None or previous is None:
        return None
    return Change(metric, points[-1].period, current, previous, current - previous,
                  _change_pct(current, previous))


@dataclass(slots=True)
class Spike:
    """A day whose value is far above its rolling baseline."""

    period: datetime
    metric: str
    value: float
    baseline_median: float
    z: float


def robust_z(value: float, baseline: Sequence[float]) -> float:
    """Iglewicz-Hoaglin modified z-score of ``value`` against ``baseline`` (see module doc)."""
    median = statistics.median(baseline)
    deviations = [abs(x - median) for x in baseline]
    mad = statistics.median(deviations)
    if mad > 0:
        return 0.6745 * (value - median) / mad
    mean_ad = statistics.fmean(deviations)
    if mean_ad > 0:
        return (value - median) / (1.253314 * mean_ad)
    if value == median:
        return 0.0
    return math.copysign(math.inf, value - median)


def detect_spikes(
    points: Sequence[TrendPoint],
    metric: str = "cost_usd",
    *,
    window: int = 7,
    threshold: float = 3.5,
    min_baseline: int = 3,
) -> list[Spike]:
    """Points whose ``metric`` has a robust z-score above ``threshold`` versus the previous ``window`` points.

    Points where the metric is ``None`` (an error rate on a day without calls) are
    neither judged nor part of a baseline.
    """
    spikes = []
    for i, point in enumerate(points):
        value = getattr(point, metric)
        if value is None:
            continue
        baseline = [v for p in points[max(0, i - window):i] if (v := getattr(p, metric)) is not None]
        if len(baseline) < min_baseline:
            continue
        z = robust_z(value, baseline)
        if z > threshold:
            spikes.append(Spike(point.period, metric, value, statistics.median(baseline), z))
    return spikes


def spikes(
    store: Any,
    metrics: Sequence[str] = ("cost_usd", "error_rate"),
    filters: Filters | None = None,
    **options: Any,
) -> list[Spike]:
    """Spike days of daily cost and error rate (see ``detect_spikes`` for ``options``)."""
    daily = series(store, "day", filters)
    return [spike for metric in metrics for spike in detect_spikes(daily, metric, **options)]


def linear_fit(values: Sequence[float]) -> tuple[float, float]:
    """Least squares ``(intercept, slope)`` of ``values`` against days 1..n (slope 0 for one point)."""
    n = len(values)
    if n == 0:
        return 0.0, 0.0
    days = range(1, n + 1)
    mean_x = (n + 1) / 2
    mean_y = statistics.fmean(values)
    sxx = sum((x - mean_x) ** 2 for x in days)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(days, values)) / sxx if sxx else 0.0
    return mean_y - slope * mean_x, slope


def forecast_total(daily_costs: Sequence[float], days_in_month: int) -> float:
    """Spent so far plus the fitted line (floored at 0) over the month's remaining days."""
    intercept, slope = linear_fit(daily_costs)
    remaining = range(len(daily_costs) + 1, days_in_month + 1)
    return sum(daily_costs) + sum(max(0.0, intercept + slope * day) for day in remaining)


@dataclass(slots=True)
class Forecast:
    """Month-end cost forecast as of a day of the month."""

    month: str
    as_of: date
    days_elapsed: int
    days_in_month: int
    spent: float
    #: the fitted line ``cost = intercept + slope * day``, ``day`` the day of the month (1 = the 1st)
    intercept: float
    slope: float
    #: None (unknown) when ``cost_unknown`` says why: a spend left without some days' calls projects nothing
    projected_month_end: float | None
    #: the first day counted: the month's first, or the store's first span's day when later
    data_since: date | None = None
    #: the LLM calls of the days counted, those whose cost ``spent`` holds, those with tokens and no
    #: price, and those with no usage recorded: a spend of unpriced calls is not a spend of $0
    calls: int = 0
    priced_calls: int = 0
    unpriced_calls: int = 0
    no_usage_calls: int = 0
    #: why the spend is unknown, not the $0 summed: the days' calls are only in GenAI metric points
    #: (``_unrecorded.unrecorded_cost``), or a lower bound: some days' calls are (``_unrecorded.unrecorded_spend``)
    cost_unknown: str | None = None


def month_window(month: str | date | None, as_of: date | None = None) -> tuple[date, date, date]:
    """(first day, day after the month's last day, as-of day clamped into the month).

    ``month`` is ``YYYY-MM`` (default: the current UTC month); ``as_of`` defaults to
    today for the current month and to the month's last day for a past one.
    """
    today = datetime.now(timezone.utc).date()
    if month is None:
        first = today.replace(day=1)
    elif isinstance(month, date):
        first = month.replace(day=1)
    else:
        first = datetime.strptime(month, "%Y-%m").date()
    days = calendar.monthrange(first.year, first.month)[1]
    last = first.replace(day=days)
    as_of = as_of or min(today, last)
    as_of = min(max(as_of, first), last)
    return first, last + timedelta(days=1), as_of


def daily_costs(store: Any, first: date, as_of: date, filters: Filters | None = None) -> list[float]:
    """Zero-filled daily spend from ``first`` through ``as_of`` inclusive: each day's priced calls' cost.

    A day whose calls all lack a price adds nothing here (its cost is unknown, ``TrendPoint.cost_usd``
    None): a spend is what the priced calls cost, and budgets and the forecast say how many calls it
    leaves out.
    """
    return [p.cost_usd or 0.0 for p in daily_points(store, first, as_of, filters)]


def daily_points(store: Any, first: date, as_of: date, filters: Filters | None = None) -> list[TrendPoint]:
    """The daily points (:func:`series`) from ``first`` through ``as_of`` inclusive."""
    window = replace(filters or Filters(), since=datetime.combine(first, datetime.min.time()),
                     until=datetime.combine(as_of + timedelta(days=1), datetime.min.time()))
    return series(store, "day", window)


def data_since(store: Any, first: date, as_of: date) -> date:
    """The day a month's burn rate counts from: ``first``, or the day of the store's first span when
    the store begins later in the month (up to ``as_of``). The days before the data are unknown,
    not days without spend: counting them as $0 would project a store begun on the 20th too low."""
    began = connection(store).execute("SELECT min(start_time) FROM spans").fetchone()[0]
    day = began.date() if began is not None else first
    return day if first < day <= as_of else first


def forecast_month_end(
    store: Any, month: str | date | None = None, as_of: date | None = None, filters: Filters | None = None
) -> Forecast:
    """Linear forecast of the month's total cost from its days so far (from ``data_since``)."""
    first, end, as_of = month_window(month, as_of)
    since = data_since(store, first, as_of)
    days = daily_points(store, since, as_of, filters)
    costs = [p.cost_usd or 0.0 for p in days]
    calls, priced, unpriced = (sum(getattr(p, name) for p in days)
                               for name in ("calls", "priced_calls", "unpriced_calls"))
    intercept, slope = linear_fit(costs)  # over days 1.. from `since`: shifted to days of the month below
    days_in_month = (end - first).days
    offset = (since - first).days
    counted = replace(filters or Filters(), since=datetime.combine(since, datetime.min.time()),
                      until=datetime.combine(as_of + timedelta(days=1), datetime.min.time()))
    unknown = unrecorded_cost(store, counted, calls) or spend_lower_bound(days)
    return Forecast(first.strftime("%Y-%m"), as_of, len(costs), days_in_month, sum(costs),
                    intercept - slope * offset, slope, None if unknown else forecast_total(costs, (end - since).days),
                    since, calls, priced, unpriced, calls - priced - unpriced, unknown)


def left_out(points: Sequence[TrendPoint], period: str) -> list[str]:
    """What a series' figures leave out, one sentence each: its periods whose calls only GenAI metric points
    record (cost unknown, not $0), and each period whose figures are its spans' calls' only."""
    quiet = [p.period for p in points if p.unrecorded_points]
    shown = "%Y-%m-%d %H:%M" if period == "hour" else "%Y-%m-%d"
    return ([unrecorded_periods(quiet, period)] if quiet else []) + [
        f"{p.period:{shown}}: {p.only_in_metrics.said()}" for p in points if p.only_in_metrics]


def spend_lower_bound(days: Sequence[TrendPoint]) -> str | None:
    """Why the spend of ``days`` (daily points) is only a lower bound: some of them have calls only GenAI metric
    points record (``unrecorded_points``), whose cost the sum leaves out; None when none has."""
    unrecorded = [p.period for p in days if p.unrecorded_points]
    return unrecorded_spend(sum(p.cost_usd or 0.0 for p in days), unrecorded) if unrecorded else None
