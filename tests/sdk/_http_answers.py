"""A local HTTP endpoint that answers every POST as a test says, for the delivery tests."""

from __future__ import annotations

import http.server
import json
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


class Answering(http.server.BaseHTTPRequestHandler):
    """Reads each POST, notes its path in ``posts`` and sends what :meth:`answer` returns."""

    posts: list[str] = []

    def answer(self) -> tuple[int, dict[str, str], bytes]:
        """``(status, headers, body)`` for the request just read."""
        raise NotImplementedError

    def do_POST(self) -> None:  # noqa: N802 — http.server's name
        self.rfile.read(int(self.headers.get("content-length", 0)))
        type(self).posts.append(self.path)
        status, headers, body = self.answer()
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


class Recording(Answering):
    """Takes every export (200) and records what it carries in ``names``: span names and log record
    bodies, from OTLP-JSON (replay) or protobuf (a direct export). ``limit``: a larger body is answered
    413 Payload Too Large and not recorded (a proxy's ``client_max_body_size``)."""

    names: list[str] = []
    limit: int | None = None
    busy_at: int | None = None  # the n-th export of each signal (counting from 1) is answered 503
    encodings: list[tuple[str, str]] = []  # of each POST, its path and "json" (a replay) or "protobuf" (direct)

    def do_POST(self) -> None:  # noqa: N802 — http.server's name
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        is_json = "json" in (self.headers.get("content-type") or "")
        type(self).posts.append(self.path)
        type(self).encodings.append((self.path, "json" if is_json else "protobuf"))
        if self.limit is not None and len(body) > self.limit:
            self._send(413, b"request entity too large")
            return
        if self.busy_at is not None and type(self).posts.count(self.path) == self.busy_at:
            self._send(503, b"")
            return
        type(self).names += _carried(self.path, body, is_json)
        self._send(200, b"{}")

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json" if status == 200 else "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Delaying(Recording):
    """Answers each export as :meth:`answer_for` says: 200 (taken, recorded in ``names``) or another status
    (not taken), after some seconds. An exporter that gave up waiting has closed the connection by then."""

    def answer_for(self, carried: list[str], is_json: bool) -> tuple[int, float]:
        """``(status, seconds before answering)`` for the request just read, which carries ``carried``."""
        return 200, 0.0

    def do_POST(self) -> None:  # noqa: N802 — http.server's name
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        type(self).posts.append(self.path)
        is_json = "json" in (self.headers.get("content-type") or "")
        carried = _carried(self.path, body, is_json)
        status, wait = self.answer_for(carried, is_json)
        if status == 200:
            type(self).names += carried
        time.sleep(wait)
        try:
            self._send(status, b"{}" if status == 200 else b"")
        except OSError:  # the exporter gave up waiting and closed the connection
            pass


def _carried(path: str, body: bytes, is_json: bool) -> list[str]:
    """Span names (``/v1/traces``), log record bodies (``/v1/logs``) or data points (``/v1/metrics``) in one
    export request."""
    from google.protobuf.json_format import MessageToDict
    from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
    from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

    kinds = {"/v1/traces": trace_service_pb2.ExportTraceServiceRequest,
             "/v1/logs": logs_service_pb2.ExportLogsServiceRequest,
             "/v1/metrics": metrics_service_pb2.ExportMetricsServiceRequest}
    if path not in kinds or not body:
        return []
    request = json.loads(body) if is_json else MessageToDict(kinds[path].FromString(body))
    if path == "/v1/traces":
        return [s["name"] for rs in request.get("resourceSpans", []) for ss in rs.get("scopeSpans", [])
                for s in ss.get("spans", [])]
    if path == "/v1/metrics":  # one entry per data point: the metric's name and the point's attributes
        return [f"{m['name']} {json.dumps(p.get('attributes', []), sort_keys=True)}"
                for rm in request.get("resourceMetrics", []) for sm in rm.get("scopeMetrics", [])
                for m in sm.get("metrics", []) for kind in ("sum", "gauge", "histogram")
                for p in m.get(kind, {}).get("dataPoints", [])]
    return [r.get("body", {}).get("stringValue", "") for rl in request.get("resourceLogs", [])
            for sl in rl.get("scopeLogs", []) for r in sl.get("logRecords", [])]


@contextmanager
def serving(handler: type[Answering], tls: ssl.SSLContext | None = None) -> Iterator[str]:
    """Serve ``handler`` on 127.0.0.1 for the block (over TLS with ``tls``, a server context); yields its
    base URL."""
    handler.posts = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def recording(limit: int | None = None, busy_at: int | None = None) -> Iterator[str]:
    """Serve :class:`Recording`, emptied, with ``limit`` and ``busy_at`` for the block; yields its base URL."""
    Recording.names, Recording.limit, Recording.busy_at, Recording.encodings = [], limit, busy_at, []
    try:
        with serving(Recording) as url:
            yield url
    finally:
        Recording.limit = Recording.busy_at = None


def one_span() -> tuple:
    """One finished span (``span 0``), as the SDK hands an exporter its batch."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    memory = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(memory))
    with tracer_provider.get_tracer("app").start_as_current_span("span 0"):
        pass
    return memory.get_finished_spans()
