"""What a store holds: how many spans, from when to when, which projects, models and services.

Why: a filter naming a project that was never recorded must say so ("no data for
project nosuch") rather than answer with an empty table or a budget at $0; a
report on old files needs their newest month, not the current one; a dashboard
needs the values its filters can take. One query answers all three.

:func:`holdings` answers a wider question for a window: spans, LLM calls, metric
points (and their services) and logs, so an analysis with nothing to show can
say what the store does hold ("only metrics: 8 metric points from api") instead
of a bare "no data" that reads as an empty store.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Sequence

from otel_llm_analysis._filters import LLM_CALLS, Filters, fetch_dicts, time_window

__all__ = ["Catalog", "Holdings", "catalog", "holdings", "no_logs", "no_spans", "not_held", "run_config_keys"]


def not_held(kind: str, value: str | None, known: Sequence[str], *, what: str = "data",
             whose: str | None = None) -> str | None:
    """Why a filter naming ``value`` (a ``kind``: project, evaluation, ...) cannot match anything, listing
    the ``known`` names (``whose``: what they are, ``kind`` + s by default), or ``None`` when it can match.

    One sentence for every name filter, so a misspelt name is refused the same way wherever it is
    typed, never answered with zeros: "no data for project X (the store has projects: a, b)".
    """
    if value is None or value in known:
        return None
    listed = ", ".join(known[:10]) + (", …" if len(known) > 10 else "")
    return f"no {what} for {kind} {value} (the store has {whose or kind + 's'}: {listed or 'none'})"


@dataclass(slots=True)
class Catalog:
    """The store's spans at a glance; ``models`` holds requested and response model names."""

    spans: int
    first_span: datetime | None
    last_span: datetime | None
    projects: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    services: list[str] = field(default_factory=list)

    @property
    def newest_month(self) -> str | None:
        """``YYYY-MM`` of the newest span (the month a report on these files is about)."""
        return self.last_span.strftime("%Y-%m") if self.last_span else None

    def unknown(self, *, project: str | None = None, model: str | None = None) -> str | None:
        """Why a filter cannot match anything ("no data for project X; ..."), or ``None`` when it can."""
        return not_held("project", project, self.projects) or not_held("model", model, self.models)


def catalog(store: Any) -> Catalog:
    """One pass over ``spans``: counts, time range and the distinct projects, models and services."""
    (row,) = fetch_dicts(
        store,
        "SELECT count(*) AS spans, min(start_time) AS first_span, max(start_time) AS last_span, "
        "list_sort(list_distinct(list(project))) AS projects, "
        "list_sort(list_distinct(flatten(list([request_model, model, response_model])))) AS models, "
        "list_sort(list_distinct(list(service_name))) AS services FROM spans",
    )
    return Catalog(**{k: (v if v is not None else []) if k in ("projects", "models", "services") else v
                      for k, v in row.items()})


#: Services named in a description before "…".
_LISTED = 10


@dataclass(slots=True)
class Holdings:
    """What a window of the store holds, signal by signal."""

    spans: int
    llm_calls: int
    metric_points: int
    logs: int
    #: the services the metric points came from
    metric_services: list[str] = field(default_factory=list)
    #: whether a time window restricted the counts
    windowed: bool = False

    def describe(self) -> str:
        """One sentence: what is held ("only metrics: 8 metric points from api, worker; no spans, no logs")."""
        where = "the store holds" + (", in the window," if self.windowed else "")
        services = ", ".join(self.metric_services[:_LISTED]) + (", …" if len(self.metric_services) > _LISTED else "")
        held = {"spans": f"{_count(self.spans, 'span')} ({_count(self.llm_calls, 'LLM call')})" if self.spans else "",
                "metrics": _count(self.metric_points, "metric point") + (f" from {services}" if services else "")
                if self.metric_points else "",
                "logs": _count(self.logs, "log") if self.logs else ""}
        have = [text for text in held.values() if text]
        lacking = [f"no {name}" for name, text in held.items() if not text]
        if not have:
            return f"{where} nothing: no spans, metric points or logs"
        if len(have) == 1:
            (kind,) = [name for name, text in held.items() if text]
            return f"{where} only {kind}: {have[0]}; {', '.join(lacking)}"
        return f"{where} {', '.join(have)}" + (f"; {', '.join(lacking)}" if lacking else "")


