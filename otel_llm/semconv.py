"""Every attribute, event and metric name otel-llm writes, in one place.

Why one module: the analysis package, the collector's redaction rules and the
tests all read these names; spelling one of them twice is how dashboards go
quietly empty. Where an OpenTelemetry GenAI / database semantic convention
exists we use its exact name (``gen_ai.*``, ``db.*``); our own additions live
under ``otel_llm.*``.
"""

from __future__ import annotations

from typing import Final

# --- otel-llm's own attributes ------------------------------------------------
OTEL_LLM_KIND: Final = "otel_llm.kind"  # chat | graph_node | vector_op | llm_call | tool | agent
OTEL_LLM_PROJECT: Final = "otel_llm.project"
OTEL_LLM_RUN_CONFIG_PREFIX: Final = "otel_llm.run_config."
# user | genai-prices@<version> | response:<where> (the provider's bill in its response: response:usage.cost)
# | record_usage (the bill the app passed to otel_llm.record_usage(cost_usd=...))
OTEL_LLM_COST_SOURCE: Final = "otel_llm.cost.source"
OTEL_LLM_GRAPH_NODE: Final = "otel_llm.graph.node"  # the node a span is, or runs inside (inherited)
OTEL_LLM_GRAPH_NAME: Final = "otel_llm.graph.name"  # inherited like the node
OTEL_LLM_USAGE_DROPPED: Final = "otel_llm.usage.dropped"  # token fields whose value was invalid, dropped
# Of gen_ai.usage.cache_creation.input_tokens, those written to a 1-hour cache (Anthropic bills them higher).
OTEL_LLM_USAGE_CACHE_CREATION_1H_INPUT_TOKENS: Final = "otel_llm.usage.cache_creation_1h.input_tokens"
# Of gen_ai.usage.input_tokens / output_tokens, the audio ones (OpenAI bills them at audio rates).
OTEL_LLM_USAGE_AUDIO_INPUT_TOKENS: Final = "otel_llm.usage.audio.input_tokens"
OTEL_LLM_USAGE_AUDIO_OUTPUT_TOKENS: Final = "otel_llm.usage.audio.output_tokens"
# What the cost on a span could not price as billed (e.g. 1-hour cache writes without a 1-hour rate).
OTEL_LLM_COST_NOTE: Final = "otel_llm.cost.note"
# Why a call with tokens has no gen_ai.usage.cost (PriceBook.refusal: no price for its model, a price
# beyond one call's bound, counts that contradict each other, ...).
OTEL_LLM_COST_REFUSED: Final = "otel_llm.cost.refused"
# Why a call has no usage: the app read the response in a way otel-llm cannot see (raw response wrappers).
OTEL_LLM_USAGE_UNOBSERVED: Final = "otel_llm.usage.unobserved"
OTEL_LLM_STREAM_COMPLETE: Final = "otel_llm.stream.complete"
OTEL_LLM_STREAM_CHUNKS: Final = "otel_llm.stream.chunks"
OTEL_LLM_TURN_INPUT_TOKENS: Final = "otel_llm.turn.input_tokens"
OTEL_LLM_TURN_OUTPUT_TOKENS: Final = "otel_llm.turn.output_tokens"
OTEL_LLM_TURN_COST: Final = "otel_llm.turn.cost"
OTEL_LLM_TURN_LLM_CALLS: Final = "otel_llm.turn.llm_calls"
OTEL_LLM_TURN_TOOL_CALLS: Final = "otel_llm.turn.tool_calls"
# Calls with tokens and no cost inside the turn (only when some): its cost leaves them out.
OTEL_LLM_TURN_UNPRICED_CALLS: Final = "otel_llm.turn.unpriced_calls"
# Model calls started inside the turn and still running when it ended (only when some): their
# tokens and cost are not in its totals (a stream read after it returned, a task it left running).
OTEL_LLM_TURN_UNFINISHED_CALLS: Final = "otel_llm.turn.unfinished_calls"
# Model calls inside the turn whose usage was not observed (only when some): no tokens to total.
OTEL_LLM_TURN_UNOBSERVED_CALLS: Final = "otel_llm.turn.unobserved_calls"
# An agent invocation's roll-up: like the turn's, everything called inside it (nested agents included).
OTEL_LLM_AGENT_INPUT_TOKENS: Final = "otel_llm.agent.input_tokens"
OTEL_LLM_AGENT_OUTPUT_TOKENS: Final = "otel_llm.agent.output_tokens"
OTEL_LLM_AGENT_COST: Final = "otel_llm.agent.cost"
OTEL_LLM_AGENT_LLM_CALLS: Final = "otel_llm.agent.llm_calls"
OTEL_LLM_AGENT_TOOL_CALLS: Final = "otel_llm.agent.tool_calls"
OTEL_LLM_AGENT_UNPRICED_CALLS: Final = "otel_llm.agent.unpriced_calls"
OTEL_LLM_AGENT_UNFINISHED_CALLS: Final = "otel_llm.agent.unfinished_calls"
OTEL_LLM_AGENT_UNOBSERVED_CALLS: Final = "otel_llm.agent.unobserved_calls"
# On a model or tool call that started inside an agent or turn whose span had already ended (a task
# it spawned, running on): the call is not in that span's totals (true; absent otherwise).
OTEL_LLM_ROLLUP_LATE: Final = "otel_llm.rollup.late"
# Retries: the attempt number of a call started inside ``otel_llm.attempt(n)`` (1 = first try),
# and on the span enclosing the retry loop, how it ended.
OTEL_LLM_ATTEMPT: Final = "otel_llm.attempt"
OTEL_LLM_RETRY_ATTEMPTS: Final = "otel_llm.retry.attempts"  # the number of the last attempt
OTEL_LLM_RETRY_OUTCOME: Final = "otel_llm.retry.outcome"  # succeeded | gave_up
RETRY_SUCCEEDED: Final = "succeeded"
RETRY_GAVE_UP: Final = "gave_up"
# The ids of the tool calls a model response asked for (a tool span's gen_ai.tool.call.id joins them).
OTEL_LLM_RESPONSE_TOOL_CALL_IDS: Final = "otel_llm.response.tool_call_ids"
OTEL_LLM_SIGNAL: Final = "otel_llm.signal"  # metric attribute: traces | metrics | logs

