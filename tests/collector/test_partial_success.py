"""An endpoint that accepts a request but rejects some of its items (OTLP ``partial_success``).

The OTLP specification: the server answers success with ``partial_success``
saying how many items it rejected and why; it has accepted the rest, which
must not be sent again nor set aside. The rejected items are lost: they must
be counted, with the server's message. The exporters took such an answer for
a plain success and said nothing, so rejected metric points vanished in silence.
"""

from __future__ import annotations

import http.server
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from otel_llm.exporters._spool_segments import segment_files
from otel_llm.exporters.spool import dead_letter_path

from ._apps import ONE_CALL
from ._replay import replay_left_behind
from .conftest import app_env, free_port
from .test_spool import record

MESSAGE = "2 points of gen_ai.client.token.usage have no temporality"

APP = textwrap.dedent("""
    import http.server, sys, threading
    from concurrent import futures
    import grpc
    from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2 as pb, metrics_service_pb2_grpc as rpc
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc as traces
    protocol, spool, message = sys.argv[1:4]
    answer = pb.ExportMetricsServiceResponse(
        partial_success=pb.ExportMetricsPartialSuccess(rejected_data_points=2, error_message=message))

    class Http(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("content-length", 0)))
            body = answer.SerializeToString() if self.path.endswith("/metrics") else b""
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        def log_message(self, *args):
            pass

    class Metrics(rpc.MetricsServiceServicer):
        def Export(self, request, context):
            return answer

    class Traces(traces.TraceServiceServicer):
        def Export(self, request, context):
            from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
            return trace_service_pb2.ExportTraceServiceResponse()

    if protocol == "grpc":
        server = grpc.server(futures.ThreadPoolExecutor(2))
        rpc.add_MetricsServiceServicer_to_server(Metrics(), server)
        traces.add_TraceServiceServicer_to_server(Traces(), server)
        port = server.add_insecure_port("127.0.0.1:0")
        server.start()
    else:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Http)
        port = server.server_address[1]
        threading.Thread(target=server.serve_forever, daemon=True).start()
    import otel_llm
    otel_llm.configure(exporter="otlp", endpoint=f"http://127.0.0.1:{port}", protocol=protocol, spool_dir=spool,
                       service_name="partial", logs=False, shutdown_timeout_s=2)

""") + ONE_CALL


@pytest.mark.parametrize("protocol", ["http/protobuf", "grpc"])
def test_points_rejected_in_an_accepted_request_are_counted_with_the_servers_message(
    tmp_path: Path, protocol: str
) -> None:
    spool = tmp_path / "spool"
    done = subprocess.run([sys.executable, "-c", APP, protocol, str(spool), MESSAGE],
                          env=app_env(f"http://127.0.0.1:{free_port()}", 5), capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    rejected = [line for line in done.stderr.splitlines() if "metric points" in line and "rejected" in line]
    assert rejected and MESSAGE in rejected[0], done.stderr
    assert "2 metric points" in rejected[0], done.stderr
    assert "unreachable" not in done.stderr and "spooled" not in done.stderr, done.stderr
    assert not dead_letter_path(spool, "metrics").exists(), "what the server accepted is not set aside"
    assert segment_files(spool) == [], "nor replayed"


def _partial_answer(encoding: str) -> tuple[str, bytes]:
    """A 200 answer's content type and body rejecting one span with :data:`MESSAGE`, as JSON or protobuf."""
    if encoding == "json":
        partial = {"partialSuccess": {"rejectedSpans": "1", "errorMessage": MESSAGE}}
        return "application/json", json.dumps(partial).encode()
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2 as pb

    answer = pb.ExportTraceServiceResponse(
        partial_success=pb.ExportTracePartialSuccess(rejected_spans=1, error_message=MESSAGE))
    return "application/x-protobuf", answer.SerializeToString()


@pytest.mark.parametrize("encoding", ["json", "protobuf"])  # an endpoint may answer a JSON request in protobuf
def test_a_replayed_request_answered_with_partial_success_counts_the_rejected_and_moves_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], encoding: str
) -> None:
    posted: list[bytes] = []

    class Partial(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 — http.server's naming
            body = self.rfile.read(int(self.headers["Content-Length"]))
            content_type, answer = "application/json", b"{}"
            if body != b"{}":
                posted.append(body)
                content_type, answer = _partial_answer(encoding)
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: object) -> None:
            pass

    spool = tmp_path / "spool"
    replay_left_behind(spool, record(0, size=100, spans=3), Partial, monkeypatch)
    assert len(posted) == 1 and segment_files(spool) == [], "sent once: the rest was accepted"
    assert not dead_letter_path(spool, "traces").exists()
    err = capsys.readouterr().err
    assert "1 span" in err and "rejected" in err and MESSAGE in err, err
