"""The spool's on-disk store: append-only segment files of OTLP-JSON lines.

Layout, per signal: ``<spool_dir>/<signal>/<time_ns>-<pid>.active`` is the
segment one process appends to; it becomes ``<time_ns>-<pid>.pending`` when
sealed (size reached, replay wanted, or exporter shut down). Names sort in
write order, so replay keeps it.

Why segments and not one file: data may be deleted only after it was
delivered, while other writers keep appending. A replayer therefore works on
sealed segments only, records its progress in ``<segment>.offset``, and
deletes a segment once every line in it was delivered.

Crash safety: each record is one ``os.write`` of one line on an ``O_APPEND``
descriptor, so a crash leaves at most a torn last line without its newline,
which replay skips. A writer holds an exclusive ``flock`` on its ``.active``
file for as long as it has it open; an ``.active`` segment nobody holds a lock
on belongs to a process that died, and is replayed like a sealed one. One
replayer at a time (across processes) holds ``.replay.lock``.
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_log = logging.getLogger("otel_llm.spool")

ACTIVE = ".active"
SEALED = ".pending"  # not .jsonl: a reader globbing the output dir must not take undelivered data for delivered
OFFSET = ".offset"


@dataclass(frozen=True)
class Segment:
    """One spool file awaiting replay; ``offset`` bytes of it are already delivered."""

    path: Path
    offset: int

    def lines(self) -> Iterator[tuple[bytes, int]]:
        """Undelivered complete lines with the offset just past each one."""
        with self.path.open("rb") as f:
            f.seek(self.offset)
            position = self.offset
            for line in f:
                position += len(line)
                if not line.endswith(b"\n"):
                    return  # torn by a crash mid-write: never a whole record
                if line.strip():
                    yield line.rstrip(b"\n"), position

    def mark_delivered(self, offset: int) -> None:
        """Persist progress so a restarted replayer resumes after ``offset``."""
        if not self.path.exists():
            return  # dropped meanwhile by a full spool: leave no stray progress file
        progress = self.path.with_name(self.path.name + OFFSET)
        tmp = progress.with_name(progress.name + ".tmp")
        tmp.write_text(str(offset))
        os.replace(tmp, progress)

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)
        self.path.with_name(self.path.name + OFFSET).unlink(missing_ok=True)


class SegmentStore:
    """Appends records for one signal and hands replayable segments out in order.

    Not thread-safe: the owning spool serialises calls with its own lock.
    """

    def __init__(self, directory: Path, max_bytes: int) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        # Small enough that the segment being written is a minor part of the budget.
        self.segment_bytes = max(64 * 1024, min(8 * 1024 * 1024, max_bytes // 8))
        self.dropped_records = 0
        self._fd: int | None = None
        self._active: Path | None = None
        self._active_size = 0
        self._total = 0
        directory.mkdir(parents=True, exist_ok=True)
        self._rescan()

    # --- writing -------------------------------------------------------------
    def append(self, record: bytes) -> bool:
        """Append one record as one line; False when it cannot be kept (too big, I/O error)."""
        line = record + b"\n"
        if len(line) > self.max_bytes:
            self._count_dropped(1, f"a {len(line)}-byte record exceeds the spool size")
            return False
        if self._total + len(line) > self.max_bytes:
            self._make_room(len(line))
        if self._fd is not None and self._active_size + len(line) > self.segment_bytes:
            self.seal()
        try:
            if self._fd is None:
                self._open_segment()
            os.write(self._fd, line)  # type: ignore[arg-type]
        except OSError:
            _log.warning("otel-llm spool: cannot write to %s", self.directory, exc_info=True)
            return False
        self._active_size += len(line)
        self._total += len(line)
        return True

    def seal(self) -> None:
        """Close the segment being written and make it replayable."""
        if self._fd is None or self._active is None:
            return
        sealed = self._active.with_suffix(SEALED)
        try:
            os.rename(self._active, sealed)
        finally:
            os.close(self._fd)  # releases the flock
            self._fd, self._active, self._active_size = None, None, 0

    @property
    def writing(self) -> bool:
        """True while this store has an unsealed segment with data in it."""
        return self._fd is not None and self._active_size > 0

    def _open_segment(self) -> None:
        path = self.directory / f"{time.time_ns():020d}-{os.getpid()}{ACTIVE}"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_EXCL, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._fd, self._active, self._active_size = fd, path, 0

    # --- reading -------------------------------------------------------------
    def pending(self) -> list[Segment]:
        """Replayable segments, oldest first: sealed ones and those of dead writers."""
        segments = []
        for path in sorted(self.directory.iterdir()):
            if path.suffix == SEALED or (path.suffix == ACTIVE and path != self._active and _orphaned(path)):
                segments.append(Segment(path, _read_offset(path)))
        return segments

    def is_empty(self) -> bool:
        """No data of ours waiting and nothing replayable on disk."""
        return not self.writing and not self.pending()

    # --- the size bound -------------------------------------------------------
    def _make_room(self, needed: int) -> None:
        self._rescan()
        for segment in self.pending():
            if self._total + needed <= self.max_bytes:
                return
            size, records = _size_and_records(segment)
            segment.remove()
            self._total -= size
            self._count_dropped(records, "the spool is full")

    def _rescan(self) -> None:
        total = 0
        for path in self.directory.iterdir():
            if path.suffix in (SEALED, ACTIVE):
                try:
                    total += path.stat().st_size - _read_offset(path)
                except OSError:
                    continue
        self._total = total

    def _count_dropped(self, records: int, why: str) -> None:
        self.dropped_records += records
        _log.warning(
            "otel-llm spool %s: %s; dropped %d oldest batch(es), %d dropped so far",
            self.directory, why, records, self.dropped_records,
        )

    def close(self) -> None:
        self.seal()


def segment_files(spool_dir: Path) -> list[Path]:
    """Every spool segment (any signal, any state) under ``spool_dir``, oldest first per signal."""
    return sorted(p for p in spool_dir.rglob("*") if p.suffix in (SEALED, ACTIVE))


def _orphaned(path: Path) -> bool:
    """An ``.active`` segment whose writer is gone (nobody holds its flock)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


def _read_offset(path: Path) -> int:
    try:
        return int(path.with_name(path.name + OFFSET).read_text())
    except (OSError, ValueError):
        return 0


def _size_and_records(segment: Segment) -> tuple[int, int]:
    try:
        data = segment.path.read_bytes()[segment.offset:]
    except OSError:
        return 0, 0
    return len(data), data.count(b"\n")


class ReplayLock:
    """Exclusive, non-blocking, cross-process: one replayer per signal directory."""

    def __init__(self, directory: Path) -> None:
        self._path = directory / ".replay.lock"
        self._fd: int | None = None

    def acquire(self) -> bool:
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
