"""LLM calls the spans do not hold: a window whose cost is unknown, not $0.

Calls, tokens and cost are read from spans; an app exporting its GenAI metric
points without spans (spans sampled out, another SDK's traces not shipped) made
calls the store knows of only through those points. A window with such points
and no LLM call in its spans has a cost that is unknown, not $0: the summary,
budgets and checks of the CLI, the terminal report and the dashboard all say so
through :func:`unrecorded_cost`. A window with calls in its spans and calls only in metric points (other days,
or other hours of a day: each export's interval is compared with the spans that ended in it,
:func:`unheld_calls`) has figures of the spans' calls only (its cost a lower bound, its error rate and latency
of part of its calls): :func:`only_in_metrics` names those days and hours and counts those calls, and
:func:`only_in_metrics_by` says which rows of a summary or comparison they are, or may be, in.
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, Mapping, Sequence

from otel_llm import semconv
from otel_llm_analysis._filter_sets import SETS, ask_together, in_set, per_set, set_rows, shared_filters
from otel_llm_analysis._filters import IS_LLM_SPAN, Filters, connection, fetch_dicts, time_window
from otel_llm_analysis._rows import POINTS, SERIES_KEY, current_column

__all__ = ["DurationHistogram", "LLM_METRICS", "OnlyInMetrics", "Unheld", "duration_histogram", "llm_metric_points",
           "llm_metric_points_by", "llm_metric_times", "metrics_only_days", "only_in_metrics", "only_in_metrics_by",
           "series_key", "uncounted_days", "unheld_calls", "unrecorded_cost", "window_calls", "unrecorded_periods", "unrecorded_spend"]

#: The GenAI metrics recorded once per LLM call (any producer's, otel-llm's own cost counter included):
#: their points in a window mean calls were made there.
LLM_METRICS = (semconv.METRIC_TOKEN_USAGE, semconv.METRIC_OPERATION_DURATION, semconv.METRIC_COST)


#: Each point's growth: a delta point's own value, a cumulative one's rise since the point before it in its
#: series (a series' first point: all it counted since its start). Histograms count calls, sums add up. Per
#: ``period`` (its start), the points that grew there (``grown``) and their services, and of them those past the
#: period's first :data:`EXPORT_GRACE_S` seconds (``{graced}``: a point exported then may count the period before's
#: calls): ``points``, and ``calls``, the duration histogram's count, one a call (NULL where none of its points
#: grew). One statement answers both the window's figures (:func:`llm_metric_points`: the periods' sums) and each
#: period's (:func:`llm_metric_points_by`), so an analysis asking both (a budget of a month whose calls only the
#: points record) reads the points once where its statements are kept (``_filters.remembering``).
#: ``{attributes}`` and ``{sets}`` are empty for one filter set; for many (:func:`_grown_sets`) the points' attributes
#: (where a set's model is read) and :data:`_filter_sets.SETS`. ``{series_key}``: what tells a series (:func:`_series`).
_GROWTH = """
WITH points AS (
    SELECT service_name, time, metric_name{attributes},
           coalesce(count, value) - CASE WHEN temporality = 'delta' THEN 0 ELSE coalesce(
               lag(coalesce(count, value)) OVER (PARTITION BY {series_key} ORDER BY time), 0) END AS grew
    FROM metric_points WHERE {series}
)
SELECT {set_id}date_trunc('{period}', time) AS period, count(*) FILTER (WHERE {graced}) AS points,
       sum(CASE WHEN metric_name = '{duration}' AND {graced} THEN CAST(grew AS DOUBLE) END) AS calls,
       count(*) AS grown, list_sort(list_distinct(list(service_name))) AS services
FROM points{sets} WHERE grew > 0 AND {window} GROUP BY ALL
"""
#: A set's model (``set_model`` of :data:`_filter_sets.SETS`) where a point names its requested model, as
#: :func:`_selected` narrows the series of one set
_SET_MODEL = f"(set_model IS NULL OR attributes['{semconv.GEN_AI_REQUEST_MODEL}'] = set_model)"
#: A set's window over the points' ``time``
_SET_TIME = in_set(window_only=True, column="time")


def llm_metric_points(store: Any, filters: Filters) -> tuple[int, list[str]]:
    """The points of :data:`LLM_METRICS` that grew in the filters' time window, and their services.

    A cumulative series is exported again with the same count while its
    process is idle: such a repeat is no call, so only growth counts. Metric
    points carry no project: a project filter does not narrow them; the model
    filter does when the point names its requested model. Read off the window's
    days (:data:`_GROWTH`), the statement :func:`llm_metric_points_by` asks per day (a report build reads
    those of its windows at once, ``_filter_sets``).
    """
    rows = _growth_rows(store, filters, "day")
    return (sum(row["grown"] for row in rows),
            sorted({service for row in rows for service in row["services"] or () if service is not None}))


#: A point exported this long after a period began may count calls of the period before (a metric reader
#: exports every 60 s by default: ``OTEL_METRIC_EXPORT_INTERVAL``): not counted for the period it lands in.
EXPORT_GRACE_S = 120


def llm_metric_points_by(store: Any, filters: Filters, period: str) -> dict[Any, int]:
    """:func:`llm_metric_points` per ``period`` (``hour``/``day``/``week``: the period's start, as
    ``date_trunc`` gives it and ``trends.series`` keys its periods), only the periods with any, leaving out
    the points of each period's first :data:`EXPORT_GRACE_S` seconds (its calls may be the period before's)."""
    return {period_start: points for period_start, (points, _) in _grown_by(store, filters, period).items()}


def _grown_by(store: Any, filters: Filters, period: str) -> dict[Any, tuple[int, int | None]]:
    """:func:`llm_metric_points_by`'s periods, each with its points and the calls the duration histogram counts
    there (None when none of its points grew there)."""
    return {row["period"]: (row["points"], None if row["calls"] is None else round(row["calls"]))
            for row in _growth_rows(store, filters, period) if row["points"]}


def _growth_rows(store: Any, filters: Filters, period: str) -> list[dict[str, Any]]:
    """The rows of :data:`_GROWTH` per ``period`` over ``filters``; in a report build, read with those of the
    windows expected beside it (``_filter_sets.ask_together``)."""
    ask_together(store, filters, lambda asked: _growth_sql(store, asked, period),
                 lambda sets: _grown_sets(store, period, sets), reads=_unprojected)
    return fetch_dicts(store, *_growth_sql(store, filters, period))


def _grown_sets(store: Any, period: str, filter_sets: Sequence[Filters]) -> list[list[dict[str, Any]]]:
    """The rows of :func:`_grown_by`'s statement of each of ``filter_sets`` (sharing their service), read in one
    statement: a series' growth does not depend on the window, and the model selects whole series (it is one of
    their attributes), so each set takes its points from one reading of every series' growth."""
    _, series, params = _selected(shared_filters(filter_sets), LLM_METRICS)
    sql = _GROWTH.format(series=series, duration=semconv.METRIC_OPERATION_DURATION, attributes=", attributes",
                         sets=f", {SETS}", series_key=series_key(store), window=" AND ".join([_SET_TIME, _SET_MODEL]),
                         period=period, graced=_grace(period), set_id="set_id, ")
    return per_set(fetch_dicts(store, sql, {**params, "sets": set_rows(filter_sets)}), len(filter_sets))


