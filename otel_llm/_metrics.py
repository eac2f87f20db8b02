"""The metric instruments, created once per meter.

Why a frozen bundle: creating an instrument takes a lock in the SDK; creating
them per call would be slow and, with a changing meter, leak. ``configure()``
builds one :class:`Instruments` for its meter and keeps it in the ``Runtime``;
the hot path only calls ``record``/``add``. Names, units and bucket boundaries
come from ``semconv`` (the GenAI metrics conventions' recommended buckets).

Attribute sets recorded on these instruments stay low-cardinality: operation,
provider, model, kind-specific names and ``error.type`` — never conversation,
user or response ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from opentelemetry.metrics import Counter, Histogram, Meter

from otel_llm import semconv

__all__ = ["Instruments"]


@dataclass(frozen=True)
class Instruments:
    """Every instrument otel-llm records to."""

    token_usage: Histogram
    operation_duration: Histogram
    time_to_first_chunk: Histogram
    cost: Counter
    vector_operations: Counter
    graph_node_duration: Histogram
    tool_duration: Histogram
    tool_calls: Counter

    @classmethod
    def create(cls, meter: Meter) -> "Instruments":
        """Create the instruments on ``meter`` (works on the global proxy meter too)."""
        return cls(
            token_usage=_histogram(
                meter, semconv.METRIC_TOKEN_USAGE, "{token}",
                "Tokens used per LLM call, by gen_ai.token.type", semconv.TOKEN_USAGE_BUCKETS,
            ),
            operation_duration=_histogram(
                meter, semconv.METRIC_OPERATION_DURATION, "s", "Duration of LLM calls", semconv.DURATION_BUCKETS
            ),
            time_to_first_chunk=_histogram(
                meter, semconv.METRIC_TIME_TO_FIRST_CHUNK, "s",
                "Time from the start of a streamed LLM call to its first chunk", semconv.DURATION_BUCKETS,
            ),
            cost=meter.create_counter(semconv.METRIC_COST, unit="USD", description="Cost of LLM calls priced by otel-llm"),
            vector_operations=meter.create_counter(
                semconv.METRIC_VECTOR_OPERATIONS, unit="{operation}", description="Vector store operations"
            ),
            graph_node_duration=_histogram(
                meter, semconv.METRIC_GRAPH_NODE_DURATION, "s",
                "Duration of graph node executions", semconv.DURATION_BUCKETS,
            ),
            tool_duration=_histogram(
                meter, semconv.METRIC_TOOL_DURATION, "s", "Duration of tool calls", semconv.DURATION_BUCKETS
            ),
            tool_calls=meter.create_counter(
                semconv.METRIC_TOOL_CALLS, unit="{call}", description="Tool calls, by tool name and error.type"
            ),
        )


def _histogram(meter: Meter, name: str, unit: str, description: str, buckets: Sequence[float]) -> Histogram:
    """A histogram with the semconv-recommended bucket boundaries as the advisory."""
    return meter.create_histogram(
        name, unit=unit, description=description, explicit_bucket_boundaries_advisory=buckets
    )
