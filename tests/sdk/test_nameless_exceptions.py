"""An exception whose class hides its name (a metaclass whose ``__name__``/``__qualname__`` raise)
still propagates to the app unchanged, and its span still ends failed with a stable ``error.type``.

Such classes exist in the wild (proxies, lazy-loading metaclasses, mocks); reading the name through
the metaclass raised inside otel-llm, and the guard's own log line (formatting that traceback) raised
again: the app got otel-llm's ``RuntimeError`` instead of its own exception.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

import otel_llm
from otel_llm import semconv as sc
from otel_llm._content import ContentPolicy
from otel_llm._guard import internal_error, swallowing


class HidesName(type):
    """A metaclass whose class names cannot be read through it (while ``hiding``: pytest reads them
    to report a failure)."""

    hiding = False

    def __getattribute__(cls, name: str) -> Any:
        if name in ("__name__", "__qualname__") and HidesName.hiding:
            raise RuntimeError(f"no {name}")
        return super().__getattribute__(name)


@contextmanager
def names_hidden() -> Iterator[None]:
    HidesName.hiding = True
    try:
        yield
    finally:
        HidesName.hiding = False


def _raised(fn: Callable[[], Any]) -> BaseException | None:
    """What ``fn()`` raised with the names hidden (caught here: only then may pytest read it)."""
    with names_hidden():
        try:
            fn()
        except BaseException as exc:  # noqa: BLE001
            return exc
    return None


class NamelessError(Exception, metaclass=HidesName):
    pass


def _failing(err: BaseException, asynchronous: bool) -> Any:
    if asynchronous:

        @otel_llm.llm_call(model="test-model", provider="openai")
        async def ask_async() -> None:
            raise err

        return lambda: asyncio.run(ask_async())

    @otel_llm.llm_call(model="test-model", provider="openai")
    def ask() -> None:
        raise err

    return ask


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_an_exception_whose_class_name_raises_propagates_and_fails_the_span(cap, capsys, asynchronous) -> None:
    err = NamelessError("boom")
    assert _raised(_failing(err, asynchronous)) is err
    span = cap.span("chat test-model")
    assert span.end_time is not None
    assert span.status.status_code.name == "ERROR"
    assert span.attributes[sc.ERROR_TYPE] == "NamelessError"  # the class's own name, read past the metaclass
    assert span.status.description == "NamelessError: boom"
    assert [e.attributes[sc.EXCEPTION_TYPE] for e in span.events if e.name == sc.EVENT_EXCEPTION] == ["NamelessError"]
    assert capsys.readouterr().err == ""  # nothing printed on the app's stderr


def test_a_logged_nameless_exception_is_redacted_without_raising() -> None:
    """The logs bridge hands each record with a redact hook to ``log_record``: the exception's type and
    stack trace are read there too, and must not raise into the app's logging call."""
    policy = ContentPolicy(redact=lambda text: text.replace("secret", "[x]"))
    try:
        raise NamelessError("secret value")
    except NamelessError:
        record = logging.LogRecord("app", logging.ERROR, __file__, 1, "failed %s", ("secret",), sys.exc_info())
    outcome: list[logging.LogRecord] = []
    assert _raised(lambda: outcome.append(policy.log_record(record))) is None
    out = outcome[0]
    assert out.msg == "failed [x]"
    assert out.__dict__[sc.EXCEPTION_TYPE] == "NamelessError"
    assert out.__dict__[sc.EXCEPTION_MESSAGE] == "[x] value"
    stack = out.__dict__[sc.EXCEPTION_STACKTRACE]
    assert "test_a_logged_nameless_exception_is_redacted_without_raising" in stack
    assert stack.rstrip().endswith("NamelessError: [x] value")


def test_an_internal_error_raised_while_handling_a_nameless_exception_is_logged_without_raising(caplog) -> None:
    """The guard logs its fault with the traceback; one chained to an exception ``traceback`` cannot
    format made the app's logging handler raise (and print ``--- Logging error ---``) in production."""
    try:
        try:
            raise NamelessError("app's")
        except NamelessError:
            raise ValueError("otel-llm's")
    except ValueError as exc:
        fault = exc
    with swallowing(), caplog.at_level(logging.WARNING, logger="otel_llm"):
        assert _raised(lambda: internal_error("test.nameless", fault)) is None
    assert [r.getMessage() for r in caplog.records if "test.nameless" in r.getMessage()]


class NamelessCallable(metaclass=HidesName):
    """A callable object and a class whose class names cannot be read."""

    def __call__(self, query: str) -> str:
        return query


def test_a_callable_or_class_without_a_readable_name_is_decorated_without_raising(cap, caplog) -> None:
    """Decoration never raises: the names read for a span's name and a warning went through the metaclass."""
    outcome: list[Any] = []
    target = NamelessCallable()
    assert _raised(lambda: outcome.append(otel_llm.tool(target))) is None
    assert _raised(lambda: outcome.append(otel_llm.tool(NamelessCallable))) is None
    assert _raised(lambda: outcome.append(otel_llm.agent(target)("q"))) is None  # an agent is named on each call
    tool, left_as_is, answer = outcome
    assert left_as_is is NamelessCallable  # a class is left as it is, with a warning
    assert [r for r in caplog.records if "is a class" in r.getMessage()]
    assert tool("q") == answer == "q"
    assert cap.span("execute_tool NamelessCallable")
    assert cap.span("invoke_agent NamelessCallable")

