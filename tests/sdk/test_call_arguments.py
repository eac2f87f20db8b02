"""A decorated generator or coroutine function checks its arguments when it is called, as the undecorated one does.

Calling a generator function (or an ``async def``) binds its arguments at once:
``pages()`` without its required argument raises ``TypeError`` at the call,
before any ``next()`` (or ``await``). The decorated one was a generator
(coroutine) function of its own that bound the app's function's arguments only
at the first ``next()`` (when awaited): the ``TypeError`` surfaced later,
elsewhere (in the loop reading it, in a framework's streaming response, in the
task that awaited it), and a generator (coroutine) handed on unread never raised
it at all. Now the call raises it; the call is recorded as failed, as a sync
function called so is (its span ended, nothing left running), and the decorated
function is still a generator (coroutine) function to ``inspect``.
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import pickle
import warnings
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from opentelemetry.trace import StatusCode

import otel_llm
from otel_llm import semconv as sc
from tests.sdk.test_active import counts

DECORATORS: dict[str, Callable[[Any], Any]] = {
    "llm_call": otel_llm.llm_call(model="test-model", provider="openai"),
    "chat": otel_llm.chat,
    "tool": otel_llm.tool("pages"),
    "agent": otel_llm.agent("pager"),
    "graph_node": otel_llm.graph_node("pages"),
    "vector_op": otel_llm.vector_op("search", collection="docs"),
}


def _sync_pages(query: str, limit: int) -> Iterator[str]:
    yield from [query] * limit


async def _async_pages(query: str, limit: int) -> AsyncIterator[str]:
    for _ in range(limit):
        yield query


async def _answer(query: str, limit: int) -> str:
    return query * limit


def _bare_error(fn: Callable[..., Any], *args: Any) -> str:
    with pytest.raises(TypeError) as bare:
        fn(*args)
    return str(bare.value)


def _unawaited_warnings(fn: Callable[[], Any]) -> list[str]:
    """The warnings Python gives when what ``fn()`` returned is dropped (or when ``fn()`` raises)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            pending = fn()
        except TypeError:
            pass
        else:
            del pending
        gc.collect()
    return [str(w.message) for w in caught]


@pytest.mark.parametrize("shape", [_sync_pages, _async_pages, _answer],
                         ids=["generator", "async-generator", "coroutine"])
@pytest.mark.parametrize("name", list(DECORATORS))
def test_wrong_arguments_raise_the_same_type_error_at_the_call(cap: Any, name: str, shape: Any) -> None:
    decorated = DECORATORS[name](shape)
    before = counts(cap)
    expected = _bare_error(shape, "q")  # no ``limit``
    with pytest.raises(TypeError) as caught:
        decorated("q")  # the call itself: no next()
    assert str(caught.value) == expected
    assert counts(cap) == before  # nothing counted as running
    (span,) = cap.spans()  # recorded as a failed call, as a sync function called so is, and ended
    assert span.end_time is not None
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes[sc.ERROR_TYPE] == "TypeError"
    assert inspect.isgeneratorfunction(decorated) == inspect.isgeneratorfunction(shape)
    assert inspect.isasyncgenfunction(decorated) == inspect.isasyncgenfunction(shape)
    assert inspect.iscoroutinefunction(decorated) == inspect.iscoroutinefunction(shape)
    assert asyncio.iscoroutinefunction(decorated) == asyncio.iscoroutinefunction(shape)


@pytest.mark.parametrize("name", list(DECORATORS))
def test_a_coroutine_function_called_wrong_leaves_no_coroutine_behind(cap: Any, name: str) -> None:
    """Nothing was made, so nothing is dropped unawaited: no warning, as undecorated."""
    decorated = DECORATORS[name](_answer)
    assert _unawaited_warnings(lambda: _answer("q")) == []
    assert _unawaited_warnings(lambda: decorated("q")) == []


@pytest.mark.parametrize("name", list(DECORATORS))
async def test_a_coroutine_function_with_right_arguments_starts_nothing_before_it_is_awaited(
        cap: Any, name: str) -> None:
    before = counts(cap)
    pending = DECORATORS[name](_answer)("q", 2)
    assert inspect.iscoroutine(pending) and pending.__qualname__ == _answer.__qualname__
    assert cap.spans() == [] and counts(cap) == before
    assert await pending == "qq"
    (span,) = cap.spans()
    assert span.end_time is not None and span.status.status_code is StatusCode.UNSET
    assert counts(cap) == before


def test_a_coroutine_dropped_unawaited_warns_as_it_would_undecorated(cap: Any) -> None:
    """One warning, naming the app's function; nothing recorded (nothing ran)."""
    plain = _unawaited_warnings(lambda: _answer("q", 1))
    assert plain == [f"coroutine '{_answer.__qualname__}' was never awaited"]
    assert _unawaited_warnings(lambda: otel_llm.tool("answer")(_answer)("q", 1)) == plain
    assert cap.spans() == []


async def test_a_coroutine_runs_its_body_with_its_span_current(cap: Any) -> None:
    """The app's coroutine is made at the call, outside the span: its body still runs inside it."""
    from opentelemetry import trace

    seen: list[Any] = []

    @otel_llm.tool("inner")
    async def inner() -> None:
        seen.append(trace.get_current_span().get_span_context().span_id)

    @otel_llm.agent("outer")
    async def outer() -> None:
        seen.append(trace.get_current_span().get_span_context().span_id)
        await inner()

    await asyncio.gather(outer(), outer())
    spans = {s.context.span_id: s for s in cap.spans()}
    assert len(spans) == 4 and set(seen) == set(spans)
    for span in spans.values():
        if span.name == "execute_tool inner":
            assert spans[span.parent.span_id].name == "invoke_agent outer"


