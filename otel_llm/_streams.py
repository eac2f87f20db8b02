"""Returned-iterator proxies: the span of a stream ends exactly once.

Why proxies: a generator function, an async generator or a function returning a
provider stream object (OpenAI ``Stream``/``AsyncStream``, Anthropic's, a
LangChain iterator) finishes long after the decorated call returned. The proxy
stands in for the iterator, passes every item through unchanged, and ends the
span on whichever comes first: exhaustion, ``close()``/``aclose()``, ``break``
(the proxy is dropped), an exception, task cancellation, or garbage collection
of an abandoned stream (``__del__`` behind the call's end-once flag).

Generator functions keep their kind: ``_wrap`` makes the wrapper a generator
(async generator) that delegates to the proxy, so dropping it closes the proxy
the way Python closes any generator (async ones via the event loop's asyncgen
hooks). Provider stream objects are handed to the caller as the proxy itself.

Per item, on the caller's hot path, the proxy counts the item and hands it to
the observer the call's kind chose on the *first* item (for an llm_call, the
reader of where that provider puts usage: ``_stream_usage``); usage, cost and
the span's stream attributes are settled once, when the stream stops.

Context: each step of a generator (``next``/``send``/``throw``/``close``)
runs with the span's context attached *only for that step* and detached
before the item is handed to the caller, so children created in the generator
body nest under the span while nothing leaks into the caller's code between
items. A provider's stream object runs no code of the app's, so its steps run
as they are (a context switch per chunk is a third of the proxy's cost).

A provider's stream manager (``client.messages.stream(...)``) gets a manager
proxy whose ``with`` block the span covers (:class:`_ManagerProxy`); a
coroutine a sync function returned, a coroutine the span covers the awaiting of
(:func:`_awaited`).

Which returned values are streams (:func:`wrap_if_stream`): generators and async
generators, and iterators (``__next__``/``__anext__`` on the type) that are LLM
streams the SDK understands — a provider SDK's (by its package) or one named
``…Stream…`` outside the standard library (OpenAI's and Anthropic's ``Stream``,
litellm's ``CustomStreamWrapper``, mistralai's ``EventStream``) — detected
without importing any provider SDK. Any other iterator (a ``sqlite3.Cursor``, a
``csv.reader``, a ``map``) is the app's result, returned exactly as it is. A
returned generator gets a generator standing in for it (:func:`as_generator`,
:func:`as_async_generator`): the app still gets a generator, its span covers the
iteration. Other attributes of a provider's stream (``.response``, ``.close`` of
an ``AsyncStream``...) are forwarded to the wrapped object.
"""

from __future__ import annotations

import gc
import io
import queue
import sys
import threading
import time
import weakref
from collections.abc import AsyncGenerator, Generator, Iterator
from contextlib import contextmanager
from inspect import CORO_CREATED, getcoroutinestate
from types import AsyncGeneratorType, CoroutineType, GeneratorType, TracebackType
from typing import TYPE_CHECKING, Any, Callable

from opentelemetry import context as otel_context

from otel_llm._bounded_cache import CLASSES_REMEMBERED, remember
from otel_llm._guard import internal_error, raised_by_app

if TYPE_CHECKING:
    from otel_llm._core import Call, ChunkObserver

__all__ = [
    "NOT_STREAMS", "AsyncManagerProxy", "AsyncStreamProxy", "SyncManagerProxy", "SyncStreamProxy", "as_async_generator",
    "as_generator", "async_generator_function", "collecting_here", "defer", "end_deferred", "gc_running", "generator_function", "wrap",
    "wrap_if_stream",
]


# --- streams abandoned while the cyclic garbage collector runs -------------------------------
# The collector runs inside whatever allocation triggers it, the allocations of a ContextVar.set /
# reset included (OpenTelemetry's attach / detach). A finaliser that sets or resets a context
# variable there changes the context mapping that operation is rebuilding, and CPython crashes
# (a segmentation fault in hamt.c). Ending a span attaches contexts (ours; span processors',
# a redact hook's) and takes locks, so a stream abandoned during a collection only notes when
# (``_deferred``: a SimpleQueue, safe in finalisers), and its span is ended after, at a safe
# point: the next decorated call or otel-llm's background thread (``end_deferred``).

