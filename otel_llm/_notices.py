"""otel-llm's own notices on the console: telemetry lost or set aside, prices unknown.

Why straight to ``stderr`` and not through ``logging``: a notice that data was
lost must reach a person whatever the application's logging setup. Python
logging may be unconfigured, may write to a file on the very disk that is full,
and otel-llm itself bridges it into ``logs.jsonl`` — the file that cannot be
written. So a notice is one line written to ``sys.stderr``.

Losses are counted per *incident*: a signal, a place (a file path, an endpoint,
the in-memory queue) and a kind of failure (:data:`KINDS`). The first loss of an
incident prints one line with the count and the place; later losses of the same
incident are only counted; when the place works again a line says how many were
lost meanwhile, and a new failure opens a new incident. :func:`print_tally`
(called by ``otel_llm.shutdown()``, so also at exit) prints what was lost or set
aside since the last tally. The same counts are exported as the observable
counter ``semconv.METRIC_TELEMETRY_DROPPED`` (:func:`observe`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from otel_llm import semconv
from otel_llm._content import as_text, type_name
from otel_llm._guard import internal_error
from otel_llm.exporters._owned_lock import OwnedLock

__all__ = ["KINDS", "UNITS", "failure", "lost", "notice", "observe", "print_tally", "resolved", "set_aside", "totals"]

UNITS = {"traces": ("span", "spans"), "logs": ("log record", "log records"), "metrics": ("metric point", "metric points")}

# Kinds of loss (the metric's error.type); "refused" data is kept in a dead-letter file, not lost.
KINDS = {
    "queue_full": "the export queue was full",
    "write_failed": "writing failed",
    "send_failed": "sending failed",
    "spool_full": "the spool was full (oldest dropped)",
    "refused": "refused by the endpoint (kept in the dead-letter file)",
    "rejected": "rejected by the endpoint (a partial success: it took the rest)",
    "dead_letter_full": "refused by the endpoint and the dead-letter file was full",
    "shutdown": "the shutdown budget ran out",
    "export_timeout": "an export ran longer than its timeout (OTEL_BSP_EXPORT_TIMEOUT, OTEL_BLRP_EXPORT_TIMEOUT)",
    "after_shutdown": "ended after otel_llm.shutdown()",
    "replaced": "ended after a new otel_llm.configure() replaced the providers it started on, "
                "with no pipeline of otel-llm's to take it",
}


@dataclass
class _Incident:
    signal: str
    where: str
    kind: str
    detail: str
    count: int = 0
    tallied: int = 0
    open: bool = True


_lock = OwnedLock()  # a shutdown from a signal handler sees it held here (``_runtime.shutdown``)
_incidents: dict[tuple[str, str, str], _Incident] = {}
_closed: list[_Incident] = []  # resolved incidents, kept for the totals and the tally


def amount(signal: str, count: int) -> str:
    """``"1 span"``, ``"18,976 spans"``."""
    one, many = UNITS.get(signal, ("item", "items"))
    return f"{count:,} {one if count == 1 else many}"


def failure(exc: BaseException) -> str:
    """``Type: message`` of ``exc`` for a notice. Never raises: the exception may be the app's, of a
    class whose metaclass hides its name or whose ``__str__`` raises (:func:`_content.type_name`)."""
    return f"{type_name(exc)}: {as_text(exc)}"


def notice(message: str) -> None:
    """Write ``otel-llm: <message>`` as one line to stderr. Never raises."""
    line = f"otel-llm: {message}\n"
    stream = sys.stderr if sys.stderr is not None else sys.__stderr__
    try:
        if stream is not None:
            stream.write(line)
            stream.flush()
    except Exception as exc:  # noqa: BLE001 — a closed stream at interpreter exit
        internal_error("notices: writing to stderr", exc)


def lost(signal: str, count: int, where: str, kind: str, detail: str = "") -> None:
    """Count ``count`` items of ``signal`` lost at ``where``; the first of an incident is printed."""
    _count(signal, count, where, kind, detail)


def set_aside(signal: str, count: int, where: str, detail: str = "") -> None:
    """Count items refused for good and kept in the dead-letter file ``where`` (printed per incident)."""
    _count(signal, count, where, "refused", detail)


def _count(signal: str, count: int, where: str, kind: str, detail: str) -> None:
    if count <= 0:
        return
    key = (signal, where, kind)
    with _lock:
        incident = _incidents.get(key)
        first = incident is None
        if incident is None:
            incident = _incidents[key] = _Incident(signal, where, kind, detail)
        incident.count += count
    if first:
        because = f" ({detail})" if detail else ""
        if kind == "refused":
            notice(f"{amount(signal, count)} refused for good by the endpoint{because}; kept in {where}. "
                   "Later refusals are counted; the queue behind them flows on.")
        else:
            notice(f"{amount(signal, count)} lost: {KINDS.get(kind, kind)} at {where}{because}. "
                   "Later losses there are counted and summed up at exit.")


def resolved(signal: str, where: str) -> None:
    """``where`` works again for ``signal``: close its open incidents, saying what they cost."""
    with _lock:
        done = [i for key, i in _incidents.items() if key[0] == signal and key[1] == where]
        for incident in done:
            del _incidents[(incident.signal, incident.where, incident.kind)]
            incident.open = False
            _closed.append(incident)
    for incident in done:
        if incident.kind != "refused":
            notice(f"{where} works again; {amount(signal, incident.count)} lost there meanwhile "
                   f"({KINDS.get(incident.kind, incident.kind)}).")


def _all() -> Iterator[_Incident]:
    yield from _closed
    yield from _incidents.values()


def totals() -> dict[tuple[str, str], int]:
    """Items not delivered since the process started, by (signal, kind)."""
    out: dict[tuple[str, str], int] = {}
    with _lock:
        for incident in _all():
            key = (incident.signal, incident.kind)
            out[key] = out.get(key, 0) + incident.count
    return out


def print_tally() -> None:
    """One line per place where something was lost or set aside since the last tally."""
    with _lock:
        pending = [(i, i.count - i.tallied) for i in _all() if i.count > i.tallied]
        for incident, _ in pending:
            incident.tallied = incident.count
    for incident, count in pending:
        what = "set aside (refused by the endpoint) in" if incident.kind == "refused" else "lost at"
        reason = "" if incident.kind == "refused" else f": {KINDS.get(incident.kind, incident.kind)}"
        notice(f"in total {amount(incident.signal, count)} {what} {incident.where}{reason}")


def _observations() -> Iterable[Any]:
    from opentelemetry.metrics import Observation

    return [
        Observation(count, {semconv.OTEL_LLM_SIGNAL: signal, semconv.ERROR_TYPE: kind})
        for (signal, kind), count in sorted(totals().items())
    ]


def observe(meter: Any) -> None:
    """Export the totals as the observable counter ``semconv.METRIC_TELEMETRY_DROPPED`` on ``meter``."""
    meter.create_observable_counter(
        semconv.METRIC_TELEMETRY_DROPPED,
        callbacks=[lambda _options: _observations()],
        unit="{item}",
        description="Telemetry otel-llm could not deliver, by signal and reason (error.type)",
    )


def _after_fork_in_child() -> None:
    """A forked child starts with no incident: the parent's are the parent's to print, tally and export
    (the child's counter would count them again under its own ``service.instance.id``). The lock is
    new: a parent thread may have held it at the fork."""
    global _lock
    _lock = OwnedLock()
    _incidents.clear()
    _closed.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _reset_for_tests() -> None:
    with _lock:
        _incidents.clear()
        _closed.clear()
