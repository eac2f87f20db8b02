"""otel-llm against the other OpenAI instrumentations, on one real ``openai`` client.

Setup and run (from the repository root; the peers live only in ``.bench-venv``)::

    bash benchmarks/setup_peers.sh
    .bench-venv/bin/python benchmarks/peers.py                   # 9 rounds
    .bench-venv/bin/python benchmarks/peers.py --rounds 3 --calls 100   # quick look

What is measured: the time a call of the real ``openai`` client (``OpenAI`` /
``AsyncOpenAI``, sync and async, plain and ``stream=True`` with
``stream_options={"include_usage": True}``) gains from each instrumentation.
The client talks to an ``httpx.MockTransport`` that answers at once with a
ready chat completion (or its SSE stream of ``STREAM_CHUNKS`` content chunks,
the finish chunk and the usage chunk), so the SDK's own request building and
response parsing are in every figure and no network is.

Fairness:

* one worker process per configuration (instrumentors patch the ``openai``
  classes for the whole process), each with the same setup: a global SDK
  ``TracerProvider`` with a ``SimpleSpanProcessor`` and a counting exporter,
  and a global ``MeterProvider`` with an in-memory reader; prompt and
  completion capture off wherever the peer has a switch for it;
* interleaved rounds: in each round every worker, in a rotating order, runs a
  batch of each call kind, while the others wait; figures are medians over
  rounds of (configuration - ``bare``) in the same round;
* before timing, every configuration must prove it records: each call must
  produce a span carrying the response's token count (``PROMPT_TOKENS``); a
  configuration that records nothing is reported *invalid*, never fast. The
  table also says whether it records metric points.

Clocks: the caller's own CPU time (``time.thread_time``; what the call costs
the thread that makes it, insensitive to other processes' load) and the whole
process's CPU time (all threads: work moved to background threads — otel-llm's
metric points, batch processors — is counted there).

Configurations (``--only`` picks some): ``bare``, ``otel-llm`` (the documented
``@otel_llm.llm_call`` around the client call), ``openai-v2`` (upstream
``opentelemetry-instrumentation-openai-v2``), ``openllmetry``
(``opentelemetry-instrumentation-openai``), ``openinference``
(``openinference-instrumentation-openai``), ``openlit`` and ``langfuse``
(``langfuse.openai`` drop-in client) when installed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

MODEL = "gpt-4o-mini"
RESPONSE_MODEL = "gpt-4o-mini-2024-07-18"
PROMPT_TOKENS = 1234  # the count every valid configuration's span must carry
STREAM_CHUNKS = 50
KINDS = ("plain sync", "plain async", "stream sync", "stream async")
CONFIGS = ("bare", "otel-llm", "openai-v2", "openllmetry", "openinference", "openlit", "langfuse")
MESSAGES = [{"role": "user", "content": "What does OTLP stand for?"}]


# --- the mock OpenAI API ------------------------------------------------------------------


def completion_body() -> bytes:
    return json.dumps({
        "id": "chatcmpl-peers", "object": "chat.completion", "created": 1_764_000_000, "model": RESPONSE_MODEL,
        "system_fingerprint": "fp_peers",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "OpenTelemetry Protocol."},
                     "finish_reason": "stop", "logprobs": None}],
        "usage": {"prompt_tokens": PROMPT_TOKENS, "completion_tokens": 5, "total_tokens": PROMPT_TOKENS + 5,
                  "prompt_tokens_details": {"cached_tokens": 1024}},
    }).encode()


def stream_body() -> bytes:
    base = {"id": "chatcmpl-peers", "object": "chat.completion.chunk", "created": 1_764_000_000,
            "model": RESPONSE_MODEL, "system_fingerprint": "fp_peers"}
    events = [{**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                    "finish_reason": None}]}]
    events += [{**base, "choices": [{"index": 0, "delta": {"content": f"tok{i} "}, "finish_reason": None}]}
               for i in range(STREAM_CHUNKS)]
    events.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    events.append({**base, "choices": [], "usage": {
        "prompt_tokens": PROMPT_TOKENS, "completion_tokens": STREAM_CHUNKS, "total_tokens": PROMPT_TOKENS + STREAM_CHUNKS}})
    return b"".join(b"data: " + json.dumps(e).encode() + b"\n\n" for e in events) + b"data: [DONE]\n\n"


def clients(openai_module: Any) -> tuple[Any, Any]:
    """A sync and an async client of ``openai_module`` on an in-process mock transport."""
    import httpx

    plain, streamed = completion_body(), stream_body()

    def handler(request: httpx.Request) -> httpx.Response:
        if b'"stream":true' in request.content.replace(b" ", b""):
            return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=streamed)
        return httpx.Response(200, headers={"content-type": "application/json"}, content=plain)

    options = {"api_key": "sk-bench", "base_url": "http://openai.bench/v1", "max_retries": 0}
    return (
        openai_module.OpenAI(http_client=httpx.Client(transport=httpx.MockTransport(handler)), **options),
        openai_module.AsyncOpenAI(http_client=httpx.AsyncClient(transport=httpx.MockTransport(handler)), **options),
    )


# --- a worker: one configuration in its own process -------------------------------------------


class CountingExporter:
    """Counts spans, and spans that carry the response's token count."""

    def __init__(self) -> None:
        self.spans = 0
        self.with_tokens = 0

    def export(self, spans: Sequence[Any]) -> Any:
        from opentelemetry.sdk.trace.export import SpanExportResult

        for span in spans:
            self.spans += 1
            if any(_carries_tokens(k, v) for k, v in (span.attributes or {}).items()):
                self.with_tokens += 1
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def _carries_tokens(key: str, value: Any) -> bool:
    """The prompt token count as an attribute, or inside a JSON usage attribute (Langfuse)."""
    if "token" in key and value == PROMPT_TOKENS:
        return True
    if "usage" in key and isinstance(value, str) and str(PROMPT_TOKENS) in value:
        try:
            return PROMPT_TOKENS in json.loads(value).values()
        except (ValueError, AttributeError):
            return False
    return False


