"""Durable delivery for ``exporter="otlp"``: spool what cannot be sent, replay it later.

``spooled(inner, signal, spool_dir, max_bytes)`` wraps an OTLP span, metric or
log exporter and returns an exporter of the same kind. Guarantees and limits:

* **At-least-once.** A batch the endpoint did not accept (the inner exporter
  returned FAILURE or raised, after its own retries) is encoded as OTLP-JSON
  lines of at most ``max_request_bytes`` -- the same encoder and format as
  the file exporter and the collector's files -- and appended to a spool on
  disk (see :mod:`._spool_segments`). It is deleted only after the endpoint
  accepted it. A crash between delivery and the progress note replays a batch
  twice, so **duplicates are possible**: readers de-duplicate on
  (trace_id, span_id); the analysis package does. A request -- direct or
  replayed -- that got no answer within the timeout may have been taken, and
  is sent again: stderr names its items ("if it took the 1,000 metric points
  of that request after all, they are delivered twice"), the requests taken
  before it are not sent again. The exporter's own retries after a busy
  answer go out only with half its timeout left (``_upstream``): a retry
  with a few milliseconds left is often taken and answered too late.
* **Fast while down.** After one failure the wrapper stops calling the inner
  exporter (whose retries take up to its timeout, 10 s by default) and spools
  every batch at once, in order, until a background thread has replayed the
  whole backlog; only then do exports go direct again. One line on stderr
  says the endpoint is unreachable and where the data waits; upstream's
  per-batch "Failed to export" log lines are filtered out meanwhile.
* **Replay** runs in a daemon thread that never blocks the caller: after a
  failure (probing with backoff, 0.5 s up to 5 s), and at start-up when a
  previous process left data behind -- including the ``.active`` segment of a
  process that died abruptly. One process replays a signal at a time.
* **Nothing blocks the queue.** A batch the endpoint refuses for good (HTTP
  4xx other than 408/429, directly or on replay), or one that fails
  :data:`MAX_LINE_FAILURES` times while the endpoint answers, is moved to the
  dead-letter file ``<spool_dir>/<signal>.dead-letter`` (OTLP-JSON lines, not
  ``.jsonl`` so no reader takes it for delivered data), announced on stderr
  with a count, and replay goes on with the next one. Each dead-letter file
  holds at most ``max_bytes`` (an endpoint refusing everything, a wrong API
  key, must not fill the disk); beyond, refused batches are counted as lost.
* **Busy is not bad.** An answer of 429, 502, 503 or 504 (a collector whose
  queue or memory limit is full still answers an empty probe with 200) says
  nothing about the data: the lines wait in the spool, the replayer honours
  ``Retry-After`` (up to a minute) and one line on stderr says the endpoint is
  busy -- or, when it gave a reason (a collector whose disk is full: "write
  .../traces.jsonl: no space left on device"), that it could not take the data,
  in its own words; they never count towards :data:`MAX_LINE_FAILURES`.
* **Replay speaks OTLP/HTTP JSON** whatever the inner protocol, small lines
  merged into one request (:mod:`._replay_http`): for an HTTP exporter to its
  own URL, for a gRPC exporter to the same host on port 4318;
  ``OTEL_LLM_SPOOL_REPLAY_ENDPOINT`` (a base URL such as
  ``http://127.0.0.1:4318``) overrides both. Headers come from
  ``OTEL_EXPORTER_OTLP_{SIGNAL}_HEADERS``, else ``OTEL_EXPORTER_OTLP_HEADERS``, TLS
  files (a private CA, mutual TLS) from ``OTEL_EXPORTER_OTLP_{,SIGNAL_}CERTIFICATE``,
  ``..._CLIENT_CERTIFICATE`` and ``..._CLIENT_KEY``, the request timeout and
  compression from ``OTEL_EXPORTER_OTLP_{,SIGNAL_}TIMEOUT`` (seconds, as the
  Python exporters read it) and ``..._COMPRESSION``, as the exporters read them.
* **Bounded.** At most ``max_bytes`` on disk for the whole spool (all
  signals); when full the oldest data is deleted and counted as lost.
  ``max_bytes <= 0`` turns the spool off: failed batches are then counted as
  lost.
* **Bounded exit.** After :meth:`set_deadline` (``otel_llm.shutdown()`` sets
  it), a direct export still running at the deadline is interrupted and the
  part of its batch no request has taken yet is spooled, and closing makes
  one replay attempt within what is left. What remains is announced
  ("collector unreachable, N spans wait in …") and sent by the next process
  that starts.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.sdk.metrics.export import MetricExporter, MetricExportResult, MetricsData
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from otel_llm import _notices, _upstream
from otel_llm._guard import internal_error
from otel_llm._upstream import LogRecordExporter, LogRecordExportResult, ReadableLogRecord
from otel_llm.exporters._answers import NO_ANSWER
from otel_llm.exporters._batching import in_worker_process
from otel_llm.exporters._jsonl import JsonlWriter, encode_line
from otel_llm.exporters._owned_lock import OwnedLock
from otel_llm.exporters._messages import logs_message, metric_points, metrics_message, spans_message
from otel_llm.exporters._quiet import exporting
from otel_llm.exporters._replay_http import (
    Outcome,
    Reply,
    headers_for,
    line_items,
    merged,
    mergeable,
    post,
    replay_url,
    sending_for,
    tls_context,
)
from otel_llm.exporters._sizing import DEFAULT_MAX_REQUEST_BYTES, bounded_records, smaller_bound
from otel_llm.exporters._spool_segments import ReplayLock, Segment, SegmentStore

__all__ = ["MAX_LINE_FAILURES", "dead_letter_path", "replay_url", "spooled"]

MAX_LINE_FAILURES = 5  # a line failing this often while the endpoint answers is set aside
_PROBE_MIN_S = 0.5
_PROBE_MAX_S = 5.0
_RETRY_AFTER_MAX_S = 60.0  # a busy endpoint's Retry-After is honoured up to this; flush and close still try
_SHUTDOWN_DRAIN_S = 3.0
_INTERRUPT_RESERVE_S = 0.5  # of the shutdown budget, kept to spool interrupted batches and close
_WORKER_SEAL_S = 1.0  # a worker's spool segment is handed over after this long
_CHILD_POLL_S = 1.0  # how often a parent looks for its workers' spooled data
_UNREADABLE_SAID = 3  # of the spooled lines that are not OTLP-JSON, the notice at close locates this many
_COUNT_LIMIT_BYTES = 32 * 1024 * 1024  # count items left at exit only in spools up to this size

# Upstream's per-batch messages, replaced by the spool's own while it keeps the batches.
_UPSTREAM_LOGGERS = (
    "opentelemetry.exporter.otlp.proto.http.trace_exporter",
    "opentelemetry.exporter.otlp.proto.http._log_exporter",
    "opentelemetry.exporter.otlp.proto.http.metric_exporter",
    "opentelemetry.exporter.otlp.proto.grpc.exporter",
)
_UPSTREAM_FAILURES = ("Failed to export", "Transient error", "Shutdown in progress", "Exporter already shutdown",
                      "OTLP client already shutdown")


def spooled(inner: Any, signal: str, spool_dir: Path, max_bytes: int,
            max_request_bytes: int | None = DEFAULT_MAX_REQUEST_BYTES) -> Any:
    """Wrap ``inner`` (a Span/Metric/LogRecord exporter) with a disk spool for ``signal``.

    ``signal`` is ``"traces"``, ``"metrics"`` or ``"logs"``; the spool lives in
    ``spool_dir / signal``. With ``max_bytes <= 0`` there is no spool and a
    failed batch is counted as lost.
    """
    wrapper = _WRAPPERS.get(signal)
    if wrapper is None:
        raise ValueError(f"unknown signal {signal!r}; expected one of {', '.join(_WRAPPERS)}")
    return wrapper(inner, signal, Path(spool_dir), max_bytes, max_request_bytes)


def dead_letter_path(spool_dir: Path, signal: str) -> Path:
    """Where batches refused for good are kept: beside the signal's spool directory."""
    return Path(spool_dir) / f"{signal}.dead-letter"