# The cyclic garbage collector is running (set by ``_gc_phase``), in the thread ``_gc_thread``: there,
# finalisers only ``defer`` (:func:`collecting_here`). Other threads go on as ever: the collector's hazard is
# the context of the thread it runs in, and a collection that waits in a finaliser (or is preempted) may
# last long — the calls of every other thread would run bare meanwhile, recorded nowhere.
gc_running = False
_gc_thread: int | None = None
# (how to end it, given when: ns; when it was abandoned)
_deferred: "queue.SimpleQueue[tuple[Callable[[int], None], int]]" = queue.SimpleQueue()
deferred_pending = False  # a hint for the hot path: something may wait in ``_deferred``


def _gc_phase(phase: str, info: dict[str, Any]) -> None:
    global gc_running, _gc_thread
    if phase == "start":
        _gc_thread = threading.get_ident()
        gc_running = True
    else:
        gc_running = False
        _gc_thread = None


def collecting_here() -> bool:
    """Whether the cyclic collector runs in this thread now (the caller is a finaliser it runs).

    The hot path reads :data:`gc_running` first (one global read) and calls this only when it is set.
    """
    return gc_running and _gc_thread == threading.get_ident()


gc.callbacks.append(_gc_phase)


def defer(end: Callable[[int], None]) -> None:
    """Note that a proxy was abandoned now; :func:`end_deferred` calls ``end(abandoned_ns)`` at a safe point."""
    global deferred_pending
    _deferred.put((end, time.time_ns()))
    deferred_pending = True


def _defer(call: "Call", items: int) -> None:
    """:func:`defer` the end of ``call``'s stream, abandoned after ``items`` items."""
    defer(lambda abandoned_ns: call.end_stream(False, items, end_ns=abandoned_ns))


def end_deferred() -> None:
    """End the spans of streams abandoned during a collection, each at the time it was abandoned.

    Never from a finaliser the collector runs in this thread (a decorated call made there waits for the next).
    """
    global deferred_pending
    if collecting_here():
        return
    deferred_pending = False
    while True:
        try:
            end, abandoned_ns = _deferred.get_nowait()
        except queue.Empty:
            return
        try:
            end(abandoned_ns)
        except Exception as exc:  # noqa: BLE001
            internal_error("streams.deferred", exc)


class _Forwarding:
    """Stands in for ``_inner``: every attribute the proxy lacks is the inner object's.

    Its ``__class__`` is the inner object's class, as ``unittest.mock`` does for a
    spec: ``isinstance(response, openai.Stream)`` (the app telling a streamed answer
    from a whole one) and ``functools.singledispatch`` see what the app returned;
    ``type()`` still names the proxy.
    """

    __slots__ = ("_inner", "_call")

    # The proxy's own slots: while one is unset (a half-built proxy) its lookup must not recurse via ``_inner``.
    _own: frozenset[str] = frozenset({"_inner", "_call"})
    _what = "proxy"

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # noqa: D105
        try:
            inner = object.__getattribute__(self, "_inner")
        except AttributeError:  # a half-built proxy
            return type(self)
        return inner.__class__

    def __getattr__(self, name: str) -> Any:
        # Only reached for names the proxy lacks: forward to the provider object.
        if name in self._own:
            raise AttributeError(name)
        return getattr(self._inner, name)

    def __setattr__(self, name: str, value: Any) -> None:
        # The app writes on the object it was handed as on the provider's: every name but the proxy's own.
        if name in self._own:
            object.__setattr__(self, name, value)
        else:
            setattr(self._inner, name, value)

    def __delattr__(self, name: str) -> None:
        if name in self._own:
            object.__delattr__(self, name)
        else:
            delattr(self._inner, name)

    def __repr__(self) -> str:
        return f"<otel_llm {self._what} of {self._inner!r}>"

    def __del__(self) -> None:
        # Abandoned (``break``, dropped, collected, never entered): end the span if nothing else did.
        try:
            call = self._call
        except AttributeError:  # __init__ never ran
            return
        if not call.ended:
            self._abandon()

    def _abandon(self) -> None:
        """End the span of an abandoned proxy; never raises (it runs from ``__del__``)."""


