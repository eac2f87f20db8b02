"""Embedded file exporters: traces, metrics and logs as collector-format OTLP-JSON lines.

Thin per-signal classes: encoding is upstream's
(``opentelemetry-exporter-otlp-json-common``, checked to match the
collector's ``fileexporter``: lowercase hex ids, int64 as strings,
``status: {}``), writing is :class:`~otel_llm.exporters._jsonl.JsonlWriter`
(one ``write`` per batch, fsync on flush, rotation by size, lines of at most
``max_line_bytes`` — 1 MiB by default, what the collector's
``otlpjsonfilereceiver`` reads).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    MetricExporter,
    MetricExportResult,
    MetricsData,
)
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from otel_llm._guard import internal_error
from otel_llm._upstream import LogRecordExporter, LogRecordExportResult, ReadableLogRecord, temporality_from_env
from otel_llm.exporters._jsonl import JsonlWriter
from otel_llm.exporters._messages import logs_message, metric_points, metrics_message, spans_message
from otel_llm.exporters._sizing import DEFAULT_MAX_REQUEST_BYTES

__all__ = ["FileLogExporter", "FileMetricExporter", "FileSpanExporter"]


class _WriterBacked:
    """Flush and shutdown shared by the three exporters: both go to the writer."""

    writer: JsonlWriter[Any]
    export: Any

    def write_through(self, batch: Any) -> Any:
        """What a worker process calls for each item as it ends: the file append is durable already."""
        return self.export(batch)

    def force_flush(self, timeout_millis: float = 30_000) -> bool:
        return self.writer.flush()

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        self.writer.close()


class FileSpanExporter(_WriterBacked, SpanExporter):
    """Spans -> ``traces.jsonl`` (one ``ExportTraceServiceRequest`` per line)."""

    def __init__(self, path: str | os.PathLike[str], *, max_bytes: int | None = None,
                 max_line_bytes: int | None = DEFAULT_MAX_REQUEST_BYTES) -> None:
        self.writer = JsonlWriter(path, spans_message, max_bytes=max_bytes, max_line_bytes=max_line_bytes,
                                  signal="traces", count=len)

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS if self.writer.write(spans) else SpanExportResult.FAILURE


def _temporality_preference() -> dict[type, AggregationTemporality] | None:
    """Honour OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE like the OTLP exporters do."""
    try:
        return temporality_from_env()
    except Exception as exc:  # noqa: BLE001 — cumulative is the safe default
        internal_error("file exporter: metrics temporality", exc)
        return None


class FileMetricExporter(_WriterBacked, MetricExporter):
    """Metrics -> ``metrics.jsonl`` (one ``ExportMetricsServiceRequest`` per line)."""

    def __init__(self, path: str | os.PathLike[str], *, max_bytes: int | None = None,
                 max_line_bytes: int | None = DEFAULT_MAX_REQUEST_BYTES) -> None:
        MetricExporter.__init__(self, preferred_temporality=_temporality_preference())
        self.writer = JsonlWriter(path, metrics_message, max_bytes=max_bytes, max_line_bytes=max_line_bytes,
                                  signal="metrics", count=metric_points)

    def export(self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any) -> MetricExportResult:
        return MetricExportResult.SUCCESS if self.writer.write(metrics_data) else MetricExportResult.FAILURE


class FileLogExporter(_WriterBacked, LogRecordExporter):
    """Log records -> ``logs.jsonl`` (one ``ExportLogsServiceRequest`` per line)."""

    def __init__(self, path: str | os.PathLike[str], *, max_bytes: int | None = None,
                 max_line_bytes: int | None = DEFAULT_MAX_REQUEST_BYTES) -> None:
        self.writer = JsonlWriter(path, logs_message, max_bytes=max_bytes, max_line_bytes=max_line_bytes,
                                  signal="logs", count=len)

    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        return LogRecordExportResult.SUCCESS if self.writer.write(batch) else LogRecordExportResult.FAILURE
