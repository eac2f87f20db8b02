"""Of each batch an exporter is sending now, the part no request has taken yet.

Why: a batch goes out as several requests (spans and log records split by
size, metric points 1,000 a request). When the shutdown deadline comes while
one of them hangs, the spool keeps the batch for the next process; the
requests the endpoint already took must not be kept with it, or they arrive
twice for sure. The exporter notes its progress here as each request is
taken; the spool's deadline watchdog reads it from another thread.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["Untaken"]


class Untaken:
    """The batches being sent now, each with a function that returns its part not taken yet."""

    def __init__(self) -> None:
        self._rest: dict[int, tuple[Any, Callable[[], Any]]] = {}  # id -> (batch, its part not taken yet)

    @contextlib.contextmanager
    def sending(self, batch: Any) -> Iterator[Callable[[Callable[[], Any]], None]]:
        """While the block sends ``batch``; call the function it gets with a function that returns the part
        not taken yet each time a request was taken (a function: built only when the deadline asks)."""
        key = id(batch)
        self._rest[key] = (batch, lambda: batch)
        try:
            yield lambda rest: self._rest.__setitem__(key, (batch, rest))
        finally:
            self._rest.pop(key, None)

    def of(self, batch: Any) -> Any | None:
        """Of ``batch``, being sent now, the part no request has taken yet; None when it is not being sent."""
        entry = self._rest.get(id(batch))
        return entry[1]() if entry is not None and entry[0] is batch else None
