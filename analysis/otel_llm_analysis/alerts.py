"""Threshold checks: the usual performance alarms (p95 > 2 s, error rate > 5 %,
memory > 500 MiB) as a gate, the way ``otel-llm budget`` gates on spend.

Why a gate and not a daemon: the data is already in files and DuckDB; a check that
runs on a schedule or in CI (``otel-llm check --since 1h``, exit 1 when a limit is
crossed) is the OpenTelemetry way to alert without running a second service. Each
check reports its observed value next to its limit, so a breach explains itself.

Observed values, over the window and filters given:

* ``p95_latency_ms``: 95th percentile of LLM-call duration (``summaries.totals``);
* ``error_rate``: failed LLM calls / LLM calls;
* ``p95_time_to_first_token_ms``: of streamed calls;
* ``peak_memory_mb``: the largest ``process.memory.usage`` the SDK's process
  metrics wrote (``configure(process_metrics=True)``), per service when filtered;
  delta points (changes, not levels) are added up per series first;
* ``cost_usd``: the spend in the window (a budget per window, e.g. ``--since 1d``);
* ``peak_cpu_utilization``: the largest ``process.cpu.utilization`` point (a process's
  share of all the machine's CPUs over one collection interval, 0 to 1), scoped as memory;
* ``pass_rate``: the evaluations' pass rate (``qa.quality``: pass / (pass + warning +
  fail)), a *floor*: breached when it falls below the limit (QA failure alerts).

A check whose value cannot be observed (no calls, no process metrics) is reported
with ``status="no data"`` and never fails the gate: absence of data is not a breach.
Its ``reason`` says what it lacks and what the window does hold
(``_catalog.holdings``: "no LLM calls; the store holds only metrics: 8 metric
points from api, worker; no spans, no logs"), so a store of
metrics alone is not mistaken for an empty one (:func:`no_data_notes`).
The cost of calls without a price (tokens, no price: ``unpriced_calls``) or without
usage recorded (``no_usage_calls``: a stream read without its usage chunk) is not
absent but unknown: when no call in the window has a cost, the spend check is
``unknown``, never ``no data`` nor ``ok`` (:func:`any_unknown`: ``otel-llm check``
exits 3), as it is when the window's calls are only in GenAI metric points (its ``reason``
says so: ``_unrecorded``); when some have one, the spend known is checked and the CLI names the
calls it leaves out (as ``budget``). The checks read off the calls' spans (p95 latency, error
rate, time to first token, spend) are ``unknown``, not ``no data``, over a window whose spans
hold no LLM call while GenAI metric points count calls there: calls were made whose latency and
failures the spans do not say, and an alarm that cannot be told must not pass in silence. Then
the p95 latency and the error rate are told from the duration histogram's points where they can
be (:func:`_from_histogram`, the reason saying so), and are unknown where they cannot. A window
with calls in spans and days whose calls only metric points record has spent at least the spans'
spend: ``cost_usd`` is breached when that lower bound crosses the limit, else unknown; its p95 latency and
error rate are judged between the bounds the calls left out allow (:func:`_partly`), its time to first
token is unknown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Literal

from otel_llm import semconv
from otel_llm_analysis._catalog import holdings
from otel_llm_analysis._unrecorded import DurationHistogram, duration_histogram
from otel_llm_analysis._filters import LLM_CALLS, Filters, fetch_dicts, time_window
from otel_llm_analysis.processes import MIB
from otel_llm_analysis.summaries import SummaryRow, time_to_first_token, totals

Status = Literal["ok", "breached", "no data", "unknown"]
MEMORY_METRIC = semconv.METRIC_PROCESS_MEMORY_USAGE  # bytes, from opentelemetry-instrumentation-system-metrics
CPU_METRIC = "process.cpu.utilization"  # a share of all CPUs, 0 to 1, from the same instrumentation


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Upper limits; ``None`` skips a check. Defaults: p95 2 s, 5 % errors, 500 MiB
    (``peak_memory_mb`` counts MiB of 1,048,576 bytes); cost has none."""

    p95_latency_ms: float | None = 2000.0
    error_rate: float | None = 0.05
    p95_time_to_first_token_ms: float | None = None
    peak_memory_mb: float | None = 500.0
    cost_usd: float | None = None
    #: a floor, not a ceiling: breached below it; None (the default) skips it
    min_pass_rate: float | None = None
    #: the highest process CPU utilization (0 to 1: a share of all the machine's CPUs); None skips it
    peak_cpu_utilization: float | None = None


