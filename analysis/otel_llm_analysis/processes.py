"""Each process's memory, CPU and threads over time, from the SDK's process metrics.

Why: the systems otel-llm replaces showed "what is each worker using" next to its jobs
(memory over time, CPU, threads, per process). ``configure(process_metrics=True)``
records the semconv process metrics through the official system-metrics
instrumentation; ``otel-llm check`` gates on their peak, and this analysis shows them
per period and per process, a process being one ``service.instance.id`` (the SDK's
resource gives every process its own) of a ``service.name``:

* ``peak_memory_mb`` / ``mean_memory_mb``: the largest and the mean
  ``process.memory.usage`` point (resident memory, MiB, as ``check`` counts it);
* ``mean_cpu_utilization``: the mean ``process.cpu.utilization`` point, as the
  instrumentation reports it (one point per collection, all CPU modes together;
  a fraction);
* ``peak_threads``: the largest ``process.thread.count`` point;
* ``points``: the memory points read (how well the period is covered).

Metric points carry ``time`` rather than spans' ``start_time``, so ``--since`` /
``--until`` apply to that; points carry no project, so there is no ``--project``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from otel_llm import semconv
from otel_llm_analysis._filters import Filters, as_rows, fetch_dicts, time_window

Period = Literal["hour", "day", "week"]
MEMORY = semconv.METRIC_PROCESS_MEMORY_USAGE
CPU = "process.cpu.utilization"
THREADS = "process.thread.count"
MIB = 1024 * 1024


@dataclass(slots=True)
class ProcessPoint:
    """One process in one period (``period`` is the period's start, naive UTC)."""

    period: datetime
    service: str | None
    instance: str | None
    peak_memory_mb: float | None
    mean_memory_mb: float | None
    mean_cpu_utilization: float | None
    peak_threads: float | None
    points: int


def service_names(store: Any) -> list[str]:
    """The services whose process metrics (memory, CPU, threads) the store holds, sorted: what a ``service``
    filter of :func:`process_usage` can match, for a name matching none to be refused, not answered empty."""
    rows = fetch_dicts(store, "SELECT DISTINCT service_name AS name FROM metric_points WHERE metric_name IN "
                              "($memory, $cpu, $threads) AND service_name IS NOT NULL ORDER BY name",
                       {"memory": MEMORY, "cpu": CPU, "threads": THREADS})
    return [row["name"] for row in rows]


def process_usage(store: Any, period: Period = "hour", filters: Filters | None = None) -> list[ProcessPoint]:
    """Per period and process (service, ``service.instance.id``): memory, CPU and threads; oldest first."""
    if period not in ("hour", "day", "week"):
        raise ValueError(f"unknown period {period!r}; choose hour, day or week")
    filters = filters or Filters()
    window, params = time_window("time", filters.since, filters.until)
    clauses = ["metric_name IN ($memory, $cpu, $threads)", *window]
    params.update(memory=MEMORY, cpu=CPU, threads=THREADS)
    if filters.service is not None:
        clauses.append("service_name = $service")
        params["service"] = filters.service
    sql = f"""
        SELECT date_trunc('{period}', time) AS period, service_name AS service,
               resource_attributes['service.instance.id'] AS instance,
               max(value) FILTER (WHERE metric_name = $memory) / {MIB} AS peak_memory_mb,
               avg(value) FILTER (WHERE metric_name = $memory) / {MIB} AS mean_memory_mb,
               avg(value) FILTER (WHERE metric_name = $cpu) AS mean_cpu_utilization,
               max(value) FILTER (WHERE metric_name = $threads) AS peak_threads,
               count(*) FILTER (WHERE metric_name = $memory) AS points
        FROM metric_points WHERE {' AND '.join(clauses)}
        GROUP BY ALL
        ORDER BY period, service, instance
    """
    return as_rows(ProcessPoint, fetch_dicts(store, sql, params))
