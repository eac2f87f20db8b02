"""Metric points leave the caller's thread, stay exact, and are all there at flush and shutdown."""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, TraceIdRatioBased

import otel_llm
from otel_llm import _core, _metrics, _runtime
from otel_llm import semconv as sc

from tests.sdk.conftest import PRICING  # test-model: 1 USD per 1M input tokens, 2 per 1M output


def response(n_in: int, n_out: int) -> dict[str, Any]:
    return {"id": "r", "model": "test-model", "choices": [{"finish_reason": "stop"}],
            "usage": {"prompt_tokens": n_in, "completion_tokens": n_out}}


class SpyInstrument:
    """Records which thread recorded each point, and whether the decorated call was still running."""

    def __init__(self, in_call: threading.Event) -> None:
        self.points: list[tuple[float, bool]] = []
        self._in_call = in_call

    def record(self, amount: float, attributes: Any = None, context: Any = None) -> None:
        on_caller = threading.current_thread() is threading.main_thread() and self._in_call.is_set()
        self.points.append((amount, on_caller))

    add = record


def test_points_are_recorded_after_the_call_off_its_thread(cap):
    in_call = threading.Event()
    rt = _runtime.current()
    spies = {name: SpyInstrument(in_call) for name in ("token_usage", "operation_duration", "cost")}
    instruments = dataclasses.replace(rt.instruments, **spies)
    saved = _runtime._swap(dataclasses.replace(rt, instruments=instruments), None)
    try:

        @otel_llm.llm_call(model="test-model", provider="openai")
        def ask() -> dict[str, Any]:
            return response(1_000_000, 500_000)

        in_call.set()
        ask()
        in_call.clear()
    finally:
        _runtime._swap(*saved)
    assert all(not spy.points for spy in spies.values())  # nothing recorded inside the call
    instruments.drain()  # what the metric thread or the next collection does
    assert [amount for amount, _ in spies["token_usage"].points] == [1_000_000, 500_000]
    assert [amount for amount, _ in spies["cost"].points] == [pytest.approx(2.0)]
    assert len(spies["operation_duration"].points) == 1
    assert not any(on_caller for spy in spies.values() for _, on_caller in spy.points)


def test_tool_points_are_recorded_after_the_call_off_its_thread(cap):
    """A tool's duration and count, by name and outcome, are recorded like an llm_call's: later, elsewhere."""
    in_call = threading.Event()
    rt = _runtime.current()
    spies = {name: SpyInstrument(in_call) for name in ("tool_duration", "tool_calls")}
    instruments = dataclasses.replace(rt.instruments, **spies)
    saved = _runtime._swap(dataclasses.replace(rt, instruments=instruments), None)
    try:

        @otel_llm.tool("search_web")
        def search(query: str) -> str:
            if query == "boom":
                raise TimeoutError(query)
            return "found"

        @otel_llm.agent("planner")
        def plan() -> None:
            search("q")
            with contextlib.suppress(TimeoutError):
                search("boom")

        in_call.set()
        plan()
        in_call.clear()
    finally:
        _runtime._swap(*saved)
    assert all(not spy.points for spy in spies.values())  # nothing recorded inside the calls
    instruments.drain()
    assert [amount for amount, _ in spies["tool_calls"].points] == [1, 1]
    assert len(spies["tool_duration"].points) == 2
    assert not any(on_caller for spy in spies.values() for _, on_caller in spy.points)
    (agent,) = [s for s in cap.spans() if s.name == "invoke_agent planner"]
    assert agent.attributes[sc.OTEL_LLM_AGENT_TOOL_CALLS] == 2  # the roll-up is the span's: set in the call


def test_the_metric_thread_drains_without_any_collection(cap):
    @otel_llm.graph_node("n")
    def node() -> int:
        return 1

    pending = _runtime.current().instruments._pending
    for _ in range(50):
        node()
    assert wait_until(lambda: not pending)  # drained by the thread, nobody collected
    (point,) = cap.metrics()[sc.METRIC_GRAPH_NODE_DURATION]
    assert point.count == 50


