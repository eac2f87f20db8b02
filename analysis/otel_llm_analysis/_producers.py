"""Other producers' vocabularies mapped onto otel-llm's, as data.

Spans from OpenLLMetry, OpenLIT, OpenInference and upstream GenAI
instrumentations name the same things differently: a span's kind
(``openinference.span.kind = LLM``, ``traceloop.span.kind = tool``,
``gen_ai.operation.name = execute_tool``), a provider (``OpenAI``, ``azure``,
``azure.ai.openai``), a requested model (OpenInference keeps it inside the
``llm.invocation_parameters`` JSON), and whether a cost attribute can be trusted
(OpenLIT writes ``gen_ai.usage.cost = 0`` when it has no price).

Why data plus SQL builders: every engine that stores spans must derive the same
columns (DuckDB at ingest; views over the collector's ClickHouse tables). The
tables below are the one definition; the ``*_sql`` functions turn them into
plain SQL ``CASE``/``coalesce`` expressions over an attribute ``lookup``
(``name -> SQL expression of that attribute's text, NULL when absent``) that
any engine can supply.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from otel_llm import semconv
from otel_llm.pricing import MAX_CALL_COST_USD

__all__ = [
    "COST_SOURCES",
    "INFERRED_CALL",
    "KIND_SOURCES",
    "LLM_CALL",
    "MAX_CALL_COST_USD",
    "PROVIDER_NAMES",
    "REQUEST_MODEL_JSON",
    "ENTITY_NAMES",
    "cost_rank_sql",
    "cost_sql",
    "entity_name_sql",
    "kind_of",
    "kind_sql",
    "provider_sql",
    "request_model_sql",
]

Lookup = Callable[[str], str]

LLM_CALL = semconv.KIND_LLM_CALL
_VECTOR_OP = semconv.KIND_VECTOR_OP
_GRAPH_NODE = semconv.KIND_GRAPH_NODE
#: Tool and agent kinds: the values the SDK writes for ``@tool`` / ``@agent``
#: (GenAI semconv operations ``execute_tool`` / ``invoke_agent``).
TOOL = "tool"
AGENT = "agent"

#: Where a span's kind is read from, in order; the first attribute whose value
#: maps wins. ``None`` means the value is already one of ours (``otel_llm.kind``).
#: Values without an equivalent (OpenInference RERANKER, GUARDRAIL, EVALUATOR,
#: PROMPT; traceloop ``workflow``; ``create_agent``) map to nothing, and the
#: next attribute is tried; a span no entry maps has no kind (NULL).
KIND_SOURCES: tuple[tuple[str, Mapping[str, str] | None], ...] = (
    (semconv.OTEL_LLM_KIND, None),
    ("openinference.span.kind", {
        "LLM": LLM_CALL, "EMBEDDING": LLM_CALL, "RETRIEVER": _VECTOR_OP,
        "TOOL": TOOL, "AGENT": AGENT, "CHAIN": _GRAPH_NODE,
    }),
    ("traceloop.span.kind", {"task": _GRAPH_NODE, "agent": AGENT, "tool": TOOL}),
    (semconv.GEN_AI_OPERATION_NAME, {
        "chat": LLM_CALL, "text_completion": LLM_CALL, "generate_content": LLM_CALL,
        "embeddings": LLM_CALL, "completion": LLM_CALL,
        "execute_tool": TOOL, "invoke_agent": AGENT,
    }),
    ("llm.request.type", {"chat": LLM_CALL, "completion": LLM_CALL, "embedding": LLM_CALL}),
)

#: A span none of :data:`KIND_SOURCES`' attributes is on is still a model call when it names a GenAI
#: model (the first tuple) and a provider or token usage (the second): GenAI semantic conventions
#: before ``gen_ai.operation.name`` (1.26 and earlier) and producers still writing them - the Vercel
#: AI SDK's ``ai.*.doGenerate`` spans, for one - describe a call this way, and their calls and tokens
#: would otherwise be in no analysis. A span with one of those attributes (``create_agent``, an
#: OpenLLMetry ``workflow``) is what that attribute says, and a model name alone (a framework
#: span tagged with the model it configures) is not a call.
INFERRED_CALL: tuple[tuple[str, ...], tuple[str, ...]] = (
    (semconv.GEN_AI_REQUEST_MODEL, semconv.GEN_AI_RESPONSE_MODEL),
    (semconv.GEN_AI_PROVIDER_NAME, "gen_ai.system", semconv.GEN_AI_USAGE_INPUT_TOKENS,
     semconv.GEN_AI_USAGE_OUTPUT_TOKENS, "gen_ai.usage.prompt_tokens", "gen_ai.usage.completion_tokens"),
)

#: Where the name of a tool or an agent is read from, per kind: the attributes
#: in order, then the span name without the affixes producers put around it
#: (``execute_tool search_web``, OpenLLMetry's ``search_web.tool``; OpenInference's
#: decorators name the span after the tool or agent and write ``tool.name`` only).
#: Read by the views when a query runs, not at ingest.
ENTITY_NAMES: Mapping[str, tuple[tuple[str, ...], tuple[str, str]]] = {
    TOOL: ((semconv.GEN_AI_TOOL_NAME, "tool.name", "traceloop.entity.name"),
           (f"{semconv.OPERATION_EXECUTE_TOOL} ", ".tool")),
    AGENT: ((semconv.GEN_AI_AGENT_NAME, "agent.name", "traceloop.entity.name"),
            (f"{semconv.OPERATION_INVOKE_AGENT} ", ".agent")),
}

#: Provider spellings of other producers (compared lower-cased) -> the GenAI
#: semconv ``gen_ai.provider.name`` value. A name not listed is kept lower-cased
#: (``OpenAI`` -> ``openai``, ``Anthropic`` -> ``anthropic``).
PROVIDER_NAMES: Mapping[str, str] = {
    "azure": "azure.ai.openai",
    "azure_openai": "azure.ai.openai",
    "azureopenai": "azure.ai.openai",
    "az.ai.openai": "azure.ai.openai",
    "az.ai.inference": "azure.ai.inference",
    "azure_ai_inference": "azure.ai.inference",
    "aws": "aws.bedrock",
    "bedrock": "aws.bedrock",
    "aws_bedrock": "aws.bedrock",
    "amazon_bedrock": "aws.bedrock",
    "google": "gcp.gen_ai",
    "google_genai": "gcp.gen_ai",
    "gemini": "gcp.gemini",
    "vertexai": "gcp.vertex_ai",
    "vertex_ai": "gcp.vertex_ai",
    "mistral": "mistral_ai",
    "mistralai": "mistral_ai",
    "xai": "x_ai",
    "x-ai": "x_ai",
    "watsonx": "ibm.watsonx.ai",
    "ibm": "ibm.watsonx.ai",
}

#: (attribute holding a JSON object, key of the requested model in it): where
#: OpenInference keeps the model asked for (its ``llm.model_name`` /
#: ``embedding.model_name`` is the model that answered).
REQUEST_MODEL_JSON: tuple[tuple[str, str], ...] = (
    ("llm.invocation_parameters", "model"),
    ("embedding.invocation_parameters", "model"),
)

#: ``cost_source`` values, best first: which span's cost wins when two spans
#: describe one model call (``llm_calls``), and what ``summary`` calls estimated.
#: ``sdk``: otel-llm's SDK priced the call (``otel_llm.cost.source`` names the
#: table); ``producer``: another producer's cost attribute; ``ingest``: otel-llm
#: priced the tokens at ingest (``cost_table`` names the table).
COST_SOURCES: tuple[str, ...] = ("sdk", "producer", "ingest")


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _case(expr: str, mapping: Mapping[str, str]) -> str:
    whens = " ".join(f"WHEN {_quote(k)} THEN {_quote(v)}" for k, v in mapping.items())
    return f"CASE {expr} {whens} END"


def kind_sql(lookup: Lookup) -> str:
    """Our kind of a span (``llm_call``, ``vector_op``, ``tool``, ...) from :data:`KIND_SOURCES`,
    else :data:`INFERRED_CALL`."""
    parts = [lookup(name) if mapping is None else _case(lookup(name), mapping) for name, mapping in KIND_SOURCES]
    models, evidence = INFERRED_CALL
    no_kind = " AND ".join(f"{lookup(name)} IS NULL" for name, _ in KIND_SOURCES)
    inferred = (f"CASE WHEN {no_kind} AND ({' OR '.join(f'{lookup(n)} IS NOT NULL' for n in models)}) "
                f"AND ({' OR '.join(f'{lookup(n)} IS NOT NULL' for n in evidence)}) THEN {_quote(LLM_CALL)} END")
    return f"coalesce({', '.join(parts)}, {inferred})"


def kind_of(attributes: Mapping[str, Any]) -> str | None:
    """:func:`kind_sql` for one span's attributes in Python (the decoder's rare checks)."""
    for name, mapping in KIND_SOURCES:
        value = attributes.get(name)
        if value is not None and (found := value if mapping is None else mapping.get(value)) is not None:
            return str(found)
    models, evidence = INFERRED_CALL
    if (all(attributes.get(name) is None for name, _ in KIND_SOURCES)
            and any(attributes.get(n) is not None for n in models)
            and any(attributes.get(n) is not None for n in evidence)):
        return LLM_CALL
    return None


def entity_name_sql(kind: str, lookup: Lookup, span_name: str) -> str:
    """The name of a ``tool`` or ``agent`` span (:data:`ENTITY_NAMES`): its attributes, else its span name."""
    attributes, (prefix, suffix) = ENTITY_NAMES[kind]
    stripped = (f"CASE WHEN starts_with({span_name}, {_quote(prefix)}) AND length({span_name}) > {len(prefix)} "
                f"THEN {span_name}[{len(prefix) + 1}:] "
                f"WHEN ends_with({span_name}, {_quote(suffix)}) AND length({span_name}) > {len(suffix)} "
                f"THEN {span_name}[:-{len(suffix) + 1}] ELSE {span_name} END")
    return f"coalesce({', '.join(lookup(name) for name in attributes)}, {stripped})"


def provider_sql(raw: str) -> str:
    """The semconv provider name for a raw provider expression (:data:`PROVIDER_NAMES`)."""
    key = f"lower(trim({raw}))"
    return f"coalesce({_case(key, PROVIDER_NAMES)}, {key})"


def _duckdb_json_string(text: str, key: str) -> str:
    return f"json_extract_string(TRY_CAST({text} AS JSON), '$.{key}')"


def request_model_sql(lookup: Lookup, spelled: str,
                      json_string: Callable[[str, str], str] = _duckdb_json_string) -> str:
    """The requested model: the spelled attribute (``spelled``), else :data:`REQUEST_MODEL_JSON`.

    ``json_string(text, key)`` is the engine's "string at ``key`` of the JSON
    object in ``text``, NULL when absent or not JSON" (DuckDB's by default).
    """
    parts = [spelled, *(json_string(lookup(name), key) for name, key in REQUEST_MODEL_JSON)]
    return f"coalesce({', '.join(parts)})"


def cost_rank_sql(source: str) -> str:
    """Rank of a ``cost_source`` expression by :data:`COST_SOURCES` (1 best; no cost last)."""
    whens = " ".join(f"WHEN {_quote(name)} THEN {rank}" for rank, name in enumerate(COST_SOURCES, 1))
    return f"CASE {source} {whens} ELSE {len(COST_SOURCES) + 1} END"




def cost_sql(lookup: Lookup, raw_cost: str, input_tokens: str, output_tokens: str) -> dict[str, str]:
    """``cost_usd``, ``cost_source`` and ``cost_table`` expressions from a span's own attributes.

    A cost attribute is usable when it is a finite number from 0 to ``otel_llm.pricing.MAX_CALL_COST_USD``
    (the SDK's bound on one call's cost, computed or billed: beyond it is a unit error or a hostile
    span, and one of them would be every total it is summed into), and - unless
    otel-llm's SDK wrote it (``otel_llm.cost.source`` beside it: a user price of
    0 is a real price) - not 0 on a call that has tokens: OpenLIT writes 0 when
    it has no price, and a call with tokens is not free. An unusable cost is
    NULL here; ingest then prices the tokens (``_costs``).
    """
    table = lookup(semconv.OTEL_LLM_COST_SOURCE)
    no_tokens = f"(coalesce({input_tokens}, 0) = 0 AND coalesce({output_tokens}, 0) = 0)"  # counts are >= 0
    usable = (f"({raw_cost} IS NOT NULL AND isfinite({raw_cost}) AND {raw_cost} BETWEEN 0 AND {MAX_CALL_COST_USD:.0f} "
              f"AND ({table} IS NOT NULL OR {raw_cost} > 0 OR {no_tokens}))")
    return {
        "cost_usd": f"CASE WHEN {usable} THEN {raw_cost} END",
        "cost_source": f"CASE WHEN {usable} THEN CASE WHEN {table} IS NOT NULL THEN 'sdk' ELSE 'producer' END END",
        "cost_table": f"CASE WHEN {usable} THEN {table} END",
    }
