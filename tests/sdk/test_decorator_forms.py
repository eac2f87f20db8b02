"""Every decorator works on every kind of callable, in every order, and never raises at decoration.

Forms: stacked above and below ``classmethod`` / ``staticmethod``, a
``functools.partial``, a callable object (sync and async ``__call__``), a
bound method. Each is checked by what the call returns *and* by its span: a
coroutine classified as a sync function would end its span before its body
ran, so the async forms assert that a child span nests under it.
"""

from __future__ import annotations

import functools
import inspect
import logging
from typing import Any, Callable

import pytest

import otel_llm
from otel_llm import _runtime
from otel_llm import semconv as sc

FACTORIES: dict[str, Callable[[], Callable[[Any], Any]]] = {
    "chat": lambda: otel_llm.chat,
    "graph_node": lambda: otel_llm.graph_node,
    "graph_node(name)": lambda: otel_llm.graph_node("n", graph="g"),
    "vector_op": lambda: otel_llm.vector_op("search", collection="docs"),
    "llm_call": lambda: otel_llm.llm_call(model="test-model", provider="openai"),
    "tool": lambda: otel_llm.tool,
    "tool(name)": lambda: otel_llm.tool("search_web"),
    "agent": lambda: otel_llm.agent,
    "agent(name)": lambda: otel_llm.agent("planner"),
}
parametrize_decorators = pytest.mark.parametrize("make", FACTORIES.values(), ids=FACTORIES.keys())


def _inner() -> None:
    """A child span, to see whether the caller's span was current while the body ran."""
    with _runtime.current().tracer.start_as_current_span("inner"):
        pass


def _one_outer(cap) -> Any:
    outer = [s for s in cap.spans() if s.name != "inner"]
    assert len(outer) == 1, [s.name for s in cap.spans()]
    return outer[0]


def _assert_nested(cap) -> None:
    outer = _one_outer(cap)
    inner = cap.span("inner")
    assert inner.parent is not None and inner.parent.span_id == outer.context.span_id
    assert outer.end_time >= inner.end_time


@parametrize_decorators
def test_above_and_below_classmethod_and_staticmethod(cap, make):
    deco = make()

    class Svc:
        base = 40

        @deco
        @classmethod
        def above_cls(cls, x: int) -> int:
            _inner()
            return cls.base + x

        @classmethod
        @deco
        def below_cls(cls, x: int) -> int:
            _inner()
            return cls.base + x

        @deco
        @staticmethod
        def above_static(x: int) -> int:
            _inner()
            return 40 + x

        @staticmethod
        @deco
        def below_static(x: int) -> int:
            _inner()
            return 40 + x

    for name in ("above_cls", "below_cls", "above_static", "below_static"):
        cap.clear()
        assert getattr(Svc, name)(2) == 42, name
        assert getattr(Svc(), name)(2) == 42, name
        assert len([s for s in cap.spans() if s.name != "inner"]) == 2, name


@parametrize_decorators
async def test_async_classmethod_above(cap, make):
    deco = make()

    class Svc:
        @deco
        @classmethod
        async def run(cls, x: int) -> int:
            _inner()
            return x

    assert await Svc.run(3) == 3
    _assert_nested(cap)


@parametrize_decorators
def test_partial(cap, make):
    def add(a: int, b: int) -> int:
        _inner()
        return a + b

    assert make()(functools.partial(add, 40))(2) == 42
    _assert_nested(cap)


@parametrize_decorators
def test_partialmethod_decorated_and_of_a_decorated_method(cap, make):
    deco = make()

    class Svc:
        def add(self, a: int, b: int) -> int:
            _inner()
            return a + b

        above = deco(functools.partialmethod(add, 40))  # the partialmethod decorated
        below = functools.partialmethod(deco(add), 40)  # a partialmethod of a decorated method

    for name in ("above", "below"):
        cap.clear()
        assert getattr(Svc(), name)(2) == 42, name
        _assert_nested(cap)