_live: "weakref.WeakSet[_Spool]" = weakref.WeakSet()  # spools that keep what their exporter cannot send


class _QuietWhileSpooling(logging.Filter):
    """Drops upstream's per-batch failure messages while a spool keeps the failed batches (it says so itself)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (len(_live) and isinstance(record.msg, str) and record.msg.startswith(_UPSTREAM_FAILURES))


_QUIET = _QuietWhileSpooling()
for _name in _UPSTREAM_LOGGERS:
    logging.getLogger(_name).addFilter(_QUIET)


class _Spool:
    """The signal-independent core: direct export while healthy, spool and replay otherwise."""

    def __init__(
        self,
        send: Callable[[Any], bool],
        encode: Callable[[Any], dict | None],
        url: str,
        headers: dict[str, str],
        directory: Path,
        max_bytes: int,
        *,
        signal: str,
        interrupt: Callable[[], None],
        refusal: Callable[[], str | None] = lambda: None,
        answer: Callable[[], _upstream.Answer | None] = lambda: None,
        undelivered: Callable[[], Any] = lambda: None,
        unanswered: Callable[[], int | None] = lambda: None,
        untaken: Callable[[Any], Any] = lambda batch: None,
        max_request_bytes: int | None = DEFAULT_MAX_REQUEST_BYTES,
        endpoint: str | None = None,
    ) -> None:
        self._send = send
        self._endpoint = endpoint or url  # where direct exports go (a gRPC exporter's host:port)
        self._encode = encode
        self._url = url
        self._headers = headers
        self._tls = tls_context(signal) if url.startswith("https://") else None
        self._sending = sending_for(signal)  # the exporters' timeout and compression
        self._signal = signal
        self._interrupt = interrupt  # stops the inner exporter's retries (shuts it down)
        self._refusal = refusal  # why the inner exporter's last failure was a permanent refusal, if it was
        self._answer = answer  # what a live endpoint answered to the inner exporter's last failure, if it did
        self._undelivered = undelivered  # of the inner exporter's last failed batch, the part not taken, if known
        self._unanswered = unanswered  # of that part, the items of the request that got no answer in time
        self._untaken = untaken  # of a batch the inner exporter is sending now, the part not taken yet, if known
        self._max_request = max_request_bytes
        self._directory = directory
        self._store = SegmentStore(directory, max_bytes, root=directory.parent)
        self._dead = JsonlWriter(dead_letter_path(directory.parent, signal), lambda lines: None, signal=signal)
        self._dead_max = max_bytes  # the dead-letter file is bounded as the spool is
        self._replay_lock = ReplayLock(directory)
        self._line_failures: dict[tuple[str, int], int] = {}
        self._deadline: float | None = None
        self._unreachable = False  # the last attempt found nobody answering
        self._has_children = False  # forked workers write through to this spool
        self._retry_after: float | None = None  # asked by a busy endpoint, for the replayer's next wait
        self._busy_said = False  # "busy" was said in this outage
        self._last_answer: _upstream.Answer | None = None  # what a live endpoint last answered instead of taking data
        self._unreadable_count = 0  # spooled lines that are not OTLP-JSON, set aside
        self._unreadable_at: list[str] = []  # where the first of them were read (at most _UNREADABLE_SAID)
        self._resent = 0  # items of replayed requests that got no answer in time: kept, sent again, maybe twice
        self._resent_said = 0  # of those, the items already said
        self._resent_in_outage = False  # the first of this outage was said
        self._init_threading()
        _live.add(self)
        if self._store.pending():  # left over by an earlier process
            self._start_replayer()
            self._wake.set()
        weak_child = weakref.WeakMethod(self._after_fork_in_child)
        weak_parent = weakref.WeakMethod(self._after_fork_in_parent)
        os.register_at_fork(after_in_child=lambda: (method := weak_child()) is not None and method(),
                            after_in_parent=lambda: (method := weak_parent()) is not None and method())

    def _init_threading(self) -> None:
        self._lock = OwnedLock()
        self._healthy = True  # False from a failure until the backlog is replayed
        self._wake = threading.Event()
        self._attempts = threading.Condition()  # notified after every replay attempt
        self._attempt_count = 0
        self._last_ok: bool | None = None
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._in_direct_export = 0
        self._in_flight: dict[int, Any] = {}  # id -> batch of the direct exports running now
        # id -> items of those the deadline's watchdog spooled (or counted lost): the part not taken yet
        self._settled_early: dict[int, int] = {}

    def _after_fork_in_child(self) -> None:
        """A forked child gets fresh locks, no replayer, and a segment of its own."""
        self._init_threading()
        self._has_children = False
        self._store.forget_inherited_segment()

    def _after_fork_in_parent(self) -> None:
        """Children write through to the spool: from now on the replayer looks for their segments."""
        self._has_children = True
        self._start_replayer()
        self._wake.set()

    # --- the exporter path (caller's / batch processor's thread) ---------------
    def export(self, batch: Any) -> bool:
        """Deliver, spool or set aside ``batch``; False only when it was neither sent nor kept."""
        tried = self._healthy and not self._past_deadline()
        answer = None
        twice = ""  # the items of a request that got no answer in time: the endpoint may have taken them
        if tried:
            sent = self._try_send(batch)
            with self._lock:  # claimed by the deadline's watchdog, which spools it: not a second time here
                spooled = self._settled_early.pop(id(batch), None)
                settled = spooled is not None
            if sent and spooled:  # the deadline spooled it, then the endpoint took it after all
                _notices.notice(f"{self._where()} took {_notices.amount(self._signal, spooled)} after "
                                "they were spooled at the shutdown deadline: they are delivered twice")
            if sent or settled:
                return True
            rest = self._undelivered()
            if rest is not None:  # sent in several requests, some taken: those must not be sent again
                batch = rest
            why = self._refusal()
            if why:  # refused for good: retrying cannot help, the endpoint is fine
                return self._set_aside_batch(batch, why)
            answer = self._answer()  # answered "not now" or with its own failure: reachable, not unreachable
            self._last_answer = answer or self._last_answer
            if answer is not None and answer.silent:
                unanswered = self._unanswered() or _batch_items(batch)
                twice = f"{_notices.amount(self._signal, unanswered)} of that request"
        records = self._records(batch)
        if records is None:
            return False
        with self._lock:
            # Only a failed attempt opens an outage: a batch that merely found one (and the replayer
            # recovered while it was encoded) joins the spool and is replayed, saying nothing false.
            first_failure = tried and self._healthy
            if tried:
                self._healthy = False
            kept = all([self._store.append(line, items) for line, items in records])
            idle_replayer = not tried and self._healthy  # it recovered: it sleeps until woken
        if idle_replayer:
            self._start_replayer()
            self._wake.set()
        if answer is not None and (first_failure or twice):  # copies that may arrive twice: said each time
            self._busy_said = True  # once per outage, as the replayer says it
            units = _notices.UNITS[self._signal][1]
            _notices.notice(f"{answer.said(self._where(), units, twice)}; {units} are spooled to "
                            f"{self._directory} and sent again later")
        if first_failure:  # later batches must not cut the replayer's probe backoff short
            if answer is None and not self._past_deadline():
                self._unreachable = True
                _notices.notice(f"collector unreachable at {self._where()}; {_notices.UNITS[self._signal][1]} are "
                                f"spooled to {self._directory} and sent when it answers again")
            self._start_replayer()
            self._wake.set()
        return kept

    def _where(self) -> str:
        """The endpoint the app exports to, and the replay URL when it is another (a gRPC exporter's)."""
        return self._url if self._endpoint in (self._url, "") else f"{self._endpoint} (spool replay: {self._url})"

    def keep(self, batch: Any) -> bool:
        """Append ``batch`` to the spool without trying to send it (a worker process's write-through).

        The segment is sealed once it is a second old, so the replayer of the
        process that forked this one (it polls while it has children) or the next
        process delivers it; a worker may end by ``os._exit`` at any moment.
        """
        records = self._records(batch)
        if records is None:
            return False
        with self._lock:
            return all([self._store.append(line, items, max_age_s=_WORKER_SEAL_S) for line, items in records])

    def _records(self, batch: Any) -> list[tuple[bytes, int]] | None:
        """The batch as spool lines (no newline) with their item counts; None when it cannot be encoded."""
        try:
            message = self._encode(batch)
            if message is None:
                return []
            return [(line.rstrip(b"\n"), items) for line, items in bounded_records(message, self._max_request, encode_line)]
        except Exception as exc:  # noqa: BLE001 — our encoder's fault: count the batch lost, never raise
            _notices.lost(self._signal, _batch_items(batch), str(self._directory), "write_failed",
                          f"cannot encode the batch: {_notices.failure(exc)}")
            internal_error("spool: encoding a batch", exc)
            return None

    def _try_send(self, batch: Any) -> bool:
        watchdog = self._arm_watchdog()
        self._in_direct_export += 1
        with self._lock:
            self._in_flight[id(batch)] = batch
        try:
            return bool(self._send(batch))
        except Exception as exc:  # noqa: BLE001 — exporters report failure, they don't raise: a bug
            internal_error("spool: the inner exporter raised", exc)
            return False
        finally:
            with self._lock:
                self._in_flight.pop(id(batch), None)
            self._in_direct_export -= 1
            if watchdog is not None:
                watchdog.cancel()

    def settled_while_sending(self, batch: Any) -> bool:
        """Whether ``batch``, whose direct export still hangs, was spooled when the deadline came
        (or, the spool failing, counted as lost there)."""
        return self._in_flight.get(id(batch)) is batch and id(batch) in self._settled_early

    def _set_aside_batch(self, batch: Any, why: str) -> bool:
        records = self._records(batch)
        if records is None:
            return False
        return all([self._set_aside(line, items, why, self._endpoint) for line, items in records])

    def _set_aside(self, line: bytes, items: int, why: str, source: str | None = None) -> bool:
        """Append ``line`` to the dead-letter file and say so (once per incident); ``source``: the endpoint
        that refused it (the replay URL unless given), or the spool file and line it could not be sent from."""
        why = f"{source or self._url}: {why}"
        try:
            size = self._dead.path.stat().st_size
        except OSError:
            size = 0
        if size + len(line) + 1 > self._dead_max:  # an endpoint refusing everything must not fill the disk
            _notices.lost(self._signal, items, str(self._dead.path), "dead_letter_full", why)
            return False
        if not self._dead.append_lines(line + b"\n", items):
            return False  # the writer counted the loss
        if items:
            _notices.set_aside(self._signal, items, str(self._dead.path), why)
        else:  # nothing countable (damaged, put there by hand): the lines are counted, the first said at once
            self._unreadable_count += 1
            if len(self._unreadable_at) < _UNREADABLE_SAID:
                self._unreadable_at.append(source or self._url)
            if self._unreadable_count == 1:
                _notices.notice(f"a spooled line that is not OTLP-JSON ({len(line):,} bytes) was set aside ({why}); "
                                f"kept in {self._dead.path}; later ones are counted and summed up at exit")
        return True

    def _sum_up_unreadable(self) -> None:
        """At close: how many spooled lines that are not OTLP-JSON were set aside, and where the first were."""
        if self._unreadable_count > 1:
            more = ", ..." if self._unreadable_count > len(self._unreadable_at) else ""
            _notices.notice(f"in total {self._unreadable_count:,} spooled lines that are not OTLP-JSON were set "
                            f"aside in {self._dead.path}; from {', '.join(self._unreadable_at)}{more}")

    # --- deadline ------------------------------------------------------------------------
    def set_deadline(self, deadline: float) -> None:
        """Shutdown ends at ``deadline`` (``time.monotonic()``): direct exports are interrupted a little
        before it (their batches spooled), and closing replays only until it."""
        self._deadline = deadline
        if self._in_direct_export:
            self._arm_watchdog()

    def _interrupt_at(self) -> float | None:
        return None if self._deadline is None else self._deadline - _INTERRUPT_RESERVE_S

    def _past_deadline(self) -> bool:
        at = self._interrupt_at()
        return at is not None and time.monotonic() >= at

    def _arm_watchdog(self) -> threading.Timer | None:
        at = self._interrupt_at()
        if at is None:
            return None
        timer = threading.Timer(max(at - time.monotonic(), 0), self._interrupt_direct_export)
        timer.daemon = True
        timer.start()
        return timer

    def _interrupt_direct_export(self) -> None:
        """At the deadline: stop the inner exporter's retries, and spool the batches still being sent.

        An endpoint that accepted the connection and never answers (a hung or
        stopped collector, a firewall dropping packets) holds the send in a
        socket read that no shutdown interrupts, up to the exporter's timeout;
        the process ends first. Spooled now, those batches reach the next
        process; if the send still succeeds, they arrive twice (at-least-once).
        Each batch is claimed before the send is interrupted, so the failing
        send never spools it a second time.
        """
        with self._lock:
            claimed = [(key, self._not_taken(batch)) for key, batch in self._in_flight.items()
                       if key not in self._settled_early]
            self._settled_early.update((key, _batch_items(rest)) for key, rest in claimed)
            if claimed:
                self._healthy = False  # later batches are spooled behind these, in order
        for _, rest in claimed:
            records = self._records(rest)  # what cannot be encoded or written is counted as lost
            with self._lock:
                for line, items in records or ():
                    self._store.append(line, items)
        if claimed:
            sending = _notices.amount(self._signal, sum(_batch_items(rest) for _, rest in claimed))
            _notices.notice(f"{sending} still being sent to {self._where()} when the shutdown budget ran out "
                            f"were spooled to {self._directory}; if the endpoint takes them after all, they are "
                            "delivered twice")
        if self._in_direct_export:
            try:
                self._interrupt()
            except Exception as exc:  # noqa: BLE001 — interrupting is best effort; the deadline still holds
                internal_error("spool: interrupting an export", exc)

    def _not_taken(self, batch: Any) -> Any:
        """Of ``batch``, whose send hangs, the part the endpoint has not taken: the requests it took before
        the hanging one are not kept (the next process would send them again); all of it when unknown."""
        try:
            rest = self._untaken(batch)
        except Exception as exc:  # noqa: BLE001 — keep the whole batch rather than lose any of it
            internal_error("spool: the part of a batch not taken", exc)
            rest = None
        return batch if rest is None else rest

    # --- flush and close -----------------------------------------------------------------
    def flush(self, timeout_s: float) -> bool:
        """One immediate replay attempt, waited for (bounded); True when the spool is empty.

        Never waits out an endpoint that is down: the data is already safe on
        disk, and a flush at exit must not hold the process for seconds. A
        worker process never replays: the process that started it (or the next
        one) does, so its flush -- at its exit, on SIGTERM -- does not wait at all.
        """
        if self._settled():
            return True
        if in_worker_process():
            return False
        if self._deadline is not None:  # within the shutdown budget, whatever the caller's timeout
            timeout_s = min(timeout_s, self._deadline - time.monotonic())
        self._start_replayer()
        with self._attempts:
            seen = self._attempt_count
            self._wake.set()
            self._attempts.wait_for(
                lambda: self._attempt_count > seen and (self._last_ok is False or self._settled()),
                timeout=max(timeout_s, 0),
            )
        return self._settled()

    def close(self, timeout_s: float = _SHUTDOWN_DRAIN_S) -> None:
        """Try once more to hand the backlog over (see :meth:`flush`), then seal, stop and say what waits.

        What is left stays on disk (sealed) for the next process to replay.
        """
        end = time.monotonic() + timeout_s
        if self._deadline is not None:  # the shutdown budget bounds the last attempt and the replayer's stop
            end = min(end, self._deadline)
        delivered = self._settled() or (end > time.monotonic() and self.flush(end - time.monotonic()))
        self._stopping = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=max(end - time.monotonic(), 0))
        with self._lock:
            self._store.close()
        _live.discard(self)
        self._sum_up_unreadable()
        self._say_resent()
        if not delivered:
            self._announce_backlog()

    def _announce_backlog(self) -> None:
        waiting = self._store.pending()
        size = sum(_remaining_bytes(s) for s in waiting)
        if not size:
            return
        counted = sum(_items_left(s) for s in waiting) if size <= _COUNT_LIMIT_BYTES else None
        if counted:
            what = _notices.amount(self._signal, counted)
        elif counted == 0:  # lines that are not OTLP-JSON (a damaged segment): something waits, not nothing
            what = f"{size:,} bytes that hold no countable {_notices.UNITS[self._signal][1]}"
        else:
            what = f"{size / 2**20:,.0f} MiB of {_notices.UNITS[self._signal][1]}"
        if self._unreachable:
            why = f"collector unreachable at {self._where()}"
        elif self._last_answer is not None:  # it answered, at once: the budget is not the cause
            why = self._last_answer.said(self._where(), _notices.UNITS[self._signal][1])
        else:
            why = f"{self._url} did not take everything within the shutdown budget"
        _notices.notice(f"{why}; {what} spooled to {self._directory}, "
                        "sent by the next process that starts with this spool")

    def _settled(self) -> bool:
        """The spool is empty and exports go direct again: the replayer deletes the last segment a moment
        before it says so, and a flush that answers True in between would see the next batch spooled."""
        with self._lock:
            return self._healthy and self._store.is_empty()

    # --- the replayer (daemon thread) ------------------------------------------
    def _start_replayer(self) -> None:
        with self._lock:
            if self._thread is not None or self._stopping:
                return
            self._thread = threading.Thread(target=self._replay_loop, name="otel-llm-spool-replay", daemon=True)
            self._thread.start()

    def _replay_loop(self) -> None:
        delay = wait = _PROBE_MIN_S
        with suppress_instrumentation():  # our POSTs are not app traffic
            while not self._stopping:
                self._wake.wait(wait)
                self._wake.clear()
                if self._stopping:
                    return
                try:
                    ok = self._drain_once()
                except Exception as exc:  # noqa: BLE001 — the replayer must outlive any one attempt
                    internal_error("spool: replaying", exc)
                    ok = False
                with self._attempts:
                    self._attempt_count += 1
                    self._last_ok = ok
                    self._attempts.notify_all()
                if ok:
                    delay = wait = _PROBE_MIN_S
                    # Sleep until the next failure, flush or close; with workers
                    # writing to the spool, look for their segments now and then.
                    self._wake.wait(_CHILD_POLL_S if self._has_children else None)
                else:
                    delay = min(delay * 2, _PROBE_MAX_S)
                    asked, self._retry_after = self._retry_after, None  # a busy endpoint's Retry-After
                    wait = max(delay, min(asked or 0.0, _RETRY_AFTER_MAX_S))

    def _drain_once(self) -> bool:
        """Replay everything replayable; True when the spool is empty and exports may go direct."""
        if not self._replay_lock.acquire():
            return False  # another process replays this signal
        try:
            with self._lock:
                if not self._store.writing and not self._store.pending():
                    # Nothing to replay (the spool could not keep it, or it was evicted): exports try
                    # direct again, and nothing is said -- the endpoint was not even asked.
                    self._recovered(answered=False)
                    return True
            # Probe with an empty request before touching segments, so a down
            # endpoint costs one refused connection, not a sealed segment per probe.
            reply = self._post(b"{}")
            probe = reply.outcome
            self._unreachable = probe is Outcome.FAILED and reply.answer is None  # not a timed-out answer
            if probe in (Outcome.FAILED, Outcome.BUSY):
                return False
            while not self._stopping:
                with self._lock:
                    if self._store.writing:
                        self._store.seal()  # our own backlog becomes replayable
                    segments = self._store.pending()
                    if not segments:
                        self._recovered()
                        return True
                for segment in segments:
                    if not self._replay(segment):
                        return False
            return False
        finally:
            self._replay_lock.release()

    def _recovered(self, answered: bool = True) -> None:
        """The backlog is delivered (lock held): exports go direct again; ``answered``: the endpoint did."""
        if not self._healthy and answered:
            _notices.notice(f"{self._url} answers again; the spooled {_notices.UNITS[self._signal][1]} "
                            "were delivered")
        self._healthy = True
        self._busy_said = False
        self._last_answer = None
        self._say_resent()
        self._resent_in_outage = False

    def _post(self, body: bytes) -> Reply:
        """POST to the endpoint; a busy answer (429, 503, ...) is remembered for the replayer's next wait
        and said once per outage: the data waits in the spool, it is never set aside for it. Items an
        accepted request's answer rejected (``partial_success``) are counted as lost with its message."""
        reply = post(self._url, self._headers, body, self._tls, self._sending, self._signal)
        if reply.answer is not None:
            self._last_answer = reply.answer
            if reply.answer.silent:
                self._unanswered_replay(line_items(body))
        if reply.rejected is not None:  # accepted but for these: the rest must not be sent again
            _notices.lost(self._signal, reply.rejected.count, self._url, "rejected", reply.rejected.message)
        if reply.outcome is Outcome.BUSY:
            self._retry_after = reply.retry_after_s
            if not self._busy_said:
                self._busy_said = True
                units = _notices.UNITS[self._signal][1]
                said = reply.answer.said(self._url, units) if reply.answer else f"{self._url} is busy ({reply.why})"
                _notices.notice(f"{said}; spooled {units} wait in {self._directory} and are sent again later")
        return reply

    def _unanswered_replay(self, items: int) -> None:
        """A replayed request carrying ``items`` got no answer in time: its lines stay spooled and are sent
        again, and the endpoint may have taken it. The first of an outage is said at once with its count,
        later ones when the outage ends or at close (:meth:`_say_resent`); an empty probe carries none."""
        if not items:
            return
        self._resent += items
        if not self._resent_in_outage:
            self._resent_in_outage = True
            self._say_resent("that request")

    def _say_resent(self, which: str = "those requests") -> None:
        """Say the items of replayed requests without an answer in time not said yet (they may arrive twice)."""
        more, self._resent_said = self._resent - self._resent_said, self._resent
        if more:
            units = _notices.UNITS[self._signal][1]
            taken = f"{_notices.amount(self._signal, more)} of {which}"
            _notices.notice(f"{NO_ANSWER.said(self._url, units, taken)}; replayed, they stay spooled and are "
                            "sent again")

    def _replay(self, segment: Segment) -> bool:
        """Deliver a segment's lines in order, small consecutive ones merged into one request."""
        group: list[tuple[bytes, int]] = []
        size = 0
        end = segment.offset  # just past the last whole line
        for line, offset in segment.lines():
            end = offset
            if self._stopping:
                return False
            if _damaged(line):  # no endpoint can take it, and one answering it "busy" would hold the rest
                if group and not self._replay_group(segment, group):
                    return False
                group, size = [], 0
                self._set_aside(line, 0, "not JSON: the segment was damaged (a crash, a disk error, an edit)",
                                segment.where(offset - len(line) - 1))
                segment.mark_delivered(offset)
                continue
            if group and (size + len(line) > (self._max_request or 0) or not mergeable(group[0][0], line)):
                if not self._replay_group(segment, group):
                    return False
                group, size = [], 0
            group.append((line, offset))
            size += len(line) + 1
        if group and not self._replay_group(segment, group):
            return False
        torn = segment.tail(end)
        if torn:  # never a whole record, never sent: kept and said, not dropped with the segment
            self._set_aside(torn, 0, "a record cut short: the process writing it ended mid-write",
                            segment.where(end))
        with self._lock:
            self._store.remove(segment)
        return True

    def _replay_group(self, segment: Segment, group: list[tuple[bytes, int]]) -> bool:
        """POST a group of lines as one request; when that is refused, line by line.

        A merged request that failed (no answer: the collector may have taken it) waits for the
        backoff and goes again whole, as one line would; only after :data:`MAX_LINE_FAILURES`
        such failures are its lines tried one by one (one of them may be what breaks it).
        """
        if len(group) > 1:
            outcome = self._post(merged([line for line, _ in group])).outcome
            if outcome is Outcome.DELIVERED:
                self._line_failures.pop((segment.path.name, -group[-1][1]), None)
                segment.mark_delivered(group[-1][1])
                return True
            if outcome is Outcome.BUSY:
                return False  # line by line would only be refused the same way
            if outcome is Outcome.FAILED and self._failed_again((segment.path.name, -group[-1][1])):
                return False
        for line, offset in group:  # one bad line must not hold back (or take down) the others
            if not self._replay_line(segment, line, offset):
                return False
        return True

    def _replay_line(self, segment: Segment, line: bytes, offset: int) -> bool:
        outcome = self._deliver(line)
        if outcome is Outcome.BUSY:
            return False  # not the line's fault: it waits, and does not count towards setting it aside
        if outcome is Outcome.FAILED:
            if self._failed_again((segment.path.name, offset)):
                return False  # retried after the backoff: a dropped connection may be the endpoint's hiccup
            self._set_aside(line, line_items(line),
                            f"failed {MAX_LINE_FAILURES} times in a row while the endpoint answered")
        segment.mark_delivered(offset)
        return True

    def _failed_again(self, key: tuple[str, int]) -> bool:
        """Count one more failure of the request ``key`` names (a segment and a line's end offset; a merged
        request's is negative); True while it is to be retried after the backoff, False (and the count
        forgotten) once it failed :data:`MAX_LINE_FAILURES` times in a row."""
        failures = self._line_failures[key] = self._line_failures.get(key, 0) + 1
        if failures < MAX_LINE_FAILURES:
            return True
        del self._line_failures[key]
        return False

    def _deliver(self, line: bytes) -> Outcome:
        """POST one spooled line (split first if it exceeds the request bound); refusals are set aside."""
        return self._deliver_parts(_split_line(line, self._max_request))

    def _deliver_parts(self, parts: list[tuple[bytes, int | None]]) -> Outcome:
        """POST each part in order; one answered 413 goes again in smaller parts (the smaller bound is kept)."""
        for body, items in parts:
            reply = self._post(body)
            smaller = smaller_bound(reply.status, len(body))
            pieces = _split_line(body, smaller) if smaller is not None else []
            if pieces and pieces[0][0] != body:  # split, or a single item cut: smaller, so this ends
                self._max_request = smaller
                outcome = self._deliver_parts(pieces)
                if outcome is not Outcome.DELIVERED:
                    return outcome
                continue
            if reply.outcome in (Outcome.FAILED, Outcome.BUSY):
                return reply.outcome
            if reply.outcome is Outcome.REFUSED:
                self._set_aside(body, items if items is not None else line_items(body), reply.why)
        return Outcome.DELIVERED

