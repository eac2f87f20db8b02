"""The kinds: what ``chat``, ``graph_node``, ``vector_op``, ``llm_call``, ``tool`` and ``agent`` add.

Why here and not in ``_core``: each kind is a name, a span kind, a static
attribute set and a few hooks; the lifecycle itself is shared. A kind object is
built once per decorated function, so everything static (span name, attribute
dicts, metric attribute sets) is computed at decoration time, not per call.

What a kind does on the caller's thread is what its span needs; its metric
points are a small tuple (``metric_values``) recorded later, off that thread
(``record_metrics``, see ``_metrics``).
"""

from __future__ import annotations

import functools
import inspect
from operator import attrgetter
from collections.abc import Callable, Mapping
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from opentelemetry.util.types import AttributeValue

from otel_llm import _rollup, _runtime, _toolcalls, semconv
from otel_llm.context import in_thread
from otel_llm._completion import completion_text
from otel_llm._content import StreamedText, as_text, class_name, encodable, type_name, utf8_safe
from otel_llm._core import ENCLOSING_NODE_KEY, USAGE_SINK_KEY, Call, ChunkObserver, Kind, without
from otel_llm._guard import internal_error
from otel_llm._metrics import (
    NO_EXEMPLAR, AttributeSet, ExemplarIds, Instruments, attribute_set, exemplar_context, exemplar_ids,
    point_attributes,
)
from otel_llm._names import MAX_NAME_CHARS, bounded_name, bounded_value, finish_reasons, model_name, tool_call_ids
from otel_llm._rollup import RollUp
from otel_llm._stream_usage import StreamUsage, reader_for
from otel_llm._usage import Usage, _get, read_response
from otel_llm._wrap import callable_name

__all__ = [
    "AgentKind",
    "ChatKind",
    "GraphNodeKind",
    "LLMCallKind",
    "REQUEST_PARAMS",
    "ToolKind",
    "VectorOpKind",
]

# llm_call(**params) keyword -> request attribute.
REQUEST_PARAMS: Mapping[str, str] = {
    "temperature": semconv.GEN_AI_REQUEST_TEMPERATURE,
    "max_tokens": semconv.GEN_AI_REQUEST_MAX_TOKENS,
    "top_p": semconv.GEN_AI_REQUEST_TOP_P,
    "top_k": semconv.GEN_AI_REQUEST_TOP_K,
    "stop_sequences": semconv.GEN_AI_REQUEST_STOP_SEQUENCES,
    "frequency_penalty": semconv.GEN_AI_REQUEST_FREQUENCY_PENALTY,
    "presence_penalty": semconv.GEN_AI_REQUEST_PRESENCE_PENALTY,
    "seed": semconv.GEN_AI_REQUEST_SEED,
}

_USER, _ASSISTANT = "user", "assistant"
_SELF_NAMES = ("self", "cls")


def _without_none(attrs: Mapping[str, Any]) -> dict[str, AttributeValue]:
    return {k: v for k, v in attrs.items() if v is not None}


def _static_attributes(
    kind: str, identity: Mapping[str, Any], extra: Mapping[str, Any] | None = None
) -> tuple[dict[str, AttributeValue], dict[str, AttributeValue]]:
    """(span attributes, metric attributes) of a decorated function, built once.

    ``identity`` (what the operation is: names, provider, model) goes on both;
    ``extra`` (request settings) only on the span, keeping metrics low-cardinality.
    The decorator's text is app text: :func:`encodable` (OTLP must be able to encode it).
    """
    metric = {k: encodable(v) for k, v in _without_none(identity).items()}
    extra_values = {k: encodable(v) for k, v in _without_none(extra or {}).items()}
    return {semconv.OTEL_LLM_KIND: kind, **metric, **extra_values}, metric


def _inherited(
    parent: otel_context.Context, own: Mapping[str, AttributeValue], identity: frozenset[str] = frozenset()
) -> Mapping[str, AttributeValue]:
    """What spans inside a graph node or agent inherit: the enclosing node's attributes less
    ``identity`` (the keys that say which node or agent it is), ``own`` winning."""
    outer = parent.get(ENCLOSING_NODE_KEY)  # a Context is a read-only dict
    return {**without(outer, identity), **own} if outer else own  # type: ignore[arg-type]


def _message_event(call: Call, role: str, text: str | StreamedText) -> None:
    """A ``chat.message`` event: role and length always, the text (or a streamed reply's) only if captured."""
    content = call.runtime.content
    if isinstance(text, StreamedText):
        length, captured = text.total, content.streamed_text(text)
    else:
        length, captured = str.__len__(text), content.text(text)  # the text's own length: a subclass's len() may raise
    attrs: dict[str, AttributeValue] = {semconv.EVENT_ATTR_ROLE: role, semconv.EVENT_ATTR_LENGTH: length}
    if captured is not None:
        attrs[semconv.EVENT_ATTR_CONTENT] = captured
    call.span.add_event(semconv.EVENT_CHAT_MESSAGE, attrs)


