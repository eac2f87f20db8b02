"""Process CPU, memory and thread metrics, read beside cost and latency.

Why the official instrumentation: ``opentelemetry-instrumentation-system-metrics``
already reads psutil through observable instruments with the semconv names;
we only narrow its config to the process itself (no host-wide disk/network
scans every interval) and point it at our meter provider. Names as emitted by
0.66b1: ``process.cpu.time``, ``process.cpu.utilization``,
``process.memory.usage``, ``process.memory.virtual``, ``process.thread.count``.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

__all__ = ["PROCESS_METRICS", "enable_process_metrics"]

_log = logging.getLogger("otel_llm.process")

PROCESS_METRICS: dict[str, list[str] | None] = {
    "process.cpu.time": ["user", "system"],
    "process.cpu.utilization": ["user", "system"],
    "process.memory.usage": None,
    "process.memory.virtual": None,
    "process.thread.count": None,
}


def enable_process_metrics(meter_provider: Any) -> Callable[[], None] | None:
    """Start reporting process metrics on ``meter_provider``; returns the undo, or ``None`` if unavailable.

    The instrumentor is a process-wide singleton that instruments once, so a
    previous configuration's registration is undone first.
    """
    try:
        from opentelemetry.instrumentation.system_metrics import SystemMetricsInstrumentor
    except Exception as exc:  # noqa: BLE001 — psutil missing etc.: degrade, don't fail configure()
        _log.warning("otel-llm: process metrics unavailable: %s", exc)
        return None
    instrumentor = SystemMetricsInstrumentor(config=dict(PROCESS_METRICS))
    if instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.uninstrument()
    instrumentor.instrument(meter_provider=meter_provider)
    return instrumentor.uninstrument