@dataclass(slots=True)
class CheckRow:
    """One threshold evaluated: what was observed, the limit, and the verdict."""

    check: str
    observed: float | None
    limit: float
    status: Status
    #: with ``no data``: what the check lacks and what the window holds instead; with ``unknown``, when
    #: the spend's calls are only in metric points: why (``_unrecorded.unrecorded_cost``)
    reason: str | None = None


def _process_points(metric: str, filters: Filters) -> tuple[list[str], dict[str, Any]]:
    """SQL clauses and parameters selecting ``metric``'s points of the filtered service, or of the services
    that ran the project's spans in the window when a project is asked for (points carry no project)."""
    clauses, params = ["metric_name = $metric"], {"metric": metric}
    if filters.service is not None:
        clauses.append("service_name = $service")
        params["service"] = filters.service
    if filters.project is not None:
        span_window, span_params = time_window("start_time", filters.since, filters.until)
        clauses.append("service_name IN (SELECT DISTINCT service_name FROM spans WHERE "
                       + " AND ".join(["project = $project", *span_window]) + ")")
        params.update(span_params, project=filters.project)
    return clauses, params


def _peak_cpu(store: Any, filters: Filters) -> float | None:
    """The highest ``process.cpu.utilization`` point in the window: a process's share of all the machine's
    CPUs over one collection interval (0 to 1, as the system-metrics instrumentation reports it)."""
    clauses, params = _process_points(CPU_METRIC, filters)
    window, window_params = time_window("time", filters.since, filters.until)
    rows = fetch_dicts(store, "SELECT max(value) AS peak FROM metric_points WHERE "
                       + " AND ".join([*clauses, *window]), {**params, **window_params})
    return rows[0]["peak"] if rows else None


def _peak_memory_mb(store: Any, filters: Filters) -> float | None:
    """Largest process memory in the window (metric points carry ``time``, not spans' ``start_time``),
    of the services that ran the project's spans in it when a project is asked for.

    A gauge or cumulative point is the memory in use; a delta point (a non-monotonic sum some SDKs
    send with delta temporality) is the change since its series' previous point, so its level is
    worked out by :func:`_delta_levels`."""
    clauses, params = _process_points(MEMORY_METRIC, filters)
    window, window_params = time_window("time", filters.since, filters.until)
    params.update(window_params)
    rows = fetch_dicts(store, "SELECT max(value) AS peak FROM metric_points WHERE "
                       + " AND ".join([*clauses, "coalesce(temporality, '') <> 'delta'", *window]), params)
    peaks = [rows[0]["peak"]] if rows and rows[0]["peak"] is not None else []
    until, _ = time_window("time", None, filters.until)  # a level counts every change before the window
    sql = ("SELECT time, start_time, resource_attributes, attributes, scope_name, value FROM metric_points WHERE "
           + " AND ".join([*clauses, "temporality = 'delta'", *until]) + " ORDER BY time")
    deltas = fetch_dicts(store, sql, {name: value for name, value in params.items() if f"${name}" in sql})
    peaks += [level for time, level in _delta_levels(deltas) if filters.since is None or time >= filters.since]
    return max(peaks) / MIB if peaks else None


def _delta_levels(points: list[dict[str, Any]]) -> Iterator[tuple[Any, float]]:
    """``(time, level)`` of each delta point (in time order): its series' running sum. A series is
    one resource, scope and attribute set; it starts over when a point does not start where the
    series' previous point ended (a restarted process reports its whole memory as its first change)."""
    levels: dict[tuple[Any, ...], tuple[Any, float]] = {}  # series -> (end of its last point, level)
    for p in points:
        series = tuple(sorted((p["resource_attributes"] or {}).items())) + (p["scope_name"],) \
            + tuple(sorted((p["attributes"] or {}).items()))
        ended, level = levels.get(series, (None, 0.0))
        level = (level if ended is not None and ended == p["start_time"] else 0.0) + (p["value"] or 0.0)
        levels[series] = (p["time"], level)
        yield p["time"], level