def _unprojected(filters: Filters) -> Filters:
    """What a statement over metric points reads of ``filters``: all but the project (points carry none), so the
    sets of several projects are read once (``_filter_sets.ask_together``)."""
    return replace(filters, project=None)


def _grace(period: str) -> str:
    """The clause leaving out the points of each ``period``'s first :data:`EXPORT_GRACE_S` seconds."""
    return f"time >= date_trunc('{period}', time) + INTERVAL {EXPORT_GRACE_S} SECOND"


def llm_metric_times(store: Any, filters: Filters) -> tuple[datetime, datetime] | None:
    """The first and last times of the points of :data:`LLM_METRICS` the filters select (grown or not: one
    cheap look, to tell whether any can lie outside a span of days); None when there are none."""
    window, series, params = _selected(filters, LLM_METRICS)
    ((first, last),) = [(row["first"], row["last"]) for row in fetch_dicts(
        store, f"SELECT min(time) AS first, max(time) AS last FROM metric_points WHERE "
               f"{' AND '.join([series, *window])}", params)]
    return None if first is None else (first, last)


def metrics_only_days(store: Any, filters: Filters) -> dict[datetime, tuple[int, int | None]]:
    """The days (their midnight) whose GenAI metric points grew (:func:`llm_metric_points_by`) while the spans
    hold no LLM call of the filters there, each with those points and the calls the duration histogram counts
    there (None: it says nothing there): calls made that day only the points record. Metric points carry no
    project: a project's day counts only when no project's calls are in its spans."""
    window, series, params = _selected(filters, LLM_METRICS)  # the days of any point first: no window function
    pointed = [row["day"] for row in fetch_dicts(store, f"""
        SELECT DISTINCT date_trunc('day', time) AS day FROM metric_points
        WHERE {" AND ".join([series, *window, _grace("day")])}""", params)]
    if not pointed:
        return {}
    where, params = replace(filters, project=None).where()
    days = {f"day{i}": day for i, day in enumerate(pointed)}
    busy = {row["day"] for row in fetch_dicts(store, f"""
        SELECT DISTINCT date_trunc('day', start_time) AS day FROM spans  -- a day with a call's span has a call:
        WHERE {IS_LLM_SPAN} AND {where}                                  -- the llm_calls view's dearer reading
          AND date_trunc('day', start_time) IN ({", ".join(f"${name}" for name in days)})""",  # adds nothing
        {**params, **days})}
    if busy.issuperset(pointed):  # every day with points has calls in spans: none is only in the points
        return {}
    return {day: grown for day, grown in sorted(_grown_by(store, filters, "day").items()) if day not in busy}


def _growth_sql(store: Any, filters: Filters, period: str) -> tuple[str, dict[str, Any]]:
    """The :data:`_GROWTH` query of the filters' window, service and model, per ``period``."""
    window, series, params = _selected(filters, LLM_METRICS)
    return _GROWTH.format(series=series, duration=semconv.METRIC_OPERATION_DURATION, attributes="", sets="",
                          series_key=series_key(store), window=" AND ".join(window) or "TRUE", period=period,
                          graced=_grace(period), set_id=""), params


def _selected(filters: Filters, metrics: Sequence[str]) -> tuple[list[str], str, dict[str, Any]]:
    """The filters' time window (clauses on ``time``), the series of ``metrics`` they select (by service, and by
    model where a point names its requested model), and the parameters of both."""
    window, params = time_window("time", filters.since, filters.until)
    names = ", ".join(f"'{name}'" for name in metrics)
    series = [f"metric_name IN ({names})"]
    if filters.service is not None:
        series.append("service_name = $service")
        params["service"] = filters.service
    if filters.model is not None:
        series.append(f"attributes['{semconv.GEN_AI_REQUEST_MODEL}'] = $model")
        params["model"] = filters.model
    return window, " AND ".join(series), params