def _damaged(line: bytes) -> bool:
    """Whether a spooled line is not JSON. Only lines that could be damaged are parsed: those not shaped as
    the spool writes them, and those holding NUL bytes (what a crash leaves where a block was never
    written), so replaying a large backlog parses nothing."""
    if mergeable(line, line) and b"\x00" not in line:
        return False
    try:
        json.loads(line)
    except ValueError:
        return True
    return False


def _split_line(line: bytes, bound: int | None) -> list[tuple[bytes, int | None]]:
    """``line`` as requests of at most ``bound`` bytes with their item counts (None: read them from the
    line); ``line`` alone when it fits, or is not JSON (the endpoint judges it)."""
    if not bound or len(line) <= bound:
        return [(line, None)]
    try:
        return [(part.rstrip(b"\n"), items) for part, items in bounded_records(json.loads(line), bound, encode_line)]
    except ValueError:
        return [(line, None)]


def _remaining_bytes(segment: Segment) -> int:
    try:
        return segment.path.stat().st_size - segment.offset
    except OSError:
        return 0


def _items_left(segment: Segment) -> int:
    try:
        return sum(line_items(line) for line, _ in segment.lines())
    except OSError:
        return 0  # replayed and deleted meanwhile


def _batch_items(batch: Any) -> int:
    return metric_points(batch) if isinstance(batch, MetricsData) else len(batch)


