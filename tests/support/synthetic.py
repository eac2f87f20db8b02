"""Realistic collector-format OTLP-JSON files, deterministic by seed, with their ground truth.

Why: every analysis test needs data shaped like what otel-llm's SDK and the
collector's ``fileexporter`` really write (nested chat -> graph_node ->
vector_op / llm_call spans, streamed calls, evaluations, errors and retries,
several projects, models, providers, services, users and conversations over
~60 days), *and* the plain-Python records it was made from, so tests can
compute expected sums, counts and percentiles without DuckDB. The benchmark
uses the same generator with ``keep_records=False`` for a million spans.

File format (docs/internals.md): one OTLP-JSON export request per line
(``resourceSpans/scopeSpans/spans``), lowercase hex ids, int64 values and
nanosecond times as strings, doubles as JSON numbers.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

import orjson

from otel_llm import semconv

__all__ = [
    "EventRecord",
    "LogRecord",
    "MetricPointRecord",
    "SpanRecord",
    "SyntheticData",
    "generate",
    "any_value",
    "key_values",
    "spans_request",
]

SCOPE_NAME = "otel_llm"
SCOPE_VERSION = "0.1.0"

#: (provider, request model, response model or None, $ per 1M input, output, cache read)
MODELS: tuple[tuple[str, str, str | None, float, float, float], ...] = (
    ("openai", "gpt-4o-mini", "gpt-4o-mini-2024-07-18", 0.15, 0.60, 0.075),
    ("openai", "gpt-4o", "gpt-4o-2024-08-06", 2.50, 10.00, 1.25),
    ("openai", "o4-mini", "o4-mini-2025-04-16", 1.10, 4.40, 0.275),
    ("anthropic", "claude-sonnet-4-5", "claude-sonnet-4-5-20250929", 3.00, 15.00, 0.30),
    ("anthropic", "claude-haiku-4-5", None, 1.00, 5.00, 0.10),
    ("gcp.gemini", "gemini-2.5-flash", None, 0.30, 2.50, 0.075),
    ("openai", "my-finetune-v2", None, 0.0, 0.0, 0.0),  # unpriced: no cost attribute
)
_UNPRICED = {"my-finetune-v2"}

#: service -> (project, deployment environment)
SERVICES: Mapping[str, tuple[str, str]] = {
    "support-bot": ("support", "prod"),
    "rag-api": ("search", "prod"),
    "batch-summarizer": ("summaries", "staging"),
}
TEMPERATURES = (0.0, 0.2, 0.7, 1.0)
MAX_RETRIES = (0, 1, 3)
ERRORS = (
    ("RateLimitError", "Rate limit reached for {model} in organization org-{org} on tokens per min"),
    ("APITimeoutError", "Request timed out after {secs} seconds"),
    ("BadRequestError", "Invalid 'messages[{idx}].content': string too long"),
)
EVAL_NAMES = ("relevance", "faithfulness")
#: The agent step's tools and how often one try of each fails (retried up to the turn's max_retries).
TOOLS: Mapping[str, float] = {"search_web": 0.3, "get_weather": 0.05, "run_sql": 0.15}
#: Who wrote the agent step's tool and agent spans: ``generate(agents=...)``.
AGENT_PRODUCERS = ("otel_llm", "openinference", "openllmetry")
SPAN_KIND_NAMES = {1: "INTERNAL", 2: "SERVER", 3: "CLIENT"}


@dataclass(slots=True)
class EventRecord:
    """One span event as written; ``eval_*`` are set for ``gen_ai.evaluation.result``."""

    trace_id: str
    span_id: str
    time_ns: int
    name: str
    attributes: dict[str, Any]
    eval_name: str | None = None
    eval_score: float | None = None
    eval_label: str | None = None


@dataclass(slots=True)
class SpanRecord:
    """One span as written, with the typed values the ``spans`` table should hold.

    Field names follow the table's columns so a test's ground truth reads like SQL.
    ``attributes`` are the span's own; ``resource`` the resource attributes.
    """

    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    span_kind: str
    service_name: str
    project: str
    otel_kind: str
    start_ns: int
    end_ns: int
    status_code: int = 0
    status_message: str | None = None
    operation: str | None = None
    provider: str | None = None
    request_model: str | None = None
    response_model: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_tokens: int | None = None
    cache_write_tokens: int | None = None
    reasoning_tokens: int | None = None
    cost_usd: float | None = None
    conversation_id: str | None = None
    user_id: str | None = None
    graph_node: str | None = None
    db_system: str | None = None
    db_operation: str | None = None
    db_collection: str | None = None
    error_type: str | None = None
    temperature: float | None = None
    max_retries: int | None = None
    stream_ttft_ms: float | None = None
    finish_reasons: tuple[str, ...] = ()
    attributes: dict[str, Any] = field(default_factory=dict)
    resource: dict[str, Any] = field(default_factory=dict)
    events: list[EventRecord] = field(default_factory=list)
    #: a peer instrumentor's span of a call otel-llm's span also describes (not a call of its own)
    nested: bool = False
    #: tool and agent spans: the tool's or agent's name, whichever producer's attributes carry it
    tool_name: str | None = None
    agent_name: str | None = None
    #: ``otel_llm.attempt`` when the span is one try of a retry loop (otel-llm's shape only)
    attempt: int | None = None

    @property
    def model(self) -> str | None:
        """The model asked for: request model, else response model (the table's ``model`` column)."""
        return self.request_model or self.response_model

    @property
    def start_time(self) -> datetime:
        """Naive UTC, microsecond precision: what the ``start_time`` TIMESTAMP holds."""
        return _naive_utc(self.start_ns)

    @property
    def duration_ms(self) -> float:
        return (self.end_ns - self.start_ns) / 1e6


@dataclass(slots=True)
class MetricPointRecord:
    """One metric data point as written (sum/gauge: ``value``; histogram: the rest)."""

    name: str
    type: str  # "sum" | "gauge" | "histogram"
    unit: str
    service_name: str
    start_ns: int
    time_ns: int
    attributes: dict[str, Any]
    value: float | None = None
    count: int | None = None
    sum: float | None = None
    min: float | None = None
    max: float | None = None
    bucket_counts: tuple[int, ...] = ()
    bounds: tuple[float, ...] = ()


@dataclass(slots=True)
class LogRecord:
    """One log record as written."""

    time_ns: int
    severity_number: int
    severity_text: str
    body: str
    trace_id: str | None
    span_id: str | None
    service_name: str
    attributes: dict[str, Any]


@dataclass
class SyntheticData:
    """What :func:`generate` wrote: the files and (unless disabled) every record."""

    files: list[Path]
    spans: list[SpanRecord]
    metric_points: list[MetricPointRecord]
    logs: list[LogRecord]
    span_count: int = 0
    line_count: int = 0

    @property
    def events(self) -> list[EventRecord]:
        return [e for s in self.spans for e in s.events]


# --- OTLP-JSON building blocks (also used by tests to craft odd lines) ----------


def any_value(value: Any) -> dict[str, Any]:
    """A Python value as an OTLP-JSON ``AnyValue`` (int64 as string, like the collector)."""
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, (list, tuple)):
        return {"arrayValue": {"values": [any_value(v) for v in value]}}
    if isinstance(value, dict):
        return {"kvlistValue": {"values": key_values(value)}}
    return {"stringValue": str(value)}


