"""A bridged log record's message, formatted on the export side instead of the application's thread.

Why: ``logging`` formats a message (``msg % args``) only when a handler asks
for it, and the bridge used to ask on the thread that logged -- for every
record, whatever the cost of the arguments' ``str``/``repr``. The bridge now
hands its record off with a :class:`PendingMessage` body, and each encoder of
log records (the file exporter's and the spool's JSON, the OTLP exporter's,
the console's) formats it on its export thread, with the same rule as
``LogRecord.getMessage`` and the same lone-surrogate safety as the rest of the
exported text (``_content.utf8_safe``). The record the application's own
handlers print is never touched.

As with any deferred formatting, an argument the application changes right
after logging is exported as it is then.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Sequence
from typing import Any

from otel_llm._content import as_text, utf8_safe
from otel_llm._upstream import ReadableLogRecord

__all__ = ["PendingMessage", "body_text", "with_text_bodies"]


class PendingMessage:
    """A log message not formatted yet: the record's ``msg`` template and its ``args``."""

    __slots__ = ("args", "msg")

    def __init__(self, msg: object, args: Any) -> None:
        self.msg, self.args = msg, args

    getMessage = logging.LogRecord.getMessage  # noqa: N815 — the very rule the app's handlers format by

    def text(self) -> str:
        """The formatted message; a format string that does not match its arguments (the app's) shown raw:
        ``str(msg)``, the text ``logging`` itself starts from (never JSON of a dict, set or deque)."""
        try:
            return self.getMessage()
        except Exception:  # noqa: BLE001 — the app's format string and args do not match: not our fault
            return as_text(self.msg)

    def __str__(self) -> str:
        return self.text()


def body_text(body: Any) -> Any:
    """``body`` as it is exported: a pending message formatted, text made UTF-8 safe, anything else as is."""
    if isinstance(body, PendingMessage):
        return utf8_safe(body.text())
    if isinstance(body, str):
        return utf8_safe(body)
    return body


def with_text_bodies(batch: Sequence[ReadableLogRecord]) -> list[ReadableLogRecord]:
    """``batch`` with each pending message formatted (a copy of those records only)."""
    return [_with_text_body(record) if isinstance(record.log_record.body, PendingMessage) else record
            for record in batch]


def _with_text_body(record: ReadableLogRecord) -> ReadableLogRecord:
    log = copy.copy(record.log_record)
    log.body = body_text(log.body)
    return ReadableLogRecord(log_record=log, resource=record.resource,
                             instrumentation_scope=record.instrumentation_scope, limits=record.limits)
