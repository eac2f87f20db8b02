"""Which attribute names fill each typed column, for every producer we read.

Why a table: otel-llm, the GenAI semantic conventions (current and older),
OpenLLMetry, OpenLIT and OpenInference spell the same fact differently. The
typed columns of ``spans`` (see ``_rows``) read the first spelling present, so
other producers' traces analyse too. otel-llm's own names come from
:mod:`otel_llm.semconv` (what the SDK writes), never retyped here.
"""

from __future__ import annotations

from typing import Mapping

from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import GEN_AI_REQUEST_STREAM
from opentelemetry.semconv._incubating.metrics.gen_ai_metrics import GEN_AI_SERVER_TIME_TO_FIRST_TOKEN
from opentelemetry.semconv.attributes.service_attributes import SERVICE_NAME

from otel_llm import semconv

__all__ = ["FIRST_TOKEN_EVENTS", "FIRST_TOKEN_SCOPE", "FIRST_TOKEN_SECONDS", "REQUEST_STREAM", "SPELLINGS", "TOTAL_TOKENS"]

#: column -> attribute names, first present wins. otel-llm / current GenAI semconv
#: first, then older semconv, OpenLLMetry (``llm.*``, ``gen_ai.usage.*_tokens``),
#: OpenLIT (``gen_ai.usage.cost``), OpenInference (``llm.token_count.*``,
#: ``llm.model_name``, ``llm.provider``) and others (``operation.cost``).
#: A span's kind, the normalised provider, the requested model kept in
#: invocation parameters and whether a cost can be trusted are not a first
#: spelling but a mapping: ``_producers``.
SPELLINGS: Mapping[str, tuple[str, ...]] = {
    "project": (semconv.OTEL_LLM_PROJECT,),
    "operation": (semconv.GEN_AI_OPERATION_NAME, "llm.request.type"),
    "provider": (semconv.GEN_AI_PROVIDER_NAME, "gen_ai.system", "llm.provider", "llm.system"),
    # OpenInference's model_name is the model that answered; the one asked for is
    # in its invocation parameters (``_producers.REQUEST_MODEL_JSON``).
    "request_model": (semconv.GEN_AI_REQUEST_MODEL, "llm.request.model", "llm.request.model_name"),
    "response_model": (semconv.GEN_AI_RESPONSE_MODEL, "llm.response.model", "llm.response.model_name",
                       "llm.model_name", "embedding.model_name"),
    "input_tokens": (
        semconv.GEN_AI_USAGE_INPUT_TOKENS, "gen_ai.usage.prompt_tokens",
        "llm.token_count.prompt", "llm.usage.prompt_tokens",
    ),
    "output_tokens": (
        semconv.GEN_AI_USAGE_OUTPUT_TOKENS, "gen_ai.usage.completion_tokens",
        "llm.token_count.completion", "llm.usage.completion_tokens",
    ),
    "cache_read_tokens": (
        semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, "gen_ai.usage.cache_read_input_tokens",
        "llm.token_count.prompt_details.cache_read", "llm.usage.cache_read_input_tokens",
    ),
    "cache_write_tokens": (
        semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS, "gen_ai.usage.cache_creation_input_tokens",
        "llm.token_count.prompt_details.cache_write", "llm.usage.cache_creation_input_tokens",
    ),
    "reasoning_tokens": (
        semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, "gen_ai.usage.reasoning_tokens",
        "llm.token_count.completion_details.reasoning", "llm.usage.reasoning_tokens",
    ),
    "cost_usd": (semconv.GEN_AI_USAGE_COST, "gen_ai.usage.cost.amount", "llm.cost.total", "operation.cost"),
    "finish_reasons": (semconv.GEN_AI_RESPONSE_FINISH_REASONS, "llm.response.finish_reason"),
    "conversation_id": (semconv.GEN_AI_CONVERSATION_ID, "session.id", "gen_ai.session.id"),
    "user_id": (semconv.USER_ID, "enduser.id"),
    "graph_node": (semconv.OTEL_LLM_GRAPH_NODE, "langgraph.node"),
    "db_system": (semconv.DB_SYSTEM_NAME, "db.system"),
    "db_operation": (semconv.DB_OPERATION_NAME, "db.operation"),
    "db_collection": (semconv.DB_COLLECTION_NAME, "db.vector.collection", "db.collection"),
    "error_type": (semconv.ERROR_TYPE, semconv.EXCEPTION_TYPE),
    "service_name": (SERVICE_NAME,),
}

#: Span events that mark a stream's first token (``spans.stream_ttft_ms``; the earliest counts):
#: otel-llm's, OpenInference's, and OpenLLMetry's event on every chunk (current and older name),
#: whose first is the first token (OpenLLMetry times its own time-to-first-token metric there).
FIRST_TOKEN_EVENTS: tuple[str, ...] = (semconv.EVENT_LLM_FIRST_TOKEN, "First Token Stream Event",
                                       "gen_ai.content.completion.chunk", "llm.content.completion.chunk")

#: A stream's time to first token as a span attribute, in seconds (the GenAI semconv metric's name and
#: unit), and the attribute that says the call streamed: OpenLIT writes the first on every call, the whole
#: duration on one that did not stream, so it is a first token only beside the second set to true.
#: Read in ``_decode`` on the spans of scopes named ``FIRST_TOKEN_SCOPE``... (OpenLIT's) without a first-token event.
FIRST_TOKEN_SECONDS: str = GEN_AI_SERVER_TIME_TO_FIRST_TOKEN
REQUEST_STREAM: str = GEN_AI_REQUEST_STREAM
FIRST_TOKEN_SCOPE: str = "openlit."

#: Usage given as one total (OpenLLMetry, OpenInference, OpenLIT): no column keeps it, since a
#: total can be neither split into input and output nor priced; a call sending only a total
#: is reported at ingest (``_decode``), not counted as 0 tokens in silence.
TOTAL_TOKENS: tuple[str, ...] = ("llm.usage.total_tokens", "llm.token_count.total", semconv.GEN_AI_USAGE_TOTAL_TOKENS)
