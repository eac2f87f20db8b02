"""A lock that knows whether the thread asking holds it, so a shutdown from a signal handler cannot deadlock.

Why: a signal handler runs on the main thread between two bytecodes of
whatever it interrupted. An app's handler that calls ``otel_llm.shutdown()``
after interrupting the main thread inside a delivery lock (a metric flush
appending to the spool, a file exporter writing, a loss being counted) would wait for a lock its own
thread holds -- for ever. :func:`held_here` lets shutdown see that and run
elsewhere (``_runtime.shutdown``).
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

__all__ = ["OwnedLock", "held_here"]

_locks: "weakref.WeakSet[OwnedLock]" = weakref.WeakSet()


class OwnedLock:
    """A non-reentrant ``threading.Lock`` that records its holder's thread id."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owner: int | None = None
        _locks.add(self)

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        if not self._lock.acquire(blocking, timeout):
            return False
        self._owner = threading.get_ident()
        return True

    def release(self) -> None:
        self._owner = None
        self._lock.release()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc: Any) -> None:
        self.release()

    def may_be_held_here(self) -> bool:
        """Held by this thread -- or held with its holder not yet (or no longer) recorded: a signal can land
        between the acquire and the note, and guessing "here" costs a helper thread, never a deadlock."""
        owner = self._owner
        return self._lock.locked() and owner in (None, threading.get_ident())


def held_here() -> bool:
    """Whether the calling thread may hold one of the delivery locks (see :meth:`OwnedLock.may_be_held_here`)."""
    return any(lock.may_be_held_here() for lock in list(_locks))
