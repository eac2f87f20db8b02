"""Memory per chat session: the memory of the process that ran a conversation, while it ran.

Why this way: memory belongs to a process, not to a conversation, and
OpenTelemetry reports it as the process's ``process.memory.usage`` points
(``configure(process_metrics=True)``, one point per metric export). The
replaced systems showed memory per chat session; the honest version here is,
per conversation (``gen_ai.conversation.id``) and process
(``service.instance.id``): the points that process exported between the
conversation's first span start and last span end - their peak, the first and
last (growth = last - first, what a leak shows as), and how many there were.

Two limits follow and are said: conversations served at the same time by one
process share its memory (each sees all of it), and a conversation shorter than
the export interval (60 s by default) may have no point at all (``points`` = 0:
export more often with ``OTEL_METRIC_EXPORT_INTERVAL``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Sequence

from otel_llm import semconv
from otel_llm_analysis._filter_sets import SETS, ask_together, in_set, per_set, project_in_set, set_rows
from otel_llm_analysis._filters import Filters, as_rows, fetch_dicts, time_window
from otel_llm_analysis.processes import MIB

__all__ = ["SessionMemory", "session_memory"]


@dataclass(slots=True)
class SessionMemory:
    """One conversation in one process: its time span and that process's memory meanwhile (MiB)."""

    conversation: str
    service: str | None
    instance: str | None
    started: datetime
    ended: datetime
    spans: int
    #: memory points the process exported meanwhile (0: none, so no figures)
    points: int
    peak_memory_mb: float | None
    first_memory_mb: float | None
    last_memory_mb: float | None
    growth_mb: float | None


def session_memory(store: Any, filters: Filters | None = None, *, top: int = 50) -> list[SessionMemory]:
    """Per conversation and process, the process memory while the conversation ran; highest peak first.

    The filters apply to the conversations' spans (their start time, their project).
    """
    filters = filters or Filters()
    ask_together(store, filters, lambda asked: _statement(asked, top), lambda sets: _memory_sets(store, sets, top),
                 reads=lambda one: replace(one, model=None, service=None))
    return as_rows(SessionMemory, fetch_dicts(store, *_statement(filters, top)))


#: Each conversation's spans per process (``{where}``: those the filters keep; ``{set_id}`` and ``{sets}`` empty for
#: one filter set, see :func:`_memory_sets`) and the process memory points of its instance meanwhile
_SESSIONS = f"""
        WITH sessions AS (
            SELECT {{set_id}}conversation_id AS conversation, service_name AS service,
                   resource_attributes['service.instance.id'] AS instance,
                   min(start_time) AS started, max(coalesce(end_time, start_time)) AS ended, count(*) AS spans
            FROM spans{{sets}} WHERE {{where}}
            GROUP BY {{set_id}}conversation_id, service_name, resource_attributes['service.instance.id']
        ), memory AS (
            SELECT resource_attributes['service.instance.id'] AS instance, time, value
            FROM metric_points WHERE metric_name = $metric AND coalesce(temporality, '') <> 'delta'
        )"""
#: What a session's figures are, from :data:`_SESSIONS`
_FIGURES = (f"count(m.value) AS points, max(m.value) / {MIB} AS peak_memory_mb, "
            f"arg_min(m.value, m.time) / {MIB} AS first_memory_mb, arg_max(m.value, m.time) / {MIB} AS last_memory_mb, "
            f"(arg_max(m.value, m.time) - arg_min(m.value, m.time)) / {MIB} AS growth_mb")


def _statement(filters: Filters, top: int) -> tuple[str, dict[str, Any]]:
    """:func:`session_memory`'s statement of ``filters`` and its parameters."""
    window, params = time_window("start_time", filters.since, filters.until)
    clauses = ["conversation_id IS NOT NULL", *window]
    if filters.project is not None:
        clauses.append("project = $project")
        params["project"] = filters.project
    sql = _SESSIONS.format(set_id="", sets="", where=" AND ".join(clauses)) + f"""
        SELECT s.conversation, s.service, s.instance, s.started, s.ended, s.spans, {_FIGURES}
        FROM sessions s LEFT JOIN memory m
          ON m.instance = s.instance AND m.time BETWEEN s.started AND s.ended
        GROUP BY ALL
        ORDER BY peak_memory_mb DESC NULLS LAST, s.started DESC, s.conversation
        LIMIT $top
    """
    params.update(metric=semconv.METRIC_PROCESS_MEMORY_USAGE, top=top)
    return sql, params


def _memory_sets(store: Any, filter_sets: Sequence[Filters], top: int) -> list[list[dict[str, Any]]]:
    """The rows of :func:`_statement` of each of ``filter_sets``, in one statement: each set's sessions ranked apart."""
    sql = _SESSIONS.format(set_id="set_id, ", sets=f", {SETS}",
                           where=f"conversation_id IS NOT NULL AND {in_set(window_only=True)} AND {project_in_set()}")
    sql += f"""
        SELECT * EXCLUDE (place) FROM (
            SELECT s.set_id, s.conversation, s.service, s.instance, s.started, s.ended, s.spans, {_FIGURES},
                   row_number() OVER (PARTITION BY s.set_id
                                      ORDER BY max(m.value) / {MIB} DESC NULLS LAST, s.started DESC, s.conversation)
                       AS place
            FROM sessions s LEFT JOIN memory m
              ON m.instance = s.instance AND m.time BETWEEN s.started AND s.ended
            GROUP BY s.set_id, s.conversation, s.service, s.instance, s.started, s.ended, s.spans)
        WHERE place <= $top ORDER BY set_id, place
    """
    params = {"metric": semconv.METRIC_PROCESS_MEMORY_USAGE, "top": top, "sets": set_rows(filter_sets)}
    return per_set(fetch_dicts(store, sql, params), len(filter_sets))
