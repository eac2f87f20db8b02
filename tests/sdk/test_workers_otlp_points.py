"""Forked workers' metric points with the OTLP exporter, over HTTP and over gRPC: each process counts its own calls.

A forked worker holds a copy of the parent's aggregations. Exported under the
worker's own ``service.instance.id``, its cumulative series would count the
parent's calls again (3 parent calls and 400 in two workers would count 409, not
403). The file exporter's case is in ``test_workers.py``; here the points take
the OTLP paths: the parent exports directly (protobuf over HTTP, or gRPC), a
``multiprocessing`` worker spools its points and the parent replays them
(OTLP-JSON over HTTP), and a bare ``os.fork()`` child that flushes sends its own
over the protocol configured, on a connection of its own.

Real processes; local endpoints in this process record every request. The sums
of the token and duration histograms received must be those of the calls made
(3 + 400), and no point may arrive twice.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from otel_llm.semconv import (
    GEN_AI_TOKEN_TYPE,
    METRIC_OPERATION_DURATION,
    METRIC_TOKEN_USAGE,
    TOKEN_TYPE_INPUT,
    TOKEN_TYPE_OUTPUT,
)
from tests.support.grpc_server import otlp_grpc_server

from ._http_answers import Answering, serving
from ._spooled import app_env

APP = Path(__file__).with_name("workers_app.py")
PARENT_CALLS, TASKS, CALLS_PER_TASK = 3, 8, 50  # workers_app's call: 10 input and 5 output tokens each

# Two bare os.fork() children, each making its calls and flushing (over the network: not a multiprocessing
# worker) before os._exit. The parent's calls are not exported before the forks (workers_app's are): each
# child's copy holds them not yet collected -- in the metric queue (``_metrics``) or in the aggregations --
# which the child would count again under delta temporality too.
BARE_FORKS_APP = textwrap.dedent("""
    import os, sys
    import otel_llm
    otel_llm.configure(output_dir=sys.argv[1], service_name="forking", logs=False)

    @otel_llm.llm_call(model="gpt-4o", provider="openai")
    def call(i):
        return {"usage": {"prompt_tokens": 10, "completion_tokens": 5}}

    parent_calls, calls_per_child = int(sys.argv[2]), int(sys.argv[3])
    for i in range(parent_calls):
        call(i)
    children = []
    for n in range(2):
        pid = os.fork()
        if pid == 0:
            for i in range(calls_per_child):
                call(i)
            ok = otel_llm.flush(10)
            sys.stdout.write(f"child flush {ok}\\n")
            sys.stdout.flush()
            os._exit(0)
        children.append(pid)
    for pid in children:
        os.waitpid(pid, 0)
    otel_llm.shutdown()
""")


class _Requests:
    """Every metrics export request received, as a dict in protobuf's JSON mapping (camelCase keys)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.metrics: list[dict[str, Any]] = []
        self.via: Counter[str] = Counter()  # how the requests came: "http/protobuf", "http/json", "grpc"
        self.senders: dict[str, set[str]] = {}  # by how: the service.instance.ids of the points that came so

    def add(self, request: dict[str, Any], via: str) -> None:
        with self.lock:
            self.metrics.append(request)
            self.via[via] += 1
            self.senders.setdefault(via, set()).update(
                a["value"]["stringValue"] for rm in request.get("resourceMetrics", [])
                for a in rm["resource"]["attributes"] if a["key"] == "service.instance.id")


def _http_handler(requests: _Requests) -> type[Answering]:
    """Takes every export (200); a metrics request, protobuf (a direct export) or OTLP-JSON (replay), goes to
    ``requests``."""
    from google.protobuf.json_format import MessageToDict
    from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2

    class Handler(Answering):
        def do_POST(self) -> None:  # noqa: N802 — http.server's name
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            if self.path == "/v1/metrics" and body:
                if "json" in (self.headers.get("content-type") or ""):
                    requests.add(json.loads(body), "http/json")
                else:
                    request = metrics_service_pb2.ExportMetricsServiceRequest.FromString(body)
                    requests.add(MessageToDict(request), "http/protobuf")
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

    return Handler


@contextmanager
def _grpc_endpoint(requests: _Requests) -> Iterator[str]:
    from google.protobuf.json_format import MessageToDict
    from opentelemetry.proto.collector.logs.v1 import logs_service_pb2, logs_service_pb2_grpc
    from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2, metrics_service_pb2_grpc
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

    class Traces(trace_service_pb2_grpc.TraceServiceServicer):
        def Export(self, request, context):  # type: ignore[no-untyped-def]  # noqa: N802 — gRPC's name
            return trace_service_pb2.ExportTraceServiceResponse()

    class Logs(logs_service_pb2_grpc.LogsServiceServicer):
        def Export(self, request, context):  # type: ignore[no-untyped-def]  # noqa: N802 — gRPC's name
            return logs_service_pb2.ExportLogsServiceResponse()

    class Metrics(metrics_service_pb2_grpc.MetricsServiceServicer):
        def Export(self, request, context):  # type: ignore[no-untyped-def]  # noqa: N802 — gRPC's name
            requests.add(MessageToDict(request), "grpc")
            return metrics_service_pb2.ExportMetricsServiceResponse()

    with otlp_grpc_server((trace_service_pb2_grpc.add_TraceServiceServicer_to_server, Traces()),
                          (logs_service_pb2_grpc.add_LogsServiceServicer_to_server, Logs()),
                          (metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server, Metrics())) as url:
        yield url