#: Checks whose limit is a floor (observed below it is a breach), by the threshold that holds it.
_FLOORS = {"pass_rate": "min_pass_rate"}
#: Checks read off the LLM calls' spans: unknown when only GenAI metric points record the window's calls.
_OF_CALLS = ("p95_latency_ms", "error_rate", "p95_time_to_first_token_ms", "cost_usd")
#: Of those, the ones judged between bounds when some days' calls are only in metric points (:func:`_partly`).
_OF_PARTIAL = ("p95_latency_ms", "error_rate", "p95_time_to_first_token_ms")
#: Of those, the ones the duration histogram's points can tell then (:func:`_from_histogram`).
_OF_HISTOGRAM = ("p95_latency_ms", "error_rate")


def _pass_rate(store: Any, filters: Filters) -> float | None:
    from otel_llm_analysis.qa import quality

    rows = quality(store, None, filters)
    return rows[0].pass_rate if rows else None


def _first_token_p95(store: Any, filters: Filters) -> float | None:
    rows = time_to_first_token(store, None, filters)
    return rows[0].p95_ms if rows else None


def check(store: Any, thresholds: Thresholds = Thresholds(), filters: Filters | None = None) -> list[CheckRow]:
    """Evaluate every threshold that is set; rows in a fixed order."""
    filters = filters or Filters()
    kpis = totals(store, filters)
    observers: dict[str, Callable[[], float | None]] = {
        "p95_latency_ms": lambda: kpis.p95_ms,
        "error_rate": lambda: kpis.error_rate if kpis.llm_calls else None,
        "p95_time_to_first_token_ms": lambda: _first_token_p95(store, filters),
        "peak_memory_mb": lambda: _peak_memory_mb(store, filters),
        "cost_usd": lambda: kpis.cost_usd if kpis.llm_calls else None,
        "pass_rate": lambda: _pass_rate(store, filters),
        "peak_cpu_utilization": lambda: _peak_cpu(store, filters),
    }
    set_up = {name: limit for name, limit in ((n, getattr(thresholds, _FLOORS.get(n, n))) for n in observers)
              if limit is not None}
    # calls only metric points record (asked only of a window without calls): not the "no data" of no calls
    unrecorded = kpis.cost_unknown if set_up.keys() & set(_OF_CALLS) else None  # unrecorded_cost's, asked by totals
    histogram = duration_histogram(store, filters) if unrecorded and set_up.keys() & set(_OF_HISTOGRAM) else None
    rows = []
    for name, limit in set_up.items():
        observed = observers[name]()
        crossed = observed is not None and (observed < limit if name in _FLOORS else observed > limit)
        status: Status = "no data" if observed is None else ("breached" if crossed else "ok")
        reason = None
        if name == "cost_usd" and kpis.llm_calls and not kpis.priced_calls:  # a spend not known at all
            status = "unknown"
        elif name in _OF_PARTIAL and kpis.only_in_metrics is not None:  # some days' calls only in metric points
            status, reason = _partly(name, store, filters, kpis, limit)
        elif name in _OF_HISTOGRAM and histogram is not None:
            observed, status, reason = _from_histogram(name, histogram, limit)
        elif name in _OF_CALLS and unrecorded:
            status, reason = "unknown", unrecorded
        elif name == "cost_usd" and observed is not None and (reason := _spend_lower_bound(store, filters)):
            status = "breached" if crossed else "unknown"  # at least that: more spend only adds to it
        rows.append(CheckRow(name, observed, float(limit), status, reason))
    if any(row.status == "no data" for row in rows):
        held = holdings(store, filters)
        where = " in the window" if held.windowed else ""
        for row in rows:
            if row.status == "no data":
                row.reason = f"{_lacking(row.check, kpis.llm_calls)}{where}; {held.describe()}"
    return rows


