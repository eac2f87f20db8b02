"""Batching span and log-record processors that count what they drop and write through in worker processes.

Why not upstream's ``BatchSpanProcessor``: it drops spans silently when its
queue is full (one log line, no count), its ``force_flush`` ignores its
timeout, and a worker process forked from the app (``multiprocessing``,
``ProcessPoolExecutor``, Celery, a bare ``os.fork()``) usually ends with
``os._exit`` — no ``atexit``, so whatever the child queued is gone. Here:

* one queue and one export thread per signal (:class:`_Batcher`), batches of
  ``max_batch`` items, at least every ``delay_s``; the standard
  ``OTEL_BSP_*`` / ``OTEL_BLRP_*`` variables are read by ``_providers``
  (:func:`processors_settings`);
* a full queue drops the newest item and counts it (:mod:`otel_llm._notices`);
* ``force_flush(timeout)`` waits at most ``timeout``; ``shutdown()`` drains
  within the deadline ``set_deadline`` gave it and counts what it could not;
* neither waits on one export longer than ``export_timeout_s``
  (``OTEL_BSP_EXPORT_TIMEOUT``): an export cannot be stopped from here, but a
  flush then says it did not finish, and a shutdown counts what the export held
  and what was queued behind it as lost for that reason (an OTLP export's
  requests are given that long at most: ``_providers``);
* **in a worker process** — a child forked after ``configure()``, or a
  ``multiprocessing`` child that configured itself — each item goes to the
  exporter's ``write_through`` on the ending thread: the file exporter
  appends it to its file, the spooled OTLP exporter to the spool, which the
  parent (or the next process) replays. Every span is on disk when it ends,
  whatever way the worker leaves (``os._exit``, ``Pool.terminate()``).
  Exporters without ``write_through`` keep batching, and are flushed when a
  ``multiprocessing`` worker exits normally.

Exports run with instrumentation suppressed, so an HTTP exporter's own
requests are not traced. Export results are not inspected: otel-llm's
exporters count their own losses.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from opentelemetry.context import Context
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor

from otel_llm import _notices, _upstream
from otel_llm._content import type_name
from otel_llm._guard import internal_error
from otel_llm._upstream import LogRecordProcessor, ReadableLogRecord

__all__ = ["BatchLogProcessor", "BatchSpanProcessor", "ProcessorPipeline", "ending_child", "in_worker_process"]

T = TypeVar("T")

_LOCAL_WAIT_S = 30.0  # a local file write never waits on a network: drain it even past the deadline
#: Upstream's default for ``OTEL_BSP_EXPORT_TIMEOUT`` / ``OTEL_BLRP_EXPORT_TIMEOUT`` (30,000 ms), in seconds: what a
#: processor built without a setting allows one export.
_EXPORT_TIMEOUT_S = 30.0
# The variable that sets each signal's export timeout, named when an export overran it.
_TIMEOUT_VARIABLES = {"traces": "OTEL_BSP_EXPORT_TIMEOUT", "logs": "OTEL_BLRP_EXPORT_TIMEOUT"}
_SETTLED_POLL_S = 0.05  # how often a waiting flush or shutdown looks whether a hung send's batch was kept


_ending_child = False  # this forked child is ending: what it holds goes to local disk, never to a network


def in_worker_process() -> bool:
    """True in a ``multiprocessing`` child (spawn, forkserver or fork), and in a bare forked child that is
    ending (:func:`ending_child`): either hands what it holds to the local spool and never replays it."""
    return _ending_child or multiprocessing.parent_process() is not None


def ending_child() -> None:
    """This forked child ends now (``os._exit``, SIGTERM): from here on it behaves as a worker process."""
    global _ending_child
    _ending_child = True


class _Batcher(Generic[T]):
    """A bounded queue drained by one daemon thread into ``exporter.export(batch)``."""

    def __init__(self, exporter: Any, signal: str, *, max_queue: int, max_batch: int, delay_s: float,
                 local: bool, export_timeout_s: float = _EXPORT_TIMEOUT_S) -> None:
        self.exporter = exporter
        self.signal = signal
        self._max_queue = max_queue
        self._max_batch = max(1, min(max_batch, max_queue))
        self._delay_s = delay_s
        self._export_timeout_s = export_timeout_s  # no flush or shutdown waits on one export longer
        self._local = local  # the exporter writes a local file: its shutdown never waits on a network
        self._through: Callable[[list[T]], Any] | None = getattr(exporter, "write_through", None)
        self._where = f"the in-memory {signal} queue (max {max_queue:,}; OTEL_BSP/BLRP_MAX_QUEUE_SIZE)"
        # Not the queue: the item ended once this pipeline was shut down, so nothing could take it.
        self._where_shut = f"otel-llm's {signal} pipeline, already shut down (nothing is exported after that)"
        self._deadline: float | None = None
        self._shut = False
        # A later configure() replaced this pipeline (:meth:`replaced_by`): what ends after its shutdown goes on
        # to ``successor``, the new configuration's pipeline for the signal, or is lost for that reason.
        self._replaced = False
        self.successor: _Batcher[T] | ProcessorPipeline | None = None
        self._replacement = ""
        self._reset(write_through=self._through is not None and in_worker_process())
        weak = weakref.WeakMethod(self._after_fork_in_child)
        os.register_at_fork(after_in_child=lambda: (method := weak()) is not None and method())

    def _reset(self, write_through: bool) -> None:
        self._cond = threading.Condition()
        self._queue: deque[T] = deque()
        self._queued = 0  # items ever queued
        self._handled = 0  # items exported (or given up) in queue order
        self._in_flight = 0
        self._exporting: list[T] | None = None  # the batch the export thread is sending now
        self._export_started = 0.0  # when that send began (``time.monotonic()``)
        self._flush_wanted = False
        self._stop = False
        self._thread: threading.Thread | None = None
        self._dropping = False
        self.write_through = write_through

    def _after_fork_in_child(self) -> None:
        """A forked child starts empty (the parent exports what it queued) and writes through if it can."""
        self._reset(write_through=self._through is not None)
        if self._through is None:
            _upstream.on_multiprocessing_worker_exit(self._flush_at_worker_exit)

    def _flush_at_worker_exit(self) -> None:
        self.force_flush(5_000)

    def replaced_by(self, successor: "_Batcher[T] | ProcessorPipeline | None", replacement: str = "") -> None:
        """A later ``configure()`` replaces this pipeline (shut down next): what ends after that — a stream
        started before and read after — is handed to ``successor`` (the new pipeline for the same signal:
        otel-llm's, or the app's tracer provider's processors), or, with none, counted as lost because of the
        replacement, not of a ``shutdown()``; ``replacement`` says what replaced it then."""
        self.successor = successor
        self._replaced = True
        self._replacement = replacement

    # --- the caller's side --------------------------------------------------------------
    def add(self, item: T) -> None:
        if self._shut:
            self._after_shutdown(item)
            return
        if self._through is not None and (self.write_through or in_worker_process()):
            # A spawned worker configures while importing the app's module, before
            # multiprocessing marks it a child: the first item after that switches.
            self.write_through = True
            self._export([item], self._through)
            return
        with self._cond:
            if len(self._queue) >= self._max_queue:
                self._dropping = True
                dropped = True
            else:
                dropped = False
                self._queue.append(item)
                self._queued += 1
                if self._thread is None:
                    self._start()
                if len(self._queue) >= self._max_batch:
                    self._cond.notify_all()
        if dropped:
            _notices.lost(self.signal, 1, self._where, "queue_full", "items arrive faster than they are exported")

    def _after_shutdown(self, item: T) -> None:
        """``item`` ended after this pipeline was shut down: to the pipeline that replaced it, else lost."""
        successor = self.successor
        if successor is not None:
            successor.add(item)  # keeps the resource it started under: the span was this provider's
        elif self._replaced:
            _notices.lost(self.signal, 1, self._where_replaced, "replaced")
        else:
            _notices.lost(self.signal, 1, self._where_shut, "after_shutdown")

    @property
    def _where_replaced(self) -> str:
        return (f"otel-llm's {self.signal} pipeline of an earlier configure(), replaced by "
                f"{self._replacement or 'one exporting none'}")

    def _start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"otel-llm-{self.signal}-export", daemon=True)
        self._thread.start()

    def force_flush(self, timeout_millis: float = 30_000) -> bool:
        """Export everything queued before the call, then flush the exporter; waits at most ``timeout_millis``.

        True only when the exporter says it holds nothing back either: a spooling
        exporter answers whether its backlog reached the collector (one replay
        attempt), not merely whether it took the batch. A worker writing through
        never waits on the network (its parent replays what it spooled).
        """
        deadline = time.monotonic() + max(timeout_millis, 0) / 1000
        with self._cond:
            target = self._queued
            if self._handled < target:
                self._flush_wanted = True
                self._cond.notify_all()
                if not self._wait_handled(target, deadline - time.monotonic()):
                    return False
        if self.write_through:
            return True
        flush = getattr(self.exporter, "force_flush", None)
        if not callable(flush):
            return True
        try:
            return flush(max(int((deadline - time.monotonic()) * 1000), 0)) is not False
        except Exception as exc:  # noqa: BLE001 — an exporter's flush must not raise into the app
            internal_error(f"batching: flushing the {self.signal} exporter", exc)
            return False

    def set_deadline(self, deadline: float) -> None:
        """``shutdown()`` drains until ``deadline`` (``time.monotonic()``), then counts the rest as lost."""
        self._deadline = deadline

    def shutdown(self) -> None:
        """Export what is queued within the deadline, count the rest, shut the exporter down. Idempotent."""
        if self._shut:
            return
        self._shut = True
        with self._cond:
            self._stop = True
            self._cond.notify_all()
            wait = _LOCAL_WAIT_S if self._local else self._remaining()
            self._wait_handled(self._queued, wait)
            left = self._queued - self._handled
            overran = self._overran()  # then nothing queued behind that export is sent: counted here, once
            rest = list(self._queue) if left and (overran or not self._local) else []
            if rest:
                self._queue.clear()
            exporting = self._exporting
        if overran:
            left -= self._kept_at_deadline([] if self._local else rest, exporting)  # the hung disk: not again
            self._lost_to_overrun(left)
        else:
            left -= self._kept_at_deadline(rest, exporting)
        if left and not overran:
            _notices.lost(self.signal, left, self._where, "shutdown", "not exported when the shutdown budget ran out")
        try:
            self.exporter.shutdown()
        except Exception as exc:  # noqa: BLE001 — shutdown must finish
            internal_error("batching: exporter shutdown", exc)

    def _wait_handled(self, target: int, timeout: float) -> bool:
        """Wait (condition held) until ``target`` items are handled; True when they are.

        Gives up early when the batch being sent hangs and the exporter has already
        kept it (a spool's deadline watchdog spooled it): that send may block in a
        socket read for the exporter's whole timeout, and waiting for it would
        overrun the shutdown budget for nothing. Gives up too once that send has run
        longer than the export timeout (:meth:`_overran`).
        """
        end = time.monotonic() + max(timeout, 0)
        while self._handled < target:
            left = end - time.monotonic()
            if left <= 0 or self._kept_while_sending(self._exporting) or self._overran():
                return False
            self._cond.wait(min(left, _SETTLED_POLL_S))
        return True

    def _overran(self) -> bool:
        """Whether the export running now (condition held) has run longer than the export timeout."""
        return self._exporting is not None and time.monotonic() - self._export_started >= self._export_timeout_s

    def _lost_to_overrun(self, count: int) -> None:
        """A shutdown that stopped waiting on an export past its timeout: ``count`` items not exported."""
        variable = _TIMEOUT_VARIABLES.get(self.signal, "the export timeout")
        _notices.lost(self.signal, count, type_name(self.exporter), "export_timeout",
                      f"an export ran longer than {variable} ({self._export_timeout_s * 1000:,.0f} ms); the shutdown "
                      "did not wait for it, nor for what was queued behind it")

    def _kept_while_sending(self, batch: list[T] | None) -> bool:
        """Whether ``batch``, whose send still hangs, was kept by the exporter (spooled at the deadline)."""
        settled_while_sending = getattr(self.exporter, "settled_while_sending", None)
        return bool(batch) and callable(settled_while_sending) and bool(settled_while_sending(batch))

    def _kept_at_deadline(self, rest: list[T], exporting: list[T] | None) -> int:
        """Items the deadline did not catch in memory: the queue's ``rest`` handed to the spool (kept, or
        counted lost by it when it cannot write), and the batch whose send hangs once the spool settled it.
        The next process sends what was kept."""
        kept = 0
        if rest and self._through is not None:
            try:
                self._through(rest)  # a spool that cannot write counts what it loses itself
                kept += len(rest)
            except Exception as exc:  # noqa: BLE001 — counted as lost by the caller instead
                internal_error("batching: keeping the queue at the deadline", exc)
        if exporting and self._kept_while_sending(exporting):
            kept += len(exporting)
        return kept

    def _remaining(self) -> float:
        if self._deadline is None:
            return 30.0
        return max(self._deadline - time.monotonic(), 0.0)

    # --- the export thread -------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(
                    lambda: self._stop or self._flush_wanted or len(self._queue) >= self._max_batch,
                    timeout=self._delay_s,
                )
                if not self._queue:
                    self._flush_wanted = False
                    if self._stop:
                        return
                    continue
                batch = [self._queue.popleft() for _ in range(min(self._max_batch, len(self._queue)))]
                if not self._queue:
                    self._flush_wanted = False
                recovered, self._dropping = self._dropping, False
            if recovered:
                _notices.resolved(self.signal, self._where)
            self._exporting, self._export_started = batch, time.monotonic()
            self._export(batch)
            with self._cond:
                self._exporting = None
                self._handled += len(batch)
                self._cond.notify_all()

    def _export(self, batch: list[T], export: Callable[[list[T]], Any] | None = None) -> None:
        with suppress_instrumentation():
            try:
                (export or self.exporter.export)(batch)
            except Exception as exc:  # noqa: BLE001 — an exporter's fault must not kill the thread
                _notices.lost(self.signal, len(batch), type_name(self.exporter), "send_failed",
                              _notices.failure(exc))
                internal_error("batching: export", exc)


class ProcessorPipeline:
    """The app's own span processors (its tracer provider's) as the pipeline a replaced batcher hands on to.

    ``configure(tracer_provider=...)`` after a ``configure()`` of otel-llm's own:
    a call still running then (a stream read after it) ends its span on the
    previous provider, shut down; the new configuration records on the app's
    provider, which is alive, so the span goes to its processors (with the
    resource it started under), as it goes to otel-llm's next pipeline otherwise.
    """

    def __init__(self, processor: Any) -> None:
        self._processor = processor

    def add(self, span: ReadableSpan) -> None:
        self._processor.on_end(span)


class BatchSpanProcessor(SpanProcessor):
    """Ended, sampled spans -> ``exporter`` in batches (or written through in a worker process)."""

    def __init__(self, exporter: Any, *, max_queue: int, max_batch: int, delay_s: float, local: bool,
                 export_timeout_s: float = _EXPORT_TIMEOUT_S) -> None:
        self.batcher: _Batcher[ReadableSpan] = _Batcher(
            exporter, "traces", max_queue=max_queue, max_batch=max_batch, delay_s=delay_s, local=local,
            export_timeout_s=export_timeout_s)

    def on_start(self, span: Any, parent_context: Context | None = None) -> None:
        pass

    def on_end(self, span: ReadableSpan) -> None:
        if span.context is not None and span.context.trace_flags.sampled:
            self.batcher.add(span)

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self.batcher.force_flush(timeout_millis)

    def shutdown(self) -> None:
        self.batcher.shutdown()


class BatchLogProcessor(LogRecordProcessor):
    """Emitted log records -> ``exporter`` in batches (or written through in a worker process)."""

    def __init__(self, exporter: Any, *, max_queue: int, max_batch: int, delay_s: float, local: bool,
                 export_timeout_s: float = _EXPORT_TIMEOUT_S) -> None:
        self.batcher: _Batcher[ReadableLogRecord] = _Batcher(
            exporter, "logs", max_queue=max_queue, max_batch=max_batch, delay_s=delay_s, local=local,
            export_timeout_s=export_timeout_s)

    def on_emit(self, log_record: Any) -> None:
        self.batcher.add(_upstream.readable_log_record(log_record))

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self.batcher.force_flush(timeout_millis)

    def shutdown(self) -> None:
        self.batcher.shutdown()


def processors_settings(prefix: str, defaults: tuple[int, int, int, int],
                        env: Callable[[str], str | None]) -> dict[str, Any]:
    """``max_queue``, ``max_batch``, ``delay_s``, ``export_timeout_s`` from ``OTEL_{prefix}_*`` (``BSP``:
    spans, ``BLRP``: log records; the delay and the export timeout in milliseconds, as upstream reads them).

    Each must be a positive integer, as upstream's processors require (they raise
    ``ValueError`` for 0 or a negative value, and log a traceback for text): a
    malformed one warns once (:func:`otel_llm._settings.warn_malformed`) and keeps
    its default, and a batch set larger than the queue warns and is cut to the queue
    (upstream raises for it; the default batch over a smaller queue is cut alone). An empty variable is unset, as the specification says.
    Upstream reads ``OTEL_{prefix}_EXPORT_TIMEOUT`` and leaves it unused; otel-llm's processors honour it
    (see :class:`_Batcher`).
    """
    from otel_llm._settings import warn_malformed

    values, given = [], []
    for name, default in zip(("MAX_QUEUE_SIZE", "MAX_EXPORT_BATCH_SIZE", "SCHEDULE_DELAY", "EXPORT_TIMEOUT"), defaults):
        variable = f"OTEL_{prefix}_{name}"
        raw = env(variable)
        value, taken = default, False
        if raw and raw.strip():
            try:
                value = int(raw)
                if value <= 0:
                    raise ValueError("not a positive integer")
                taken = True
            except ValueError as exc:
                warn_malformed(variable, raw, exc, default)
                value = default
        values.append(value)
        given.append(taken)
    queue, batch, delay_ms, timeout_ms = values
    if batch > queue:
        if given[1]:  # the default batch over a smaller queue is cut without a word: no variable to correct
            variable = f"OTEL_{prefix}_MAX_EXPORT_BATCH_SIZE"
            warn_malformed(variable, env(variable) or "", ValueError(f"more than the queue size {queue}"), queue)
        batch = queue
    return {"max_queue": queue, "max_batch": batch, "delay_s": delay_ms / 1000, "export_timeout_s": timeout_ms / 1000}
