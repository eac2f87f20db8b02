"""SDK overhead: a decorated ``llm_call`` against the same span written by hand, and streams.

Run (from the repository root, with the dev venv)::

    .venv/bin/python benchmarks/sdk_overhead.py                  # 15 rounds
    .venv/bin/python benchmarks/sdk_overhead.py --rounds 5 --calls 5000   # quick look
    .venv/bin/python benchmarks/sdk_overhead.py --profile        # + cProfile of the decorated path

Everything runs in one process, on one TracerProvider (a null exporter behind
the SDK's ``SimpleSpanProcessor``, so ending a span costs what it costs in any
app) and one MeterProvider (an in-memory reader). The response objects are the
real ``openai`` SDK's (``ChatCompletion``, ``ChatCompletionChunk``), built
once, so no HTTP time hides the overhead.

Calls (µs per call):

* ``bare``          the undecorated function (the loop's floor);
* ``manual-attrs``  ``tracer.start_as_current_span`` setting the attributes the
                    decorator sets (request, usage, response, cost from the same
                    per-token prices) — what a user pays for a plain span; the
                    honest baseline;
* ``manual-work``   the same span plus the four metric points the decorator
                    produces (input and output tokens, duration, cost),
                    recorded inline: the same *work*;
* ``decorated``     ``@otel_llm.llm_call(model=..., provider="openai")`` reading
                    usage from the returned ``ChatCompletion`` and pricing it;
                    its metric points are recorded too (checked exactly at the end);
* ``none``          the decorated call after ``configure(exporter="none")``:
                    otel-llm is off and the wrapper calls the function bare;
* ``noop``          the decorated call on OpenTelemetry's no-op providers;
* ``worker-file``   the decorated call as in a worker process with the default
                    file exporter: each span written through to ``traces.jsonl``
                    (encode + one ``write(2)``) when it ends.

Streams (µs added per chunk): a decorated function returning an iterator of
real ``ChatCompletionChunk`` objects (text deltas, a finish chunk, the final
usage chunk of ``stream_options={"include_usage": True}``), sync and async,
against iterating the same chunks bare. The per-chunk figure is the difference
between a long and a short stream, so the per-call cost cancels out:
``((decorated_long - bare_long) - (decorated_short - bare_short)) / extra chunks``.
``floor`` is a minimal hand-written proxy (count chunks, keep the one with
usage) for context.

Clocks: the caller's own CPU time (``time.thread_time_ns``) is what a call
costs the thread that makes it, and is not inflated by other processes on a
shared machine; metric points recorded away from the calls — on otel-llm's
background thread, or by the collection that ends each batch (a busy process
leaves them to it) — show up separately as *off-thread* CPU per call (process
CPU minus the caller's), so nothing moved off the hot path goes uncounted. Rounds are interleaved (the
order rotates and reverses every round); figures are medians of per-round
values, ratios medians of per-round ratios.

Targets: decorated / manual-attrs <= 1.30 (goal 1.10), caller's thread, with
metrics recorded; none / decorated <= 0.05; streams <= 3 µs per chunk (goal 1).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import io
import pstats
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openai.types.chat import ChatCompletion, ChatCompletionChunk
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import NoOpTracerProvider, SpanKind

import otel_llm
from otel_llm import semconv
from otel_llm.exporters._batching import BatchSpanProcessor as DeliveryProcessor
from otel_llm.exporters.file import FileSpanExporter
from otel_llm.pricing import PriceBook

MODEL = "gpt-4o-mini"
RESPONSE_MODEL = "gpt-4o-mini-2024-07-18"
PROVIDER = "openai"
PROJECT = "bench"
RESPONSE = ChatCompletion.model_validate({
    "id": "chatcmpl-bench", "object": "chat.completion", "created": 1_764_000_000, "model": RESPONSE_MODEL,
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "The answer."},
                 "finish_reason": "stop", "logprobs": None}],
    "usage": {"prompt_tokens": 1200, "completion_tokens": 150, "total_tokens": 1350,
              "prompt_tokens_details": {"cached_tokens": 1024}},
})
SHORT_STREAM, LONG_STREAM = 20, 220  # chunks; the difference is what per-chunk figures divide by


def chunks(n: int) -> list[ChatCompletionChunk]:
    """``n`` chunks as OpenAI streams them with include_usage: deltas, the finish chunk, the usage chunk."""
    base = {"id": "chatcmpl-s", "object": "chat.completion.chunk", "created": 1_764_000_000,
            "model": RESPONSE_MODEL, "system_fingerprint": "fp_bench"}
    out = [
        ChatCompletionChunk.model_validate({**base, "choices": [
            {"index": 0, "delta": {"content": f"tok{i} "}, "finish_reason": None, "logprobs": None}]})
        for i in range(n - 2)
    ]
    out.append(ChatCompletionChunk.model_validate({**base, "choices": [
        {"index": 0, "delta": {}, "finish_reason": "stop", "logprobs": None}]}))
    out.append(ChatCompletionChunk.model_validate({**base, "choices": [], "usage": {
        "prompt_tokens": 1200, "completion_tokens": n - 2, "total_tokens": 1200 + n - 2}}))
    return out


class NullSpanExporter(SpanExporter):
    """Accepts every span and only counts it: the cost of exporting is not measured."""

    def __init__(self) -> None:
        self.exported = 0  # lets the setup check that a scenario really records spans

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.exported += len(spans)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return None


class Stream:
    """An iterator over ready chunks, shaped and named as ``openai.Stream`` (which otel-llm proxies as a
    provider stream by its name; a plain list iterator is returned to the app untouched)."""

    def __init__(self, items: list[Any]) -> None:
        self._it = iter(items)

    def __iter__(self) -> "Stream":
        return self

    def __next__(self) -> Any:
        return next(self._it)


class AsyncStream:
    """An async iterator over ready chunks, shaped and named as ``openai.AsyncStream``."""

    def __init__(self, items: list[Any]) -> None:
        self._it = iter(items)

    def __aiter__(self) -> "AsyncStream":
        return self

    async def __anext__(self) -> Any:
        try:
            return next(self._it)
        except StopIteration:
            raise StopAsyncIteration from None


class FloorProxy:
    """The least a stream proxy can do: count chunks and keep the one that carries usage."""

    __slots__ = ("_inner", "count", "usage")

    def __init__(self, inner: Iterator[Any]) -> None:
        self._inner, self.count, self.usage = inner, 0, None

    def __iter__(self) -> "FloorProxy":
        return self

    def __next__(self) -> Any:
        item = next(self._inner)
        self.count += 1
        if item.usage is not None:
            self.usage = item.usage
        return item


def provider_call() -> ChatCompletion:
    """The 'API call': returns a ready OpenAI response (no work to hide overhead)."""
    return RESPONSE


@dataclass(frozen=True)
class Scenario:
    name: str
    call: Callable[[], object]
    activate: Callable[[], None]  # installs the otel-llm runtime this scenario needs
    exports: bool  # whether a call reaches the null exporter (checked before timing)
    decorated_calls: int = 0  # llm_call spans one call makes with metrics on (for the exactness check)


@dataclass
class Bench:
    calls: list[Scenario]
    streams: dict[str, dict[int, Scenario]]  # kind -> stream length -> scenario
    exporter: NullSpanExporter
    reader: InMemoryMetricReader


def build() -> Bench:
    """The providers, the hand-written baselines, the decorated call and the stream scenarios."""
    exporter = NullSpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    tracer = tracer_provider.get_tracer("bench-manual")
    meter = meter_provider.get_meter("bench-manual")
    token_usage = meter.create_histogram("bench.token.usage", unit="{token}")
    duration = meter.create_histogram("bench.operation.duration", unit="s")
    cost_counter = meter.create_counter("bench.cost", unit="USD")

    # The same per-token prices the decorator uses, resolved once, priced by hand.
    rates = PriceBook.load(None).rates(RESPONSE_MODEL, PROVIDER)
    assert rates is not None and rates.input and rates.output and rates.cache_read
    price_in, price_out, price_cached = rates.input.base, rates.output.base, rates.cache_read.base
    source = rates.source
    request_attrs = {
        semconv.OTEL_LLM_KIND: semconv.KIND_LLM_CALL,
        semconv.GEN_AI_OPERATION_NAME: "chat",
        semconv.GEN_AI_PROVIDER_NAME: PROVIDER,
        semconv.GEN_AI_REQUEST_MODEL: MODEL,
        semconv.GEN_AI_REQUEST_TEMPERATURE: 0.2,
        semconv.OTEL_LLM_PROJECT: PROJECT,
    }
    metric_attrs = {
        semconv.GEN_AI_OPERATION_NAME: "chat",
        semconv.GEN_AI_PROVIDER_NAME: PROVIDER,
        semconv.GEN_AI_REQUEST_MODEL: MODEL,
    }
    input_attrs = {**metric_attrs, semconv.GEN_AI_TOKEN_TYPE: "input"}
    output_attrs = {**metric_attrs, semconv.GEN_AI_TOKEN_TYPE: "output"}

    def manual(with_metrics: bool) -> Callable[[], object]:
        def call() -> object:
            started = time.perf_counter()
            with tracer.start_as_current_span(
                f"chat {MODEL}", kind=SpanKind.CLIENT, attributes=request_attrs
            ) as span:
                response = provider_call()
                usage = response.usage
                cached = usage.prompt_tokens_details.cached_tokens
                cost = (
                    (usage.prompt_tokens - cached) * price_in
                    + cached * price_cached
                    + usage.completion_tokens * price_out
                )
                span.set_attributes({
                    semconv.GEN_AI_USAGE_INPUT_TOKENS: usage.prompt_tokens,
                    semconv.GEN_AI_USAGE_OUTPUT_TOKENS: usage.completion_tokens,
                    semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: cached,
                    semconv.GEN_AI_RESPONSE_MODEL: response.model,
                    semconv.GEN_AI_RESPONSE_ID: response.id,
                    semconv.GEN_AI_RESPONSE_FINISH_REASONS: (response.choices[0].finish_reason,),
                    semconv.GEN_AI_USAGE_COST: cost,
                    semconv.OTEL_LLM_COST_SOURCE: source,
                })
                if with_metrics:
                    token_usage.record(usage.prompt_tokens, input_attrs)
                    token_usage.record(usage.completion_tokens, output_attrs)
                    cost_counter.add(cost, metric_attrs)
                    duration.record(time.perf_counter() - started, metric_attrs)
            return response

        return call

    @otel_llm.llm_call(model=MODEL, provider=PROVIDER, temperature=0.2)
    def decorated() -> ChatCompletion:
        return provider_call()

    def configured(**kwargs: object) -> Callable[[], None]:
        return lambda: otel_llm.configure(service_name="bench", project=PROJECT, **kwargs)

    enabled = configured(exporter="none", tracer_provider=tracer_provider, meter_provider=meter_provider)
    # A worker process (forked or multiprocessing child) with the default file exporter
    # writes each span through to traces.jsonl as it ends; "worker-file" is that cost
    # (the file is emptied before each batch of calls so it stays small).
    worker_file = Path(tempfile.mkdtemp(prefix="otel-llm-bench-")) / "traces.jsonl"
    worker_provider = TracerProvider()
    worker_processor = DeliveryProcessor(FileSpanExporter(worker_file), max_queue=2048, max_batch=512,
                                         delay_s=5, local=True)
    worker_processor.batcher.write_through = True  # what a worker process does
    worker_provider.add_span_processor(worker_processor)
    in_worker = configured(exporter="none", tracer_provider=worker_provider, meter_provider=meter_provider)

    def worker_activate() -> None:
        in_worker()
        worker_file.write_bytes(b"")

    calls = [
        Scenario("bare", provider_call, enabled, exports=False),
        Scenario("manual-attrs", manual(with_metrics=False), enabled, exports=True),
        Scenario("manual-work", manual(with_metrics=True), enabled, exports=True),
        Scenario("decorated", decorated, enabled, exports=True, decorated_calls=1),
        Scenario("none", decorated, configured(exporter="none"), exports=False),
        Scenario(
            "noop", decorated,
            configured(exporter="none", tracer_provider=NoOpTracerProvider(), meter_provider=NoOpMeterProvider()),
            exports=False,
        ),
        # exports to its own file; its metric points go to the shared reader
        Scenario("worker-file", decorated, worker_activate, exports=False, decorated_calls=1),
    ]
    return Bench(calls, stream_scenarios(enabled), exporter, reader)


def stream_scenarios(enabled: Callable[[], None]) -> dict[str, dict[int, Scenario]]:
    """Bare, floor and decorated iteration of a short and a long chunk list, sync and async."""

    @otel_llm.llm_call(model=MODEL, provider=PROVIDER)
    def open_stream(items: list[ChatCompletionChunk]) -> Stream:
        return Stream(items)

    @otel_llm.llm_call(model=MODEL, provider=PROVIDER)
    async def open_async_stream(items: list[ChatCompletionChunk]) -> AsyncStream:
        return AsyncStream(items)

    loop = asyncio.new_event_loop()

    async def drain_async(stream: Any) -> None:
        async for _ in stream:
            pass

    def consume(items: list[ChatCompletionChunk]) -> dict[str, Callable[[], object]]:
        return {
            "sync bare": lambda: [c for c in Stream(items)],
            "sync floor": lambda: [c for c in FloorProxy(Stream(items))],
            "sync decorated": lambda: [c for c in open_stream(items)],
            "async bare": lambda: loop.run_until_complete(drain_async(AsyncStream(items))),
            "async decorated": lambda: loop.run_until_complete(
                drain_async(loop.run_until_complete(open_async_stream(items)))
            ),
        }

    by_length = {n: consume(chunks(n)) for n in (SHORT_STREAM, LONG_STREAM)}
    return {
        kind: {
            n: Scenario(f"{kind} x{n}", fns[kind], enabled, exports="decorated" in kind,
                        decorated_calls=int("decorated" in kind))
            for n, fns in by_length.items()
        }
        for kind in by_length[SHORT_STREAM]
    }


def check(scenarios: list[Scenario], exporter: NullSpanExporter) -> None:
    """Fail loudly if a scenario does not measure what its name says."""
    for scenario in scenarios:
        scenario.activate()
        before = exporter.exported
        scenario.call()
        if (exporter.exported > before) != scenario.exports:
            raise SystemExit(f"scenario {scenario.name!r}: exports={not scenario.exports}, expected {scenario.exports}")


@dataclass
class Sample:
    thread_us: float  # the caller thread's CPU per call
    off_thread_us: float  # other threads' CPU per call (otel-llm's metric thread)
    wall_us: float


def time_batch(call: Callable[[], object], calls: int) -> Sample:
    """Per-call CPU of the calling thread, of metric recording elsewhere, and wall time.

    The final ``flush()`` records the points still pending — in an app that is
    the metric thread's or the exporting reader's work, never a call's — so it
    counts as off-thread CPU even though this thread runs it.
    """
    gc.collect()
    otel_llm.flush()  # earlier scenarios' metric points are not charged to this one
    wall, thread, process = time.perf_counter_ns(), time.thread_time_ns(), time.process_time_ns()
    for _ in range(calls):
        call()
    caller = time.thread_time_ns() - thread
    otel_llm.flush()  # ... and this one's are, whichever thread records them
    wall = time.perf_counter_ns() - wall
    process = time.process_time_ns() - process
    return Sample(caller / calls / 1000, max(process - caller, 0) / calls / 1000, wall / calls / 1000)


def run(scenarios: list[Scenario], rounds: int, calls: int) -> dict[str, list[Sample]]:
    """Interleaved rounds: the order rotates by one and flips every round."""
    results: dict[str, list[Sample]] = {s.name: [] for s in scenarios}
    for scenario in scenarios:  # warm-up: price lookups cached, code paths hot
        scenario.activate()
        time_batch(scenario.call, min(calls, 500))
    for r in range(rounds):
        order = scenarios[r % len(scenarios):] + scenarios[: r % len(scenarios)]
        if r % 2:
            order.reverse()
        for scenario in order:
            scenario.activate()
            results[scenario.name].append(time_batch(scenario.call, calls))
    return results


def median(values: list[Sample], field: str) -> float:
    return statistics.median(getattr(v, field) for v in values)


def paired_ratio(results: dict[str, list[Sample]], num: str, den: str, field: str = "thread_us") -> float:
    return statistics.median(getattr(a, field) / getattr(b, field) for a, b in zip(results[num], results[den]))


def report_calls(results: dict[str, list[Sample]], rounds: int, calls: int) -> None:
    print(f"calls: {rounds} rounds x {calls:,} calls, medians of µs/call")
    print(f"  {'scenario':<13} {'caller CPU':>10} {'off-thread':>10} {'wall':>9}   caller CPU min-max")
    for name, values in results.items():
        cpu = [v.thread_us for v in values]
        print(f"  {name:<13} {median(values, 'thread_us'):10.2f} {median(values, 'off_thread_us'):10.2f} "
              f"{median(values, 'wall_us'):9.2f}   ({min(cpu):.2f}-{max(cpu):.2f})")
    total = {name: [Sample(v.thread_us + v.off_thread_us, 0, v.wall_us) for v in vs] for name, vs in results.items()}
    rows = [
        ("decorated / manual-attrs", results, "decorated", "manual-attrs", "caller CPU; target <= 1.30, goal <= 1.10"),
        ("decorated / manual-work", results, "decorated", "manual-work", "caller CPU; same work done inline"),
        ("decorated / manual-attrs", total, "decorated", "manual-attrs", "caller + off-thread CPU"),
        ("none / decorated", results, "none", "decorated", "target <= 0.05"),
        ("noop / decorated", results, "noop", "decorated", "context: no-op providers"),
        ("worker-file / decorated", results, "worker-file", "decorated", "context: a worker process writing through"),
    ]
    print("ratios (median of per-round ratios):")
    for label, source, num, den, note in rows:
        print(f"  {label:<26} {paired_ratio(source, num, den):6.3f}   {note}")


def report_streams(streams: dict[str, dict[int, Scenario]], results: dict[str, list[Sample]], rounds: int,
                   calls: int) -> None:
    extra = LONG_STREAM - SHORT_STREAM
    print(f"streams: {rounds} rounds x {calls:,} streams of {SHORT_STREAM} and {LONG_STREAM} chunks, "
          f"µs added per chunk (caller CPU), medians of per-round values")

    def per_chunk(kind: str, base: str, r: int) -> float:
        def cost(k: str, n: int) -> float:
            return results[streams[k][n].name][r].thread_us
        return ((cost(kind, LONG_STREAM) - cost(base, LONG_STREAM))
                - (cost(kind, SHORT_STREAM) - cost(base, SHORT_STREAM))) / extra

    for kind, base, note in (
        ("sync floor", "sync bare", "context: minimal proxy"),
        ("sync decorated", "sync bare", "target <= 3, goal <= 1"),
        ("async decorated", "async bare", "target <= 3, goal <= 1"),
    ):
        values = [per_chunk(kind, base, r) for r in range(rounds)]
        print(f"  {kind:<16} {statistics.median(values):6.2f} µs/chunk   "
              f"({min(values):.2f}-{max(values):.2f})   {note}")
    print("  per stream (caller CPU, µs, the short stream): "
          + ", ".join(f"{k} {median(results[streams[k][SHORT_STREAM].name], 'thread_us'):.1f}"
                      for k in ("sync bare", "sync decorated", "async bare", "async decorated")))


def verify_metrics(bench: Bench, decorated_calls: int) -> None:
    """Every decorated call's token points are in the reader: the figures include recording them."""
    otel_llm.flush()
    data = bench.reader.get_metrics_data()
    points = [
        p for rm in data.resource_metrics for sm in rm.scope_metrics for m in sm.metrics
        if m.name == semconv.METRIC_TOKEN_USAGE for p in m.data.data_points
        if p.attributes.get(semconv.GEN_AI_TOKEN_TYPE) == "input"
    ] if data else []
    recorded = sum(p.count for p in points)
    status = "exact" if recorded == decorated_calls else "MISMATCH"
    print(f"metrics: {recorded:,} input-token points recorded for {decorated_calls:,} decorated calls ({status})")
    if recorded != decorated_calls:
        raise SystemExit("decorated calls did not all record their metric points")


