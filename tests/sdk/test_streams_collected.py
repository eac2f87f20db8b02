"""A stream abandoned in a reference cycle is ended without touching the context while the collector runs.

CPython's cyclic garbage collector runs inside whatever allocation triggers it,
including the allocations of a ``ContextVar.set``/``reset`` (OpenTelemetry's
``attach``/``detach``). A finaliser that sets or resets a context variable there
changes the very context mapping that operation is rebuilding: the process
crashes (a segmentation fault in ``hamt.c``; reproduced with CPython 3.11).
An abandoned stream's span used to be ended from its proxy's ``__del__``, with
the span's context attached (and span processors run, which attach their own).
So while the collector runs, otel-llm only notes the abandonment (a
``queue.SimpleQueue``, safe in finalisers) and ends the span at the next safe
point — the next decorated call, or otel-llm's background thread — at the time
it was abandoned.
"""

from __future__ import annotations

import contextvars
import gc
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import StatusCode

import otel_llm
from otel_llm import _metrics
from otel_llm import semconv as sc
from tests.sdk.test_active import counts
from tests.sdk.test_streams import ProviderStream, openai_chunks


@pytest.fixture
def context_touched_while_collecting(monkeypatch) -> Iterator[list[str]]:
    """The context operations that ran while the cyclic collector ran."""
    touched: list[str] = []
    collecting = [False]

    def phase(name: str, info: Any) -> None:
        collecting[0] = name == "start"

    runtime = otel_context._RUNTIME_CONTEXT  # under every attach/detach, the SDK's processors' too
    real_attach, real_detach = runtime.attach, runtime.detach

    def attach(ctx: Any) -> Any:
        if collecting[0]:
            touched.append("attach")
        return real_attach(ctx)

    def detach(token: Any) -> None:
        if collecting[0]:
            touched.append("detach")
        real_detach(token)

    monkeypatch.setattr(runtime, "attach", attach)
    monkeypatch.setattr(runtime, "detach", detach)
    gc.collect()  # what earlier tests left to collect is theirs: only this test's collections are watched
    gc.callbacks.append(phase)
    try:
        yield touched
    finally:
        gc.callbacks.remove(phase)


def _abandon_in_a_cycle(stream: Any) -> int:
    """Read one item, leave ``stream`` in a reference cycle, collect; the time it was abandoned (ns)."""
    next(stream)
    cycle: list[Any] = [stream]
    cycle.append(cycle)
    del stream, cycle
    before = time.time_ns()
    gc.collect()
    return before


def test_a_generator_abandoned_in_a_cycle_ends_at_the_next_call(cap, context_touched_while_collecting):
    finally_ran: list[bool] = []

    @otel_llm.tool("pages")
    def pages() -> Iterator[int]:
        try:
            yield 1
            yield 2
        finally:
            finally_ran.append(True)

    @otel_llm.tool("next_call")
    def next_call() -> None:
        return None

    abandoned = _abandon_in_a_cycle(pages())
    collected = time.time_ns()
    assert context_touched_while_collecting == []
    assert finally_ran == [True]  # the generator was closed by the collector, as it would be bare
    next_call()
    span = cap.span("execute_tool pages")
    assert span.attributes[sc.OTEL_LLM_STREAM_COMPLETE] is False
    assert span.attributes[sc.OTEL_LLM_STREAM_CHUNKS] == 1
    assert abandoned <= span.end_time <= collected  # when it was abandoned, not when it was ended


def test_a_provider_stream_abandoned_in_a_cycle_ends_on_the_background_thread(cap, context_touched_while_collecting):
    @otel_llm.llm_call(model="test-model", provider="openai")
    def ask() -> ProviderStream:
        return ProviderStream(openai_chunks("abc"))

    _abandon_in_a_cycle(ask())
    assert context_touched_while_collecting == []
    _metrics._drainer.tick(True)  # otel-llm's background thread, one tick (it ticks every DRAIN_INTERVAL_S)
    assert cap.span("chat test-model").attributes[sc.OTEL_LLM_STREAM_CHUNKS] == 1


@pytest.mark.parametrize(("wrapper", "stream"), [("with_raw_response", True), ("with_streaming_response", False)])
def test_a_raw_response_abandoned_in_a_cycle_ends_at_the_next_call(
    cap, context_touched_while_collecting, wrapper, stream
):
    from tests.sdk.test_raw_responses import _ask

    response = _ask(wrapper, stream)()  # a raw stream response never parsed; a response manager never entered
    cycle: list[Any] = [response]
    cycle.append(cycle)
    del response, cycle
    gc.collect()
    assert context_touched_while_collecting == []
    end_deferred_at_next_call = otel_llm.tool("next_call")(lambda: None)
    end_deferred_at_next_call()
    assert cap.span("chat gpt-4o-mini").end_time is not None