#: Each series of the duration histogram, hour by hour: the calls its points counted in the hour (the points
#: exported in it, less :data:`EXPORT_GRACE_S`: a point exported in an hour's first seconds counts the hour
#: before's calls) between its last point before that hour (a delta point: its start) and its last in the hour,
#: against the LLM spans of its service and model that ended in that stretch, widened by :data:`EXPORT_GRACE_S`
#: before it (a call that ended just before an export can be counted by the next) and to whole minutes; the
#: stretches where the points counted more: calls only the points record, at an hour's resolution (or the export
#: interval's, when longer). Spans are counted per minute and per service and model (its model asked for, and the
#: one that answered, and '' for points that name no model), and a stretch sums the minutes of its service and
#: model within its reach. A stretch whose reach lies within three clock hours (an hour of a reader exporting
#: every minute, with the grace before it) is matched by the hour of each minute too, so a minute meets the few
#: stretches of its hour, not every stretch of its service and model (two months of hourly stretches over 1M spans:
#: 3.4 times the CPU); a longer one (a daily export, a process silent for hours) by the range alone. Equality joins
#: and ranges: ClickHouse runs it as it is (a running count per minute read with ``ASOF`` at the stretch's two
#: ends took three times as long: its window sorted every minute). Spans of every
#: project count (points carry none), and so do those of other series (processes) of the same service and model:
#: what is left out is a lower bound, never a false alarm. Points before the window (``{before}``) are read only
#: as the count a cumulative series had when the window began; ``{since}`` keeps those of the day before it.
#: ``{series_key}``: what tells a series (:data:`SERIES`); ``{bucket_model}``, ``{models}`` and ``{of_models}``: where
#: its model is read (:func:`_series_models`).
_UNHELD = """
WITH buckets AS (
    SELECT {bucket_set}any_value(service_name) AS service, {bucket_model}any_value(temporality) AS temporality,
           CASE WHEN {before} THEN NULL ELSE date_trunc('hour', time - INTERVAL {grace} SECOND) END AS hour,
           max(time) AS until, min(start_time) AS began, max(count) AS last, sum(count) AS added, count(*) AS points,
           {series_columns}
    FROM metric_points{sets} WHERE {series} AND count IS NOT NULL AND {window}
    GROUP BY {set_id}{series_key}, hour
){models}, grown AS (
    SELECT {set_id}coalesce(service, '') AS service, coalesce(nullif(model, ''), '') AS model, hour, until, points,
           CASE WHEN temporality = 'delta' THEN began ELSE coalesce(lag(until) OVER series, began) END AS since,
           CASE WHEN temporality = 'delta' THEN added ELSE last - coalesce(lag(last) OVER series, 0) END AS grew,
           temporality = 'delta' OR lag(until) OVER series IS NOT NULL OR began >= {anchored} AS known
    FROM buckets{of_models}
    WINDOW series AS (PARTITION BY {set_id}{series_key} ORDER BY hour NULLS FIRST)
), stretches AS (
    SELECT {set_id}service, model, since, until, since - INTERVAL {grace} SECOND AS after, sum(points) AS points,
           sum(grew) AS counted
    FROM grown WHERE hour IS NOT NULL AND grew > 0 AND known GROUP BY {set_id}service, model, since, until
), ended AS (
    SELECT {set_id}coalesce(service_name, '') AS service, model, response_model, date_trunc('minute', end_time) AS minute
    FROM spans{reached}
    WHERE {is_llm_span} AND end_time > {first_after} - INTERVAL 60 SECOND
      AND end_time <= {last_until}
), minutes AS (
    SELECT {set_id}service, model, minute, date_trunc('hour', minute) AS hour, count(*) AS calls FROM (
        SELECT {set_id}service, model, minute FROM ended WHERE model IS NOT NULL
        UNION ALL SELECT {set_id}service, response_model, minute FROM ended
        WHERE response_model IS NOT NULL AND response_model IS DISTINCT FROM model
        UNION ALL SELECT {set_id}service, '', minute FROM ended)
    GROUP BY {set_id}service, model, minute
), reaches AS (
    SELECT *, date_trunc('hour', after - INTERVAL 60 SECOND) >= date_trunc('hour', until) - INTERVAL 2 HOUR AS short
    FROM stretches
), short_hours AS (
    SELECT *, date_trunc('hour', until) AS hour FROM reaches WHERE short
    UNION ALL SELECT *, date_trunc('hour', until) - INTERVAL 1 HOUR FROM reaches WHERE short
    UNION ALL SELECT *, date_trunc('hour', until) - INTERVAL 2 HOUR FROM reaches WHERE short
), held AS (
    SELECT {set_id}service, model, since, until, sum(calls) AS held FROM (
        SELECT {s_set}s.service, s.model, s.since, s.until, m.calls
        FROM short_hours s JOIN minutes m ON {s_same}s.service = m.service AND s.model = m.model AND s.hour = m.hour
        WHERE m.minute > s.after - INTERVAL 60 SECOND AND m.minute <= s.until
        UNION ALL
        SELECT {s_set}s.service, s.model, s.since, s.until, m.calls
        FROM reaches s JOIN minutes m ON {s_same}s.service = m.service AND s.model = m.model
        WHERE NOT s.short AND m.minute > s.after - INTERVAL 60 SECOND AND m.minute <= s.until
    )
    GROUP BY {set_id}service, model, since, until
)
SELECT {s_set}s.service, s.model, s.since, s.until, s.points, s.counted - coalesce(h.held, 0) AS calls
FROM stretches s LEFT JOIN held h
     ON {h_same}s.service = h.service AND s.model = h.model AND s.since = h.since AND s.until = h.until
WHERE s.counted > coalesce(h.held, 0)
ORDER BY {s_set}s.until, s.service, s.model
"""
#: :data:`_UNHELD`'s set placeholders: empty for one filter set; for many (:func:`_unheld_sets`), each set's
#: stretches read and matched with spans apart, its points and spans joined with its row of
#: :data:`_filter_sets.SETS` (``set_anchor``: its ``$anchor``)
_ONE_SET = {"bucket_set": "", "sets": "", "set_id": "", "reached": "", "first_after": "(SELECT min(after) FROM stretches)",
            "last_until": "(SELECT max(until) FROM stretches)", "s_set": "", "s_same": "", "h_same": ""}
