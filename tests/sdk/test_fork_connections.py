"""A forked child sent its exports over the parent's pooled HTTP connection.

After a fork the child holds a copy of the parent's keep-alive connection in
upstream's HTTP client: the child's metric export (a bare ``os.fork()`` worker
exports its points itself) and, with the spool off, its spans too went out on
the very socket the parent uses. Two processes writing requests and reading
answers on one TCP connection mix them up: one reads the other's answer, a
request whose answer was taken times out and is sent again (delivered twice),
interleaved writes are refused as malformed. A child now opens connections of
its own; the parent's stay the parent's.
Run in a subprocess: the fork hooks are process-wide.
"""

from __future__ import annotations

import http.server
import textwrap
from pathlib import Path

import pytest

from ._http_answers import _carried, serving
from ._spooled import run_app

APP = textwrap.dedent("""
    import os, sys
    import otel_llm
    from opentelemetry import metrics, trace
    endpoint, spool, spool_max_bytes = sys.argv[1], sys.argv[2], int(sys.argv[3])
    otel_llm.configure(exporter="otlp", endpoint=endpoint, spool_dir=spool, spool_max_bytes=spool_max_bytes,
                       service_name="forking", logs=False, shutdown_timeout_s=3)
    counter = metrics.get_meter("app").create_counter("app.requests")
    counter.add(1, {"who": "parent"})
    with trace.get_tracer("app").start_as_current_span("parent span"):
        pass
    assert otel_llm.flush(5)  # the parent's connections are open and pooled now
    sys.stdout.write("forking\\n")
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        counter.add(1, {"who": "child"})
        with trace.get_tracer("app").start_as_current_span("child span"):
            pass
        otel_llm.flush(5)
        os._exit(0)
    os.waitpid(pid, 0)
    counter.add(1, {"who": "parent after"})
    otel_llm.flush(5)
    otel_llm.shutdown()
""")


class _KeepAlive(http.server.BaseHTTPRequestHandler):
    """Takes every export on keep-alive connections (HTTP/1.1, as a collector); notes, per request,
    the client port it came from and what it carries."""

    protocol_version = "HTTP/1.1"
    seen: list[tuple[int, list[str]]] = []
    posts: list[str] = []

    def do_POST(self) -> None:  # noqa: N802 — http.server's name
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        carried = _carried(self.path, body, "json" in (self.headers.get("content-type") or ""))
        type(self).seen.append((self.client_address[1], carried))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.parametrize("spool_max_bytes", [1 << 20, 0])  # with the spool off the child sends its spans too
def test_a_forked_child_never_sends_on_the_parents_connection(tmp_path: Path, spool_max_bytes: int) -> None:
    _KeepAlive.seen = []
    with serving(_KeepAlive) as url:  # type: ignore[arg-type]
        done = run_app(APP, url, str(tmp_path / "spool"), str(spool_max_bytes))
    seen = list(_KeepAlive.seen)
    parents = {port for port, carried in seen if any("parent" in item for item in carried)}
    childs = {port for port, carried in seen if any("child" in item for item in carried)}
    assert childs, (seen, done.stderr)  # the child's data arrived
    assert not parents & childs, (seen, done.stderr)


URLLIB3_APP = textwrap.dedent("""
    import os, sys
    from opentelemetry.exporter.http.transport._urllib3 import Urllib3HTTPTransport
    from otel_llm.exporters.otlp import HttpSpanExporter
    exporter = HttpSpanExporter(endpoint=sys.argv[1] + "/v1/traces", _transport=Urllib3HTTPTransport())
    assert exporter.send(b"", 0).ok  # the parent's connection is open and pooled now
    pid = os.fork()
    if pid == 0:
        os._exit(0 if exporter.send(b"", 0).ok else 1)
    assert os.waitpid(pid, 0)[1] == 0
    assert exporter.send(b"", 0).ok
""")


def test_a_forked_child_opens_its_own_connection_over_upstreams_urllib3_transport() -> None:
    _KeepAlive.seen = []
    with serving(_KeepAlive) as url:  # type: ignore[arg-type]
        done = run_app(URLLIB3_APP, url)
    ports = [port for port, _ in _KeepAlive.seen]
    assert len(ports) == 3, (ports, done.stderr)
    parent, child, parent_again = ports
    assert parent == parent_again and child != parent, ports
