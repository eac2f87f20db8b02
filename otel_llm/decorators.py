"""The four public decorators: each builds a kind and hands it to one wrapper core.

Why so thin: every decorator is "which kind, with which static attributes";
the lifecycle (spans, streams, errors, metrics) is shared in ``_wrap`` /
``_core``, so a fix there fixes all four. Decoration itself reads no settings:
``configure()`` may run later, and each call reads the runtime once.

Forms::

    @chat                                   @chat(thread_id_arg="thread_id")
    @graph_node                             @graph_node("retrieve", graph="rag")
    @vector_op("search", collection="docs", db_system="chroma", top_k=5)
    @llm_call(model="gpt-4o", provider="openai", temperature=0.2, max_tokens=512)
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar, overload

from otel_llm._kinds import REQUEST_PARAMS, ChatKind, GraphNodeKind, LLMCallKind, VectorOpKind
from otel_llm._wrap import wrap

__all__ = ["chat", "graph_node", "llm_call", "vector_op"]

_log = logging.getLogger("otel_llm")
F = TypeVar("F", bound=Callable[..., Any])


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
        return wrap(f, ChatKind(f, thread_id_arg))

    return decorate(fn) if fn is not None else decorate


@overload
def graph_node(name: F) -> F: ...
@overload
def graph_node(name: str | None = None, *, graph: str | None = None) -> Callable[[F], F]: ...
def graph_node(name: Any = None, *, graph: str | None = None) -> Any:
    """A node of an agent or RAG graph; bare ``@graph_node`` names it after the function."""
    if callable(name):
        return wrap(name, GraphNodeKind(name.__name__, graph))

    def decorate(f: F) -> F:
        return wrap(f, GraphNodeKind(name or f.__name__, graph))

    return decorate


def vector_op(
    op: str,
    *,
    collection: str | None = None,
    db_system: str | None = None,
    top_k: int | None = None,
) -> Callable[[F], F]:
    """A vector store operation (``search``, ``upsert``...); rows counted from ``len(result)``."""

    def decorate(f: F) -> F:
        return wrap(f, VectorOpKind(op, collection, db_system, top_k))

    return decorate


def llm_call(
    *,
    model: str | None = None,
    provider: str | None = None,
    operation: str = "chat",
    **request_params: Any,
) -> Callable[[F], F]:
    """One model call: usage from the return value (or ``record_usage``), cost, events.

    ``request_params`` are the known request settings (``temperature``,
    ``max_tokens``, ``top_p``, ``top_k``, ``stop_sequences``,
    ``frequency_penalty``, ``presence_penalty``, ``seed``); unknown ones are
    ignored with a warning rather than breaking the decorated function.
    """
    unknown = sorted(set(request_params) - set(REQUEST_PARAMS))
    if unknown:
        _log.warning("otel_llm.llm_call: ignoring unknown request parameters %s", unknown)
    known = {k: v for k, v in request_params.items() if k in REQUEST_PARAMS}

    def decorate(f: F) -> F:
        return wrap(f, LLMCallKind(model, provider, operation, known))

    return decorate
