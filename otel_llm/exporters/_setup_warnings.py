"""Say each of OpenTelemetry's warnings about its own settings once while ``configure()`` builds exporters.

Why: upstream's OTLP exporters each read the ``OTEL_EXPORTER_OTLP_*``
variables and warn, through their module loggers, about a value they ignore
or replace (an unknown compression, a timeout that is not a number, a header
that is not URL-encoded, an unknown temporality preference). otel-llm builds
one exporter per signal, so the same warning came three to six times, and a
person reading them looks for three problems where there is one. While
:func:`said_once` is active, a warning already said is dropped; the first is
passed on untouched (the application's logging prints it as before).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["said_once"]

#: Loggers that warn about OTLP settings, named before their modules are first imported.
_LOGGERS = (
    "opentelemetry.util.re",
    "opentelemetry.exporter.otlp.common._aggregation",
    "opentelemetry.exporter.otlp.proto.http._common",
    "opentelemetry.exporter.otlp.proto.grpc.exporter",
)
_PREFIX = "opentelemetry"


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
