"""OTLP exporters that never send a request larger than ``max_request_bytes``.

Spans: upstream's OTLP span exporters (endpoint and env resolution, headers,
TLS, compression, retries with backoff, gRPC reconnection, self-metrics —
reached through :mod:`otel_llm._upstream`, which owns the private names this
needs) sending bytes from the fast wire encoder of :mod:`._otlp_wire`, which
also splits a batch into requests under the bound. The bytes equal upstream's
request once parsed.

Logs: upstream's log exporters behind :class:`BoundedLogExporter`, which
halves a batch until each part fits and cuts the longest strings of a single
record that does not. Metrics: upstream's ``max_export_batch_size`` (data
points per request) keeps requests small.

A span batch refused for good by an HTTP endpoint (4xx other than 408/429) is
marked on the exporter (``refusal``: the status and reason), so the spool can
set it aside, saying why, instead of retrying it; one a live endpoint could not
take now is marked with its answer (``answer``: status and message), so the
spool names it instead of calling the endpoint unreachable. A failed batch
sent in several requests says which were not taken (``undelivered``), and how
many items the failed one carried when it got no answer within the timeout
(``unanswered``): the endpoint may have taken those, so the copy the spool
sends again may be a second one, which the spool says with that count. While
a batch is being sent, ``untaken(batch)`` is its part no request has taken
yet: what the spool keeps when the shutdown deadline comes mid-send.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from opentelemetry.sdk.metrics.export import MetricExporter, MetricExportResult, MetricsData

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExportResult

from otel_llm import _upstream
from otel_llm._content import utf8_safe
from otel_llm._guard import internal_error
from otel_llm._upstream import LogRecordExporter, LogRecordExportResult, ReadableLogRecord
from otel_llm.exporters._answers import plus
from otel_llm.exporters._log_messages import PendingMessage, body_text
from otel_llm.exporters._messages import metric_points
from otel_llm.exporters._metric_parts import joined_metrics, split_metrics
from otel_llm.exporters._otlp_wire import encode_span_requests
from otel_llm.exporters._sizing import DEFAULT_MAX_REQUEST_BYTES, cut_longest, smaller_bound
from otel_llm.exporters._untaken import Untaken

__all__ = ["METRIC_POINTS_PER_REQUEST", "BoundedLogExporter", "GrpcSpanExporter", "HttpSpanExporter",
           "WellFormedMetricExporter"]

# Data points per metric request: a few hundred bytes each, so well under the bound.
METRIC_POINTS_PER_REQUEST = 1000


class _UntakenWhileSending:
    """``untaken(batch)`` of the three exporters: of a batch being sent now, the part no request has taken
    yet (None: not being sent); what the spool keeps when the shutdown deadline comes mid-send."""

    _untaken: Untaken

    def untaken(self, batch: Any) -> Any | None:
        return self._untaken.of(batch)


class _BoundedSpanExport(_UntakenWhileSending):
    """``export`` shared by both transports: encode in requests under the bound, send each."""

    send: Any
    is_shut_down: bool

    def __init__(self, *args: Any, max_request_bytes: int | None = DEFAULT_MAX_REQUEST_BYTES, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_request_bytes = max_request_bytes
        self.refusal: str | None = None  # why the last failed batch was refused for good, if it was
        self.answer: _upstream.Answer | None = None  # what a live endpoint answered to the last failed batch
        self.rejected: _upstream.Rejected | None = None  # the last batch's items rejected in an accepted request
        self.undelivered: Sequence[ReadableSpan] | None = None  # of the last failed batch, the spans not taken
        self.unanswered = 0  # of those, the spans of the request that got no answer in time (maybe taken)
        self._untaken = Untaken()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.refusal = self.answer = self.rejected = self.undelivered = None
        self.unanswered = 0
        if self.is_shut_down:
            return SpanExportResult.FAILURE
        try:
            with self._untaken.sending(spans) as progress:
                taken = self._send_all(spans, self.max_request_bytes, lambda n: progress(lambda: spans[n:]))
        except Exception as exc:  # noqa: BLE001 — our encoder's fault: report, never raise into the SDK
            internal_error("otlp: encoding a span batch", exc)
            return SpanExportResult.FAILURE
        if taken is None:
            return SpanExportResult.SUCCESS
        self.undelivered = spans[taken:]
        return SpanExportResult.FAILURE

    def _send_all(self, spans: Sequence[ReadableSpan], bound: int | None,
                  taken_so_far: Callable[[int], None]) -> int | None:
        """Send ``spans`` in requests of at most ``bound`` bytes, a request answered 413 again in halves;
        None when all were taken, else how many leading spans were (requests go in span order).
        ``taken_so_far`` hears how many leading spans were taken after each request taken."""
        start = 0
        for request, count in encode_span_requests(spans, bound):
            result = self.send(request, count)
            self.rejected = plus(self.rejected, result.rejected)
            smaller = smaller_bound(result.status, len(request))
            if smaller is not None:
                self.max_request_bytes = smaller  # the endpoint's limit: later batches fit it at once
                taken = self._send_all(spans[start:start + count], smaller, lambda n, at=start: taken_so_far(at + n))
                if taken is not None:
                    return start + taken
            elif not result.ok:
                self.refusal, self.answer = result.refusal, result.answer
                self.unanswered = _unanswered(result.answer, count)
                return start
            start += count
            taken_so_far(start)
        return None


class HttpSpanExporter(_BoundedSpanExport, _upstream.http_span_sender()):  # type: ignore[misc]
    """OTLP/HTTP protobuf span exporter; upstream's constructor plus ``max_request_bytes``."""


