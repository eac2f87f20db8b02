"""SDK batches -> OTLP-JSON export requests (dicts), with upstream's JSON encoders.

One definition for the file exporters and the spool, which store the same
lines. ``None`` stands for an empty request (nothing to write).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from opentelemetry.exporter.otlp.json.common.metrics_encoder import encode_metrics
from opentelemetry.sdk.metrics.export import MetricsData
from opentelemetry.sdk.trace import ReadableSpan

from otel_llm._upstream import ReadableLogRecord, encode_logs_json
from otel_llm.exporters._json_spans import spans_request
from otel_llm.exporters._log_messages import with_text_bodies

__all__ = ["logs_message", "metric_points", "metrics_message", "spans_message"]


def spans_message(spans: Sequence[ReadableSpan]) -> dict[str, Any] | None:
    """Built directly (:mod:`._json_spans`): equal to upstream's ``encode_spans(spans).to_dict()``, ~5x faster."""
    return spans_request(spans)


def metrics_message(data: MetricsData) -> dict[str, Any] | None:
    request = encode_metrics(data)
    return request.to_dict() if request.resource_metrics else None


def logs_message(batch: Sequence[ReadableLogRecord]) -> dict[str, Any] | None:
    """The bridge's pending messages are formatted here, on the export side (see :mod:`._log_messages`)."""
    request = encode_logs_json(with_text_bodies(batch))
    return request.to_dict() if request.resource_logs else None


def metric_points(data: MetricsData) -> int:
    """Data points in a metrics batch: what a failed export of it loses."""
    return sum(
        len(getattr(metric.data, "data_points", ()) or ())
        for rm in data.resource_metrics
        for sm in rm.scope_metrics
        for metric in sm.metrics
    )