@parametrize_decorators
async def test_async_and_generator_partialmethods_decorated(cap, make):
    deco = make()

    class Svc:
        async def add(self, a: int, b: int) -> int:
            _inner()
            return a + b

        def count(self, start: int, n: int):
            for i in range(start, start + n):
                _inner()
                yield i

        add_40 = deco(functools.partialmethod(add, 40))
        count_from_1 = deco(functools.partialmethod(count, 1))

    assert await Svc().add_40(2) == 42
    _assert_nested(cap)
    cap.clear()
    assert list(Svc().count_from_1(2)) == [1, 2]
    (outer,) = [s for s in cap.spans() if s.name != "inner"]
    assert all(s.parent.span_id == outer.context.span_id for s in cap.spans() if s.name == "inner")


def test_a_decorated_partialmethod_is_named_after_its_attribute(cap):
    """Two tools made from one function by partialmethod are two tools, named as the class names them."""

    class Search:
        name = "searcher"

        def _search(self, engine: str, q: str) -> str:
            return f"{engine}:{q}"

        search_web = otel_llm.tool(functools.partialmethod(_search, "web"))
        search_news = otel_llm.tool(functools.partialmethod(_search, "news"))
        search_named = otel_llm.tool("site_search")(functools.partialmethod(_search, "site"))
        retrieve = otel_llm.graph_node(functools.partialmethod(_search, "docs"))
        run = otel_llm.agent(functools.partialmethod(_search, "agent"))

    svc = Search()
    assert (svc.search_web("q"), svc.search_news("q"), svc.search_named("q")) == ("web:q", "news:q", "site:q")
    assert (svc.retrieve("q"), svc.run("q")) == ("docs:q", "agent:q")
    assert cap.span("execute_tool search_web").attributes[sc.GEN_AI_TOOL_NAME] == "search_web"
    assert cap.span("execute_tool search_news").attributes[sc.GEN_AI_TOOL_NAME] == "search_news"
    assert cap.span("execute_tool site_search")  # a given name wins
    assert cap.span("retrieve").attributes[sc.OTEL_LLM_GRAPH_NODE] == "retrieve"
    assert cap.span("invoke_agent searcher")  # a method agent: named after its instance, as any method agent


def test_a_decorated_partialmethod_set_outside_a_class_body_is_named_after_its_function(cap):
    class Search:
        def _search(self, engine: str, q: str) -> str:
            return f"{engine}:{q}"

    Search.search_web = otel_llm.tool(functools.partialmethod(Search._search, "web"))
    assert Search().search_web("q") == "web:q"
    assert cap.span("execute_tool _search")


class Adder:
    """A callable object: no ``__name__`` of its own."""

    def __call__(self, a: int, b: int) -> int:
        _inner()
        return a + b


class AsyncAdder:
    async def __call__(self, a: int, b: int) -> int:
        _inner()
        return a + b


class GenCounter:
    def __call__(self, n: int):
        for i in range(n):
            _inner()
            yield i


@parametrize_decorators
def test_callable_object(cap, make):
    assert make()(Adder())(40, 2) == 42
    _assert_nested(cap)


@parametrize_decorators
async def test_async_callable_object_is_awaited_inside_its_span(cap, make):
    assert await make()(AsyncAdder())(40, 2) == 42
    _assert_nested(cap)


@parametrize_decorators
def test_generator_callable_object_keeps_its_span_open_while_iterated(cap, make):
    assert list(make()(GenCounter())(2)) == [0, 1]
    outer = _one_outer(cap)
    inners = [s for s in cap.spans() if s.name == "inner"]
    assert len(inners) == 2 and all(s.parent.span_id == outer.context.span_id for s in inners)


@parametrize_decorators
def test_bound_method(cap, make):
    class Greeter:
        def __init__(self) -> None:
            self.greeting = "hi"

        def greet(self, name: str) -> str:
            _inner()
            return f"{self.greeting} {name}"

    assert make()(Greeter().greet)("ann") == "hi ann"
    _assert_nested(cap)


