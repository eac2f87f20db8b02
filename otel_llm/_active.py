"""How many decorated calls have started and not ended, per kind and span name: what is running now.

Why a metric: OpenTelemetry exports a span when it ends, so a call still
running is in no trace file; the systems otel-llm replaces showed the jobs
running now. Each process therefore reports ``otel_llm.active`` (an
observable up-down counter, ``{call}``), by ``otel_llm.kind`` and
``otel_llm.span.name``: the calls, agents, tools, turns, ... started and not
ended when its meter was last collected (each periodic export, ``flush()``).
A process that stops mid-call leaves its last value, so readers must compare
its time with the process's other points (``otel-llm running`` does).

Why lists: a call appends to its (kind, name) list when its span has started
and pops when it ends, both atomic under the GIL (and thread-safe without it),
a fraction of a microsecond; the count is the list's length, read only at
collection. The lists are the process's (every ``configure()`` reports the
same calls), and a forked child starts with its parent's calls, which are not
its own: :func:`forget` empties them there.
"""

from __future__ import annotations

import os
from typing import Any, Iterable

from opentelemetry.metrics import CallbackOptions, Meter, Observation

from otel_llm import semconv

__all__ = ["ended", "forget", "observe", "started"]

#: (kind, span name) -> one item per call started and not ended.
_running: dict[tuple[str, str], list[None]] = {}


def started(kind: str, span_name: str) -> list[None]:
    """Count a call in; returns the list to hand to :func:`ended` when it ends."""
    calls = _running.get((kind, span_name))
    if calls is None:
        calls = _running.setdefault((kind, span_name), [])
    calls.append(None)
    return calls


def ended(calls: list[None]) -> None:
    """Count a call out (``calls``: what :func:`started` returned for it)."""
    try:
        calls.pop()
    except IndexError:  # emptied by forget() in a forked child: that call was the parent's
        pass


def forget() -> None:
    """In a forked child: the parent's running calls are not this process's."""
    for calls in list(_running.values()):
        calls.clear()


def _observe(_options: CallbackOptions) -> Iterable[Observation]:
    for (kind, name), calls in list(_running.items()):
        yield Observation(len(calls), {semconv.OTEL_LLM_KIND: kind, semconv.OTEL_LLM_SPAN_NAME: name})


def observe(meter: Meter) -> Any:
    """Report the running calls on ``meter`` (once per meter: a meter returns its instrument for a name again)."""
    return meter.create_observable_up_down_counter(
        semconv.METRIC_ACTIVE, callbacks=[_observe], unit="{call}",
        description="Decorated calls started and not ended, by otel_llm.kind and otel_llm.span.name")


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=forget)
