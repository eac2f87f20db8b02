"""The dashboard's store: the watcher's ingest writes it while the requests read it.

Why two connections: DuckDB lets one process write a database file, and one
connection must not be used by two threads at once. The dashboard is that one
process: it opens the store once (read-write when it watches a directory,
read-only otherwise). The watcher ingests through the store's own connection;
the requests read through a second connection to the same database (a DuckDB
cursor), one request at a time.

Why a snapshot: an ingest commits its span rows batch by batch and only then
prices the calls, pairs nested ones and works out the agents' tables, each
committed on its own. A request reading whatever is committed would show half
an ingest: spans counted and their costs not, calls counted twice. So the
requests' connection holds one read transaction - DuckDB shows it the data
committed when it first read - from one ingest's end to the next's: while an
ingest runs (the backlog of a big directory takes minutes), every request
answers at once with the data as it was before it, whole, and ``/api/status``
says an ingest is running (``ingesting``: since when); when it ends the reader
takes the data after it (``version`` grows). A failed statement ends a DuckDB
transaction, and with it the snapshot: the next request waits for a running
ingest and takes a new one. A store that is not DuckDB (the ClickHouse one) has
no such cursor: its requests wait for the ingest, as before. Another process
cannot ingest into the same file while the dashboard runs - that is what
``--watch`` is for.

``version`` names the data the requests read; pages poll ``/api/status`` and
reload their views when it changes, and the server sends it with each view (the
``X-Otel-Llm-Version`` header) so a page never draws views of two versions
together. Lines the watcher could not load are counted and the latest kept
(``problems``, ``recent_problems``): each is read once, so the page keeps saying
them rather than only the round that met them.

Between two versions the data is the same, so the requests of one version share
their analysis results (``shared.Shared``: a page load asks for the compare and
retries views with the same filters, and both read the same turn figures); a new
version, or more than a few date windows asked for, starts afresh.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Callable, Iterator, Sequence

import duckdb

from otel_llm._guard import internal_error
from otel_llm_analysis._filters import connection
from otel_llm_analysis._scope_index import _checkpoint
from otel_llm_analysis.store import StoreError
from otel_llm_analysis.web.shared import Shared

#: problems (file, line, reason) of the watched files kept for the page, newest last; older ones are only counted
KEPT_PROBLEMS = 20
#: date windows, analysis results and statements' answers one version keeps
#: before starting afresh: a long-running dashboard asked for many filters holds a bounded amount
SHARED_WINDOWS, SHARED_RESULTS, SHARED_ANSWERS = 8, 2000, 20000
#: a table every store has: the reader reads it to fix its snapshot
SNAPSHOT_TABLE = "span_rows"


class Reader:
    """The store as the requests read it: a second connection (cursor) to its database, beside the one the
    watcher's ingest writes on, holding one snapshot of the data (see the module doc), with the store's notes
    as of that snapshot."""

    def __init__(self, store: Any) -> None:
        self.connection = connection(store).cursor()
        self._store = store
        #: the data version of the snapshot held; None: none held (not yet, or a failed statement ended it)
        self.version: int | None = None
        self.unfinished: str | None = None
        self.span_coverage: str | None = None

    @property
    def holds_snapshot(self) -> bool:
        """True while a snapshot is held: the analyses then read on this connection alone (a cursor of its
        own would be another connection, outside the snapshot: ``summaries.summary``)."""
        return self.version is not None

    def take(self, version: int, span_coverage: str | None) -> None:
        """Drop the snapshot held and hold the data committed now, as ``version``: call it with no ingest
        running (DuckDB fixes a transaction's snapshot at its first read, done here)."""
        self.drop()
        self.connection.execute("BEGIN TRANSACTION")
        self.connection.execute(f"SELECT 1 FROM {SNAPSHOT_TABLE} LIMIT 0").fetchall()
        self.version, self.span_coverage = version, span_coverage
        self.unfinished = getattr(self._store, "unfinished", None)

    def drop(self) -> None:
        """Let go of the snapshot (a checkpoint cannot write tables an ingest made while one is held)."""
        if self.version is not None:
            self.version = None
            self.connection.execute("ROLLBACK")

    def query(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        """As ``TraceStore.query``: all rows of one statement, a DuckDB error as a ``StoreError``."""
        try:
            return self.connection.execute(sql, params or []).fetchall()
        except duckdb.Error as exc:
            self.drop()  # DuckDB ended the transaction: the next request takes a new snapshot
            raise StoreError(str(exc).strip().splitlines()[0]) from None

    def close(self) -> None:
        self.connection.close()


class LiveStore:
    """A store plus the lock its users share, and an optional directory watcher."""

    def __init__(self, store: Any, watch: Sequence[str] = (), interval: float = 1.0,
                 on_ingest: Callable[[Any], None] | None = None) -> None:
        self.store = store
        self.watch = list(watch)
        self.interval = interval
        self.version = 0
        self.last_ingest: str | None = None
        self.last_error: str | None = None
        #: lines the backlog's ingest and the watcher could not load since the start
        #: (each is read once, so it is said until the end)
        self.problems = 0
        self.recent_problems: list[str] = []
        #: when the running ingest began (UTC, ISO 8601), None between ingests
        self.ingesting: str | None = None
        self._began: float | None = None  # the same moment on the monotonic clock
        #: ingests finished (with rows or not): 0 until the backlog is in
        self.rounds = 0
        self._on_ingest = on_ingest
        self._lock = threading.Lock()  # the requests', one at a time on the reader
        self._writing = threading.Lock()  # the ingest's, on the store's own connection
        self.span_coverage: str | None = getattr(store, "span_coverage", None)
        self._reader: Reader | None = None
        if isinstance(_duckdb_of(store), duckdb.DuckDBPyConnection):
            self._reader = Reader(store)
            self._reader.take(self.version, self.span_coverage)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._shared: Shared | None = None
        self._shared_version = -1

    @property
    def data_version(self) -> int:
        """The version of the data the requests read now (read it inside ``reading``/``sharing``)."""
        if self._reader is not None and self._reader.version is not None:
            return self._reader.version
        return self.version

    @contextmanager
    def _turn(self) -> Iterator[Any]:
        """The store for one request: its reader's snapshot, else the store once no ingest runs."""
        with self._lock:
            if self._reader is None:
                with self._writing:
                    yield self.store
                return
            if self._reader.version is None:  # a failed statement ended the snapshot
                with self._writing:  # a new one must not read half of a running ingest: wait for its end
                    self.version += 1  # what an ingest failing midway committed may be in it
                    self._take()
            yield self._reader

    def _take(self) -> None:
        """The reader's new snapshot (the requests' lock and the writer's held); checkpoints in between, as
        the ingest could not while the old one was held (it made tables)."""
        assert self._reader is not None
        self._reader.drop()
        if not getattr(self.store, "read_only", False):
            _checkpoint(connection(self.store))
        self._reader.take(self.version, self.span_coverage)

    @contextmanager
    def reading(self) -> Iterator[Any]:
        """The store, for one request's analyses (one version of the data, while an ingest runs)."""
        with self._turn() as store:
            yield store

    @contextmanager
    def sharing(self) -> Iterator[tuple[Any, Shared]]:
        """The store and the analysis results shared by the requests of its current version; in the block, the
        analyses' statements asked before on this version are answered from its answers (``Shared.remembering``)."""
        with self._turn() as store:
            if self._shared is None or self._shared_version != self.data_version \
                    or self._shared.windows > SHARED_WINDOWS or self._shared.results > SHARED_RESULTS \
                    or self._shared.answers > SHARED_ANSWERS:
                if self._shared is not None:
                    self._shared.close()
                self._shared, self._shared_version = Shared(), self.data_version
            with self._shared.remembering():
                yield store, self._shared

    def release(self) -> None:
        """Drop the requests' shared results; the store stays open."""
        with self._lock:
            if self._shared is not None:
                self._shared.close()
                self._shared = None

    def ingest_once(self) -> Any:
        """Ingest what was appended to the watched directories since the last call; the requests read the
        data after it once it ended (one that failed leaves them the data before it)."""
        self._begin()
        try:
            with self._writing:
                report = self.store.ingest(self.watch)
                self.span_coverage = getattr(self.store, "span_coverage", None)  # on the writer's connection
                added = report.spans_added + report.events_added + report.metric_points_added + report.logs_added
                changed = bool(added or report.bad_lines or getattr(report, "finished_spans", 0))
                if changed:
                    self.version += 1
            if changed and self._reader is not None:
                with self._lock, self._writing:  # as the requests take them: no lock order inverted
                    self._take()
        finally:
            self.ingesting, self._began = None, None
            self.rounds += 1
        if changed:
            self.last_ingest = report.summary()
            self.note_problems([str(p) for p in report.bad_lines])
            if self._on_ingest:
                self._on_ingest(report)
        return report

    def _begin(self) -> None:
        if self.ingesting is None:
            self.ingesting, self._began = datetime.now(timezone.utc).isoformat(timespec="seconds"), time.monotonic()

    @property
    def ingesting_for(self) -> float | None:
        """Seconds the running ingest has taken so far; None between ingests. A round finding nothing new
        takes milliseconds every interval: the page says an ingest runs only once one has lasted a while."""
        began = self._began
        return None if began is None else time.monotonic() - began

    def note_problems(self, problems: Sequence[str]) -> None:
        """Count ``problems`` (file:line: reason) and keep the latest for the page.

        The watcher's rounds note theirs; the backlog's ingest, run before the
        watcher starts, notes its own the same way.
        """
        self.problems += len(problems)
        self.recent_problems = (self.recent_problems + list(problems))[-KEPT_PROBLEMS:]

    def _loop(self) -> None:
        first = True  # the backlog at once, then every interval
        while first or not self._stop.wait(self.interval):
            first = False
            try:
                self.ingest_once()
                self.last_error = None
            except StoreError as exc:  # a watched file vanished mid-rotation, a directory removed...
                self.last_error = str(exc)
            except Exception as exc:  # noqa: BLE001 — the watcher must outlive one bad batch
                internal_error("web.live.watch", exc)
                self.last_error = f"{type(exc).__name__}: {exc}"

    def start(self) -> None:
        """Start watching (no-op without directories)."""
        if self.watch and self._thread is None:
            self._begin()  # said from the first request
            self._thread = threading.Thread(target=self._loop, name="otel-llm-watch", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop watching, wait for the current batch, close the store."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
        self.release()
        with self._lock, self._writing:
            if self._reader is not None:
                self._reader.close()
            self.store.close()


def _duckdb_of(store: Any) -> Any:
    """The DuckDB connection behind ``store``, or None for a store of another engine."""
    try:
        return connection(store)
    except TypeError:
        return None


__all__ = ["LiveStore", "Reader"]