@dataclass
class Calls:
    """The four call kinds of one configuration: each returns when the call (and its stream) is done."""

    plain_sync: Callable[[], Any]
    plain_async: Callable[[], Any]  # coroutine functions
    stream_sync: Callable[[], Any]
    stream_async: Callable[[], Any]


def _raw_calls(client: Any, aclient: Any) -> Calls:
    def plain_sync() -> Any:
        return client.chat.completions.create(model=MODEL, messages=MESSAGES)

    async def plain_async() -> Any:
        return await aclient.chat.completions.create(model=MODEL, messages=MESSAGES)

    def stream_sync() -> Any:
        return client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True,
                                              stream_options={"include_usage": True})

    async def stream_async() -> Any:
        return await aclient.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True,
                                                     stream_options={"include_usage": True})

    return Calls(plain_sync, plain_async, stream_sync, stream_async)


def setup(config: str, tracer_provider: Any, meter_provider: Any) -> Calls:
    """Instrument the way each project documents it; return the calls to time."""
    os.environ.update({
        "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "false",  # otel-llm, openai-v2
        "TRACELOOP_TRACE_CONTENT": "false",  # OpenLLMetry
        "OPENINFERENCE_HIDE_INPUTS": "true", "OPENINFERENCE_HIDE_OUTPUTS": "true",  # OpenInference
    })
    import openai

    if config == "openai-v2":
        from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor

        OpenAIInstrumentor().instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)
    elif config == "openllmetry":
        from opentelemetry.instrumentation.openai import OpenAIInstrumentor as LLMetry

        LLMetry().instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)
    elif config == "openinference":
        from openinference.instrumentation.openai import OpenAIInstrumentor as OpenInference

        OpenInference().instrument(tracer_provider=tracer_provider)
    elif config == "openlit":
        import openlit
        from openlit._instrumentors import get_all_instrumentors

        prices = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)  # no pricing download
        json.dump({"chat": {MODEL: {"promptPrice": 0.00015, "completionPrice": 0.0006},
                            RESPONSE_MODEL: {"promptPrice": 0.00015, "completionPrice": 0.0006}}}, prices)
        prices.close()
        openlit.init(capture_message_content=False, pricing_json=prices.name, disable_events=True,
                     disabled_instrumentors=[name for name in get_all_instrumentors() if name != "openai"])
    elif config == "langfuse":
        from langfuse import Langfuse
        from langfuse.openai import openai as langfuse_openai

        Langfuse(public_key="pk-lf-bench", secret_key="sk-lf-bench", host="http://langfuse.bench",
                 tracer_provider=tracer_provider, span_exporter=_NullExporter())
        openai = langfuse_openai  # noqa: F811 — the drop-in client is how Langfuse instruments OpenAI
    client, aclient = clients(openai)
    calls = _raw_calls(client, aclient)
    if config == "otel-llm":
        import otel_llm

        otel_llm.configure(exporter="none", tracer_provider=tracer_provider, meter_provider=meter_provider)
        decorate = otel_llm.llm_call(model=MODEL, provider="openai")
        calls = Calls(*(decorate(fn) for fn in (calls.plain_sync, calls.plain_async,
                                                calls.stream_sync, calls.stream_async)))
    return calls


