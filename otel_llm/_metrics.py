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

    @classmethod
    def create(cls, meter: Meter) -> "Instruments":
        """Create the instruments on ``meter`` (works on the global proxy meter too)."""
        return cls(
            token_usage=meter.create_histogram(
                semconv.METRIC_TOKEN_USAGE,
                unit="{token}",
                description="Tokens used per LLM call, by gen_ai.token.type",
                explicit_bucket_boundaries_advisory=semconv.TOKEN_USAGE_BUCKETS,
            ),
            operation_duration=meter.create_histogram(
                semconv.METRIC_OPERATION_DURATION,
                unit="s",
                description="Duration of LLM calls",
                explicit_bucket_boundaries_advisory=semconv.DURATION_BUCKETS,
            ),
            time_to_first_chunk=meter.create_histogram(
                semconv.METRIC_TIME_TO_FIRST_CHUNK,
                unit="s",
                description="Time from the start of a streamed LLM call to its first chunk",
                explicit_bucket_boundaries_advisory=semconv.DURATION_BUCKETS,
            ),
            cost=meter.create_counter(
                semconv.METRIC_COST,
                unit="USD",
                description="Cost of LLM calls priced by otel-llm",
            ),
            vector_operations=meter.create_counter(
                semconv.METRIC_VECTOR_OPERATIONS,
                unit="{operation}",
                description="Vector store operations",
            ),
            graph_node_duration=meter.create_histogram(
                semconv.METRIC_GRAPH_NODE_DURATION,
                unit="s",
                description="Duration of graph node executions",
                explicit_bucket_boundaries_advisory=semconv.DURATION_BUCKETS,
            ),
        )
