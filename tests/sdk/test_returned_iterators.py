"""A returned iterator that is no LLM stream comes back exactly as the function returned it.

A decorated function may return an iterator the SDK knows nothing of: a
``sqlite3.Cursor``, a ``csv.reader``, a ``map``, a list iterator. Wrapped in
the stream proxy, the app got back another type (``isinstance`` failed, the
cursor's ``fetchall`` or ``csv.reader``'s ``line_num`` went through
``__getattr__`` or not at all). Such values are now returned as they are, the
span ending with the call. Generators (and async generators) stay streams —
their span covers the iteration — behind a generator of the same type, so the
app still gets a generator (``inspect.isgenerator``, ``send``, ``close``, the
return value).
"""

from __future__ import annotations

import asyncio
import csv
import inspect
import io
import sqlite3
from types import AsyncGeneratorType, GeneratorType
from typing import Any

import pytest

import otel_llm
from otel_llm import _streams
from otel_llm import semconv as sc


def _cursor() -> sqlite3.Cursor:
    db = sqlite3.connect(":memory:")
    db.execute("create table t (x)")
    db.executemany("insert into t values (?)", [(1,), (2,)])
    return db.execute("select x from t")


def _foreign(module: str, name: str) -> Any:
    """An iterator class of another package's (``module``), named ``name``."""

    def __next__(self: Any) -> Any:
        raise StopIteration

    return type(name, (), {"__module__": module, "__iter__": lambda self: self, "__next__": __next__})


def _plain_iterators() -> dict[str, Any]:
    return {
        "botocore-streaming-body": _foreign("botocore.response", "StreamingBody"),
        "google-page-iterator": _foreign("google.api_core.page_iterator", "HTTPIterator"),
        "stdlib-stream-reader": _foreign("asyncio.streams", "StreamReader"),
        "sqlite-cursor": _cursor,
        "csv-reader": lambda: csv.reader(io.StringIO("a,b\n1,2\n")),
        "csv-dictreader": lambda: csv.DictReader(io.StringIO("a,b\n1,2\n")),
        "map": lambda: map(str, [1, 2]),
        "list-iterator": lambda: iter([1, 2]),
        "zip": lambda: zip([1], [2]),
        "regex-finditer": lambda: __import__("re").finditer("a", "aa"),
    }


class Stream:
    """A provider's stream (named as OpenAI's is) of one chunk carrying usage."""

    def __init__(self) -> None:
        self._it = iter([{"choices": [], "usage": {"prompt_tokens": 2, "completion_tokens": 3}}])

    def __iter__(self) -> "Stream":
        return self

    def __next__(self) -> Any:
        return next(self._it)


@pytest.mark.parametrize(
    "decorator",
    [otel_llm.llm_call(model="m"), otel_llm.graph_node("rows"), otel_llm.vector_op("query"), otel_llm.tool("rows")],
    ids=["llm_call", "graph_node", "vector_op", "tool"],
)
@pytest.mark.parametrize("make", list(_plain_iterators().values()), ids=list(_plain_iterators()))
def test_a_plain_iterator_comes_back_as_it_is(decorator, make) -> None:
    with otel_llm.testing.capture() as cap:
        returned: list[Any] = []

        def rows() -> Any:
            value = make()
            returned.append(value)
            return value

        got = decorator(rows)()
        assert got is returned[0]
        assert len(cap.spans()) == 1  # the span ended with the call
        assert sc.OTEL_LLM_STREAM_CHUNKS not in cap.spans()[0].attributes
        list(got)  # still the app's own iterator


def test_a_cursor_keeps_its_methods_and_type() -> None:
    with otel_llm.testing.capture():

        @otel_llm.graph_node("query")
        def query() -> sqlite3.Cursor:
            return _cursor()

        cursor = query()
    assert type(cursor) is sqlite3.Cursor
    assert cursor.fetchall() == [(1,), (2,)]


