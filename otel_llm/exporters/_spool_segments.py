"""The spool's on-disk store: append-only segment files of OTLP-JSON lines.

Layout, per signal: ``<spool_dir>/<signal>/<time_ns>-<pid>.active`` is the
segment one process appends to; it becomes ``<time_ns>-<pid>.pending`` when
sealed (size reached, replay wanted, or exporter shut down). Names sort in
write order (a stamp never below the newest segment's, whatever the clock
does), so replay keeps it.

Why segments and not one file: data may be deleted only after it was
delivered, while other writers keep appending. A replayer therefore works on
sealed segments only, records its progress in ``<segment>.offset``, and
deletes a segment once every line in it was delivered.

Bound: ``max_bytes`` covers the whole spool directory — every signal, every
process. Before a record would overflow it, the oldest replayable segments
(any signal, this store's own segment sealed first if need be) are deleted and
the spans, log records or metric points in them counted as lost
(:mod:`otel_llm._notices`), so the spool stays within one record of the bound.
The stores of one process share one running total (:class:`_Budget`); the
disk is rescanned whenever the total nears the bound.

Crash safety: each record is one ``os.write`` of one line on an ``O_APPEND``
descriptor, so a crash leaves at most a torn last line without its newline,
which replay skips. A writer holds an exclusive ``flock`` on its ``.active``
file for as long as it has it open; an ``.active`` segment nobody holds a lock
on belongs to a process that died, and is replayed like a sealed one. One
replayer at a time (across processes) holds ``.replay.lock``.

Deleted while in use: directories are made when a segment is opened, so a
spool removed by hand (or never creatable) costs nothing until data needs it;
the segment being written when it went is read back through its descriptor
and written again under its own name (:meth:`SegmentStore.seal`).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import re
import threading
import time
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from otel_llm import _notices
from otel_llm.exporters._sizing import count_items

ACTIVE = ".active"
SEALED = ".pending"  # not .jsonl: a reader globbing the output dir must not take undelivered data for delivered
OFFSET = ".offset"
_NEWLINE = b"\n"


@dataclass(frozen=True)
class Segment:
    """One spool file awaiting replay; ``offset`` bytes of it are already delivered."""

    path: Path
    offset: int

    def lines(self) -> Iterator[tuple[bytes, int]]:
        """Undelivered complete lines with the offset just past each one (none once the file is gone)."""
        try:
            f = self.path.open("rb")
        except FileNotFoundError:  # deleted meanwhile: by hand, or by a full spool making room (counted there)
            return
        with f:
            f.seek(self.offset)
            position = self.offset
            for line in f:
                position += len(line)
                if not line.endswith(b"\n"):
                    return  # torn by a crash mid-write: never a whole record
                if line.strip():
                    yield line.rstrip(b"\n"), position

    def tail(self, start: int) -> bytes:
        """The bytes from ``start`` (just past the last whole line) to the end: a record cut short by a
        crash mid-write, or nothing."""
        try:
            with self.path.open("rb") as f:
                f.seek(start)
                return f.read().strip()
        except FileNotFoundError:
            return b""

    def where(self, offset: int) -> str:
        """``<path> line N`` for the line starting at byte ``offset``, for a notice (``<path> byte N`` when the
        file cannot be read)."""
        try:
            with self.path.open("rb") as f:
                before = f.read(offset)
        except OSError:
            return f"{self.path} byte {offset:,}"
        return f"{self.path} line {before.count(_NEWLINE) + 1:,}"

    def mark_delivered(self, offset: int) -> None:
        """Persist progress so a restarted replayer resumes after ``offset``.

        When the note cannot be written (a full disk, a file-size limit, a
        read-only remount) the progress is kept in this process's memory
        (:data:`_progress_in_memory`): the lines were delivered, and sending them
        again at every retry would give the collector each one many times. At
        exit the note is tried again, and what still cannot be written is said
        (:meth:`SegmentStore.save_progress`): the next process sends those lines again.
        """
        if not self.path.exists():
            return  # dropped meanwhile by a full spool: leave no stray progress file
        try:
            _write_offset(self.path, offset)
        except OSError:
            _progress_in_memory[str(self.path)] = offset

    def remove(self) -> None:
        """Delete the segment and its progress note. One that cannot be deleted (a read-only directory)
        is remembered as delivered (:data:`_delivered_undeletable`): this process neither sends it again
        nor waits for it to go before exporting directly again; the next process will, which is said."""
        try:
            self.path.unlink(missing_ok=True)
        except OSError as exc:
            if str(self.path) not in _delivered_undeletable:
                _delivered_undeletable.add(str(self.path))
                _notices.notice(f"the delivered spool segment {self.path} cannot be deleted "
                                f"({_notices.failure(exc)}); the next process starting with this spool sends it "
                                "again: delivered twice")
            return
        _progress_in_memory.pop(str(self.path), None)
        with contextlib.suppress(OSError):
            self.path.with_name(self.path.name + OFFSET).unlink(missing_ok=True)


class _Budget:
    """One spool root as seen by one process: its byte total and the lock all its stores write under.

    Every change to a store's open segment happens under :attr:`lock`, so a
    store making room may delete another store's open segment (it closes that
    store's descriptor first) without racing its writes.
    """

    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self.total = 0
        self.lock = threading.RLock()
        self.stores: "weakref.WeakSet[SegmentStore]" = weakref.WeakSet()
        self.rescan()

    def rescan(self) -> None:
        """Recount undelivered bytes of every segment under the root (other processes' too)."""
        total = 0
        for path in _segments_under(self.root):
            try:
                total += path.stat().st_size - _read_offset(path)
            except OSError:
                continue  # replayed and deleted meanwhile
        self.total = total


_budgets: "weakref.WeakValueDictionary[tuple[str, int], _Budget]" = weakref.WeakValueDictionary()
_budgets_lock = threading.Lock()


def _budget_for(root: Path, max_bytes: int) -> _Budget:
    key = (str(root.resolve()), max_bytes)
    with _budgets_lock:
        budget = _budgets.get(key)
        if budget is None:
            budget = _budgets[key] = _Budget(root, max_bytes)
        return budget


class SegmentStore:
    """Appends records for one signal and hands replayable segments out in order.

    ``root`` (default: ``directory`` itself) is what ``max_bytes`` bounds: the
    spool directory holding one subdirectory per signal.
    """

    def __init__(self, directory: Path, max_bytes: int, root: Path | None = None) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        # Small enough that the segment being written is a minor part of the budget.
        self.segment_bytes = max(64 * 1024, min(8 * 1024 * 1024, max_bytes // 8))
        self.dropped_records = 0  # records (lines) this store deleted or refused
        self._signal = directory.name
        self._fd: int | None = None
        self._active: Path | None = None
        self._active_size = 0
        self._opened_at = 0.0
        _adopt_legacy_segments(directory)
        self._budget = _budget_for(root if root is not None else directory, max_bytes)
        self._budget.stores.add(self)

    # --- writing -------------------------------------------------------------
    def append(self, record: bytes, items: int | None = None, max_age_s: float | None = None) -> bool:
        """Append one record as one line; False when it cannot be kept (counted as lost).

        ``items``: the spans, log records or metric points in the record (read
        from it when not given), for the loss count. ``max_age_s``: seal the open
        segment first if it was opened longer ago than that, so a replayer in
        another process gets its records soon.
        """
        line = record + b"\n"
        if len(line) > self.max_bytes:
            self.dropped_records += 1
            self._lost(record, items, "spool_full", f"a {len(line):,}-byte record is larger than the whole spool")
            return False
        with self._budget.lock:
            if self._fd is not None and (self._active_size + len(line) > self.segment_bytes or (
                    max_age_s is not None and time.monotonic() - self._opened_at > max_age_s)
                    or not os.path.exists(self._active or "")):
                self.seal()  # a segment deleted from under us is rescued there
            if self._budget.total + len(line) > self.max_bytes:
                self._make_room(len(line))
            try:
                if self._fd is None:
                    self._open_segment()
                written = os.write(self._fd, line)  # type: ignore[arg-type]
                if written != len(line):  # the disk filled up mid-record
                    raise OSError(errno.ENOSPC, f"only {written:,} of {len(line):,} bytes could be written")
            except OSError as exc:
                self._cut_back()
                self._lost(record, items, "write_failed", _notices.failure(exc))
                return False
            self._active_size += len(line)
            self._budget.total += len(line)
        return True

    def _cut_back(self) -> None:
        """After a failed write, end the open segment where its last whole record ends (budget lock held):
        a record cut short must neither pass for kept nor glue onto the next one. If the cut itself fails,
        the segment is sealed, its torn tail skipped by replay."""
        if self._fd is None:
            return
        try:
            os.ftruncate(self._fd, self._active_size)
        except OSError:
            self.seal()

    def seal(self) -> None:
        """Close the segment being written and make it replayable."""
        with self._budget.lock:
            if self._fd is None or self._active is None:
                return
            fd, active, size = self._fd, self._active, self._active_size
            self._fd, self._active, self._active_size = None, None, 0
            try:
                os.rename(active, active.with_suffix(SEALED))
            except FileNotFoundError:
                self._rescue(fd, size, active)
            except OSError:
                pass  # left as an .active nobody locks: replayed as a dead writer's segment
            finally:
                os.close(fd)  # releases the flock

    def _rescue(self, fd: int, size: int, gone: Path) -> None:
        """Our open segment was deleted (its directory removed while in use): what it holds is still
        readable through ``fd``, so write it again under its own name (its place in the replay order),
        sealed; if that fails, count it lost."""
        data = b""
        made = False
        try:
            data = os.pread(fd, size, 0)
            if not data:
                return
            fresh_fd = self._create(gone)
            made = True
            try:
                os.write(fresh_fd, data)
                os.rename(gone, gone.with_suffix(SEALED))
            finally:
                os.close(fresh_fd)
        except OSError as exc:
            if made:
                gone.unlink(missing_ok=True)
            self._budget.total = max(self._budget.total - size, 0)
            items = sum(_items_in(line) for line in data.split(b"\n") if line.strip())
            _notices.lost(self._signal, items, str(self.directory), "write_failed",
                          f"{gone.name} was deleted while in use and could not be written again: "
                          f"{_notices.failure(exc)}")

    @property
    def writing(self) -> bool:
        """True while this store has an unsealed segment with data in it."""
        return self._fd is not None and self._active_size > 0

    def _open_segment(self) -> None:
        path = self.directory / f"{self._next_stamp():020d}-{os.getpid()}{ACTIVE}"
        self._fd, self._active, self._active_size = self._create(path), path, 0
        self._opened_at = time.monotonic()

    def _next_stamp(self) -> int:
        """The new segment's name stamp: the wall clock, but never before a segment already here.

        Names give the replay order and the eviction order; a clock stepped back
        (NTP, a resumed VM) must not put new data before old.
        """
        newest = 0
        for path in _listdir(self.directory):
            if path.suffix in (SEALED, ACTIVE):
                stamp = path.name.split("-", 1)[0]
                newest = max(newest, int(stamp) if stamp.isdigit() else 0)
        return max(time.time_ns(), newest + 1)

    def _create(self, path: Path) -> int:
        """Create and lock the ``.active`` file ``path`` (raises ``OSError``). The directory is made here,
        when data first needs it: a spool that cannot be created costs what it would have kept (counted),
        never the app; one deleted while in use is made again."""
        self.directory.mkdir(parents=True, exist_ok=True)
        # O_RDWR: a segment deleted while open is still read back through this descriptor (``_rescue``).
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_EXCL, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return fd

    def _drop_open_segment(self) -> None:
        """Forget the open segment (budget lock held): after it was evicted, or in a forked child."""
        if self._fd is not None:
            os.close(self._fd)
        self._fd, self._active, self._active_size = None, None, 0

    def forget_inherited_segment(self) -> None:
        """In a forked child: leave the parent's open segment to the parent, write a segment of our own."""
        self._budget.lock = threading.RLock()  # the parent's may have been held by another thread
        self._drop_open_segment()

    # --- reading -------------------------------------------------------------
    def pending(self) -> list[Segment]:
        """Replayable segments of this signal, oldest first: sealed ones and those of dead writers."""
        return [Segment(path, _read_offset(path)) for path in sorted(_listdir(self.directory))
                if (path.suffix == SEALED or (path.suffix == ACTIVE and path != self._active and _orphaned(path)))
                and str(path) not in _delivered_undeletable]

    def is_empty(self) -> bool:
        """No data of ours waiting and nothing replayable on disk."""
        return not self.writing and not self.pending()

    def remove(self, segment: Segment) -> None:
        """Delete a delivered segment and give its bytes back to the budget."""
        with self._budget.lock:
            try:
                size = segment.path.stat().st_size - segment.offset
            except OSError:
                size = 0  # evicted meanwhile: already subtracted
            segment.remove()
            self._budget.total = max(self._budget.total - size, 0)

    # --- the size bound -------------------------------------------------------
    def _make_room(self, needed: int) -> None:
        """Delete the oldest data of any signal until ``needed`` more bytes fit (budget lock held).

        Candidates, oldest first: replayable segments on disk and the segments
        this process's stores are writing. Segments other live processes are
        writing cannot be touched.
        """
        budget = self._budget
        budget.rescan()
        if budget.total + needed <= self.max_bytes:
            return
        writers = {store._active: store for store in list(budget.stores) if store._active is not None}
        candidates = sorted((p for p in _segments_under(budget.root)
                             if p.suffix == SEALED or p in writers or (p.suffix == ACTIVE and _orphaned(p))),
                            key=lambda p: p.name)
        for path in candidates:
            if budget.total + needed <= self.max_bytes:
                return
            writer = writers.get(path)
            if writer is not None:
                writer._drop_open_segment()  # its next record opens a new segment
            segment = Segment(path, _read_offset(path))
            size, records, items = _contents(segment)
            segment.remove()
            budget.total -= size
            self.dropped_records += records
            _notices.lost(path.parent.name, items, str(budget.root), "spool_full",
                          f"bound {self.max_bytes:,} bytes; oldest data deleted")

    def _lost(self, record: bytes, items: int | None, kind: str, detail: str) -> None:
        count = items if items is not None else _items_in(record)
        _notices.lost(self._signal, count, str(self.directory), kind, detail)

    def close(self) -> None:
        self.seal()
        self.save_progress()

    def save_progress(self) -> None:
        """Write down the replay progress of this signal's segments that was kept in memory only (the note
        could not be written then: the disk full). What still cannot be written is said, naming the segment
        and the lines (and items) the next process starting with this spool sends again: delivered twice."""
        for key, offset in list(_progress_in_memory.items()):
            path = Path(key)
            if path.parent != self.directory or key in _delivered_undeletable:
                continue  # another signal's; or delivered whole and undeletable, said when it was kept
            if not path.exists():
                _progress_in_memory.pop(key, None)
                continue
            try:
                _write_offset(path, offset)
                _progress_in_memory.pop(key, None)
                continue
            except OSError as exc:
                failure = _notices.failure(exc)
            try:
                with path.open("rb") as f:
                    again = f.read(offset)[_note_offset(path):]
            except OSError:
                again = b""
            lines = [line for line in again.split(_NEWLINE) if line.strip()]
            items = sum(_items_in(line) for line in lines)
            _progress_in_memory.pop(key, None)  # said once
            _notices.notice(f"the replay progress of {path} cannot be written ({failure}); the next process "
                            f"starting with this spool sends its first {len(lines):,} delivered lines "
                            f"({_notices.amount(self._signal, items)}) again: delivered twice")


def segment_files(spool_dir: Path) -> list[Path]:
    """Every spool segment (any signal, any state) under ``spool_dir``, oldest first per signal."""
    return sorted(p for p in spool_dir.rglob("*") if p.suffix in (SEALED, ACTIVE))


def _segments_under(root: Path) -> Iterator[Path]:
    """Segments in ``root`` and its signal subdirectories (one level: the spool's layout)."""
    for directory in (root, *(d for d in _listdir(root) if d.is_dir())):
        for path in _listdir(directory):
            if path.suffix in (SEALED, ACTIVE):
                yield path


#: A sealed segment as versions before ``.pending`` named it: ``<time_ns>-<pid>.jsonl``.
_LEGACY_SEALED = re.compile(r"\d+-\d+\.jsonl")


def _adopt_legacy_segments(directory: Path) -> None:
    """Rename the sealed segments an older otel-llm left (``<time_ns>-<pid>.jsonl``) to ``.pending``.

    Why: replay takes ``.pending`` and orphaned ``.active`` segments only, so the
    data an older version spooled would wait on disk forever, neither delivered
    nor counted. The progress note moves first: a crash in between leaves the
    segment under its old name, adopted by the next process, never a segment
    without its progress (whose delivered lines would be sent again).
    """
    for path in _listdir(directory):
        if not _LEGACY_SEALED.fullmatch(path.name):
            continue
        target = path.with_suffix(SEALED)
        try:
            note = path.with_name(path.name + OFFSET)
            if note.exists():
                os.replace(note, target.with_name(target.name + OFFSET))
            os.replace(path, target)
        except OSError:
            continue  # another process adopted it first, or the directory takes no change: left as it is


def _listdir(directory: Path) -> list[Path]:
    try:
        return list(directory.iterdir())
    except OSError:  # not created yet, or removed
        return []


def _items_in(line: bytes) -> int:
    """Spans, log records or metric points in one spooled line (0 when unreadable)."""
    try:
        return count_items(json.loads(line))
    except ValueError:  # a torn or foreign line: nothing countable
        return 0


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


#: Delivery progress this process could not write down (segment path -> offset; see ``Segment.mark_delivered``).
_progress_in_memory: dict[str, int] = {}
#: Segments delivered to their end that could not be deleted (see ``Segment.remove``).
_delivered_undeletable: set[str] = set()


#: Progress notes found unreadable and said (see ``_read_offset``).
_unreadable_notes: set[str] = set()


def _write_offset(path: Path, offset: int) -> None:
    """Note that ``path`` was delivered up to ``offset`` (raises ``OSError``; no half-written note is left)."""
    progress = path.with_name(path.name + OFFSET)
    tmp = progress.with_name(progress.name + ".tmp")
    try:
        tmp.write_text(str(offset))
        os.replace(tmp, progress)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise


def _note_offset(path: Path) -> int:
    """The offset ``path``'s progress note holds (0 when there is none, or it cannot be read)."""
    try:
        return int(path.with_name(path.name + OFFSET).read_text())
    except (OSError, ValueError):
        return 0


def _read_offset(path: Path) -> int:
    """How far ``path`` was delivered: its progress note, or further when this process got further.

    A note that exists but cannot be read (a crash emptied it before it reached
    the disk) counts as nothing delivered: the lines after it must not be lost.
    The lines it covered are then sent again, which is said once per note.
    """
    note = path.with_name(path.name + OFFSET)
    on_disk = 0
    try:
        on_disk = int(note.read_text())
    except FileNotFoundError:
        pass  # nothing delivered yet
    except (OSError, ValueError) as exc:
        if str(note) not in _unreadable_notes and _progress_in_memory.get(str(path)) is None:
            _unreadable_notes.add(str(note))
            _notices.notice(f"the replay progress note {note} cannot be read ({_notices.failure(exc)}); "
                            f"{path.name} is replayed from its start: the lines delivered before are delivered "
                            "twice")
    return max(on_disk, _progress_in_memory.get(str(path), 0))


def _contents(segment: Segment) -> tuple[int, int, int]:
    """Undelivered bytes, lines and items of a segment."""
    try:
        data = segment.path.read_bytes()[segment.offset:]
    except OSError:
        return 0, 0, 0
    lines = [line for line in data.split(b"\n") if line.strip()]
    return len(data), data.count(b"\n"), sum(_items_in(line) for line in lines)


class ReplayLock:
    """Exclusive, non-blocking, cross-process: one replayer per signal directory.

    A forked child closes its copy of a held lock's descriptor: an ``flock`` lasts
    until every descriptor of it is closed, so a child forked mid-replay (a server
    pre-forking its workers while the backlog of the last run is delivered) would
    hold it for its whole life, and no later replay of this spool could start.
    """

    def __init__(self, directory: Path) -> None:
        self._path = directory / ".replay.lock"
        self._fd: int | None = None
        weak = weakref.WeakMethod(self._after_fork_in_child)
        os.register_at_fork(after_in_child=lambda: (method := weak()) is not None and method())

    def _after_fork_in_child(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)  # the child's copy only: the parent still holds the lock

    def acquire(self) -> bool:
        """True when this process may replay now; False when another one does, or the lock cannot be made."""
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            return False  # no directory, no segments: nothing to replay (writes report their own failures)
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