def _count(number: int, noun: str) -> str:
    """``1 span``, ``2 spans``."""
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def holdings(store: Any, filters: Filters | None = None) -> Holdings:
    """Counts of spans and LLM calls (under ``filters``), and of metric points and logs in its time window
    (of its ``service`` when given: points and logs carry no project), with the metric points' services."""
    filters = filters or Filters()
    where, params = filters.where()
    window, window_params = time_window("time", filters.since, filters.until)
    if filters.service is not None:
        window.append("service_name = $service")
        window_params["service"] = filters.service
    signal_where = " AND ".join(window) or "TRUE"
    (row,) = fetch_dicts(
        store,
        f"SELECT (SELECT count(*) FROM spans WHERE {where}) AS spans, "
        f"(SELECT count(*) FROM {LLM_CALLS} WHERE {where}) AS llm_calls",
        params,
    )
    (signals,) = fetch_dicts(
        store,
        f"SELECT (SELECT count(*) FROM metric_points WHERE {signal_where}) AS metric_points, "
        f"(SELECT list_sort(list_distinct(list(service_name))) FROM metric_points WHERE {signal_where}) "
        f"AS metric_services, (SELECT count(*) FROM logs WHERE {signal_where}) AS logs",
        window_params,
    )
    return Holdings(row["spans"], row["llm_calls"], signals["metric_points"], signals["logs"],
                    signals["metric_services"] or [], filters.since is not None or filters.until is not None)


def no_spans(store: Any, filters: Filters) -> str | None:
    """Why ``filters`` select no span at all, or ``None`` when they select some.

    Every call, token and cost figure is read from spans, so a selection without
    one answers 0 calls, $0: that must say it is a window the data does not
    reach ("--since 2026-11-25" on files of the 17th to the 20th), not a quiet
    period. Said with where the spans (of the filters' project and model) are,
    or, when there are none, what the store holds instead (:func:`holdings`).
    """
    anywhere = replace(filters, since=None, until=None)
    where, params = anywhere.where()
    return _unreached(store, "spans", "start_time", where, params, filters, "span", _whose(filters))


def no_logs(store: Any, filters: Filters) -> str | None:
    """:func:`no_spans` of the log records: why the filters' time window holds none of any severity, source
    or text (their search then finds nothing whatever it asks), or ``None`` when it holds some."""
    return _unreached(store, "logs", "time", "TRUE", {}, filters, "log record")


def _unreached(store: Any, table: str, column: str, where: str, params: dict[str, Any], filters: Filters,
               noun: str, whose: str = "") -> str | None:
    """The sentence of :func:`no_spans` and :func:`no_logs`: where ``table``'s rows (``where``) are when
    the filters' window on ``column`` holds none, what the store holds when it has none, else ``None``."""
    window, bounds = time_window(column, filters.since, filters.until)
    inside = " AND ".join(window) or "TRUE"
    (row,) = fetch_dicts(store, f"SELECT sum(CASE WHEN {inside} THEN 1 ELSE 0 END) AS inside, "
                                f"min({column}) AS first, max({column}) AS last FROM {table} WHERE {where}",
                         {**params, **bounds})
    if row["inside"]:
        return None
    if row["last"] is None:
        return holdings(store, replace(filters, since=None, until=None)).describe()
    return (f"no {noun} in the window: the store's {noun}s{whose} run from "
            f"{row['first']:%Y-%m-%d %H:%M:%S} to {row['last']:%Y-%m-%d %H:%M:%S} UTC")


def _whose(filters: Filters) -> str:
    """`` of project X, model Y`` for the filters' equalities (empty without any)."""
    named = [f"{name} {value}" for name, value in (("project", filters.project), ("model", filters.model))
             if value is not None]
    return f" of {', '.join(named)}" if named else ""


def run_config_keys(store: Any) -> list[str]:
    """The ``run_config`` keys (``session(run_config=...)``) the store's spans carry, sorted: what a
    ``--by run_config.<key>`` can group by, for a key none carries to be refused rather than shown as one
    group of calls without it. Read from ``spans.attr_keys``, which both engines' ``spans`` have."""
    from otel_llm_analysis._filters import RUN_CONFIG_ATTRIBUTE

    rows = fetch_dicts(store, "SELECT DISTINCT substr(k, $start) AS name FROM (SELECT unnest(attr_keys) AS k "
                              "FROM spans) WHERE starts_with(k, $prefix) ORDER BY name",
                       {"start": len(RUN_CONFIG_ATTRIBUTE) + 1, "prefix": RUN_CONFIG_ATTRIBUTE})
    return [row["name"] for row in rows]
