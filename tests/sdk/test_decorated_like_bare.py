"""Every decorator kind, on every shape and form of callable, behaves as the undecorated callable does.

The matrix: six kinds (``llm_call``, ``chat``, ``tool``, ``agent``,
``graph_node``, ``vector_op``) x four shapes (sync, ``async def``, generator,
async generator) x ten forms (a function, a method, a classmethod and a
staticmethod with the decorator above or below ``classmethod``/``staticmethod``,
a ``functools.partial``, a ``functools.partialmethod``, a callable object, a
bound method).
For each, against the same callable undecorated:

* a call with a wrong argument raises the same ``TypeError`` at the call (no
  ``await``, no ``next()``);
* the app's exception reaches the caller as the same object, unchained, its
  traceback starting where the caller's did and ending where the app raised it;
  so does one the caller throws into a generator (``throw``/``athrow``) it does not catch;
* what the app's logging prints, and what reaches stdout and stderr, is the same.
"""

from __future__ import annotations

import functools
import inspect
import logging
import traceback
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from tests.sdk.test_call_arguments import DECORATORS

_log = logging.getLogger("the_app")


class AppError(Exception):
    """The app's own exception, raised by its function."""


def _fail_or_log(query: str) -> None:
    if query == "boom":
        raise AppError(f"the app says {query}")
    _log.warning("the app ran with %s", query)


def sync_plain(query: str, limit: int) -> str:
    _fail_or_log(query)
    return query * limit


async def async_plain(query: str, limit: int) -> str:
    _fail_or_log(query)
    return query * limit


def gen_plain(query: str, limit: int) -> Iterator[str]:
    _fail_or_log(query)
    yield from [query] * limit


async def agen_plain(query: str, limit: int) -> AsyncIterator[str]:
    _fail_or_log(query)
    for _ in range(limit):
        yield query


def sync_bound(self: Any, query: str, limit: int) -> str:
    return sync_plain(query, limit)


async def async_bound(self: Any, query: str, limit: int) -> str:
    return await async_plain(query, limit)


def gen_bound(self: Any, query: str, limit: int) -> Iterator[str]:
    yield from gen_plain(query, limit)


async def agen_bound(self: Any, query: str, limit: int) -> AsyncIterator[str]:
    async for item in agen_plain(query, limit):
        yield item


# shape -> (the function for a plain call, the function taking self or cls first)
SHAPES = {
    "sync": (sync_plain, sync_bound),
    "async": (async_plain, async_bound),
    "generator": (gen_plain, gen_bound),
    "async-generator": (agen_plain, agen_bound),
}


def _callable(form: str, shape: str, decorate: Callable[[Any], Any]) -> Callable[..., Any]:
    """The callable the app calls, of ``form``, its function ``decorate``d (the identity: undecorated)."""
    plain, bound = SHAPES[shape]
    if form == "function":
        return decorate(plain)
    if form == "partial":
        return decorate(functools.partial(plain))
    if form in ("callable-object", "bound-method"):
        owner = type("Pager", (), {"name": "pager", "__call__": bound, "run": bound})
        return decorate(owner()) if form == "callable-object" else decorate(owner().run)
    members = {
        "method": lambda: decorate(bound),
        "partialmethod": lambda: decorate(functools.partialmethod(bound)),
        "classmethod-above": lambda: decorate(classmethod(bound)),
        "classmethod-below": lambda: classmethod(decorate(bound)),
        "staticmethod-above": lambda: decorate(staticmethod(plain)),
        "staticmethod-below": lambda: staticmethod(decorate(plain)),
    }
    owner = type("Pager", (), {"name": "pager", "run": members[form]()})
    return owner().run if form in ("method", "partialmethod") else owner.run


FORMS = ["function", "method", "classmethod-above", "classmethod-below", "staticmethod-above", "staticmethod-below",
         "partial", "partialmethod", "callable-object", "bound-method"]


def _bare(form: str, shape: str) -> Callable[..., Any]:
    return _callable(form, shape, lambda fn: fn)


