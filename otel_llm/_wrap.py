"""Classify the callable once and wrap it; every wrapper shares ``_core``.

Why classify at decoration time: ``inspect`` checks cost microseconds, and the
shape of a function never changes. Each wrapper is the same three zones
(``_guard``) in a few lines; all logic lives in :class:`otel_llm._core.Call`,
so the async wrapper differs from the sync one only by ``await``.

* sync / coroutine functions: the span is current while the function runs;
  a returned LLM stream becomes a stream proxy, a returned generator a generator
  standing in for it; any other iterator is returned as it is (``_streams``).
* coroutine, generator and async generator functions: the wrapper
  (:class:`_BindingFunction`) calls the app's function at once, which binds the
  arguments and runs no body code: wrong arguments raise the same ``TypeError``
  at the call, as undecorated (the call is recorded as failed, as a sync
  function's is). It returns a coroutine that awaits the app's with the span
  current (:func:`_coroutine_function`), or a generator (async generator) delegating to a
  stream proxy whose span is current only during each step; ``inspect`` still
  sees a coroutine (generator, async generator) function. Like the undecorated
  one, nothing else (not even the span) starts before the first ``await``
  (``next()``).

``functools.wraps`` keeps ``__name__``, ``__doc__``, ``__wrapped__`` and so
``inspect.signature``.

:func:`instrument` is what the public decorators call: it accepts every kind
of callable a decorator can meet — functions, bound methods,
``functools.partial``, callable objects (their shape is the shape of their
``__call__``) — and ``classmethod``/``staticmethod`` objects in either stacking
order (the descriptor is unwrapped, its function instrumented, and the same
descriptor type put back), and ``functools.partialmethod`` objects (likewise,
named after the class attribute holding them: :class:`_PartialMethod`). Decoration never raises: a value that is not
callable, or a class (a function standing in for it would break ``isinstance``
and subclassing), is returned unchanged with a warning; a LangChain tool stays a
tool, the functions it runs instrumented (other runnables are left as they are,
with a warning); an internal fault leaves the function uninstrumented (through
the guard).
"""

from __future__ import annotations

import functools
import inspect
import logging
import types
from collections.abc import Callable
from typing import Any, TypeVar

from otel_llm._content import class_name, type_name, utf8_safe
from otel_llm._core import Kind, open_call
from otel_llm._guard import internal_error
from otel_llm._streams import async_generator_function, generator_function

__all__ = ["callable_name", "instrument", "wrap"]

_log = logging.getLogger("otel_llm")

F = TypeVar("F", bound=Callable[..., Any])


