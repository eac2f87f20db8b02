"""A local HTTP endpoint that answers every POST as a test says, for the delivery tests."""

from __future__ import annotations

import http.server
import json
import threading
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
    """Takes every export (200) and records the names of the spans each carries: OTLP-JSON (replay) or
    protobuf (a direct export)."""

    names: list[str] = []

    def do_POST(self) -> None:  # noqa: N802 — http.server's name
        from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        if self.path == "/v1/traces" and body and "json" in (self.headers.get("content-type") or ""):
            request = json.loads(body)
            type(self).names += [s["name"] for rs in request.get("resourceSpans", [])
                                 for ss in rs.get("scopeSpans", []) for s in ss.get("spans", [])]
        elif self.path == "/v1/traces":
            message = trace_service_pb2.ExportTraceServiceRequest.FromString(body)
            type(self).names += [s.name for rs in message.resource_spans for ss in rs.scope_spans for s in ss.spans]
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")


@contextmanager
def serving(handler: type[Answering]) -> Iterator[str]:
    """Serve ``handler`` on 127.0.0.1 for the block; yields its base URL."""
    handler.posts = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
