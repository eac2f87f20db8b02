"""The four public decorators: each builds a kind and hands it to one wrapper core.

Why so thin: every decorator is "which kind, with which static attributes";
the lifecycle (spans, streams, errors, metrics) is shared in ``_wrap`` /
``_core``, so a fix there fixes all four. Decoration itself reads no settings:
``configure()`` may run later, and each call reads the runtime once.

Forms::

    @chat                                   @chat(thread_id_arg="thread_id")
    @graph_node                             @graph_node("retrieve", graph="rag")
    @vector_op                              @vector_op("search", collection="docs", top_k=5)
    @llm_call                               @llm_call(model="gpt-4o", provider="openai", temperature=0.2)

Each accepts functions, coroutine functions, generator and async generator
functions, bound methods, ``functools.partial`` objects, callable objects and
``classmethod``/``staticmethod`` in either stacking order (see
``_wrap.instrument``); decoration itself never raises.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar, overload

from otel_llm._kinds import REQUEST_PARAMS, ChatKind, GraphNodeKind, LLMCallKind, VectorOpKind
from otel_llm._wrap import callable_name, instrument

__all__ = ["chat", "graph_node", "llm_call", "vector_op"]

_log = logging.getLogger("otel_llm")
F = TypeVar("F", bound=Callable[..., Any])


def _bare(value: Any) -> bool:
    """Whether a decorator was applied without parentheses (its first argument is the target)."""
    return callable(value) or isinstance(value, (classmethod, staticmethod))


@overload
def chat(fn: F) -> F: ...
@overload
def chat(*, thread_id_arg: str | None = None) -> Callable[[F], F]: ...
def chat(fn: F | None = None, *, thread_id_arg: str | None = None) -> Any:
    """One span per chat turn, rolling up its llm_calls' tokens and cost.

    The conversation id comes from the argument named ``thread_id_arg`` (by
    default a parameter called ``thread_id``, if any), else from ``session()``.
    """

    def decorate(f: F) -> F:
        return instrument(f, lambda target: ChatKind(target, thread_id_arg))

    return decorate(fn) if fn is not None else decorate


@overload
def graph_node(name: F) -> F: ...
@overload
def graph_node(name: str | None = None, *, graph: str | None = None) -> Callable[[F], F]: ...
def graph_node(name: Any = None, *, graph: str | None = None) -> Any:
    """A node of an agent or RAG graph; bare ``@graph_node`` names it after the function."""
    if _bare(name):
        return instrument(name, lambda target: GraphNodeKind(callable_name(target), graph))

    def decorate(f: F) -> F:
        return instrument(f, lambda target: GraphNodeKind(str(name or callable_name(target)), graph))

    return decorate


def vector_op(
    op: Any = None,
    *,
    collection: str | None = None,
    db_system: str | None = None,
    top_k: int | None = None,
) -> Any:
    """A vector store operation (``search``, ``upsert``...); rows counted from ``len(result)``.

    Bare ``@vector_op`` names the operation after the function.
    """
    if _bare(op):
        return instrument(op, lambda target: VectorOpKind(callable_name(target), None, None, None))

    def decorate(f: F) -> F:
        return instrument(
            f, lambda target: VectorOpKind(str(op or callable_name(target)), collection, db_system, top_k)
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
    Bare ``@llm_call`` takes the model from the response.
    """
    unknown = sorted(set(request_params) - set(REQUEST_PARAMS))
    if unknown:
        _log.warning("otel_llm.llm_call: ignoring unknown request parameters %s", unknown)
    known = {k: v for k, v in request_params.items() if k in REQUEST_PARAMS}

    def decorate(f: F) -> F:
        return instrument(f, lambda target: LLMCallKind(model, provider, operation, known))

    return decorate(fn) if fn is not None else decorate
