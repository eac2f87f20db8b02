"""Durable delivery for ``exporter="otlp"``: spool what cannot be sent, replay it later.

``spooled(inner, signal, spool_dir, max_bytes)`` wraps an OTLP span, metric or
log exporter and returns an exporter of the same kind. Guarantees and limits:

* **At-least-once.** A batch the endpoint did not accept (the inner exporter
  returned FAILURE or raised, after its own retries) is encoded as one
  OTLP-JSON line -- the same encoder and format as the file exporter and the
  collector's files -- and appended to a spool on disk (see
  :mod:`._spool_segments`). It is deleted only after the endpoint accepted it.
  A crash between delivery and the progress note replays a batch twice, so
  **duplicates are possible**: readers de-duplicate on (trace_id, span_id);
  the analysis package does.
* **Fast while down.** After one failure the wrapper stops calling the inner
  exporter (whose retries take up to its timeout, 10 s by default) and spools
  every batch at once, in order, until a background thread has replayed the
  whole backlog; only then do exports go direct again. Lower
  ``OTEL_EXPORTER_OTLP_TIMEOUT`` (seconds) to shorten the first failure.
* **Replay** runs in a daemon thread that never blocks the caller: after a
  failure (probing with backoff, 0.5 s up to 5 s), and at start-up when a
  previous process left data behind -- including the ``.active`` segment of a
  process that died abruptly. One process replays a signal at a time.
* **Replay speaks OTLP/HTTP JSON** (``POST /v1/{signal}``,
  ``Content-Type: application/json``) whatever the inner protocol, because
  the stored lines are OTLP-JSON and the collector's otlp receiver accepts
  JSON. For an HTTP exporter the URL is its own; for a gRPC exporter it is
  the same host on port 4318. ``OTEL_LLM_SPOOL_REPLAY_ENDPOINT`` (a base URL
  such as ``http://127.0.0.1:4318``) overrides both. Headers come from
  ``OTEL_EXPORTER_OTLP_HEADERS`` / ``OTEL_EXPORTER_OTLP_{SIGNAL}_HEADERS``.
* **Bounded.** At most ``max_bytes`` on disk per signal; when full the
  oldest segments are dropped with a counted warning. ``max_bytes <= 0``
  turns the spool off (the inner exporter is returned as is).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.sdk.metrics.export import MetricExporter, MetricExportResult, MetricsData
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.util.re import parse_env_headers

from otel_llm import _upstream
from otel_llm._upstream import LogRecordExporter, LogRecordExportResult, ReadableLogRecord
from otel_llm.exporters._spool_segments import ReplayLock, SegmentStore

__all__ = ["spooled", "replay_url"]

_log = logging.getLogger("otel_llm.spool")

DEFAULT_HTTP_PORT = 4318
_PROBE_MIN_S = 0.5
_PROBE_MAX_S = 5.0
_REQUEST_TIMEOUT_S = 10.0
_SHUTDOWN_DRAIN_S = 3.0


def spooled(inner: Any, signal: str, spool_dir: Path, max_bytes: int) -> Any:
    """Wrap ``inner`` (a Span/Metric/LogRecord exporter) with a disk spool for ``signal``.

    ``signal`` is ``"traces"``, ``"metrics"`` or ``"logs"``; the spool lives in
    ``spool_dir / signal``. Returns ``inner`` unchanged when ``max_bytes <= 0``.
    """
    if max_bytes <= 0:
        return inner
    wrapper = _WRAPPERS.get(signal)
    if wrapper is None:
        raise ValueError(f"unknown signal {signal!r}; expected one of {', '.join(_WRAPPERS)}")
    return wrapper(inner, signal, Path(spool_dir), max_bytes)


def replay_url(inner: Any, signal: str) -> str:
    """The OTLP/HTTP URL that spooled ``signal`` lines are POSTed to (see module doc)."""
    override = os.environ.get("OTEL_LLM_SPOOL_REPLAY_ENDPOINT")
    if override:
        return f"{override.rstrip('/')}/v1/{signal}"
    endpoint = _upstream.exporter_endpoint(inner)
    if endpoint.startswith(("http://", "https://")) and endpoint.rstrip("/").endswith(f"/v1/{signal}"):
        return endpoint  # an OTLP/HTTP exporter: its own URL
    # A gRPC exporter keeps "host:port"; the collector's HTTP receiver sits beside it.
    parsed = urlsplit(endpoint if "//" in endpoint else f"//{endpoint}")
    host = parsed.hostname or "localhost"
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{DEFAULT_HTTP_PORT}/v1/{signal}"


def _headers(signal: str) -> dict[str, str]:
    headers = parse_env_headers(os.environ.get("OTEL_EXPORTER_OTLP_HEADERS", ""), liberal=True)
    headers.update(parse_env_headers(os.environ.get(f"OTEL_EXPORTER_OTLP_{signal.upper()}_HEADERS", ""), liberal=True))
    return {**headers, "Content-Type": "application/json"}


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
    ) -> None:
        self._send = send
        self._encode = encode
        self._url = url
        self._headers = headers
        self._store = SegmentStore(directory, max_bytes)
        self._replay_lock = ReplayLock(directory)
        self._lock = threading.Lock()
        self._healthy = True  # False from a failure until the backlog is replayed
        self._wake = threading.Event()
        self._attempts = threading.Condition()  # notified after every replay attempt
        self._attempt_count = 0
        self._last_ok: bool | None = None
        self._stopping = False
        self._thread: threading.Thread | None = None
        if self._store.pending():  # left over by an earlier process
            self._start_replayer()
            self._wake.set()

    # --- the exporter path (caller's / batch processor's thread) ---------------
    def export(self, batch: Any) -> bool:
        """Deliver or spool ``batch``; False only when it was neither sent nor kept."""
        if self._healthy and self._try_send(batch):
            return True
        try:
            encoded = self._encode(batch)
        except Exception:  # noqa: BLE001 — an unencodable batch cannot be kept
            _log.warning("otel-llm spool: cannot encode a batch; dropped", exc_info=True)
            return False
        if encoded is None:
            return True  # nothing in it
        line = json.dumps(encoded, separators=(",", ":")).encode()
        with self._lock:
            first_failure, self._healthy = self._healthy, False
            kept = self._store.append(line)
        if first_failure:  # later batches must not cut the replayer's probe backoff short
            self._start_replayer()
            self._wake.set()
        return kept

    def _try_send(self, batch: Any) -> bool:
        try:
            return bool(self._send(batch))
        except Exception:  # noqa: BLE001 — the inner exporter's failure is what we are here for
            _log.debug("otel-llm spool: inner export raised", exc_info=True)
            return False

    def flush(self, timeout_s: float) -> bool:
        """One immediate replay attempt, waited for (bounded); True when the spool is empty.

        Never waits out an endpoint that is down: the data is already safe on
        disk, and a flush at exit must not hold the process for seconds.
        """
        if self._store_is_empty():
            return True
        self._start_replayer()
        with self._attempts:
            seen = self._attempt_count
            self._wake.set()
            self._attempts.wait_for(
                lambda: self._attempt_count > seen and (self._last_ok is False or self._store_is_empty()),
                timeout=max(timeout_s, 0),
            )
        return self._store_is_empty()

    def close(self, timeout_s: float = _SHUTDOWN_DRAIN_S) -> None:
        """Try once more to hand the backlog over (see :meth:`flush`), then seal and stop.

        What is left stays on disk (sealed) for the next process to replay.
        """
        self.flush(timeout_s)
        self._stopping = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout_s)
        with self._lock:
            self._store.close()

    def _store_is_empty(self) -> bool:
        with self._lock:
            return self._store.is_empty()

    # --- the replayer (daemon thread) ------------------------------------------
    def _start_replayer(self) -> None:
        with self._lock:
            if self._thread is not None or self._stopping:
                return
            self._thread = threading.Thread(target=self._replay_loop, name="otel-llm-spool-replay", daemon=True)
            self._thread.start()

    def _replay_loop(self) -> None:
        delay = _PROBE_MIN_S
        with suppress_instrumentation():  # our POSTs are not app traffic
            while not self._stopping:
                self._wake.wait(delay)
                self._wake.clear()
                if self._stopping:
                    return
                ok = self._drain_once()
                with self._attempts:
                    self._attempt_count += 1
                    self._last_ok = ok
                    self._attempts.notify_all()
                if ok:
                    delay = _PROBE_MIN_S
                    self._wake.wait()  # sleep until the next failure, flush or close
                else:
                    delay = min(delay * 2, _PROBE_MAX_S)

    def _drain_once(self) -> bool:
        """Replay everything replayable; True when the spool is empty and exports may go direct."""
        if not self._replay_lock.acquire():
            return False  # another process replays this signal
        try:
            with self._lock:
                if not self._store.writing and not self._store.pending():
                    self._healthy = True
                    return True
            # Probe with an empty request before touching segments, so a down
            # endpoint costs one refused connection, not a sealed segment per probe.
            if not self._post(b"{}"):
                return False
            while not self._stopping:
                with self._lock:
                    if self._store.writing:
                        self._store.seal()  # our own backlog becomes replayable
                    segments = self._store.pending()
                    if not segments:
                        self._healthy = True
                        return True
                for segment in segments:
                    if not self._replay(segment):
                        return False
            return False
        finally:
            self._replay_lock.release()

    def _replay(self, segment: Any) -> bool:
        for line, offset in segment.lines():
            if self._stopping or not self._post(line):
                return False
            segment.mark_delivered(offset)
        with self._lock:
            segment.remove()
        return True

    def _post(self, body: bytes) -> bool:
        """True when the endpoint took the batch (or rejected it for good: it is dropped)."""
        request = urllib.request.Request(self._url, data=body, headers=self._headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=_REQUEST_TIMEOUT_S) as response:
                return 200 <= response.status < 300
        except urllib.error.HTTPError as error:
            if 400 <= error.code < 500 and error.code not in (408, 429):
                _log.warning("otel-llm spool: %s rejected a batch (HTTP %d); dropped", self._url, error.code)
                return True
            return False
        except (urllib.error.URLError, OSError):
            return False


# --- thin per-signal exporters ---------------------------------------------------
def _encode_spans(spans: Sequence[ReadableSpan]) -> dict | None:
    from opentelemetry.exporter.otlp.json.common.trace_encoder import encode_spans

    data = encode_spans(spans)
    return data.to_dict() if data.resource_spans else None


def _encode_metrics(data: MetricsData) -> dict | None:
    from opentelemetry.exporter.otlp.json.common.metrics_encoder import encode_metrics

    encoded = encode_metrics(data)
    return encoded.to_dict() if encoded.resource_metrics else None


def _encode_logs(batch: Sequence[ReadableLogRecord]) -> dict | None:
    encoded = _upstream.encode_logs_json(batch)
    return encoded.to_dict() if encoded.resource_logs else None


class _SpooledExporter:
    """What the three per-signal exporters share: the spool core, flush and shutdown.

    Subclasses name the SDK base class (so ``isinstance`` checks in the SDK
    hold), the inner exporter's success value, the OTLP-JSON encoder, and an
    ``export`` with their base class's signature.
    """

    success: Any
    failure: Any
    encode: Callable[[Any], dict | None]

    def __init__(self, inner: Any, signal: str, spool_dir: Path, max_bytes: int) -> None:
        self.inner = inner
        self._spool = _Spool(
            send=lambda batch: inner.export(batch) == self.success,
            encode=type(self).encode,
            url=replay_url(inner, signal),
            headers=_headers(signal),
            directory=spool_dir / signal,
            max_bytes=max_bytes,
        )

    def _export(self, batch: Any) -> Any:
        return self.success if self._spool.export(batch) else self.failure

    def force_flush(self, timeout_millis: float = 30_000) -> bool:
        # The SDK's base force_flush returns None ("nothing buffered"): only False is a failure.
        return self._spool.flush(timeout_millis / 1000) and self.inner.force_flush(timeout_millis) is not False

    def shutdown(self, *args: Any, **kwargs: Any) -> None:
        self._spool.close()
        self.inner.shutdown(*args, **kwargs)


class SpooledSpanExporter(_SpooledExporter, SpanExporter):
    """A SpanExporter that spools what ``inner`` cannot deliver."""

    success, failure, encode = SpanExportResult.SUCCESS, SpanExportResult.FAILURE, staticmethod(_encode_spans)

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self._export(spans)


class SpooledMetricExporter(_SpooledExporter, MetricExporter):
    """A MetricExporter that spools what ``inner`` cannot deliver (same temporality/aggregation)."""

    success, failure, encode = MetricExportResult.SUCCESS, MetricExportResult.FAILURE, staticmethod(_encode_metrics)

    def __init__(self, inner: MetricExporter, signal: str, spool_dir: Path, max_bytes: int) -> None:
        MetricExporter.__init__(self, **_upstream.metric_exporter_preferences(inner))
        _SpooledExporter.__init__(self, inner, signal, spool_dir, max_bytes)

    def export(self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any) -> MetricExportResult:
        return self._export(metrics_data)


class SpooledLogExporter(_SpooledExporter, LogRecordExporter):
    """A LogRecordExporter that spools what ``inner`` cannot deliver."""

    success, failure, encode = LogRecordExportResult.SUCCESS, LogRecordExportResult.FAILURE, staticmethod(_encode_logs)

    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        return self._export(batch)


_WRAPPERS: dict[str, type] = {
    "traces": SpooledSpanExporter,
    "metrics": SpooledMetricExporter,
    "logs": SpooledLogExporter,
}