def _partly(name: str, store: Any, filters: Filters, kpis: SummaryRow, limit: float) -> tuple[Status, str]:
    """``(status, reason)`` of the p95 latency, error rate or time to first token of a window whose spans hold
    ``kpis.llm_calls`` (n) calls while ``kpis.only_in_metrics`` counts N more calls only in metric points. Those
    could be the fastest or the slowest, all failed or none: the p95 call (nearest rank r = ceil(0.95 (n + N)))
    is between the spans' calls of ranks r - N and r (beyond the slowest: unbounded), the error rate between
    f / (n + N) and (f + N) / (n + N). Breached when the low bound crosses the limit, ok when the high one stays
    within it, else unknown; unknown when N is not known, and for time to first token (no point says which
    calls streamed)."""
    partial = kpis.only_in_metrics
    assert partial is not None
    left_out, n = partial.calls, kpis.llm_calls
    if left_out is None or name == "p95_time_to_first_token_ms":
        return "unknown", partial.said()
    if name == "error_rate":
        failed = kpis.failed_calls  # (the rate's numerator: n > 0 here)
        low, high = failed / (n + left_out), (failed + left_out) / (n + left_out)
        shown = f"{low:.1%} and {high:.1%}"
    else:
        rank = math.ceil(0.95 * (n + left_out))
        low = (_nth_duration(store, filters, rank - left_out) or 0.0) if rank > left_out else 0.0
        high = _nth_duration(store, filters, rank) if rank <= n else None
        high = math.inf if high is None else high
        shown = f"{low:,.0f} and {high:,.0f} ms"
    status: Status = "breached" if low > limit else "ok" if high <= limit else "unknown"
    return status, f"{partial.said()}; with them it lies between {shown}"


def _nth_duration(store: Any, filters: Filters, rank: int) -> float | None:
    """The duration (ms) of the filters' LLM call of ``rank`` (1 = the fastest) in the spans; None past the last."""
    where, params = filters.where()
    rows = fetch_dicts(store, f"SELECT duration_ms FROM {LLM_CALLS} WHERE {where} AND duration_ms IS NOT NULL "
                              f"ORDER BY duration_ms LIMIT 1 OFFSET {int(rank) - 1}", params)
    return rows[0]["duration_ms"] if rows else None


def _spend_lower_bound(store: Any, filters: Filters) -> str | None:
    """Why the spend of a window with calls in spans is only a lower bound: some of its days' calls only
    GenAI metric points record (``trends.spend_lower_bound`` over its daily series); None when none has."""
    from otel_llm_analysis.trends import series, spend_lower_bound

    return spend_lower_bound(series(store, "day", filters))


def _from_histogram(name: str, histogram: DurationHistogram, limit: float) -> tuple[float | None, Status, str]:
    """``(observed, status, reason)`` of the p95 latency or the error rate of calls only the duration histogram's
    points record. The p95 call lies in one bucket: breached when the bucket starts at or above the limit, ok
    when it ends at or below it, else unknown (no value shown: a point inside the bucket would be a guess).
    The error rate is the share of calls counted under an ``error.type``; unknown when no point carries one."""
    source = (f"estimated from {histogram.points:,} {semconv.METRIC_OPERATION_DURATION} histogram point(s) "
              f"counting {histogram.calls:,} call(s), as no LLM call is in the spans (sampled out or not shipped)")
    if name == "error_rate":
        if histogram.failed is None:
            return None, "unknown", f"unknown: {source}, and none of them carries {semconv.ERROR_TYPE}"
        rate = histogram.failed / histogram.calls
        return rate, "breached" if rate > limit else "ok", f"{source}: {histogram.failed:,} failed"
    low, high = histogram.p95_between()
    status: Status = "breached" if low >= limit else "ok" if high <= limit else "unknown"
    return None, status, f"{source}: the p95 call took {low:,.0f} to {high:,.0f} ms (its bucket)"


def _lacking(name: str, llm_calls: int) -> str:
    """What check ``name`` found none of, given the window's LLM calls."""
    if name == "peak_memory_mb":
        return f"no {MEMORY_METRIC} points (written with configure(process_metrics=True))"
    if name == "peak_cpu_utilization":
        return f"no {CPU_METRIC} points (written with configure(process_metrics=True))"
    if name == "pass_rate":
        return "no evaluations"
    if name == "p95_time_to_first_token_ms" and llm_calls:
        return "no streamed LLM call with a first token"
    return "no LLM calls"


def no_data_notes(rows: list[CheckRow]) -> list[str]:
    """One line per distinct reason of the checks without data (or unknown for a reason: calls only metric
    points record), naming the checks it holds for."""
    by_reason: dict[str, list[str]] = {}
    for row in rows:
        if row.reason is not None:
            by_reason.setdefault(row.reason, []).append(row.check)
    return [f"{', '.join(checks)}: {reason}" for reason, checks in by_reason.items()]


def any_breached(rows: list[CheckRow]) -> bool:
    """True when a gate should fail."""
    return any(row.status == "breached" for row in rows)


def any_unknown(rows: list[CheckRow]) -> bool:
    """True when a check could not be told (its value left calls out): the gate is not passed."""
    return any(row.status == "unknown" for row in rows)
