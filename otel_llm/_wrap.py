"""Classify the callable once and wrap it; every wrapper shares ``_core``.

Why classify at decoration time: ``inspect`` checks cost microseconds, and the
shape of a function never changes. Each wrapper is the same three zones
(``_guard``) in a few lines; all logic lives in :class:`otel_llm._core.Call`,
so the async wrapper differs from the sync one only by ``await``.

* sync / coroutine functions: the span is current while the function runs;
  a returned iterator (provider stream) becomes a stream proxy.
* generator / async generator functions: calling one runs no user code, so the
  wrapper returns a stream proxy at once and the span is made current only
  during each step of the generator.

``functools.wraps`` keeps ``__name__``, ``__doc__``, ``__wrapped__`` and so
``inspect.signature``. (A wrapped generator function returns a proxy that
implements the full generator protocol; ``inspect.isgeneratorfunction`` on the
wrapper is false.)
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from otel_llm._core import Kind, open_call

__all__ = ["wrap"]

F = TypeVar("F", bound=Callable[..., Any])


def wrap(fn: F, kind: Kind) -> F:
    """Return ``fn`` instrumented as ``kind``; same signature and behaviour."""
    if inspect.isgeneratorfunction(fn) or inspect.isasyncgenfunction(fn):

        @functools.wraps(fn)
        def generator_wrapper(*args: Any, **kwargs: Any) -> Any:
            call = open_call(kind, args, kwargs, attach=False)
            if call is None:
                return fn(*args, **kwargs)
            try:
                iterator = fn(*args, **kwargs)  # binds arguments; runs no body code
            except BaseException as exc:
                call.fail(exc)
                raise
            return call.stream(iterator)

        return generator_wrapper  # type: ignore[return-value]

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
