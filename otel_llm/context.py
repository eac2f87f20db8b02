"""``session()``: who is talking, in which thread, under which run configuration.

Why the session lives *inside the OpenTelemetry context* (``context.set_value``)
rather than in a contextvar of our own: the official
``opentelemetry-instrumentation-threading`` copies only the OpenTelemetry
context into ``Thread``/``ThreadPoolExecutor`` workers, not the whole
``contextvars.Context``. Storing the session (and the chat-turn accumulator and
the innermost llm_call, see ``_core``) as OpenTelemetry context values means
that one instrumentation propagates all of them, and ``asyncio`` tasks and
``asyncio.to_thread`` (which copy the whole contextvars context) carry them too.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry.util.types import AttributeValue

from otel_llm import _runtime, semconv
from otel_llm._content import as_text, encodable, type_name
from otel_llm._entries import Entries
from otel_llm._guard import internal_error
from otel_llm._names import bounded_name, bounded_value

__all__ = ["Session", "current_session", "instrument_threads", "session"]

_SESSION_KEY = otel_context.create_key("otel_llm.session")
_log = logging.getLogger("otel_llm")
_PRIMITIVES = (str, bool, int, float)


@dataclass(frozen=True)
class Session:
    """The merged view of all enclosing ``session()`` blocks."""

    thread_id: str | None = None
    user_id: str | None = None
    run_config: Mapping[str, Any] = field(default_factory=dict)
    # Span attributes, computed once per ``session()`` entry, not per span.
    attributes: Mapping[str, AttributeValue] = field(default_factory=dict)

    def merged(
        self, thread_id: str | None, user_id: str | None, run_config: Mapping[str, Any] | None
    ) -> "Session":
        """A session where the given (non-None) values win and run_config keys merge."""
        config = {**self.run_config, **(run_config or {})}
        limit = _runtime.current().value_chars
        tid = self.thread_id if thread_id is None else bounded_value(as_text(thread_id), "conversation id", limit)
        uid = self.user_id if user_id is None else bounded_value(as_text(user_id), "user id", limit)
        return Session(tid, uid, config, _attributes(tid, uid, config, limit))


def _attribute_value(value: Any, limit: int) -> AttributeValue:
    """Attribute values must be primitives; anything else is recorded as its ``str`` (text :func:`utf8_safe`),
    text at most ``limit`` characters (:func:`bounded_value`)."""
    value = encodable(value) if isinstance(value, _PRIMITIVES) else as_text(value)
    return bounded_value(value, "run_config value", limit) if isinstance(value, str) else value


def _attributes(
    thread_id: str | None, user_id: str | None, run_config: Mapping[str, Any], limit: int
) -> dict[str, AttributeValue]:
    """The span attributes of a session (``limit``: the longest text value, see :func:`bounded_value`); a
    ``run_config`` key is a name (:func:`bounded_name`)."""
    attrs: dict[str, AttributeValue] = {}
    if thread_id is not None:
        attrs[semconv.GEN_AI_CONVERSATION_ID] = thread_id
    if user_id is not None:
        attrs[semconv.USER_ID] = user_id
    for key, value in run_config.items():
        if value is not None:
            name = bounded_name(as_text(key), "run_config key")
            attrs[semconv.OTEL_LLM_RUN_CONFIG_PREFIX + name] = _attribute_value(value, limit)
    return attrs


_EMPTY = Session()


def _config(run_config: Any) -> dict[Any, Any] | None:
    """A copy of ``run_config``; one that is no mapping, or cannot be read, is ignored with a warning
    (the block still runs)."""
    try:
        if not run_config:
            return None
        if isinstance(run_config, Mapping):
            return dict(run_config)
        problem = f"must be a mapping of names to values, got a {type_name(run_config)}"
    except Exception as exc:  # noqa: BLE001 — the app's mapping raised while read: not our fault
        problem = f"could not be read ({type_name(exc)} while copying it)"
    _log.warning("otel_llm.session: run_config %s; ignored", problem)
    return None


def current_session(ctx: otel_context.Context | None = None) -> Session | None:
    """The session active in ``ctx`` (default: the current context), or ``None`` outside any."""
    if ctx is None:
        return otel_context.get_value(_SESSION_KEY)  # type: ignore[return-value]
    return ctx.get(_SESSION_KEY)  # type: ignore[return-value]


def in_thread(parent: otel_context.Context, thread_id: str) -> dict[str, object]:
    """Context values under which every span is tagged with ``thread_id`` as a ``session(thread_id=)``
    inside ``parent`` would tag it: a chat turn's conversation, handed to the calls it makes."""
    session = current_session(parent)
    if session is not None and session.thread_id == thread_id:
        return {}
    return {_SESSION_KEY: (session or Session()).merged(thread_id, None, None)}


class session:  # noqa: N801 — public API name is lower-case by design
    """Context manager tagging every span inside it with thread, user and run config.

    Usable as ``with`` (also around ``await``) and ``async with``; nested
    sessions merge (inner values win, ``run_config`` keys combine). One object
    may be entered again while entered (nested, or by concurrent threads and
    asyncio tasks, as a module-level session would be): each exit ends the entry
    made in its own context (see :meth:`__exit__`).
    """

    __slots__ = ("_thread_id", "_user_id", "_run_config", "_entered")

    def __init__(
        self,
        thread_id: str | None = None,
        user_id: str | None = None,
        run_config: Mapping[str, Any] | None = None,
    ) -> None:
        self._thread_id = thread_id
        self._user_id = user_id
        self._run_config = _config(run_config)
        self._entered: Entries[None] = Entries()

    def __enter__(self) -> Session:
        merged = (current_session() or _EMPTY).merged(
            self._thread_id, self._user_id, self._run_config
        )
        self._entered.enter(otel_context.set_value(_SESSION_KEY, merged), None)
        return merged

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """End this block's entry, whichever other thread or task entered the same object meanwhile."""
        self._entered.exit()

    async def __aenter__(self) -> Session:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, tb)


def instrument_threads() -> None:
    """Propagate the OpenTelemetry context (and so sessions, turns, parents) into threads.

    Enables the official ``ThreadingInstrumentor`` (``Thread``, ``Timer``,
    ``ThreadPoolExecutor.submit``) once, and the same for the tasks of
    ``multiprocessing.pool.ThreadPool`` (``_thread_pools``); idempotent.
    ``configure()`` calls it. ``asyncio.to_thread`` needs nothing: it copies the
    whole contextvars context.
    """
    try:
        from opentelemetry.instrumentation.threading import ThreadingInstrumentor

        instrumentor = ThreadingInstrumentor()
        if not instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.instrument()
    except Exception as exc:  # noqa: BLE001 — missing or failing instrumentor
        internal_error("context.instrument_threads", exc)
    try:
        from otel_llm._thread_pools import propagate_into_thread_pools

        propagate_into_thread_pools()
    except Exception as exc:  # noqa: BLE001 — a stdlib whose pool is shaped otherwise
        internal_error("context.thread_pools", exc)
