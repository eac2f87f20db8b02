"""A retry is sent only with time left for its answer; else the busy answer stands and the spool sends it later.

Upstream's OTLP/HTTP client retries a busy answer (503) after a backoff when the
backoff fits in what is left of its timeout, and sends the retry with whatever
is left then: with a 1 s timeout and a backoff of 0.8-1.2 s, often a few
milliseconds. The endpoint takes that retry and answers after the client gave
up; the spool, which cannot know it was taken, replays it: the endpoint got its
items twice (~3 runs in 30 with the app on a busy core). A retry that would go
out with less than half the exporter's timeout left is not sent, and the
backoff before it is not waited for: the export ends at once with the busy
answer, and the spool keeps the batch and sends it once, with a whole timeout.

A real local HTTP endpoint: busy (503) at the first request, then taking everything.
"""

from __future__ import annotations

import time
from typing import Any

from opentelemetry.sdk.trace.export import SpanExportResult

from otel_llm.exporters.otlp import HttpSpanExporter

from ._http_answers import Answering, one_span, serving


class _BusyOnce(Answering):
    """Answers the first export 503 Service Unavailable, every later one 200."""

    def answer(self) -> tuple[int, dict[str, str], bytes]:
        if len(self.posts) == 1:
            return 503, {"Content-Type": "text/plain"}, b""
        return 200, {"Content-Type": "application/x-protobuf"}, b""


def _export_once(timeout_s: float, backoff_s: float) -> tuple[SpanExportResult, HttpSpanExporter, float]:
    with serving(_BusyOnce) as url:
        exporter = HttpSpanExporter(endpoint=f"{url}/v1/traces", timeout=timeout_s)
        exporter._client._compute_backoff = lambda retry: backoff_s  # no jitter
        started = time.monotonic()
        result = exporter.export(one_span())
        took = time.monotonic() - started
        exporter.shutdown()
    return result, exporter, took


def test_a_retry_that_would_have_less_than_half_the_timeout_left_is_not_sent_nor_waited_for() -> None:
    result, exporter, took = _export_once(timeout_s=4.0, backoff_s=2.8)  # the retry would have ~1.2 s of 4
    assert _BusyOnce.posts == ["/v1/traces"], _BusyOnce.posts  # sent once: no retry the client would give up on
    assert result is SpanExportResult.FAILURE
    assert exporter.answer is not None and exporter.answer.busy, exporter.answer  # the 503 stands: spooled
    assert exporter.unanswered == 0  # answered: nothing the endpoint may have taken
    assert took < 2.8, took  # the backoff before a retry not sent is not waited for


def test_a_retry_with_half_the_timeout_left_is_sent_after_its_backoff() -> None:
    result, exporter, took = _export_once(timeout_s=4.0, backoff_s=0.3)  # the retry has ~3.7 s of 4
    assert _BusyOnce.posts == ["/v1/traces", "/v1/traces"], _BusyOnce.posts
    assert result is SpanExportResult.SUCCESS, exporter.answer
    assert took >= 0.3, took  # after its backoff


class _ExhaustedOnce:
    """An OTLP gRPC trace service: RESOURCE_EXHAUSTED with a retry delay (``RetryInfo``) at the first
    export, OK afterwards; counts the exports it got."""

    def __init__(self, delay_s: float) -> None:
        self.delay_s, self.calls = delay_s, 0

    def Export(self, request: object, context: object) -> object:  # noqa: N802 — gRPC's name
        import grpc
        from google.protobuf.duration_pb2 import Duration
        from google.rpc.error_details_pb2 import RetryInfo
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

        self.calls += 1
        if self.calls == 1:
            delay = Duration(seconds=int(self.delay_s), nanos=int(self.delay_s % 1 * 1e9))
            context.set_trailing_metadata([("google.rpc.retryinfo-bin", RetryInfo(retry_delay=delay)
                                            .SerializeToString())])
            context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, "queue full")
        return ExportTraceServiceResponse()


def _export_once_grpc(timeout_s: float, delay_s: float) -> tuple[SpanExportResult, Any, int, float]:
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc

    from otel_llm.exporters.otlp import GrpcSpanExporter
    from tests.support.grpc_server import otlp_grpc_server

    service = _ExhaustedOnce(delay_s)
    with otlp_grpc_server((trace_service_pb2_grpc.add_TraceServiceServicer_to_server, service)) as url:
        exporter = GrpcSpanExporter(endpoint=url.removeprefix("http://"), insecure=True, timeout=timeout_s)
        started = time.monotonic()
        result = exporter.export(one_span())
        took = time.monotonic() - started
        exporter.shutdown()
    return result, exporter, service.calls, took


def test_grpc_a_retry_that_would_have_less_than_half_the_timeout_left_is_not_sent_nor_waited_for() -> None:
    result, exporter, calls, took = _export_once_grpc(timeout_s=4.0, delay_s=2.8)
    assert calls == 1, calls
    assert result is SpanExportResult.FAILURE
    assert exporter.answer is not None and exporter.answer.busy, exporter.answer  # RESOURCE_EXHAUSTED stands
    assert took < 2.8, took  # nor waited for


def test_grpc_a_retry_with_half_the_timeout_left_is_sent_after_its_backoff() -> None:
    result, _, calls, took = _export_once_grpc(timeout_s=4.0, delay_s=0.3)
    assert (calls, result) == (2, SpanExportResult.SUCCESS)
    assert took >= 0.3, took  # after its backoff