class _UnspooledDeadline:
    """The shutdown deadline of an exporter without a spool: a send still hanging a little before it
    (:data:`_INTERRUPT_RESERVE_S`) is given up -- its batch counted lost once, by the exporter, not again
    by the batcher or when the send finally fails -- and later batches are not sent at all."""

    def __init__(self) -> None:
        self._lock = OwnedLock()
        self._at: float | None = None
        self._sending: dict[int, Any] = {}
        self._given_up: set[int] = set()

    def set_deadline(self, deadline: float, give_up: Callable[[], None]) -> None:
        self._at = deadline - _INTERRUPT_RESERVE_S
        timer = threading.Timer(max(self._at - time.monotonic(), 0), give_up)
        timer.daemon = True
        timer.start()

    def past(self) -> bool:
        return self._at is not None and time.monotonic() >= self._at

    @contextlib.contextmanager
    def sending(self, batch: Any) -> Iterator[None]:
        with self._lock:
            self._sending[id(batch)] = batch
        try:
            yield
        finally:
            with self._lock:
                self._sending.pop(id(batch), None)

    def give_up(self) -> list[Any]:
        """The batches being sent now, each given up once."""
        with self._lock:
            batches = [b for key, b in self._sending.items() if key not in self._given_up]
            self._given_up.update(id(b) for b in batches)
        return batches

    def given_up(self, batch: Any, keep: bool = False) -> bool:
        """Whether ``batch`` was given up (forgotten unless ``keep``: its send has returned)."""
        with self._lock:
            if id(batch) not in self._given_up:
                return False
            if keep:
                return self._sending.get(id(batch)) is batch
            self._given_up.discard(id(batch))
            return True


