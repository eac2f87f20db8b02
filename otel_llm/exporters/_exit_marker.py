"""Say at start that an earlier process with this spool ended without shutting down.

Why: an app killed by SIGKILL (the OOM killer, ``kill -9``, a container
runtime's timeout) runs no handler at all: the spans, log records and metric
points still queued in its memory are lost, and nothing could say so then. What
it had spooled is replayed by the next process; what it had not, the next
process can at least name. Each process that exports with a spool writes
``<spool_dir>/running/<pid>.running`` (its pid, start time, host and boot) when it
starts and removes it when it shuts down; a marker found at start whose process
is gone is such a death, said once on stderr and removed.

A marker of another host is left alone (a spool on a shared volume: its process
cannot be checked from here); after a reboot every marker of this host is stale.
The pid's start time guards against a recycled pid. Nothing here raises: a
spool directory that cannot be written simply gets no marker.
"""

from __future__ import annotations

import json
import os
import socket
import time
import weakref
from pathlib import Path
from typing import Any

from otel_llm import _notices, _upstream

__all__ = ["Marker", "remove_own", "started"]

_DIRECTORY = "running"
#: A marker's suffix: not a data file's (``.json``), so ``otel-llm ingest`` of a data directory holding
#: the spool (its default place, ``./otel-data/spool``) does not read markers as telemetry.
_SUFFIX = ".running"


def _boot_id() -> str | None:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip() or None
    except OSError:
        return None


def _start_ticks(pid: int) -> int | None:
    """The process's start time in clock ticks after boot (``/proc/<pid>/stat`` field 22); None if unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    try:
        return int(stat.rsplit(")", 1)[1].split()[19])
    except (IndexError, ValueError):
        return None


def _runs(record: dict[str, Any]) -> bool:
    """Whether the process a marker describes still runs (on this host and boot)."""
    pid = int(record.get("pid", 0))
    if pid <= 0 or pid == os.getpid():  # our own pid before we wrote ours: an earlier life (a container restart)
        return False
    if record.get("boot_id") and _boot_id() and record["boot_id"] != _boot_id():
        return False
    ticks = _start_ticks(pid)
    if ticks is not None or Path("/proc/self/stat").exists():
        return ticks is not None and record.get("start_ticks") in (None, ticks)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # someone else's process: it exists
    return True


class Marker:
    """This process's marker in one spool directory; :meth:`shutdown` removes it (idempotent).

    A child forked while the marker exists writes a marker of its own (its copy
    of this object then names it): a worker killed with spans in memory is a
    loss like any other. It is removed when the child ends cleanly: by
    :meth:`shutdown` from ``atexit`` (``sys.exit``, as a pre-fork server's
    worker ends), or, in a ``multiprocessing`` worker (which leaves by
    ``os._exit``), after its exit flush; in a bare ``os.fork()`` child ending by
    ``os._exit`` or SIGTERM, after the flush ``otel_llm._runtime`` runs then. A
    child whose flush does not finish in time (or that is killed) keeps it: its
    in-memory telemetry may indeed be lost.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        _markers.add(self)
        if path is not None and hasattr(os, "register_at_fork"):
            weak = weakref.WeakMethod(self._after_fork_in_child)
            os.register_at_fork(after_in_child=lambda: (method := weak()) is not None and method())

    def _after_fork_in_child(self) -> None:
        if self.path is None:
            return
        if _upstream.forked_to_exec():  # another program runs in this process next: it holds none of our telemetry
            self.path = None
            return
        self.path = _write(self.path.parent)
        if self.path is not None:
            # After the exit flush (priority 100): the marker goes only once the flush is done.
            _upstream.on_multiprocessing_worker_exit(self.shutdown, exitpriority=50)

    def shutdown(self, *args: Any, **kwargs: Any) -> None:
        path, self.path = self.path, None
        if path is not None and os.getpid() == int(path.stem):  # never another process's marker
            try:
                path.unlink(missing_ok=True)
            except OSError:
                pass


_markers: "weakref.WeakSet[Marker]" = weakref.WeakSet()


def remove_own() -> None:
    """Remove this process's markers: it ends now, having handed over what it held (a forked worker
    ending on SIGTERM after its flush)."""
    for marker in list(_markers):
        marker.shutdown()


def started(spool_dir: Path, *, spooled: bool = True) -> Marker:
    """Report the markers of processes that died with this spool, then write this process's marker.

    ``spooled=False``: ``spool_dir`` is not a spool but where local files are written (the file
    exporter's ``output_dir/.otel-llm``): the notice then names that directory and no replay.
    """
    directory = Path(spool_dir) / _DIRECTORY
    host = socket.gethostname()
    try:
        found = sorted(directory.glob(f"*{_SUFFIX}"))
    except OSError:
        found = []
    for path in found:
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError):
            continue  # being written by a process starting now, or not ours
        if not isinstance(record, dict) or record.get("host") != host or _runs(record):
            continue
        try:
            path.unlink()
        except FileNotFoundError:
            continue  # another process starting now reports it
        except OSError:
            pass
        when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(float(record.get("started_at", 0))))
        where = f"with the spool {spool_dir}" if spooled else f"writing to {Path(spool_dir).parent}"
        _notices.notice(f"an earlier process {where} (pid {record.get('pid')}, started {when}) ended without "
                        "shutting down (killed: SIGKILL, out of memory, ...); the telemetry it still held in memory "
                        "was lost" + ("; what it had spooled is replayed from the spool" if spooled else
                                      " (its last second of spans and log records, its metrics since their last export)"))
    return Marker(_write(directory))


def _write(directory: Path) -> Path | None:
    """Write this process's marker into ``directory``; its path, or None when it cannot be written."""
    record = {"pid": os.getpid(), "started_at": time.time(), "host": socket.gethostname(), "boot_id": _boot_id(),
              "start_ticks": _start_ticks(os.getpid())}
    path = directory / f"{os.getpid()}{_SUFFIX}"
    tmp = path.with_suffix(".tmp")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(record))
        os.replace(tmp, path)
    except OSError:  # an unwritable or full spool: the spool itself says what it cannot keep
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        return None
    return path
