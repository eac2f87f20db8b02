"""The upstream OTLP span exporters with the fast wire encoder of :mod:`._otlp_wire`.

Everything but the encoding is upstream's: endpoint and env resolution,
headers, TLS, compression, retries with backoff, gRPC reconnection, the
exporter's self-metrics (reached through :mod:`otel_llm._upstream`, which owns
the private names this needs). Only the bytes are made differently — and equal,
once parsed, to upstream's request.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExportResult

from otel_llm import _upstream
from otel_llm.exporters._otlp_wire import encode_spans

__all__ = ["GrpcSpanExporter", "HttpSpanExporter"]

_log = logging.getLogger("otel_llm.exporters.otlp")


class _FastSpanExport:
    """``export`` shared by both transports: encode with the fast encoder, send the bytes."""

    send: Any
    is_shut_down: bool

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if self.is_shut_down:
            return SpanExportResult.FAILURE
        try:
            data = encode_spans(spans)
        except Exception as error:  # noqa: BLE001 — same contract as upstream: report, don't raise
            _log.error("otel-llm: failed to encode a span batch: %s", error)
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS if self.send(data, len(spans)).ok else SpanExportResult.FAILURE


class HttpSpanExporter(_FastSpanExport, _upstream.http_span_sender()):  # type: ignore[misc]
    """OTLP/HTTP protobuf span exporter; same constructor as upstream's."""


class GrpcSpanExporter(_FastSpanExport, _upstream.grpc_span_sender()):  # type: ignore[misc]
    """OTLP/gRPC span exporter; same constructor as upstream's."""