def profile(scenario: Scenario, calls: int, top: int = 25) -> None:
    """cProfile a scenario: where the time per call goes."""
    scenario.activate()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(calls):
        scenario.call()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    print(f"\ncProfile of '{scenario.name}' ({calls:,} calls), by own time:")
    print(out.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--calls", type=int, default=20_000, help="calls per scenario and round")
    parser.add_argument("--streams", type=int, default=400, help="streams per scenario and round")
    parser.add_argument("--only", choices=("calls", "streams"), help="run one half")
    parser.add_argument("--profile", action="store_true", help="also cProfile the decorated paths")
    args = parser.parse_args()
    bench = build()
    stream_list = [s for by_n in bench.streams.values() for s in by_n.values()]
    check(bench.calls + stream_list, bench.exporter)
    made = sum(s.decorated_calls for s in bench.calls + stream_list)  # by check()
    if args.only != "streams":
        results = run(bench.calls, args.rounds, args.calls)
        report_calls(results, args.rounds, args.calls)
        made += sum(s.decorated_calls * (args.rounds * args.calls + min(args.calls, 500)) for s in bench.calls)
    if args.only != "calls":
        results = run(stream_list, args.rounds, args.streams)
        report_streams(bench.streams, results, args.rounds, args.streams)
        made += sum(s.decorated_calls * (args.rounds * args.streams + min(args.streams, 500)) for s in stream_list)
    verify_metrics(bench, made)
    if args.profile:
        for scenario in [*bench.calls, bench.streams["sync decorated"][LONG_STREAM]]:
            if scenario.name in ("decorated", "none") or "decorated" in scenario.name:
                profile(scenario, args.calls if scenario in bench.calls else args.streams)
    otel_llm.shutdown()


if __name__ == "__main__":
    main()
