"""``otel_llm.active``: the decorated calls started and not ended, read through the SDK's metric reader."""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable
from typing import Any

import pytest

import otel_llm
from otel_llm import semconv as sc


def counts(cap: Any) -> dict[tuple[str, str], int]:
    """The running-calls gauge's points, by (kind, span name): the process's whole count."""
    data = cap.reader.get_metrics_data()
    if data is None:  # nothing recorded yet
        return {}
    found = [m for rm in data.resource_metrics for sm in rm.scope_metrics for m in sm.metrics
             if m.name == sc.METRIC_ACTIVE]
    if not found:
        return {}
    (metric,) = found
    assert metric.unit == "{call}" and not metric.data.is_monotonic
    return {(p.attributes[sc.OTEL_LLM_KIND], p.attributes[sc.OTEL_LLM_SPAN_NAME]): p.value
            for p in metric.data.data_points if p.value}


@pytest.fixture
def running(cap: Any) -> Callable[[], dict[tuple[str, str], int]]:
    """The calls this test started and did not end: the gauge less what it said as the test began.

    The count is the process's: a call another test left unfinished (a stream it
    never read to its end, still referenced) counts too, and in a pytest-xdist
    worker any test file may have run before this one. Unreferenced leftovers are
    collected first, so what remains does not end during the test.
    """
    gc.collect()
    before = counts(cap)

    def mine() -> dict[tuple[str, str], int]:
        now = counts(cap)
        return {key: n - before.get(key, 0) for key, n in now.items() if n != before.get(key, 0)}

    return mine


def test_a_call_counts_while_it_runs_inside_its_agent_and_not_after(running: Any, response: Any) -> None:
    inside, release = threading.Event(), threading.Event()

    @otel_llm.llm_call(model="test-model", provider="openai")
    def ask() -> dict:
        inside.set()
        release.wait(10)
        return response()

    @otel_llm.agent(name="planner")
    def plan() -> dict:
        return ask()

    worker = threading.Thread(target=plan)
    worker.start()
    try:
        assert inside.wait(10)
        assert running() == {("agent", "invoke_agent planner"): 1, ("llm_call", "chat test-model"): 1}
    finally:
        release.set()
        worker.join(10)
    assert running() == {}


def test_failed_calls_and_streams_end_too(running: Any, response: Any) -> None:
    @otel_llm.llm_call(model="test-model", provider="openai")
    def broken() -> dict:
        raise RuntimeError("boom")

    @otel_llm.llm_call(model="test-model", provider="openai")
    def stream():
        yield "a"
        yield "b"

    with pytest.raises(RuntimeError, match="boom"):
        broken()
    chunks = stream()
    assert next(chunks) == "a"
    assert running() == {("llm_call", "chat test-model"): 1}  # a stream runs until it is consumed
    assert list(chunks) == ["b"]
    assert running() == {}


def test_many_threads_count_exactly(running: Any, response: Any) -> None:
    barrier = threading.Barrier(9)
    release = threading.Event()

    @otel_llm.tool(name="search")
    def search() -> str:
        barrier.wait(10)
        release.wait(10)
        return "ok"

    workers = [threading.Thread(target=search) for _ in range(8)]
    for w in workers:
        w.start()
    try:
        barrier.wait(10)
        assert running() == {("tool", "execute_tool search"): 8}
    finally:
        release.set()
        for w in workers:
            w.join(10)
    assert running() == {}


def test_a_returned_coroutine_never_awaited_does_not_count_as_running(running: Any) -> None:
    """A sync function returning a coroutine the app drops: its work never runs, so no span ends; it was
    counted running forever (``otel-llm running`` showed a call that never was)."""

    async def work() -> None:
        return None

    @otel_llm.llm_call(model="test-model")
    def ask() -> Any:
        return work()

    pending = ask()
    assert running() == {("llm_call", "chat test-model"): 1}  # awaitable: it may still run
    with pytest.warns(RuntimeWarning, match="never awaited"):
        del pending
        gc.collect()
    assert running() == {}


async def test_a_returned_coroutine_dropped_mid_await_counts_out_once(running: Any) -> None:
    """Dropped while suspended, the coroutine's close ends the call: counted out once, not twice."""
    import asyncio

    gate = asyncio.Event()

    async def work() -> None:
        await gate.wait()

    @otel_llm.tool("t")
    def start() -> Any:
        return work()

    @otel_llm.tool("other")
    async def other() -> None:
        await gate.wait()

    busy = asyncio.ensure_future(other())
    await asyncio.sleep(0)  # running: waits at the gate
    pending = start()
    step = pending.send(None)  # started: suspended on the gate
    assert step is not None
    del pending, step
    gc.collect()
    assert running() == {("tool", "execute_tool other"): 1}
    gate.set()
    await busy
    assert running() == {}