def _open_stream(iterator: Any, kind: Kind, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """The (async) generator ``iterator`` a call made with ``args``, behind a stream proxy when a span opened
    (at its first step)."""
    call = open_call(kind, args, kwargs, False)  # attach: no (see open_call)
    return iterator if call is None else call.stream(iterator)


class _Made:
    """The coroutine the app's function made at the call, held until the stand-in (:func:`_coroutine_function`) awaits it.

    Dropped unawaited, the stand-in coroutine gets Python's "was never awaited"
    warning, under the app's function's name; the app's coroutine, never
    started, is closed here (a closed coroutine is not warned about), so the app
    sees the one warning it saw without otel-llm. One that started is left to
    the stand-in's own close (which closes it through its ``await``).
    """

    __slots__ = ("coroutine",)

    def __init__(self, coroutine: Any) -> None:
        self.coroutine = coroutine

    def __del__(self) -> None:
        coroutine = self.coroutine
        if type(coroutine) is types.CoroutineType and inspect.getcoroutinestate(coroutine) == inspect.CORO_CREATED:
            coroutine.close()


def _coroutine_function() -> Callable[..., Any]:
    """A coroutine function standing in for each coroutine of one decorated function (a new one per
    function: :class:`_BindingFunction` names it after the app's, and the coroutines it makes with it)."""

    async def _awaiting(made: _Made, kind: Kind, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        coroutine = made.coroutine
        call = open_call(kind, args, kwargs, True)  # attach, by position (a keyword costs more)
        if call is None:
            return await coroutine
        try:
            result = await coroutine
        except BaseException as exc:
            call.fail(exc)
            raise
        return call.finish(result)

    return _awaiting


class _BindingFunction(functools.partial):  # type: ignore[type-arg]
    """An instrumented coroutine, generator or async generator function: its arguments are bound at the call.

    Calling such a function binds its arguments at once (wrong ones raise
    ``TypeError`` there) and runs no body code. A function of the same kind
    standing in for it could bind the app's function's arguments only in its
    body, when awaited or at the first ``next()``. So the stand-in is a callable
    that calls the app's function (``_otel_llm_fn``) at once, and hands what it
    made to ``func``: the coroutine function of :func:`_coroutine_function`
    (which opens the span when awaited), or a generator (async generator)
    function of :mod:`otel_llm._streams` that opens it at the first step and
    delegates to the stream proxy.

    A partial of ``func``, since ``inspect`` sees through partials: the
    decorated function is still a coroutine (generator, async generator)
    function to ``inspect.iscoroutinefunction`` (``isgeneratorfunction``...;
    frameworks choose how to run a callable by it), and its signature is the app's
    function's (``__wrapped__``). Kept on a class it binds as a function does
    (``__get__``), and it pickles by its qualified name, as a function does.
    Its ``__class__`` answers ``functools.partial`` (``type()`` still names this
    class): a pydantic model (a LangChain chat model) takes any class attribute
    for a field, and refuses the class, unless it is a function, a descriptor of
    its kind or an object of a ``functools`` class; ``isinstance`` is unchanged.
    """

    _otel_llm_fn: Callable[..., Any]
    _otel_llm_kind: Kind
    _otel_llm_holder: Callable[[Any], Any] | None  # what carries the made coroutine to ``func`` (:class:`_Made`)

    def __new__(cls, fn: Callable[..., Any], kind: Kind, forwarding: Callable[..., Any],
                holder: Callable[[Any], Any] | None = None) -> "_BindingFunction":
        functools.update_wrapper(forwarding, fn)  # what it makes is named after the app's function
        self = super().__new__(cls, forwarding)
        functools.update_wrapper(self, fn)
        self._otel_llm_fn = fn
        self._otel_llm_kind = kind
        self._otel_llm_holder = holder
        return self

    def __call__(self, /, *args: Any, **kwargs: Any) -> Any:
        kind = self._otel_llm_kind
        try:
            made = self._otel_llm_fn(*args, **kwargs)  # binds the arguments; runs no body code
        except BaseException as exc:  # the app's call is wrong: recorded as a sync function's failure is
            call = open_call(kind, args, kwargs, False)
            if call is not None:
                call.fail(exc)
            raise
        holder = self._otel_llm_holder
        return self.func(made if holder is None else holder(made), kind, args, kwargs)

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # noqa: D105
        return functools.partial

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        return self if instance is None else types.MethodType(self, instance)

    def __reduce__(self) -> Any:
        name = getattr(self, "__qualname__", None)  # a callable object may have none: rebuilt from it
        return name if isinstance(name, str) else (wrap, (self._otel_llm_fn, self._otel_llm_kind))

    def __repr__(self) -> str:
        return f"<otel_llm instrumented function {_qualname(self._otel_llm_fn)}>"


def callable_name(fn: Any) -> str:
    """A name for any callable: its ``__name__``, a partial's function's, else its class's (:func:`utf8_safe`:
    a ``__name__`` may be any string, and it names spans)."""
    while isinstance(fn, functools.partial):
        fn = fn.func
    try:
        name = getattr(fn, "__name__", None)
    except Exception:  # noqa: BLE001 — a class whose metaclass hides its names
        name = None
    return utf8_safe(name) if isinstance(name, str) and name else type_name(fn)


def _shape_of(fn: Any) -> Any:
    """The function whose code decides the callable's shape (sync, coroutine, generator...).

    ``inspect`` already sees through bound methods and partials; a callable
    object is judged by its class's ``__call__``.
    """
    target = fn
    while isinstance(target, functools.partial):
        target = target.func
    if inspect.isroutine(target) or isinstance(target, type):
        return fn
    call = getattr(type(target), "__call__", None)
    return fn if call is None else call


def instrument(fn: Any, make_kind: Callable[[Any], Kind]) -> Any:
    """Instrument ``fn`` as the kind ``make_kind(fn)`` builds; never raises at decoration."""
    if isinstance(fn, (classmethod, staticmethod)):
        return type(fn)(instrument(fn.__func__, make_kind))
    if isinstance(fn, functools.partialmethod):
        return _PartialMethod(fn, make_kind)
    if not inspect.isroutine(fn) and callable(getattr(fn, "invoke", None)):
        tool = _langchain_tool(fn, make_kind)
        if tool is not None:
            return tool
        if not callable(fn):  # the app calls its invoke(): a function standing in for it would break it
            _log.warning(
                "otel-llm: %s is a LangChain runnable, so it is left as it is (not instrumented): decorate the "
                "function it runs",
                type_name(fn),
            )
            return fn
    if not callable(fn):
        _log.warning("otel-llm: %r is not callable, so it is left as it is (not instrumented)", fn)
        return fn
    if isinstance(fn, type):  # a wrapper function would stand in for the class: isinstance, subclasses break
        _log.warning(
            "otel-llm: %s is a class, so it is left as it is (not instrumented): decorate the method that runs it",
            class_name(fn, qualified=True),
        )
        return fn
    try:
        return wrap(fn, make_kind(fn))
    except Exception as exc:  # noqa: BLE001 — an otel-llm fault: the app keeps its function
        # Logged per function, not once for all: a function left uninstrumented is never left so silently.
        internal_error(f"wrap.instrument of {_qualname(fn)}", exc)
        return fn


def _qualname(fn: Any) -> str:
    """The qualified name of what a decorator was given (its module's and class's too), for a log line."""
    try:
        name, module = getattr(fn, "__qualname__", None), getattr(fn, "__module__", None)
    except Exception:  # noqa: BLE001 — a class whose metaclass hides its names
        name, module = None, None
    text = name if isinstance(name, str) else callable_name(fn)
    return f"{module}.{text}" if isinstance(module, str) else text


class _PartialMethod(functools.partialmethod):  # type: ignore[type-arg]
    """A ``functools.partialmethod`` whose function is instrumented, named after the attribute holding it.

    ``search_web = tool(partialmethod(_search, "web"))`` beside
    ``search_news = tool(partialmethod(_search, "news"))`` are two tools: in a
    class body, ``__set_name__`` instruments the function again, its kind made
    for a copy of it named after the attribute (``search_web``), so spans and
    metrics tell them apart. The app's own function is still the one called: a
    wrong call's ``TypeError`` and a traceback name it as they would bare. A name
    given to the decorator still wins; set on a class later, or over anything
    but a plain function, the function's own name stays.
    """

    def __init__(self, method: functools.partialmethod, make_kind: Callable[[Any], Kind]) -> None:  # type: ignore[type-arg]
        super().__init__(instrument(method.func, make_kind), *method.args, **method.keywords)
        self._plain = method.func
        self._make_kind = make_kind

    def __set_name__(self, owner: type, name: str) -> None:
        plain = self._plain
        if not isinstance(plain, types.FunctionType) or plain.__name__ == name:
            return
        try:
            renamed = types.FunctionType(plain.__code__, plain.__globals__, name, plain.__defaults__, plain.__closure__)
            renamed.__kwdefaults__ = plain.__kwdefaults__
            renamed.__dict__.update(plain.__dict__)
            renamed.__module__, renamed.__doc__ = plain.__module__, plain.__doc__
            renamed.__annotations__ = plain.__annotations__
            renamed.__qualname__ = f"{owner.__qualname__}.{name}"
            make_kind = self._make_kind
            self.func = instrument(plain, lambda _plain: make_kind(renamed))
        except Exception as exc:  # noqa: BLE001 — an otel-llm fault: the function keeps its own name
            internal_error("wrap.partialmethod", exc)


# The functions a LangChain tool (``StructuredTool``, ``Tool``) runs: its sync and async function.
_RUNNABLE_FUNCTIONS = ("func", "coroutine")


def _langchain_tool(runnable: Any, make_kind: Callable[[Any], Kind]) -> Any:
    """A copy of a LangChain tool with the functions it runs instrumented (same name, schema and
    methods: the app calls its ``invoke``), or ``None`` when ``runnable`` is no such tool."""
    copy = getattr(runnable, "model_copy", None)
    if not callable(copy):
        return None
    update = {
        name: instrument(function, make_kind)
        for name in _RUNNABLE_FUNCTIONS
        if callable(function := getattr(runnable, name, None))
    }
    return copy(update=update) if update else None


def wrap(fn: F, kind: Kind) -> F:
    """Return ``fn`` instrumented as ``kind``; same signature and behaviour.

    Kept on a class, the instrumented callable binds to the instance exactly when
    ``fn`` does (see :func:`_as_unbinding`).
    """
    wrapper = _wrapper(fn, kind)
    return wrapper if hasattr(type(fn), "__get__") else _as_unbinding(wrapper, fn, kind)  # type: ignore[return-value]


def _as_unbinding(wrapper: Callable[..., Any], fn: Any, kind: Kind) -> Any:
    """``wrapper`` as a callable that, like ``fn``, does not bind when kept on a class.

    A function kept on a class becomes a method of each instance; a
    ``functools.partial``, a callable object, a builtin or a bound method does
    not (no ``__get__``): ``ask = llm_call(partial(create, model="m"))`` in a
    class body is still called without ``self``. A partial stands in, the
    standard library's own non-binding callable, which ``inspect`` sees through
    (signature, coroutine and generator function checks); it pickles as ``fn``
    and ``kind`` (:class:`_Unbinding`).
    """
    stand_in = _Unbinding(wrapper)
    functools.update_wrapper(stand_in, fn)
    stand_in._otel_llm_kind = kind
    return stand_in


class _Unbinding(functools.partial):  # type: ignore[type-arg]
    """The stand-in of :func:`_as_unbinding`: pickled (and copied) as the callable it instruments and its
    kind, rebuilt by :func:`wrap`, as a process pool pickles the callables submitted to it (the wrapper
    function inside is local to ``_wrapper``: pickled itself, it could not be found again)."""

    _otel_llm_kind: Kind

    def __reduce__(self) -> tuple[Any, ...]:
        return wrap, (self.__wrapped__, self._otel_llm_kind)


def _wrapper(fn: Any, kind: Kind) -> Callable[..., Any]:
    """The wrapper function of ``fn``'s shape, every call a ``kind`` call."""
    shape = _shape_of(fn)
    if inspect.isgeneratorfunction(shape):  # a generator function too, to inspect
        return _BindingFunction(fn, kind, generator_function(_open_stream))

    if inspect.isasyncgenfunction(shape):  # an async generator function too
        return _BindingFunction(fn, kind, async_generator_function(_open_stream))

    if inspect.iscoroutinefunction(shape):  # a coroutine function too
        return _BindingFunction(fn, kind, _coroutine_function(), _Made)

    @functools.wraps(fn)
    def sync_wrapper(*args: Any, **kwargs: Any) -> Any:
        call = open_call(kind, args, kwargs, True)  # attach, by position (a keyword costs more)
        if call is None:
            return fn(*args, **kwargs)
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            call.fail(exc)
            raise
        return call.finish(result)

    return sync_wrapper  # type: ignore[return-value]
