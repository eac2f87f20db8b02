"""One writer core for the embedded file exporters: OTLP-JSON export requests, one per line.

Why not upstream's ``_FileExporter`` as is: it writes through a buffered text
stream (a crash can leave half a line; two processes can interleave), never
fsyncs and never rotates. This core keeps upstream's encoders (the per-signal
classes in ``file.py`` call them) and adds what the collector's
``fileexporter`` format needs on disk:

* the whole line goes out in **one** ``os.write`` on an ``O_APPEND`` fd, under
  an ``flock`` on that fd, so concurrent writers (threads or processes) never
  interleave and a crash leaves at most one torn *last* line. If a previous
  process left such a torn line, we start with a newline so it stays a
  (skippable) line of its own — the lock makes that check reliable, since no
  other writer can be mid-line while we look;
* ``fsync`` on flush and close;
* rotation by size with the collector's backup naming — lumberjack style,
  ``traces-2026-11-25T14-45-01.123-size.jsonl``, UTC;
* a write the disk cuts short is cut back to where it began, so the file
  holds whole lines only (a crash mid-write can still leave a torn last line);
* it never raises into the SDK's export thread: a failure returns ``False``
  and counts the batch's items as lost in :mod:`otel_llm._notices` (printed
  on stderr once per incident — not through ``logging``, which may itself
  write to the failing disk).
"""

from __future__ import annotations

import json
import os
import weakref
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Generic, Iterator, TypeVar

from otel_llm import _notices
from otel_llm._guard import internal_error
from otel_llm.exporters._sizing import bounded_lines
from otel_llm.exporters._owned_lock import OwnedLock

__all__ = ["JsonlWriter", "backup_name", "encode_line"]

try:
    import fcntl as _fcntl
except ImportError:  # Windows
    _fcntl = None  # type: ignore[assignment]
try:
    import orjson as _orjson
except ImportError:  # optional speed-up
    _orjson = None  # type: ignore[assignment]

T = TypeVar("T")

# O_RDWR (not O_WRONLY) so _open can pread the last byte; every write still appends.
_FLAGS = os.O_RDWR | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)


def encode_line(message: dict[str, Any]) -> bytes:
    """Compact JSON + newline.

    Uses ``orjson`` when installed (the ``[analysis]`` extra brings it; about
    5x faster than ``json`` on export requests), else the standard library.
    Lone surrogates, which orjson rejects, go the ``json`` way and become
    ``\\udXXX`` escapes (still valid JSON).
    """
    if _orjson is not None:
        try:
            return _orjson.dumps(message, option=_orjson.OPT_APPEND_NEWLINE)
        except TypeError:
            pass  # orjson.JSONEncodeError subclasses TypeError
    text = json.dumps(message, separators=(",", ":"), ensure_ascii=False, default=str)
    return text.encode("utf-8", errors="backslashreplace") + b"\n"


