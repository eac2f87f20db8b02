"""The open entries of a context manager that may be entered again while entered.

Why: ``session()`` and ``attempt()`` objects attach a context on entry and detach
it on exit. An app may keep one object and enter it wherever it runs (nested, in
concurrent threads or asyncio tasks): a single remembered token would be replaced
by the second entry, and the first exit would detach the wrong context (another
thread's: OpenTelemetry logs an error) or none, leaving the block's values current
after it. :class:`Entries` keeps every open entry and ends, on each exit, the one
made in the exiting context.
"""

from __future__ import annotations

import threading
from typing import Generic, TypeVar

from opentelemetry import context as otel_context

__all__ = ["Entries"]

T = TypeVar("T")

# Guards the entries of every object (entered and exited by any thread); entering is no hot path.
_lock = threading.Lock()


class Entries(Generic[T]):
    """Open entries, oldest first: the context each attached, its token, and what the entry keeps."""

    __slots__ = ("_open",)

    def __init__(self) -> None:
        self._open: list[tuple[otel_context.Context, object, T]] = []

    def enter(self, ctx: otel_context.Context, kept: T) -> None:
        """Make ``ctx`` current, remembering ``kept`` for the matching :meth:`exit`."""
        token = otel_context.attach(ctx)
        with _lock:
            self._open.append((ctx, token, kept))

    def exit(self) -> tuple[bool, T | None]:
        """Detach the entry whose context is the current one (the latest entry if the block left
        another context current): ``(True, kept)``, or ``(False, None)`` when none is open."""
        current = otel_context.get_current()
        with _lock:
            entries = self._open
            if not entries:
                return False, None
            index = next((i for i in range(len(entries) - 1, -1, -1) if entries[i][0] is current), len(entries) - 1)
            _, token, kept = entries.pop(index)
        otel_context.detach(token)  # type: ignore[arg-type]
        return True, kept
