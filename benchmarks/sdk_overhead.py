"""SDK overhead: a decorated ``llm_call`` versus the same span written by hand.

Run (from the repository root, with the dev venv)::

    .venv/bin/python benchmarks/sdk_overhead.py                  # 15 rounds x 20,000 calls
    .venv/bin/python benchmarks/sdk_overhead.py --rounds 5 --calls 5000   # quick look
    .venv/bin/python benchmarks/sdk_overhead.py --profile        # + cProfile of the decorated path

What is compared, in one process, on one TracerProvider (a null exporter behind
the SDK's ``SimpleSpanProcessor``) and one MeterProvider (an in-memory reader
that is never collected, so every ``record`` aggregates but nothing exports):

* ``bare``        the undecorated function (the loop's floor, for context);
* ``manual``      ``tracer.start_as_current_span`` setting the attributes the
                  decorator sets, its two events (``llm.request``,
                  ``llm.response``) and its four metric points, with the cost
                  computed the simple way from the same per-token prices;
* ``manual-attrs`` the same span with the attributes only (no events, no metrics);
* ``decorated``   ``@otel_llm.llm_call(model=..., provider="openai")`` returning
                  an OpenAI-shaped response with usage (extraction + pricing);
* ``none``        the decorated call after ``configure(exporter="none")`` with
                  no providers passed: otel-llm is off (``Runtime.enabled`` is
                  False), the wrapper calls the function bare;
* ``noop``        the decorated call on OpenTelemetry's no-op providers
                  (``configure(tracer_provider=NoOpTracerProvider(), ...)``),
                  which otel-llm also treats as off;
* ``worker-file`` the decorated call as in a worker process with the default
                  file exporter: each span written through to ``traces.jsonl``
                  (encode + one ``write(2)``) when it ends.

Rounds are interleaved (the scenario order rotates and reverses every round)
so drift from the other processes on the machine hits every scenario alike;
figures are medians of per-round µs/call, and ratios are medians of the
per-round ratios. Targets: decorated/manual <= 1.30 (goal 1.10);
none/decorated <= 0.05.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import pstats
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

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
from otel_llm.demo.fake_llm import (
    ChatCompletion,
    ChatCompletionMessage,
    Choice,
    CompletionUsage,
    PromptTokensDetails,
)
from otel_llm.pricing import PriceBook

MODEL = "gpt-4o-mini"
RESPONSE_MODEL = "gpt-4o-mini-2024-07-18"
PROVIDER = "openai"
PROJECT = "bench"
RESPONSE = ChatCompletion(
    id="chatcmpl-bench",
    model=RESPONSE_MODEL,
    created=1_764_000_000,
    choices=[Choice(0, ChatCompletionMessage("The answer."), "stop")],
    usage=CompletionUsage(
        prompt_tokens=1200, completion_tokens=150, total_tokens=1350,
        prompt_tokens_details=PromptTokensDetails(cached_tokens=1024),
    ),
)


class NullSpanExporter(SpanExporter):
    """Accepts every span and only counts it: the cost of exporting is not measured."""

    def __init__(self) -> None:
        self.exported = 0  # lets the setup check that a scenario really records spans

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.exported += len(spans)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return None


def provider_call() -> ChatCompletion:
    """The 'API call': returns a ready OpenAI-shaped response (no work to hide overhead)."""
    return RESPONSE


@dataclass(frozen=True)
class Scenario:
    name: str
    call: Callable[[], object]
    activate: Callable[[], None]  # installs the otel-llm runtime this scenario needs
    exports: bool  # whether a call reaches the null exporter (checked before timing)


def build_scenarios() -> tuple[list[Scenario], NullSpanExporter]:
    """The providers, the hand-written baseline and the decorated call."""
    exporter = NullSpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    tracer = tracer_provider.get_tracer("bench-manual")
    meter = meter_provider.get_meter("bench-manual")
    token_usage = meter.create_histogram(semconv.METRIC_TOKEN_USAGE, unit="{token}")
    duration = meter.create_histogram(semconv.METRIC_OPERATION_DURATION, unit="s")
    cost_counter = meter.create_counter(semconv.METRIC_COST, unit="USD")

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

    def manual(full: bool) -> Callable[[], object]:
        def call() -> object:
            started = time.perf_counter()
            with tracer.start_as_current_span(
                f"chat {MODEL}", kind=SpanKind.CLIENT, attributes=request_attrs
            ) as span:
                if full:
                    span.add_event(semconv.EVENT_LLM_REQUEST, {semconv.GEN_AI_REQUEST_MODEL: MODEL})
                response = provider_call()
                usage = response.usage
                cached = usage.prompt_tokens_details.cached_tokens
                reasons = (response.choices[0].finish_reason,)
                cost = (
                    (usage.prompt_tokens - cached) * price_in
                    + cached * price_cached
                    + usage.completion_tokens * price_out
                )
                span.set_attributes({
                    semconv.GEN_AI_USAGE_INPUT_TOKENS: usage.prompt_tokens,
                    semconv.GEN_AI_USAGE_OUTPUT_TOKENS: usage.completion_tokens,
                    semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: cached,
                    semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: 0,
                    semconv.GEN_AI_RESPONSE_MODEL: response.model,
                    semconv.GEN_AI_RESPONSE_ID: response.id,
                    semconv.GEN_AI_RESPONSE_FINISH_REASONS: reasons,
                    semconv.GEN_AI_USAGE_COST: cost,
                    semconv.OTEL_LLM_COST_SOURCE: source,
                })
                if full:
                    span.add_event(semconv.EVENT_LLM_RESPONSE, {semconv.GEN_AI_RESPONSE_FINISH_REASONS: reasons})
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

    scenarios = [
        Scenario("bare", provider_call, enabled, exports=False),
        Scenario("manual", manual(full=True), enabled, exports=True),
        Scenario("manual-attrs", manual(full=False), enabled, exports=True),
        Scenario("decorated", decorated, enabled, exports=True),
        Scenario("none", decorated, configured(exporter="none"), exports=False),
        Scenario(
            "noop", decorated,
            configured(exporter="none", tracer_provider=NoOpTracerProvider(), meter_provider=NoOpMeterProvider()),
            exports=False,
        ),
        Scenario("worker-file", decorated, worker_activate, exports=False),  # exports to its file
    ]
    return scenarios, exporter


def check(scenarios: list[Scenario], exporter: NullSpanExporter) -> None:
    """Fail loudly if a scenario does not measure what its name says."""
    for scenario in scenarios:
        scenario.activate()
        before = exporter.exported
        scenario.call()
        if (exporter.exported > before) != scenario.exports:
            raise SystemExit(f"scenario {scenario.name!r}: exports={not scenario.exports}, expected {scenario.exports}")


def time_batch(call: Callable[[], object], calls: int) -> float:
    """µs per call over ``calls`` calls (GC settled first, left enabled during)."""
    gc.collect()
    start = time.perf_counter_ns()
    for _ in range(calls):
        call()
    return (time.perf_counter_ns() - start) / calls / 1000


def run(scenarios: list[Scenario], rounds: int, calls: int) -> dict[str, list[float]]:
    """Interleaved rounds: the order rotates by one and flips every round."""
    results: dict[str, list[float]] = {s.name: [] for s in scenarios}
    for scenario in scenarios:  # warm-up: price lookups cached, code paths hot
        scenario.activate()
        time_batch(scenario.call, min(calls, 2000))
    for r in range(rounds):
        order = scenarios[r % len(scenarios):] + scenarios[: r % len(scenarios)]
        if r % 2:
            order.reverse()
        for scenario in order:
            scenario.activate()
            results[scenario.name].append(time_batch(scenario.call, calls))
    return results


def paired_ratio(results: dict[str, list[float]], num: str, den: str) -> float:
    return statistics.median(a / b for a, b in zip(results[num], results[den]))


def report(results: dict[str, list[float]], rounds: int, calls: int) -> None:
    print(f"{rounds} rounds x {calls:,} calls, medians of µs/call (min-max)")
    for name, values in results.items():
        print(f"  {name:<13} {statistics.median(values):8.2f} µs   ({min(values):.2f}-{max(values):.2f})")
    rows = [
        ("decorated / manual", "decorated", "manual", "target <= 1.30, goal <= 1.10"),
        ("decorated / manual-attrs", "decorated", "manual-attrs", "context: baseline without events/metrics"),
        ("none / decorated", "none", "decorated", "target <= 0.05"),
        ("noop / decorated", "noop", "decorated", "context: no-op providers"),
        ("worker-file / decorated", "worker-file", "decorated", "context: a worker process writing through"),
    ]
    print("ratios (median of per-round ratios):")
    for label, num, den, note in rows:
        print(f"  {label:<26} {paired_ratio(results, num, den):6.3f}   {note}")


def profile(scenario: Scenario, calls: int, top: int = 15) -> None:
    """cProfile the decorated path: where the time per call goes."""
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
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--profile", action="store_true", help="also cProfile the decorated path")
    args = parser.parse_args()
    scenarios, exporter = build_scenarios()
    check(scenarios, exporter)
    report(run(scenarios, args.rounds, args.calls), args.rounds, args.calls)
    if args.profile:
        for scenario in scenarios:
            if scenario.name in ("decorated", "none", "noop"):
                profile(scenario, args.calls)
    otel_llm.shutdown()


if __name__ == "__main__":
    main()