def backup_name(path: Path, when: datetime) -> Path:
    """The collector's backup name for a size rotation: ``<stem>-<UTC 2006-01-02T15-04-05.000>-size<ext>``.

    fileexporter v0.161.0 rotates with timberjack, which appends the rotation
    reason; using the same name lets one glob and one sort order serve both.
    """
    stamp = when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H-%M-%S.") + f"{when.microsecond // 1000:03d}"
    return path.with_name(f"{path.stem}-{stamp}-size{path.suffix}")


class JsonlWriter(Generic[T]):
    """Encode a batch with ``encode`` and append it to ``path`` as one line.

    A batch whose line would exceed ``max_line_bytes`` is written as several
    lines (see :mod:`._sizing`), all in the same ``write``.

    ``signal`` and ``count`` name what a failed write loses (``"traces"`` and
    the number of spans in a batch) for the loss notices.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        encode: Callable[[T], dict[str, Any] | None],
        *,
        max_bytes: int | None = None,
        max_line_bytes: int | None = None,
        signal: str = "records",
        count: Callable[[T], int] = lambda batch: 1,
        clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    ) -> None:
        self.path = Path(path)
        self._where = os.path.abspath(self.path)  # named in loss notices
        self._encode = encode
        self._signal = signal
        self._count = count
        self._max_bytes = max_bytes if max_bytes and max_bytes > 0 else None
        self._max_line = max_line_bytes if max_line_bytes and max_line_bytes > 0 else None
        self._clock = clock
        self._lock = OwnedLock()
        self._fd: int | None = None
        self._closed = False
        self._failing = False
        weak = weakref.WeakMethod(self._after_fork_in_child)
        os.register_at_fork(after_in_child=lambda: (method := weak()) is not None and method())

    def _after_fork_in_child(self) -> None:
        """A forked child opens the file itself: its own descriptor makes the ``flock`` exclude the parent.

        (A descriptor inherited across ``fork`` shares the parent's lock; the
        lock object may have been held by a parent thread at the fork.)
        """
        self._lock = OwnedLock()
        fd, self._fd = self._fd, None
        if fd is not None:
            _close_quietly(fd)  # the child's copy only; the parent's stays open

    # --- public -----------------------------------------------------------------
    def write(self, batch: T) -> bool:
        """Append one export request. ``True`` on success; never raises."""
        if self._closed:
            return self._failed("write", RuntimeError("the exporter was shut down"), batch)
        try:
            message = self._encode(batch)
            if message is None:
                return True  # an empty batch: nothing to write, nothing failed
            self._append(b"".join(bounded_lines(message, self._max_line, encode_line)))
        except OSError as exc:  # the disk, not us: the batch is lost, and said so
            return self._failed("write", exc, batch)
        except Exception as exc:  # noqa: BLE001 — our encoder's fault; the export thread must survive it
            self._failed("write", exc, batch)
            internal_error("jsonl: encoding a batch", exc)
            return False
        self._succeeded()
        return True

    def append_lines(self, data: bytes, items: int) -> bool:
        """Append lines already encoded (each ending in a newline) holding ``items`` items. Never raises."""
        try:
            self._append(data)
        except OSError as exc:
            return self._failed("write", exc, items=items)
        self._succeeded()
        return True

    def _append(self, data: bytes) -> None:
        """One ``write`` of whole lines under the file lock; raises ``OSError``."""
        with self._lock:
            if self._closed:
                raise OSError("the writer was closed")
            fd = self._writable_fd(len(data))
            try:
                with _locked(fd):
                    start = os.fstat(fd).st_size  # where this write begins: O_APPEND, and no other writer now
                    try:
                        _write_all(fd, data)
                    except OSError:
                        _cut_back(fd, start)
                        raise
            except OSError:
                self._fd = None  # reopened next time (a torn line left, if cutting back failed, is ended there)
                _close_quietly(fd)
                raise

    def _succeeded(self) -> None:
        if self._failing:
            self._failing = False
            _notices.resolved(self._signal, self._where)

    def flush(self) -> bool:
        """fsync what was written: after ``flush()`` the lines survive a power cut."""
        with self._lock:
            if self._fd is None:
                return True
            try:
                os.fsync(self._fd)
            except OSError as exc:
                return self._failed("fsync", exc)
        return True

    def close(self) -> None:
        """fsync and close; later writes return ``False``. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            fd, self._fd = self._fd, None
        if fd is not None:
            try:
                os.fsync(fd)
            except OSError as exc:
                self._failed("fsync", exc)
            finally:
                _close_quietly(fd)

    # --- internals (called with the lock held) --------------------------------------
    def _writable_fd(self, incoming: int) -> int:
        fd = self._fd
        if fd is not None and self._rotated_elsewhere(fd):
            _close_quietly(fd)
            fd = self._fd = None
        if fd is None:
            fd = self._fd = self._open()
        if self._max_bytes is not None:
            size = os.fstat(fd).st_size
            if size > 0 and size + incoming > self._max_bytes:
                self._rotate(fd)
                fd = self._fd = self._open()
        return fd

    def _open(self) -> int:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, _FLAGS, 0o644)
        with _locked(fd):  # every writer writes under this lock, so a line in progress can't fool us
            size = os.fstat(fd).st_size
            if size > 0 and hasattr(os, "pread") and os.pread(fd, 1, size - 1) != b"\n":
                # A writer crashed mid-line: terminate its torn line so ours stays whole.
                _write_all(fd, b"\n")
        return fd

    def _rotated_elsewhere(self, fd: int) -> bool:
        """Another process (or writer) renamed our file away: reopen ``path``."""
        try:
            return os.stat(self.path).st_ino != os.fstat(fd).st_ino
        except FileNotFoundError:
            return True

    def _rotate(self, fd: int) -> None:
        """Rename the full file to its backup name; the caller reopens ``path``.

        Other processes may append to the same file: the rename happens under
        an ``flock`` on the directory, and only if ``path`` is still the file
        we measured, so two writers never rotate twice. A process still
        holding the old inode appends its next whole line to the backup, then
        notices the rename and reopens.
        """
        self._fd = None
        with _directory_lock(self.path.parent):
            try:
                if self._rotated_elsewhere(fd):
                    return  # another writer rotated first
                os.fsync(fd)
                when = self._clock()
                target = backup_name(self.path, when)
                while target.exists():  # two rotations in one millisecond: keep both, keep the pattern
                    when += timedelta(milliseconds=1)
                    target = backup_name(self.path, when)
                os.replace(self.path, target)
            finally:
                _close_quietly(fd)

    def _failed(self, what: str, exc: BaseException, batch: Any = None, items: int | None = None) -> bool:
        """Report a failure (never raises): a failed write loses its batch, a failed fsync may lose the tail."""
        detail = _notices.failure(exc)
        if batch is not None:
            try:
                items = self._count(batch)
            except Exception as count_exc:  # noqa: BLE001 — counting must not hide the loss itself
                internal_error("jsonl: counting a lost batch", count_exc)
                items = 1
        if items is not None:
            _notices.lost(self._signal, items, self._where, "write_failed", detail)
        elif not self._failing:
            _notices.notice(f"{what} of {self._where} failed ({detail}): recent lines may not be on disk")
        self._failing = True
        return False


@contextmanager
def _locked(fd: int) -> Iterator[None]:
    """Exclusive ``flock`` on ``fd`` across processes (held for one write); no-op without fcntl."""
    if _fcntl is None:
        yield
        return
    _fcntl.flock(fd, _fcntl.LOCK_EX)
    try:
        yield
    finally:
        _fcntl.flock(fd, _fcntl.LOCK_UN)


@contextmanager
def _directory_lock(directory: Path) -> Iterator[None]:
    """Exclusive ``flock`` on the directory itself (no lock file to clean up); POSIX only."""
    if _fcntl is None:  # Windows: the in-process lock only
        yield
        return
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        _fcntl.flock(dir_fd, _fcntl.LOCK_EX)
        yield
    finally:
        os.close(dir_fd)  # closing releases the lock


def _cut_back(fd: int, size: int) -> None:
    """Truncate ``fd`` to ``size``: a write cut short by a full disk leaves no part of a line behind (the
    batch is counted as lost, and a torn line would be a line no reader can parse)."""
    try:
        os.ftruncate(fd, size)
    except OSError:
        pass  # the torn line stays; the next open ends it with a newline


def _close_quietly(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass  # already closed or the device is gone: nothing left to release


def _write_all(fd: int, data: bytes) -> None:
    """One ``write`` in practice; loops only if the kernel accepts a partial write."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