class _StreamProxy(_Forwarding):
    """State and outcome handling shared by the sync and async proxies.

    Per item the proxy does two things on the caller's thread: count it, and
    pass it to the observer the call's kind chose on the first item (``None``
    when the kind needs nothing per item). Everything else waits for the end.
    """

    __slots__ = ("_ctx", "_next", "_count", "_observe")
    _own = frozenset({"_inner", "_call", "_ctx", "_next", "_count", "_observe"})
    _what = "stream proxy"

    def __init__(self, inner: Any, call: "Call", step: Callable[[], Any]) -> None:
        self._inner = inner
        self._call = call
        # A generator's steps run the app's code: in the span's context. A provider's
        # iterator (OpenAI's, Anthropic's Stream) runs none of it: no context switch.
        self._ctx = call.ctx if isinstance(inner, (GeneratorType, AsyncGeneratorType)) else None
        self._next = step  # the inner iterator's own __next__ / __anext__, looked up once
        self._count = 0
        self._observe: ChunkObserver | None = None

    def _item(self, item: Any) -> Any:
        count = self._count + 1
        _set_count(self, count)  # the slot itself: ``__setattr__`` (the app's writes) would cost each chunk more
        if count == 1:
            self._observe = self._call.first_chunk(item)
        observe = self._observe
        if observe is not None:
            try:
                observe(item)
            except Exception as exc:  # noqa: BLE001
                if not raised_by_app(exc):  # the app's chunk raised in its own property: no usage in it
                    internal_error("streams.chunk", exc)
        return item

    def _stopped(self, exc: BaseException) -> None:
        """The inner iterator raised: exhaustion completes, anything else fails."""
        if isinstance(exc, (StopIteration, StopAsyncIteration)):
            self._call.end_stream(True, self._count)
        else:
            self._call.end_stream(False, self._count, exc)

    def _closed(self) -> None:
        self._call.end_stream(False, self._count)

    def _abandon(self) -> None:
        if collecting_here():
            _defer(self._call, self._count)
            return
        try:
            self._call.end_stream(False, self._count)
        except Exception as exc:  # noqa: BLE001 — never raise our errors from __del__
            internal_error("streams.gc", exc)


# Sets a proxy's item count: the slot's own setter, past ``_Forwarding.__setattr__``.
_set_count = _StreamProxy.__dict__["_count"].__set__


class SyncStreamProxy(_StreamProxy):
    """Stands in for a generator or sync provider stream."""

    __slots__ = ()

    def __init__(self, inner: Any, call: "Call") -> None:
        super().__init__(inner, call, inner.__next__)

    def __iter__(self) -> "SyncStreamProxy":
        return self

    def _abandon(self) -> None:
        """Close an abandoned generator now, in the span's context, as Python would on GC.

        Its ``finally`` blocks then run while the span is open (their child spans
        nest under it). An error they raise is reported by Python as unraisable,
        exactly as for the undecorated generator. While the collector runs, the
        collector closes the generator, as it would bare, and the span waits (``_defer``).
        """
        if isinstance(self._inner, GeneratorType) and not collecting_here():
            self.close()
        else:
            super()._abandon()

    def __next__(self) -> Any:
        return self._step(self._next)

    def _step(self, op: Callable[..., Any], *args: Any) -> Any:
        ctx = self._ctx
        token = None if ctx is None else otel_context.attach(ctx)
        try:
            item = op(*args)
        except BaseException as exc:
            if token is not None:
                otel_context.detach(token)
            self._stopped(exc)
            raise
        if token is not None:
            otel_context.detach(token)
        return self._item(item)

    def send(self, value: Any) -> Any:
        return self._step(self._inner.send, value)

    def throw(self, *args: Any) -> Any:
        return self._step(self._inner.throw, *args)

    def close(self) -> None:
        close = getattr(self._inner, "close", None)
        if collecting_here():  # a decorated generator function's generator, finalised by the collector
            try:
                if close is not None:
                    close()
            finally:
                _defer(self._call, self._count)
            return
        token = otel_context.attach(self._call.ctx)  # type: ignore[arg-type]
        try:
            if close is not None:
                close()
        finally:
            otel_context.detach(token)
            self._closed()

    def __enter__(self) -> "SyncStreamProxy":
        enter = getattr(self._inner, "__enter__", None)
        if enter is not None:
            enter()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> Any:
        exit_ = getattr(self._inner, "__exit__", None)
        if exit_ is None:
            self.close()
            return None
        try:
            return exit_(exc_type, exc, tb)
        finally:
            self._closed()


