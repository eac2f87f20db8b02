"""Per tool: how often it is called, how often it fails, how slow it is, and who calls it.

Definitions (``docs/analyses.md`` repeats them; the SQL is ``views.sql``'s
``tool_calls`` and ``queries/tools.sql``):

* **tool call**: a span of kind ``tool`` - otel-llm's ``@tool``, OpenInference
  ``TOOL``, OpenLLMetry ``traceloop.span.kind = tool``, semconv ``execute_tool``
  - named by ``gen_ai.tool.name`` (or the producer's own attribute, else the
  span name). Each try of a retried tool is a call; ``retries`` counts the tries
  numbered 2 or more (``otel_llm.attempt``).
* **error rate**: failed calls (status ERROR) / calls. **Latency**: p50/p95 of
  the calls' durations (linear interpolation).
* **turn**: the chat turn the call ran in (``views.sql``: the nearest enclosing
  chat span, else the trace's root). ``turns`` counts the turns that called the
  tool, ``calls_per_turn`` its calls per such turn, and ``time_share`` its time
  in them / their duration (parallel calls can add up to more than 1).
* **agents** and **nodes**: the agents (the innermost one around each call) and
  graph nodes that called it, comma-separated.

Rows come slowest first (p95), then by error rate; ``order="errors"`` puts the
most failing first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from otel_llm_analysis._filters import Filters, as_rows
from otel_llm_analysis._scopes import per_name

__all__ = ["ToolRow", "ToolOrder", "tools"]

ToolOrder = Literal["p95", "errors", "calls", "time_share"]


@dataclass(slots=True)
class ToolRow:
    """One tool's figures."""

    tool: str | None
    calls: int
    errors: int
    error_rate: float
    retries: int
    p50_ms: float | None
    p95_ms: float | None
    total_ms: float
    turns: int
    calls_per_turn: float | None
    time_share: float | None
    agents: str | None
    nodes: str | None


def _sort_key(order: ToolOrder) -> Any:
    slow = lambda r: -(r.p95_ms if r.p95_ms is not None else float("-inf"))  # noqa: E731
    keys = {
        "p95": lambda r: (slow(r), -r.error_rate, -r.calls),
        "errors": lambda r: (-r.error_rate, -r.errors, slow(r)),
        "calls": lambda r: (-r.calls, slow(r)),
        "time_share": lambda r: (-(r.time_share or 0.0), slow(r)),
    }
    if order not in keys:
        raise ValueError(f"unknown order {order!r}; choose one of: {', '.join(keys)}")
    return lambda r: (*keys[order](r), str(r.tool))


def tools(store: Any, filters: Filters | None = None, *, order: ToolOrder = "p95") -> list[ToolRow]:
    """One row per tool name over the tool calls ``filters`` keep (time window, project, service).

    ``filters.model`` is refused: a tool call has no model of its own.
    """
    rows = as_rows(ToolRow, per_name(store, "tool_calls_in", "tools", filters, "tools"))
    return sorted(rows, key=_sort_key(order))
