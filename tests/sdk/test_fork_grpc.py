"""A forked child exporting over gRPC: its flush delivers, or what it could not send is said.

gRPC channels do not survive ``fork()``: the child's copy of the parent's
channel belongs to the parent's core threads and polling engine. A bare
``os.fork()`` child that exports (its own metric points, its spans with the
spool off) must either reach the collector over a channel of its own or
count its data lost -- never report a flush that did nothing.

The app runs in a subprocess (the fork hooks are process-wide); a real gRPC
server in this process records what each request carries.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.grpc_server import otlp_grpc_server

from ._spooled import run_app

APP = textwrap.dedent("""
    import os, sys
    import otel_llm
    from opentelemetry import metrics, trace
    endpoint, spool, spool_max_bytes = sys.argv[1], sys.argv[2], int(sys.argv[3])
    otel_llm.configure(exporter="otlp", endpoint=endpoint, protocol="grpc", spool_dir=spool,
                       spool_max_bytes=spool_max_bytes, service_name="forking", logs=False, shutdown_timeout_s=3)
    counter = metrics.get_meter("app").create_counter("app.requests")
    counter.add(1, {"who": "parent"})
    with trace.get_tracer("app").start_as_current_span("parent span"):
        pass
    assert otel_llm.flush(5)  # the parent's channel is connected now
    pid = os.fork()
    if pid == 0:
        counter.add(1, {"who": "child"})
        with trace.get_tracer("app").start_as_current_span("child span"):
            pass
        ok = otel_llm.flush(5)
        sys.stdout.write(f"child flush {ok}\\n")
        sys.stdout.flush()
        os._exit(0)
    os.waitpid(pid, 0)
    counter.add(1, {"who": "parent after"})
    with trace.get_tracer("app").start_as_current_span("parent span after"):
        pass
    otel_llm.flush(5)
    otel_llm.shutdown()
""")

received: list[str] = []
peers: list[tuple[str, str]] = []  # (the client's address, the first item a request carried)


@pytest.fixture
def grpc_endpoint() -> Iterator[str]:
    from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2, metrics_service_pb2_grpc
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

    class Traces(trace_service_pb2_grpc.TraceServiceServicer):
        def Export(self, request, context):  # type: ignore[no-untyped-def]  # noqa: N802 — gRPC's name
            names = [s.name for rs in request.resource_spans for ss in rs.scope_spans for s in ss.spans]
            received.extend(names)
            peers.extend((context.peer(), name) for name in names)
            return trace_service_pb2.ExportTraceServiceResponse()

    class Metrics(metrics_service_pb2_grpc.MetricsServiceServicer):
        def Export(self, request, context):  # type: ignore[no-untyped-def]  # noqa: N802 — gRPC's name
            names = [f"point {a.value.string_value}" for rm in request.resource_metrics
                     for sm in rm.scope_metrics for m in sm.metrics for p in m.sum.data_points
                     for a in p.attributes if a.key == "who"]
            received.extend(names)
            peers.extend((context.peer(), name) for name in names)
            return metrics_service_pb2.ExportMetricsServiceResponse()

    received.clear()
    peers.clear()
    with otlp_grpc_server((trace_service_pb2_grpc.add_TraceServiceServicer_to_server, Traces()),
                          (metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server, Metrics())) as url:
        yield url


@pytest.mark.parametrize("spool_max_bytes", [1 << 20, 0])  # with the spool off the child sends its spans too
def test_a_forked_childs_grpc_flush_delivers_or_says_what_it_lost(tmp_path: Path, grpc_endpoint: str,
                                                                  spool_max_bytes: int) -> None:
    done = run_app(APP, grpc_endpoint, str(tmp_path / "spool"), str(spool_max_bytes))
    assert "child flush True" in done.stdout, (done.stdout, done.stderr)
    assert {"parent span", "parent span after", "point parent", "point parent after"} <= set(received), (
        received, done.stderr)
    if spool_max_bytes:  # the child's spans are spooled (write-through), replayed by the parent over HTTP
        assert "point child" in received, (received, done.stderr)
    else:
        assert {"point child", "child span"} <= set(received), (received, done.stderr)
    child = {peer for peer, name in peers if "child" in name}
    parent = {peer for peer, name in peers if "parent" in name}
    assert child and not child & parent, ("the child's requests go on a connection of its own", peers)
