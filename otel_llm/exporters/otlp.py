"""The upstream OTLP span exporters with the fast wire encoder of :mod:`._otlp_wire`.

Everything but the encoding is upstream's: endpoint and env resolution,
headers, TLS, compression, retries with backoff, gRPC reconnection, the size
limit, the exporter's self-metrics. Only the bytes are made differently (and
equal, once parsed, to upstream's request). Pinned to opentelemetry-exporter-otlp
1.45.1: the overrides use its private ``_client``, ``_metrics``,
``_max_request_size`` and ``_stub``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as _UpstreamGrpc
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as _UpstreamHttp
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExportResult

from otel_llm.exporters._otlp_wire import encode_spans

__all__ = ["GrpcSpanExporter", "HttpSpanExporter"]

_log = logging.getLogger("otel_llm.exporters.otlp")
_EXPORT_METHOD = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"


class HttpSpanExporter(_UpstreamHttp):
    """OTLP/HTTP protobuf span exporter; same constructor as upstream's."""

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if self._shutdown:
            _log.warning("Exporter already shutdown, ignoring batch")
            return SpanExportResult.FAILURE
        with self._metrics.export_operation(len(spans)) as result:
            try:
                data = encode_spans(spans)
            except Exception as error:  # noqa: BLE001 — same contract as upstream: report, don't raise
                _log.error("Failed to encode span batch: %s", error)
                result.error = error
                return SpanExportResult.FAILURE
            if self._max_request_size and len(data) > self._max_request_size:
                _log.warning("Dropping span batch: serialized size %d bytes exceeds max_request_size %d bytes.",
                             len(data), self._max_request_size)
                return SpanExportResult.FAILURE
            outcome = self._client.export(data)
            if not outcome.success:
                result.error = outcome.error
                return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS


class _BytesTraceStub:
    """A TraceService stub that sends already-serialized requests."""

    def __init__(self, channel: Any) -> None:
        self.Export = channel.unary_unary(  # noqa: N815 — the gRPC method's name
            _EXPORT_METHOD, request_serializer=None, response_deserializer=ExportTraceServiceResponse.FromString
        )


class GrpcSpanExporter(_UpstreamGrpc):
    """OTLP/gRPC span exporter; same constructor as upstream's."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._stub = _BytesTraceStub  # reconnection re-creates the client from this too
        self._client = self._stub(self._channel)

    def _translate_data(self, data: Sequence[ReadableSpan]) -> bytes:  # type: ignore[override]
        return encode_spans(data)
