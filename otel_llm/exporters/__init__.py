"""Exporters otel-llm adds to the OpenTelemetry SDK.

``file``: the embedded default (collector-format OTLP-JSON lines);
``spool``: disk spooling around OTLP exporters. Classes load lazily so that
importing one exporter never pulls in the others' dependencies.
"""

from __future__ import annotations

from typing import Any

__all__ = ["FileLogExporter", "FileMetricExporter", "FileSpanExporter"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from otel_llm.exporters import file

        return getattr(file, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
