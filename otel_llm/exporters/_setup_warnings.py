"""Say each of OpenTelemetry's warnings about its own settings once while ``configure()`` builds exporters.

Why: upstream's OTLP exporters each read the ``OTEL_EXPORTER_OTLP_*``
variables and warn, through their module loggers, about a value they ignore
or replace (an unknown compression, a timeout that is not a number, a header
that is not URL-encoded, an unknown temporality preference). otel-llm builds
one exporter per signal, so the same warning came three to six times, and a
person reading them looks for three problems where there is one. While
:func:`said_once` is active, a warning already said is dropped; the first is
passed on untouched (the application's logging prints it as before).

Upstream's gRPC exporters read their timeout variables with a bare ``float()``:
a value that is not a number raised out of ``configure()`` into the app, where
the HTTP exporters warn and use 10 s. :func:`grpc_timeouts_readable` gives the
gRPC exporters the HTTP exporters' behaviour.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["grpc_timeouts_readable", "said_once"]

#: Loggers that warn about OTLP settings, named before their modules are first imported.
_LOGGERS = (
    "opentelemetry.util.re",
    "opentelemetry.exporter.otlp.common._aggregation",
    "opentelemetry.exporter.otlp.proto.http._common",
    "opentelemetry.exporter.otlp.proto.grpc.exporter",
)
_PREFIX = "opentelemetry"
#: The timeout variables upstream's gRPC exporters parse with ``float()``, and its default (seconds).
_GRPC_TIMEOUTS = ("OTEL_EXPORTER_OTLP_TIMEOUT", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
                  "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT")
_DEFAULT_TIMEOUT_S = 10


class _OnceEach(logging.Filter):
    """Passes a record whose text it has not seen yet."""

    def __init__(self) -> None:
        super().__init__()
        self._seen: set[tuple[int, str]] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.levelno, record.getMessage())
        if key in self._seen:
            return False
        self._seen.add(key)
        return True


def _loggers() -> list[logging.Logger]:
    """OpenTelemetry's loggers: those created so far, and the setting-parsing ones (created now if need be)."""
    existing = [logger for name, logger in list(logging.Logger.manager.loggerDict.items())
                if name.startswith(_PREFIX) and isinstance(logger, logging.Logger)]
    named = [logging.getLogger(name) for name in _LOGGERS]
    return list({id(logger): logger for logger in existing + named}.values())


@contextmanager
def said_once() -> Iterator[None]:
    """For the duration of the block, each distinct OpenTelemetry log line is passed on once."""
    once = _OnceEach()
    loggers = _loggers()
    for logger in loggers:
        logger.addFilter(once)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(once)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@contextmanager
def grpc_timeouts_readable() -> Iterator[None]:
    """While upstream's gRPC exporters are built: a timeout variable that is not a number is warned about
    (once each, on the ``otel_llm`` logger: upstream's loggers drop a second line from the same place)
    and hidden from them - they then use their default, 10 s, as the HTTP exporters do - and put back as
    it was afterwards.

    The variables are hidden from the whole process for the few milliseconds the exporters take to build
    (upstream reads ``os.environ`` itself); ``configure()`` runs this under its lock.
    """
    unreadable = {name: raw for name in _GRPC_TIMEOUTS
                  if (raw := os.environ.get(name)) is not None and not _is_number(raw)}
    logger = logging.getLogger("otel_llm")
    for name, raw in unreadable.items():
        logger.warning("Invalid timeout value %r in %s, using default of %s seconds", raw, name, _DEFAULT_TIMEOUT_S)
        del os.environ[name]
    try:
        yield
    finally:
        os.environ.update(unreadable)
