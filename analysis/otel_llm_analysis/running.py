"""What is running now: the decorated calls each process had started and not ended at its last export.

Why from a metric: OpenTelemetry exports a span only when it ends, so the
spans cannot show a call still running. The SDK reports ``otel_llm.active``
(``otel_llm/_active.py``): per process, kind and span name, the calls started
and not ended, at every metric export (every 60 s by default,
``OTEL_METRIC_EXPORT_INTERVAL``). So "running now" is each process's
**last** export: its non-zero counts, as of that export's time.

A process that stopped (or was killed) mid-call exports no more, and its last
counts stay: a process whose last export is older than ``stale_after`` before
``now`` is marked ``stale`` rather than shown as running. A count says how
many, not which calls: the calls themselves appear in the traces when they end.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from otel_llm import semconv
from otel_llm_analysis._filters import as_rows, fetch_dicts

__all__ = ["DEFAULT_STALE_AFTER", "RunningCalls", "running", "reporting_processes"]

#: A process silent this long (five default export intervals) is not assumed to be running anything.
DEFAULT_STALE_AFTER = timedelta(minutes=5)

_LAST_EXPORTS = f"""
WITH points AS (
    SELECT service_name AS service, resource_attributes['service.instance.id'] AS instance, time,
           attributes['{semconv.OTEL_LLM_KIND}'] AS kind, attributes['{semconv.OTEL_LLM_SPAN_NAME}'] AS name, value
    FROM metric_points
    WHERE metric_name = $metric AND (CAST($until AS TIMESTAMP) IS NULL OR time < CAST($until AS TIMESTAMP))
), last_export AS (
    SELECT service, instance, max(time) AS as_of FROM points GROUP BY ALL
)
"""


@dataclass(slots=True)
class RunningCalls:
    """How many calls of one kind and span name a process was running at its last export."""

    service: str | None
    instance: str | None
    kind: str | None
    name: str | None
    running: int
    as_of: datetime
    #: no export for longer than ``stale_after``: the process may have stopped with these calls in flight
    stale: bool


def running(store: Any, *, until: datetime | None = None, now: datetime | None = None,
            stale_after: timedelta = DEFAULT_STALE_AFTER) -> list[RunningCalls]:
    """The calls each process was running at its last export before ``until`` (default: all points).

    ``now`` (naive UTC; default ``until`` or the clock) decides which processes are stale.
    """
    moment = now or until or datetime.now(timezone.utc).replace(tzinfo=None)
    sql = _LAST_EXPORTS + """
        SELECT p.service, p.instance, p.kind, p.name, CAST(p.value AS BIGINT) AS running, l.as_of,
               l.as_of < CAST($stale_before AS TIMESTAMP) AS stale
        FROM points p JOIN last_export l
          ON p.service IS NOT DISTINCT FROM l.service AND p.instance IS NOT DISTINCT FROM l.instance
         AND p.time = l.as_of
        WHERE p.value > 0
        ORDER BY stale, running DESC, p.service, p.instance, p.kind, p.name
    """
    params = {"metric": semconv.METRIC_ACTIVE, "until": until, "stale_before": moment - stale_after}
    return as_rows(RunningCalls, fetch_dicts(store, sql, params))


def reporting_processes(store: Any, *, until: datetime | None = None) -> int:
    """How many processes reported ``otel_llm.active`` at all (0: none wrote it: an older SDK, or no metrics)."""
    sql = _LAST_EXPORTS + "SELECT count(*) AS processes FROM last_export"
    ((count,),) = store.query(sql, {"metric": semconv.METRIC_ACTIVE, "until": until})
    return int(count)