_MANY_SETS = {"bucket_set": "set_id, any_value(set_anchor) AS set_anchor, ", "sets": f", {SETS}", "set_id": "set_id, ",
              "reached": ", (SELECT set_id, min(after) AS first_after, max(until) AS last_until FROM stretches "
                         "GROUP BY set_id) reached",
              "first_after": "reached.first_after", "last_until": "reached.last_until", "s_set": "s.set_id, ",
              "s_same": "s.set_id = m.set_id AND ", "h_same": "s.set_id = h.set_id AND "}
#: A series of points, named by (``{series_columns}``) and grouped by (``{series_key}``) its columns
#: (:func:`_series` says which of these a store is read with); on DuckDB by their 64-bit hash, stored at ingest
#: (``metric_points.series_id``) or, where a store's cannot be read as it (:func:`_rows.current_column`), computed.
#: ``over_points``: the same over ``metric_points``' own rows (:func:`series_key`), where no alias is named.
SERIES = {"series_columns": "metric_name, resource_attributes, attributes, start_time",
          "series_key": "metric_name, resource_attributes, attributes, start_time",
          "over_points": "metric_name, resource_attributes, attributes, start_time"}
SERIES_STORED = {"series_columns": "series_id", "series_key": "series_id", "over_points": "series_id"}
SERIES_HASHED = {"series_columns": f"{SERIES_KEY} AS series_hash", "series_key": "series_hash",  # not the column's
                 "over_points": SERIES_KEY}
#: How far before the window :data:`_UNHELD` reads points: a cumulative series exports every interval, idle or
#: not, so its count when the window began is in its last point of the day before. A series none of whose points
#: are that recent, begun before then, has no count to start from: its first hour in the window is left out.
ANCHOR = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Unheld:
    """Calls the duration histogram's series counted between ``since`` and ``until`` (an hour's exports, from the last before it)
    that no LLM span of its ``service`` and ``model`` (None: the points name none) holds, at least ``calls``."""

    service: str | None
    model: str | None
    since: datetime
    until: datetime
    points: int
    calls: int

    @property
    def made(self) -> datetime:
        """When the calls were made, as periods count them: the export, less :data:`EXPORT_GRACE_S` (a point
        exported in a period's first seconds counts the period before's calls)."""
        return self.until - timedelta(seconds=EXPORT_GRACE_S)

    @property
    def day(self) -> datetime:
        """The day (its midnight) the calls were made (:attr:`made`)."""
        return datetime.combine(self.made.date(), datetime.min.time())


def unheld_calls(store: Any, filters: Filters) -> list[Unheld]:
    """The stretches of the filters' window (an hour of exports counts in the window when its exports do, less
    :data:`EXPORT_GRACE_S`) whose duration-histogram points counted calls no LLM span holds (:data:`_UNHELD`).

    Finer than a day: a day with spans in the morning and only metric points in the afternoon has its
    afternoon's hours here. The filters' service and model narrow the points; their project does not (points
    carry none: the calls of the stretches of a service may be any project's whose calls ran there)."""
    ask_together(store, filters, lambda asked: _unheld_statement(store, asked), lambda sets: _unheld_sets(store, sets),
                 reads=_unprojected)
    return [Unheld(service=row["service"] or None, model=row["model"] or None, since=row["since"],
                   until=row["until"], points=row["points"], calls=int(row["calls"]))
            for row in fetch_dicts(store, *_unheld_statement(store, filters))]


#: Where the duration histogram's points are read, as of an hour of exports (less :data:`EXPORT_GRACE_S`)
_SHIFTED = f"(time - INTERVAL {EXPORT_GRACE_S} SECOND)"


def _unheld_statement(store: Any, filters: Filters) -> tuple[str, dict[str, Any]]:
    """:data:`_UNHELD` of ``filters``' window, service and model, and its parameters."""
    window, series, params = _selected(filters, (semconv.METRIC_OPERATION_DURATION,))
    bounds = [clause.replace("time", _SHIFTED) for clause in window if "$until" in clause]
    before, anchored = "FALSE", "TIMESTAMP '1970-01-01'"
    if filters.since is not None:
        params["anchor"] = filters.since - ANCHOR
        bounds.append(f"{_SHIFTED} >= $anchor")
        before, anchored = f"{_SHIFTED} < $since", "$anchor"
    return _unheld_sql(store, series=series, window=" AND ".join(bounds) or "TRUE", before=before,
                       anchored=anchored, **_ONE_SET), params


def _unheld_sets(store: Any, filter_sets: Sequence[Filters]) -> list[list[dict[str, Any]]]:
    """The rows of :func:`unheld_calls`' statement of each of ``filter_sets`` (sharing their service), read in one
    statement: each set's points, stretches and spans apart (their ``set_id``), its window, anchor and model read
    from its row of the sets as :func:`_unheld_statement` binds them."""
    _, series, params = _selected(shared_filters(filter_sets), (semconv.METRIC_OPERATION_DURATION,))
    sql = _unheld_sql(store, series=f"{series} AND {_SET_MODEL}",
                      window=f"(set_until IS NULL OR {_SHIFTED} < set_until) "
                             f"AND (set_anchor IS NULL OR {_SHIFTED} >= set_anchor)",
                      before=f"(set_since IS NOT NULL AND {_SHIFTED} < set_since)",
                      anchored="coalesce(set_anchor, TIMESTAMP '1970-01-01')", **_MANY_SETS)
    anchors = [None if f.since is None else f.since - ANCHOR for f in filter_sets]
    return per_set(fetch_dicts(store, sql, {**params, "sets": set_rows(filter_sets, set_anchor=anchors)}),
                   len(filter_sets))


def _unheld_sql(store: Any, **parts: str) -> str:
    """:data:`_UNHELD` with ``parts``, its series told as :func:`_series` says and their model read as
    :func:`_series_models` says."""
    told = _series(store)
    return _UNHELD.format(is_llm_span=IS_LLM_SPAN, grace=EXPORT_GRACE_S, **parts, **told, **_series_models(told))


