"""A collector that takes the connection but does not answer in time is not "unreachable".

A slow or hung collector (a long GC pause, a stalled exporter behind it)
accepts the request and says nothing until the exporter's timeout
(``OTEL_EXPORTER_OTLP_TIMEOUT``) runs out. The app said "collector unreachable
at ..." -- the operator checks the network and the port, which are fine. The
notice says that it did not answer in time, and the spans wait in the spool.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ._apps import ONE_CALL
from .conftest import app_env, free_port

APP = textwrap.dedent("""
    import http.server, sys, threading, time
    from concurrent import futures
    import grpc
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc as traces
    protocol, spool = sys.argv[1:3]

    class Http(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            time.sleep(3)
        def log_message(self, *args):
            pass

    class Traces(traces.TraceServiceServicer):
        def Export(self, request, context):
            time.sleep(3)

    if protocol == "grpc":
        server = grpc.server(futures.ThreadPoolExecutor(8))
        traces.add_TraceServiceServicer_to_server(Traces(), server)
        port = server.add_insecure_port("127.0.0.1:0")
        server.start()
    else:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Http)
        server.daemon_threads = True
        port = server.server_address[1]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        if sys.argv[3:] == ["replay-here"]:
            import os
            os.environ["OTEL_LLM_SPOOL_REPLAY_ENDPOINT"] = f"http://127.0.0.1:{port}"
    import otel_llm
    otel_llm.configure(exporter="otlp", endpoint=f"http://127.0.0.1:{port}", protocol=protocol, spool_dir=spool,
                       service_name="slow", logs=False, shutdown_timeout_s=5)
""") + ONE_CALL


@pytest.mark.parametrize("protocol", ["http/protobuf", "grpc"])
def test_a_collector_that_does_not_answer_in_time_is_not_called_unreachable(tmp_path: Path, protocol: str) -> None:
    env = app_env(f"http://127.0.0.1:{free_port()}", 1)  # the exporter waits 1 s for an answer
    done = subprocess.run([sys.executable, "-c", APP, protocol, str(tmp_path / "spool")], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    first = next(line for line in done.stderr.splitlines() if "/traces" in line or "spans" in line)
    assert "did not answer within" in first and "unreachable" not in first, done.stderr


def test_replay_to_a_collector_that_does_not_answer_never_calls_it_unreachable(tmp_path: Path) -> None:
    """The replayer's probe to the same hung collector timed out too, and the exit notice said "collector
    unreachable at ..." after all."""
    env = app_env("", 1)
    done = subprocess.run([sys.executable, "-c", APP, "http/protobuf", str(tmp_path / "spool"), "replay-here"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "did not answer within" in done.stderr and "unreachable" not in done.stderr, done.stderr