class AsyncStreamProxy(_StreamProxy):
    """Stands in for an async generator or async provider stream."""

    __slots__ = ()

    def __init__(self, inner: Any, call: "Call") -> None:
        super().__init__(inner, call, inner.__anext__)

    def __aiter__(self) -> "AsyncStreamProxy":
        return self

    def __anext__(self) -> Any:
        return self._step(self._next)  # the step's coroutine is what the caller awaits

    async def _step(self, op: Callable[..., Any], *args: Any) -> Any:
        ctx = self._ctx
        token = None if ctx is None else otel_context.attach(ctx)
        try:
            item = await op(*args)
        except BaseException as exc:  # includes CancelledError: the task was cancelled
            if token is not None:
                otel_context.detach(token)
            self._stopped(exc)
            raise
        if token is not None:
            otel_context.detach(token)
        return self._item(item)

    async def asend(self, value: Any) -> Any:
        return await self._step(self._inner.asend, value)

    async def athrow(self, *args: Any) -> Any:
        return await self._step(self._inner.athrow, *args)

    async def aclose(self) -> None:
        # Async generators have aclose(); OpenAI-style AsyncStream has async close().
        await self._close(getattr(self._inner, "aclose", None) or getattr(self._inner, "close", None))

    def close(self) -> Any:
        """The inner object's ``close()``, ending the span: OpenAI's and Anthropic's ``AsyncStream``
        are closed by ``await stream.close()`` (they have no ``aclose()``).

        Returns what the inner ``close()`` returns: its awaitable (the span ends once it is
        awaited), or its result when it closes at once. An inner object without ``close``
        raises ``AttributeError``, as it would bare.
        """
        close = self._inner.close
        token = otel_context.attach(self._call.ctx)  # type: ignore[arg-type]
        try:
            result = close()
        except BaseException:
            self._closed()
            raise
        finally:
            otel_context.detach(token)
        if hasattr(result, "__await__"):
            return self._close(lambda: result)
        self._closed()
        return result

    async def _close(self, close: Callable[[], Any] | None) -> None:
        token = otel_context.attach(self._call.ctx)  # type: ignore[arg-type]
        try:
            if close is not None:
                result = close()
                if hasattr(result, "__await__"):
                    await result
        finally:
            otel_context.detach(token)
            self._closed()

    async def __aenter__(self) -> "AsyncStreamProxy":
        enter = getattr(self._inner, "__aenter__", None)
        if enter is not None:
            await enter()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> Any:
        exit_ = getattr(self._inner, "__aexit__", None)
        if exit_ is None:
            await self.aclose()
            return None
        try:
            return await exit_(exc_type, exc, tb)
        finally:
            self._closed()


class _ManagerProxy(_Forwarding):
    """Stands in for a provider's stream manager until its stream has been read.

    ``client.chat.completions.stream(...)``, ``client.responses.stream(...)``,
    ``client.messages.stream(...)`` (and their async twins) return a manager:
    the HTTP request starts when it is entered, and the app reads the stream in
    the ``with`` block — by events, ``text_stream`` or ``get_final_*()``. The
    helper stream the manager hands out reads the provider's raw stream
    (``_raw_stream``, the same ``Stream`` that ``create(stream=True)`` returns)
    and accumulates it; the raw stream is put behind a stream proxy, so every way
    of reading passes each raw chunk through it once (usage, first chunk) and its
    exhaustion completes the span. Leaving the block (or dropping a manager never
    entered) ends the span if the stream has not. A helper stream without
    ``_raw_stream`` is handed out behind the proxy itself.
    """

    __slots__ = ("_stream",)
    _own = frozenset({"_inner", "_call", "_stream"})
    _what = "stream manager proxy"

    def __init__(self, inner: Any, call: "Call") -> None:
        self._inner = inner
        self._call = call
        self._stream: _StreamProxy | None = None

    def _entered(self, stream: Any) -> Any:
        """Put the helper ``stream``'s raw stream (or the helper itself) behind a stream proxy."""
        from otel_llm import _upstream  # the SDK's modules: imported on the first stream manager, not with otel_llm

        raw = _upstream.helper_raw_stream(stream)
        if raw is not None and _proxy_class(type(raw)) is not None:
            self._stream = proxy = wrap(raw, self._call)
            _upstream.replace_helper_raw_stream(stream, proxy)
            return stream
        self._stream = proxy = wrap(stream, self._call)
        return proxy

    def _end(self) -> None:
        """The block was left: end the span unless the stream already did."""
        stream = self._stream
        if stream is not None:
            stream._closed()
        else:
            self._call.end_stream(False, 0)

    def _abandon(self) -> None:
        if collecting_here():
            stream = self._stream
            _defer(self._call, 0 if stream is None else stream._count)
            return
        try:
            self._end()
        except Exception as exc:  # noqa: BLE001 — never raise our errors from __del__
            internal_error("streams.gc", exc)


