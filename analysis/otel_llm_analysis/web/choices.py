"""The filter choices a page offers: date ranges, projects and models present in the data.

Why presets for dates: the static report answers every filter from views computed
in advance by the analysis API (a percentile cannot be re-added from daily parts),
so it offers the ranges people ask for — the whole window, the last day, week and
30 days, each calendar month — rather than any two dates. The live dashboard offers
the same presets and also takes any ``since``/``until``.

The last day, week and 30 days are the data's (ending with its last day), not
counted back from now as ``--since 24h`` is: a report on last month's files would
otherwise show nothing. Their labels name the days they cover, so they are not
read as the CLI's relative times.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from otel_llm_analysis import summaries, trends
from otel_llm_analysis import Filters
from otel_llm_analysis._filters import connection, time_window

ALL = ""  # the choice "every project" / "every model" / "the whole window"


@dataclass(frozen=True)
class DateRange:
    """One date-range choice: ``key`` names it in the page and in URLs."""

    key: str
    label: str
    since: datetime | None
    until: datetime | None


@dataclass(frozen=True)
class Choices:
    """What the page's filters offer.

    A project or model named ``""`` is not offered: ``""`` (ALL) is the value of
    "all projects"/"all models", so the two would be one option. ``unnamed`` says
    which of "project" and "model" have such a value, for the page to say it
    cannot be picked (its data is in "all").
    """

    ranges: tuple[DateRange, ...]
    projects: tuple[str, ...]
    models: tuple[str, ...]
    unnamed: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "ranges": [{"key": r.key, "label": r.label, "since": r.since, "until": r.until} for r in self.ranges],
            "projects": list(self.projects),
            "models": list(self.models),
            "unnamed": list(self.unnamed),
        }


def date_ranges(base: Filters, window: tuple[datetime, datetime] | None) -> list[DateRange]:
    """The whole window, then the last 24 h / 7 d / 30 d and each calendar month when shorter than it."""
    whole = DateRange(ALL, "whole report", base.since, base.until)
    if window is None:
        return [whole]
    since, until = window
    ranges = [whole]
    for key, label, length in (("24h", "last 24 hours", timedelta(hours=24)),
                               ("7d", "last 7 days", timedelta(days=7)),
                               ("30d", "last 30 days", timedelta(days=30))):
        if until - since > length:
            start = until - length
            if key == "24h" and _midnight(start) and _midnight(until):
                label = "last day"
            ranges.append(DateRange(key, f"{label} of the data: {covered(start, until)}", start, until))
    months = []
    month = datetime(since.year, since.month, 1)
    while month < until:
        following = datetime(month.year + month.month // 12, month.month % 12 + 1, 1)
        months.append(DateRange(month.strftime("%Y-%m"), month.strftime("%B %Y"),
                                max(month, since), min(following, until)))
        month = following
    if len(months) > 1:
        ranges.extend(months)
    return ranges


def _midnight(moment: datetime) -> bool:
    return moment.time() == datetime.min.time()


def covered(since: datetime, until: datetime) -> str:
    """What ``[since, until)`` covers, as people read it: whole days inclusive, else the times (UTC)."""
    if _midnight(since) and _midnight(until):
        first, last = since.date(), (until - timedelta(days=1)).date()
        return first.isoformat() if first == last else f"{first} – {last}"
    return f"{since:%Y-%m-%d %H:%M} – {until:%Y-%m-%d %H:%M} UTC (exclusive)"


#: What a store without LLM calls may still hold, each table with its time column: its dates are offered
SIGNALS = (("spans", "start_time"), ("logs", "time"), ("metric_points", "time"))


def records_window(store: Any, base: Filters) -> tuple[datetime, datetime] | None:
    """[first day, day after the last day] of the spans, logs and metric points within ``base``'s dates,
    cut to ``base``'s ends; None when there are none."""
    parts, params = [], {}
    for table, column in SIGNALS:
        clauses, params = time_window(column, base.since, base.until)
        parts.append(f"SELECT min({column}) AS first, max({column}) AS last FROM {table}"
                     + (f" WHERE {' AND '.join(clauses)}" if clauses else ""))
    ((first, last),) = connection(store).execute(
        f"SELECT min(first), max(last) FROM ({' UNION ALL '.join(parts)})", params).fetchall()
    if first is None:
        return None
    start = datetime.combine(first.date(), datetime.min.time())
    end = datetime.combine(last.date(), datetime.min.time()) + timedelta(days=1)
    return max(start, base.since or start), min(end, base.until or end)


def held_days(store: Any, base: Filters) -> tuple[datetime, datetime] | None:
    """[first day, day after the last day] of the LLM calls within ``base`` (cut to its ends; ``trends.data_days``:
    the days whose calls only GenAI metric points record included), else of whatever the store holds there;
    None when it holds nothing there.

    The presets end with the data's last day, not the window's: a report asked for November of data
    ending on the 19th offers the last day and week up to the 19th, not empty days named "of the data".
    """
    days = trends.data_days(store, base)  # those whose calls only metric points record included
    if days is None:
        return records_window(store, base)
    return max(days[0], base.since or days[0]), min(days[1], base.until or datetime.max)


def choices(store: Any, base: Filters) -> Choices:
    """Date ranges of the data's window (the LLM calls', else the days of whatever the store holds: a store
    of logs alone has dates too), projects by cost, models (as requested) by cost."""
    window = held_days(store, base)
    projects = [r.key for r in summaries.summary(store, "project", base) if r.key is not None]
    models = [r.key for r in summaries.summary(store, "model", replace(base, calls_only=True), traces=False)
              if r.key is not None and r.llm_calls]
    unnamed = tuple(name for name, keys in (("project", projects), ("model", models)) if ALL in keys)
    return Choices(tuple(date_ranges(base, window)), tuple(k for k in projects if k != ALL),
                   tuple(k for k in models if k != ALL), unnamed)


def range_filters(base: Filters, choice: DateRange, project: str | None, model: str | None) -> Filters:
    """``base`` narrowed to one date range, project and model (``None``/ALL keeps base's)."""
    return replace(base, since=choice.since, until=choice.until,
                   project=project or base.project, model=model or base.model)


__all__ = ["ALL", "Choices", "DateRange", "choices", "covered", "date_ranges", "held_days", "range_filters",
           "records_window"]
