"""``multiprocessing.pool.ThreadPool``: each task runs in the OpenTelemetry context it was handed over in.

Why: the official threading instrumentation gives a thread the context of the
code that *started* it. A ``ThreadPool`` (``multiprocessing.dummy.Pool``) starts
its threads when the pool is made — often once, at import — and then runs every
task of every caller on them, so a tool or model call mapped over the pool
inside an agent or chat turn would start a trace of its own (or nest under
whichever turn made the pool), and the turn's roll-up would miss it. Here the
pool's task entry points bind each function to the context current when the
task is handed over; the worker attaches it for that task alone.

Only ``ThreadPool``: a process pool pickles its tasks, and its workers are
other processes, where spans nest by their own configuration.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from opentelemetry import context as otel_context

__all__ = ["propagate_into_thread_pools"]

# The ``Pool`` methods every submission goes through (``apply``, ``map``, ``starmap`` and their
# ``_async`` forms call the first two); each takes the task's function as its first argument.
_ENTRY_POINTS = ("apply_async", "_map_async", "imap", "imap_unordered")
_PATCHED = "_otel_llm_context_propagation"


def _in_context(ctx: otel_context.Context, func: Callable[..., Any]) -> Callable[..., Any]:
    """``func``, run in ``ctx`` (attached for the call, detached after, whatever it raises)."""

    def run(*args: Any, **kwargs: Any) -> Any:
        token = otel_context.attach(ctx)
        try:
            return func(*args, **kwargs)
        finally:
            otel_context.detach(token)

    return run


def _binding(method: Callable[..., Any]) -> Callable[..., Any]:
    """A pool method that hands on its function bound to the caller's current context."""

    @functools.wraps(method)
    def submit(self: Any, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return method(self, _in_context(otel_context.get_current(), func), *args, **kwargs)

    return submit


def propagate_into_thread_pools() -> None:
    """Make ``ThreadPool`` tasks run in their submitter's context; idempotent."""
    from multiprocessing.pool import ThreadPool

    if getattr(ThreadPool, _PATCHED, False):
        return
    for name in _ENTRY_POINTS:
        setattr(ThreadPool, name, _binding(getattr(ThreadPool, name)))
    setattr(ThreadPool, _PATCHED, True)
