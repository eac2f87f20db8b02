"""Classify the callable once and wrap it; every wrapper shares ``_core``.

Why classify at decoration time: ``inspect`` checks cost microseconds, and the
shape of a function never changes. Each wrapper is the same three zones
(``_guard``) in a few lines; all logic lives in :class:`otel_llm._core.Call`,
so the async wrapper differs from the sync one only by ``await``.

* sync / coroutine functions: the span is current while the function runs;
  a returned iterator (provider stream) becomes a stream proxy.
* generator / async generator functions: the wrapper is itself a generator
  (async generator) function, so ``inspect`` sees the same kind of callable;
  it delegates to a stream proxy whose span is current only during each step.
  Like the undecorated generator, nothing (not even the span) starts before
  the first ``next()``.

``functools.wraps`` keeps ``__name__``, ``__doc__``, ``__wrapped__`` and so
``inspect.signature``.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from otel_llm._core import Kind, open_call

__all__ = ["wrap"]

F = TypeVar("F", bound=Callable[..., Any])


def _open_stream(fn: Callable[..., Any], kind: Kind, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """The (async) generator a call of ``fn`` makes, behind a stream proxy when a span opened."""
    call = open_call(kind, args, kwargs, attach=False)
    if call is None:
        return fn(*args, **kwargs)
    try:
        iterator = fn(*args, **kwargs)  # binds arguments; runs no body code
    except BaseException as exc:
        call.fail(exc)
        raise
    return call.stream(iterator)


def wrap(fn: F, kind: Kind) -> F:
    """Return ``fn`` instrumented as ``kind``; same signature and behaviour."""
    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def generator_wrapper(*args: Any, **kwargs: Any) -> Any:
            # ``yield from`` forwards send/throw/close and the return value.
            return (yield from _open_stream(fn, kind, args, kwargs))

        return generator_wrapper  # type: ignore[return-value]

    if inspect.isasyncgenfunction(fn):

        @functools.wraps(fn)
        async def async_generator_wrapper(*args: Any, **kwargs: Any) -> Any:
            # Async generators have no ``yield from``: forward asend/athrow/aclose by hand.
            stream = _open_stream(fn, kind, args, kwargs)
            try:
                item = await stream.__anext__()
                while True:
                    try:
                        sent = yield item
                    except GeneratorExit:
                        raise
                    except BaseException as exc:  # athrow() on us: the inner generator decides
                        item = await stream.athrow(exc)
                    else:
                        item = await stream.asend(sent)
            except StopAsyncIteration:
                return
            finally:
                await stream.aclose()

        return async_generator_wrapper  # type: ignore[return-value]

    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            call = open_call(kind, args, kwargs, attach=True)
            if call is None:
                return await fn(*args, **kwargs)
            try:
                result = await fn(*args, **kwargs)
            except BaseException as exc:
                call.fail(exc)
                raise
            return call.finish(result)

        return async_wrapper  # type: ignore[return-value]

    @functools.wraps(fn)
    def sync_wrapper(*args: Any, **kwargs: Any) -> Any:
        call = open_call(kind, args, kwargs, attach=True)
        if call is None:
            return fn(*args, **kwargs)
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            call.fail(exc)
            raise
        return call.finish(result)

    return sync_wrapper  # type: ignore[return-value]
