"""Per agent: how often it runs, what one invocation does and costs, and how often it succeeds.

Definitions (``docs/analyses.md`` repeats them; the SQL is ``views.sql``'s
``agent_invocations`` and ``queries/agents.sql``):

* **invocation**: a span of kind ``agent`` - otel-llm's ``@agent``, OpenInference
  ``AGENT``, OpenLLMetry ``traceloop.span.kind = agent``, semconv
  ``invoke_agent`` - named by ``gen_ai.agent.name`` (or the producer's own
  attribute, else the span name).
* What an invocation **made** is everything below its span: LLM calls (each
  model call once, as in ``llm_calls``), tokens, cost, tool calls - a nested
  agent's work counts in the agents around it too, as the SDK's
  ``otel_llm.agent.*`` roll-ups do. An agent's totals count each call once: a
  recursive invocation (inside one of the same name that the filters keep)
  counts as an invocation, its work in the outer one's figures only
  (``same_name_outer_span_id``). Per-invocation figures are means over the
  agent's invocations. **Cost** sums the calls that carry one (``priced_calls``
  of ``llm_calls``); ``None`` when none does, never a made-up 0. The calls it
  leaves out are said apart: ``unpriced_calls`` carry tokens but no cost (their
  model has no price, or their usage is only a total), ``unobserved_calls`` carry
  neither because the SDK could not see their usage (``otel_llm.usage.unobserved``:
  the app read the raw HTTP response itself) - their tokens are missing from
  the token figures too, unknown rather than 0.
* **success rate**: invocations that succeeded / invocations, where an
  invocation succeeded when its span did not fail and no retry loop inside it
  gave up (an agent that catches a failed tool and carries on still went
  without that tool's result). ``failed`` counts the failed spans, ``gave_up``
  the invocations with a loop that gave up.

Rows come most invoked first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from otel_llm_analysis._filters import Filters, as_rows, ratio
from otel_llm_analysis._scopes import per_name

__all__ = ["AgentRow", "agents"]


@dataclass(slots=True)
class AgentRow:
    """One agent's figures."""

    agent: str | None
    invocations: int
    succeeded: int
    success_rate: float
    failed: int
    gave_up: int
    llm_calls_per_invocation: float
    tool_calls_per_invocation: float
    tokens_per_invocation: float
    cost_per_invocation: float | None
    p50_ms: float | None
    p95_ms: float | None
    llm_calls: int
    failed_calls: int
    tool_calls: int
    failed_tool_calls: int
    input_tokens: int
    output_tokens: int
    cost_usd: float | None
    priced_calls: int
    unpriced_calls: int
    unobserved_calls: int
    nodes: str | None


def agents(store: Any, filters: Filters | None = None) -> list[AgentRow]:
    """One row per agent name over the invocations ``filters`` keep (time window, project, service).

    ``filters.model`` is refused: an agent invocation has no model of its own.
    """
    rows = []
    for d in per_name(store, "agent_invocations_in", "agents", filters, "agents"):
        n = d["invocations"]
        if not d["priced_calls"]:
            d["cost_usd"] = None
        d.update(
            success_rate=d["succeeded"] / n,
            llm_calls_per_invocation=d["llm_calls"] / n,
            tool_calls_per_invocation=d["tool_calls"] / n,
            tokens_per_invocation=(d["input_tokens"] + d["output_tokens"]) / n,
            cost_per_invocation=ratio(d["cost_usd"], n),
        )
        rows.extend(as_rows(AgentRow, [d]))
    return sorted(rows, key=lambda r: (-r.invocations, str(r.agent)))
