"""Bridge Python ``logging`` into OpenTelemetry logs (``logs.jsonl`` with the file exporter).

The bridge *adds* to the application's logging and never takes output away.
It is a handler on the root logger, and Python prints a record through its
last-resort handler (WARNING and above, to stderr) only when no handler at all
was found for it — so a lone bridge handler would silence an application that
never configured logging. The bridge therefore hands such records to
``logging.lastResort`` itself: the console shows exactly what it showed
without otel-llm. ``logging.basicConfig()`` (which does nothing once the root
logger has a handler) and ``dictConfig``/``fileConfig`` (which remove the root
logger's handlers) are made to see through the bridge (see
:func:`_sees_through_bridges`), so the app may set up logging before or after
``configure()``.

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
Without a hook the app's thread only hands the record off: its message is
formatted by the exporters (see :mod:`otel_llm.exporters._log_messages`).
Model-provider clients (``openai``, ``anthropic``, ``botocore``...) log each
request's body at DEBUG, prompts included: while content capture is off (the
default) those records are not exported - capture off must mean no prompt text
leaves the process through otel-llm - and the first one left out is said once
on stderr.

The handler has level NOTSET: which records arrive is the application's
logging configuration (the root logger defaults to WARNING).
"""

from __future__ import annotations

import copy
import functools
import logging
import threading
import warnings
from typing import Any, Callable

from opentelemetry.instrumentation.utils import is_instrumentation_enabled
from opentelemetry.sdk.resources import Resource

from otel_llm import _notices, _runtime, _upstream
from otel_llm._guard import internal_error
from otel_llm._upstream import LoggerProvider, LoggingHandler, LogRecordLimits
from otel_llm.exporters._log_messages import PendingMessage

__all__ = ["attach_logging", "logger_provider_for"]

# Loggers whose records would describe (or cause) an export: never exported themselves.
_EXCLUDED_PREFIXES = ("opentelemetry", "otel_llm", "urllib3", "grpc")
# Model-provider clients, whose DEBUG records carry request bodies (prompts): exported only with capture on.
_CLIENT_PREFIXES = ("openai", "anthropic", "google_genai", "google.genai", "botocore", "cohere", "mistralai", "groq",
                    "litellm", "langchain", "llama_index")
_said_left_out = False


def logger_provider_for(resource: Resource, processor: Any) -> LoggerProvider:
    """A LoggerProvider handing records to ``processor`` (a batching processor of ``exporters._batching``)."""
    provider = LoggerProvider(  # otel_llm's atexit closes it
        resource=resource, shutdown_on_exit=False, log_record_limits=_upstream.tolerant_limits(LogRecordLimits)())
    provider.add_log_record_processor(processor)
    return provider


def _under(name: str, prefixes: tuple[str, ...]) -> bool:
    """Whether logger ``name`` is one of ``prefixes`` or a child of one."""
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _excluded(name: str) -> bool:
    return _under(name, _EXCLUDED_PREFIXES)


def _prompt_bearing(record: logging.LogRecord, capture: bool) -> bool:
    """A provider client's DEBUG record while capture is off (its request body holds the prompt)."""
    global _said_left_out
    if capture or record.levelno >= logging.INFO or not _under(record.name, _CLIENT_PREFIXES):
        return False
    if not _said_left_out:
        _said_left_out = True
        _notices.notice(f"left {record.name}'s DEBUG records out of the exported logs: model clients log request "
                        "bodies (prompts) at DEBUG, and content capture is off (capture_content=True exports them)")
    return True


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
            content = _runtime.current().content
            if not _prompt_bearing(record, content.capture):
                # With a redaction hook, a redacted copy (formatted here: the hook reads the text); without
                # one the record itself, its message formatted on the export side (``_translate``).
                super().emit(record if content.redact is None else content.log_record(record))
        except Exception as exc:  # noqa: BLE001 — logging must never fail because of telemetry
            internal_error("logs bridge: emit", exc)
        finally:
            self._inside.active = False

    def _translate(self, record: logging.LogRecord) -> Any:
        """Upstream's translation, but a message with arguments is handed off unformatted (a
        :class:`PendingMessage` body, formatted by the exporters' encoders on their own thread)."""
        if not record.args or self.formatter is not None:
            return super()._translate(record)  # the body is ``msg`` itself: nothing to format
        bare = copy.copy(record)  # the app's record goes on to its other handlers untouched
        bare.msg, bare.args = "", None
        translated = super()._translate(bare)
        translated.body = PendingMessage(record.msg, record.args)
        return translated

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


def _sees_through_bridges(configure: Callable[..., Any]) -> Callable[..., Any]:
    """A logging-configuration function (``basicConfig``, ``dictConfig``, ``fileConfig``) run as if
    no bridge were on the root logger, the bridges kept on it after.

    ``basicConfig()`` does nothing once the root logger has a handler, so an app
    that calls it after ``configure()`` (configure at import, logging set up in
    ``main``) would lose its console output; ``dictConfig``/``fileConfig`` with a
    root section remove the root logger's handlers, so the export of the app's
    records would stop without a word (Django configures logging that way at
    startup). The bridges are taken off for the call and put back after it:
    what the app's configuration sets up is exactly what it sets up without
    otel-llm, and the records keep reaching ``logs.jsonl``. Upstream's SDK does
    the same for its own handler and ``basicConfig``.
    """

    @functools.wraps(configure)
    def through_bridges(*args: Any, **kwargs: Any) -> Any:
        root = logging.getLogger()
        bridges = [h for h in root.handlers if isinstance(h, _BridgeHandler)]
        for bridge in bridges:
            root.removeHandler(bridge)
        try:
            return configure(*args, **kwargs)
        finally:
            for bridge in bridges:
                root.addHandler(bridge)

    through_bridges.otel_llm_sees_through_bridges = True  # type: ignore[attr-defined]
    return through_bridges


def _configurers() -> list[tuple[Any, str]]:
    """Where the standard library's logging-configuration functions live: (module, name)."""
    import logging.config

    return [(logging, "basicConfig"), (logging.config, "dictConfig"), (logging.config, "fileConfig")]


def _see_through_bridges() -> None:
    """Make each logging-configuration function see through the bridges (once per process)."""
    for module, name in _configurers():
        configure = getattr(module, name)
        if not getattr(configure, "otel_llm_sees_through_bridges", False):
            setattr(module, name, _sees_through_bridges(configure))


def attach_logging(provider: LoggerProvider, logger: logging.Logger | None = None) -> Callable[[], None]:
    """Attach the bridge to ``logger`` (the root logger by default); returns the detach function.

    On the root logger, the logging-configuration functions are made to see
    through the bridges (:func:`_sees_through_bridges`; once per process, and
    unchanged while no bridge is attached).
    """
    target = logger if logger is not None else logging.getLogger()
    handler = _BridgeHandler(provider)
    if target is logging.getLogger():
        _see_through_bridges()
    target.addHandler(handler)

    def detach() -> None:
        target.removeHandler(handler)
        handler.close()

    return detach
