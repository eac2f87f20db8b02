"""session() and parent/child nesting across await, threads, executors and to_thread."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from opentelemetry.instrumentation.threading import ThreadingInstrumentor

import otel_llm
from otel_llm import semconv as sc
from otel_llm.context import current_session, instrument_threads

RUN = sc.OTEL_LLM_RUN_CONFIG_PREFIX


def test_nested_sessions_merge_and_restore():
    assert current_session() is None
    with otel_llm.session(thread_id="t1", user_id="u1", run_config={"temperature": 0.2, "k": 3}) as outer:
        assert outer.thread_id == "t1"
        with otel_llm.session(thread_id="t2", run_config={"k": 5, "retriever": "bm25"}) as inner:
            assert (inner.thread_id, inner.user_id) == ("t2", "u1")
            assert dict(inner.run_config) == {"temperature": 0.2, "k": 5, "retriever": "bm25"}
            assert current_session() is inner
        assert current_session() is outer
    assert current_session() is None


def test_session_attributes_on_spans_and_non_primitive_config_values(cap):
    @otel_llm.graph_node("n")
    def node() -> None:
        return None

    with otel_llm.session(thread_id="t1"):
        with otel_llm.session(user_id="u9", run_config={"stops": ["a"], "flag": True, "none": None}):
            node()
    attrs = cap.span("n").attributes
    assert attrs[sc.GEN_AI_CONVERSATION_ID] == "t1"
    assert attrs[sc.USER_ID] == "u9"
    assert attrs[RUN + "stops"] == "['a']"
    assert attrs[RUN + "flag"] is True
    assert RUN + "none" not in attrs


async def test_async_with_session_and_concurrent_tasks_do_not_bleed(cap):
    @otel_llm.chat
    async def answer(question: str) -> str:
        await asyncio.sleep(0.01)
        return question

    async def turn(thread: str) -> str:
        async with otel_llm.session(thread_id=thread):
            await asyncio.sleep(0)
            return await answer(thread)

    assert await asyncio.gather(turn("A"), turn("B")) == ["A", "B"]
    by_thread = {s.attributes[sc.GEN_AI_CONVERSATION_ID] for s in cap.spans()}
    assert by_thread == {"A", "B"}
    for span in cap.spans():
        assert span.events[0].attributes[sc.EVENT_ATTR_LENGTH] == 1


async def test_nesting_across_await(cap):
    @otel_llm.llm_call(model="test-model", provider="openai")
    async def ask() -> str:
        await asyncio.sleep(0)
        return "x"

    @otel_llm.graph_node("generate")
    async def generate() -> str:
        await asyncio.sleep(0)
        first = await ask()
        await asyncio.sleep(0)
        return first + await ask()

    assert await generate() == "xx"
    node = cap.span("generate")
    asks = [s for s in cap.spans() if s.name == "chat test-model"]
    assert len(asks) == 2
    assert all(s.parent.span_id == node.context.span_id for s in asks)


def test_configure_enables_thread_propagation(cap):
    assert ThreadingInstrumentor().is_instrumented_by_opentelemetry
    instrument_threads()  # idempotent
    assert ThreadingInstrumentor().is_instrumented_by_opentelemetry


def _turn_with_worker(run_in_worker) -> str:
    """A chat turn whose llm_call runs in a worker; returns the worker's result."""

    @otel_llm.llm_call(model="test-model", provider="openai")
    def ask() -> dict:
        return {"usage": {"prompt_tokens": 100, "completion_tokens": 10}}

    @otel_llm.chat
    def answer(question: str) -> str:
        run_in_worker(ask)
        return "done"

    with otel_llm.session(thread_id="t-worker", user_id="u1"):
        return answer("q")


def _assert_worker_nesting(cap) -> None:
    turn, call = cap.span("chat_turn answer"), cap.span("chat test-model")
    assert call.parent.span_id == turn.context.span_id
    assert call.context.trace_id == turn.context.trace_id
    assert call.attributes[sc.GEN_AI_CONVERSATION_ID] == "t-worker"  # session crossed the thread
    assert call.attributes[sc.USER_ID] == "u1"
    assert turn.attributes[sc.OTEL_LLM_TURN_INPUT_TOKENS] == 100  # turn roll-up crossed it too
    assert turn.attributes[sc.OTEL_LLM_TURN_LLM_CALLS] == 1


def test_thread_pool_executor_submit(cap):
    with ThreadPoolExecutor(max_workers=1) as pool:
        _turn_with_worker(lambda fn: pool.submit(fn).result())
    _assert_worker_nesting(cap)


def test_plain_thread(cap):
    def run(fn) -> None:
        worker = threading.Thread(target=fn)
        worker.start()
        worker.join()

    _turn_with_worker(run)
    _assert_worker_nesting(cap)


async def test_asyncio_to_thread(cap):
    @otel_llm.llm_call(model="test-model", provider="openai")
    def ask() -> dict:
        return {"usage": {"prompt_tokens": 100, "completion_tokens": 10}}

    @otel_llm.chat
    async def answer(question: str) -> str:
        await asyncio.to_thread(ask)
        return "done"

    with otel_llm.session(thread_id="t-worker", user_id="u1"):
        await answer("q")
    _assert_worker_nesting(cap)


async def test_run_in_executor(cap):
    @otel_llm.llm_call(model="test-model", provider="openai")
    def ask() -> dict:
        return {"usage": {"prompt_tokens": 100, "completion_tokens": 10}}

    @otel_llm.chat
    async def answer(question: str) -> str:
        with ThreadPoolExecutor(max_workers=1) as pool:
            await asyncio.get_running_loop().run_in_executor(pool, ask)
        return "done"

    with otel_llm.session(thread_id="t-worker", user_id="u1"):
        await answer("q")
    _assert_worker_nesting(cap)


@pytest.mark.parametrize("workers", [4])
def test_parallel_llm_calls_in_threads_sum_into_one_turn(cap, workers):
    @otel_llm.llm_call(model="test-model", provider="openai")
    def ask(i: int) -> dict:
        return {"usage": {"prompt_tokens": i, "completion_tokens": 1}}

    @otel_llm.chat
    def answer(question: str) -> str:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(ask, range(1, 41)))
        return "ok"

    answer("q")
    turn = cap.span("chat_turn answer")
    assert turn.attributes[sc.OTEL_LLM_TURN_LLM_CALLS] == 40
    assert turn.attributes[sc.OTEL_LLM_TURN_INPUT_TOKENS] == sum(range(1, 41))
    assert turn.attributes[sc.OTEL_LLM_TURN_OUTPUT_TOKENS] == 40


@pytest.mark.parametrize(
    "run",
    [
        lambda pool, fn: pool.map(lambda _: fn(), [0]),
        lambda pool, fn: pool.apply(fn),
        lambda pool, fn: pool.apply_async(fn).get(),
        lambda pool, fn: list(pool.imap(lambda _: fn(), [0])),
        lambda pool, fn: list(pool.imap_unordered(lambda _: fn(), [0])),
        lambda pool, fn: pool.starmap(lambda _: fn(), [(0,)]),
    ],
    ids=["map", "apply", "apply_async", "imap", "imap_unordered", "starmap"],
)
def test_multiprocessing_thread_pool(cap, run):
    """``multiprocessing.pool.ThreadPool`` (``multiprocessing.dummy.Pool``): its threads are made when
    the pool is, before the turn; each task still runs in the context it was handed over in."""
    from multiprocessing.pool import ThreadPool

    with ThreadPool(2) as pool:
        _turn_with_worker(lambda fn: run(pool, fn))
    _assert_worker_nesting(cap)