def wait_until(condition: Any, seconds: float = 10.0) -> bool:
    """Poll ``condition`` (a background thread's effect); ``False`` if it never holds."""
    event = threading.Event()
    for _ in range(int(seconds * 20)):
        if condition():
            return True
        event.wait(0.05)
    return condition()


@contextlib.contextmanager
def sampled(sampler: Any) -> Iterator[tuple[InMemorySpanExporter, InMemoryMetricReader]]:
    """otel-llm on a TracerProvider with ``sampler``."""
    exporter, reader = InMemorySpanExporter(), InMemoryMetricReader()
    tracer_provider = TracerProvider(sampler=sampler, shutdown_on_exit=False)
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    meter_provider = MeterProvider(metric_readers=[reader], shutdown_on_exit=False)
    saved = _runtime._swap(None, None)
    otel_llm.configure(exporter="none", tracer_provider=tracer_provider, meter_provider=meter_provider,
                       pricing=PRICING)
    try:
        yield exporter, reader
    finally:
        _, ours = _runtime._swap(*saved)
        if ours is not None:
            ours.shutdown()


def _points(reader: InMemoryMetricReader) -> dict[str, list[Any]]:
    data = reader.get_metrics_data()
    return {m.name: list(m.data.data_points) for rm in data.resource_metrics for sm in rm.scope_metrics
            for m in sm.metrics} if data else {}


async def test_sampled_out_calls_keep_every_metric_point():
    @otel_llm.llm_call(model="test-model", provider="openai")
    def ask(n: int) -> dict[str, Any]:
        return response(n, 2 * n)

    @otel_llm.llm_call(model="test-model", provider="openai")
    async def stream():
        yield "a"
        yield response(10, 20)

    with sampled(ALWAYS_OFF) as (exporter, reader):
        for n in (1, 2, 3):
            ask(n)
        assert [c async for c in stream()][0] == "a"
        assert exporter.get_finished_spans() == ()  # every span sampled out
        points = _points(reader)
    tokens = {p.attributes[sc.GEN_AI_TOKEN_TYPE]: p for p in points[sc.METRIC_TOKEN_USAGE]}
    assert (tokens["input"].count, tokens["input"].sum) == (4, 16)
    assert (tokens["output"].count, tokens["output"].sum) == (4, 32)
    (cost,) = points[sc.METRIC_COST]
    assert cost.value == pytest.approx((16 * 1.0 + 32 * 2.0) / 1e6)
    (duration,) = points[sc.METRIC_OPERATION_DURATION]
    assert duration.count == 4
    (ttft,) = points[sc.METRIC_TIME_TO_FIRST_CHUNK]
    assert ttft.count == 1


def test_partly_sampled_calls_keep_every_metric_point():
    @otel_llm.vector_op("search", collection="docs")
    def search() -> list[int]:
        return [1]

    with sampled(TraceIdRatioBased(0.5)) as (exporter, reader):
        for _ in range(200):
            search()
        exported = len(exporter.get_finished_spans())
        (point,) = _points(reader)[sc.METRIC_VECTOR_OPERATIONS]
    assert 0 < exported < 200
    assert point.value == 200


@pytest.mark.parametrize("end", ["flush", "shutdown"])
def test_file_exporter_holds_every_point_after_flush_or_shutdown(tmp_path: Path, end: str):
    saved = _runtime._swap(None, None)
    try:
        otel_llm.configure(exporter="file", output_dir=tmp_path, pricing=PRICING, logs=False)

        @otel_llm.llm_call(model="test-model", provider="openai")
        def ask(n: int) -> dict[str, Any]:
            return response(n, 1)

        for n in range(1, 301):
            ask(n)
        if end == "flush":
            assert otel_llm.flush()
        else:
            otel_llm.shutdown()
        totals = _token_totals(tmp_path / "metrics.jsonl")
        assert totals == {"input": (300, sum(range(1, 301))), "output": (300, 300)}
    finally:
        otel_llm.shutdown()
        _runtime._swap(*saved)


