"""A decorated coroutine cancelled mid-way (``asyncio.timeout``, ``wait_for``, ``task.cancel()``).

The call did not finish: its span says so (status ERROR, ``error.type``
``CancelledError``), as the OpenTelemetry recording-errors convention asks of an
operation that ended by an exception, and the same for every kind, so a
cancelled tool and a cancelled model call read alike. The ``CancelledError``
itself reaches the caller unchanged: ``asyncio.timeout`` turns it into its
``TimeoutError`` and the task stays cancelled.
"""

from __future__ import annotations

import asyncio
import sys

import pytest
from opentelemetry.trace import StatusCode

import otel_llm
from otel_llm import semconv as sc

if sys.version_info < (3, 11):  # trio's backport, installed with it
    from exceptiongroup import BaseExceptionGroup


def _cancelled(span) -> None:
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes[sc.ERROR_TYPE] == "CancelledError"
    assert span.end_time is not None


async def test_a_tool_cut_off_by_asyncio_timeout_is_a_cancelled_tool(cap):
    @otel_llm.tool("slow_search")
    async def slow_search(query: str) -> str:
        await asyncio.sleep(10)
        return query

    with pytest.raises(TimeoutError):  # asyncio.timeout's own error: the cancellation went through unchanged
        async with asyncio.timeout(0.01):
            await slow_search("x")
    _cancelled(cap.span("execute_tool slow_search"))
    outcomes = {dict(p.attributes).get(sc.ERROR_TYPE): p.value for p in cap.metrics()[sc.METRIC_TOOL_CALLS]}
    assert outcomes == {"CancelledError": 1}


async def test_a_tool_cut_off_by_wait_for_and_the_model_call_inside_it(cap):
    @otel_llm.llm_call(model="test-model", provider="openai")
    async def think() -> None:
        await asyncio.sleep(10)

    @otel_llm.tool("planner_tool")
    async def plan() -> None:
        await think()

    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(plan(), 0.01)
    _cancelled(cap.span("execute_tool planner_tool"))
    _cancelled(cap.span("chat test-model"))


async def test_a_cancelled_task_stays_cancelled(cap):
    @otel_llm.tool("waits")
    async def waits() -> None:
        await asyncio.sleep(10)

    task = asyncio.ensure_future(waits())
    await asyncio.sleep(0.01)
    task.cancel("stop now")
    with pytest.raises(asyncio.CancelledError) as info:
        await task
    assert task.cancelled()
    assert info.value.args == ("stop now",)
    _cancelled(cap.span("execute_tool waits"))


# --- trio and anyio: the same cancellation, another exception class -----------------------------
# trio cancels with ``trio.Cancelled`` (a BaseException, not asyncio's CancelledError); anyio's
# cancel scopes raise it on the trio backend. A cancelled call is the same failure under either.


def _cancelled_under(cancelled_type: str, span) -> None:
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes[sc.ERROR_TYPE] == cancelled_type
    assert span.end_time is not None


@pytest.mark.parametrize(
    ("decorate", "span_name"),
    [
        (otel_llm.tool("slow_search"), "execute_tool slow_search"),
        (otel_llm.llm_call(model="test-model", provider="openai"), "chat test-model"),
        (otel_llm.agent("researcher"), "invoke_agent researcher"),
    ],
    ids=["tool", "llm_call", "agent"],
)
def test_a_call_cut_off_by_a_trio_deadline_is_cancelled_and_trio_sees_its_cancelled(cap, decorate, span_name):
    import trio

    seen: list[BaseException] = []

    @decorate
    async def slow() -> None:
        try:
            await trio.sleep(10)
        except BaseException as exc:
            seen.append(exc)
            raise

    async def main() -> bool:
        with trio.move_on_after(0.01) as scope:
            await slow()
        return scope.cancelled_caught

    assert trio.run(main) is True  # trio's own scope caught the very Cancelled our wrapper re-raised
    assert type(seen[0]) is trio.Cancelled
    _cancelled_under("Cancelled", cap.span(span_name))


def test_an_async_generator_cut_off_by_a_trio_deadline_is_a_cancelled_stream(cap):
    import trio

    @otel_llm.llm_call(model="test-model", provider="openai")
    async def tokens():
        yield "a"
        await trio.sleep(10)
        yield "b"

    async def main() -> list[str]:
        got = []
        with trio.move_on_after(0.01):
            async for token in tokens():
                got.append(token)
        return got

    assert trio.run(main) == ["a"]
    span = cap.span("chat test-model")
    _cancelled_under("Cancelled", span)
    assert span.attributes[sc.OTEL_LLM_STREAM_COMPLETE] is False


@pytest.mark.parametrize(("backend", "cancelled_type"), [("asyncio", "CancelledError"), ("trio", "Cancelled")])
def test_a_tool_cut_off_by_an_anyio_cancel_scope_is_cancelled_on_either_backend(cap, backend, cancelled_type):
    import anyio

    @otel_llm.tool("slow_search")
    async def slow_search() -> None:
        await anyio.sleep(10)

    async def main() -> bool:
        with anyio.move_on_after(0.01) as scope:
            await slow_search()
        return scope.cancelled_caught

    assert anyio.run(main, backend=backend) is True
    _cancelled_under(cancelled_type, cap.span("execute_tool slow_search"))


def test_an_agent_whose_trio_nursery_is_cut_off_by_a_deadline_is_cancelled(cap):
    """trio gathers its cancelled children in a BaseExceptionGroup of Cancelled: a cancelled call too."""
    import trio

    @otel_llm.tool("slow_search")
    async def slow_search() -> None:
        await trio.sleep(10)

    @otel_llm.agent("researcher")
    async def researcher() -> None:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(slow_search)
            nursery.start_soon(slow_search)

    async def main() -> bool:
        with trio.move_on_after(0.01) as scope:
            await researcher()
        return scope.cancelled_caught

    assert trio.run(main) is True
    _cancelled_under("BaseExceptionGroup", cap.span("invoke_agent researcher"))
    assert [s.attributes[sc.ERROR_TYPE] for s in cap.spans() if s.name == "execute_tool slow_search"] == [
        "Cancelled", "Cancelled"]


def test_a_group_holding_a_keyboard_interrupt_is_no_failure_of_the_call(cap):
    @otel_llm.tool("interrupted")
    def interrupted() -> None:
        raise BaseExceptionGroup("stop", [KeyboardInterrupt(), ValueError("x")])

    with pytest.raises(BaseExceptionGroup):
        interrupted()
    assert cap.span("execute_tool interrupted").status.status_code is StatusCode.UNSET
