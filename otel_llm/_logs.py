"""Bridge Python ``logging`` into OpenTelemetry logs (``logs.jsonl`` with the file exporter).

Why the SDK's own ``LoggingHandler``: it already translates a ``LogRecord``
(severity, body, code location, exception) and stamps the trace and span ids
of the span active when the record was written — exactly what lets a log line
be read beside its LLM call. We add only what a bridge on the *root* logger
needs to avoid feedback loops: records from OpenTelemetry's and our
exporters' own loggers and from the HTTP/gRPC client libraries the OTLP
exporters and the spool's replay thread use (``urllib3``, ``grpc``), records
emitted while an export is running (OpenTelemetry marks that context with
"suppress instrumentation") and records raised re-entrantly from inside the
handler are not exported.

The handler has level NOTSET: which records arrive is the application's
logging configuration (the root logger defaults to WARNING).
"""

from __future__ import annotations

import logging
import threading
import warnings
from typing import Any, Callable

from opentelemetry.instrumentation.utils import is_instrumentation_enabled
from opentelemetry.sdk.resources import Resource

from otel_llm._upstream import BatchLogRecordProcessor, LoggerProvider, LoggingHandler

__all__ = ["attach_logging", "logger_provider_for"]

# Loggers whose records would describe (or cause) an export: never exported themselves.
_EXCLUDED_PREFIXES = ("opentelemetry", "otel_llm.exporters", "otel_llm.providers", "urllib3", "grpc")


def logger_provider_for(resource: Resource, exporter: Any) -> LoggerProvider:
    """A LoggerProvider batching records to ``exporter``."""
    provider = LoggerProvider(resource=resource, shutdown_on_exit=False)  # otel_llm's atexit closes it
    provider.add_log_record_processor(BatchLogRecordProcessor(exporter))
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

    def emit(self, record: logging.LogRecord) -> None:
        if _excluded(record.name) or getattr(self._inside, "active", False):
            return
        if not is_instrumentation_enabled():  # emitted while an export runs
            return
        self._inside.active = True
        try:
            super().emit(record)
        except Exception:  # noqa: BLE001 — logging must never fail because of telemetry
            pass
        finally:
            self._inside.active = False

    def flush(self) -> None:
        """No-op: upstream spawns a thread per flush; ``otel_llm.flush()`` flushes the provider."""


def attach_logging(provider: LoggerProvider, logger: logging.Logger | None = None) -> Callable[[], None]:
    """Attach the bridge to ``logger`` (the root logger by default); returns the detach function."""
    target = logger if logger is not None else logging.getLogger()
    handler = _BridgeHandler(provider)
    target.addHandler(handler)

    def detach() -> None:
        target.removeHandler(handler)
        handler.close()

    return detach