class _Binder:
    """Names the arguments of a call by the function's signature, computed once per decoration."""

    __slots__ = ("signature",)

    def __init__(self, fn: Callable[..., Any]) -> None:
        try:
            self.signature: inspect.Signature | None = inspect.signature(fn)
        except (TypeError, ValueError):  # builtins and some C callables have none
            self.signature = None

    @property
    def parameters(self) -> Mapping[str, inspect.Parameter]:
        return self.signature.parameters if self.signature is not None else {}

    def bind(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Mapping[str, Any]:
        """``{parameter: value}`` of this call; keyword arguments only when there is no signature."""
        if self.signature is None:
            return kwargs
        try:
            return self.signature.bind_partial(*args, **kwargs).arguments
        except TypeError:  # the user's call is wrong: let the function itself say so
            return {}


class _ChatState:
    """Per-call state of a chat turn: its roll-up and the text chunks it streamed (bounded)."""

    __slots__ = ("rollup", "reply")

    def __init__(self, rollup: RollUp, reply: StreamedText) -> None:
        self.rollup = rollup
        self.reply = reply

    def add_reply_piece(self, chunk: Any) -> None:
        """Per streamed item: text pieces make up the assistant's message."""
        if isinstance(chunk, str):
            self.reply.add(chunk)


class ChatKind(Kind):
    """One span per chat turn: conversation id, messages, the turn's roll-up."""

    kind = semconv.KIND_CHAT

    def __init__(self, fn: Callable[..., Any], thread_id_arg: str | None) -> None:
        self.span_name = f"chat_turn {callable_name(fn)}"
        self.attributes, _ = _static_attributes(self.kind, {})
        self._binder = _Binder(fn)
        # Default: a parameter literally named ``thread_id``, if the function has one.
        if thread_id_arg is None and "thread_id" in self._binder.parameters:
            thread_id_arg = "thread_id"
        self._thread_id_arg = thread_id_arg

    def call_attributes(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Mapping[str, AttributeValue] | None:
        if self._thread_id_arg is None:
            return None
        thread_id = self._binder.bind(args, kwargs).get(self._thread_id_arg)
        if thread_id is None:
            return None
        limit = _runtime.current().value_chars  # bounded as a session's (the calls inside inherit it)
        return {semconv.GEN_AI_CONVERSATION_ID: bounded_value(as_text(thread_id), "conversation id", limit)}

    def enter(self, call: Call, parent: otel_context.Context) -> Mapping[str, object]:
        rollup, values = _rollup.opened(parent)
        call.extra = _ChatState(rollup, call.runtime.content.streamed())
        return values

    def call_context(self, attributes: Mapping[str, AttributeValue], parent: otel_context.Context) -> Mapping[str, object]:
        # The turn's conversation goes to everything it calls, as session(thread_id=) would send it:
        # `summary --by conversation` groups the calls, not the turns.
        thread_id = attributes.get(semconv.GEN_AI_CONVERSATION_ID)
        return in_thread(parent, str(thread_id)) if thread_id is not None else {}

    def on_start(self, call: Call, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        # The user's message: the first string argument that is not the thread id.
        for name, value in self._binder.bind(args, kwargs).items():
            if isinstance(value, str) and name != self._thread_id_arg:
                _message_event(call, _USER, value)
                return

    def on_result(self, call: Call, value: Any) -> None:
        if isinstance(value, str):
            _message_event(call, _ASSISTANT, value)

    def on_first_chunk(self, call: Call, item: Any) -> ChunkObserver:
        return call.extra.add_reply_piece

    def on_end(self, call: Call) -> None:
        state: _ChatState = call.extra
        if state.reply:  # a streamed answer: one message event for the whole reply
            _message_event(call, _ASSISTANT, state.reply)
        call.span.set_attributes(state.rollup.close(_rollup.TURN))


class GraphNodeKind(Kind):
    """A node of an agent/RAG graph: node and graph names, state updates, duration."""

    kind = semconv.KIND_GRAPH_NODE

    def __init__(self, node: str, graph: str | None) -> None:
        node, graph = _bounded(node, "graph node name"), _bounded(graph, "graph name")  # span name, inherited
        self.span_name = node
        self.attributes, self._metric_attributes = _static_attributes(
            self.kind, {semconv.OTEL_LLM_GRAPH_NODE: node, semconv.OTEL_LLM_GRAPH_NAME: graph}
        )
        self._metric_set = attribute_set(self._metric_attributes)
        self._inherited = _without_none({semconv.OTEL_LLM_GRAPH_NODE: node, semconv.OTEL_LLM_GRAPH_NAME: graph})

    def enter(self, call: Call, parent: otel_context.Context) -> Mapping[str, object]:
        # Spans started inside this node (its LLM calls, vector ops) carry its name;
        # a nested node without a graph name of its own stays in its parent's graph.
        return {ENCLOSING_NODE_KEY: _inherited(parent, self._inherited)}

    def on_result(self, call: Call, value: Any) -> None:
        if isinstance(value, Mapping):
            keys = sorted(as_text(k) for k in value)
            call.span.add_event(semconv.EVENT_GRAPH_STATE_UPDATE, {semconv.EVENT_ATTR_STATE_KEYS: keys})

    def metric_values(self, call: Call) -> tuple[int, float, str | None, AttributeSet, ExemplarIds]:
        return self.metric_recorder, call.duration(), call.error_type, self._metric_set, call.exemplar()

    @staticmethod
    def record_metrics(
        values: tuple[int, float, str | None, AttributeSet, ExemplarIds], instruments: Instruments
    ) -> None:
        _, duration, error, attributes, exemplar = values
        instruments.graph_node_duration.record(duration, point_attributes(attributes, error), exemplar_context(exemplar))


def _returned_rows(value: Any) -> int | None:
    """The rows a vector store operation returned: the length of a list (any sized result); of a
    mapping, the length of its ``ids`` (Chroma's ``QueryResult`` holds one list per query text, its
    ``GetResult`` one list) — never its number of keys; ``None`` when that cannot be told."""
    if isinstance(value, Mapping):
        ids = value.get("ids")
        if not isinstance(ids, (list, tuple)):
            return None
        if ids and all(isinstance(per_query, (list, tuple)) for per_query in ids):
            return sum(len(per_query) for per_query in ids)
        return len(ids)
    if not hasattr(type(value), "__len__"):
        return None
    try:
        return len(value)
    except Exception:  # noqa: BLE001 — the app's result raised in its own __len__: no count, not our fault
        return None


class VectorOpKind(Kind):
    """A vector store operation: db.* names, top_k, returned rows, a counter."""

    kind = semconv.KIND_VECTOR_OP
    span_kind = SpanKind.CLIENT

    def __init__(self, op: str, collection: str | None, db_system: str | None, top_k: int | None) -> None:
        op, collection = _bounded(op, "vector operation"), _bounded(collection, "collection name")  # span name
        self.span_name = f"{op} {collection}" if collection else op
        self.attributes, self._metric_attributes = _static_attributes(
            self.kind,
            {semconv.DB_SYSTEM_NAME: db_system, semconv.DB_OPERATION_NAME: op, semconv.DB_COLLECTION_NAME: collection},
            {semconv.GEN_AI_REQUEST_TOP_K: top_k},
        )
        self._metric_set = attribute_set(self._metric_attributes)

    def on_result(self, call: Call, value: Any) -> None:
        rows = _returned_rows(value)
        if rows is not None:
            call.span.set_attribute(semconv.DB_RESPONSE_RETURNED_ROWS, rows)

    def metric_values(self, call: Call) -> tuple[int, str | None, AttributeSet]:
        return self.metric_recorder, call.error_type, self._metric_set

    @staticmethod
    def record_metrics(values: tuple[int, str | None, AttributeSet], instruments: Instruments) -> None:
        _, error, attributes = values
        instruments.add(instruments.vector_operations, 1, attributes, error)


# What ``_set_usage`` reads of a Usage in one C-level call, and the span attribute each is
# when known: the five token counts, the response model and id.
_USAGE_FIELDS = attrgetter(
    "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "reasoning_tokens",
    "response_model", "response_id",
)
_INPUT, _OUTPUT, _CACHE_READ, _CACHE_WRITE, _REASONING, _RESPONSE_MODEL, _RESPONSE_ID = (
    semconv.GEN_AI_USAGE_INPUT_TOKENS, semconv.GEN_AI_USAGE_OUTPUT_TOKENS, semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
    semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS, semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
    semconv.GEN_AI_RESPONSE_MODEL, semconv.GEN_AI_RESPONSE_ID,
)

# What an llm_call's metric points need, taken as it ends: (its recorder, duration,
# first_chunk_s, error_type, input_tokens, output_tokens, total_tokens (only when there is no
# split), cost, exemplar, and the call's point sets: the kind's :data:`_PointSets` tuple itself).
# Built on the caller's thread for every call: one tuple of ten, the sets passed as they are, not spread.
_PointSets = tuple[AttributeSet, AttributeSet, AttributeSet, AttributeSet]
_LLMPoints = tuple[
    int, float, "float | None", "str | None", "int | None", "int | None", "int | None", "float | None", ExemplarIds,
    _PointSets,
]


# The argument names a model is asked for by: OpenAI, Anthropic, Gemini, Mistral, Cohere,
# Ollama, litellm (``model``); boto3's Bedrock Runtime (``modelId``).
_MODEL_ARGUMENTS = ("model", "modelId")
# Per bare llm_call, the models whose metric attribute sets are kept; later ones share the
# call site's sets (the span still names them): a model name from user input cannot grow memory.
_MAX_MODELS_PER_CALL_SITE = 64
# Per tool dispatcher, the tool names (chosen by the model) whose metric attribute sets are kept;
# later ones count under the dispatcher's own name (the span still names them): a model making
# names up cannot grow memory or metric series.
_MAX_TOOL_NAMES = 64
# Per method agent named after its instances, the names given a kind of their own (``AgentKind.select``).
_MAX_AGENT_NAMES = 64


def _fixed_model(fn: Any) -> str | None:
    """The model a ``functools.partial`` fixes (``partial(client.converse, modelId=...)``), if any."""
    while isinstance(fn, functools.partial):
        for name in _MODEL_ARGUMENTS:
            value = fn.keywords.get(name)
            if isinstance(value, str) and value:
                return value
        fn = fn.func
    return None


class _ModelArguments:
    """Where a bare llm_call's function is given its model: a keyword ``model=`` / ``modelId=``
    (a client method such as boto3's ``converse(**kwargs)``), or a parameter of that name."""

    __slots__ = ("binder", "positional")

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.binder = _Binder(fn)
        # Whether the model may come by position: the signature names such a parameter.
        self.positional = any(name in self.binder.parameters for name in _MODEL_ARGUMENTS)

    def read(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str | None:
        """The model this call asks for (a non-empty string), else ``None``."""
        for name in _MODEL_ARGUMENTS:
            value = kwargs.get(name)
            if value is not None:
                return model_name(value) if isinstance(value, str) and value else None
        if args and self.positional:
            bound = self.binder.bind(args, kwargs)
            for name in _MODEL_ARGUMENTS:
                value = bound.get(name)
                if isinstance(value, str) and value:
                    return model_name(value)
        return None


class _LLMState:
    """Per-call state of an llm_call: the enclosing roll-up, cost, stream reader and captured completion."""

    __slots__ = ("rollup", "counted", "cost", "stream", "response_text", "parts", "request_model", "point_sets")

    def __init__(self, rollup: RollUp | None, counted: bool) -> None:
        self.rollup = rollup
        self.counted = counted  # counted in the roll-up as it started: it ends there too
        self.request_model: str | None = None  # a bare llm_call's model, read from the call's arguments
        self.point_sets: _PointSets | None = None  # with that model
        self.cost: float | None = None  # USD, when priced (the span's gen_ai.usage.cost)
        self.stream: StreamUsage | None = None  # where a returned stream's usage is read
        self.response_text: str | None = None
        self.parts: StreamedText | None = None  # streamed completion text, kept (bounded) only with capture on


class LLMCallKind(Kind):
    """One model call: gen_ai.* request/response, usage, cost, metrics.

    Events: ``llm.first_token`` on streams (its time is the TTFT the analysis
    reads); ``llm.request`` / ``llm.response`` only with content capture on,
    when they carry the prompt and the completion: the rest such events could
    say (model, finish reasons, error type) is on the span already.
    """

    kind = semconv.KIND_LLM_CALL
    span_kind = SpanKind.CLIENT
    attempts = True

    def __init__(
        self,
        fn: Callable[..., Any],
        model: str | None,
        provider: str | None,
        operation: str,
        params: Mapping[str, Any],
    ) -> None:
        # The app's names, in the span name and the pricing key: :func:`utf8_safe`, the model bounded.
        model, provider = encodable(model or _fixed_model(fn)), encodable(provider)
        if isinstance(model, str):
            model = model_name(model)
        operation = utf8_safe(operation)
        self.model = model
        self.provider = provider
        self.operation = operation
        self.span_name = f"{operation} {model}" if model else operation
        self.attributes, self._metric_attributes = _static_attributes(
            self.kind,
            {
                semconv.GEN_AI_OPERATION_NAME: operation,
                semconv.GEN_AI_PROVIDER_NAME: provider,
                semconv.GEN_AI_REQUEST_MODEL: model,
            },
            {REQUEST_PARAMS[k]: v for k, v in params.items()},
        )
        self._sets = self._point_sets(self._metric_attributes)
        self._request_event = _without_none({semconv.GEN_AI_REQUEST_MODEL: model})
        # Without a model of its own, each call's model is read from its arguments (see ``_requested``).
        self._model_args = _ModelArguments(fn) if model is None else None
        self._sets_by_model: dict[str, _PointSets] = {}

    @staticmethod
    def _point_sets(metric_attributes: Mapping[str, AttributeValue]) -> _PointSets:
        """The attribute sets of a call's points, of its input tokens', output tokens' and lone total's."""
        return (
            attribute_set(metric_attributes),
            *(
                attribute_set({**metric_attributes, semconv.GEN_AI_TOKEN_TYPE: token_type})
                for token_type in (semconv.TOKEN_TYPE_INPUT, semconv.TOKEN_TYPE_OUTPUT, semconv.TOKEN_TYPE_TOTAL)
            ),
        )  # type: ignore[return-value]

    def _requested(self, call: Call, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        """A bare llm_call: the model this call asked for, from its arguments, on the span, its
        pricing and its metric points (as a decorator's ``model=`` would be)."""
        model = self._model_args.read(args, kwargs)  # type: ignore[union-attr]
        if model is None:
            return
        state: _LLMState = call.extra
        state.request_model = model
        call.span.update_name(f"{self.operation} {model}")
        call.span.set_attribute(semconv.GEN_AI_REQUEST_MODEL, model)
        sets = self._sets_by_model.get(model)
        if sets is None and len(self._sets_by_model) < _MAX_MODELS_PER_CALL_SITE:
            sets = self._sets_by_model[model] = self._point_sets(
                {**self._metric_attributes, semconv.GEN_AI_REQUEST_MODEL: model}
            )
        state.point_sets = sets

    def enter(self, call: Call, parent: otel_context.Context) -> Mapping[str, object]:
        outer = parent.get(USAGE_SINK_KEY)  # type: ignore[arg-type]  # a Context is a dict
        rollup = parent.get(_rollup.ROLLUP_KEY)
        # Counted as it starts (tokens and cost as it ends): a call the agent or turn started is
        # one it made, even when it ends after it (an async generator left by ``break``).
        counted = rollup is not None
        if outer is not None and outer.span is trace.get_current_span(parent) and outer.wrapped():
            # Directly inside another llm_call (a retrying or logging wrapper): this is the model
            # call, counted once, as the analysis counts it; the outer one's count stands for it.
            counted = False
        if counted:
            rollup.add_llm_call()  # type: ignore[union-attr]
            _rollup.late(rollup, call.span)
        call.sink.span = call.span
        call.extra = _LLMState(rollup, counted)  # type: ignore[arg-type]
        return {USAGE_SINK_KEY: call.sink}

    def on_start(self, call: Call, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        if self._model_args is not None:
            self._requested(call, args, kwargs)
        content = call.runtime.content
        if not content.capture:
            return
        prompt = args[0] if len(args) == 1 and not kwargs else {"args": list(args), **kwargs}
        captured = content.text(prompt)
        if captured is not None:
            request_model = call.extra.request_model
            event = self._request_event if request_model is None else {semconv.GEN_AI_REQUEST_MODEL: request_model}
            call.span.add_event(semconv.EVENT_LLM_REQUEST, {**event, semconv.EVENT_ATTR_CONTENT: captured})

    def on_result(self, call: Call, value: Any) -> None:
        usage, tool_calls = read_response(value)
        call.sink.result = usage  # folded in as the call ends (one lock for both)
        if tool_calls is None or tool_calls:  # [] : the response's choices asked for none
            _remember_tool_calls(call, value, tool_calls)
        if call.runtime.content.capture:
            text = completion_text(value)
            call.extra.response_text = call.runtime.content.text(value if text is None else text)

    def on_error(self, call: Call, exc: BaseException) -> None:
        # An answer that was billed and then refused by the client (openai's
        # LengthFinishReasonError: cut at max_tokens) carries it as ``completion``: its usage.
        completion = _get(exc, "completion")  # the app's exception may raise in its own property
        if completion is not None and call.sink.result is None:
            call.sink.result = read_response(completion)[0]

    def on_first_chunk(self, call: Call, item: Any) -> ChunkObserver:
        call.span.add_event(semconv.EVENT_LLM_FIRST_TOKEN)
        state: _LLMState = call.extra
        reader = state.stream = reader_for(item)
        if not call.runtime.content.capture:
            return reader
        parts = state.parts = call.runtime.content.streamed()

        def read_and_capture(chunk: Any) -> None:
            reader(chunk)
            piece = completion_text(chunk)
            if piece:
                parts.add(piece)

        return read_and_capture

    def on_end(self, call: Call) -> None:
        state: _LLMState = call.extra
        if state.stream is not None:
            found = state.stream.result()
            if not call.complete:
                found = state.stream.cut_short(found)
            if found is not None:
                call.add_result_usage(found)  # record_usage() inside the stream wins
            usage = call.sink.usage
            if call.complete and (usage is None or (
                usage.input_tokens is None and usage.output_tokens is None and usage.total_tokens is None
            )):
                missing = state.stream.missing_usage()  # read to its end, and no counts: said, not a silent 0
                if missing is not None:
                    call.say_unobserved(missing)
        usage = call.sink.usage
        if state.parts and state.response_text is None:
            state.response_text = call.runtime.content.streamed_text(state.parts)
        if call.error_type is None and state.response_text is not None:
            self._response_event(call, usage, state.response_text)
        if usage is not None:
            state.cost = self._set_usage(call, usage)
        if state.rollup is not None:  # a wrapper's tokens and cost are its inner call's, counted there
            wrapper = call.sink.wrapper
            state.rollup.end_llm_call(
                None if wrapper else usage, None if wrapper else state.cost, state.counted,
                call.sink.unobserved and not wrapper,
            )

    def metric_values(self, call: Call) -> _LLMPoints:
        usage = call.sink.usage  # the call has ended: its elapsed time is fixed
        exemplar = exemplar_ids(call.span.get_span_context())
        state: _LLMState = call.extra
        sets = state.point_sets or self._sets
        if usage is None or call.sink.wrapper:  # a wrapper's tokens and cost are its inner call's
            return (
                self.metric_recorder, call.elapsed, call.first_chunk_s, call.error_type, None, None, None, None,
                exemplar, sets,
            )
        inp, out, total = usage.input_tokens, usage.output_tokens, usage.total_tokens
        return (
            self.metric_recorder, call.elapsed, call.first_chunk_s, call.error_type, inp, out,
            total if inp is None and out is None else None,  # the span's gen_ai.usage.total_tokens rule
            state.cost, exemplar, sets,
        )

    @staticmethod
    def record_metrics(values: _LLMPoints, instruments: Instruments) -> None:
        _, duration, first_chunk_s, error_type, input_tokens, output_tokens, total_tokens, cost, exemplar, sets = values
        call_set, input_set, output_set, total_set = sets
        if input_tokens is not None:
            instruments.token_usage.record(input_tokens, point_attributes(input_set), NO_EXEMPLAR)
        if output_tokens is not None:
            instruments.token_usage.record(output_tokens, point_attributes(output_set), NO_EXEMPLAR)
        if total_tokens is not None:  # only a total: recorded as the span carries it, not split
            instruments.token_usage.record(total_tokens, point_attributes(total_set), NO_EXEMPLAR)
        if cost is not None:
            instruments.add(instruments.cost, cost, call_set)
        attributes = point_attributes(call_set)
        ctx = exemplar_context(exemplar)  # latency points link to the call's span
        if first_chunk_s is not None:
            instruments.time_to_first_chunk.record(first_chunk_s, attributes, ctx)
        instruments.operation_duration.record(duration, point_attributes(call_set, error_type), ctx)

    @staticmethod
    def _response_event(call: Call, usage: Usage | None, text: str) -> None:
        """``llm.response`` with the captured completion text (and finish reasons when known)."""
        attrs: dict[str, AttributeValue] = {semconv.EVENT_ATTR_CONTENT: text}
        if usage is not None and usage.finish_reasons:
            attrs[semconv.GEN_AI_RESPONSE_FINISH_REASONS] = finish_reasons(usage.finish_reasons)
        call.span.add_event(semconv.EVENT_LLM_RESPONSE, attrs)

    def _set_usage(self, call: Call, usage: Usage) -> float | None:
        """Usage and cost attributes on the span (one call); returns the cost in USD when priced."""
        inp, out, read, write, reasoning, model, response_id = _USAGE_FIELDS(usage)
        # One test per field, unrolled: a loop over the names costs twice as much, on every call.
        attrs: dict[str, AttributeValue] = {}
        if inp is not None:
            attrs[_INPUT] = inp
        if out is not None:
            attrs[_OUTPUT] = out
        if read is not None:
            attrs[_CACHE_READ] = read
        if write is not None:
            attrs[_CACHE_WRITE] = write
        if reasoning is not None:
            attrs[_REASONING] = reasoning
        # The response's model and id (or record_usage's): bounded, as the app's names. A name that fits
        # (nearly all) passes bounded_name's first test, asked here: two calls less on every call.
        if model is not None:
            if not (type(model) is str and len(model) <= MAX_NAME_CHARS and model.isascii() and model.isprintable()):
                model = model_name(model)
            attrs[_RESPONSE_MODEL] = model
        if response_id is not None:
            if not (type(response_id) is str and len(response_id) <= MAX_NAME_CHARS and response_id.isascii()
                    and response_id.isprintable()):
                response_id = bounded_name(response_id, "response id")
            attrs[_RESPONSE_ID] = response_id
        if usage.finish_reasons:
            attrs[semconv.GEN_AI_RESPONSE_FINISH_REASONS] = finish_reasons(usage.finish_reasons)
        if usage.dropped:
            attrs[semconv.OTEL_LLM_USAGE_DROPPED] = usage.dropped
        if usage.total_tokens is not None and inp is None and out is None:  # only a total: not priced below
            attrs[semconv.GEN_AI_USAGE_TOTAL_TOKENS] = usage.total_tokens
        billing = usage.billing
        usd = None
        if billing is not None:  # rare: 1-hour cache writes, the provider's own bill
            if billing.cache_write_1h_tokens is not None:
                attrs[semconv.OTEL_LLM_USAGE_CACHE_CREATION_1H_INPUT_TOKENS] = billing.cache_write_1h_tokens
            if billing.audio_input_tokens is not None:
                attrs[semconv.OTEL_LLM_USAGE_AUDIO_INPUT_TOKENS] = billing.audio_input_tokens
            if billing.audio_output_tokens is not None:
                attrs[semconv.OTEL_LLM_USAGE_AUDIO_OUTPUT_TOKENS] = billing.audio_output_tokens
            if billing.cost_usd is not None:  # the provider's bill, read from its response
                usd = attrs[semconv.GEN_AI_USAGE_COST] = billing.cost_usd
                attrs[semconv.OTEL_LLM_COST_SOURCE] = billing.cost_source or "response"
        if usd is None and (inp is not None or out is not None):
            try:
                priced_as = model or self.model or call.extra.request_model
                prices = call.runtime.prices
                # The usual call (an input count, no bill, nothing dropped) priced from the counts read above.
                usual = (None if inp is None or billing is not None or usage.dropped
                         else prices.usual_cost(priced_as, self.provider, inp, out, read, write))
                if usual is not None:
                    usd = attrs[semconv.GEN_AI_USAGE_COST] = usual[0]
                    attrs[semconv.OTEL_LLM_COST_SOURCE] = usual[1]
                else:
                    priced = prices.cost(priced_as, usage, self.provider)
                    if priced is not None:
                        usd = attrs[semconv.GEN_AI_USAGE_COST] = float(priced[0])
                        attrs[semconv.OTEL_LLM_COST_SOURCE] = priced[1]
                        if priced[2] is not None:  # what the cost could not price as billed
                            attrs[semconv.OTEL_LLM_COST_NOTE] = priced[2]
                    else:  # said on the span, as a refused bill is (otel_llm.usage.dropped)
                        refused = prices.refusal(priced_as, usage, self.provider)
                        if refused is not None:
                            attrs[semconv.OTEL_LLM_COST_REFUSED] = refused
            except Exception as exc:  # noqa: BLE001 — a pricing fault costs the cost, not the tokens
                internal_error("kinds.cost", exc)
        call.span.set_attributes(attrs)
        return usd


def _remember_tool_calls(call: Call, response: Any, candidates: list[Any] | None) -> None:
    """List the tool call ids a response asks for on its span, and remember them for the tool spans
    (those of the model call itself, not of an llm_call wrapping it).

    ``candidates``: the tool calls already found while reading the response's usage
    (``_usage.read_response``); ``None``: look for them in ``response``.
    """
    refs = _toolcalls.requested(response) if candidates is None else _toolcalls.refs_among(candidates)
    if refs:
        ids = [ref.id for ref in refs]
        call.span.set_attribute(semconv.OTEL_LLM_RESPONSE_TOOL_CALL_IDS, tool_call_ids(ids))
        if not call.sink.wrapper:  # a wrapper returns its inner call's response: that call asked
            _toolcalls.ORIGINS.remember(ids, call.span.get_span_context())


class _ToolState:
    """Per-call state of a tool: metric attribute set, streamed result (bounded) if captured."""

    __slots__ = ("metric_set", "parts")

    def __init__(self, metric_set: AttributeSet, parts: StreamedText) -> None:
        self.metric_set = metric_set
        self.parts = parts


class ToolKind(Kind):
    """One tool execution: ``execute_tool {name}``, the tool call it answers, arguments and result.

    The tool call id (``gen_ai.tool.call.id``) comes from the argument named
    ``call_id_arg`` (by default a parameter called ``tool_call_id``, as
    LangChain's ``InjectedToolCallId`` passes it) holding the id or a tool-call
    object; without one, from the first argument that is a tool-call object
    (see ``_toolcalls``). A bare ``@tool`` that receives a tool-call object is
    named after the tool the model called. When the model call that asked for
    this tool ran in this process, the span links to it.
    """

    kind = semconv.KIND_TOOL
    attempts = True

    def __init__(
        self,
        fn: Callable[..., Any],
        name: str | None,
        tool_type: str | None,
        description: str | None,
        call_id_arg: str | None,
    ) -> None:
        self._named = name is not None
        self.name = utf8_safe(str(name)) if name is not None else callable_name(fn)
        self.span_name = f"{semconv.OPERATION_EXECUTE_TOOL} {self.name}"
        self.attributes, self._metric_attributes = _static_attributes(
            self.kind,
            {semconv.GEN_AI_OPERATION_NAME: semconv.OPERATION_EXECUTE_TOOL, semconv.GEN_AI_TOOL_NAME: self.name},
            {semconv.GEN_AI_TOOL_TYPE: tool_type, semconv.GEN_AI_TOOL_DESCRIPTION: description},
        )
        self._metric_set = attribute_set(self._metric_attributes)
        self._sets_by_name: dict[str, AttributeSet] = {}  # by the tool name a received tool call gives
        self._binder = _Binder(fn)
        params = self._binder.parameters
        if call_id_arg is None and "tool_call_id" in params:
            call_id_arg = "tool_call_id"
        self._call_id_arg = call_id_arg
        first = next(iter(params), None)
        # Not the tool's arguments: the instance or class of a method, and the call id itself.
        self._not_arguments = {first if first in _SELF_NAMES else None, call_id_arg} - {None}

    def enter(self, call: Call, parent: otel_context.Context) -> None:
        call.extra = _ToolState(self._metric_set, call.runtime.content.streamed())
        # Counted as it starts: a tool the agent (or turn) started is one it made, even when it
        # ends after it (an async generator left by ``break`` is closed later, by the event loop).
        rollup = _rollup.current_rollup(parent)
        if rollup is not None:
            rollup.add_tool_call()
            _rollup.late(rollup, call.span)

    def on_start(self, call: Call, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        capture = call.runtime.content.capture
        bound = self._binder.bind(args, kwargs) if capture or self._call_id_arg is not None else None
        ref = self._tool_call(args, kwargs, bound)
        span = call.span
        if ref is not None:
            span.set_attribute(semconv.GEN_AI_TOOL_CALL_ID, ref.id)
            if ref.name and not self._named and ref.name != self.name:
                span.update_name(f"{semconv.OPERATION_EXECUTE_TOOL} {ref.name}")
                span.set_attribute(semconv.GEN_AI_TOOL_NAME, ref.name)
                call.extra.metric_set = self._named_set(ref.name)
            origin = _toolcalls.ORIGINS.origin(ref.id)
            if origin is not None:
                span.add_link(origin, {semconv.GEN_AI_TOOL_CALL_ID: ref.id})
        if capture and bound is not None:
            arguments = (
                ref.arguments
                if ref is not None and ref.arguments is not None
                else {k: v for k, v in bound.items() if k not in self._not_arguments}
            )
            text = call.runtime.content.text(arguments)
            if text is not None:
                span.set_attribute(semconv.GEN_AI_TOOL_CALL_ARGUMENTS, text)

    def _named_set(self, name: str) -> AttributeSet:
        """The metric attribute set of this dispatcher running the tool ``name`` (its own set past
        :data:`_MAX_TOOL_NAMES` names: the model chooses them)."""
        found = self._sets_by_name.get(name)
        if found is None:
            if len(self._sets_by_name) >= _MAX_TOOL_NAMES:
                return self._metric_set
            found = self._sets_by_name[name] = attribute_set(
                {**self._metric_attributes, semconv.GEN_AI_TOOL_NAME: name}
            )
        return found

    def _tool_call(
        self, args: tuple[Any, ...], kwargs: dict[str, Any], bound: Mapping[str, Any] | None
    ) -> _toolcalls.ToolCallRef | None:
        """The tool call this execution answers, if the function received it."""
        if self._call_id_arg is not None and bound is not None:
            value = bound.get(self._call_id_arg)
            if isinstance(value, str) and value:
                return _toolcalls.ToolCallRef(_toolcalls.tool_call_id(value))
            return _toolcalls.received(value)
        for value in (*args, *kwargs.values()):
            ref = _toolcalls.received(value)
            if ref is not None:
                return ref
        return None

    def on_result(self, call: Call, value: Any) -> None:
        text = call.runtime.content.text(value)
        if text is not None:
            call.span.set_attribute(semconv.GEN_AI_TOOL_CALL_RESULT, text)

    def on_first_chunk(self, call: Call, item: Any) -> ChunkObserver | None:
        # The streamed result is kept only to be captured: without capture, nothing per item.
        return call.extra.parts.add if call.runtime.content.capture else None

    def on_end(self, call: Call) -> None:
        state: _ToolState = call.extra
        if state.parts:
            text = call.runtime.content.streamed_text(state.parts)
            if text is not None:
                call.span.set_attribute(semconv.GEN_AI_TOOL_CALL_RESULT, text)

    def metric_values(self, call: Call) -> tuple[int, float, str | None, AttributeSet, ExemplarIds]:
        return self.metric_recorder, call.duration(), call.error_type, call.extra.metric_set, call.exemplar()

    @staticmethod
    def record_metrics(
        values: tuple[int, float, str | None, AttributeSet, ExemplarIds], instruments: Instruments
    ) -> None:
        """Tool duration and count, by tool name and outcome (``error.type`` when it failed)."""
        _, duration, error, attributes, exemplar = values
        instruments.tool_duration.record(duration, point_attributes(attributes, error), exemplar_context(exemplar))
        instruments.add(instruments.tool_calls, 1, attributes, error)


def _bounded(text: Any, what: str) -> Any:
    """:func:`bounded_name` of a name the app gives; ``None`` stays ``None``, and a value that is not text (an
    id given as a number) is only made :func:`encodable`: the decorator never fails on the app's values."""
    return bounded_name(text, what) if isinstance(text, str) else encodable(text)


def _owner_name(owner: Any) -> str:
    """The agent a method runs as: its instance's (or class's) ``name`` when a non-empty string,
    else the class (``Agent(name="researcher")`` is ``researcher``; ``ResearchAgent()`` is ``ResearchAgent``)."""
    try:
        name = getattr(owner, "name", None)
    except Exception:  # noqa: BLE001 — a property of the app's that raises: the class names it
        name = None
    if isinstance(name, str) and name:
        return bounded_name(name, "agent name")  # the app's text, in the span's name and every span inside
    return class_name(owner) if isinstance(owner, type) else type_name(owner)


def _agent_name(fn: Any) -> tuple[str, bool]:
    """(name, whether each call is named after its first argument) of an agent given no name.

    A method is named after the object it runs on (:func:`_owner_name`): known now
    for a bound method or a partial fixing ``self``, else per call from ``self``/``cls``;
    a callable object after itself, the same way; a staticmethod after the class it is
    defined in; a function after itself.
    """
    bound: tuple[Any, ...] = ()
    target = fn
    while isinstance(target, functools.partial):
        bound = target.args + bound
        target = target.func
    if inspect.ismethod(target):
        return _owner_name(target.__self__), False
    if not inspect.isroutine(target) and not isinstance(target, type):  # a callable object: the agent itself
        return _owner_name(target), False
    first = next(iter(_Binder(target).parameters), None)
    if first in _SELF_NAMES and bound:
        return _owner_name(bound[0]), False
    path = str(getattr(target, "__qualname__", "")).split(".")
    defined_in = path[-2] if len(path) > 1 and path[-2] != "<locals>" else None
    if first in _SELF_NAMES:
        return defined_in or callable_name(fn), True
    return defined_in or callable_name(fn), False


class AgentKind(Kind):
    """An agent invocation: ``invoke_agent {name}``, rolling up the calls made inside it.

    Spans started inside carry the innermost agent's ``gen_ai.agent.name`` (and
    id), inherited like a graph node's name, so tools and model calls can be
    counted per agent without walking the span tree. Without a name, a method's
    agent is named after the object it runs on (see :func:`_agent_name`).
    """

    kind = semconv.KIND_AGENT
    attempts = True
    identity = frozenset({semconv.GEN_AI_AGENT_NAME, semconv.GEN_AI_AGENT_ID})

    def __init__(self, fn: Any, name: str | None, agent_id: str | None, description: str | None) -> None:
        self._per_call = False  # named per call after its ``self``/``cls``
        if name is None:
            name, self._per_call = _agent_name(fn)
        self.selects = self._per_call
        name, agent_id = _bounded(name, "agent name"), _bounded(agent_id, "agent id")  # span name, inherited
        # Per call named after its ``self``/``cls``: the agent kind of each name (see ``select``).
        self._by_owner: dict[str, AgentKind] = {}
        self._id, self._description = agent_id, description
        self.name = name
        self.span_name = f"{semconv.OPERATION_INVOKE_AGENT} {name}"
        identity = {semconv.GEN_AI_AGENT_NAME: name, semconv.GEN_AI_AGENT_ID: agent_id}
        self.attributes, _ = _static_attributes(
            self.kind,
            {semconv.GEN_AI_OPERATION_NAME: semconv.OPERATION_INVOKE_AGENT, **identity},
            {semconv.GEN_AI_AGENT_DESCRIPTION: description},
        )
        self._inherited = _without_none(identity)

    def enter(self, call: Call, parent: otel_context.Context) -> Mapping[str, object]:
        call.extra, values = _rollup.opened(parent)
        return {ENCLOSING_NODE_KEY: _inherited(parent, self._inherited, self.identity), **values}

    def select(self, args: tuple[Any, ...]) -> Kind:
        """The agent this call of a method runs as: the kind named after its ``self``/``cls``.

        Chosen before the span starts, so it starts under its name and attributes (a
        sampler, a span processor and the running-calls count see the agent it is), and
        ``self.name`` is read once per call (twice past the cap). One kind per name, for at most
        ``_MAX_AGENT_NAMES`` names; beyond, this kind runs the call and names its span as it
        starts (``on_start``): names made per user or task cannot grow memory or the
        running-calls metric's series.
        """
        if not args:
            return self
        name = _owner_name(args[0])
        named = self._by_owner.get(name)
        if named is None:
            if len(self._by_owner) >= _MAX_AGENT_NAMES:
                return self
            named = self._by_owner.setdefault(name, AgentKind(None, name, self._id, self._description))
        return named

    def on_start(self, call: Call, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        if not self._per_call or not args:  # (a call ``select`` could not give a kind of its own name)
            return
        name = _owner_name(args[0])
        if name == self.name:
            return
        call.span.update_name(f"{semconv.OPERATION_INVOKE_AGENT} {name}")
        call.span.set_attribute(semconv.GEN_AI_AGENT_NAME, name)
        ctx = call.ctx
        inherited = {**ctx.get(ENCLOSING_NODE_KEY, {}), semconv.GEN_AI_AGENT_NAME: name}  # type: ignore[union-attr]
        call.ctx = otel_context.Context({**ctx, ENCLOSING_NODE_KEY: inherited})  # type: ignore[dict-item]

    def on_end(self, call: Call) -> None:
        call.span.set_attributes(call.extra.close(_rollup.AGENT))
