"""A decorated generator function checks its arguments when it is called, as the undecorated one does.

Calling a generator function binds its arguments at once: ``pages()`` without its
required argument raises ``TypeError`` at the call, before any ``next()``. The
decorated one was a generator function of its own that bound the app's
function's arguments only at the first ``next()``: the ``TypeError`` surfaced
later, elsewhere (in the loop reading it, in a framework's streaming response),
and a generator handed on unread never raised it at all. Now the call raises it;
the call is recorded as failed, as a sync function called so is (its span ended,
nothing left running), and the decorated function is still a generator function
to ``inspect``.
"""

from __future__ import annotations

import inspect
import pickle
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


def _bare_error(fn: Callable[..., Any], *args: Any) -> str:
    with pytest.raises(TypeError) as bare:
        fn(*args)
    return str(bare.value)


@pytest.mark.parametrize("shape", [_sync_pages, _async_pages], ids=["generator", "async-generator"])
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


@otel_llm.tool("module_pages")
def module_pages(query: str) -> Iterator[str]:
    yield query


def test_a_decorated_generator_function_pickles_as_a_function_does() -> None:
    """By reference, as the plain function would (a process pool pickles what it is given)."""
    assert pickle.loads(pickle.dumps(module_pages)) is module_pages
