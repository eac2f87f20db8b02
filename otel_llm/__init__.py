"""otel-llm: OpenTelemetry-native observability for LLM applications.

The whole public surface is listed in ``__all__``; everything else is private
(underscore modules) or a documented submodule (``semconv``, ``testing``).
"""

from __future__ import annotations

from otel_llm._attempts import attempt
from otel_llm._record import record_evaluation, record_usage
from otel_llm._runtime import configure, flush, shutdown
from otel_llm.context import session
from otel_llm.decorators import agent, chat, graph_node, llm_call, tool, vector_op

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "agent",
    "attempt",
    "chat",
    "configure",
    "flush",
    "graph_node",
    "llm_call",
    "record_evaluation",
    "record_usage",
    "session",
    "shutdown",
    "tool",
    "vector_op",
]