class _NullExporter:
    def export(self, spans: Sequence[Any]) -> Any:
        from opentelemetry.sdk.trace.export import SpanExportResult

        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def batch(calls: Calls, kind: str, n: int, loop: asyncio.AbstractEventLoop) -> None:
    """``n`` calls of ``kind``, streams consumed to the end."""
    if kind == "plain sync":
        for _ in range(n):
            calls.plain_sync()
    elif kind == "stream sync":
        for _ in range(n):
            for _chunk in calls.stream_sync():
                pass
    elif kind == "plain async":
        async def run() -> None:
            for _ in range(n):
                await calls.plain_async()
        loop.run_until_complete(run())
    else:
        async def run() -> None:
            for _ in range(n):
                async for _chunk in await calls.stream_async():
                    pass
        loop.run_until_complete(run())


def worker(config: str) -> None:
    """Serve batches on stdin/stdout (JSON lines) until stdin closes."""
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # anything an instrumentation prints goes to stderr, not into the protocol
    from opentelemetry import metrics, trace
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    exporter, reader = CountingExporter(), InMemoryMetricReader()
    resource = Resource.create({"service.name": f"peers-{config}"})
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))  # type: ignore[arg-type]
    meter_provider = MeterProvider(resource=resource, metric_readers=[reader])
    trace.set_tracer_provider(tracer_provider)
    metrics.set_meter_provider(meter_provider)
    loop = asyncio.new_event_loop()
    try:
        calls = setup(config, tracer_provider, meter_provider)
        validity = verify(config, calls, exporter, reader, tracer_provider, loop)
    except Exception as exc:  # noqa: BLE001 — reported as an invalid configuration, not a crash
        protocol.write(json.dumps({"ready": False, "why": f"{type(exc).__name__}: {exc}"}) + "\n")
        return
    protocol.write(json.dumps({"ready": True, **validity}) + "\n")
    for line in sys.stdin:
        request = json.loads(line)
        batch(calls, request["kind"], 5, loop)  # warm: the same code paths hot in every configuration
        wall, thread, process = time.perf_counter_ns(), time.thread_time_ns(), time.process_time_ns()
        batch(calls, request["kind"], request["calls"], loop)
        tracer_provider.force_flush()
        meter_provider.force_flush()  # metric points recorded off the thread are charged to this batch
        n = request["calls"] * 1000
        protocol.write(json.dumps({
            "thread_us": (time.thread_time_ns() - thread) / n,
            "process_us": (time.process_time_ns() - process) / n,
            "wall_us": (time.perf_counter_ns() - wall) / n,
        }) + "\n")


def verify(config: str, calls: Calls, exporter: CountingExporter, reader: Any, tracer_provider: Any,
           loop: asyncio.AbstractEventLoop, n: int = 10) -> dict[str, Any]:
    """Does every call produce a span with the response's token count? Any metric points at all?"""
    problems = []
    for kind in KINDS:
        before_spans, before_tokens = exporter.spans, exporter.with_tokens
        batch(calls, kind, n, loop)
        tracer_provider.force_flush()
        spans, with_tokens = exporter.spans - before_spans, exporter.with_tokens - before_tokens
        if config == "bare":
            continue
        if with_tokens < n:
            problems.append(f"{kind}: {with_tokens}/{n} calls produced a span with tokens ({spans} spans)")
    data = reader.get_metrics_data()
    points = sum(len(m.data.data_points) for rm in data.resource_metrics for sm in rm.scope_metrics
                 for m in sm.metrics) if data else 0
    return {"valid": not problems, "problems": problems, "metrics": points > 0}