def test_a_returned_generator_is_still_a_generator_and_its_span_covers_it() -> None:
    with otel_llm.testing.capture() as cap:

        def numbers() -> Any:
            got = yield 1
            yield got
            return "done"

        @otel_llm.graph_node("numbers")
        def make() -> Any:
            return numbers()

        gen = make()
        assert isinstance(gen, GeneratorType) and inspect.isgenerator(gen)
        assert gen.__name__ == "numbers"
        assert not cap.spans()  # not read yet: the span covers the iteration
        assert next(gen) == 1
        assert gen.send("sent") == "sent"
        with pytest.raises(StopIteration) as stop:
            next(gen)
        assert stop.value.value == "done"
    span = cap.span("numbers")
    assert span.attributes[sc.OTEL_LLM_STREAM_CHUNKS] == 2 and span.attributes[sc.OTEL_LLM_STREAM_COMPLETE] is True


def test_a_returned_async_generator_is_still_an_async_generator() -> None:
    async def numbers() -> Any:
        yield 1
        yield 2

    async def main(cap) -> list[int]:
        @otel_llm.llm_call(model="m")
        def make() -> Any:
            return numbers()

        agen = make()
        assert isinstance(agen, AsyncGeneratorType) and inspect.isasyncgen(agen)
        return [n async for n in agen]

    with otel_llm.testing.capture() as cap:
        assert asyncio.run(main(cap)) == [1, 2]
    assert cap.span("chat m").attributes[sc.OTEL_LLM_STREAM_CHUNKS] == 2


@pytest.mark.parametrize(
    "module, name",
    [("openai._streaming", "Iterator"), ("google.genai.models", "Chunks"), ("langchain_openai.x", "Chunks"),
     ("mistralai.utils", "EventStreamAsync"), ("litellm.x", "CustomStreamWrapper"), ("app", "ChatStream")],
)
def test_the_types_of_llm_sdks_and_streams_are_understood(module: str, name: str) -> None:
    assert _streams._understood(_foreign(module, name))


def test_a_provider_stream_is_still_a_stream() -> None:
    """A type the SDK understands (named ``…Stream``, as OpenAI's and Anthropic's are) stays proxied."""
    with otel_llm.testing.capture() as cap:

        @otel_llm.llm_call(model="m")
        def ask() -> Stream:
            return Stream()

        assert len(list(ask())) == 1
    assert cap.span("chat m").attributes[sc.GEN_AI_USAGE_OUTPUT_TOKENS] == 3


def test_a_stream_proxy_returned_by_another_decorated_function_stays_a_stream() -> None:
    with otel_llm.testing.capture() as cap:
        ask = otel_llm.llm_call(model="m")(lambda: Stream())
        write = otel_llm.agent("writer")(lambda: ask())
        stream = write()
        assert not cap.spans()  # both spans cover the stream
        assert len(list(stream)) == 1
    assert cap.span("invoke_agent writer").attributes[sc.OTEL_LLM_AGENT_OUTPUT_TOKENS] == 3


class StreamWrapper:
    """openai-v2's wrapper of a stream: both protocols on one class, the stream it wraps in ``.stream``
    (no ``__wrapped__``)."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream

    def __iter__(self) -> "StreamWrapper":
        return self

    def __next__(self) -> Any:
        return next(self.stream)

    def __aiter__(self) -> "StreamWrapper":
        return self

    async def __anext__(self) -> Any:
        return await self.stream.__anext__()


def test_a_wrapper_with_both_protocols_is_the_kind_of_the_stream_it_holds() -> None:
    """A sync function returning openai-v2's wrapper of a sync stream got the async proxy, so iterating
    it raised ``TypeError: 'AsyncStreamProxy' object is not iterable`` into the app."""
    with otel_llm.testing.capture() as cap:
        ask = otel_llm.llm_call(model="m")(lambda: StreamWrapper(Stream()))
        assert len(list(ask())) == 1
    assert cap.span("chat m").attributes[sc.GEN_AI_USAGE_OUTPUT_TOKENS] == 3


def test_a_wrapper_with_both_protocols_around_nothing_it_can_tell_comes_back_as_it_is() -> None:
    """Which protocol is meant cannot be told: the value comes back unchanged (never a proxy of the wrong kind)."""
    value = StreamWrapper(None)
    assert otel_llm.llm_call(model="m")(lambda: value)() is value
