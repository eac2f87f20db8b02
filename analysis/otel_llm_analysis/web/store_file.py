"""Whether the store file the dashboard opened is still the one at its path.

Why: the dashboard holds its database open for as long as it runs. A store
deleted (``rm``) or rebuilt at the same path (``rm`` then ``otel-llm ingest``)
leaves the server reading the file it opened - which the file system keeps for
it - so the page would go on showing the old figures as the store's, in
silence. The status the page polls says so instead (``/api/status``'s
``store_file``), naming the path and that a restart reads the file there now.
"""

from __future__ import annotations

import os
from pathlib import Path


class StoreFile:
    """The identity (device, inode) of the file at ``path`` when the dashboard opened it."""

    def __init__(self, path: str | os.PathLike[str] | None) -> None:
        self.path = str(path) if path else ""
        self._opened = _identity(self.path) if self.path else None

    def change(self) -> str | None:
        """A sentence saying the file at the path is gone or another one; None while it is the one opened
        (or the store is not a file: in memory, another engine)."""
        if self._opened is None:
            return None
        now = _identity(self.path)
        if now == self._opened:
            return None
        said = f"The store {self.path} was {{}} after the dashboard opened it: these figures are those of the file it opened"
        if now is None:
            return said.format("deleted") + ", as it was."
        return said.format("replaced by another file") + ". Restart otel-llm serve to read the new one."


def _identity(path: str) -> tuple[int, int] | None:
    try:
        found = Path(path).stat()
    except OSError:
        return None
    return found.st_dev, found.st_ino


__all__ = ["StoreFile"]