def _token_totals(path: Path) -> dict[str, tuple[int, int]]:
    """(count, sum) per token type from the last cumulative token-usage point in an OTLP-JSON file."""
    totals: dict[str, tuple[int, int]] = {}
    for line in path.read_text().splitlines():
        for rm in json.loads(line)["resourceMetrics"]:
            for sm in rm["scopeMetrics"]:
                for metric in sm["metrics"]:
                    if metric["name"] != sc.METRIC_TOKEN_USAGE:
                        continue
                    for point in metric["histogram"]["dataPoints"]:
                        attrs = {a["key"]: a["value"]["stringValue"] for a in point["attributes"]
                                 if "stringValue" in a["value"]}
                        totals[attrs[sc.GEN_AI_TOKEN_TYPE]] = (int(point["count"]), int(point["sum"]))
    return totals


def test_a_forked_child_records_its_own_points_on_its_own_thread(cap):
    @otel_llm.graph_node("in-child")
    def node() -> int:
        return 1

    node()  # the parent's point, pending or recorded: never the child's to record
    pid = os.fork()
    if pid == 0:  # the child: only os._exit leaves it, with a code the parent reads
        code = 1
        try:
            pending = _runtime.current().instruments._pending
            start = len(pending)
            for _ in range(20):
                node()
            # start == 0: the parent's queue was not inherited; drained: the child has a metric thread
            code = 0 if start == 0 and wait_until(lambda: not pending) else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    (point,) = cap.metrics()[sc.METRIC_GRAPH_NODE_DURATION]
    assert point.count == 1  # the child's 20 calls are the child's


def test_a_child_forked_while_another_thread_ends_a_call_can_end_its_own(cap):
    """Usage sinks share one lock: a child forked while it was held (by a call ending in another
    thread of the parent) gets a fresh one, or its first llm_call would wait for ever."""

    @otel_llm.llm_call(model="test-model", provider="openai")
    def ask() -> dict[str, Any]:
        return response(3, 4)

    with _core._sink_lock:  # as if a call were ending in another thread at the fork
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                ended = []
                worker = threading.Thread(target=lambda: ended.append(ask()), daemon=True)
                worker.start()
                worker.join(5)
                code = 0 if ended else 2
            finally:
                os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def _record_second(item: tuple[int, int, list[int]], instruments: Any) -> None:
    """A module-level recorder: appends the item's value to the list the item carries."""
    item[2].append(item[1])


def test_a_backlog_past_the_high_water_mark_is_recorded_by_the_caller(cap):
    queue = dataclasses.replace(_runtime.current().instruments)  # a queue no metric thread drains
    recorded: list[int] = []
    high = []
    recorder = _metrics.recorder_index(_record_second)
    for i in range(3 * _metrics.HIGH_WATER):
        queue.submit((recorder, i, recorded))
        high.append(len(queue._pending))
    assert max(high) <= _metrics.HIGH_WATER + 1  # bounded memory
    queue.drain()
    assert recorded == list(range(3 * _metrics.HIGH_WATER))  # nothing dropped, in order