def _series_models(told: Mapping[str, str]) -> dict[str, str]:
    """Where :data:`_UNHELD` reads each series' model (its points' ``gen_ai.request.model``), as ``told`` (one of
    :data:`SERIES`, :data:`SERIES_STORED`, :data:`SERIES_HASHED`) tells the series.

    Told by the hash stored at ingest, a series' points share their attributes (the hash is of them): the model
    is read from one point of each series (``models``: the first stored of those its buckets read), not from every
    point (``bucket_model``). The attributes map is the dearest column of a point to read: on two months of an
    SDK's per-minute exports (1.8M duration points, 21 series) reading it for every point took a quarter of the
    search. Told by its columns or by the hash computed from them, the map is read for every point anyway: per
    bucket, as there."""
    if told is not SERIES_STORED:
        return {"bucket_model": f"any_value(attributes['{semconv.GEN_AI_REQUEST_MODEL}']) AS model, ",
                "models": "", "of_models": ""}
    key = told["series_key"]
    return {"bucket_model": "min(metric_points.rowid) AS first_row, ",
            "of_models": f" LEFT JOIN models USING ({key})", "models": f""", models AS (
    SELECT {key}, any_value(attributes['{semconv.GEN_AI_REQUEST_MODEL}']) AS model FROM metric_points
    WHERE rowid IN (SELECT min(first_row) FROM buckets GROUP BY {key}) GROUP BY {key}
)"""}


def _series(store: Any) -> dict[str, str]:
    """How a statement over ``store``'s metric points tells their series: by the hash stored at ingest on a
    DuckDB store whose every point holds it, by computing that hash on one that does not, by the columns
    themselves elsewhere (ClickHouse)."""
    import duckdb

    con = connection(store)
    if not isinstance(con, duckdb.DuckDBPyConnection):
        return SERIES
    return SERIES_STORED if current_column(con, POINTS, "series_id") else SERIES_HASHED


def series_key(store: Any) -> str:
    """What a statement over ``store``'s metric points groups or partitions them by to tell their series (as
    :func:`_series` says: the stored hash, the hash computed, or the columns)."""
    return _series(store)["over_points"]


#: :meth:`OnlyInMetrics.said` of the window, not of a row
_WINDOW: Any = object()


@dataclass(frozen=True, slots=True)
class OnlyInMetrics:
    """Calls of a window (or of a row of it) that only GenAI metric points record, beside calls in spans: the
    call figures (calls, tokens, cost, error rate, latency) are the spans' calls' only, and the cost a lower bound.

    ``days``: the days those calls were made; ``between``: when, per day, as (first, last) moments of the exports'
    intervals that counted them (a day's morning can be in spans and its afternoon only in points); ``calls``: at
    least how many (None when some of them only points that count no call record: token or cost points);
    ``points``: the points that counted them. ``shared``: the row's key is not on the points (a project, a user...):
    these are the calls of the services its calls ran on, some of which may be other rows' (up to ``calls``)."""

    days: tuple[date, ...]
    points: int
    calls: int | None
    between: tuple[tuple[datetime, datetime], ...] = ()
    shared: bool = False

    @classmethod
    def of(cls, days: Mapping[datetime, tuple[int, int | None]]) -> "OnlyInMetrics | None":
        """The days of :func:`metrics_only_days` (or some of them); None for none."""
        if not days:
            return None
        calls = [counted for _, counted in days.values()]
        return cls(tuple(day.date() for day in sorted(days)), sum(points for points, _ in days.values()),
                   None if None in calls else sum(c for c in calls if c is not None))

    @classmethod
    def of_stretches(cls, stretches: Sequence["Unheld"], days: Mapping[datetime, tuple[int, int | None]] | None = None,
                     *, shared: bool = False) -> "OnlyInMetrics | None":
        """The calls of :func:`unheld_calls`' ``stretches`` and of ``days`` of :func:`metrics_only_days` whose
        points count no call (they add their days, and make the count unknown); None for none."""
        uncounted = {day: grown for day, grown in (days or {}).items() if grown[1] is None}
        if not stretches and not uncounted:
            return None
        spans: dict[datetime, tuple[datetime, datetime]] = {}
        for stretch in stretches:
            day = stretch.day
            first, last = max(stretch.since, day), min(stretch.until, day + timedelta(days=1))
            known = spans.get(day)
            spans[day] = (min(first, known[0]), max(last, known[1])) if known else (first, last)
        for day in uncounted:
            spans.setdefault(day, (day, day + timedelta(days=1)))
        return cls(tuple(day.date() for day in sorted(spans)),
                   sum(s.points for s in stretches) + sum(points for points, _ in uncounted.values()),
                   None if uncounted else sum(s.calls for s in stretches),
                   tuple(spans[day] for day in sorted(spans)), shared)

    def said(self, row: Any = _WINDOW) -> str:
        """What the figures of the spans' calls leave out, naming the days (and the hours of a day partly so)
        and the calls; of a ``row`` (its key: ``None`` is the row without one, shown "-"), beginning with it."""
        if row is not _WINDOW:
            return f"{'-' if row is None else row}: {self.said()}"
        listed = ", ".join(self._when(index, day) for index, day in enumerate(self.days[:5])) + (
            ", …" if len(self.days) > 5 else "")
        counted = (f"{self.calls:,} LLM calls" if self.calls is not None
                   else f"LLM calls ({self.points:,} GenAI metric points)")
        if self.shared:
            return (f"partial: up to {counted} on {len(self.days)} day(s) ({listed}) are only in GenAI metric points "
                    "of the services the calls shown ran on (traces sampled out or not shipped; the points do not "
                    "say whose calls they are): the calls, tokens, error rate and latency (p50, p95) shown may be "
                    "the spans' calls' only, and the cost a lower bound")
        return (f"partial: {counted} on {len(self.days)} day(s) ({listed}) are only in GenAI metric points (traces "
                "sampled out or not shipped): the calls, tokens, error rate and latency (p50, p95) shown are the "
                "spans' calls' only, and the cost a lower bound")

    def _when(self, index: int, day: date) -> str:
        """``day``, with the hours of its calls only points record when those are less than the whole day."""
        if index >= len(self.between):
            return f"{day:%Y-%m-%d}"
        first, last = self.between[index]
        if last - first >= timedelta(hours=23):
            return f"{day:%Y-%m-%d}"
        return f"{day:%Y-%m-%d} {first:%H:%M}–{last:%H:%M} UTC"


