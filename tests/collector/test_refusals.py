"""An endpoint that refuses a batch for good is named as such for every signal and transport.

A real app process exports to a real OTLP endpoint (HTTP, or gRPC) that answers
every log and metric request (and every span request) with a permanent refusal
-- HTTP 400 or gRPC INVALID_ARGUMENT, what a collector answers for data it
cannot parse. The user must read "refused for good ... (the status)" with the
dead-letter file, for spans, log records and metric points alike -- never
"collector unreachable", and nothing retried in a loop.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from concurrent import futures
from pathlib import Path

import pytest

from .conftest import app_env
from .test_spool import FakeCollector

APP = textwrap.dedent("""
    import logging, sys
    import otel_llm
    from opentelemetry import metrics, trace
    endpoint, protocol, spool = sys.argv[1:4]
    otel_llm.configure(exporter="otlp", endpoint=endpoint, protocol=protocol, spool_dir=spool, logs=True,
                       service_name="refused")
    logging.getLogger("app").warning("a poison record the endpoint refuses")
    metrics.get_meter("app").create_counter("app.poison").add(1)
    with trace.get_tracer("app").start_as_current_span("a poison span the endpoint refuses"):
        pass
    otel_llm.shutdown()
""")

SIGNALS = {"traces": "span", "logs": "log record", "metrics": "metric point"}


class RefusingGrpcEndpoint:
    """OTLP/gRPC on loopback answering INVALID_ARGUMENT to every export."""

    def __init__(self) -> None:
        import grpc

        self.requests = 0
        owner = self

        def refuse(request: bytes, context: grpc.ServicerContext) -> bytes:
            owner.requests += 1
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "cannot parse the request")

        services = [f"opentelemetry.proto.collector.{s}.v1.{s.capitalize()}Service" for s in ("trace", "logs", "metrics")]
        handlers = [grpc.method_handlers_generic_handler(name, {"Export": grpc.unary_unary_rpc_method_handler(refuse)})
                    for name in services]
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4), handlers=handlers)
        port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()
        self.url = f"http://127.0.0.1:{port}"


@pytest.fixture
def http_endpoint() -> Iterator[FakeCollector]:
    """Answers 400 Bad Request to every request of the app: each holds the word "poison"."""
    endpoint = FakeCollector()
    yield endpoint
    endpoint.close()


@pytest.fixture
def grpc_endpoint() -> Iterator[RefusingGrpcEndpoint]:
    endpoint = RefusingGrpcEndpoint()
    yield endpoint
    endpoint.server.stop(None)


def run(endpoint_url: str, protocol: str, tmp_path: Path, replay_base: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", APP, endpoint_url, protocol, str(tmp_path / "spool")],
                          env=app_env(replay_base, 5), capture_output=True, text=True, timeout=60)


def assert_refused_for_good(done: subprocess.CompletedProcess[str], spool: Path, status: str) -> None:
    assert done.returncode == 0, done.stderr
    refused = [line for line in done.stderr.splitlines() if "refused for good" in line]
    for signal, unit in SIGNALS.items():
        said = [line for line in refused if f" {unit}" in line and f"{signal}.dead-letter" in line]
        assert len(said) == 1 and status in said[0], (signal, done.stderr)
        assert (spool / f"{signal}.dead-letter").read_text().strip(), signal  # kept, not lost
    assert "unreachable" not in done.stderr, done.stderr
    assert "answers again" not in done.stderr, done.stderr


def test_http_400_for_logs_and_metrics_reads_as_for_spans(http_endpoint: FakeCollector, tmp_path: Path) -> None:
    done = run(http_endpoint.url, "http/protobuf", tmp_path, http_endpoint.url)
    assert_refused_for_good(done, tmp_path / "spool", "HTTP 400 Bad Request")
    assert http_endpoint.requests <= 6 and http_endpoint.received == []  # each batch asked once, none retried


def test_grpc_invalid_argument_is_a_refusal_not_an_outage(grpc_endpoint: RefusingGrpcEndpoint, tmp_path: Path) -> None:
    done = run(grpc_endpoint.url, "grpc", tmp_path, "http://127.0.0.1:9")  # replay would go nowhere
    assert_refused_for_good(done, tmp_path / "spool", f"{grpc_endpoint.url[len('http://'):]}: gRPC INVALID_ARGUMENT")
    assert grpc_endpoint.requests <= 6  # each batch asked once: a refusal is not retried