# --- the orchestrator --------------------------------------------------------------------------


@dataclass
class Worker:
    config: str
    process: subprocess.Popen[str]
    hello: dict[str, Any]

    def run(self, kind: str, calls: int) -> dict[str, float]:
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(json.dumps({"kind": kind, "calls": calls}) + "\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        self.process.wait(timeout=60)


def start(config: str) -> Worker:
    process = subprocess.Popen(
        [sys.executable, __file__, "--worker", config], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL, text=True,
    )
    assert process.stdout
    line = process.stdout.readline()
    hello = json.loads(line) if line else {"ready": False, "why": "worker exited during setup"}
    return Worker(config, process, hello)


def installed(config: str) -> bool:
    module = {"openai-v2": "opentelemetry.instrumentation.openai_v2", "openllmetry": "opentelemetry.instrumentation.openai",
              "openinference": "openinference.instrumentation.openai", "openlit": "openlit",
              "langfuse": "langfuse", "otel-llm": "otel_llm"}.get(config)
    if module is None:
        return True
    import importlib.util

    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--calls", type=int, default=200, help="plain calls per batch (streams: a quarter)")
    parser.add_argument("--only", nargs="*", choices=CONFIGS, help="configurations besides bare")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker)
        return
    wanted = ["bare", *[c for c in CONFIGS[1:] if not args.only or c in args.only]]
    workers: list[Worker] = []
    skipped: dict[str, str] = {}
    for config in wanted:
        if not installed(config):
            skipped[config] = "not installed"
            continue
        w = start(config)
        if not w.hello.get("ready"):
            skipped[config] = f"setup failed: {w.hello.get('why')}"
            w.close()
            continue
        if not w.hello["valid"]:
            skipped[config] = "INVALID (records no token usage): " + "; ".join(w.hello["problems"])
            w.close()
            continue
        workers.append(w)
    samples: dict[tuple[str, str], list[dict[str, float]]] = {(w.config, k): [] for w in workers for k in KINDS}
    for r in range(args.rounds):
        order = workers[r % len(workers):] + workers[: r % len(workers)]
        kinds = KINDS[r % len(KINDS):] + KINDS[: r % len(KINDS)]
        for w in order if r % 2 == 0 else list(reversed(order)):
            for kind in kinds:
                n = args.calls if kind.startswith("plain") else max(args.calls // 4, 1)
                samples[(w.config, kind)].append(w.run(kind, n))
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)
    for w in workers:
        w.close()
    report(workers, samples, skipped, args)


def report(workers: list[Worker], samples: dict[tuple[str, str], list[dict[str, float]]],
           skipped: dict[str, str], args: argparse.Namespace) -> None:
    load = os.getloadavg()
    print(f"peers: {args.rounds} rounds, {args.calls} plain calls / {max(args.calls // 4, 1)} streams of "
          f"{STREAM_CHUNKS} chunks per batch; load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")

    def added(config: str, kind: str, field: str) -> float:
        pairs = zip(samples[(config, kind)], samples[("bare", kind)])
        return statistics.median(a[field] - b[field] for a, b in pairs)

    for field, title in (("thread_us", "caller's thread CPU"), ("process_us", "process CPU, all threads")):
        print(f"\nµs added per call ({title}), median of per-round differences from bare:\n")
        print("| instrumentation | " + " | ".join(KINDS) + " | metrics |")
        print("|---|" + "---:|" * len(KINDS) + "---|")
        bare = [statistics.median(s[field] for s in samples[("bare", k)]) for k in KINDS]
        print("| bare (µs per call) | " + " | ".join(f"{v:.0f}" for v in bare) + " | — |")
        for w in workers[1:]:
            cells = " | ".join(f"{added(w.config, k, field):+.0f}" for k in KINDS)
            print(f"| {w.config} | {cells} | {'yes' if w.hello['metrics'] else 'no'} |")
    if skipped:
        print()
        for config, why in skipped.items():
            print(f"- {config}: {why}")


if __name__ == "__main__":
    main()