def uncounted_days(store: Any, filters: Filters) -> dict[datetime, tuple[int, None]]:
    """The days of :func:`metrics_only_days` whose points count no call (token or cost points only: the duration
    histogram, which :func:`unheld_calls` reads, says nothing there). Its growth query reads every point's
    series, so it runs only when some day of the window has GenAI metric points but none of the duration
    histogram (one cheap look first)."""
    ask_together(store, filters, _timed_days_statement, lambda sets: _timed_days_sets(store, sets),
                 reads=_unprojected)
    if all(row["timed"] for row in fetch_dicts(store, *_timed_days_statement(filters))):
        return {}
    return {day: (points, None) for day, (points, calls) in metrics_only_days(store, filters).items() if calls is None}


#: The days of a window's GenAI metric points (less each day's first :data:`EXPORT_GRACE_S` seconds), each with
#: whether the duration histogram has points there; ``{set_id}`` and ``{sets}`` are empty for one filter set. A day
#: has a metric's point past its grace when the latest of that metric's points there is: the points are grouped
#: per day and metric first, and the grace tested once a group, not once a point (3.4M points: 140-180 -> 80-100
#: ms CPU).
_TIMED_DAYS = f"""
        SELECT day, max(CASE WHEN metric_name = '{semconv.METRIC_OPERATION_DURATION}' THEN 1 ELSE 0 END) AS timed{{set_id}}
        FROM (SELECT date_trunc('day', time) AS day, metric_name{{set_id}}, max(time) AS latest
              FROM metric_points{{sets}} WHERE {{where}} GROUP BY day, metric_name{{set_id}})
        WHERE latest >= day + INTERVAL {EXPORT_GRACE_S} SECOND GROUP BY day{{set_id}}"""


def _timed_days_statement(filters: Filters) -> tuple[str, dict[str, Any]]:
    """:data:`_TIMED_DAYS` of ``filters``' window, service and model, and its parameters."""
    window, series, params = _selected(filters, LLM_METRICS)
    return _TIMED_DAYS.format(set_id="", sets="", where=" AND ".join([series, *window])), params


def _timed_days_sets(store: Any, filter_sets: Sequence[Filters]) -> list[list[dict[str, Any]]]:
    """The rows of :func:`_timed_days_statement` of each of ``filter_sets`` (sharing their service), in one
    statement."""
    _, series, params = _selected(shared_filters(filter_sets), LLM_METRICS)
    sql = _TIMED_DAYS.format(set_id=", set_id", sets=f", {SETS}",
                             where=" AND ".join([series, _SET_MODEL, _SET_TIME]))
    return per_set(fetch_dicts(store, sql, {**params, "sets": set_rows(filter_sets)}), len(filter_sets))


def window_calls(store: Any, filters: Filters) -> tuple[list[Unheld], dict[datetime, tuple[int, int | None]], bool]:
    """What of ``filters``' window only GenAI metric points record: the stretches of :func:`unheld_calls`, the
    days of :func:`metrics_only_days` whose points count no call (token or cost points only), and whether the
    stretches are only possibly the window's (``shared``). A project's window: the stretches of the services its
    calls ran on, and of services no LLM call of the window ran on (points carry no project; :func:`only_in_metrics_by`)."""
    stretches, days = _searched(store, filters)
    if filters.project is None:
        return stretches, days, False
    mine, _ = _attributed(store, replace(filters, project=None), "project", stretches)
    return mine.get(filters.project, []), days, True


def only_in_metrics(store: Any, filters: Filters, llm_calls: int) -> OnlyInMetrics | None:
    """The calls of ``filters``' window that only GenAI metric points record (:func:`window_calls`), when its
    spans hold ``llm_calls`` > 0 LLM calls (a window with none is :func:`unrecorded_cost`'s); else None."""
    if not llm_calls:
        return None
    stretches, days, shared = window_calls(store, filters)
    return OnlyInMetrics.of_stretches(stretches, days, shared=shared)


def _searched(store: Any, filters: Filters) -> tuple[list[Unheld], dict[datetime, tuple[int, None]]]:
    """:func:`unheld_calls` and :func:`uncounted_days` of ``filters`` (neither depends on its project: points
    carry none), searched once per read-only DuckDB store and window (:func:`_kept_search`), and not at all when
    the window holds no GenAI metric point (:func:`_pointed`: one narrow look)."""
    kept = _kept_search(store)
    key = replace(filters, project=None, calls_only=False)
    if kept is not None and key in kept:
        return kept[key]
    found: tuple[list[Unheld], dict[datetime, tuple[int, None]]] = (
        (unheld_calls(store, key), uncounted_days(store, key)) if _pointed(store, key) else ([], {}))
    if kept is not None:
        kept.clear()  # the last window only: a command's rows and its window note ask for the same
        kept[key] = found
    return found


#: read-only DuckDB connection -> {filters: :func:`_searched`'s answer}
_SEARCHED: "weakref.WeakKeyDictionary[Any, dict[Filters, Any]]" = weakref.WeakKeyDictionary()


def _kept_search(store: Any) -> dict[Filters, Any] | None:
    """Where :func:`_searched` keeps its last answer for ``store``: only a store opened read-only on DuckDB,
    whose data cannot change while its connection is open (DuckDB locks the file against writers); None for
    any other (a writable store, ClickHouse), which searches each time."""
    import duckdb

    con = connection(store)
    if getattr(store, "read_only", False) is not True or not isinstance(con, duckdb.DuckDBPyConnection):
        return None
    return _SEARCHED.setdefault(con, {})