def key_values(attributes: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A mapping as an OTLP-JSON ``KeyValue`` list."""
    return [{"key": k, "value": any_value(v)} for k, v in attributes.items()]


def _span_json(span: SpanRecord, kind_number: int) -> dict[str, Any]:
    out: dict[str, Any] = {
        "traceId": span.trace_id,
        "spanId": span.span_id,
        "parentSpanId": span.parent_span_id or "",
        "flags": 257,
        "name": span.name,
        "kind": kind_number,
        "startTimeUnixNano": str(span.start_ns),
        "endTimeUnixNano": str(span.end_ns),
        "attributes": key_values(span.attributes),
        "status": {"code": span.status_code, **({"message": span.status_message} if span.status_message else {})},
    }
    if span.events:
        out["events"] = [
            {"timeUnixNano": str(e.time_ns), "name": e.name, "attributes": key_values(e.attributes)}
            for e in span.events
        ]
    return out


def spans_request(spans: Sequence[SpanRecord]) -> dict[str, Any]:
    """One export request (one file line) holding ``spans``, grouped by resource like the collector."""
    by_service: dict[str, list[SpanRecord]] = defaultdict(list)
    for span in spans:
        by_service[span.service_name].append(span)
    kinds = {v: k for k, v in SPAN_KIND_NAMES.items()}
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": key_values(group[0].resource)},
                "scopeSpans": [
                    {
                        "scope": {"name": SCOPE_NAME, "version": SCOPE_VERSION},
                        "spans": [_span_json(s, kinds[s.span_kind]) for s in group],
                    }
                ],
            }
            for group in by_service.values()
        ]
    }


# --- the generator ---------------------------------------------------------------


class _Gen:
    """Builds traces one at a time from one seeded ``random.Random``."""

    def __init__(self, rng: random.Random, error_rate: float, peer_spans: bool = False,
                 agents: str | None = None, agent_rng: random.Random | None = None) -> None:
        self.rng = rng
        self.error_rate = error_rate
        self.peer_spans = peer_spans
        if agents is not None and agents not in AGENT_PRODUCERS:
            raise ValueError(f"agents={agents!r}: choose one of {', '.join(AGENT_PRODUCERS)}")
        self.agents = agents
        # The agent step draws from its own generator, so the rest of the data is the same with or without it.
        self.agent_gen = _Gen(agent_rng, error_rate) if agents is not None and agent_rng is not None else None
        self.users = [f"u-{i:03d}" for i in range(40)]
        self.conversations: dict[str, list[str]] = {u: [] for u in self.users}
        self.resources = {
            name: {
                "service.name": name,
                "service.version": "1.4.2",
                "deployment.environment.name": env,
                "telemetry.sdk.name": "opentelemetry",
                "telemetry.sdk.language": "python",
                "telemetry.sdk.version": "1.45.1",
                "host.name": f"{name}-{i}",
            }
            for i, (name, (_, env)) in enumerate(SERVICES.items())
        }

    def hex_id(self, bits: int) -> str:
        return f"{self.rng.getrandbits(bits):0{bits // 4}x}"

    def trace(self, start_ns: int) -> list[SpanRecord]:
        """A chat turn: chat -> retrieve (vector_op) + generate (1+ llm_call attempts)."""
        rng = self.rng
        service = rng.choice(list(SERVICES))
        project = SERVICES[service][0]
        user = rng.choice(self.users)
        convs = self.conversations[user]
        if not convs or rng.random() < 0.3:
            convs.append(f"conv-{self.hex_id(32)[:12]}")
        conversation = rng.choice(convs[-3:])
        temperature = rng.choice(TEMPERATURES)
        max_retries = rng.choice(MAX_RETRIES)
        provider, req_model, resp_model, *_ = rng.choice(MODELS)
        trace_id = self.hex_id(128)
        common = {
            semconv.OTEL_LLM_PROJECT: project,
            semconv.GEN_AI_CONVERSATION_ID: conversation,
            semconv.USER_ID: user,
            semconv.OTEL_LLM_RUN_CONFIG_PREFIX + "temperature": temperature,
            semconv.OTEL_LLM_RUN_CONFIG_PREFIX + "max_retries": max_retries,
        }
        base = dict(
            trace_id=trace_id, service_name=service, project=project, conversation_id=conversation,
            user_id=user, temperature=temperature, max_retries=max_retries, resource=self.resources[service],
        )
        chat = SpanRecord(
            span_id=self.hex_id(64), parent_span_id=None, name="answer_question", span_kind="INTERNAL",
            otel_kind=semconv.KIND_CHAT, start_ns=start_ns, end_ns=0, **base,
        )
        spans = [chat]
        t = start_ns + rng.randint(50_000, 500_000)
        # retrieve node with one vector query
        retrieve = self._node("retrieve", chat, t, base)
        collection = rng.choice(("docs", "faq", "tickets"))
        q_start = t + rng.randint(10_000, 100_000)
        query = SpanRecord(
            span_id=self.hex_id(64), parent_span_id=retrieve.span_id, name=f"query {collection}",
            span_kind="CLIENT", otel_kind=semconv.KIND_VECTOR_OP, start_ns=q_start,
            end_ns=q_start + rng.randint(2, 120) * 1_000_000, db_system=rng.choice(("chroma", "qdrant")),
            db_operation="query", db_collection=collection, **base,
        )
        query.attributes = {
            semconv.OTEL_LLM_KIND: query.otel_kind, **common,
            semconv.DB_SYSTEM_NAME: query.db_system, semconv.DB_OPERATION_NAME: "query",
            semconv.DB_COLLECTION_NAME: collection, semconv.DB_RESPONSE_RETURNED_ROWS: rng.randint(0, 10),
        }
        retrieve.end_ns = query.end_ns + rng.randint(10_000, 500_000)
        spans += [retrieve, query]
        # generate node with llm_call attempts (retries on error)
        generate = self._node("generate", chat, retrieve.end_ns + 100_000, base)
        t = generate.start_ns + rng.randint(10_000, 200_000)
        failed = False
        for attempt in range(max_retries + 1):
            call = self._llm_call(generate, t, base, common, provider, req_model, resp_model, temperature)
            call.attempt = call.attributes[semconv.OTEL_LLM_ATTEMPT] = attempt + 1  # with otel_llm.attempt(n)
            spans.append(call)
            t = call.end_ns + rng.randint(1_000_000, 50_000_000)
            failed = call.status_code == 2
            if not failed:
                break
        generate.end_ns = t
        spans.append(generate)
        chat.end_ns = generate.end_ns + rng.randint(100_000, 2_000_000)
        for node in (retrieve, generate, chat):
            node.attributes = {semconv.OTEL_LLM_KIND: node.otel_kind, **common}
            if node.graph_node:
                node.attributes[semconv.OTEL_LLM_GRAPH_NODE] = node.graph_node
                node.attributes[semconv.OTEL_LLM_GRAPH_NAME] = "rag"
        generate.attributes[semconv.OTEL_LLM_RETRY_ATTEMPTS] = call.attempt
        generate.attributes[semconv.OTEL_LLM_RETRY_OUTCOME] = semconv.RETRY_GAVE_UP if failed else semconv.RETRY_SUCCEEDED
        if failed:
            for node in (generate, chat):
                node.status_code, node.status_message = 2, call.status_message
                node.error_type = call.error_type
                node.attributes[semconv.ERROR_TYPE] = call.error_type
        else:
            self._evaluate(chat)
            if self.agent_gen is not None:
                spans += self.agent_gen.agent_step(chat, base, common, (provider, req_model, resp_model, temperature),
                                                   self.agents or "otel_llm")
        if self.peer_spans:
            spans += [self._peer_span(s) for s in spans if s.otel_kind == semconv.KIND_LLM_CALL]
        return spans

    # --- the agent step (generate(agents=...)) ---------------------------------------

    def agent_step(self, chat: SpanRecord, base: dict[str, Any], common: dict[str, Any],
                   model: tuple[str, str, str | None, float], producer: str) -> list[SpanRecord]:
        """Half the turns end with an ``act`` node running the ``planner`` agent; ``chat`` is stretched to hold it.

        The planner asks its model which tools to run, runs each in a retry loop
        (up to the turn's ``max_retries`` retries; a loop that gives up is
        caught, the agent carries on), sometimes hands part of the work to a
        nested ``researcher`` agent (retried the same way when it fails: the
        model calls of a failed try cost money), then asks its model for the
        answer. A failed model call fails its agent; a failed planner fails the
        node and the turn. Now and then the node
        also calls ``get_time`` itself, outside any agent. ``producer`` picks
        whose attributes the tool and agent spans carry (``AGENT_PRODUCERS``);
        the model calls are otel-llm's.
        """
        rng = self.rng
        if rng.random() >= 0.5:
            return []
        act = self._node("act", chat, chat.end_ns + rng.randint(10_000, 200_000), base)
        act.attributes = {semconv.OTEL_LLM_KIND: act.otel_kind, **common, semconv.OTEL_LLM_GRAPH_NODE: "act",
                          semconv.OTEL_LLM_GRAPH_NAME: "rag"}
        spans = [act]
        t = act.start_ns + rng.randint(10_000, 100_000)
        if rng.random() < 0.2:
            tools, t = self._tool_loop("get_time", act, t, base, common, producer)
            spans += tools
        planner, inside, failure = self._agent("planner", act, t, base, common, model, producer, depth=0)
        spans += [planner, *inside]
        act.end_ns = planner.end_ns + rng.randint(10_000, 100_000)
        chat.end_ns = act.end_ns + rng.randint(100_000, 1_000_000)
        if failure is not None:
            for span in (act, chat):
                span.status_code, span.status_message, span.error_type = 2, failure.status_message, failure.error_type
                span.attributes[semconv.ERROR_TYPE] = failure.error_type
        return spans

    def _agent(self, name: str, parent: SpanRecord, start_ns: int, base: dict[str, Any], common: dict[str, Any],
               model: tuple[str, str, str | None, float], producer: str, depth: int
               ) -> tuple[SpanRecord, list[SpanRecord], SpanRecord | None]:
        """One agent invocation: ask, run tools, answer. Returns the agent, the spans inside, a failed call."""
        rng = self.rng
        agent = SpanRecord(
            span_id=self.hex_id(64), parent_span_id=parent.span_id, name=name, span_kind="INTERNAL",
            otel_kind=semconv.KIND_AGENT, start_ns=start_ns, end_ns=0, graph_node="act", agent_name=name, **base,
        )
        agent.name, agent.attributes = _agent_shape(agent, name, common, producer)
        inherited = {**common, semconv.OTEL_LLM_GRAPH_NODE: "act", semconv.OTEL_LLM_GRAPH_NAME: "rag",
                     semconv.GEN_AI_AGENT_NAME: name}
        inside: list[SpanRecord] = []
        t = start_ns + rng.randint(10_000, 100_000)
        failure = None
        last_try: SpanRecord | None = None  # the last try of the last retry loop run here
        for step in ("plan", "answer"):
            call = self._llm_call(agent, t, base, inherited, *model)
            call.graph_node = "act"
            inside.append(call)
            t = call.end_ns + rng.randint(10_000, 100_000)
            if call.status_code == 2:
                failure = call
                break
            if step == "answer":
                break
            for tool in rng.sample(sorted(TOOLS), rng.randint(1, 2)):
                tries, t = self._tool_loop(tool, agent, t, base, inherited, producer)
                inside += tries
                last_try = tries[-1]
            if depth == 0 and rng.random() < 0.3:  # hand part of the work to a researcher, retried when it fails
                for attempt in range(1, base["max_retries"] + 2):
                    nested, nested_inside, nested_failure = self._agent(
                        "researcher", agent, t, base, common, model, producer, depth + 1)
                    if producer == "otel_llm":
                        nested.attempt = nested.attributes[semconv.OTEL_LLM_ATTEMPT] = attempt
                    inside += [nested, *nested_inside]
                    last_try = nested
                    t = nested.end_ns + rng.randint(10_000, 100_000)
                    if nested_failure is None:
                        break
                if nested_failure is not None:
                    failure = nested_failure
                    break
        agent.end_ns = t
        if producer == "otel_llm" and last_try is not None:  # the SDK: the last loop's outcome on its span
            agent.attributes[semconv.OTEL_LLM_RETRY_ATTEMPTS] = last_try.attempt
            agent.attributes[semconv.OTEL_LLM_RETRY_OUTCOME] = (
                semconv.RETRY_GAVE_UP if last_try.status_code == 2 else semconv.RETRY_SUCCEEDED)
        if failure is not None:
            agent.status_code, agent.status_message, agent.error_type = 2, failure.status_message, failure.error_type
            agent.attributes[semconv.ERROR_TYPE] = failure.error_type
        return agent, inside, failure

    def _tool_loop(self, tool: str, parent: SpanRecord, start_ns: int, base: dict[str, Any],
                   common: dict[str, Any], producer: str) -> tuple[list[SpanRecord], int]:
        """One tool call tried up to ``max_retries + 1`` times; returns its tries and the time after them."""
        rng = self.rng
        call_id = f"call_{self.hex_id(64)[:12]}"
        tries: list[SpanRecord] = []
        t = start_ns
        for attempt in range(1, base["max_retries"] + 2):
            duration = int(rng.lognormvariate(0, 0.8) * {"search_web": 400, "run_sql": 120}.get(tool, 15) * 1e6)
            span = SpanRecord(
                span_id=self.hex_id(64), parent_span_id=parent.span_id, name=tool, span_kind="INTERNAL",
                otel_kind=semconv.KIND_TOOL, start_ns=t, end_ns=t + duration, graph_node="act", tool_name=tool,
                **base,
            )
            span.name, span.attributes = _tool_shape(span, tool, call_id, common, producer)
            if producer == "otel_llm":
                span.attempt = span.attributes[semconv.OTEL_LLM_ATTEMPT] = attempt
            tries.append(span)
            t = span.end_ns + rng.randint(1_000_000, 20_000_000)  # backoff
            if rng.random() >= TOOLS.get(tool, 0.0):
                break
            span.status_code, span.error_type = 2, "TimeoutError"
            span.status_message = f"TimeoutError: {tool} timed out"
            span.attributes[semconv.ERROR_TYPE] = "TimeoutError"
        return tries, t

    @staticmethod
    def _peer_span(call: SpanRecord) -> SpanRecord:
        """OpenInference's span of the same call, inside ours: tokens, models, no cost.

        Built without the generator's random numbers, so the rest of the data is
        the same with and without peer spans.
        """
        peer = SpanRecord(
            trace_id=call.trace_id, span_id=call.span_id[::-1], parent_span_id=call.span_id, name="ChatCompletion",
            span_kind="INTERNAL", service_name=call.service_name, project=call.project,
            otel_kind=semconv.KIND_LLM_CALL, start_ns=call.start_ns + 1000, end_ns=call.end_ns - 1000,
            status_code=call.status_code, provider=call.provider, request_model=call.request_model,
            response_model=call.response_model, input_tokens=call.input_tokens, output_tokens=call.output_tokens,
            resource=call.resource, nested=True,
        )
        peer.attributes = {
            "openinference.span.kind": "LLM", "llm.provider": call.provider,
            "llm.invocation_parameters": orjson.dumps({"model": call.request_model}).decode(),
        }
        if call.response_model:
            peer.attributes["llm.model_name"] = call.response_model
        if call.input_tokens is not None:
            peer.attributes["llm.token_count.prompt"] = call.input_tokens
            peer.attributes["llm.token_count.completion"] = call.output_tokens
        return peer

    def _node(self, node: str, parent: SpanRecord, start_ns: int, base: dict[str, Any]) -> SpanRecord:
        return SpanRecord(
            span_id=self.hex_id(64), parent_span_id=parent.span_id, name=node, span_kind="INTERNAL",
            otel_kind=semconv.KIND_GRAPH_NODE, start_ns=start_ns, end_ns=0, graph_node=node, **base,
        )

    def _llm_call(
        self, parent: SpanRecord, start_ns: int, base: dict[str, Any], common: dict[str, Any],
        provider: str, req_model: str, resp_model: str | None, temperature: float,
    ) -> SpanRecord:
        rng = self.rng
        duration_ns = int(rng.lognormvariate(0, 0.6) * 800_000_000)
        call = SpanRecord(
            span_id=self.hex_id(64), parent_span_id=parent.span_id, name=f"chat {req_model}",
            span_kind="CLIENT", otel_kind=semconv.KIND_LLM_CALL, start_ns=start_ns,
            end_ns=start_ns + duration_ns, operation="chat", provider=provider, request_model=req_model, **base,
        )
        attrs: dict[str, Any] = {
            semconv.OTEL_LLM_KIND: call.otel_kind, **common,
            semconv.GEN_AI_OPERATION_NAME: "chat", semconv.GEN_AI_PROVIDER_NAME: provider,
            semconv.GEN_AI_REQUEST_MODEL: req_model, semconv.GEN_AI_REQUEST_TEMPERATURE: temperature,
            semconv.GEN_AI_REQUEST_MAX_TOKENS: 1024,
        }
        call.attributes = attrs
        if rng.random() < self.error_rate:
            etype, template = rng.choice(ERRORS)
            message = template.format(model=req_model, org=self.hex_id(32)[:8], secs=rng.choice((30, 60)),
                                      idx=rng.randint(0, 9))
            call.status_code, call.status_message, call.error_type = 2, f"{etype}: {message}", etype
            attrs[semconv.ERROR_TYPE] = etype
            call.events.append(EventRecord(
                call.trace_id, call.span_id, call.end_ns, "exception",
                {"exception.type": etype, "exception.message": message},
            ))
            return call
        call.response_model = resp_model
        inp = rng.randint(80, 4000)
        out = rng.randint(10, 900)
        call.input_tokens, call.output_tokens = inp, out
        attrs[semconv.GEN_AI_USAGE_INPUT_TOKENS] = inp
        attrs[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] = out
        if provider == "anthropic" and rng.random() < 0.5:
            call.cache_read_tokens = rng.randint(0, inp // 2)
            call.cache_write_tokens = rng.randint(0, (inp - call.cache_read_tokens) // 4)
            attrs[semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = call.cache_read_tokens
            attrs[semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] = call.cache_write_tokens
        if req_model.startswith("o4"):
            call.reasoning_tokens = rng.randint(0, out)
            attrs[semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] = call.reasoning_tokens
        if resp_model:
            attrs[semconv.GEN_AI_RESPONSE_MODEL] = resp_model
        attrs[semconv.GEN_AI_RESPONSE_ID] = f"resp_{self.hex_id(64)}"
        call.finish_reasons = (rng.choice(("stop", "stop", "stop", "length")),)
        attrs[semconv.GEN_AI_RESPONSE_FINISH_REASONS] = list(call.finish_reasons)
        if req_model not in _UNPRICED:
            rates = next(m for m in MODELS if m[1] == req_model)
            cached = (call.cache_read_tokens or 0)
            call.cost_usd = round(((inp - cached) * rates[3] + out * rates[4] + cached * rates[5]) / 1e6, 10)
            attrs[semconv.GEN_AI_USAGE_COST] = call.cost_usd
            attrs[semconv.OTEL_LLM_COST_SOURCE] = "genai-prices@0.2.3"
        if rng.random() < 0.35:  # streamed
            ttft_ns = rng.randint(80, min(2000, max(81, duration_ns // 1_000_000))) * 1_000_000
            ttft_ns = min(ttft_ns, duration_ns)
            call.stream_ttft_ms = ttft_ns / 1e6
            call.events.append(EventRecord(call.trace_id, call.span_id, start_ns + ttft_ns,
                                           semconv.EVENT_LLM_FIRST_TOKEN, {}))
            attrs[semconv.OTEL_LLM_STREAM_COMPLETE] = True
            attrs[semconv.OTEL_LLM_STREAM_CHUNKS] = rng.randint(5, 300)
        return call

    def _evaluate(self, chat: SpanRecord) -> None:
        rng = self.rng
        if rng.random() >= 0.5:
            return
        name = rng.choice(EVAL_NAMES)
        score = round(rng.random(), 3)
        label = "pass" if score >= 0.7 else "warning" if score >= 0.4 else "fail"
        chat.events.append(EventRecord(
            chat.trace_id, chat.span_id, chat.end_ns, semconv.EVENT_EVALUATION_RESULT,
            {semconv.GEN_AI_EVALUATION_NAME: name, semconv.GEN_AI_EVALUATION_SCORE_VALUE: score,
             semconv.GEN_AI_EVALUATION_SCORE_LABEL: label},
            eval_name=name, eval_score=score, eval_label=label,
        ))


def _agent_shape(agent: SpanRecord, name: str, common: dict[str, Any], producer: str
                 ) -> tuple[str, dict[str, Any]]:
    """An agent span's name and attributes as ``producer`` writes them."""
    if producer == "openinference":
        return name, {"openinference.span.kind": "AGENT"}  # as OITracer.agent writes it: the name is the span's
    if producer == "openllmetry":
        return f"{name}.agent", {"traceloop.span.kind": "agent", "traceloop.entity.name": name}
    return f"invoke_agent {name}", {
        semconv.OTEL_LLM_KIND: semconv.KIND_AGENT, **common, semconv.GEN_AI_OPERATION_NAME: "invoke_agent",
        semconv.GEN_AI_AGENT_NAME: name, semconv.OTEL_LLM_GRAPH_NODE: "act", semconv.OTEL_LLM_GRAPH_NAME: "rag",
    }


def _tool_shape(span: SpanRecord, tool: str, call_id: str, common: dict[str, Any], producer: str
                ) -> tuple[str, dict[str, Any]]:
    """A tool span's name and attributes as ``producer`` writes them (``common`` holds the inherited ones)."""
    if producer == "openinference":
        return tool, {"openinference.span.kind": "TOOL", "tool.name": tool}
    if producer == "openllmetry":
        return f"{tool}.tool", {"traceloop.span.kind": "tool", "traceloop.entity.name": tool}
    return f"execute_tool {tool}", {
        semconv.OTEL_LLM_KIND: semconv.KIND_TOOL, **common, semconv.GEN_AI_OPERATION_NAME: "execute_tool",
        semconv.GEN_AI_TOOL_NAME: tool, semconv.GEN_AI_TOOL_CALL_ID: call_id, semconv.GEN_AI_TOOL_TYPE: "function",
        semconv.OTEL_LLM_GRAPH_NODE: "act", semconv.OTEL_LLM_GRAPH_NAME: "rag",
    }


def _naive_utc(ns: int) -> datetime:
    return datetime(1970, 1, 1) + timedelta(microseconds=ns // 1000)


def _ns(dt: datetime) -> int:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    delta = dt - datetime(1970, 1, 1, tzinfo=timezone.utc)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000


def _trace_starts(rng: random.Random, traces: int, end: datetime, days: int,
                  spikes: Mapping[int, float]) -> list[int]:
    """Start times spread over ``days`` days before ``end``; day index i gets weight spikes.get(i, 1)."""
    weights = [spikes.get(d, 1.0) for d in range(days)]
    first_day = _ns(end) - days * 86_400 * 10**9
    day_picks = rng.choices(range(days), weights=weights, k=traces)
    return sorted(first_day + d * 86_400 * 10**9 + rng.randrange(86_400 * 10**9) for d in day_picks)


def _logs_for(trace: list[SpanRecord], rng: random.Random) -> list[LogRecord]:
    chat = trace[0]
    out = [LogRecord(chat.start_ns + 1000, 9, "INFO",
                     f"turn started for user {chat.user_id} in conversation {chat.conversation_id}",
                     chat.trace_id, chat.span_id, chat.service_name, {"code.function": "answer_question"})]
    for span in trace:
        if span.otel_kind == semconv.KIND_LLM_CALL and span.status_code == 2 and not span.nested:
            out.append(LogRecord(span.end_ns, 17, "ERROR", f"LLM call failed: {span.status_message}",
                                 span.trace_id, span.span_id, span.service_name,
                                 {"error.type": span.error_type or ""}))
    if rng.random() < 0.05:
        out.append(LogRecord(chat.end_ns, 13, "WARN", f"slow turn: {int(chat.duration_ms)} ms",
                             chat.trace_id, chat.span_id, chat.service_name, {}))
    return out


def _logs_request(logs: Sequence[LogRecord], resources: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    by_service: dict[str, list[LogRecord]] = defaultdict(list)
    for rec in logs:
        by_service[rec.service_name].append(rec)
    return {"resourceLogs": [
        {"resource": {"attributes": key_values(resources[svc])},
         "scopeLogs": [{"scope": {"name": SCOPE_NAME}, "logRecords": [
             {"timeUnixNano": str(r.time_ns), "observedTimeUnixNano": str(r.time_ns + 5000),
              "severityNumber": r.severity_number, "severityText": r.severity_text,
              "body": {"stringValue": r.body}, "attributes": key_values(r.attributes),
              **({"traceId": r.trace_id, "spanId": r.span_id} if r.trace_id else {})}
             for r in group]}]}
        for svc, group in by_service.items()
    ]}


class _MetricState:
    """Cumulative SDK-style instruments per (service, model), kept as running totals: collected at each export."""

    def __init__(self, start_ns: int) -> None:
        self.start_ns = start_ns
        self.bounds = tuple(float(b) for b in semconv.DURATION_BUCKETS)
        self.cost: dict[tuple[str, str], float] = defaultdict(float)
        self.buckets: dict[tuple[str, str], list[int]] = {}
        self.sums: dict[tuple[str, str], float] = defaultdict(int)
        self.least: dict[tuple[str, str], float] = {}
        self.most: dict[tuple[str, str], float] = {}

    def observe(self, span: SpanRecord) -> None:
        if span.otel_kind != semconv.KIND_LLM_CALL or span.nested:
            return
        key = (span.service_name, span.request_model or "")
        value = span.duration_ms / 1000
        counts = self.buckets.setdefault(key, [0] * (len(self.bounds) + 1))
        counts[sum(1 for b in self.bounds if value > b)] += 1
        self.sums[key] += value
        self.least[key] = min(self.least.get(key, value), value)
        self.most[key] = max(self.most.get(key, value), value)
        if span.cost_usd is not None:
            self.cost[key] += span.cost_usd

    def collect(self, time_ns: int) -> list[MetricPointRecord]:
        points: list[MetricPointRecord] = []
        for (service, model), counts in sorted(self.buckets.items()):
            key = (service, model)
            attrs = {semconv.GEN_AI_REQUEST_MODEL: model, semconv.GEN_AI_OPERATION_NAME: "chat"}
            points.append(MetricPointRecord(
                semconv.METRIC_OPERATION_DURATION, "histogram", "s", service, self.start_ns, time_ns, attrs,
                count=sum(counts), sum=self.sums[key], min=self.least[key], max=self.most[key],
                bucket_counts=tuple(counts), bounds=self.bounds))
            if key in self.cost:
                points.append(MetricPointRecord(
                    semconv.METRIC_COST, "sum", "USD", service, self.start_ns, time_ns, dict(attrs),
                    value=self.cost[key]))
        return points


def _metrics_request(points: Sequence[MetricPointRecord], resources: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    by_service: dict[str, dict[str, list[MetricPointRecord]]] = defaultdict(lambda: defaultdict(list))
    for p in points:
        by_service[p.service_name][p.name].append(p)

    def metric(name: str, group: list[MetricPointRecord]) -> dict[str, Any]:
        first = group[0]
        out: dict[str, Any] = {"name": name, "unit": first.unit, "description": ""}
        if first.type == "histogram":
            out["histogram"] = {"aggregationTemporality": 2, "dataPoints": [
                {"startTimeUnixNano": str(p.start_ns), "timeUnixNano": str(p.time_ns),
                 "attributes": key_values(p.attributes), "count": str(p.count), "sum": p.sum,
                 "bucketCounts": [str(c) for c in p.bucket_counts], "explicitBounds": list(p.bounds),
                 "min": p.min, "max": p.max} for p in group]}
        else:
            out["sum"] = {"aggregationTemporality": 2, "isMonotonic": True, "dataPoints": [
                {"startTimeUnixNano": str(p.start_ns), "timeUnixNano": str(p.time_ns),
                 "attributes": key_values(p.attributes), "asDouble": p.value} for p in group]}
        return out

    return {"resourceMetrics": [
        {"resource": {"attributes": key_values(resources[svc])},
         "scopeMetrics": [{"scope": {"name": SCOPE_NAME, "version": SCOPE_VERSION},
                           "metrics": [metric(n, g) for n, g in by_name.items()]}]}
        for svc, by_name in by_service.items()
    ]}


class _LineWriter:
    """Appends one JSON line per request; rotates like the collector every ``rotate_lines`` lines."""

    def __init__(self, out_dir: Path, signal: str, rotate_lines: int | None) -> None:
        self.out_dir, self.signal, self.rotate_lines = out_dir, signal, rotate_lines
        self.path = out_dir / f"{signal}.jsonl"
        self.fh = self.path.open("wb")
        self.lines = 0
        self.total = 0
        self.files: list[Path] = []

    def write(self, request: dict[str, Any], stamp_ns: int) -> None:
        self.fh.write(orjson.dumps(request) + b"\n")
        self.lines += 1
        self.total += 1
        if self.rotate_lines and self.lines >= self.rotate_lines:
            self.fh.close()
            stamp = _naive_utc(stamp_ns).strftime("%Y-%m-%dT%H-%M-%S.%f")[:-3]
            backup = self.out_dir / f"{self.signal}-{stamp}-size.jsonl"  # the collector's size-rotation name
            self.path.rename(backup)
            self.files.append(backup)
            self.fh = self.path.open("wb")
            self.lines = 0

    def close(self) -> list[Path]:
        self.fh.close()
        return [*self.files, self.path]


def generate(
    out_dir: str | Path,
    *,
    seed: int = 0,
    traces: int = 200,
    days: int = 60,
    end: datetime = datetime(2026, 11, 20),
    spans_per_line: int = 64,
    error_rate: float = 0.08,
    spikes: Mapping[int, float] | None = None,
    rotate_lines: int | None = None,
    keep_records: bool = True,
    peer_spans: bool = False,
    agents: str | None = None,
    metrics_every_s: int | None = None,
) -> SyntheticData:
    """Write ``traces.jsonl``, ``metrics.jsonl`` and ``logs.jsonl`` under ``out_dir``.

    ``traces`` chat turns (5+ spans each) start over the ``days`` days before
    ``end`` (naive UTC); ``spikes`` maps a day index (0 = first day) to a traffic
    multiplier, for planting anomalies. ``rotate_lines`` rotates each file like
    the collector (``traces-<timestamp>-size.jsonl``). The same arguments always write
    the same bytes. ``keep_records=False`` returns counts only (benchmark scale).
    ``peer_spans`` adds, inside every LLM call, the span a peer instrumentor
    (OpenInference) writes for the same call (``SpanRecord.nested``); everything
    else is unchanged, so every call figure must come out the same.
    ``agents`` (one of ``AGENT_PRODUCERS``) ends half the turns with an agent
    step (``_Gen.agent_step``: agents, tools, retried tool calls) whose tool
    and agent spans carry that producer's attributes; it draws from its own
    random generator, so every other span is the same as without it.
    ``metrics_every_s`` exports the metric points every that many seconds of the
    data's time, from the first trace's period to the last call's end, as an SDK's
    reader does (60: its default), each call counted by the first export after it
    ended; without it they are collected at the end of each day that holds traces,
    counting the calls of the traces begun by then.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    gen = _Gen(rng, error_rate, peer_spans, agents, random.Random(f"agents-{seed}"))
    starts = _trace_starts(rng, traces, end, days, spikes or {})
    writers = {s: _LineWriter(out, s, rotate_lines) for s in ("traces", "metrics", "logs")}
    data = SyntheticData(files=[], spans=[], metric_points=[], logs=[])
    metrics = _MetricState(starts[0] if starts else _ns(end))
    pending: list[SpanRecord] = []
    pending_logs: list[LogRecord] = []
    period_ns = (metrics_every_s or 86_400) * 10**9
    current = starts[0] // period_ns if starts else 0

    def flush_spans(final: bool) -> None:
        while len(pending) >= spans_per_line or (final and pending):
            chunk = pending[:spans_per_line]
            del pending[:spans_per_line]
            writers["traces"].write(spans_request(chunk), chunk[-1].end_ns)
            data.line_count += 1
        if pending_logs and (final or len(pending_logs) >= spans_per_line):
            writers["logs"].write(_logs_request(pending_logs, gen.resources), pending_logs[-1].time_ns)
            pending_logs.clear()

    ending: list[tuple[int, int, SpanRecord]] = []  # interval exports: spans by their end, not yet counted
    order = itertools.count()

    def collect(period: int) -> None:
        while ending and ending[0][0] <= (period + 1) * period_ns - 1:
            metrics.observe(heapq.heappop(ending)[2])
        points = metrics.collect((period + 1) * period_ns - 1)
        if points:
            writers["metrics"].write(_metrics_request(points, gen.resources), (period + 1) * period_ns - 1)
            if keep_records:
                data.metric_points.extend(points)

    for start_ns in starts:
        if start_ns // period_ns != current:
            for period in range(current, start_ns // period_ns) if metrics_every_s else (current,):
                collect(period)
            current = start_ns // period_ns
        trace = gen.trace(start_ns)
        # the collector writes spans as they end: children before parents
        trace.sort(key=lambda s: s.end_ns)
        pending.extend(trace)
        logs = _logs_for(trace, rng)
        pending_logs.extend(logs)
        for span in trace:
            if metrics_every_s:
                heapq.heappush(ending, (span.end_ns, next(order), span))
            else:
                metrics.observe(span)
        data.span_count += len(trace)
        if keep_records:
            data.spans.extend(trace)
            data.logs.extend(logs)
        flush_spans(final=False)
    flush_spans(final=True)
    if starts:
        collect(current)
        while ending:  # the exports after the last trace began, until its last call has ended and been counted
            current += 1
            collect(current)
    for writer in writers.values():
        data.files.extend(writer.close())
    return data


def iter_lines(paths: Iterable[Path]) -> Iterator[bytes]:
    """Every line of ``paths`` (helper for parse-only baselines)."""
    for path in paths:
        with open(path, "rb") as fh:
            yield from fh