def test_a_decorated_call_made_while_the_collector_runs_runs_bare(cap, context_touched_while_collecting):
    """A decorated tool called from the ``finally`` of a generator the collector closes: it runs,
    without a span (a span would attach contexts inside the collector)."""
    cleaned: list[str] = []

    @otel_llm.tool("cleanup")
    def cleanup() -> None:
        cleaned.append("done")

    def pages() -> Iterator[int]:
        try:
            yield 1
            yield 2
        finally:
            cleanup()

    _abandon_in_a_cycle(pages())
    assert cleaned == ["done"]
    assert context_touched_while_collecting == []
    cleanup()  # outside the collector: recorded as ever
    assert len([s for s in cap.spans() if s.name == "execute_tool cleanup"]) == 1


def test_a_collection_running_in_another_thread_leaves_this_threads_calls_recorded(cap):
    """The collector's hazard is the thread it runs in (its finalisers): while another thread's collection
    waits in a finaliser (here on an event; a metrics thread's collection, preempted, alike), the calls of
    this thread are recorded. They ran bare, without a word, for as long as that collection lasted."""
    in_finaliser, release = threading.Event(), threading.Event()

    class Waits:
        def __del__(self) -> None:
            in_finaliser.set()
            release.wait(10)

    def collect_in_a_thread() -> None:
        cycle: list[Any] = [Waits()]
        cycle.append(cycle)
        del cycle
        gc.collect()

    @otel_llm.tool("lookup")
    def lookup() -> int:
        return 1

    collector = threading.Thread(target=collect_in_a_thread)
    collector.start()
    try:
        assert in_finaliser.wait(10)
        assert lookup() == 1
    finally:
        release.set()
        collector.join(10)
    assert len([s for s in cap.spans() if s.name == "execute_tool lookup"]) == 1


class _Suspend:
    """An awaitable that suspends its coroutine once (what an event loop's future does)."""

    def __await__(self) -> Any:
        yield "suspended"


def _suspended_fetch(cleaned: list[int]) -> Any:
    """A decorated sync function's returned coroutine, stepped once in a context of its own (a task's) and
    suspended mid-await; ``cleaned`` gets the id of the span current when the app's coroutine ran its ``finally``."""

    async def work() -> str:
        try:
            await _Suspend()
            return "never"
        finally:
            cleaned.append(trace.get_current_span().get_span_context().span_id)

    @otel_llm.tool("fetch")
    def fetch() -> Any:
        return work()

    pending = fetch()
    assert contextvars.copy_context().run(pending.send, None) == "suspended"
    return pending


def test_a_returned_coroutine_dropped_mid_await_in_a_cycle_ends_at_the_next_call(cap, context_touched_while_collecting):
    """The coroutine standing in for the one a sync function returned kept the call's context attached while
    it was suspended; closed by the collector, it detached it (and ended the span, its processors attaching
    theirs) inside the collection. Now, as a stream proxy, it attaches the context for each step only: the
    collector's close touches no context, the call ends at the next safe point, counted out once."""
    cleaned: list[int] = []
    before = counts(cap)
    pending = _suspended_fetch(cleaned)
    assert counts(cap) != before  # running: suspended mid-await
    cycle: list[Any] = [pending]
    cycle.append(cycle)
    del pending, cycle
    abandoned = time.time_ns()
    gc.collect()
    collected = time.time_ns()
    assert context_touched_while_collecting == []
    assert len(cleaned) == 1  # the app's coroutine was closed by the collector, as it would be bare
    otel_llm.tool("next_call")(lambda: None)()
    span = cap.span("execute_tool fetch")
    assert abandoned <= span.end_time <= collected  # when it was abandoned, not when it was ended
    assert span.status.status_code is not StatusCode.ERROR  # closed, not failed
    assert counts(cap) == before  # counted out, once


def test_a_returned_coroutine_dropped_mid_await_elsewhere_ends_without_an_error_in_the_apps_log(cap, caplog):
    """Suspended in a task's context and dropped in another (the app's main code, after its loop ended), the
    stand-in's close detached a context attached in the task's: OpenTelemetry logged "Failed to detach
    context" with a traceback into the app's log. The app's ``finally`` runs with the call's span current."""
    cleaned: list[int] = []
    before = counts(cap)
    pending = _suspended_fetch(cleaned)
    with caplog.at_level(logging.DEBUG):
        del pending
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    span = cap.span("execute_tool fetch")
    assert cleaned == [span.context.span_id]
    assert span.end_time is not None and span.status.status_code is not StatusCode.ERROR
    assert counts(cap) == before
