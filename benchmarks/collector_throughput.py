"""Throughput of the collector pipeline: a Python process -> OTLP -> otelcol-llm -> traces.jsonl.

    .venv/bin/python benchmarks/collector_throughput.py            # 100k spans, 3 runs per transport
    .venv/bin/python benchmarks/collector_throughput.py --spans 20000 --runs 5

Needs the built collector (`bash otel_llm/collector/config/build.sh`). For each
transport (OTLP/HTTP protobuf, OTLP/gRPC) and run, a fresh collector starts on
free loopback ports with the shipped otelcol.yaml, and a fresh Python process
creates N spans (llm_call-like attributes) through a BatchSpanProcessor and
the OTLP exporter, then force-flushes. Measured per run:

* end-to-end spans/s: N / (mtime of the collector's traces.jsonl after the
  last write - wall time of the first span). The shipped pipeline has no
  batch processor, so an acknowledged export is already in the file;
* loss: N minus the distinct spans found in the file;
* collector CPU: utime+stime from /proc/<pid>/stat over the same wall time
  (1.0 = one core busy);
* baseline: the same process and spans exported to a null exporter, in the
  same run sequence; ratio = end-to-end / baseline rate.

Medians over the runs are printed. The app's BatchSpanProcessor queue holds
all N spans (``max_queue_size=N``) so the SDK never drops; batch size and
schedule delay are flags.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ATTRIBUTES = {
    "otel_llm.kind": "llm_call",
    "otel_llm.project": "bench",
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o",
    "gen_ai.usage.input_tokens": 1200,
    "gen_ai.usage.output_tokens": 300,
    "gen_ai.usage.cost": 0.006,
}


# --- the app side (runs in a child process: `--app`) ---------------------------
def run_app(protocol: str, endpoint: str, spans: int, batch: int, delay_ms: int, wire: bool = False) -> dict[str, float]:
    """Create ``spans`` spans and flush them; returns wall-clock start and timings.

    ``wire``: otel-llm's exporters (upstream's with the fast wire encoder)
    instead of upstream's OTLP exporters.
    """
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

    exporter: SpanExporter
    if protocol == "null":

        class NullExporter(SpanExporter):
            def export(self, spans: Any) -> SpanExportResult:
                return SpanExportResult.SUCCESS

        exporter = NullExporter()
    elif protocol == "grpc":
        if wire:
            from otel_llm.exporters.otlp import GrpcSpanExporter
        else:
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpanExporter

        exporter = GrpcSpanExporter(endpoint=endpoint, insecure=True)
    else:
        if wire:
            from otel_llm.exporters.otlp import HttpSpanExporter
        else:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpSpanExporter

        exporter = HttpSpanExporter(endpoint=f"{endpoint}/v1/traces")
    provider = TracerProvider(resource=Resource.create({"service.name": "bench"}))
    provider.add_span_processor(
        BatchSpanProcessor(exporter, max_queue_size=spans, max_export_batch_size=batch, schedule_delay_millis=delay_ms)
    )
    tracer = provider.get_tracer("bench")
    wall_start, start = time.time(), time.perf_counter()
    for i in range(spans):
        with tracer.start_as_current_span("chat gpt-4o", attributes=ATTRIBUTES) as span:
            span.set_attribute("bench.i", i)
    created = time.perf_counter()
    provider.force_flush(timeout_millis=600_000)
    flushed = time.perf_counter()
    provider.shutdown()
    return {"wall_start": wall_start, "create_s": created - start, "total_s": flushed - start}


def run_preencoded(protocol: str, endpoint: str, spans: int, batch: int, delay_ms: int) -> dict[str, float]:
    """Transport + collector capacity without the Python encoder: requests are built before timing.

    The same spans are created and protobuf-encoded in batches first (untimed);
    the timed part only sends the ready requests, one at a time, as an exporter
    would (HTTP keep-alive connection or one gRPC channel).
    """
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "bench"}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("bench")
    for i in range(spans):
        with tracer.start_as_current_span("chat gpt-4o", attributes=ATTRIBUTES) as span:
            span.set_attribute("bench.i", i)
    finished = memory.get_finished_spans()
    requests = [encode_spans(finished[i : i + batch]) for i in range(0, spans, batch)]

    if protocol == "grpc":
        import grpc
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2_grpc import TraceServiceStub

        stub = TraceServiceStub(grpc.insecure_channel(endpoint.removeprefix("http://")))
        send = lambda request: stub.Export(request, timeout=30)  # noqa: E731
    else:
        import http.client
        from urllib.parse import urlsplit

        url = urlsplit(endpoint)
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        headers = {"Content-Type": "application/x-protobuf"}

        def send(request: Any) -> None:
            connection.request("POST", "/v1/traces", body=request.SerializeToString(), headers=headers)
            response = connection.getresponse()
            response.read()
            assert response.status == 200, response.status

    wall_start, start = time.time(), time.perf_counter()
    for request in requests:
        send(request)
    return {"wall_start": wall_start, "create_s": 0.0, "total_s": time.perf_counter() - start}


APPS = {
    "upstream": run_app,
    "wire": lambda *args: run_app(*args, wire=True),
    "preencoded": run_preencoded,
}


# --- the harness ------------------------------------------------------------------
def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def spawn_app(protocol: str, endpoint: str, args: argparse.Namespace, mode: str = "upstream") -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--app", mode, protocol, endpoint, str(args.spans), str(args.batch), str(args.delay_ms)],
        check=True, capture_output=True, text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def count_spans(data_dir: Path) -> int:
    ids = set()
    for path in data_dir.glob("traces*.jsonl"):
        with path.open("rb") as f:
            for line in f:
                for rs in json.loads(line)["resourceSpans"]:
                    for ss in rs["scopeSpans"]:
                        ids.update(s["spanId"] for s in ss["spans"])
    return len(ids)


def one_collector_run(protocol: str, args: argparse.Namespace, tmp: Path, mode: str) -> dict[str, float]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from otel_llm.collector import _process

    ports = [_free_port() for _ in range(3)]
    options = _process.CollectorOptions(
        data_dir=tmp / "data",
        grpc_endpoint=f"127.0.0.1:{ports[0]}",
        http_endpoint=f"127.0.0.1:{ports[1]}",
        health_endpoint=f"127.0.0.1:{ports[2]}",
    )
    state = _process.start(options, tmp / "run")
    try:
        cpu_before = cpu_seconds(state.pid)
        port = ports[0] if protocol == "grpc" else ports[1]
        app = spawn_app(protocol, f"http://127.0.0.1:{port}", args, mode)
        cpu_used = cpu_seconds(state.pid) - cpu_before
    finally:
        _process.stop(tmp / "run")
    traces = tmp / "data" / "traces.jsonl"
    elapsed = traces.stat().st_mtime - app["wall_start"]
    return {
        "rate": args.spans / elapsed,
        "loss": args.spans - count_spans(tmp / "data"),
        "cpu": cpu_used / elapsed,
        "app_total_s": app["total_s"],
    }


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--app":
        mode, protocol, endpoint, spans, batch, delay = sys.argv[2:8]
        print(json.dumps(APPS[mode](protocol, endpoint, int(spans), int(batch), int(delay))))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--batch", type=int, default=512, help="BatchSpanProcessor max_export_batch_size")
    parser.add_argument("--delay-ms", type=int, default=200, help="BatchSpanProcessor schedule delay")
    parser.add_argument("--protocols", default="http/protobuf,grpc")
    args = parser.parse_args()

    print(f"{args.spans} spans x {args.runs} runs, batch {args.batch}, delay {args.delay_ms} ms, cpus {os.cpu_count()}")
    for protocol in args.protocols.split(","):
        runs: dict[str, list[dict[str, float]]] = {"upstream": [], "wire": [], "preencoded": []}
        baselines = []
        for run in range(args.runs):  # interleaved: baseline, then each mode
            baselines.append(args.spans / spawn_app("null", "-", args)["total_s"])
            for mode, results in runs.items():
                with tempfile.TemporaryDirectory(prefix="otelcol-bench-") as tmp:
                    results.append(one_collector_run(protocol, args, Path(tmp), mode))
                r = results[-1]
                print(f"  {protocol:13s} {mode:10s} run {run + 1}: {r['rate']:7.0f} spans/s  loss {r['loss']:.0f}  "
                      f"collector cpu {r['cpu']:.2f}")
            print(f"  {protocol:13s} null exporter run {run + 1}: {baselines[-1]:7.0f} spans/s")
        base = statistics.median(baselines)
        for mode, results in runs.items():
            rate = statistics.median(r["rate"] for r in results)
            print(
                f"{protocol:13s} {mode:10s} median: {rate:7.0f} spans/s end to end, "
                f"loss {statistics.median(r['loss'] for r in results):.0f}, "
                f"collector cpu {statistics.median(r['cpu'] for r in results):.2f} core, "
                f"ratio to null-exporter baseline ({base:.0f} spans/s) {rate / base:.2f}"
            )


if __name__ == "__main__":
    main()