# --- thin per-signal exporters ---------------------------------------------------
class _SpooledExporter:
    """What the three per-signal exporters share: the spool core, flush and shutdown.

    Subclasses name the SDK base class (so ``isinstance`` checks in the SDK
    hold), the inner exporter's success value, the OTLP-JSON encoder, and an
    ``export`` with their base class's signature. Without a spool
    (``max_bytes <= 0``) a failed batch is counted as lost.
    """

    success: Any
    failure: Any
    encode: Callable[[Any], dict | None]

    def __init__(self, inner: Any, signal: str, spool_dir: Path, max_bytes: int,
                 max_request_bytes: int | None = DEFAULT_MAX_REQUEST_BYTES) -> None:
        self.inner = inner
        self.signal = signal
        self._inner_shut = False
        self._url = replay_url(inner, signal)
        self._unspooled = _UnspooledDeadline()  # without a spool: what the shutdown deadline gives up
        self.deadline: float | None = None  # when shutdown must end (``time.monotonic()``), once it began
        self._spool = None if max_bytes <= 0 else _Spool(
            send=self._send_direct,
            encode=type(self).encode,
            url=self._url,
            headers=headers_for(signal),
            directory=spool_dir / signal,
            max_bytes=max_bytes,
            signal=signal,
            interrupt=self._shut_inner_down,
            refusal=lambda: getattr(inner, "refusal", None),
            answer=lambda: getattr(inner, "answer", None),
            undelivered=lambda: getattr(inner, "undelivered", None),
            unanswered=lambda: getattr(inner, "unanswered", None),
            untaken=lambda batch: inner.untaken(batch) if callable(getattr(inner, "untaken", None)) else None,
            max_request_bytes=max_request_bytes,
            endpoint=_upstream.exporter_endpoint(inner),
        )

    def _send_direct(self, batch: Any) -> bool:
        """Export ``batch`` with the inner exporter; items the endpoint rejected in an accepted request
        (``partial_success``) are counted as lost with its message: the rest was taken, nothing is kept."""
        ok = self.inner.export(batch) == self.success
        rejected = getattr(self.inner, "rejected", None) if ok else None
        if rejected is not None:
            _notices.lost(self.signal, rejected.count, _upstream.exporter_endpoint(self.inner) or self._url,
                          "rejected", rejected.message)
        return ok

    def _export(self, batch: Any) -> Any:
        with exporting():  # the HTTP client's debug lines of this export stay out of the app's log
            return self._export_quietly(batch)

    def _export_quietly(self, batch: Any) -> Any:
        if self._spool is not None:
            return self.success if self._spool.export(batch) else self.failure
        where = _upstream.exporter_endpoint(self.inner) or self._url
        if self._unspooled.past():  # nothing would keep it, and the exit must not wait on the endpoint
            _notices.lost(self.signal, _batch_items(batch), where, "shutdown", "no spool configured")
            return self.failure
        try:
            with self._unspooled.sending(batch):
                ok = self._send_direct(batch)
        except Exception as exc:  # noqa: BLE001 — exporters report failure, they don't raise: a bug
            internal_error("spool: the inner exporter raised", exc)
            ok = False
        if self._unspooled.given_up(batch):  # counted lost when the deadline came while it hung
            return self.failure
        if not ok:
            why = getattr(self.inner, "refusal", None)
            rest = getattr(self.inner, "undelivered", None)  # sent in several requests, some taken
            _notices.lost(self.signal, _batch_items(batch if rest is None else rest),
                          _upstream.exporter_endpoint(self.inner) or self._url,
                          "send_failed", f"{why}; no spool configured" if why else "no spool configured")
        return self.success if ok else self.failure

    def set_deadline(self, deadline: float) -> None:
        self.deadline = deadline  # the metric reader's shutdown reads it too
        if self._spool is not None:
            self._spool.set_deadline(deadline)
        else:
            self._unspooled.set_deadline(deadline, self._give_up_sends)

    def _give_up_sends(self) -> None:
        """No spool, at the deadline: count the batches still being sent as lost (once), stop the retries."""
        where = _upstream.exporter_endpoint(self.inner) or self._url
        for batch in self._unspooled.give_up():
            _notices.lost(self.signal, _batch_items(batch), where, "shutdown",
                          "still being sent when the shutdown budget ran out; no spool configured")
        try:
            self._shut_inner_down()
        except Exception as exc:  # noqa: BLE001 — interrupting is best effort; the deadline still holds
            internal_error("spool: interrupting an export", exc)

    def settled_while_sending(self, batch: Any) -> bool:
        """Whether ``batch``, whose export still hangs at the shutdown deadline, was spooled (or counted lost)."""
        if self._spool is None:
            return self._unspooled.given_up(batch, keep=True)
        return self._spool.settled_while_sending(batch)

    @property
    def write_through(self) -> Callable[[Any], bool] | None:
        """In a worker process: spool each item as it ends (replayed by the parent), never send it."""
        return self._spool.keep if self._spool is not None else None

    def _shut_inner_down(self, *args: Any, **kwargs: Any) -> None:
        """Shut the inner exporter down once (this also interrupts its retries)."""
        if not self._inner_shut:
            self._inner_shut = True
            self.inner.shutdown(*args, **kwargs)

    def force_flush(self, timeout_millis: float = 30_000) -> bool:
        # The SDK's base force_flush returns None ("nothing buffered"): only False is a failure.
        spooled_ok = self._spool.flush(timeout_millis / 1000) if self._spool is not None else True
        return spooled_ok and self.inner.force_flush(timeout_millis) is not False

    def shutdown(self, *args: Any, **kwargs: Any) -> None:
        if self._spool is not None:
            self._spool.close()
        self._shut_inner_down(*args, **kwargs)


