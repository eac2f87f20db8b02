"""An HTTP 4xx answer that carries an OTLP ``partial_success``: only the rejected items are lost.

Some endpoints answer a request they took in part with 400 and an
``Export*ServiceResponse`` whose ``partial_success`` says how many items they
rejected and why. The rest was accepted: it must be neither sent again nor set
aside. The whole batch went to the dead-letter file as "refused for good".
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from otel_llm.exporters._replay_http import Outcome, post
from otel_llm.exporters.spool import dead_letter_path

from ._http_answers import Answering, serving

MESSAGE = "2 spans have an empty name"


class _Partial(Answering):
    """Answers every export with 400 and a partial_success rejecting 2 items (protobuf, or JSON for JSON)."""

    def answer(self) -> tuple[int, dict[str, str], bytes]:
        if "json" in (self.headers.get("content-type") or ""):
            body = json.dumps({"partialSuccess": {"rejectedSpans": "2", "errorMessage": MESSAGE}}).encode()
            return 400, {"Content-Type": "application/json"}, body
        if self.path.endswith("/logs"):
            logs = logs_service_pb2.ExportLogsPartialSuccess(rejected_log_records=2, error_message=MESSAGE)
            body = logs_service_pb2.ExportLogsServiceResponse(partial_success=logs).SerializeToString()
        else:
            spans = trace_service_pb2.ExportTracePartialSuccess(rejected_spans=2, error_message=MESSAGE)
            body = trace_service_pb2.ExportTraceServiceResponse(partial_success=spans).SerializeToString()
        return 400, {"Content-Type": "application/x-protobuf"}, body


@pytest.fixture
def endpoint() -> Iterator[str]:
    with serving(_Partial) as url:
        yield url


APP = textwrap.dedent("""
    import logging, sys
    import otel_llm
    from opentelemetry import trace
    endpoint, spool = sys.argv[1:3]
    otel_llm.configure(exporter="otlp", endpoint=endpoint, spool_dir=spool, service_name="partial", logs=True,
                       shutdown_timeout_s=3)
    tracer = trace.get_tracer("app")
    for i in range(10):
        with tracer.start_as_current_span(f"span {i}"):
            logging.getLogger("app").warning("record %d", i)
    otel_llm.shutdown()
""")


def test_a_4xx_partial_success_loses_only_the_rejected_items(tmp_path: Path, endpoint: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "PYTEST_"))}
    spool = tmp_path / "spool"
    done = subprocess.run([sys.executable, "-c", APP, endpoint, str(spool)], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "refused" not in done.stderr, done.stderr
    assert f"2 spans lost: rejected by the endpoint" in done.stderr and MESSAGE in done.stderr, done.stderr
    assert "2 log records lost: rejected by the endpoint" in done.stderr, done.stderr
    for signal in ("traces", "logs"):
        assert not dead_letter_path(spool, signal).exists()
        assert not [p for p in (spool / signal).glob("*") if not p.name.startswith(".")], signal
    assert _Partial.posts.count("/v1/traces") == 1 and _Partial.posts.count("/v1/logs") == 1, _Partial.posts


def test_a_replayed_line_answered_with_a_4xx_partial_success_is_delivered(endpoint: str) -> None:
    reply = post(f"{endpoint}/v1/traces", {"Content-Type": "application/json"}, b'{"resourceSpans":[]}')
    assert reply.outcome is Outcome.DELIVERED, reply
    assert reply.rejected is not None and reply.rejected.count == 2 and reply.rejected.message == MESSAGE


class _PartialInProtobuf(_Partial):
    """Answers every export, JSON ones too, with 400 and a protobuf partial_success rejecting 2 spans."""

    def answer(self) -> tuple[int, dict[str, str], bytes]:
        spans = trace_service_pb2.ExportTracePartialSuccess(rejected_spans=2, error_message=MESSAGE)
        return 400, {"Content-Type": "application/x-protobuf"}, trace_service_pb2.ExportTraceServiceResponse(
            partial_success=spans).SerializeToString()


def test_a_replayed_line_answered_in_protobuf_with_a_4xx_partial_success_is_delivered() -> None:
    with serving(_PartialInProtobuf) as url:
        reply = post(f"{url}/v1/traces", {"Content-Type": "application/json"}, b'{"resourceSpans":[]}',
                     signal="traces")
    assert reply.outcome is Outcome.DELIVERED, reply
    assert reply.rejected is not None and reply.rejected.count == 2 and reply.rejected.message == MESSAGE