def test_a_finished_call_is_freed_without_the_cycle_collector(cap):
    """Calls are not kept for their metrics, and nothing refers back to them: refcounting frees them.

    Every kind, nested as an agent runs them (roll-ups, tool-call linkage,
    attempts, a stream), so none of them adds a reference cycle.
    """

    @otel_llm.llm_call(model="test-model", provider="openai")
    def ask() -> dict[str, Any]:
        return {**response(3, 4), "choices": [{"finish_reason": "tool_calls", "message": {"tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": "{}"}}]}}]}

    @otel_llm.tool
    def lookup(call: dict[str, Any]) -> str:
        return "ok"

    @otel_llm.vector_op("search", collection="docs")
    def search() -> list[int]:
        return [1]

    @otel_llm.llm_call(model="test-model", provider="openai")
    def stream():
        yield "a"
        yield response(1, 1)

    @otel_llm.graph_node("node")
    def node() -> None:
        search()
        list(stream())

    @otel_llm.agent("planner")
    def plan() -> None:
        message = ask()["choices"][0]["message"]
        with otel_llm.attempt(1):
            lookup(message["tool_calls"][0])
        node()

    @otel_llm.chat
    def turn(question: str) -> str:
        plan()
        return "answer"

    # Calls other tests left alive (a stream still referenced) are not this test's: kept aside, by
    # identity (held here, so no new call can reuse one's address).
    gc.collect()
    before = [o for o in gc.get_objects() if type(o) is _core.Call]
    known = {id(o) for o in before}
    gc.disable()
    try:
        turn("q")
        calls = [o for o in gc.get_objects() if type(o) is _core.Call and id(o) not in known]
    finally:
        gc.enable()
    assert calls == []
    assert cap.span("execute_tool lookup").links  # the linkage ran
    (point,) = [p for p in cap.metrics()[sc.METRIC_TOKEN_USAGE] if p.attributes[sc.GEN_AI_TOKEN_TYPE] == "input"]
    assert point.sum == 4


def test_latency_exemplars_link_to_the_calls_own_span(cap):
    @otel_llm.llm_call(model="test-model", provider="openai")
    def ask() -> dict[str, Any]:
        return response(3, 4)

    with cap.tracer_provider.get_tracer("app").start_as_current_span("request"):
        ask()
        points = cap.metrics()  # collected inside another span: the points keep their own
    own = cap.span("chat test-model").context
    (duration,) = points[sc.METRIC_OPERATION_DURATION]
    assert [(e.trace_id, e.span_id) for e in duration.exemplars] == [(own.trace_id, own.span_id)]
    assert not any(p.exemplars for p in points[sc.METRIC_TOKEN_USAGE] + points[sc.METRIC_COST])


class SpyCounter:
    """A counter that keeps each ``add``: (amount, attributes)."""

    def __init__(self) -> None:
        self.adds: list[tuple[float, dict[str, Any]]] = []

    def add(self, amount: float, attributes: Any = None, context: Any = None) -> None:
        self.adds.append((amount, dict(attributes or {})))


def test_a_drain_adds_each_counter_once_per_attribute_set_and_outcome(cap):
    """Counter points are sums: many calls' increments reach the SDK as one add per attribute set."""
    rt = _runtime.current()
    spies = {"cost": SpyCounter(), "vector_operations": SpyCounter()}
    instruments = dataclasses.replace(rt.instruments, **spies)
    saved = _runtime._swap(dataclasses.replace(rt, instruments=instruments), None)
    try:

        @otel_llm.llm_call(model="test-model", provider="openai")
        def ask(n: int) -> dict[str, Any]:
            return response(n * 1_000_000, 0)

        @otel_llm.vector_op("search", collection="docs")
        def search(fail: bool) -> list[int]:
            if fail:
                raise TimeoutError("slow")
            return [1]

        for n in (1, 2, 3):
            ask(n)
        for fail in (False, True, False, True, False):
            with contextlib.suppress(TimeoutError):
                search(fail)
    finally:
        _runtime._swap(*saved)
    instruments.drain()
    assert [amount for amount, _ in spies["cost"].adds] == [pytest.approx(6.0)]
    by_outcome = {attrs.get(sc.ERROR_TYPE): amount for amount, attrs in spies["vector_operations"].adds}
    assert by_outcome == {None: 3, "TimeoutError": 2}
    assert len(spies["vector_operations"].adds) == 2
    instruments.drain()  # the sums went with their drain
    assert len(spies["cost"].adds) == 1