KIND_CHAT: Final = "chat"
KIND_GRAPH_NODE: Final = "graph_node"
KIND_VECTOR_OP: Final = "vector_op"
KIND_LLM_CALL: Final = "llm_call"
KIND_TOOL: Final = "tool"
KIND_AGENT: Final = "agent"

# --- GenAI semantic conventions ----------------------------------------------
GEN_AI_OPERATION_NAME: Final = "gen_ai.operation.name"
OPERATION_EXECUTE_TOOL: Final = "execute_tool"  # gen_ai.operation.name of a tool span
OPERATION_INVOKE_AGENT: Final = "invoke_agent"  # gen_ai.operation.name of an agent span
GEN_AI_TOOL_NAME: Final = "gen_ai.tool.name"
GEN_AI_TOOL_CALL_ID: Final = "gen_ai.tool.call.id"
GEN_AI_TOOL_TYPE: Final = "gen_ai.tool.type"  # function | extension | datastore
GEN_AI_TOOL_DESCRIPTION: Final = "gen_ai.tool.description"
GEN_AI_TOOL_CALL_ARGUMENTS: Final = "gen_ai.tool.call.arguments"  # only with capture_content
GEN_AI_TOOL_CALL_RESULT: Final = "gen_ai.tool.call.result"  # only with capture_content
GEN_AI_AGENT_NAME: Final = "gen_ai.agent.name"
GEN_AI_AGENT_ID: Final = "gen_ai.agent.id"
GEN_AI_AGENT_DESCRIPTION: Final = "gen_ai.agent.description"
GEN_AI_PROVIDER_NAME: Final = "gen_ai.provider.name"
GEN_AI_REQUEST_MODEL: Final = "gen_ai.request.model"
GEN_AI_RESPONSE_MODEL: Final = "gen_ai.response.model"
GEN_AI_RESPONSE_ID: Final = "gen_ai.response.id"
GEN_AI_RESPONSE_FINISH_REASONS: Final = "gen_ai.response.finish_reasons"
GEN_AI_REQUEST_TEMPERATURE: Final = "gen_ai.request.temperature"
GEN_AI_REQUEST_MAX_TOKENS: Final = "gen_ai.request.max_tokens"
GEN_AI_REQUEST_TOP_P: Final = "gen_ai.request.top_p"
GEN_AI_REQUEST_TOP_K: Final = "gen_ai.request.top_k"
GEN_AI_REQUEST_STOP_SEQUENCES: Final = "gen_ai.request.stop_sequences"
GEN_AI_REQUEST_FREQUENCY_PENALTY: Final = "gen_ai.request.frequency_penalty"
GEN_AI_REQUEST_PRESENCE_PENALTY: Final = "gen_ai.request.presence_penalty"
GEN_AI_REQUEST_SEED: Final = "gen_ai.request.seed"
GEN_AI_USAGE_INPUT_TOKENS: Final = "gen_ai.usage.input_tokens"
GEN_AI_USAGE_OUTPUT_TOKENS: Final = "gen_ai.usage.output_tokens"
GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: Final = "gen_ai.usage.cache_read.input_tokens"
GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: Final = "gen_ai.usage.cache_creation.input_tokens"
GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: Final = "gen_ai.usage.reasoning.output_tokens"
# A call whose usage is only a total (no input/output split): the total, neither split nor priced.
# Written only then; the analysis reads a total-only call by this name (``_spellings.TOTAL_TOKENS``).
GEN_AI_USAGE_TOTAL_TOKENS: Final = "gen_ai.usage.total_tokens"
GEN_AI_USAGE_COST: Final = "gen_ai.usage.cost"  # USD, double
GEN_AI_CONVERSATION_ID: Final = "gen_ai.conversation.id"
GEN_AI_INPUT_MESSAGES: Final = "gen_ai.input.messages"  # only with capture_content
GEN_AI_OUTPUT_MESSAGES: Final = "gen_ai.output.messages"  # only with capture_content
GEN_AI_SYSTEM_INSTRUCTIONS: Final = "gen_ai.system_instructions"  # only with capture_content
GEN_AI_TOKEN_TYPE: Final = "gen_ai.token.type"  # metric attribute: input | output | total
# The gen_ai.token.type values of gen_ai.client.token.usage points. ``total``: a call whose usage is
# only a total (no split; the span's gen_ai.usage.total_tokens), recorded once, never beside input/output,
# so the points of every type add up to the tokens used.
TOKEN_TYPE_INPUT: Final = "input"
TOKEN_TYPE_OUTPUT: Final = "output"
TOKEN_TYPE_TOTAL: Final = "total"
GEN_AI_EVALUATION_NAME: Final = "gen_ai.evaluation.name"
GEN_AI_EVALUATION_SCORE_VALUE: Final = "gen_ai.evaluation.score.value"
GEN_AI_EVALUATION_SCORE_LABEL: Final = "gen_ai.evaluation.score.label"
GEN_AI_EVALUATION_EXPLANATION: Final = "gen_ai.evaluation.explanation"

