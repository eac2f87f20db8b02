"""Keep the HTTP client's debug lines of otel-llm's own exports out of the application's logging.

Why: upstream's OTLP/HTTP exporters send through ``requests`` and ``urllib3``,
whose module loggers write a line per connection and per request at DEBUG. An
application that logs at DEBUG (``logging.basicConfig(level=logging.DEBUG)``)
then got lines it never wrote - two per batch of spans, per metric interval, per
retry - and otel-llm must not change what the app's own logging prints. So
while an export runs (:func:`exporting`, a per-thread depth: exports run on the
batch threads, the metric reader's thread, and the caller's thread in
``flush()`` and ``shutdown()``), a filter on those loggers drops their records;
the same loggers' records of the app's own requests, on any thread, outside an
export, pass as before. Installed (once) when OTLP exporters are built.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["exporting", "install"]

#: The loggers of the HTTP stack under upstream's OTLP/HTTP exporters that log per request.
_LOGGERS = ("urllib3.connectionpool", "urllib3.connection", "urllib3.util.retry", "requests")

_state = threading.local()


class _DuringExports(logging.Filter):
    """Drops a record logged by the thread while it runs one of otel-llm's exports."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(_state, "depth", 0)


_FILTER = _DuringExports()


def install() -> None:
    """Put the filter on the HTTP stack's loggers (idempotent)."""
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


@contextmanager
def exporting() -> Iterator[None]:
    """Mark this thread as running an export for the duration of the block (nests)."""
    _state.depth = getattr(_state, "depth", 0) + 1
    try:
        yield
    finally:
        _state.depth -= 1