async def _drive(made: Any) -> Any:
    """What the app does with what a call returned: await it, read it through, or take it."""
    if inspect.isawaitable(made):
        return await made
    if inspect.isasyncgen(made):
        return [item async for item in made]
    if inspect.isgenerator(made):
        return list(made)
    return made


async def _outcome(fn: Callable[..., Any], *args: Any) -> tuple[Any, BaseException | None]:
    try:
        return await _drive(fn(*args)), None
    except AppError as exc:
        return None, exc


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("kind", list(DECORATORS))
def test_a_wrong_call_raises_the_same_type_error_at_the_call(cap: Any, kind: str, shape: str, form: str) -> None:
    with pytest.raises(TypeError) as bare:
        _bare(form, shape)("q")
    with pytest.raises(TypeError) as decorated:
        _callable(form, shape, DECORATORS[kind])("q")  # no await, no next()
    assert str(decorated.value) == str(bare.value)


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("kind", list(DECORATORS))
async def test_the_apps_exception_reaches_the_caller_unchanged(cap: Any, kind: str, shape: str, form: str) -> None:
    _, bare = await _outcome(_bare(form, shape), "boom", 2)
    _, raised = await _outcome(_callable(form, shape, DECORATORS[kind]), "boom", 2)
    assert isinstance(bare, AppError) and isinstance(raised, AppError)
    assert type(raised) is AppError and str(raised) == str(bare)
    assert raised.__cause__ is None and raised.__context__ is None and not raised.__suppress_context__
    bare_frames = traceback.extract_tb(bare.__traceback__)
    frames = traceback.extract_tb(raised.__traceback__)
    # the same head (where the caller called) and the same end (where the app raised)
    assert (frames[0].filename, frames[0].name) == (bare_frames[0].filename, bare_frames[0].name)
    assert (frames[-1].filename, frames[-1].lineno, frames[-1].name) == (
        bare_frames[-1].filename, bare_frames[-1].lineno, bare_frames[-1].name)
    (span,) = cap.spans()
    assert span.attributes["error.type"] == "AppError"  # recorded on its span


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("kind", list(DECORATORS))
async def test_what_the_app_prints_is_the_same(cap: Any, caplog: pytest.LogCaptureFixture,
                                               capsys: pytest.CaptureFixture[str], kind: str, shape: str,
                                               form: str) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, otel-llm's too: nothing of otel-llm's may show

    async def printed(fn: Callable[..., Any]) -> tuple[Any, list[tuple[str, int, str]], tuple[str, str]]:
        caplog.clear()
        capsys.readouterr()
        results = [await _outcome(fn, "q", 2), await _outcome(fn, "boom", 1)]
        return [(value, type(exc)) for value, exc in results], caplog.record_tuples, capsys.readouterr()

    assert await printed(_callable(form, shape, DECORATORS[kind])) == await printed(_bare(form, shape))


async def _thrown_back(fn: Callable[..., Any]) -> BaseException | None:
    """Throw the app's exception into the generator ``fn`` made, at its first item: what comes back."""
    made = fn("q", 2)
    err = AppError("thrown in")
    try:
        if inspect.isasyncgen(made):
            await made.__anext__()
            await made.athrow(err)
        else:
            next(made)
            made.throw(err)
    except AppError as exc:
        assert exc is err
        return exc
    return None


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("shape", ["generator", "async-generator"])
@pytest.mark.parametrize("kind", list(DECORATORS))
async def test_an_exception_thrown_into_a_generator_comes_back_unchanged(cap: Any, kind: str, shape: str,
                                                                         form: str) -> None:
    bare = await _thrown_back(_bare(form, shape))
    raised = await _thrown_back(_callable(form, shape, DECORATORS[kind]))
    assert bare is not None and raised is not None
    assert raised.__cause__ is None and raised.__context__ is None
    bare_frames = traceback.extract_tb(bare.__traceback__)
    frames = traceback.extract_tb(raised.__traceback__)
    assert (frames[0].filename, frames[0].name) == (bare_frames[0].filename, bare_frames[0].name)
    assert (frames[-1].filename, frames[-1].lineno, frames[-1].name) == (
        bare_frames[-1].filename, bare_frames[-1].lineno, bare_frames[-1].name), (frames, bare_frames)