def _pointed(store: Any, filters: Filters) -> bool:
    """Whether any point of :data:`LLM_METRICS` lies where :func:`unheld_calls` or :func:`uncounted_days` reads
    (from a day (:data:`ANCHOR`) before the window to :data:`EXPORT_GRACE_S` after it): when none does, both
    find nothing, and their queries (the hour-by-hour search binds a deep plan) are not run."""
    ask_together(store, filters, _pointed_statement, lambda sets: _pointed_sets(store, sets), reads=_unprojected)
    (row,) = fetch_dicts(store, *_pointed_statement(filters))
    return bool(row["found"])


def _reach(filters: Filters) -> Filters:
    """``filters`` with the window :func:`_pointed` looks in."""
    return replace(filters, since=filters.since and filters.since - ANCHOR,
                   until=filters.until and filters.until + timedelta(seconds=EXPORT_GRACE_S))


def _pointed_statement(filters: Filters) -> tuple[str, dict[str, Any]]:
    """:func:`_pointed`'s statement of ``filters`` and its parameters."""
    _, series, params = _selected(replace(filters, since=None, until=None), LLM_METRICS)
    reach = _reach(filters)
    window, reached = time_window("time", reach.since, reach.until)
    return (f"SELECT EXISTS (SELECT 1 FROM metric_points WHERE {' AND '.join([series, *window])}) AS found",
            {**params, **reached})


def _pointed_sets(store: Any, filter_sets: Sequence[Filters]) -> list[list[dict[str, Any]]]:
    """The rows of :func:`_pointed_statement` of each of ``filter_sets`` (sharing their service), in one statement."""
    _, series, params = _selected(shared_filters(filter_sets), LLM_METRICS)
    sql = (f"SELECT set_id, EXISTS (SELECT 1 FROM metric_points WHERE {series} AND {_SET_MODEL} AND {_SET_TIME}) "
           f"AS found FROM {SETS} ORDER BY set_id")
    return per_set(fetch_dicts(store, sql, {**params, "sets": set_rows([_reach(f) for f in filter_sets])}),
                   len(filter_sets))


#: The dimensions whose key the duration histogram's points carry (the model asked for, the service): a row of
#: one of these is told exactly which calls are its own; any other row, the calls of the services it ran on.
_ON_POINTS = {"model": "model", "service": "service"}


def only_in_metrics_by(store: Any, filters: Filters, by: str | None) -> dict[Any, OnlyInMetrics]:
    """Per key of ``by`` (a summary's or comparison's rows over ``filters``), the calls that only GenAI metric
    points record which are, or may be, that row's (:class:`OnlyInMetrics`); rows none of which may be are left
    out.

    A model's or service's row gets the stretches (:func:`unheld_calls`) of its own model or service. Any other
    row (a project, a user...) gets, ``shared``, those of the services its calls ran on in the window, and those
    of services no LLM call of the window ran on (their calls may be anyone's); so does every model row for
    stretches whose points name no model. Days whose points count no call (:func:`window_calls`) are every row's."""
    stretches, uncounted = _searched(store, filters)
    if not stretches and not uncounted:
        return {}
    mine, keys = _attributed(store, filters, by, stretches)
    own = _ON_POINTS.get(by or "")
    found = {key: OnlyInMetrics.of_stretches(mine.get(key, []), uncounted, shared=own is None or any(
        getattr(s, own) is None for s in mine.get(key, []))) for key in keys | set(mine)}
    return {key: partial for key, partial in found.items() if partial is not None}


def _attributed(store: Any, filters: Filters, by: str | None, stretches: Sequence[Unheld]
                ) -> tuple[dict[Any, list[Unheld]], set[Any]]:
    """``stretches`` per key of ``by`` whose calls they are or may be (:func:`only_in_metrics_by`'s rule), and
    the keys of the window's LLM calls."""
    from otel_llm_analysis._filters import dimension_sql

    where, params = filters.where()
    ran = fetch_dicts(store, f"SELECT DISTINCT {dimension_sql(by)} AS key, service_name AS service FROM llm_calls "
                             f"WHERE {where}", params) if stretches else []
    on_service: dict[Any, set[Any]] = {}
    for row in ran:
        on_service.setdefault(row["service"], set()).add(row["key"])
    keys = {row["key"] for row in ran}
    own = _ON_POINTS.get(by or "")
    mine: dict[Any, list[Unheld]] = {}
    for stretch in stretches:
        named = getattr(stretch, own) if own else None
        for key in ({named} if named is not None else on_service.get(stretch.service, keys)):
            mine.setdefault(key, []).append(stretch)
    return mine, keys


@dataclass(frozen=True, slots=True)
class DurationHistogram:
    """The calls the ``gen_ai.client.operation.duration`` histogram counted in a window: how many, how many
    failed (``None`` when no point carries ``error.type``: the producer may not say), and per bucket of
    ``bounds_ms`` (the upper bounds, in ms; one more bucket beyond the last) how many took that long."""

    points: int
    calls: int
    failed: int | None
    bounds_ms: tuple[float, ...]
    counts: tuple[int, ...]

    def p95_between(self) -> tuple[float, float]:
        """The bounds (ms) of the bucket holding the 95th percentile call (``inf`` above the last bound)."""
        rank, seen = math.ceil(0.95 * self.calls), 0
        for index, count in enumerate(self.counts):
            seen += count
            if seen >= rank:
                return (self.bounds_ms[index - 1] if index else 0.0,
                        self.bounds_ms[index] if index < len(self.bounds_ms) else math.inf)
        return self.bounds_ms[-1] if self.bounds_ms else 0.0, math.inf