class SpooledSpanExporter(_SpooledExporter, SpanExporter):
    """A SpanExporter that spools what ``inner`` cannot deliver."""

    success, failure, encode = SpanExportResult.SUCCESS, SpanExportResult.FAILURE, staticmethod(spans_message)

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self._export(spans)


class SpooledMetricExporter(_SpooledExporter, MetricExporter):
    """A MetricExporter that spools what ``inner`` cannot deliver (same temporality/aggregation)."""

    success, failure, encode = MetricExportResult.SUCCESS, MetricExportResult.FAILURE, staticmethod(metrics_message)

    def __init__(self, inner: MetricExporter, signal: str, spool_dir: Path, max_bytes: int,
                 max_request_bytes: int | None = DEFAULT_MAX_REQUEST_BYTES) -> None:
        MetricExporter.__init__(self, **_upstream.metric_exporter_preferences(inner))
        _SpooledExporter.__init__(self, inner, signal, spool_dir, max_bytes, max_request_bytes)

    def export(self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any) -> MetricExportResult:
        if self._spool is not None and in_worker_process():
            # A worker keeps its points in the spool as it keeps its spans (``_batching``): the process
            # that started it, or the next one, replays them. It never waits on the network: with the
            # collector down, its exit flush would hold up ``Pool.join()`` for the whole retry budget.
            return self.success if self._spool.keep(metrics_data) else self.failure
        return self._export(metrics_data)


class SpooledLogExporter(_SpooledExporter, LogRecordExporter):
    """A LogRecordExporter that spools what ``inner`` cannot deliver."""

    success, failure, encode = LogRecordExportResult.SUCCESS, LogRecordExportResult.FAILURE, staticmethod(logs_message)

    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        return self._export(batch)


_WRAPPERS: dict[str, type] = {
    "traces": SpooledSpanExporter,
    "metrics": SpooledMetricExporter,
    "logs": SpooledLogExporter,
}