def test_bare_graph_node_on_a_nameless_callable_object_is_named_after_its_class(cap):
    node = otel_llm.graph_node(Adder())
    assert node(1, 2) == 3
    assert cap.span("Adder").attributes[sc.OTEL_LLM_GRAPH_NODE] == "Adder"



@parametrize_decorators
async def test_callables_that_do_not_bind_still_do_not_as_class_attributes(cap, make):
    """A partial, a callable object, a builtin or another object's bound method kept on a class is
    called without the instance (it is no function, so it does not bind): decorated, the same."""
    deco = make()

    def add(a: int, b: int) -> int:
        return a + b

    async def add_later(a: int, b: int) -> int:
        return a + b

    class Other:
        def add(self, a: int, b: int) -> int:
            return a + b

    class Svc:
        partial_40 = deco(functools.partial(add, 40))
        adder = deco(Adder())
        maximum = deco(max)
        others = deco(Other().add)
        later_40 = deco(functools.partial(add_later, 40))

    for svc in (Svc, Svc()):
        assert (svc.partial_40(2), svc.adder(40, 2), svc.maximum(42, 2), svc.others(40, 2)) == (42, 42, 42, 42)
        assert await svc.later_40(2) == 42
    assert inspect.iscoroutinefunction(Svc().later_40)
    assert inspect.signature(Svc.partial_40) == inspect.signature(functools.partial(add, 40))
    assert len([s for s in cap.spans() if s.name != "inner"]) == 10


def test_partial_is_named_after_the_function_it_wraps(cap):
    def retrieve(k: int, q: str) -> str:
        return q

    assert otel_llm.graph_node(functools.partial(retrieve, 3))("q") == "q"
    assert cap.spans()[0].name == "retrieve"


@pytest.mark.parametrize(
    "decorate",
    [
        lambda: otel_llm.llm_call,
        lambda: otel_llm.vector_op,
    ],
    ids=["llm_call", "vector_op"],
)
def test_bare_forms_of_decorators_that_take_options(cap, decorate):
    def lookup(q: str) -> list[str]:
        return [q]

    assert decorate()(lookup)("x") == ["x"]
    assert len(cap.spans()) == 1


@pytest.mark.parametrize(
    "make",
    [
        lambda: otel_llm.chat(),
        lambda: otel_llm.graph_node("n"),
        lambda: otel_llm.vector_op("search"),
        lambda: otel_llm.llm_call(model="m"),
        lambda: otel_llm.tool("t"),
        lambda: otel_llm.agent("a"),
    ],
    ids=["chat", "graph_node", "vector_op", "llm_call", "tool", "agent"],
)
def test_a_non_callable_is_left_as_it_is_with_a_warning(cap, caplog, make):
    with caplog.at_level(logging.WARNING, logger="otel_llm"):
        assert make()(42) == 42
    assert any("not callable" in r.getMessage() for r in caplog.records)


@parametrize_decorators
def test_a_class_is_left_a_class_with_a_warning(cap, caplog, make):
    """A decorator on a class would have turned it into a function (``isinstance`` raising,
    no subclassing, its constructor timed as the call): the class stays as it is, and the
    warning says to decorate its method."""

    class Agent:
        kind = "k"

        def __init__(self, x: int) -> None:
            self.x = x

        @classmethod
        def make(cls) -> "Agent":
            return cls(1)

    with caplog.at_level(logging.WARNING, logger="otel_llm"):
        decorated = make()(Agent)
    assert decorated is Agent
    assert isinstance(Agent.make(), Agent)
    assert any("is a class" in r.getMessage() and "Agent" in r.getMessage() for r in caplog.records)
    assert cap.spans() == []


