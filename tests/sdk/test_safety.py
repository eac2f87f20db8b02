"""Never break the app: the user's exceptions pass untouched, our faults are swallowed.

Under pytest the guard re-raises our own faults (so bugs fail tests); the tests
that prove the production behaviour switch that off with ``_guard.swallowing()``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import logging
import os
import traceback
from typing import Any

import pytest
from opentelemetry.trace import StatusCode

import otel_llm
from otel_llm import _guard, _kinds, _runtime, _stream_usage
from otel_llm import semconv as sc


def internal_errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "otel_llm" and "internal error" in r.getMessage()]


@pytest.fixture
def swallow():
    with _guard.swallowing():
        yield


# --- zone 2: the user's exception, untouched ---------------------------------------


class UserError(Exception):
    pass


def _raiser(shape: str, err: Exception) -> Any:
    """A function of ``shape`` raising ``err``; ``err.line`` is the line of the raise."""
    if shape == "sync":

        def fn() -> None:
            err.line = inspect.currentframe().f_lineno + 1  # type: ignore[attr-defined]
            raise err

    elif shape == "async":

        async def fn() -> None:
            err.line = inspect.currentframe().f_lineno + 1  # type: ignore[attr-defined]
            raise err

    elif shape == "generator":

        def fn():
            yield 1
            err.line = inspect.currentframe().f_lineno + 1  # type: ignore[attr-defined]
            raise err

    else:

        async def fn():
            yield 1
            err.line = inspect.currentframe().f_lineno + 1  # type: ignore[attr-defined]
            raise err

    return fn


async def _drive(shape: str, fn: Any) -> None:
    if shape == "sync":
        fn()
    elif shape == "async":
        await fn()
    elif shape == "generator":
        list(fn())
    else:
        [x async for x in fn()]


@pytest.mark.parametrize("shape", ["sync", "async", "generator", "async_generator"])
@pytest.mark.parametrize("kind", ["chat", "llm_call"])
async def test_user_exception_is_the_same_object_with_its_traceback(cap, caplog, shape, kind):
    err = UserError("the user's message")
    original = _raiser(shape, err)
    decorator = otel_llm.chat if kind == "chat" else otel_llm.llm_call(model="m", provider="p")
    with pytest.raises(UserError) as info:
        await _drive(shape, decorator(original))
    assert info.value is err
    assert type(info.value) is UserError and str(info.value) == "the user's message"
    assert err.__cause__ is None and err.__context__ is None
    frames = [(f.filename, f.lineno) for f in traceback.extract_tb(err.__traceback__)]
    assert (original.__code__.co_filename, err.line) in frames
    assert internal_errors(caplog) == []  # the user's error is not logged as ours
    assert len(cap.spans()) == 1


# --- zone 3: post-processing faults ---------------------------------------------------


def _boom(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("otel-llm bug")


def test_failing_usage_extractor_is_swallowed_and_logged_once(cap, caplog, swallow, monkeypatch, response):
    monkeypatch.setattr(_kinds, "read_response", _boom)

    @otel_llm.llm_call(model="test-model", provider="openai")
    def ask() -> dict:
        return response()

    results = [ask() for _ in range(3)]
    assert results == [response()] * 3
    assert len(internal_errors(caplog)) == 1
    assert caplog.records[0].exc_info is not None
    assert len(cap.spans()) == 3 and all(s.end_time for s in cap.spans())


def test_failing_price_book_is_swallowed(cap, caplog, swallow, monkeypatch, response):
    prices = _runtime.current().prices
    monkeypatch.setattr(type(prices), "cost", _boom)

    @otel_llm.llm_call(model="test-model", provider="openai")
    def ask() -> dict:
        return response(input_tokens=42)

    assert ask() == response(input_tokens=42)
    assert ask() == response(input_tokens=42)
    assert len(internal_errors(caplog)) == 1
    spans = cap.spans()
    assert len(spans) == 2
    assert spans[0].attributes[sc.GEN_AI_USAGE_INPUT_TOKENS] == 42
    assert sc.GEN_AI_USAGE_COST not in spans[0].attributes


class _FailingReader(_stream_usage.StreamUsage):
    def __call__(self, chunk: Any) -> None:
        raise RuntimeError("otel-llm bug")

    def result(self) -> None:
        return None


def test_failing_chunk_accounting_keeps_the_stream_flowing(cap, caplog, swallow, monkeypatch):
    monkeypatch.setattr(_kinds, "reader_for", lambda first: _FailingReader())  # fails on every chunk

    @otel_llm.llm_call(model="test-model", provider="openai")
    def stream():
        yield from ["a", "b", "c"]

    assert list(stream()) == ["a", "b", "c"]
    assert len(internal_errors(caplog)) == 1  # once per site, not per chunk
    attrs = cap.span("chat test-model").attributes
    assert attrs[sc.OTEL_LLM_STREAM_COMPLETE] is True
    assert attrs[sc.OTEL_LLM_STREAM_CHUNKS] == 3


def test_failing_stream_usage_read_at_the_end_still_ends_the_span(cap, caplog, swallow, monkeypatch):
    monkeypatch.setattr(_stream_usage, "extract_usage", _boom)

    @otel_llm.llm_call(model="test-model", provider="openai")
    def stream():
        yield from [{"usage": {"prompt_tokens": 1}}]

    assert len(list(stream())) == 1
    assert len(internal_errors(caplog)) == 1
    assert cap.span("chat test-model").attributes[sc.OTEL_LLM_STREAM_COMPLETE] is True


class _BrokenHistogram:
    def record(self, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError("meter down")


def test_failing_metric_instrument_loses_only_its_own_points(cap, caplog, swallow):
    rt = _runtime.current()
    broken = dataclasses.replace(rt.instruments, graph_node_duration=_BrokenHistogram())
    saved = _runtime._swap(dataclasses.replace(rt, instruments=broken), None)
    try:

        @otel_llm.graph_node("n")
        def node() -> int:
            return 7

        @otel_llm.vector_op("search")
        def search() -> list[int]:
            return [1]

        assert node() == 7
        assert search() == [1]
    finally:
        _runtime._swap(*saved)
    assert len(cap.spans()) == 2  # recorded off the caller's thread: the spans never waited
    broken.drain()
    assert len(internal_errors(caplog)) == 1
    (point,) = cap.metrics()[sc.METRIC_VECTOR_OPERATIONS]  # the next call's point still recorded
    assert point.value == 1


# --- zone 1: setup faults -> the function runs bare ------------------------------------


@pytest.mark.parametrize("shape", ["sync", "async", "generator", "async_generator"])
async def test_setup_fault_runs_the_function_bare(cap, caplog, swallow, monkeypatch, shape):
    monkeypatch.setattr(_runtime, "current", _boom)

    if shape == "sync":

        def fn(x: int) -> int:
            return x * 2

    elif shape == "async":

        async def fn(x: int) -> int:
            return x * 2

    elif shape == "generator":

        def fn(x: int):
            yield x * 2

    else:

        async def fn(x: int):
            yield x * 2

    wrapped = otel_llm.graph_node("n")(fn)
    result = wrapped(21)
    if shape == "async":
        result = await result
    elif shape == "generator":
        result = list(result)[0]
    elif shape == "async_generator":
        result = [x async for x in result][0]
    assert result == 42
    assert cap.spans() == []
    assert len(internal_errors(caplog)) == 1


def test_record_functions_never_raise(cap, caplog, swallow, monkeypatch):
    import otel_llm._record as record

    monkeypatch.setattr(record, "current_usage_sink", _boom)
    monkeypatch.setattr(record.trace, "get_current_span", _boom)
    assert otel_llm.record_usage(input_tokens=1) is None
    assert otel_llm.record_evaluation("x", score=1) is None
    assert len(internal_errors(caplog)) == 2  # two sites, each logged once


# --- under pytest, our own faults re-raise so tests catch them --------------------------


def test_in_our_suite_internal_faults_reraise(cap, monkeypatch, response):
    monkeypatch.setattr(_kinds, "read_response", _boom)

    @otel_llm.llm_call(model="test-model", provider="openai")
    def ask() -> dict:
        return response()

    with pytest.raises(RuntimeError, match="otel-llm bug"):
        ask()
    assert len(cap.spans()) == 1  # even then, the span was ended


def test_an_apps_own_pytest_run_gets_production_behaviour(cap, caplog, monkeypatch, response):
    """Running under pytest is not a reason to raise: only our suite's explicit switch is."""
    monkeypatch.delenv(_guard.RAISE_ENV, raising=False)
    assert "PYTEST_CURRENT_TEST" in os.environ
    monkeypatch.setattr(_kinds, "read_response", _boom)
    _guard._seen.clear()

    @otel_llm.llm_call(model="test-model", provider="openai")
    def ask() -> dict:
        return response()

    assert ask() == response()
    assert ask() == response()
    assert len([r for r in caplog.records if "internal error" in r.getMessage()]) == 1
    assert len(cap.spans()) == 2