@contextmanager
def _entering(call: "Call") -> Iterator[None]:
    """Run the block with the call's span current; an exception it raises fails the call and propagates."""
    token = otel_context.attach(call.ctx)  # type: ignore[arg-type]
    try:
        yield
    except BaseException as exc:
        call.fail(exc)
        raise
    finally:
        otel_context.detach(token)


class SyncManagerProxy(_ManagerProxy):
    """Stands in for a sync stream manager (``with client.messages.stream(...) as stream``)."""

    __slots__ = ()

    def __enter__(self) -> Any:
        with _entering(self._call):  # the request nests in the span
            stream = self._inner.__enter__()
        return self._entered(stream)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> Any:
        try:
            return self._inner.__exit__(exc_type, exc, tb)
        finally:
            self._end()


class AsyncManagerProxy(_ManagerProxy):
    """Stands in for an async stream manager (``async with client.messages.stream(...) as stream``)."""

    __slots__ = ()

    async def __aenter__(self) -> Any:
        with _entering(self._call):
            stream = await self._inner.__aenter__()
        return self._entered(stream)

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> Any:
        try:
            return await self._inner.__aexit__(exc_type, exc, tb)
        finally:
            self._end()


class _Steps:
    """What :func:`_awaited` awaits: the steps of the app's ``coroutine``, each run with the call's span current.

    Like a stream proxy's steps (:class:`SyncStreamProxy`), each ``send``/``throw``
    attaches the call's context and detaches it before the coroutine is
    suspended again, so nothing stays attached while it waits: a stand-in
    dropped mid-await (closed by whatever drops it, in whatever context, or by
    the cyclic collector) has no context of an earlier step to leave. Its
    ``close`` closes the app's coroutine with the span current and ends the
    call; while the collector runs, it closes the coroutine only, as the
    collector would bare, and the call ends at the next safe point
    (:func:`defer`), at the time it was abandoned.
    """

    __slots__ = ("_coroutine", "_call")

    def __init__(self, coroutine: Any, call: "Call") -> None:
        self._coroutine = coroutine
        self._call = call

    def __await__(self) -> "_Steps":
        return self

    def __iter__(self) -> "_Steps":
        return self

    def __next__(self) -> Any:
        return self._step(self._coroutine.send, None)

    def send(self, value: Any) -> Any:
        return self._step(self._coroutine.send, value)

    def throw(self, *args: Any) -> Any:
        return self._step(self._coroutine.throw, *args)

    def _step(self, op: Callable[..., Any], *args: Any) -> Any:
        token = otel_context.attach(self._call.ctx)  # type: ignore[arg-type]
        try:
            step = op(*args)
        except StopIteration:  # the coroutine returned: :func:`_awaited` finishes the call with its value
            otel_context.detach(token)
            raise
        except BaseException as exc:
            otel_context.detach(token)
            self._call.fail(exc)
            raise
        otel_context.detach(token)
        return step

    def close(self) -> None:
        if collecting_here():  # the stand-in, finalised by the collector: no context may change here
            try:
                self._coroutine.close()
            finally:
                defer(self._call.end)
            return
        token = otel_context.attach(self._call.ctx)  # type: ignore[arg-type]
        try:
            self._coroutine.close()
        finally:
            otel_context.detach(token)
            self._call.end()


async def _awaited(coroutine: Any, call: "Call") -> Any:
    """Stands in for a coroutine a sync function returned: the call is the awaited work.

    ``def ask(): return async_client.chat.completions.create(...)`` runs the
    request only when the caller awaits what it returned. This coroutine awaits
    it step by step with the span current (the request's spans nest under it:
    :class:`_Steps`) and finishes the call with its result (usage, a stream
    proxy) or its exception, like an ``async def`` would. Never awaited, the span
    never ends, as the work never runs (nor does the call count as running once
    the coroutine is dropped: :func:`_dropped`).
    """
    return call.finish(await _Steps(coroutine, call))


def _awaiting(coroutine: Any, call: "Call") -> Any:
    """:func:`_awaited` for ``coroutine``, which Python names as the app's own when it is never awaited.

    Dropped unawaited, the stand-in carries the app coroutine's name into
    Python's "was never awaited" warning and closes the app's coroutine (a
    closed coroutine is not warned about): the app sees the one warning it saw
    without otel-llm.
    """
    stand_in = _awaited(coroutine, call)
    stand_in.__name__, stand_in.__qualname__ = coroutine.__name__, coroutine.__qualname__
    weakref.finalize(stand_in, _dropped, coroutine, call)
    return stand_in