@pytest.mark.parametrize("make", [lambda: otel_llm.tool, lambda: otel_llm.tool("lookup")], ids=["tool", "tool(name)"])
async def test_a_langchain_tool_stays_a_langchain_tool(cap, make):
    """``@otel_llm.tool`` stacked above LangChain's ``@tool`` had turned the tool into a plain
    function (``.invoke`` gone). The tool stays a LangChain tool - same name, schema, ``invoke`` -
    and the function it runs is instrumented."""
    from langchain_core.tools import BaseTool
    from langchain_core.tools import tool as langchain_tool

    @make()
    @langchain_tool("web_search")
    def search(q: str) -> str:
        """Search the web."""
        return f"found {q}"

    @make()
    @langchain_tool
    async def fetch(url: str) -> str:
        """Fetch a page."""
        return url

    assert isinstance(search, BaseTool) and isinstance(fetch, BaseTool)
    assert (search.name, search.description, list(search.args)) == ("web_search", "Search the web.", ["q"])
    assert search.invoke({"q": "otel"}) == "found otel"
    assert await fetch.ainvoke({"url": "u"}) == "u"
    tools = [s for s in cap.spans() if s.attributes[sc.OTEL_LLM_KIND] == sc.KIND_TOOL]
    assert len(tools) == 2


def test_another_langchain_runnable_is_left_as_it_is_with_a_warning(cap, caplog):
    from langchain_core.runnables import RunnableLambda

    runnable = RunnableLambda(lambda x: x + 1)
    with caplog.at_level(logging.WARNING, logger="otel_llm"):
        assert otel_llm.agent(runnable) is runnable
    assert runnable.invoke(1) == 2
    assert any("runnable" in r.getMessage() for r in caplog.records)


def test_a_callable_object_with_an_invoke_method_is_still_instrumented(cap):
    class Pipeline:
        def invoke(self, x: int) -> int:
            return x

        def __call__(self, x: int) -> int:
            return self.invoke(x) + 1

    assert otel_llm.tool("pipe")(Pipeline())(1) == 2
    assert [s.name for s in cap.spans()] == ["execute_tool pipe"]


def test_a_langchain_tool_is_named_and_described_as_the_model_sees_it(cap):
    """A bare ``@otel_llm.tool`` over ``@langchain_tool("web_search")`` named the span after the Python
    function (``execute_tool search``), not the tool the model calls; the tool's description was
    dropped too. An explicit ``name=`` still wins."""
    from langchain_core.tools import tool as langchain_tool

    @otel_llm.tool
    @langchain_tool("web_search")
    def search(q: str) -> str:
        """Search the web."""
        return f"found {q}"

    @otel_llm.tool("lookup")
    @langchain_tool("web_lookup")
    def look(q: str) -> str:
        """Look it up."""
        return q

    search.invoke({"q": "otel"})
    look.invoke({"q": "otel"})
    spans = {s.name: s for s in cap.spans() if s.attributes[sc.OTEL_LLM_KIND] == sc.KIND_TOOL}
    assert set(spans) == {"execute_tool web_search", "execute_tool lookup"}
    assert spans["execute_tool web_search"].attributes[sc.GEN_AI_TOOL_NAME] == "web_search"
    assert spans["execute_tool web_search"].attributes[sc.GEN_AI_TOOL_DESCRIPTION] == "Search the web."


def test_llm_call_takes_its_model_by_position_as_the_other_decorators_take_their_names(cap):
    """``@llm_call("gpt-4o")`` returned the string: applying it raised ``TypeError: 'str' object is not
    callable`` as the app's module was imported (``@tool("search")``, ``@agent("planner")`` take a name so)."""

    @otel_llm.llm_call("test-model")
    def ask() -> dict:
        return {"usage": {"prompt_tokens": 3, "completion_tokens": 2}}

    assert ask()["usage"]["prompt_tokens"] == 3
    span = cap.span("chat test-model")
    assert span.attributes[sc.GEN_AI_REQUEST_MODEL] == "test-model"
    assert span.attributes[sc.GEN_AI_USAGE_COST] > 0


def test_chat_given_an_option_by_position_still_decorates(cap, caplog):
    """``@chat("thread_id")``: the same crash at import; the option is ignored with a warning."""
    with caplog.at_level(logging.WARNING, logger="otel_llm"):

        @otel_llm.chat("thread_id")
        def answer(question: str) -> str:
            return question.upper()

    assert answer("hi") == "HI"
    assert cap.span("chat_turn answer")
    assert any("by keyword" in r.getMessage() for r in caplog.records)