# --- other conventions --------------------------------------------------------
USER_ID: Final = "user.id"
ERROR_TYPE: Final = "error.type"
# The error.type value when the error's type cannot be named (semconv's fallback for an unknown type).
ERROR_TYPE_OTHER: Final = "_OTHER"
DB_SYSTEM_NAME: Final = "db.system.name"
DB_OPERATION_NAME: Final = "db.operation.name"
DB_COLLECTION_NAME: Final = "db.collection.name"
DB_RESPONSE_RETURNED_ROWS: Final = "db.response.returned_rows"

# --- span events of our own, where the semantic conventions have none ---------
EVENT_CHAT_MESSAGE: Final = "chat.message"
EVENT_GRAPH_STATE_UPDATE: Final = "graph.state.update"
EVENT_LLM_REQUEST: Final = "llm.request"
EVENT_LLM_RESPONSE: Final = "llm.response"
EVENT_LLM_FIRST_TOKEN: Final = "llm.first_token"
EVENT_LLM_ERROR: Final = "llm.error"
EVENT_EVALUATION_RESULT: Final = "gen_ai.evaluation.result"
EVENT_EXCEPTION: Final = "exception"  # the OTel standard event (record_exception writes it)
EXCEPTION_TYPE: Final = "exception.type"
EXCEPTION_MESSAGE: Final = "exception.message"
EXCEPTION_STACKTRACE: Final = "exception.stacktrace"
# event attributes
EVENT_ATTR_ROLE: Final = "otel_llm.message.role"
EVENT_ATTR_LENGTH: Final = "otel_llm.message.length"
EVENT_ATTR_CONTENT: Final = "otel_llm.message.content"  # only with capture_content
EVENT_ATTR_STATE_KEYS: Final = "otel_llm.graph.state.keys"