def _dropped(coroutine: CoroutineType, call: "Call") -> None:  # type: ignore[type-arg]
    """The stand-in of ``coroutine`` was collected. Never started, the app's coroutine is closed (no code
    of it runs) and the call never runs (:meth:`~otel_llm._core.Call.never_ran`). A started one is closed,
    and the call ended, by the stand-in's own close, which follows (:meth:`_Steps.close`: with the span
    current, or at the next safe point when the collector closes it)."""
    if getcoroutinestate(coroutine) == CORO_CREATED:
        coroutine.close()
        call.never_ran()


def generator_function(open_stream: Callable[..., Any]) -> Callable[..., Generator[Any, Any, Any]]:
    """A generator function whose generators delegate to the stream ``open_stream(*args, **kwargs)`` opens
    (``yield from`` forwards ``send``/``throw``/``close`` and the return value)."""

    def forwarding(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
        return (yield from open_stream(*args, **kwargs))

    return forwarding


def async_generator_function(open_stream: Callable[..., Any]) -> Callable[..., AsyncGenerator[Any, Any]]:
    """An async generator function whose async generators delegate to the stream ``open_stream(*args, **kwargs)``
    opens (async generators have no ``yield from``: ``asend``/``athrow``/``aclose`` are forwarded by hand).

    An exception the caller throws in is thrown on with the traceback it came with: raised at this
    generator's ``yield`` first, it would end (innermost) in this frame, not where the app's generator
    raised it (or let it through), as ``yield from`` and the undecorated generator leave it."""

    async def forwarding(*args: Any, **kwargs: Any) -> AsyncGenerator[Any, Any]:
        stream = open_stream(*args, **kwargs)
        try:
            item = await stream.__anext__()
            while True:
                try:
                    sent = yield item
                except GeneratorExit:
                    raise
                except BaseException as exc:  # athrow() on us: the inner generator decides
                    tb = exc.__traceback__  # its first entry: this frame, where it was thrown in
                    item = await stream.athrow(exc.with_traceback(None if tb is None else tb.tb_next))
                else:
                    item = await stream.asend(sent)
        except StopAsyncIteration:
            return
        finally:
            await stream.aclose()

    return forwarding


# A generator (async generator) delegating to a stream proxy given to it.
_delegating = generator_function(lambda stream: stream)
_async_delegating = async_generator_function(lambda stream: stream)


def as_generator(generator: Any, call: "Call") -> Any:
    """A generator standing in for the ``generator`` a sync function returned: the span covers its iteration,
    and the app still gets a generator (``isinstance``, ``inspect.isgenerator``, its name)."""
    stand_in = _delegating(SyncStreamProxy(generator, call))
    stand_in.__name__, stand_in.__qualname__ = generator.__name__, generator.__qualname__
    return stand_in


def as_async_generator(generator: Any, call: "Call") -> Any:
    """:func:`as_generator` for an async generator."""
    stand_in = _async_delegating(AsyncStreamProxy(generator, call))
    stand_in.__name__, stand_in.__qualname__ = generator.__name__, generator.__qualname__
    return stand_in


def wrap(iterator: Any, call: "Call") -> _StreamProxy:
    """Proxy for a generator / async generator the decorated function produced."""
    if hasattr(type(iterator), "__anext__"):
        return AsyncStreamProxy(iterator, call)
    return SyncStreamProxy(iterator, call)


def wrap_if_stream(value: Any, call: "Call") -> Any:
    """A proxy when ``value`` is an LLM stream (:func:`_understood`), a generator or async generator (a
    generator standing in: :func:`as_generator`), a provider's stream manager or a coroutine
    (:func:`_awaiting`), else ``None`` (a ``unittest.mock`` double: :func:`_is_mock`; an iterator of the
    app's, such as a ``sqlite3.Cursor``, a ``csv.reader`` or a ``map``).

    Iterators only (``__next__``/``__anext__``): iterables such as lists, dicts
    or pydantic models are results, not streams. A stream manager is a type
    named ``…StreamManager`` with ``__enter__``/``__aenter__`` (see
    :class:`_ManagerProxy`). botocore's ``EventStream``, an iterable, is one
    (:class:`EventStreamProxy`), and so is aiobotocore's ``AioEventStream``
    (:class:`AsyncEventStreamProxy`), also in the dict boto3 returns it in. Open files are not streams.
    Decided once per type: on a pydantic class a missing attribute costs a
    metaclass ``__getattr__``, and this runs on every decorated call. Only a
    type with both protocols is decided per value (see :data:`_EITHER`).
    """
    tp = type(value)
    proxy = _PROXY_FOR.get(tp, _UNKNOWN)
    if proxy is _UNKNOWN:
        if _is_mock(tp):  # not remembered: each MagicMock has a class of its own
            return None
        if len(_PROXY_FOR) >= CLASSES_REMEMBERED:  # started again, both: a class per call must not stay alive
            NOT_STREAMS.clear()
        proxy = remember(_PROXY_FOR, tp, _proxy_class(tp))
        if proxy is None:
            NOT_STREAMS.add(tp)
    if proxy is _EITHER:
        proxy = _dual_proxy(value)
    return None if proxy is None else proxy(value, call)


def _dual_proxy(value: Any) -> "type[_StreamProxy] | None":
    """The proxy of a value whose type has both protocols (OpenLLMetry's ChatStream, a wrapt ObjectProxy,
    openai-v2's StreamWrapper): the stream it wraps tells which one this is, and whether it is a stream at
    all. None when that cannot be told: the value then comes back as it is, never behind a proxy of the
    wrong kind (a sync wrapper iterated through the async proxy raised into the app)."""
    inner = _held_stream_type(value)
    if inner is None or not (inner in (GeneratorType, AsyncGeneratorType) or _understood(type(value))
                             or _understood(inner)):
        return None
    return AsyncStreamProxy if hasattr(inner, "__anext__") else SyncStreamProxy


#: Where a two-protocol wrapper keeps the stream it wraps: wrapt's ``__wrapped__``, openai-v2's ``stream``
_HELD_STREAM = ("__wrapped__", "stream")


def _held_stream_type(value: Any) -> type | None:
    """The type of the stream ``value`` wraps, when it has one of the two protocols only; else None."""
    for name in _HELD_STREAM:
        try:
            held = getattr(value, name, None)
        except Exception:  # the app's property: no stream to be read there
            continue
        if held is not None:
            tp = type(held)
            if hasattr(tp, "__next__") != hasattr(tp, "__anext__"):
                return tp
    return None


def _is_mock(tp: type) -> bool:
    """Whether ``tp`` is a ``unittest.mock`` double (``Mock``, ``MagicMock``...): a result, never a stream.

    A ``MagicMock`` answers every protocol (``__next__`` and ``__anext__`` too), so by
    shape it is a stream of either kind; in an app's tests it stands for a response
    (or for a stream the app iterates itself), and must come back as it is.
    ``unittest.mock`` is looked up where it already is, never imported.
    """
    mock = sys.modules.get("unittest.mock")
    return mock is not None and issubclass(tp, mock.NonCallableMock)


_UNKNOWN: Any = object()
# A type with both ``__next__`` and ``__anext__``: sync or async depends on the value it wraps.
_EITHER: Any = object()


def _proxy_class(tp: type, either: Any = _EITHER) -> Any:
    """The proxy class for values of ``tp``; ``either`` for a type with both protocols; ``None``: not a stream."""
    if tp is CoroutineType:  # a sync function's returned coroutine: the call runs when it is awaited
        return _awaiting
    if tp is GeneratorType:
        return as_generator
    if tp is AsyncGeneratorType:
        return as_async_generator
    event_stream = _event_stream_proxy(tp)  # before the protocols: aiobotocore's ``__anext__`` is no step
    if event_stream is not None:
        return event_stream
    if hasattr(tp, "__anext__"):
        if hasattr(tp, "__next__"):
            return either
        return AsyncStreamProxy if _understood(tp) else None
    if hasattr(tp, "__next__") and not issubclass(tp, io.IOBase):
        return SyncStreamProxy if _understood(tp) else None
    if issubclass(tp, _ManagerProxy):  # a decorated call's manager returned by another: nested spans, both cover it
        return tp
    if tp.__name__.endswith("StreamManager"):  # a provider's streaming helper (OpenAI's, Anthropic's)
        if hasattr(tp, "__aenter__"):
            return AsyncManagerProxy
        if hasattr(tp, "__enter__"):
            return SyncManagerProxy
    if tp.__name__.endswith(("ResponseContextManager", "APIResponse")):  # with_streaming_response, with_raw_response
        from otel_llm import _raw_responses  # imports this module: imported on the first such type

        return _raw_responses.proxy_class(tp)
    if tp is dict:  # decided per value: boto3's streaming result holds its stream
        return _holding_event_stream
    return None


# The modules (with their submodules) of provider SDKs and LLM frameworks whose iterators are LLM streams;
# packages named ``langchain…`` or ``llama_index…`` by that prefix.
_LLM_MODULES = (
    "openai", "anthropic", "mistralai", "cohere", "google.genai", "google.generativeai", "vertexai", "groq",
    "litellm", "ollama", "together", "fireworks", "huggingface_hub", "replicate", "ai21", "voyageai", "langgraph",
    "dspy", "instructor",
)
_LLM_PREFIXES = ("langchain", "llama_index")
# How the stream classes of other packages end their names: OpenAI's and Anthropic's ``Stream``,
# ``AsyncStream`` and ``MessageStream``, mistralai's ``EventStream``/``EventStreamAsync``, litellm's
# ``CustomStreamWrapper``, OpenLLMetry's ``ChatStream``.
_STREAM_NAMES = ("Stream", "StreamAsync", "StreamWrapper")


def _understood(tp: type) -> bool:
    """Whether iterators of type ``tp`` are LLM streams the SDK understands: a provider SDK's or an LLM
    framework's (by module), named ``…Stream`` (:data:`_STREAM_NAMES`) outside the standard library, or
    a decorated call's stream proxy (returned by another decorated function: both spans cover it).

    Anything else — ``sqlite3.Cursor``, ``csv.reader``, ``map``, a list iterator, a
    database driver's cursor, botocore's ``StreamingBody`` — is the app's own
    result: proxying it would change the type the app gets back.
    """
    if issubclass(tp, _StreamProxy):
        return True
    module = getattr(tp, "__module__", None)
    if not isinstance(module, str):
        return False
    root = module.partition(".")[0]
    if root in sys.stdlib_module_names or root == "builtins":
        return False
    if tp.__name__.endswith(_STREAM_NAMES) or root.startswith(_LLM_PREFIXES):
        return True
    return any(module == name or module.startswith(name + ".") for name in _LLM_MODULES)


def _event_stream_proxy(tp: type) -> "type[_StreamProxy] | None":
    """The proxy of botocore's ``EventStream`` (Bedrock ``converse_stream``...) or aiobotocore's
    ``AioEventStream`` (aioboto3's), known by name (neither is imported); ``None`` for any other type."""
    if tp.__name__ == "EventStream" and tp.__module__ == "botocore.eventstream":
        return EventStreamProxy
    if tp.__name__ == "AioEventStream" and tp.__module__ == "aiobotocore.eventstream":
        return AsyncEventStreamProxy
    return None


class EventStreamProxy(SyncStreamProxy):
    """Stands in for botocore's ``EventStream``: an iterable, not an iterator, so its iterator's steps are taken."""

    __slots__ = ()

    def __init__(self, inner: Any, call: "Call") -> None:
        _StreamProxy.__init__(self, inner, call, iter(inner).__next__)


# Where boto3's streaming results hold their EventStream: ``converse_stream``'s
# ``stream``, ``invoke_model_with_response_stream``'s ``body``.
_EVENT_STREAM_KEYS = ("stream", "body")


class AsyncEventStreamProxy(AsyncStreamProxy):
    """Stands in for aiobotocore's ``AioEventStream``: its ``__aiter__`` gives an async generator (its
    ``__anext__`` makes one, awaiting nothing), whose steps are taken."""

    __slots__ = ()

    def __init__(self, inner: Any, call: "Call") -> None:
        _StreamProxy.__init__(self, inner, call, inner.__aiter__().__anext__)


def _holding_event_stream(value: dict[Any, Any], call: "Call") -> dict[Any, Any] | None:
    """boto3's streaming result (``{"stream": EventStream, "ResponseMetadata": ...}``) with its stream proxied.

    The span then covers the stream, where Bedrock's usage arrives. The app's
    dict is kept (its stream replaced in place); any other dict is a result: ``None``.
    """
    for key in _EVENT_STREAM_KEYS:
        stream = value.get(key)
        proxy = None if stream is None else _event_stream_proxy(type(stream))
        if proxy is not None:
            value[key] = proxy(stream, call)
            return value
    return None


# Which proxy each returned type gets (None: not a stream; _EITHER: decided per value).
# Types are few, and a class's shape does not change; an app making a class per call
# has the map started again past CLASSES_REMEMBERED types (``remember``).
_PROXY_FOR: dict[type, Any] = {}

# The types ``_PROXY_FOR`` maps to ``None``: a caller may skip ``wrap_if_stream`` for their values
# (one set lookup instead of a call, on every decorated call's result).
NOT_STREAMS: set[type] = set()