#: What :func:`duration_histogram` reads: each histogram point of the duration metric (``metric_type``: a point of
#: another kind has no buckets) with what its series held before it (``lag``: DuckDB's NULL, ClickHouse's ``[]``
#: for a series' first point; the point before may lie before the window), and of those in the window that grew
#: (``risen``) its rise: a delta point's buckets as they are; a cumulative one's rise bucket by bucket since the
#: point before, or, when it has other buckets than that one (as many, whatever their bounds) or fewer calls in
#: any, all it holds (its series restarted). A point the same as the one before rose by nothing: such repeats (an
#: SDK exports each series every minute, grown or not) are left out before any list is built. The grown points
#: (``grown``: any rise) are added up: how many; how many sets of bounds and units they have (the buckets add up
#: only when one); the calls of those carrying ``error.type``; per bucket (as many as the grown point with fewest
#: has), the sum over every point: one row, however many points grew.
_HISTOGRAM = f"""
WITH points AS (
    SELECT time, unit, bounds, counts, delta, failed,
           lag(counts) OVER (PARTITION BY {{series_key}} ORDER BY time) AS before
    FROM (SELECT {{series_columns}}, time, unit, explicit_bounds AS bounds, bucket_counts AS counts,
                 coalesce(temporality, '') = 'delta' AS delta,
                 coalesce(attributes['{semconv.ERROR_TYPE}'], '') <> '' AS failed  -- ClickHouse's absent key: ''
          FROM metric_points WHERE {{series}} AND metric_type = 'histogram')
), risen AS (
    SELECT unit, bounds, failed,
           CASE WHEN NOT delta AND array_length(before) = array_length(counts)
                     AND array_length(list_filter(counts, lambda c, i: c < before[i])) = 0
                THEN list_transform(counts, lambda c, i: c - before[i]) ELSE counts END AS rose
    FROM points WHERE {{window}} AND (delta OR before IS NULL OR counts <> before)
), grown AS (
    SELECT count(*) AS points, count(DISTINCT bounds) AS bound_sets, any_value(bounds) AS bounds,
           count(DISTINCT unit) + CASE WHEN count(unit) < count(*) THEN 1 ELSE 0 END AS units, any_value(unit) AS unit,
           sum(list_sum(rose)) FILTER (WHERE failed) AS failed, min(array_length(rose)) AS buckets, list(rose) AS roses
    FROM risen WHERE list_sum(rose) <> 0
)
SELECT points, bound_sets, bounds, units, unit, failed,
       list_transform(list_filter(roses[1], lambda r, i: i <= buckets),
                      lambda r, i: list_sum(list_transform(roses, lambda one: one[i]))) AS counts
FROM grown
"""


def duration_histogram(store: Any, filters: Filters) -> DurationHistogram | None:
    """What the duration histogram's points that grew in the filters' window count (a cumulative point: its
    rise since the point before it in its series, bucket by bucket); None when none grew, or when the window's
    points do not share one set of bucket bounds, or one unit (their buckets cannot be added up). Added up in
    one statement (:data:`_HISTOGRAM`): two months of an SDK's per-minute exports read into Python and added
    there took 17 s."""
    window, series, params = _selected(filters, (semconv.METRIC_OPERATION_DURATION,))
    (row,) = fetch_dicts(store, _HISTOGRAM.format(**_series(store), series=series,
                                                  window=" AND ".join(window) or "TRUE"), params)
    if not row["points"] or row["bound_sets"] != 1 or row["units"] != 1:
        return None
    scale = 1.0 if row["unit"] == "ms" else 1000.0  # semconv's unit: s
    counts = tuple(row["counts"])
    return DurationHistogram(row["points"], sum(counts), row["failed"],
                             tuple(b * scale for b in row["bounds"] or ()), counts)


def unrecorded_cost(store: Any, filters: Filters, llm_calls: int) -> str | None:
    """Why the cost of a window whose spans hold ``llm_calls`` LLM calls is unknown, or None when it is known.

    Unknown when the spans hold no LLM call and the window has GenAI metric
    points: those calls cost something the spans do not say. Metric points carry
    no project, so a project's window is unknown only when no project's calls
    are in its spans: where spans record other projects' calls, its $0 is known.
    """
    from otel_llm_analysis.summaries import summary  # summaries' rows carry only_in_metrics: imported there first

    if llm_calls:
        return None
    if filters.project is not None and any(  # any project's calls: the summary row (totals would search too)
            row.llm_calls for row in summary(store, None, replace(filters, project=None), traces=False)):
        return None
    points, services = llm_metric_points(store, filters)
    if not points:
        return None
    source = f" from {', '.join(services[:5])}{', …' if len(services) > 5 else ''}" if services else ""
    return (f"unknown: not recorded in spans. {points:,} GenAI metric point{'s' if points != 1 else ''}{source} "
            "count LLM calls made here, but the spans hold none (traces sampled out or not shipped): "
            "calls, tokens and cost are read from spans")


def unrecorded_periods(periods: Sequence[datetime], period: str = "day") -> str:
    """What a series' ``periods`` whose spans hold no LLM call while GenAI metric points grew there
    (``trends.TrendPoint.unrecorded_points``) mean: calls made there whose cost is unknown, not $0."""
    listed = ", ".join(f"{p:%Y-%m-%d %H:%M}" if period == "hour" else f"{p:%Y-%m-%d}" for p in periods[:5])
    return (f"{len(periods)} {period}(s) whose spans hold no LLM call have GenAI metric points counting calls "
            f"({listed}{', …' if len(periods) > 5 else ''}): traces sampled out or not shipped, so their cost is "
            "unknown, not $0 (calls and tokens are read from spans)")


def unrecorded_spend(spent: float, days: Sequence[datetime]) -> str:
    """Why a spend of ``spent`` over days some of which (``days``) only GenAI metric points record is a lower
    bound: the calls of those days cost something the spans do not say."""
    return f"at least ${spent:,.4f}, a lower bound: {unrecorded_periods(days)}"
