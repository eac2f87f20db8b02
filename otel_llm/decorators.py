"""The public decorators: each builds a kind and hands it to one wrapper core.

Why so thin: every decorator is "which kind, with which static attributes";
the lifecycle (spans, streams, errors, metrics) is shared in ``_wrap`` /
``_core``, so a fix there fixes them all. Decoration itself reads no settings:
``configure()`` may run later, and each call reads the runtime once.

Forms::

    @chat                                   @chat(thread_id_arg="thread_id")
    @graph_node                             @graph_node("retrieve", graph="rag")
    @vector_op                              @vector_op("search", collection="docs", top_k=5)
    @llm_call                               @llm_call(model="gpt-4o", provider="openai", temperature=0.2)
                                            @llm_call("gpt-4o")
    @tool                                   @tool("search_web", type="function", call_id_arg="call")
    @agent                                  @agent("planner", id="planner-v2", description="...")

Each accepts functions, coroutine functions, generator and async generator
functions, bound methods, ``functools.partial`` objects, callable objects,
``functools.partialmethod`` and ``classmethod``/``staticmethod`` in either stacking order (see
``_wrap.instrument``); decoration itself never raises. An option of the wrong type
(``model=["gpt-4o"]``, ``temperature={...}``) still instruments the function: it is
recorded as text or left out, with a warning (``_options``).
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable
from typing import Any, TypeVar, overload

from otel_llm._options import as_argument_name, as_name, as_setting
from otel_llm._kinds import REQUEST_PARAMS, AgentKind, ChatKind, GraphNodeKind, LLMCallKind, ToolKind, VectorOpKind
from otel_llm._wrap import callable_name, instrument

__all__ = ["agent", "chat", "graph_node", "llm_call", "tool", "vector_op"]

_log = logging.getLogger("otel_llm")
F = TypeVar("F", bound=Callable[..., Any])


def _bare(value: Any) -> bool:
    """Whether a decorator was applied without parentheses (its first argument is the target):
    a callable, a classmethod/staticmethod/partialmethod, or a LangChain runnable (a tool is not callable)."""
    return (
        callable(value)
        or isinstance(value, (classmethod, staticmethod, functools.partialmethod))
        or callable(getattr(value, "invoke", None))
    )


@overload
def chat(fn: F) -> F: ...
@overload
def chat(*, thread_id_arg: str | None = None) -> Callable[[F], F]: ...
def chat(fn: F | None = None, *, thread_id_arg: str | None = None) -> Any:
    """One span per chat turn, rolling up its llm_calls' tokens and cost.

    The conversation id comes from the argument named ``thread_id_arg`` (by
    default a parameter called ``thread_id``, if any), else from ``session()``.
    """

    thread_id_arg = as_argument_name("chat", "thread_id_arg", thread_id_arg)

    def decorate(f: F) -> F:
        return instrument(f, lambda target: ChatKind(target, thread_id_arg))

    if fn is not None and not _bare(fn):  # ``@chat("thread_id")``: a decorator all the same, never a crash
        _log.warning("otel_llm.chat takes its options by keyword (thread_id_arg=...): %r is ignored", fn)
        return decorate
    return decorate(fn) if fn is not None else decorate


@overload
def graph_node(name: F) -> F: ...
@overload
def graph_node(name: str | None = None, *, graph: str | None = None) -> Callable[[F], F]: ...
def graph_node(name: Any = None, *, graph: str | None = None) -> Any:
    """A node of an agent or RAG graph; bare ``@graph_node`` names it after the function."""
    graph = as_name("graph_node", "graph", graph)
    if _bare(name):
        return instrument(name, lambda target: GraphNodeKind(callable_name(target), graph))
    node = as_name("graph_node", "name", name) if name else None

    def decorate(f: F) -> F:
        return instrument(f, lambda target: GraphNodeKind(node or callable_name(target), graph))

    return decorate


def vector_op(
    op: Any = None,
    *,
    collection: str | None = None,
    db_system: str | None = None,
    top_k: int | None = None,
) -> Any:
    """A vector store operation (``search``, ``upsert``...); rows counted from ``len(result)``
    (of a mapping such as Chroma's results, from its ``ids``).

    Bare ``@vector_op`` names the operation after the function.
    """
    if _bare(op):
        return instrument(op, lambda target: VectorOpKind(callable_name(target), None, None, None))
    operation = as_name("vector_op", "op", op) if op else None
    collection, db_system = as_name("vector_op", "collection", collection), as_name("vector_op", "db_system", db_system)
    rows = as_setting("vector_op", "top_k", top_k)

    def decorate(f: F) -> F:
        return instrument(
            f, lambda target: VectorOpKind(operation or callable_name(target), collection, db_system, rows)  # type: ignore[arg-type]
        )

    return decorate


def llm_call(
    fn: Any = None,
    *,
    model: str | None = None,
    provider: str | None = None,
    operation: str = "chat",
    **request_params: Any,
) -> Any:
    """One model call: usage from the return value (or ``record_usage``), cost, events.

    ``request_params`` are the known request settings (``temperature``,
    ``max_tokens``, ``top_p``, ``top_k``, ``stop_sequences``,
    ``frequency_penalty``, ``presence_penalty``, ``seed``); unknown ones are
    ignored with a warning rather than breaking the decorated function.
    ``model`` may come first by position (``@llm_call("gpt-4o")``).
    Without ``model`` the model is the one the call asks for, read from its
    argument ``model=`` or ``modelId=`` (boto3's Bedrock Runtime) or a
    ``functools.partial`` fixing one, else the response's.
    """
    if fn is not None and not _bare(fn):  # ``@llm_call("gpt-4o")``: the model, by position
        model, fn = fn if model is None else model, None
    unknown = sorted(set(request_params) - set(REQUEST_PARAMS))
    if unknown:
        _log.warning("otel_llm.llm_call: ignoring unknown request parameters %s", unknown)
    settings = {k: as_setting("llm_call", k, v) for k, v in request_params.items() if k in REQUEST_PARAMS}
    known = {k: v for k, v in settings.items() if v is not None}
    model, provider = as_name("llm_call", "model", model), as_name("llm_call", "provider", provider)
    operation = as_name("llm_call", "operation", operation) or "chat"

    def decorate(f: F) -> F:
        return instrument(f, lambda target: LLMCallKind(target, model, provider, operation, known))

    return decorate(fn) if fn is not None else decorate


@overload
def tool(name: F) -> F: ...
@overload
def tool(
    name: str | None = None,
    *,
    type: str | None = "function",
    description: str | None = None,
    call_id_arg: str | None = None,
) -> Callable[[F], F]: ...
def tool(
    name: Any = None,
    *,
    type: str | None = "function",  # noqa: A002 — the semconv attribute's own name
    description: str | None = None,
    call_id_arg: str | None = None,
) -> Any:
    """One tool execution: an ``execute_tool {name}`` span; duration and count metrics per tool.

    ``name`` defaults to the function's name (or, for a bare ``@tool`` that
    receives a tool-call object, the tool the model called); ``type`` is
    ``gen_ai.tool.type`` (``function``, ``extension``, ``datastore``).

    The tool call id links the span to the model call that asked for it. It is
    read from the argument named ``call_id_arg`` — holding the id string or a
    tool-call object — by default from a parameter named ``tool_call_id`` (what
    LangChain's ``InjectedToolCallId`` passes); otherwise from the first
    argument that is a tool-call object (an OpenAI ``tool_calls[i]``, an
    Anthropic ``tool_use`` block, a LangChain ``ToolCall``, a responses-API
    ``function_call`` item). Arguments and result are recorded only with
    content capture on, redacted and bounded.
    """
    if _bare(name):
        tool_object = name
        return instrument(tool_object, lambda target: ToolKind(
            target, _declared(tool_object, "name"), "function", _declared(tool_object, "description"), None))
    name, type = as_name("tool", "name", name), as_name("tool", "type", type)
    description = as_name("tool", "description", description)
    call_id_arg = as_argument_name("tool", "call_id_arg", call_id_arg)

    def decorate(f: F) -> F:
        return instrument(f, lambda target: ToolKind(
            target, name if name is not None else _declared(f, "name"), type,
            description if description is not None else _declared(f, "description"), call_id_arg))

    return decorate


def _declared(target: Any, field: str) -> str | None:
    """A LangChain tool's own ``name`` or ``description`` (what the model sees), else None.

    ``@otel_llm.tool`` over LangChain's ``@tool("web_search")`` instruments the
    function the tool runs (``_wrap.instrument``); the span and metrics take the
    tool's name, not the Python function's, unless ``name=`` says otherwise.
    """
    if inspect.isroutine(target) or not callable(getattr(target, "invoke", None)):
        return None
    value = getattr(target, field, None)
    return value if isinstance(value, str) and value else None


@overload
def agent(name: F) -> F: ...
@overload
def agent(name: str | None = None, *, id: str | None = None, description: str | None = None) -> Callable[[F], F]: ...
def agent(
    name: Any = None,
    *,
    id: str | None = None,  # noqa: A002 — the semconv attribute's own name
    description: str | None = None,
) -> Any:
    """One agent invocation: an ``invoke_agent {name}`` span rolling up what runs inside it.

    Like a chat turn, the span sums the tokens, cost, model calls and tool
    calls made inside it (``otel_llm.agent.*``; nested agents count in their
    parents too), and every span inside carries the agent's
    ``gen_ai.agent.name``. Without a name, an agent is named after its function;
    on a method, after the object it runs on: the instance's ``name`` attribute
    when a non-empty string, else its class (a subclass's, for an inherited
    method); a callable object likewise; on a classmethod after the class, on a
    staticmethod after the class it is defined in.
    """
    if _bare(name):
        return instrument(name, lambda target: AgentKind(target, None, None, None))
    agent_name = as_name("agent", "name", name) if name else None
    id, description = as_name("agent", "id", id), as_name("agent", "description", description)

    def decorate(f: F) -> F:
        return instrument(f, lambda target: AgentKind(target, agent_name, id, description))

    return decorate