class GrpcSpanExporter(_BoundedSpanExport, _upstream.grpc_span_sender()):  # type: ignore[misc]
    """OTLP/gRPC span exporter; upstream's constructor plus ``max_request_bytes``."""


class BoundedLogExporter(_UntakenWhileSending, LogRecordExporter):
    """Hands ``inner`` (an OTLP log exporter) batches whose request stays under ``max_request_bytes``."""

    def __init__(self, inner: Any, max_request_bytes: int | None = DEFAULT_MAX_REQUEST_BYTES) -> None:
        self.inner = inner
        self.max_request_bytes = max_request_bytes
        self.undelivered: list[ReadableLogRecord] | None = None  # of the last failed batch, the records not taken
        self.unanswered = 0  # of those, the records of the request that got no answer in time (maybe taken)
        self._untaken = Untaken()

    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        records = [_well_formed_record(record) for record in batch]
        self.rejected: _upstream.Rejected | None = None  # summed over the parts (``inner.rejected``: one part's)
        self.unanswered = 0
        with self._untaken.sending(batch) as progress:
            taken = self._send_all(records, self.max_request_bytes, lambda n: progress(lambda: records[n:]))
        self.undelivered = None if taken is None else records[taken:]
        return LogRecordExportResult.SUCCESS if taken is None else LogRecordExportResult.FAILURE

    def _send_all(self, records: list[ReadableLogRecord], limit: int | None,
                  taken_so_far: Callable[[int], None]) -> int | None:
        """Send ``records`` in requests of at most ``limit`` bytes, a part answered 413 again in halves;
        None when all were taken, else how many leading records were (the parts go in order).
        ``taken_so_far`` hears how many leading records were taken after each part taken."""
        start = 0
        for part in _parts(records, limit):
            if self.inner.export(part) == LogRecordExportResult.SUCCESS:
                self.rejected = plus(self.rejected, getattr(self.inner, "rejected", None))
                start += len(part)
                taken_so_far(start)
                continue
            smaller = smaller_bound(getattr(self.inner, "status", None), _upstream.encode_logs_proto_size(part))
            if smaller is None:
                self.unanswered = _unanswered(getattr(self.inner, "answer", None), len(part))
                return start
            self.max_request_bytes = smaller  # the endpoint's limit: later batches fit it at once
            taken = self._send_all(part, smaller, lambda n, at=start: taken_so_far(at + n))
            if taken is not None:
                return start + taken
            start += len(part)
        return None

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self.inner.force_flush(timeout_millis) is not False

    def shutdown(self, *args: Any, **kwargs: Any) -> None:
        self.inner.shutdown(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:  # the spool reads the inner exporter's endpoint
        return getattr(self.inner, name)


class WellFormedMetricExporter(_UntakenWhileSending, MetricExporter):
    """Hands ``inner`` (an OTLP metric exporter) points whose attributes hold no lone surrogate.

    Upstream's protobuf encoder raises on one (``str.encode("utf-8")``), failing
    every point of the batch; such text is replaced with U+FFFD as in spans and
    logs (see ``_content.utf8_safe``). Same temporality and aggregation as ``inner``.
    """

    def __init__(self, inner: Any, points_per_request: int = METRIC_POINTS_PER_REQUEST) -> None:
        super().__init__(**_upstream.metric_exporter_preferences(inner))
        self.inner = inner
        self.points_per_request = points_per_request
        self.undelivered: MetricsData | None = None  # of the last failed export, the points not taken
        self.unanswered = 0  # of those, the points of the request that got no answer in time (maybe taken)
        self._untaken = Untaken()

    def export(self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any) -> MetricExportResult:
        """Send the points ``points_per_request`` a request, in order; after a failure ``undelivered``
        holds the points of that request and the later ones.

        Split here rather than by upstream's ``max_export_batch_size``: its
        exporter reports the whole export failed when a later request fails,
        so the points of the requests taken before would be spooled and sent
        again -- counted twice.
        """
        self.undelivered, self.unanswered = None, 0
        parts = split_metrics(_well_formed_metrics(metrics_data), self.points_per_request)
        with self._untaken.sending(metrics_data) as progress:
            for index, part in enumerate(parts):
                result = self.inner.export(part, timeout_millis=timeout_millis, **kwargs)
                if result != MetricExportResult.SUCCESS:
                    self.undelivered = part if index == len(parts) - 1 else joined_metrics(parts[index:])
                    self.unanswered = _unanswered(getattr(self.inner, "answer", None), metric_points(part))
                    return result
                progress(lambda after=index + 1: joined_metrics(parts[after:]))
        return MetricExportResult.SUCCESS

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return self.inner.force_flush(timeout_millis) is not False

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        self.inner.shutdown(timeout_millis=timeout_millis, **kwargs)

    def __getattr__(self, name: str) -> Any:  # the spool reads the inner exporter's endpoint and refusal
        return getattr(self.inner, name)


def _unanswered(answer: _upstream.Answer | None, items: int) -> int:
    """``items`` when the failed request's ``answer`` is none within the timeout (the endpoint may have
    taken it: sent again, it may arrive twice), else 0 (answered, or never reached: not taken)."""
    return items if answer is not None and answer.silent else 0


def _well_formed_metrics(data: MetricsData) -> MetricsData:
    """``data``, or a copy whose point and exemplar attributes hold no lone surrogate."""
    points = (point for rm in data.resource_metrics for sm in rm.scope_metrics for metric in sm.metrics
              for point in getattr(metric.data, "data_points", ()) or ())
    if not any(_malformed_point(point) for point in points):
        return data

    def point(p: Any) -> Any:
        if not _malformed_point(p):
            return p
        changes: dict[str, Any] = {"attributes": _well_formed_value(dict(p.attributes or {}))}
        if getattr(p, "exemplars", None):
            changes["exemplars"] = [dataclasses.replace(e, filtered_attributes=_well_formed_value(
                dict(e.filtered_attributes))) if e.filtered_attributes else e for e in p.exemplars]
        return dataclasses.replace(p, **changes)

    def metric(m: Any) -> Any:
        if not hasattr(m.data, "data_points"):
            return m
        return dataclasses.replace(m, data=dataclasses.replace(m.data, data_points=[point(p) for p in m.data.data_points]))

    return dataclasses.replace(data, resource_metrics=[
        dataclasses.replace(rm, scope_metrics=[dataclasses.replace(sm, metrics=[metric(m) for m in sm.metrics])
                                               for sm in rm.scope_metrics])
        for rm in data.resource_metrics])


def _malformed_point(point: Any) -> bool:
    return _malformed(dict(point.attributes or {})) or any(
        _malformed(dict(e.filtered_attributes or {})) for e in getattr(point, "exemplars", None) or ())


def _parts(batch: list[ReadableLogRecord], limit: int | None) -> list[list[ReadableLogRecord]]:
    """``batch`` halved until each part's request fits ``limit``; a single record too large is cut."""
    if not limit or not batch or _surely_fits(batch, limit) or _upstream.encode_logs_proto_size(batch) <= limit:
        return [batch] if batch else []
    if len(batch) == 1:
        return [[_shrink_log_record(batch[0], limit)]]
    half = len(batch) // 2
    return _parts(batch[:half], limit) + _parts(batch[half:], limit)


def _surely_fits(batch: Sequence[ReadableLogRecord], limit: int) -> bool:
    """A cheap upper bound of the request size (4 bytes per character, 256 per record and attribute)."""
    estimate = 0
    for record in batch:
        log = record.log_record
        estimate += 256 + 4 * len(str(log.body or ""))
        for key, value in (log.attributes or {}).items():
            estimate += 256 + 4 * (len(key) + len(str(value)))
        if estimate > limit:
            return False
    return True


def _well_formed_record(record: ReadableLogRecord) -> ReadableLogRecord:
    """``record``, or a copy whose body is formatted (the bridge's pending message, see
    :mod:`._log_messages`) and whose body and attributes hold no lone surrogate (see
    ``_content.utf8_safe``): upstream's protobuf encoder raises on one, failing the whole batch."""
    log = record.log_record
    pending = isinstance(log.body, PendingMessage)
    if not (pending or _malformed(log.body) or any(_malformed(v) for v in (log.attributes or {}).values())):
        return record
    fixed = copy.copy(log)
    fixed.body = body_text(log.body) if pending else _well_formed_value(log.body)
    fixed.attributes = {k: _well_formed_value(v) for k, v in (log.attributes or {}).items()}
    return ReadableLogRecord(log_record=fixed, resource=record.resource,
                             instrumentation_scope=record.instrumentation_scope, limits=record.limits)


def _malformed(value: Any) -> bool:
    """Whether ``value`` (an AnyValue: text, bytes, number, sequence, mapping) holds text UTF-8 cannot carry."""
    if isinstance(value, str):
        return utf8_safe(value) is not value
    if isinstance(value, (list, tuple)):
        return any(_malformed(v) for v in value)
    if isinstance(value, Mapping):
        return any(_malformed(k) or _malformed(v) for k, v in value.items())
    return False


def _well_formed_value(value: Any) -> Any:
    if isinstance(value, str):
        return utf8_safe(value)
    if isinstance(value, (list, tuple)):
        return type(value)(_well_formed_value(v) for v in value)
    if isinstance(value, Mapping):
        return {utf8_safe(str(k)): _well_formed_value(v) for k, v in value.items()}
    return value


def _shrink_log_record(record: ReadableLogRecord, limit: int) -> ReadableLogRecord:
    """``record`` with its body and string attributes cut until its request fits ``limit``."""
    for _ in range(4):
        excess = _upstream.encode_logs_proto_size([record]) - limit
        log = record.log_record
        keys = [k for k, v in (log.attributes or {}).items() if isinstance(v, str)]
        texts = [str(log.attributes[k]) for k in keys]  # type: ignore[index]
        body_is_text = isinstance(log.body, str)
        if excess <= 0 or not (texts or body_is_text):
            return record
        cut = cut_longest(([log.body] if body_is_text else []) + texts, excess + 64)
        shrunk = copy.copy(log)
        if body_is_text:
            shrunk.body, cut = cut[0], cut[1:]
        shrunk.attributes = {**(log.attributes or {}), **dict(zip(keys, cut))}
        record = ReadableLogRecord(log_record=shrunk, resource=record.resource,
                                   instrumentation_scope=record.instrumentation_scope, limits=record.limits)
    return record