# --- hostile values ------------------------------------------------------------------


class Hostile:
    def __repr__(self) -> str:
        raise ValueError("no repr")

    def __len__(self) -> int:
        return 3


def test_non_serialisable_arguments_and_huge_payloads(cap_content):
    huge = "x" * 1_000_000

    @otel_llm.llm_call(model="test-model", provider="openai")
    def ask(prompt: Any, extra: Any = None) -> Any:
        return Hostile()

    @otel_llm.chat
    def answer(question: str, blob: Any) -> str:
        ask(Hostile(), extra=object())
        return huge

    with otel_llm.session(run_config={"obj": Hostile.__name__, "n": 1}):
        assert answer(huge, Hostile()) is huge
    turn = cap_content.span("chat_turn answer")
    texts = [e.attributes[sc.EVENT_ATTR_CONTENT] for e in turn.events]
    assert all(len(t) < 10_000 and "truncated" in t for t in texts)
    assert cap_content.span("chat test-model").end_time is not None


async def test_guard_does_not_swallow_cancellation(cap):
    @otel_llm.graph_node("sleepy")
    async def sleepy() -> None:
        await asyncio.sleep(10)

    task = asyncio.ensure_future(sleepy())
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert task.cancelled()


class UnprintableError(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no str")


def test_user_exception_with_a_broken_str_still_propagates_untouched(cap):
    err = UnprintableError()

    @otel_llm.llm_call(model="test-model", provider="openai")
    def ask() -> None:
        raise err

    with pytest.raises(UnprintableError) as info:
        ask()
    assert info.value is err
    span = cap.span("chat test-model")
    assert span.attributes[sc.ERROR_TYPE] == "UnprintableError"
    assert span.status.description == "UnprintableError"
    assert [dict(e.attributes) for e in span.events if e.name == sc.EVENT_EXCEPTION] == [
        {sc.EXCEPTION_TYPE: "UnprintableError"}
    ]
    assert span.end_time is not None


@pytest.mark.parametrize("exit_by", [SystemExit(0), SystemExit(None), KeyboardInterrupt()],
                         ids=["sys.exit(0)", "sys.exit()", "ctrl-c"])
def test_leaving_the_process_is_not_a_failed_call(cap, exit_by):
    """As upstream's ``use_span`` does, only an ``Exception`` fails a span: ``sys.exit(0)`` in a decorated
    ``main`` is a success and Ctrl-C an interruption — no ERROR status, ``error.type`` or error metric."""

    @otel_llm.agent("main")
    def main() -> None:
        raise exit_by

    with pytest.raises(type(exit_by)) as info:
        main()
    assert info.value is exit_by
    span = cap.span("invoke_agent main")
    assert span.status.status_code is StatusCode.UNSET
    assert sc.ERROR_TYPE not in span.attributes
    assert [e.name for e in span.events] == []


# --- a span processor that raises (the app's own, a vendor's) -----------------------------------


@pytest.mark.parametrize("shape", ["sync", "async", "generator", "async_generator"])
async def test_a_span_processor_raising_as_spans_end_breaks_no_call(cap, caplog, swallow, shape):
    """Spans end inside the app's call: a processor whose ``on_end`` raises must not turn a
    return into that error, nor replace the user's own exception."""
    from opentelemetry.sdk.trace import SpanProcessor

    class Broken(SpanProcessor):
        def on_end(self, span: Any) -> None:
            raise RuntimeError("processor bug")

    cap.tracer_provider.add_span_processor(Broken())
    err = UserError("the user's message")
    with pytest.raises(UserError) as info:
        await _drive(shape, otel_llm.tool("t")(_raiser(shape, err)))
    assert info.value is err

    @otel_llm.llm_call(model="m")
    def ok() -> int:
        return 7

    assert ok() == 7
    assert len(cap.spans()) == 2  # the in-memory exporter, before the broken processor, got both
    assert len(internal_errors(caplog)) == 1
