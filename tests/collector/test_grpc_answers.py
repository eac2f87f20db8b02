"""A gRPC endpoint that answers is not "unreachable": RESOURCE_EXHAUSTED is busy, a live UNAVAILABLE is named.

gRPC says UNAVAILABLE both when no server could be reached (its transport's
"failed to connect to all addresses ...") and when a live server answers it
(a collector whose exporter fails); RESOURCE_EXHAUSTED is the counterpart of
HTTP 429. The app said "collector unreachable" for all three, so an operator
looked for a network fault while the collector was up and saying why.
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
    import sys
    from concurrent import futures
    import grpc
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc as traces
    from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2_grpc as metrics
    code, details, spool = getattr(grpc.StatusCode, sys.argv[1]), sys.argv[2], sys.argv[3]

    class Answer:
        def Export(self, request, context):
            context.abort(code, details)

    server = grpc.server(futures.ThreadPoolExecutor(2))
    traces.add_TraceServiceServicer_to_server(type("T", (Answer, traces.TraceServiceServicer), {})(), server)
    metrics.add_MetricsServiceServicer_to_server(type("M", (Answer, metrics.MetricsServiceServicer), {})(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    import otel_llm
    otel_llm.configure(exporter="otlp", endpoint=f"http://127.0.0.1:{port}", protocol="grpc", spool_dir=spool,
                       service_name="grpc-answers", logs=False, shutdown_timeout_s=1)

""") + ONE_CALL


@pytest.mark.parametrize(("code", "details", "said"), [
    ("RESOURCE_EXHAUSTED", "sending queue is full", "is busy (gRPC RESOURCE_EXHAUSTED: sending queue is full)"),
    ("UNAVAILABLE", "write traces.jsonl: no space left on device",
     "could not take the spans (gRPC UNAVAILABLE: write traces.jsonl: no space left on device)"),
    ("UNAVAILABLE", "", "is busy (gRPC UNAVAILABLE)"),
])
def test_a_grpc_answer_is_said_as_what_it_is(tmp_path: Path, code: str, details: str, said: str) -> None:
    env = app_env(f"http://127.0.0.1:{free_port()}", 1)  # replay finds nobody: only the export's answer speaks
    done = subprocess.run([sys.executable, "-c", APP, code, details, str(tmp_path / "spool")],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    first = next(line for line in done.stderr.splitlines() if "spans" in line)
    assert said in first and "unreachable" not in first, done.stderr


class _Failed:
    """An ``RpcError``'s code and details, as the gRPC exporters see them."""

    def __init__(self, code: str, details: str) -> None:
        import grpc

        self._code, self._details = getattr(grpc.StatusCode, code), details

    def code(self):  # type: ignore[no-untyped-def]
        return self._code

    def details(self) -> str:
        return self._details


def test_a_deadline_after_a_refused_connection_is_still_unreachable() -> None:
    """Upstream retries a refused connection, and the retry may run into the deadline while the channel
    is still connecting: DEADLINE_EXCEEDED. Nobody answered: it must not read as a slow collector."""
    from otel_llm import _upstream

    refused = _upstream.grpc_result(_Failed("UNAVAILABLE", "failed to connect to all addresses; last error: "
                                                           "UNKNOWN: ipv4:127.0.0.1:9: Connection refused"))
    deadline = _upstream.grpc_result(_Failed("DEADLINE_EXCEEDED", "Deadline Exceeded"))
    assert refused.answer is None and deadline.answer is not None and deadline.answer.silent
    assert _upstream._after(refused, deadline).answer is None, "still: nobody listens"
    assert _upstream._after(None, deadline).answer is not None, "a first attempt that timed out: no answer in time"