# Every attribute that may carry user text: the collector's stripping variant
# deletes exactly these (keep otel_llm/collector/config/ in step with this tuple).
CONTENT_ATTRIBUTES: Final = (
    GEN_AI_INPUT_MESSAGES,
    GEN_AI_OUTPUT_MESSAGES,
    GEN_AI_SYSTEM_INSTRUCTIONS,
    EVENT_ATTR_CONTENT,
    GEN_AI_EVALUATION_EXPLANATION,
    GEN_AI_TOOL_CALL_ARGUMENTS,
    GEN_AI_TOOL_CALL_RESULT,
)

# --- metrics -------------------------------------------------------------------
# The instrumentation scope of otel-llm's tracer and meter: how the analysis tells its own spans and
# points from a peer instrumentor's.
INSTRUMENTATION_SCOPE: Final = "otel_llm"
METRIC_TOKEN_USAGE: Final = "gen_ai.client.token.usage"  # histogram, {token}
METRIC_OPERATION_DURATION: Final = "gen_ai.client.operation.duration"  # histogram, s
METRIC_TIME_TO_FIRST_CHUNK: Final = "gen_ai.client.operation.time_to_first_chunk"  # histogram, s
METRIC_COST: Final = "otel_llm.cost"  # counter, USD
METRIC_VECTOR_OPERATIONS: Final = "otel_llm.vector.operations"  # counter, {operation}
METRIC_GRAPH_NODE_DURATION: Final = "otel_llm.graph.node.duration"  # histogram, s
METRIC_TOOL_DURATION: Final = "otel_llm.tool.duration"  # histogram, s; by tool name and error.type
METRIC_TOOL_CALLS: Final = "otel_llm.tool.calls"  # counter, {call}; by tool name and error.type
# observable counter, {item}: telemetry otel-llm could not deliver, by otel_llm.signal and error.type
METRIC_TELEMETRY_DROPPED: Final = "otel_llm.telemetry.dropped"
# observable up-down counter, {call}: decorated calls started and not ended (what is running now, _active),
# by otel_llm.kind and OTEL_LLM_SPAN_NAME (the span's name)
METRIC_ACTIVE: Final = "otel_llm.active"
OTEL_LLM_SPAN_NAME: Final = "otel_llm.span.name"
METRIC_PROCESS_MEMORY_USAGE: Final = "process.memory.usage"  # bytes (process_metrics=True, system-metrics)
# An observable instrument whose callback records pending points before each collection;
# it never reports a value, so it is never exported (see _metrics).
METRIC_PENDING_DRAIN: Final = "otel_llm.metrics.drain"

# Bucket boundaries recommended by the GenAI metrics semantic conventions.
TOKEN_USAGE_BUCKETS: Final = (
    1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
)
DURATION_BUCKETS: Final = (
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
)