def test_the_metric_thread_drains_when_the_process_idles_not_while_it_is_busy(cap):
    """A tick drains when the process used under BUSY_SHARE of a core (its own drains not counted) or when woken."""
    clock = {"cpu": 0.0, "thread": 0.0, "wall": 0.0}

    class Clocked(_metrics._Drainer):
        process_cpu = staticmethod(lambda: clock["cpu"])
        thread_cpu = staticmethod(lambda: clock["thread"])
        wall = staticmethod(lambda: clock["wall"])

    drainer = Clocked()
    queue = dataclasses.replace(_runtime.current().instruments)  # a queue no metric thread drains
    drainer._queues.add(queue)
    recorded: list[int] = []

    def record(item: tuple[int, int], instruments: Any) -> None:
        recorded.append(item[1])
        clock["cpu"] += 0.15  # recording costs CPU: the drain's own, charged to the thread
        clock["thread"] += 0.15

    def tick(app_cpu: float, woken: bool = False) -> bool:
        clock["wall"] += _metrics.DRAIN_INTERVAL_S
        clock["cpu"] += app_cpu
        return drainer.tick(woken)

    queue.submit((_metrics.recorder_index(record), 1))
    assert not tick(app_cpu=0.9 * _metrics.DRAIN_INTERVAL_S)  # busy: the points wait
    assert recorded == [] and len(queue._pending) == 1
    assert tick(app_cpu=0.9 * _metrics.DRAIN_INTERVAL_S, woken=True)  # WAKE_AT reached: drained anyway
    assert recorded == [1]
    queue.submit((_metrics.recorder_index(record), 2))
    # The last drain's 0.15 s is the thread's own: the app itself used only 0.01 s, so this tick is idle.
    assert tick(app_cpu=0.01)
    assert recorded == [1, 2]
    queue.submit((_metrics.recorder_index(record), 3))
    assert not tick(app_cpu=0.6 * _metrics.DRAIN_INTERVAL_S)
    assert tick(app_cpu=0.0)
    assert recorded == [1, 2, 3]


def test_pending_points_are_left_alone_by_the_garbage_collector(cap):
    """Queued items are flat tuples of numbers and strings: the collector stops tracking them while young.

    Pending items that referred to spans, kinds or bound methods would be
    tracked containers surviving into the old generation, and the full
    collections they trigger would walk the app's whole heap from its thread.
    """
    rt = _runtime.current()
    instruments = dataclasses.replace(rt.instruments)  # a queue no metric thread drains
    saved = _runtime._swap(dataclasses.replace(rt, instruments=instruments), None)
    try:

        @otel_llm.llm_call(model="test-model", provider="openai")
        def ask() -> dict[str, Any]:
            return response(3, 4)

        @otel_llm.llm_call(model="test-model", provider="openai")
        def stream():
            yield "a"
            yield response(1, 1)

        @otel_llm.tool
        def lookup(call: dict[str, Any]) -> str:
            raise TimeoutError("slow")

        @otel_llm.vector_op("search", collection="docs")
        def search() -> list[int]:
            return [1]

        @otel_llm.graph_node("node")
        def node() -> None:
            ask()
            list(stream())
            search()
            with contextlib.suppress(TimeoutError):
                lookup({"id": "call_1", "type": "function", "function": {"name": "fetch", "arguments": "{}"}})

        node()
    finally:
        _runtime._swap(*saved)
    pending = list(instruments._pending)
    assert len(pending) == 5
    del saved
    gc.collect()
    gc.collect()  # twice: a collection may look at an item before the values it holds
    assert [gc.is_tracked(item) for item in pending] == [False] * 5
    instruments.drain()  # and the items still record every point
    assert cap.metrics()[sc.METRIC_TOOL_CALLS][0].attributes[sc.GEN_AI_TOOL_NAME] == "fetch"
