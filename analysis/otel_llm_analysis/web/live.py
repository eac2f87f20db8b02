"""The dashboard's store: one connection shared by the watcher's ingest and the requests.

Why one lock: DuckDB lets one process write a database file, and one connection
must not be used by two threads at once. The dashboard is that one process: it
opens the store once (read-write when it watches a directory, read-only
otherwise), and the watcher's incremental ingest and each request's analyses take
turns on it. Ingest batches after the first are small (only what was appended
since the last check), so a request waits at most for one of them. Another
process cannot ingest into the same file while the dashboard runs — that is what
``--watch`` is for.

``version`` grows whenever an ingest adds rows; pages poll ``/api/status`` and
reload their views when it changes. Lines the watcher, or the backlog's ingest
before it, could not load are counted and the latest kept (``problems``,
``recent_problems``): each is read once, so the page keeps saying them rather than
only the round that met them.

Between two versions the data is the same, so the requests of one version share
their analysis results (``shared.Shared``: a page load asks for the compare and
retries views with the same filters, and both read the same turn figures); a new
version, or more than a few date windows asked for, starts afresh.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Sequence

from otel_llm._guard import internal_error
from otel_llm_analysis.store import StoreError
from otel_llm_analysis.web.shared import Shared

#: problems (file, line, reason) of the watched files kept for the page, newest last; older ones are only counted
KEPT_PROBLEMS = 20
#: date windows and analysis results one version keeps
#: before starting afresh: a long-running dashboard asked for many filters holds a bounded amount
SHARED_WINDOWS, SHARED_RESULTS = 8, 2000


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
        self._on_ingest = on_ingest
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._shared: Shared | None = None
        self._shared_version = -1

    @contextmanager
    def reading(self) -> Iterator[Any]:
        """The store, for one request's analyses (waits while an ingest batch runs)."""
        with self._lock:
            yield self.store

    @contextmanager
    def sharing(self) -> Iterator[tuple[Any, Shared]]:
        """The store and the analysis results shared by the requests of its current version."""
        with self._lock:
            if self._shared is None or self._shared_version != self.version or self._shared.windows > SHARED_WINDOWS \
                    or self._shared.results > SHARED_RESULTS:
                if self._shared is not None:
                    self._shared.close()
                self._shared, self._shared_version = Shared(), self.version
            yield self.store, self._shared

    def release(self) -> None:
        """Drop the requests' shared results; the store stays open."""
        with self._lock:
            if self._shared is not None:
                self._shared.close()
                self._shared = None

    def ingest_once(self) -> Any:
        """Ingest what was appended to the watched directories since the last call."""
        with self._lock:
            report = self.store.ingest(self.watch)
        added = report.spans_added + report.events_added + report.metric_points_added + report.logs_added
        if added or report.bad_lines:
            self.version += 1
            self.last_ingest = report.summary()
            self.note_problems([str(p) for p in report.bad_lines])
            if self._on_ingest:
                self._on_ingest(report)
        return report

    def note_problems(self, problems: Sequence[str]) -> None:
        """Count ``problems`` (file:line: reason) and keep the latest for the page.

        The watcher's rounds note theirs; the backlog's ingest, run before the
        watcher starts, notes its own the same way.
        """
        self.problems += len(problems)
        self.recent_problems = (self.recent_problems + list(problems))[-KEPT_PROBLEMS:]

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
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
            self._thread = threading.Thread(target=self._loop, name="otel-llm-watch", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop watching, wait for the current batch, close the store."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
        self.release()
        with self._lock:
            self.store.close()


__all__ = ["LiveStore"]