_DELTA = ("AGGREGATION_TEMPORALITY_DELTA", 1)  # protobuf's JSON mapping names it, OTLP-JSON (replay) numbers it
_CUMULATIVE = ("AGGREGATION_TEMPORALITY_CUMULATIVE", 2)


def _points(requests: list[dict[str, Any]], name: str) -> Iterator[tuple[str, str, bool, dict[str, Any]]]:
    """``(service.instance.id, the point's attributes as a key, whether delta, point)`` of each histogram point
    named ``name``."""
    for request in requests:
        for rm in request.get("resourceMetrics", []):
            instance = next(a["value"]["stringValue"] for a in rm["resource"]["attributes"]
                            if a["key"] == "service.instance.id")
            for sm in rm.get("scopeMetrics", []):
                for metric in sm.get("metrics", []):
                    if metric["name"] != name:
                        continue
                    temporality = metric["histogram"].get("aggregationTemporality")
                    assert temporality in _DELTA + _CUMULATIVE, temporality
                    for point in metric["histogram"].get("dataPoints", []):
                        yield instance, json.dumps(point.get("attributes", []), sort_keys=True), temporality in _DELTA, point


def totals(requests: list[dict[str, Any]], name: str) -> Counter[str]:
    """Histogram ``name`` as a backend summing over processes shows it: ``calls`` (its count) and its sum by
    ``gen_ai.token.type`` (``""`` without one). A delta point adds; of a cumulative series (one process, one
    set of attributes, one start) only the last point counts."""
    last: dict[tuple[str, str, str], dict[str, Any]] = {}
    added: list[tuple[str, dict[str, Any]]] = []
    for instance, attributes, delta, point in _points(requests, name):
        if delta:
            added.append((attributes, point))
            continue
        key = (instance, attributes, str(point["startTimeUnixNano"]))
        if key not in last or int(point["timeUnixNano"]) >= int(last[key]["timeUnixNano"]):
            last[key] = point
    added += [(attributes, point) for (_, attributes, _), point in last.items()]
    result: Counter[str] = Counter()
    for attributes, point in added:
        kind = next((a["value"]["stringValue"] for a in json.loads(attributes) if a["key"] == GEN_AI_TOKEN_TYPE), "")
        result["calls"] += int(point["count"])
        result[kind] += float(point.get("sum", 0))
    return result


def received_twice(requests: list[dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    """Points that arrived more than once: same process, series, start and time."""
    seen = Counter((instance, attributes, str(p["startTimeUnixNano"]), str(p["timeUnixNano"]))
                   for name in (METRIC_TOKEN_USAGE, METRIC_OPERATION_DURATION)
                   for instance, attributes, _, p in _points(requests, name))
    return [key for key, n in seen.items() if n > 1]


SCENARIOS = ["pool-fork-close-join", "executor-fork", "bare-fork-os-exit", "bare-forks-flush"]


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("temporality", ["cumulative", "delta"])
@pytest.mark.parametrize("protocol", ["http/protobuf", "grpc"])
def test_forked_workers_otlp_points_count_each_call_once(tmp_path: Path, protocol: str, temporality: str,
                                                         scenario: str) -> None:
    """3 parent calls before the fork and 400 in the workers count 403 calls (and their tokens): not 409
    (the parent's points again under each worker's id), and no point received twice."""
    requests = _Requests()
    with serving(_http_handler(requests)) as http_url, \
            (_grpc_endpoint(requests) if protocol == "grpc" else serving(_http_handler(requests))) as export_url:
        env = {**app_env(), "OTEL_EXPORTER_OTLP_TIMEOUT": "10", "OTEL_LLM_EXPORTER": "otlp",
               "OTEL_EXPORTER_OTLP_PROTOCOL": protocol, "OTEL_EXPORTER_OTLP_ENDPOINT": export_url,
               "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE": temporality,
               "OTEL_LLM_SPOOL_REPLAY_ENDPOINT": http_url, "PARENT_CALLS": str(PARENT_CALLS)}
        if scenario == "bare-forks-flush":
            args = ["-c", BARE_FORKS_APP, str(tmp_path), str(PARENT_CALLS), str(TASKS * CALLS_PER_TASK // 2)]
        else:
            args = [str(APP), scenario, str(tmp_path), str(TASKS), str(CALLS_PER_TASK)]
        proc = subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr
    if scenario == "bare-forks-flush":  # the children sent their points themselves, over the protocol configured
        assert proc.stdout.count("child flush True") == 2, (proc.stdout, proc.stderr)
        assert len(requests.senders[protocol]) == 3, requests.senders  # the parent and each child
    calls = PARENT_CALLS + TASKS * CALLS_PER_TASK
    got = {"calls": totals(requests.metrics, METRIC_OPERATION_DURATION)["calls"],
           "tokens": {k: v for k, v in totals(requests.metrics, METRIC_TOKEN_USAGE).items() if k != "calls"},
           "twice": received_twice(requests.metrics), "via": dict(requests.via)}
    assert got["calls"] == calls, (got, proc.stderr)
    assert got["tokens"] == {TOKEN_TYPE_INPUT: 10.0 * calls, TOKEN_TYPE_OUTPUT: 5.0 * calls}, (got, proc.stderr)
    assert got["twice"] == [], (got, proc.stderr)
