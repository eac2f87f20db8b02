"""Bridge Python ``logging`` into OpenTelemetry logs (``logs.jsonl`` with the file exporter).

The bridge *adds* to the application's logging and never takes output away.
It is a handler on the root logger, and Python prints a record through its
last-resort handler (WARNING and above, to stderr) only when no handler at all
was found for it — so a lone bridge handler would silence an application that
never configured logging. The bridge therefore hands such records to
``logging.lastResort`` itself: the console shows exactly what it showed
without otel-llm. ``logging.basicConfig()``, which does nothing once the root
logger has a handler, is made to see through the bridge (see
:func:`_sees_through_bridges`), so it may be called before or after ``configure()``.

Why the SDK's own ``LoggingHandler``: it already translates a ``LogRecord``
(severity, body, code location, exception) and stamps the trace and span ids
of the span active when the record was written — exactly what lets a log line
be read beside its LLM call. We add only what a bridge on the *root* logger
needs to avoid feedback loops: records from OpenTelemetry's and our
own loggers (``otel_llm.*``: a notice about a failing disk must not be
written to that disk; see :mod:`otel_llm._notices`) and from the HTTP/gRPC client libraries the OTLP
exporters and the spool's replay thread use (``urllib3``, ``grpc``), records
emitted while an export is running (OpenTelemetry marks that context with
"suppress instrumentation") and records raised re-entrantly from inside the
handler are not exported.

The user's ``redact`` hook applies to what is exported (message and
exception text), on a copy: the app's other handlers print the record as ever.

The handler has level NOTSET: which records arrive is the application's
logging configuration (the root logger defaults to WARNING).
"""

from __future__ import annotations

import functools
import logging
import threading
import warnings
from typing import Any, Callable

from opentelemetry.instrumentation.utils import is_instrumentation_enabled
from opentelemetry.sdk.resources import Resource

from otel_llm import _runtime
from otel_llm._guard import internal_error
from otel_llm._upstream import LoggerProvider, LoggingHandler

__all__ = ["attach_logging", "logger_provider_for"]

# Loggers whose records would describe (or cause) an export: never exported themselves.
_EXCLUDED_PREFIXES = ("opentelemetry", "otel_llm", "urllib3", "grpc")


def logger_provider_for(resource: Resource, processor: Any) -> LoggerProvider:
    """A LoggerProvider handing records to ``processor`` (a batching processor of ``exporters._batching``)."""
    provider = LoggerProvider(resource=resource, shutdown_on_exit=False)  # otel_llm's atexit closes it
    provider.add_log_record_processor(processor)
    return provider


def _excluded(name: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in _EXCLUDED_PREFIXES)


class _BridgeHandler(LoggingHandler):
    """``LoggingHandler`` that drops loop-prone records and never raises into ``logging``."""

    def __init__(self, logger_provider: LoggerProvider) -> None:
        with warnings.catch_warnings():
            # Deprecated upstream in favour of opentelemetry-instrumentation-logging's
            # handler, which is not among our pinned dependencies; behaviour is the same.
            warnings.simplefilter("ignore", DeprecationWarning)
            super().__init__(level=logging.NOTSET, logger_provider=logger_provider)
        self._inside = threading.local()

    def handle(self, record: logging.LogRecord) -> bool:
        if _only_bridges_handle(record):
            last_resort = logging.lastResort
            if last_resort is not None and record.levelno >= last_resort.level:
                last_resort.handle(record)
        return bool(super().handle(record))

    def emit(self, record: logging.LogRecord) -> None:
        if _excluded(record.name) or getattr(self._inside, "active", False):
            return
        if not is_instrumentation_enabled():  # emitted while an export runs
            return
        self._inside.active = True
        try:
            super().emit(_runtime.current().content.log_record(record))  # redacted copy, if a hook is set
        except Exception as exc:  # noqa: BLE001 — logging must never fail because of telemetry
            internal_error("logs bridge: emit", exc)
        finally:
            self._inside.active = False

    def flush(self) -> None:
        """No-op: upstream spawns a thread per flush; ``otel_llm.flush()`` flushes the provider."""


def _only_bridges_handle(record: logging.LogRecord) -> bool:
    """True when Python would find no handler but bridges for ``record`` (then it uses ``lastResort``).

    Walks the logger hierarchy the way ``Logger.callHandlers`` does.
    """
    logger: logging.Logger | None = logging.getLogger(record.name) if record.name != "root" else logging.getLogger()
    while logger is not None:
        if any(not isinstance(h, _BridgeHandler) for h in logger.handlers):
            return False
        logger = logger.parent if logger.propagate else None
    return True


def _sees_through_bridges(basic_config: Callable[..., None]) -> Callable[..., None]:
    """``logging.basicConfig`` as if no bridge were on the root logger.

    ``basicConfig()`` does nothing once the root logger has a handler, so an app
    that calls it after ``configure()`` (configure at import, logging set up in
    ``main``) would lose its console output. The bridges are taken off for the
    call and put back after it (also after ``force=True``, which would close
    them): what ``basicConfig`` sets up is exactly what it sets up without
    otel-llm. Upstream's SDK does the same for its own logging handler.
    """

    @functools.wraps(basic_config)
    def basicConfig(**kwargs: Any) -> None:  # noqa: N802 — the stdlib's name
        root = logging.getLogger()
        bridges = [h for h in root.handlers if isinstance(h, _BridgeHandler)]
        for bridge in bridges:
            root.removeHandler(bridge)
        try:
            basic_config(**kwargs)
        finally:
            for bridge in bridges:
                root.addHandler(bridge)

    basicConfig.otel_llm_sees_through_bridges = True  # type: ignore[attr-defined]
    return basicConfig


def attach_logging(provider: LoggerProvider, logger: logging.Logger | None = None) -> Callable[[], None]:
    """Attach the bridge to ``logger`` (the root logger by default); returns the detach function.

    On the root logger, ``logging.basicConfig`` is made to see through the
    bridges (once per process; it is unchanged while no bridge is attached).
    """
    target = logger if logger is not None else logging.getLogger()
    handler = _BridgeHandler(provider)
    if target is logging.getLogger() and not getattr(logging.basicConfig, "otel_llm_sees_through_bridges", False):
        logging.basicConfig = _sees_through_bridges(logging.basicConfig)  # type: ignore[assignment]
    target.addHandler(handler)

    def detach() -> None:
        target.removeHandler(handler)
        handler.close()

    return detach
