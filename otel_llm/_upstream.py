"""Every use of another package's private names, in one module, checked against the pinned versions.

Why one module: OpenTelemetry keeps a few things otel-llm needs behind
underscores — the logs SDK and API live in ``_logs`` modules, the OTLP
exporters expose their HTTP client, gRPC stub and endpoint only as private
attributes, the global providers can be set only once. Private names change
without notice between releases; gathering them here means one file to re-check
when a pin moves, and :func:`check` (run by ``tests/sdk/test_upstream.py``)
fails loudly naming what changed, instead of a delivery path degrading quietly.

Nothing outside this module imports an underscore name from another package.
:data:`VERIFIED` records the versions the names were checked against; the test
compares it with ``pyproject.toml`` and with what is installed.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import os
import sys
import threading
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from types import ModuleType
from typing import Any, Callable

from opentelemetry import _logs as logs_api
from opentelemetry import metrics, trace
from opentelemetry.exporter.otlp.json.common._log_encoder import encode_logs as encode_logs_json
from opentelemetry.sdk._logs import (
    LoggerProvider,
    LoggingHandler,
    LogRecordLimits,
    LogRecordProcessor,
    ReadableLogRecord,
    ReadWriteLogRecord,
)
from opentelemetry.sdk._logs.export import ConsoleLogRecordExporter as _ConsoleLogRecordExporter
from opentelemetry.sdk._logs.export import (
    LogRecordExporter,
    LogRecordExportResult,
)

from otel_llm import _notices
from otel_llm.exporters import _answers
from otel_llm.exporters._answers import BUSY_STATUSES, Answer, Rejected

__all__ = [
    "VERIFIED",
    "ConsoleLogRecordExporter",
    "LogRecordExportResult",
    "LogRecordExporter",
    "LogRecordProcessor",
    "LoggerProvider",
    "LoggingHandler",
    "LogRecordLimits",
    "ReadWriteLogRecord",
    "ReadableLogRecord",
    "GRPC_REFUSALS",
    "SendResult",
    "check",
    "click_exception_class",
    "encode_logs_json",
    "encode_logs_proto_size",
    "exporter_endpoint",
    "exporter_uses_tls",
    "forked_to_exec",
    "global_provider",
    "grpc_result",
    "grpc_span_sender",
    "helper_raw_stream",
    "http_span_sender",
    "install_global_provider",
    "logs_api",
    "on_multiprocessing_worker_exit",
    "periodic_metric_reader",
    "readable_log_record",
    "tolerant_limits",
    "replace_helper_raw_stream",
    "metric_exporter_preferences",
    "otlp_log_exporter_class",
    "reset_global_providers",
    "restore_global_providers",
    "span_processor_of",
    "temporality_from_env",
    "watch_refusals",
    "export_response_type",
    "Answer",
    "BUSY_STATUSES",
    "Rejected",
]

# The distributions whose private names this module uses, at the versions checked.
VERIFIED: dict[str, str] = {
    "opentelemetry-api": "1.45.1",
    "opentelemetry-sdk": "1.45.1",
    "opentelemetry-exporter-otlp": "1.45.1",
    "opentelemetry-exporter-otlp-json-file": "0.66b1",
}


class ConsoleLogRecordExporter(_ConsoleLogRecordExporter):  # type: ignore[misc]
    """Upstream's console log exporter, printing the bridge's messages formatted (see
    ``exporters._log_messages``: they are formatted on the export side)."""

    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        from otel_llm.exporters._log_messages import with_text_bodies

        return super().export(with_text_bodies(batch))


# --- global providers ----------------------------------------------------------------
# OpenTelemetry lets a global provider be set once per process; otel-llm may replace
# one *it* installed (a second configure()), as OpenTelemetry's own test utilities do.
@dataclass(frozen=True)
class _GlobalSlot:
    module: str
    value: str
    once: str
    setter: Callable[[Any], None]


_SLOTS = {
    "traces": _GlobalSlot("opentelemetry.trace", "_TRACER_PROVIDER", "_TRACER_PROVIDER_SET_ONCE",
                          trace.set_tracer_provider),
    "metrics": _GlobalSlot("opentelemetry.metrics._internal", "_METER_PROVIDER", "_METER_PROVIDER_SET_ONCE",
                           metrics.set_meter_provider),
    "logs": _GlobalSlot("opentelemetry._logs._internal", "_LOGGER_PROVIDER", "_LOGGER_PROVIDER_SET_ONCE",
                        logs_api.set_logger_provider),
}


def _module(name: str) -> ModuleType:
    return importlib.import_module(name)


def global_provider(signal: str) -> Any | None:
    """The provider set globally for ``signal`` (``traces``/``metrics``/``logs``), or ``None``."""
    slot = _SLOTS[signal]
    return getattr(_module(slot.module), slot.value, None)


def global_tracer_provider() -> Any | None:
    """``global_provider("traces")`` in one attribute read (what the API's proxy tracer reads at each span):
    asked at every span start until the app sets its provider (``_runtime._AwaitingGlobal``)."""
    return trace._TRACER_PROVIDER


def span_processor_of(provider: Any) -> Any | None:
    """The span processor an SDK ``TracerProvider`` hands each ended span to (all the processors the app
    added: ``_active_span_processor``), or ``None`` for any other provider (one otel-llm cannot hand spans)."""
    from opentelemetry.sdk.trace import TracerProvider

    if not isinstance(provider, TracerProvider):
        return None
    processor = getattr(provider, "_active_span_processor", None)
    return processor if callable(getattr(processor, "on_end", None)) else None


def install_global_provider(signal: str, provider: Any, replaceable: "weakref.WeakSet[Any]") -> bool:
    """Make ``provider`` the global one unless the application set its own; True when installed.

    A current global that is in ``replaceable`` (one otel-llm installed before)
    is swapped out by resetting upstream's set-once flag.
    """
    from opentelemetry.util._once import Once

    slot = _SLOTS[signal]
    module = _module(slot.module)
    current = getattr(module, slot.value, None)
    if current is not None and current not in replaceable:
        return False
    if current is not None:
        setattr(module, slot.once, Once())
        setattr(module, slot.value, None)
    slot.setter(provider)
    return True


def reset_global_providers() -> list[tuple[str, Any, bool]]:
    """Clear every global provider (for tests); returns what :func:`restore_global_providers` needs."""
    from opentelemetry.util._once import Once

    saved = []
    for signal, slot in _SLOTS.items():
        module = _module(slot.module)
        saved.append((signal, getattr(module, slot.value), getattr(module, slot.once)._done))
        setattr(module, slot.value, None)
        setattr(module, slot.once, Once())
    return saved


def restore_global_providers(saved: list[tuple[str, Any, bool]]) -> None:
    from opentelemetry.util._once import Once

    for signal, value, done in saved:
        slot = _SLOTS[signal]
        module = _module(slot.module)
        once = Once()
        once._done = done
        setattr(module, slot.value, value)
        setattr(module, slot.once, once)


# --- exporter configuration read back from upstream exporters -------------------------------
def exporter_endpoint(exporter: Any) -> str:
    """The endpoint an upstream OTLP exporter resolved (URL for HTTP, ``host:port`` for gRPC)."""
    return str(getattr(exporter, "_endpoint", "") or "")


def exporter_uses_tls(exporter: Any) -> bool:
    """Whether a gRPC OTLP exporter resolved a TLS channel (``https://``, or ``OTEL_EXPORTER_OTLP_INSECURE``)."""
    return getattr(exporter, "_insecure", True) is False


def metric_exporter_preferences(exporter: Any) -> dict[str, Any]:
    """``preferred_temporality``/``preferred_aggregation`` of a metric exporter, to copy onto a wrapper."""
    return {
        "preferred_temporality": getattr(exporter, "_preferred_temporality", None),
        "preferred_aggregation": getattr(exporter, "_preferred_aggregation", None),
    }


def temporality_from_env() -> dict[type, Any] | None:
    """``OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`` resolved as the OTLP exporters do."""
    from opentelemetry.exporter.otlp.common._aggregation import _get_temporality

    return _get_temporality(None)


def otlp_log_exporter_class(protocol: str) -> type:
    """Upstream's OTLP log exporter for ``grpc`` or ``http/protobuf`` (imported on demand: grpc is heavy)."""
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
    else:
        from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter  # type: ignore[assignment]
    return OTLPLogExporter


def readable_log_record(record: ReadWriteLogRecord) -> ReadableLogRecord:
    """The frozen record a log processor hands to exporters, made as upstream's batch processor makes it."""
    import copy

    from opentelemetry.context import Context
    from opentelemetry.sdk.resources import Resource

    api_record = copy.copy(record.log_record)
    api_record.context = Context()  # drop the (possibly large) context; other processors keep the original
    return ReadableLogRecord(
        log_record=api_record,
        resource=record.resource if record.resource is not None else Resource.create({}),
        instrumentation_scope=record.instrumentation_scope,
        limits=record.limits,
    )


# --- the standard library's multiprocessing hooks (undocumented) -----------------------------
class _Holder:
    """A weak-referenceable owner for an after-fork registration."""


_after_fork_holders: list[_Holder] = []


def on_multiprocessing_worker_exit(callback: Callable[[], None], exitpriority: int = 100) -> None:
    """Run ``callback`` when this forked ``multiprocessing`` worker ends normally. Call it right after a fork.

    Callbacks of a higher ``exitpriority`` run first (``multiprocessing.util.Finalize``).

    A forked worker leaves through ``os._exit`` (no ``atexit``), but first runs
    ``multiprocessing.util``'s finalizers; its bootstrap clears the finalizer
    registry and then runs the after-fork callbacks, so the finalizer is
    registered from one of those. In a bare ``os.fork()`` child nothing runs.
    """
    import multiprocessing.util as mp_util

    on_multiprocessing_worker_start(lambda: mp_util.Finalize(None, callback, exitpriority=exitpriority))


def on_multiprocessing_worker_start(callback: Callable[[], None]) -> None:
    """Run ``callback`` as this forked ``multiprocessing`` worker starts, on its main thread, before its
    target. Call it right after a fork; in a bare ``os.fork()`` child nothing runs."""
    import multiprocessing.util as mp_util

    holder = _Holder()
    _after_fork_holders.append(holder)
    mp_util.register_after_fork(holder, lambda _: callback())


def forked_to_exec() -> bool:
    """In an at-fork hook: whether this fork is ``subprocess`` starting another program.

    With a ``preexec_fn``, ``subprocess`` runs the at-fork hooks in its child
    right before the ``exec``: nothing that child holds is ours, and nothing it
    writes (an exit marker) would ever be removed. Seen on the stack: the child
    runs inside ``Popen._execute_child``.
    """
    subprocess = sys.modules.get("subprocess")
    code = getattr(getattr(getattr(subprocess, "Popen", None), "_execute_child", None), "__code__", None)
    frame = sys._getframe(1)
    while code is not None and frame is not None:
        if frame.f_code is code:
            return True
        frame = frame.f_back
    return False


def forget_metric_points(meter_provider: Any) -> None:
    """Drop every point ``meter_provider`` has aggregated so far. Call it in a forked child, right after the fork.

    A forked process holds a copy of the parent's aggregations: exported under
    the child's own ``service.instance.id``, its cumulative series would count
    the parent's measurements again in every backend that sums over instances
    (and its delta series those since the parent's last collection). Emptied,
    the child's series start at its own first measurement - their start time
    too - as a fresh process's do. The locks are new: a parent thread may have
    held one at the fork. A provider of another kind (a no-op, an adopted
    non-SDK one) is left as it is.
    """
    consumer = getattr(meter_provider, "_measurement_consumer", None)
    for storage in getattr(consumer, "_reader_storages", {}).values():
        storage._lock = threading.Lock()
        for matches in storage._instrument_view_instrument_matches.values():
            for match in matches:
                match._lock = threading.Lock()
                match._attributes_aggregation = {}


def encode_logs_proto_size(batch: Sequence[ReadableLogRecord]) -> int:
    """Bytes of the ``ExportLogsServiceRequest`` upstream's OTLP log exporters would send for ``batch``."""
    from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs

    return encode_logs(batch).ByteSize()


_LAST_COLLECTION_MS = 1_000.0  # the metric reader's last collection: callbacks and aggregation, no network


@functools.cache
def tolerant_limits(limits: type) -> type:
    """Upstream's ``SpanLimits`` or ``LogRecordLimits`` (``limits``) whose malformed variables warn and keep
    their defaults.

    Upstream raises ``ValueError`` for ``OTEL_ATTRIBUTE_COUNT_LIMIT=abc`` or a
    negative limit as the provider is built, so ``configure()`` raised into the app;
    a malformed variable of otel-llm's own warns and falls back
    (:func:`otel_llm._settings.warn_malformed`). Each variable is parsed in the
    private ``_from_env_if_absent``; a malformed one is taken as unset: the
    default it would have had (the global limit, for a span's or a log record's).
    A limit passed as an argument is checked as upstream does.
    """
    from otel_llm._settings import warn_malformed

    class TolerantLimits(limits):  # type: ignore[misc, valid-type]
        @classmethod
        def _from_env_if_absent(cls, value: int | None, env_var: str, default: int | None = None) -> int | None:
            try:
                return super()._from_env_if_absent(value, env_var, default)  # type: ignore[no-any-return]
            except ValueError as exc:
                if value is not None:  # an argument's, not the environment's
                    raise
                warn_malformed(env_var, os.environ.get(env_var, ""), exc, default)
                return default

    TolerantLimits.__name__ = TolerantLimits.__qualname__ = limits.__name__
    return TolerantLimits


@functools.cache
def periodic_metric_reader() -> type:
    """Upstream's ``PeriodicExportingMetricReader`` whose shutdown holds in forked children.

    Upstream's at-fork hook starts a new export thread in the child even for a
    reader already shut down (a configuration replaced by ``configure()``, still
    reachable through meters the app holds); that thread's "last collection"
    exported the parent's points into the closed exporter, and every forked
    worker reported them lost. A reader shut down starts no thread.
    """
    from opentelemetry.sdk.metrics._internal.exceptions import MetricsTimeoutError
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader

    class PeriodicMetricReader(PeriodicExportingMetricReader):  # type: ignore[misc]
        _closed = False

        def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
            """Make the last collection here, once, then stop the export thread and the exporter.

            The last collection runs on this thread (:meth:`_ticker` leaves it out):
            upstream's runs on the export thread, which may hang in an export -- its
            points would then never leave -- and a flush made before the shutdown
            to cover that exported the same cumulative points a second time (twice
            spooled, twice counted). Everything stays within the shutdown deadline
            the exporter was given (``deadline``, ``time.monotonic()``): upstream
            waits for its export thread for the whole ``timeout_millis``.
            """
            if not self._closed:
                self._closed = True
                try:  # local work, so even past the deadline: its export then goes straight to the spool
                    self.collect(timeout_millis=max(self._within_deadline(timeout_millis), _LAST_COLLECTION_MS))
                except Exception as exc:  # noqa: BLE001 — the shutdown must go on (a callback's timeout)
                    from otel_llm._guard import internal_error

                    internal_error("metric reader: last collection", exc)
            super().shutdown(self._within_deadline(timeout_millis), **kwargs)

        def _within_deadline(self, timeout_millis: float) -> float:
            """``timeout_millis``, cut to the shutdown deadline the exporter was given, if any."""
            deadline = getattr(self._exporter, "deadline", None)
            if isinstance(deadline, float):
                return min(timeout_millis, max(deadline - time.monotonic(), 0.0) * 1000)
            return timeout_millis

        def _ticker(self) -> None:
            """Upstream's periodic collections, without its last one: :meth:`shutdown` makes that."""
            interval_s = self._export_interval_millis / 1e3
            while not self._shutdown_event.wait(interval_s):
                try:
                    self.collect(timeout_millis=self._export_timeout_millis)
                except MetricsTimeoutError:  # as upstream: the next period collects the same points again
                    pass

        def _at_fork_reinit(self) -> None:
            if not self._closed:
                super()._at_fork_reinit()

        def _receive_metrics(self, metrics_data: Any, timeout_millis: float = 10_000, **kwargs: Any) -> None:
            """Export under upstream's export lock, waiting for it at most ``timeout_millis`` (and never
            past the shutdown deadline).

            Upstream waits for the lock without bound: a periodic export hanging on
            an endpoint that never answers held ``force_flush`` -- and so
            ``otel_llm.shutdown()`` -- for the exporter's whole timeout. Past the
            wait, the points go to the exporter beside the hung export (otel-llm's
            exporters spool them, or count them lost, once the shutdown deadline
            is near); nothing is dropped here.
            """
            from opentelemetry.context import _SUPPRESS_INSTRUMENTATION_KEY, attach, detach, set_value

            token = attach(set_value(_SUPPRESS_INSTRUMENTATION_KEY, True))
            locked = self._export_lock.acquire(timeout=max(self._within_deadline(timeout_millis), 0) / 1000)
            try:
                self._exporter.export(metrics_data, timeout_millis=timeout_millis)
            except Exception as exc:  # noqa: BLE001 — as upstream: an exporter's fault must not kill the reader
                from otel_llm._guard import internal_error

                internal_error("metric reader: export", exc)
            finally:
                if locked:
                    self._export_lock.release()
                detach(token)

    return PeriodicMetricReader


# --- OTLP span senders: upstream transport, otel-llm's bytes ---------------------------------
# gRPC answers that refuse the data for good (the counterparts of HTTP 4xx other than 408/429):
# the OTLP spec's retryable codes (UNAVAILABLE, RESOURCE_EXHAUSTED, DEADLINE_EXCEEDED, ...) are not here.
GRPC_REFUSALS = frozenset({"INVALID_ARGUMENT", "FAILED_PRECONDITION", "UNAUTHENTICATED", "PERMISSION_DENIED",
                           "NOT_FOUND", "ALREADY_EXISTS", "UNIMPLEMENTED"})


@dataclass(frozen=True)
class SendResult:
    """Outcome of sending one serialized request: the HTTP status or gRPC code, and the endpoint's
    message, when an answer came back."""

    ok: bool
    status: int | None = None
    reason: str | None = None  # the HTTP reason phrase
    grpc_code: str | None = None  # the gRPC status code's name ("UNAVAILABLE") of a failed call
    message: str | None = None  # the endpoint's own words on an error (its google.rpc.Status, gRPC details)
    rejected: Rejected | None = None  # items an accepted request's answer rejected (its partial_success)
    timed_out: bool = False  # no answer within the exporter's timeout (HTTP)
    transport: Answer | None = None  # what a live endpoint did below HTTP: a failed TLS handshake, a closed connection

    @property
    def answer(self) -> Answer | None:
        """What a live endpoint answered when it did not take the data and sending again may help
        ("HTTP 503 Service Unavailable: write ...: no space left on device"), else None."""
        if self.ok:
            return None
        if self.grpc_code:
            return _answers.grpc_answer(self.grpc_code, self.message)
        if self.timed_out:
            return _answers.NO_ANSWER
        if self.transport is not None:
            return self.transport
        return _answers.http_answer(self.status, self.reason, self.message)

    @property
    def refusal(self) -> str | None:
        """Why the endpoint refused for good (sending again cannot help), else None."""
        if self.grpc_code:
            if self.grpc_code not in GRPC_REFUSALS:
                return None
            return f"gRPC {self.grpc_code}: {self.message}" if self.message else f"gRPC {self.grpc_code}"
        if self.status is None or not 300 <= self.status < 500 or self.status in (408, 429):
            return None
        what = f"HTTP {self.status} {self.reason or ''}".rstrip()
        return f"{what}: {self.message}" if self.message else what


def _remember_http_replies(client: Any) -> threading.local:
    """Keep, per thread, the last reply upstream's OTLP/HTTP client (``_OTLPHTTPClient``) got: its
    result (``_ExportResult``) drops the body, where the endpoint says why it did not take the data.

    A status line whose body then cannot be read (the connection dropped part way, a body that is not
    the gzip it claims to be) is the reply that status says, without a body: upstream's transports read
    the body before they hand back the status, so the break would otherwise read as no answer at all. A
    2xx took the data (else it was sent again at once, then spooled and replayed: the collector got the
    batch two or three times); a 400 refuses it for good, a 503 asks for it later. This rule holds for
    every transport; only how the status line is noted differs (:func:`_remember_status_lines`).
    A retry upstream would send without time for its answer (:func:`_worth_retrying`) is not sent, nor
    its backoff waited for: the answer before it stands.
    """
    last = threading.local()
    request, export = client._transport.request, client.export
    _remember_status_lines(client._transport, last)
    _skip_waits_for_retries_not_sent(client._shutdown_event, client._timeout, last)

    def export_from_scratch(*args: Any, **kwargs: Any) -> Any:
        # this thread's export starts: no reply yet, nothing held, upstream's deadline (now plus the timeout)
        last.reply, last.held, last.deadline = None, False, time.time() + client._timeout
        return export(*args, **kwargs)

    def remembered(*args: Any, **kwargs: Any) -> Any:
        previous, timeout = getattr(last, "reply", None), kwargs.get("timeout")
        if previous is not None and (getattr(last, "held", False) or not _worth_retrying(timeout, client._timeout)):
            # the endpoint could take the retry and answer after the client gave up: the spool would then
            # send it a second time; sent once by the spool instead (a timeout of 0, which the transport
            # refuses, would also replace the endpoint's answer with that error: a 503 read as no answer)
            last.held = True
            return previous
        last.reply = last.status_line = None
        reply = request(*args, **kwargs)
        status, reason = last.status_line or (None, None)
        if reply.error is not None and reply.status_code is None and status is not None:
            reply = dataclasses.replace(reply, status_code=status, reason=reason, error=None)
        last.reply = reply
        return reply

    client._transport.request = remembered
    client.export = export_from_scratch
    return last


#: Of an exporter's timeout, what must be left for a retry to be sent. Upstream sends a retry with whatever is
#: left after its backoff (a few milliseconds, with a 1 s timeout and a 0.8-1.2 s first backoff); the endpoint
#: may take it and answer after the client gave up, and the spool, which cannot tell, sends it again: the
#: endpoint gets its items twice. Not sent, the batch is spooled at once and sent with a whole timeout.
RETRY_NEEDS_SHARE = 0.5


def _worth_retrying(time_left_s: float | None, timeout_s: float | None) -> bool:
    """Whether a retry with ``time_left_s`` of the exporter's ``timeout_s`` may get its answer in time
    (None: no timeout, wait as long as it takes)."""
    if time_left_s is None or timeout_s is None:
        return True
    return time_left_s > 0.0 and time_left_s >= RETRY_NEEDS_SHARE * timeout_s


def _skip_waits_for_retries_not_sent(event: threading.Event, timeout_s: float | None,
                                     last: threading.local) -> None:
    """Have ``event.wait(backoff)`` -- upstream's sleep before a retry, cut short by its shutdown -- return at
    once when the retry after it would not be sent (:func:`_worth_retrying`, from ``last.deadline``, the
    deadline of this thread's export), and hold that retry and the ones after it (``last.held``): the export
    then ends with the answer it has, without idling."""
    wait = event.wait

    def wait_for_retry(backoff: float | None = None) -> bool:
        deadline = getattr(last, "deadline", None)
        if backoff is not None and deadline is not None and not _worth_retrying(
                deadline - time.time() - backoff, timeout_s):
            last.held = True
            return event.is_set()
        return wait(backoff)

    event.wait = wait_for_retry  # type: ignore[method-assign]


def _remember_status_lines(transport: Any, last: threading.local) -> None:
    """Note in ``last.status_line`` the ``(status, reason)`` each answer's status line gave, before its
    body is read. Upstream's two transports are known: ``requests`` (its ``_session``, whose response
    hooks run before the body is read) and ``urllib3`` (its ``_pool``, see :class:`_StatusLineFirst`);
    another transport is left as it is."""
    hooks = getattr(getattr(transport, "_session", None), "hooks", None)
    if isinstance(hooks, dict):
        def status_line(response: Any, *args: Any, **kwargs: Any) -> None:
            last.status_line = (response.status_code, response.reason)

        hooks.setdefault("response", []).append(status_line)
        return
    pool = getattr(transport, "_pool", None)
    if callable(getattr(pool, "request", None)):
        transport._pool = _StatusLineFirst(pool, last)


class _StatusLineFirst:
    """A ``urllib3.PoolManager`` whose ``request`` notes the status line in ``last.status_line`` before it
    reads the body: upstream's urllib3 transport asks for the body preloaded, which urllib3 reads before
    handing back the response, so a body cut off would hide the status behind the read error. The body
    is still read before ``request`` returns (the connection goes back to the pool once it is read)."""

    def __init__(self, pool: Any, last: threading.local) -> None:
        self._pool = pool
        self._last = last

    def request(self, *args: Any, preload_content: bool = True, **kwargs: Any) -> Any:
        response = self._pool.request(*args, preload_content=False, **kwargs)
        self._last.status_line = (response.status, response.reason)
        if preload_content:
            response.data  # noqa: B018 — reads (and keeps) the body; a break raises as urllib3's preload would
        return response

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pool, name)


#: In a forked child, the connection pools inherited from the parent: kept referenced and never used.
#: Closing them (or letting them be collected, which closes them) takes the pools' locks, which a
#: thread of the parent may have held at the fork.
_parents_pools: list[Any] = []


def _own_connections_in_children(transport: Any) -> None:
    """In a forked child, give ``transport`` (upstream's ``requests`` or ``urllib3`` transport) connection
    pools of its own.

    Why: the child inherits the parent's keep-alive connections; a child's export
    would go out on the very socket the parent uses, and two processes writing
    requests and reading answers on one connection mix them up (one reads the
    other's answer; a request whose answer was taken times out and is sent again).
    Another transport is left as it is.
    """
    ref = weakref.ref(transport)

    def renew() -> None:
        held = ref()
        if held is None:
            return
        try:
            _renew_pools(held)
        except Exception as exc:  # noqa: BLE001 — a fork hook must never raise into the app
            from otel_llm._guard import internal_error

            internal_error("upstream: HTTP connections after fork", exc)

    os.register_at_fork(after_in_child=renew)


def _renew_pools(transport: Any) -> None:
    """Replace the connection pools of ``transport`` with empty ones made with the same settings."""
    adapters = getattr(getattr(transport, "_session", None), "adapters", None)
    if isinstance(adapters, dict):  # requests: each mounted HTTPAdapter has its pool manager
        for adapter in adapters.values():
            if callable(getattr(adapter, "init_poolmanager", None)) and hasattr(adapter, "poolmanager"):
                _parents_pools.append((adapter.poolmanager, getattr(adapter, "proxy_manager", None)))
                adapter.proxy_manager = {}
                adapter.init_poolmanager(adapter._pool_connections, adapter._pool_maxsize, block=adapter._pool_block)
        return
    import urllib3

    holder = transport
    pool = getattr(transport, "_pool", None)
    if isinstance(pool, _StatusLineFirst):
        holder, pool = pool, pool._pool
    if type(pool) is urllib3.PoolManager:
        _parents_pools.append(pool)
        holder._pool = urllib3.PoolManager(headers=pool.headers, **pool.connection_pool_kw)


def export_response_type(kind: str) -> Any:
    """The ``Export*ServiceResponse`` class of a signal: upstream's HTTP client kind (``spans``/``logs``/
    ``metrics``) or the spool's signal name (``traces``/``logs``/``metrics``)."""
    if kind == "metrics":
        from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceResponse

        return ExportMetricsServiceResponse
    if kind == "logs":
        from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse

        return ExportLogsServiceResponse
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

    return ExportTraceServiceResponse


def _timed_out(error: Exception | None) -> bool:
    """Whether upstream's HTTP client gave up waiting (``requests``' connect or read timeout)."""
    if error is None:
        return False
    from requests.exceptions import Timeout

    return isinstance(error, Timeout)


def _http_result(outcome: Any, last: threading.local, kind: str) -> SendResult:
    """A :class:`SendResult` for upstream's ``_ExportResult``, with what the reply behind it said: the
    endpoint's message on an error, the items it rejected (``partial_success``) on a success."""
    reply = getattr(last, "reply", None)
    if outcome.status_code is not None and 300 <= outcome.status_code < 400:
        return _redirected(outcome, reply)
    timed_out = not outcome.success and _timed_out(outcome.error)
    if reply is None or reply.status_code is None or reply.status_code != outcome.status_code:
        transport = None if outcome.success or outcome.error is None else _answers.transport_answer(str(outcome.error))
        return SendResult(outcome.success, outcome.status_code, outcome.reason, timed_out=timed_out,
                          transport=transport)
    message = rejected = None
    try:
        body, content_type = reply.content(), reply.headers().get("content-type")
        if outcome.success:
            rejected = _answers.rejected_in_body(body, content_type, export_response_type(kind))
        else:
            rejected = _answers.rejected_in_refusal(outcome.status_code, body, content_type,
                                                    export_response_type(kind))
            message = None if rejected is not None else _answers.status_message(body, content_type)
    except Exception:  # noqa: BLE001 — a body we cannot read: the status still speaks
        pass
    # A 4xx whose body is a partial_success: taken but for the rejected items, which are counted lost.
    return SendResult(outcome.success or rejected is not None, outcome.status_code, outcome.reason, message=message,
                      rejected=rejected)


def _redirected(outcome: Any, reply: Any) -> SendResult:
    """The failed :class:`SendResult` of a redirect answer (3xx), naming where it points.

    Upstream's client sends with redirects off and takes any status below 400 for
    delivered; a redirect has taken nothing (an OTLP/HTTP export is a POST, which
    is not followed to another URL), so sending there again cannot help either.
    """
    location = None
    try:
        if reply is not None and reply.status_code == outcome.status_code:
            location = reply.headers().get("location")
    except Exception:  # noqa: BLE001 — no readable Location: the status still speaks
        pass
    return SendResult(False, outcome.status_code, outcome.reason, message=_answers.redirect_message(location))


def _after(previous: SendResult | None, attempt: SendResult) -> SendResult:
    """What an export's attempts came to so far, ``attempt`` being the latest.

    gRPC's retries after a refused connection run into the deadline while the
    channel is still connecting: a DEADLINE_EXCEEDED after an attempt that
    reached no server says nothing new -- nobody answered, nobody listens.
    """
    if (attempt.grpc_code == "DEADLINE_EXCEEDED" and previous is not None
            and previous.grpc_code == "UNAVAILABLE" and previous.answer is None):
        return previous
    return attempt


def grpc_result(error: Any) -> SendResult:
    """The failed :class:`SendResult` of an ``RpcError``: its code and details (the server's words, or
    gRPC's own when no server was reached; :mod:`.exporters._answers` tells them apart)."""
    try:
        code, details = error.code().name, error.details()
    except Exception:  # noqa: BLE001 — not a call's error (a bare RpcError): nothing we can name
        return SendResult(False)
    return SendResult(False, grpc_code=code, message=details or None)


class _AnswerWatchingStub:
    """A gRPC service stub that tells ``on_result`` what each ``Export`` came to: a failure's code and
    details, or a success's ``partial_success``."""

    def __init__(self, stub: Any, on_result: Callable[[SendResult], None], last: threading.local,
                 timeout_s: float | None) -> None:
        self._stub, self._on_result, self._last, self._timeout_s = stub, on_result, last, timeout_s

    def Export(self, *args: Any, **kwargs: Any) -> Any:  # noqa: N802 — the gRPC method's name
        from grpc import RpcError

        failed = getattr(self._last, "failed", None)  # this export's last failure: this call is a retry
        if failed is not None and (self._last.held or not _worth_retrying(kwargs.get("timeout"), self._timeout_s)):
            # as for HTTP (:func:`_remember_http_replies`): a retry without time for its answer is not sent
            self._last.held = True
            raise failed
        try:
            response = self._stub.Export(*args, **kwargs)
        except RpcError as error:
            self._last.failed = error
            self._on_result(grpc_result(error))
            raise
        self._on_result(SendResult(True, rejected=_answers.rejected_in(response)))
        return response


def _watch_grpc_stub(exporter: Any, on_result: Callable[[SendResult], None]) -> None:
    """Wrap the stub a gRPC exporter builds its client from (again after each reconnection), and hold the
    retries of its export loop (``_export``) that would go out without time for their answer."""
    last = threading.local()  # per thread, as for HTTP: the deadline, last failure and hold of its export
    stub_class, export, timeout_s = exporter._stub, exporter._export, exporter._timeout
    exporter._stub = lambda channel: _AnswerWatchingStub(stub_class(channel), on_result, last, timeout_s)
    exporter._client = exporter._stub(exporter._channel)
    _skip_waits_for_retries_not_sent(exporter._shutdown_in_progress, timeout_s, last)

    def export_held(*args: Any, **kwargs: Any) -> Any:
        last.deadline, last.failed, last.held = time.time() + timeout_s, None, False  # upstream's deadline
        return export(*args, **kwargs)

    exporter._export = export_held


def watch_refusals(exporter: Any) -> Any:
    """Give an upstream OTLP log or metric exporter the ``refusal`` attribute our span exporters have.

    After a failed ``export``, ``exporter.refusal`` says why the endpoint refused
    the batch for good ("HTTP 400 Bad Request", "gRPC INVALID_ARGUMENT: ...");
    None when it did not answer, was busy, or failed otherwise; ``exporter.answer``
    (an :class:`Answer`) is what it answered when it could not take the batch now
    ("HTTP 503 Service Unavailable: write ...: no space left on device"), ``exporter.status`` the HTTP
    status of the last answer (413: send smaller requests). The spool
    reads them to set a refused batch aside at once, and to name a live endpoint's
    failure instead of calling it unreachable. After a successful one,
    ``exporter.rejected`` (a :class:`Rejected`) counts the items the endpoint
    rejected in its ``partial_success``, if any. Returns ``exporter``.
    """
    attempts: list[SendResult | None] = [None]  # this export's last attempt

    def on_result(sent: SendResult) -> None:
        sent = attempts[0] = _after(attempts[0], sent)
        exporter.refusal, exporter.answer, exporter.status = sent.refusal, sent.answer, sent.status
        exporter.rejected = _answers.plus(exporter.rejected, sent.rejected)

    exporter.refusal = exporter.answer = exporter.rejected = exporter.status = None
    export = exporter.export

    def export_watched(*args: Any, **kwargs: Any) -> Any:
        exporter.refusal = exporter.answer = exporter.rejected = exporter.status = attempts[0] = None
        return export(*args, **kwargs)

    exporter.export = export_watched
    if hasattr(exporter, "_stub"):  # gRPC
        _watch_grpc_stub(exporter, on_result)
        return exporter
    last = _remember_http_replies(exporter._client)
    client_export = exporter._client.export
    _own_connections_in_children(exporter._client._transport)

    def client_export_watched(*args: Any, **kwargs: Any) -> Any:
        result = client_export(*args, **kwargs)
        sent = _http_result(result, last, exporter._client._kind)
        on_result(sent)
        if sent.ok and not result.success:  # a 4xx partial_success: upstream's exporter goes on as after a 2xx
            return dataclasses.replace(result, success=True, error=None)
        if result.success and not sent.ok:  # a redirect, which upstream's client takes for delivered
            return dataclasses.replace(result, success=False)
        return result

    exporter._client.export = client_export_watched
    return exporter


@functools.cache
def http_span_sender() -> type:
    """Upstream's OTLP/HTTP span exporter (endpoint, headers, TLS, compression, retries,
    self-metrics) with ``send(request_bytes, items)`` for requests already serialized."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    class HttpSpanSender(OTLPSpanExporter):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._last_reply = _remember_http_replies(self._client)
            _own_connections_in_children(self._client._transport)

        def send(self, request: bytes, items: int) -> SendResult:
            if self._shutdown:
                return SendResult(False)
            with self._metrics.export_operation(items) as result:
                outcome = self._client.export(request)
                if not outcome.success:
                    result.error = outcome.error
                    return _http_result(outcome, self._last_reply, "spans")
            return _http_result(outcome, self._last_reply, "spans")

        @property
        def is_shut_down(self) -> bool:
            return bool(self._shutdown)

    return HttpSpanSender


class _Serialized:
    """A request already encoded, carried through upstream's gRPC export loop."""

    __slots__ = ("items", "request")

    def __init__(self, request: bytes, items: int) -> None:
        self.request, self.items = request, items


class _BytesTraceStub:
    """A TraceService stub whose Export takes serialized bytes (no protobuf object built)."""

    def __init__(self, channel: Any) -> None:
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

        self.Export = channel.unary_unary(  # noqa: N815 — the gRPC method's name
            "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
            request_serializer=None,
            response_deserializer=ExportTraceServiceResponse.FromString,
        )


@functools.cache
def grpc_span_sender() -> type:
    """Upstream's OTLP/gRPC span exporter (channel, retries, reconnection) with
    ``send(request_bytes, items)`` for requests already serialized."""
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import SpanExportResult

    class GrpcSpanSender(OTLPSpanExporter):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._stub = _BytesTraceStub  # reconnection re-creates the client from this too
            self._last = SendResult(False)
            _watch_grpc_stub(self, self._answered)

        def _answered(self, sent: SendResult) -> None:
            self._last = _after(self._last, sent)

        def send(self, request: bytes, items: int) -> SendResult:
            self._last = SendResult(False)
            ok = self._export(_Serialized(request, items)) == SpanExportResult.SUCCESS
            if ok:
                return SendResult(True, rejected=self._last.rejected if self._last.ok else None)
            return self._last if not self._last.ok else SendResult(False)

        def _translate_data(self, data: _Serialized) -> bytes:  # type: ignore[override]
            return data.request

        def _count_data(self, data: _Serialized) -> int:  # type: ignore[override]
            return data.items

        @property
        def is_shut_down(self) -> bool:
            return bool(self._shutdown)

    return GrpcSpanSender


# --- Click as Typer runs it ----------------------------------------------------------------
def click_exception_class() -> type[Exception]:
    """The base class of the usage errors a Typer app raises (bad option, missing argument, unknown command).

    Typer runs a copy of Click vendored as ``typer._click``, not the ``click``
    package, so only this class catches them.
    """
    from typer._click.exceptions import ClickException

    return ClickException


# --- provider SDKs' streaming helpers -------------------------------------------------------
# The helper streams ``client.chat.completions.stream(...)``, ``client.responses.stream(...)``
# and ``client.messages.stream(...)`` hand out (openai's ChatCompletionStream and
# ResponseStream, anthropic's MessageStream and BetaMessageStream, and their async twins;
# checked with openai 2.54 and anthropic 0.125) keep the raw ``Stream`` they read as
# ``_raw_stream`` and start reading it on their first iteration. otel-llm depends on
# neither SDK: another layout is simply not found (``None``).
def helper_raw_stream(stream: Any) -> Any | None:
    """The raw provider stream the streaming helper ``stream`` reads, or ``None``."""
    return getattr(stream, "_raw_stream", None)


def replace_helper_raw_stream(stream: Any, raw: Any) -> None:
    """Have the streaming helper ``stream`` read ``raw`` instead (before it is first iterated)."""
    stream._raw_stream = raw


# --- the check ---------------------------------------------------------------------------
def _expect(problems: list[str], what: str, condition: Callable[[], bool]) -> None:
    try:
        ok = condition()
    except Exception as exc:  # noqa: BLE001 — a missing name is exactly what we report
        problems.append(f"{what}: {_notices.failure(exc)}")
        return
    if not ok:
        problems.append(what)


def _metric_state_reachable() -> bool:
    """An SDK MeterProvider that measured once exposes the state :func:`forget_metric_points` empties."""
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    try:
        provider.get_meter("check").create_counter("c").add(1)
        storages = provider._measurement_consumer._reader_storages.values()
        matches = [m for s in storages for ms in s._instrument_view_instrument_matches.values() for m in ms]
        ok = bool(matches) and all(m._attributes_aggregation and hasattr(m, "_lock") for m in matches)
        forget_metric_points(provider)
        return ok and not any(m._attributes_aggregation for m in matches)
    finally:
        provider.shutdown()


def check() -> list[str]:
    """Every private name above, probed on the installed packages; empty when all are as expected.

    Builds real exporters (no network traffic) so attribute names set in
    ``__init__`` are checked too.
    """
    problems: list[str] = []
    for signal, slot in _SLOTS.items():
        _expect(problems, f"{slot.module}.{slot.value}", lambda s=slot: hasattr(_module(s.module), s.value))
        _expect(problems, f"{slot.module}.{slot.once} is a Once",
                lambda s=slot: hasattr(getattr(_module(s.module), s.once), "_done"))
    _expect(problems, "opentelemetry.util._once.Once", lambda: hasattr(_module("opentelemetry.util._once"), "Once"))
    _expect(problems, "TracerProvider._active_span_processor (on_end)",
            lambda: span_processor_of(_module("opentelemetry.sdk.trace").TracerProvider()) is not None)
    _expect(problems, "otlp common _aggregation._get_temporality", lambda: temporality_from_env() is not None)
    _expect(problems, "otlp proto common _log_encoder.encode_logs", lambda: encode_logs_proto_size([]) == 0)
    _expect(problems, "multiprocessing.util register_after_fork/Finalize/_exit_function",
            lambda: all(hasattr(_module("multiprocessing.util"), n)
                        for n in ("register_after_fork", "Finalize", "_exit_function", "_run_after_forkers")))
    _expect(problems, "subprocess.Popen._execute_child", lambda: callable(_module("subprocess").Popen._execute_child))
    _expect(problems, "typer._click.exceptions.ClickException with show() and exit_code",
            lambda: callable(click_exception_class().show) and hasattr(click_exception_class(), "exit_code"))
    _expect(problems, "SpanLimits/LogRecordLimits._from_env_if_absent(value, env_var, default) parses each variable",
            lambda: all("env_var" in _module("inspect").signature(getattr(limits, "_from_env_if_absent")).parameters
                        for limits in (_module("opentelemetry.sdk.trace").SpanLimits,
                                       _module("opentelemetry.sdk._logs").LogRecordLimits)))
    _expect(problems, "ReadWriteLogRecord fields log_record/resource/instrumentation_scope/limits",
            lambda: {"log_record", "resource", "instrumentation_scope", "limits"}
            <= set(ReadWriteLogRecord.__dataclass_fields__))
    for protocol in ("grpc", "http/protobuf"):
        _expect(problems, f"{protocol} OTLPLogExporter", lambda p=protocol: isinstance(otlp_log_exporter_class(p), type))

    http = http_span_sender()(endpoint="http://127.0.0.1:4318/v1/traces")
    _expect(problems, "HTTP span exporter _endpoint", lambda: exporter_endpoint(http).endswith("/v1/traces"))
    _expect(problems, "HTTP span exporter _shutdown", lambda: http._shutdown is False)
    _expect(problems, "HTTP span exporter _metrics.export_operation",
            lambda: callable(http._metrics.export_operation))
    _expect(problems, "HTTP client _kind names the signal", lambda: http._client._kind == "spans")
    _expect(problems, "HTTP client _transport.request -> result with content() and headers()",
            lambda: callable(http._client._transport.request) and all(
                callable(getattr(_module("opentelemetry.exporter.http.transport._base").BaseHTTPResult, n, None))
                for n in ("content", "headers")))
    _expect(problems, "HTTP client export(bytes) -> _ExportResult(success, status_code, reason, error)",
            lambda: callable(http._client.export) and {"success", "status_code", "reason", "error"} <= set(
                _module("opentelemetry.exporter.otlp.common.http")._ExportResult.__dataclass_fields__))
    _expect(problems, "HTTP client _timeout and export's retry sleep _shutdown_event.wait(backoff)",
            lambda: http._client._timeout > 0 and "self._shutdown_event.wait(backoff)" in _module("inspect")
            .getsource(type(http._client).export))
    _expect(problems, "requests transport _session.hooks (status line before the body)",
            lambda: isinstance(http._client._transport._session.hooks, dict))
    _expect(problems, "requests HTTPAdapter init_poolmanager/_pool_connections/_pool_maxsize/_pool_block",
            lambda: all(hasattr(http._client._transport._session.adapters["http://"], n) for n in (
                "init_poolmanager", "poolmanager", "proxy_manager", "_pool_connections", "_pool_maxsize",
                "_pool_block")))
    _expect(problems, "urllib3 PoolManager headers/connection_pool_kw",
            lambda: all(hasattr(_module("urllib3").PoolManager(), n) for n in ("headers", "connection_pool_kw")))
    _expect(problems, "urllib3 transport _pool.request(preload_content=...)",
            lambda: callable(
                _module("opentelemetry.exporter.http.transport._urllib3").Urllib3HTTPTransport()._pool.request))
    http.shutdown()

    grpc = grpc_span_sender()(endpoint="127.0.0.1:4317", insecure=True)
    _expect(problems, "gRPC span exporter _endpoint", lambda: exporter_endpoint(grpc) == "127.0.0.1:4317")
    _expect(problems, "gRPC span exporter _insecure", lambda: grpc._insecure is True and not exporter_uses_tls(grpc))
    _expect(problems, "gRPC exporter _export/_translate_data/_count_data",
            lambda: all(callable(getattr(grpc, n, None)) for n in ("_export", "_translate_data", "_count_data")))
    _expect(problems, "gRPC exporter _channel/_stub/_client",
            lambda: grpc._channel is not None and grpc._client is not None
            and isinstance(grpc._stub(grpc._channel)._stub, _BytesTraceStub))
    _expect(problems, "gRPC exporter _timeout, _export's Export(timeout=...) and retry sleep "
                      "_shutdown_in_progress.wait", lambda: grpc._timeout > 0 and all(
                          n in _module("inspect").getsource(
                              _module("opentelemetry.exporter.otlp.proto.grpc.exporter").OTLPExporterMixin._export)
                          for n in ("timeout=deadline_sec - time()", "self._shutdown_in_progress.wait(")))
    grpc.shutdown()

    _expect(problems, "PeriodicExportingMetricReader._export_lock/_exporter/_receive_metrics",
            lambda: all(n in _module("inspect").getsource(
                _module("opentelemetry.sdk.metrics.export").PeriodicExportingMetricReader._receive_metrics)
                for n in ("self._export_lock", "self._exporter.export")))
    _expect(problems, "opentelemetry.context._SUPPRESS_INSTRUMENTATION_KEY",
            lambda: hasattr(_module("opentelemetry.context"), "_SUPPRESS_INSTRUMENTATION_KEY"))
    _expect(problems, "PeriodicExportingMetricReader._ticker/_shutdown_event/_export_interval_millis",
            lambda: all(n in _module("inspect").getsource(
                _module("opentelemetry.sdk.metrics.export").PeriodicExportingMetricReader._ticker)
                for n in ("self._shutdown_event.wait", "self._export_interval_millis", "self.collect(")))
    _expect(problems, "PeriodicExportingMetricReader._at_fork_reinit",
            lambda: callable(getattr(_module("opentelemetry.sdk.metrics.export").PeriodicExportingMetricReader,
                                     "_at_fork_reinit", None)))
    _expect(problems, "MeterProvider _measurement_consumer._reader_storages -> _instrument_view_instrument_matches "
                      "-> _ViewInstrumentMatch._attributes_aggregation/_lock", _metric_state_reachable)

    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

    metric = OTLPMetricExporter(endpoint="http://127.0.0.1:4318/v1/metrics")
    _expect(problems, "metric exporter _preferred_temporality/_preferred_aggregation",
            lambda: all(v is not None for v in metric_exporter_preferences(metric).values()))
    metric.shutdown()
    return problems


def installed_versions() -> dict[str, str | None]:
    """Installed versions of the :data:`VERIFIED` distributions (``None`` when missing)."""
    out: dict[str, str | None] = {}
    for dist in VERIFIED:
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = None
    return out