@pytest.mark.parametrize("name", list(DECORATORS))
def test_right_arguments_still_start_nothing_before_the_first_next(cap: Any, name: str) -> None:
    before = counts(cap)
    pages = DECORATORS[name](_sync_pages)("q", 2)
    assert cap.spans() == [] and counts(cap) == before
    assert inspect.isgenerator(pages) and pages.__name__ == "_sync_pages"
    assert list(pages) == ["q", "q"]
    (span,) = cap.spans()
    assert span.attributes[sc.OTEL_LLM_STREAM_CHUNKS] == 2 and span.status.status_code is StatusCode.UNSET
    assert counts(cap) == before


async def test_an_async_generator_with_right_arguments_runs_as_before(cap: Any) -> None:
    pages = otel_llm.tool("pages")(_async_pages)("q", 3)
    assert inspect.isasyncgen(pages) and cap.spans() == []
    assert [p async for p in pages] == ["q", "q", "q"]
    assert cap.span("execute_tool pages").attributes[sc.OTEL_LLM_STREAM_CHUNKS] == 3


class Pager:
    name = "pager"

    @otel_llm.tool("page_of")
    def pages(self, query: str) -> Iterator[str]:
        yield query

    @otel_llm.agent
    def run(self, query: str) -> Iterator[str]:
        yield query

    @classmethod
    @otel_llm.tool("class_pages")
    def class_pages(cls, query: str) -> Iterator[str]:
        yield cls.__name__ + query

    @staticmethod
    @otel_llm.tool("static_pages")
    def static_pages(query: str) -> Iterator[str]:
        yield query

    @otel_llm.tool("answer_of")
    async def answer(self, query: str) -> str:
        return query

    @otel_llm.tool("class_answer")
    @classmethod
    async def class_answer(cls, query: str) -> str:
        return cls.__name__ + query

    @otel_llm.tool("static_answer")
    @staticmethod
    async def static_answer(query: str) -> str:
        return query


def test_a_generator_method_binds_and_checks_its_arguments_at_the_call(cap: Any) -> None:
    pager = Pager()
    assert list(pager.pages("q")) == ["q"]
    assert list(pager.run("q")) == ["q"]
    assert list(Pager.class_pages("q")) == ["Pagerq"]
    assert list(pager.static_pages("q")) == ["q"]
    assert [s.name for s in cap.spans()] == [
        "execute_tool page_of", "invoke_agent pager", "execute_tool class_pages", "execute_tool static_pages"]
    for method, args in ((pager.pages, ()), (pager.run, ("q", "extra")), (Pager.class_pages, ()),
                         (pager.static_pages, ())):
        with pytest.raises(TypeError):
            method(*args)
    assert inspect.isgeneratorfunction(pager.pages) and inspect.isgeneratorfunction(Pager.class_pages)
    assert list(inspect.signature(pager.pages).parameters) == ["query"]


async def test_a_coroutine_method_binds_and_checks_its_arguments_at_the_call(cap: Any) -> None:
    pager = Pager()
    assert [await pager.answer("q"), await Pager.class_answer("q"), await pager.static_answer("q")] == [
        "q", "Pagerq", "q"]
    assert [s.name for s in cap.spans()] == [
        "execute_tool answer_of", "execute_tool class_answer", "execute_tool static_answer"]
    for method, bare, args in ((pager.answer, Pager.answer.__wrapped__, (pager,)),
                               (Pager.class_answer, Pager.class_answer.__wrapped__, (Pager,)),
                               (pager.static_answer, Pager.static_answer.__wrapped__, ())):
        expected = _bare_error(bare, *args)  # no ``query``: the same message as the plain method's
        with pytest.raises(TypeError) as caught:
            method()
        assert str(caught.value) == expected
        assert inspect.iscoroutinefunction(method)
        assert list(inspect.signature(method).parameters) == ["query"]
    assert [s.status.status_code for s in cap.spans()[3:]] == [StatusCode.ERROR] * 3


@otel_llm.tool("module_pages")
def module_pages(query: str) -> Iterator[str]:
    yield query


@otel_llm.tool("module_answer")
async def module_answer(query: str) -> str:
    return query


def test_a_decorated_generator_or_coroutine_function_pickles_as_a_function_does() -> None:
    """By reference, as the plain function would (a process pool pickles what it is given)."""
    assert pickle.loads(pickle.dumps(module_pages)) is module_pages
    assert pickle.loads(pickle.dumps(module_answer)) is module_answer


async def test_decorated_methods_of_a_pydantic_model_are_methods_not_fields(cap: Any) -> None:
    """A pydantic model (a LangChain chat model) refused its class when a decorated generator method was an
    object of otel-llm's class: pydantic takes any class attribute but a function (or an object of a
    ``functools`` class) for a field, and raised ``PydanticUserError`` as the app's module was imported."""
    import pydantic

    class Model(pydantic.BaseModel):
        prefix: str = "p"

        @otel_llm.tool("pages")
        def pages(self, query: str) -> Iterator[str]:
            yield self.prefix + query

        @otel_llm.tool("more_pages")
        async def more_pages(self, query: str) -> AsyncIterator[str]:
            yield self.prefix + query

        @otel_llm.tool("answer")
        async def answer(self, query: str) -> str:
            return self.prefix + query

    model = Model()
    assert list(Model.model_fields) == ["prefix"]
    assert list(model.pages("q")) == ["pq"]
    assert [p async for p in model.more_pages("q")] == ["pq"]
    assert await model.answer("q") == "pq"
    with pytest.raises(TypeError):
        model.answer()
    assert [s.name for s in cap.spans()] == [
        "execute_tool pages", "execute_tool more_pages", "execute_tool answer", "execute_tool answer"]
