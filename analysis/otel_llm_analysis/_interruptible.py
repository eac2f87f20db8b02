"""DuckDB work that Ctrl-C stops: run on a thread of its own while the caller's thread waits in short steps.

Why: a signal (Ctrl-C, a timeout's) is handled only by the main thread, and only when it runs Python.
DuckDB running a query on the main thread checks for signals between its tasks, and under load it sits
waiting for its workers past a signal: the query went on to its end (a lone query missed 1 SIGINT in 12
at load 5; a minute-long scan, every one under two busy loops), and a signal DuckDB did notice came out
as ``RuntimeError: Query interrupted``, not as Ctrl-C. Waiting here instead, the signal's exception comes
within one step (:data:`STEP_S`) wherever it landed.

The rule, for every use (the CLI's commands, the summary's two queries side by side): any exception while
the caller waits - also one raised while a work is being handed to its thread, which may already have
started it - stops every work: each one's connections are interrupted until it has ended (DuckDB forgets
an interrupt that comes before a query starts, so the interrupt is repeated), or it is kept from starting;
works started inside a work's thread are stopped with it. Then the exception goes on.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any, TypeVar

import duckdb

__all__ = ["STEP_S", "Work", "run", "side_by_side"]

T = TypeVar("T")

#: How long the caller's thread waits at a time for a work's thread: the most a signal waits to be raised.
STEP_S = 0.05
#: How long :meth:`Work.stop` waits between interrupts for the work to end.
_RETRY_S = 0.01

#: The work whose thread this is, if any (works started in it are its children, stopped with it).
_running = threading.local()


class Work:
    """``fn()`` on a thread of its own, which :meth:`stop` ends or keeps from starting whenever it is called
    (the lock decides which: started or not). ``interrupt()`` stops the queries ``fn`` runs (a DuckDB
    connection's or cursor's ``interrupt``); it is called from another thread and may be called before,
    between or after them."""

    def __init__(self, fn: Callable[[], T], interrupt: Callable[[], None]) -> None:
        self.fn, self.interrupt = fn, interrupt
        self._lock = threading.Lock()
        self._started = self._stopped = False
        self._finished = threading.Event()
        self._children: list[Work] = []
        parent = getattr(_running, "work", None)
        if parent is not None:
            parent._adopt(self)

    def _adopt(self, child: Work) -> None:
        with self._lock:
            self._children.append(child)

    def run(self) -> Any:
        try:
            with self._lock:
                if self._stopped:
                    return None
                self._started = True
            _running.work = self
            try:
                return self.fn()
            finally:
                _running.work = None
        finally:
            self._finished.set()

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            started = self._started
        while started and not self._finished.wait(_RETRY_S):
            with self._lock:
                children = list(self._children)
            for work in (self, *children):
                try:
                    work.interrupt()
                except duckdb.Error:  # closed by its thread as its query ended: done in a moment
                    pass


def side_by_side(*works: Work) -> list[Any]:
    """Each work's result (in order), all of them run at the same time on threads of their own, the calling
    thread waiting in steps of :data:`STEP_S`; any exception meanwhile stops them all (see the module).

    Each work runs in a copy of the caller's context (``contextvars``): what the caller's block set holds
    for its works too, e.g. the statements' answers a report build keeps (``_filters.remembering``)."""
    with ThreadPoolExecutor(len(works)) as pool:
        try:
            futures = []
            for work in works:
                futures.append(pool.submit(contextvars.copy_context().run, work.run))
            return [_waited(future) for future in futures]
        except BaseException:
            _stop(works)
            raise


def run(fn: Callable[[], T], interrupt: Callable[[], None]) -> T:
    """``fn()`` run as a :class:`Work` (Ctrl-C stops it through ``interrupt``), its result or its exception."""
    return side_by_side(Work(fn, interrupt))[0]


def _stop(works: tuple[Work, ...]) -> None:
    """Stop every work to its end, a Ctrl-C pressed again meanwhile included: it would leave a query running,
    for the pool's exit and then the interpreter's to wait for (:meth:`Work.stop` is done again, as often as
    needed: a stopped work's is at once)."""
    pending = list(works)
    while pending:
        try:
            pending[0].stop()
            pending.pop(0)
        except KeyboardInterrupt:  # the user is waiting for this very stop
            continue


def _waited(future: Future[T]) -> T:
    """The future's result, waited for in steps of :data:`STEP_S` (between them Python raises a signal's
    exception, e.g. Ctrl-C's ``KeyboardInterrupt``)."""
    while not wait([future], timeout=STEP_S).done:
        pass
    return future.result()
