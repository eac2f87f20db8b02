"""The span lifecycle shared by every kind and every callable shape.

Why one core: ``chat``, ``graph_node``, ``vector_op`` and ``llm_call`` differ
only in their name, span kind, attributes and a few hooks (a :class:`Kind`);
sync functions, coroutines, generators and returned streams differ only in how
the result arrives (``_wrap`` / ``_streams``). Everything else — common
attributes, context handling, failure recording, ending exactly once — lives
here once.

A :class:`Call` is one execution of a decorated function:
``open_call`` (start) -> ``finish`` (a value; or hands a stream to
``_streams``) or ``fail`` (the user's exception) -> ``end`` (exactly once).
Every step runs behind the internal-error guard: setup faults make the wrapper
call the function bare, post-processing faults are logged and the result
returned.

What runs on the caller's thread is what the span needs: its attributes,
usage and cost. Metric points do not: ``end`` takes the kind's
``metric_values`` (a small tuple) and hands them to the runtime's
:class:`~otel_llm._metrics.Instruments`; the kind's ``record_metrics`` runs
later on otel-llm's metric thread (or at the next collection).
"""

from __future__ import annotations

import asyncio
import builtins
import os
import sys
import threading
import time
from types import MappingProxyType
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import INVALID_SPAN_CONTEXT, NonRecordingSpan, Span, SpanKind, Status, StatusCode
from opentelemetry.util.types import AttributeValue

from otel_llm import _active, _runtime, _streams, semconv
from otel_llm._attempts import ATTEMPT_KEY, attempt_number
from otel_llm._content import REDACTING_KEY, SUPPRESS_INSTRUMENTATION_KEY, encodable, type_name, utf8_safe
from otel_llm._guard import internal_error, raised_by_app
from otel_llm._metrics import exemplar_ids, recorder_index
from otel_llm.context import Session, current_session

if TYPE_CHECKING:
    from otel_llm._metrics import ExemplarIds, Instruments
    from otel_llm._runtime import Runtime
    from otel_llm._usage import Usage

__all__ = [
    "Call", "ChunkObserver", "ENCLOSING_NODE_KEY", "Kind", "SPAN_KEY", "USAGE_SINK_KEY", "UsageSink", "current_usage_sink", "open_call",
    "without",
]

# The innermost call that accepts ``record_usage`` (an llm_call), kept in the
# OpenTelemetry context so it follows threads and tasks like the span does.
USAGE_SINK_KEY = otel_context.create_key("otel_llm.usage_sink")

# The attributes of the innermost graph node, inherited by every span that runs
# inside it (an llm_call in "generate" carries ``otel_llm.graph.node=generate``),
# so cost and tokens can be summed per node without walking the span tree.
ENCLOSING_NODE_KEY = otel_context.create_key("otel_llm.graph_node")


def _span_key() -> str | None:
    """The context key OpenTelemetry keeps the current span under, learnt from its public API.

    ``trace.set_span_in_context`` on an empty context makes a context of one
    entry: the span under that key. Knowing the key, ``open_call`` builds a
    call's context (the span and the kind's values) in one copy instead of
    one per value. ``None`` if a later OpenTelemetry keeps the span otherwise:
    ``open_call`` then goes through ``set_span_in_context``.
    """
    span = NonRecordingSpan(INVALID_SPAN_CONTEXT)
    probe = trace.set_span_in_context(span, otel_context.Context())
    key = next(iter(probe), None)
    if len(probe) != 1 or key is None or trace.get_current_span(otel_context.Context({key: span})) is not span:
        return None
    return key


SPAN_KEY = _span_key()

# What a stream's items go through, chosen by the kind on the first item.
ChunkObserver = Callable[[Any], None]


# What ends a call as failed: the app's exceptions and the cancellation of its coroutine.
_FAILURES = (Exception, asyncio.CancelledError)


def _is_failure(exc: BaseException) -> bool:
    """Whether ``exc`` ends a call as failed: an ``Exception``, or a cancellation by asyncio or trio.

    trio (and anyio on its trio backend) cancels with ``trio.Cancelled``, a
    ``BaseException`` like asyncio's ``CancelledError``. It is looked up where trio
    already is, ``sys.modules``, never imported: an app that never imported trio
    cannot raise its exception, and otel-llm does not depend on it. A trio nursery
    cut off by a deadline raises its children's ``Cancelled`` in a
    ``BaseExceptionGroup``: a group of failures is a failure (one holding a
    ``KeyboardInterrupt`` is not).
    """
    if isinstance(exc, _FAILURES):
        return True
    group = _base_exception_group()
    if group is not None and isinstance(exc, group):
        return all(_is_failure(inner) for inner in exc.exceptions)
    trio = sys.modules.get("trio")
    cancelled = getattr(trio, "Cancelled", None) if trio is not None else None
    return isinstance(cancelled, type) and isinstance(exc, cancelled)


def _base_exception_group() -> type | None:
    """``BaseExceptionGroup``: built in since Python 3.11, else the ``exceptiongroup`` backport if imported."""
    group = getattr(builtins, "BaseExceptionGroup", None)
    if group is None:
        group = getattr(sys.modules.get("exceptiongroup"), "BaseExceptionGroup", None)
    return group if isinstance(group, type) else None


def error_type(exc: BaseException) -> str:
    """The ``error.type`` value: the exception's class name (low-cardinality; see :func:`type_name`)."""
    return type_name(exc, qualified=True)


def _describe(exc: BaseException) -> str:
    """``Type: message`` for the span status; an exception's ``__str__`` may itself raise."""
    name = type_name(exc)
    try:
        return f"{name}: {exc}"
    except Exception:  # noqa: BLE001
        return name


class Kind:
    """What one decorator contributes to the core: name, span kind, attributes, hooks.

    Subclasses (``_kinds``) override only the hooks they need; each default does
    nothing. Hooks run inside the guard, so they may assume well-formed input
    and let unexpected shapes raise.
    """

    kind: str = ""
    span_name: str = ""
    span_kind: SpanKind = SpanKind.INTERNAL
    attributes: Mapping[str, AttributeValue] = {}

    # The enclosing node's attributes this kind's spans never inherit: the kind's own identity
    # (an agent with no id inside one with an id has no id, not its caller's).
    identity: frozenset[str] = frozenset()

    # Whether a span of this kind started directly inside an ``otel_llm.attempt()``
    # block is that attempt (it then carries ``otel_llm.attempt``; see ``_attempts``).
    attempts: bool = False

    def call_attributes(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Mapping[str, AttributeValue] | None:
        """Attributes that depend on this call's arguments (known before the span starts)."""
        return None

    # Whether a subclass has call_attributes at all: kinds without them skip the call.
    has_call_attributes: bool = False

    def call_context(self, attributes: Mapping[str, AttributeValue], parent: otel_context.Context) -> Mapping[str, object]:
        """Context values that depend on this call's span attributes (``attributes``, as it started):
        what the calls it makes inherit from its arguments. Only kinds that define it are asked."""
        return {}

    # Whether a subclass has call_context at all.
    has_call_context: bool = False

    # Whether each call runs as a kind chosen from its arguments (:meth:`select`): an agent
    # method named after the instance it runs on. Set per kind; most kinds are fixed.
    selects: bool = False

    def select(self, args: tuple[Any, ...]) -> "Kind":
        """The kind this call runs as, chosen before its span starts (only when ``selects``)."""
        return self

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.has_call_attributes = cls.call_attributes is not Kind.call_attributes
        cls.has_call_context = cls.call_context is not Kind.call_context
        if cls.record_metrics is not Kind.record_metrics:
            cls.metric_recorder = recorder_index(cls.record_metrics)

    # (project, attributes): the kind's attributes with the configured project, kept
    # for the project they were built for (``configure()`` may change it).
    _with_project: tuple[str | None, Mapping[str, AttributeValue]] | None = None

    def __getstate__(self) -> dict[str, Any]:
        """The kind's state without the :meth:`static_attributes` cache (a read-only mapping, which does
        not pickle; rebuilt on the next call): a pickled instrumented callable carries its kind."""
        state = dict(self.__dict__)
        state.pop("_with_project", None)
        return state

    def static_attributes(self, project: str | None) -> Mapping[str, AttributeValue]:
        """The attributes every span of this kind starts with: the kind's own and the project.

        Built once per project, not per call, and read-only: the tracer copies
        them into the span, so the same mapping serves every call.
        """
        known = self._with_project
        if known is not None and known[0] == project:
            return known[1]
        attributes = dict(self.attributes)
        if project:
            attributes[semconv.OTEL_LLM_PROJECT] = encodable(project)
        frozen = MappingProxyType(attributes)
        self._with_project = (project, frozen)
        return frozen

    def enter(self, call: "Call", parent: otel_context.Context) -> Mapping[str, object] | None:
        """The values this kind adds to the context its span runs in (``parent``: the context it starts in).

        The core builds that context once, from ``parent``, the span and these
        values (one copy of the context per call, not one per value).
        """
        return None

    def on_start(self, call: "Call", args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        """Span started: add request-side events."""

    def on_result(self, call: "Call", value: Any) -> None:
        """The function returned ``value`` (not a stream)."""

    def on_first_chunk(self, call: "Call", item: Any) -> ChunkObserver | None:
        """A returned stream produced its first ``item``: decide, once per stream, what each item needs.

        Returns the callable every item (this one included) is passed to, or
        ``None`` when the kind needs nothing per item. Per-item work is on the
        caller's hot path: keep it to a check and a store.
        """
        return None

    def on_error(self, call: "Call", exc: BaseException) -> None:
        """The function (or its stream) raised ``exc``; the core has recorded it."""

    def on_end(self, call: "Call") -> None:
        """Last chance before the span ends: span attributes and roll-ups (no metrics here)."""

    def metric_values(self, call: "Call") -> tuple[Any, ...] | None:
        """The item this call's metric points are recorded from, taken as it ends (``None``: no points).

        Runs on the caller's thread: return one flat tuple — the kind's
        ``metric_recorder`` first, then numbers and strings: the kind's
        attribute sets by index (``_metrics.attribute_set``), the span as
        ``call.exemplar()`` — nothing that refers to the call, its span or the
        kind (the queue keeps the tuple until the metric thread records it,
        untracked by the garbage collector; see ``_metrics``).
        """
        return None

    @staticmethod
    def record_metrics(values: Any, instruments: "Instruments") -> None:
        """Record one call's points from its ``metric_values`` item alone; runs *off* the caller's thread."""

    # The index the kind's items name ``record_metrics`` by (``_metrics.recorder_index``), set per subclass.
    metric_recorder: int = -1


# One lock for every usage sink: each holds it for a few bytecodes (a merge at most), and a
# lock of its own would be allocated on every call. A forked child gets a new one: another
# thread of the parent may have held it at the fork, and nobody would release it there.
_sink_lock = threading.Lock()


def _new_sink_lock() -> None:
    global _sink_lock
    _sink_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_sink_lock)


class UsageSink:
    """The part of a call other threads may touch: its usage and whether it ended.

    Kept in the OpenTelemetry context (``USAGE_SINK_KEY``) so ``record_usage``
    finds the innermost llm_call from any thread or task it started. Separate
    from the :class:`Call` so the context never refers back to the call (no
    reference cycle: a finished call is freed at once, not by the cycle
    collector).
    """

    __slots__ = ("usage", "ended", "result", "span", "wrapper", "unobserved")

    def __init__(self) -> None:
        self.usage: Usage | None = None
        self.ended = False
        # The app read the response in a way otel-llm cannot see: no usage to total, counted apart.
        self.unobserved = False
        # The llm_call's span, and whether another llm_call started directly inside it: then that
        # one is the model call, and this one only wraps it (its tokens and cost are not counted again).
        self.span: Span | None = None
        self.wrapper = False
        # Usage read from the function's return value, folded in when the call ends (``close``):
        # only the call's own thread sets it, so it needs no lock of its own.
        self.result: Usage | None = None

    def wrapped(self) -> bool:
        """Another llm_call started directly inside this one: mark this one a wrapper.

        ``True`` only for the first such call (the model call this one's own count
        stands for); later ones are further model calls the wrapper made.
        """
        with _sink_lock:
            first = not self.wrapper
            self.wrapper = True
            return first

    def add_usage(self, usage: "Usage") -> None:
        """Fold ``usage`` in; its known fields win (``record_usage``, later values)."""
        with _sink_lock:
            self.usage = usage if self.usage is None else self.usage.merged(usage)

    def add_result_usage(self, usage: "Usage") -> None:
        """Fold in usage read from the return value or stream; already-recorded fields win."""
        with _sink_lock:
            self.usage = usage if self.usage is None else usage.merged(self.usage)

    def close(self) -> bool:
        """Mark the call ended, folding in ``result`` (recorded fields win); ``True`` only the first time."""
        with _sink_lock:
            if self.ended:
                return False
            self.ended = True
            result = self.result
            if result is not None:
                self.usage = result if self.usage is None else result.merged(self.usage)
            return True


class Call:
    """One execution of a decorated function and its span; ends exactly once."""

    __slots__ = (
        "kind",
        "runtime",
        "span",
        "ctx",
        "token",
        "started",
        "elapsed",
        "first_chunk_s",
        "sink",
        "chunks",
        "complete",
        "error_type",
        "extra",
        "running",
    )

    def __init__(self, kind: Kind, runtime: "Runtime", span: Span) -> None:
        self.kind = kind
        self.runtime = runtime
        self.span = span
        self.ctx: otel_context.Context | None = None
        self.token: object | None = None
        self.started = time.perf_counter()
        self.elapsed: float | None = None  # seconds, fixed when the call ends
        self.first_chunk_s: float | None = None  # seconds to a stream's first item
        self.sink = UsageSink()
        self.chunks: int | None = None  # None: not a stream
        self.complete = False  # a stream read to its end
        self.error_type: str | None = None
        self.extra: Any = None  # per-kind state (e.g. the chat turn)
        self.running: list[None] | None = None  # counted in _active while it runs

    # --- usage ------------------------------------------------------------
    @property
    def usage(self) -> "Usage | None":
        return self.sink.usage

    def add_usage(self, usage: "Usage") -> None:
        """Fold ``usage`` in; its known fields win (later chunks, ``record_usage``)."""
        self.sink.add_usage(usage)

    def add_result_usage(self, usage: "Usage") -> None:
        """Fold in usage read from the return value or stream; already-recorded fields win."""
        self.sink.add_result_usage(usage)

    def say_unobserved(self, reason: str) -> None:
        """The call's usage could not be seen (``reason``): said on its span, counted in its roll-ups."""
        self.sink.unobserved = True
        self.span.set_attribute(semconv.OTEL_LLM_USAGE_UNOBSERVED, reason)

    def exemplar(self) -> "ExemplarIds":
        """The span's ids when sampled, for metric exemplars (what ``metric_values`` may keep of the span; 0: none)."""
        return exemplar_ids(self.span.get_span_context())

    # --- outcomes -----------------------------------------------------------
    def finish(self, result: Any) -> Any:
        """Zone 3: the function returned. Returns ``result`` or a stream proxy of it."""
        token, self.token = self.token, None
        if token is not None:
            otel_context.detach(token)  # type: ignore[arg-type]
        proxy = None
        try:
            try:
                known: bool | None = type(result) in _streams.NOT_STREAMS  # most results: one set lookup
            except TypeError:  # a class its metaclass made unhashable: no stream type otel-llm wraps
                known = None
            if known is None:
                pass  # and no shape it reads (each is remembered per class): returned as it is, read as no usage
            elif not known:
                proxy = _streams.wrap_if_stream(result, self)
            if proxy is None and known is not None:
                self.kind.on_result(self, result)
        except Exception as exc:  # noqa: BLE001
            if not raised_by_app(exc):  # the app's result raised in its own code: read as no usage
                internal_error("core.finish", exc)
        finally:
            if proxy is None:  # a stream's span ends with the stream
                self.end()
        return result if proxy is None else proxy

    def stream(self, iterator: Any) -> Any:
        """Hand a generator (from a generator function) to its stream proxy."""
        return _streams.wrap(iterator, self)

    def fail(self, exc: BaseException) -> None:
        """Zone 2: the user's function raised; record it (the wrapper re-raises)."""
        self._detach()
        try:
            self.record_failure(exc)
        finally:
            self.end()

    def record_failure(self, exc: BaseException) -> None:
        """ERROR status, ``exception`` event, ``error.type`` for an ``Exception`` or a cancellation.

        A cancelled coroutine (``asyncio.timeout``, ``wait_for``, ``task.cancel()``;
        trio's and anyio's cancel scopes) ended by an exception without finishing its
        work: the recording-errors convention makes that a failure, ``error.type``
        ``CancelledError`` (trio's: ``Cancelled``), the same for every kind. Not
        failures: a closed generator, Ctrl-C, ``sys.exit()``.
        """
        if not _is_failure(exc):
            return
        try:
            self.error_type = error_type(exc)
            span, content = self.span, self.runtime.content
            # The app's text (message, stack trace) through the redact hook, when one is set.
            span.set_status(Status(StatusCode.ERROR, utf8_safe(content.scrub(_describe(exc)))))
            span.set_attribute(semconv.ERROR_TYPE, self.error_type)
            try:
                span.record_exception(exc, attributes=content.exception_attributes(exc), escaped=True)
            except Exception:  # noqa: BLE001 — the user's exception cannot be rendered: not our bug
                span.add_event(semconv.EVENT_EXCEPTION, {semconv.EXCEPTION_TYPE: self.error_type})
            self.kind.on_error(self, exc)
        except Exception as internal:  # noqa: BLE001
            internal_error("core.fail", internal)

    # --- streams ----------------------------------------------------------
    def first_chunk(self, item: Any) -> ChunkObserver | None:
        """A stream's first item arrived: note when, and ask the kind what each item needs."""
        self.first_chunk_s = time.perf_counter() - self.started
        try:
            return self.kind.on_first_chunk(self, item)
        except Exception as exc:  # noqa: BLE001
            internal_error("core.first_chunk", exc)
            return None

    def end_stream(
        self, complete: bool, chunks: int, exc: BaseException | None = None, end_ns: int | None = None
    ) -> None:
        """The stream stopped (exhausted, closed, failed, cancelled or collected) after ``chunks`` items
        (``end_ns``: when, if not now: a stream abandoned during a garbage collection)."""
        if self.sink.ended:
            return
        try:
            self.chunks = chunks
            self.complete = complete
            self.span.set_attributes({semconv.OTEL_LLM_STREAM_COMPLETE: complete, semconv.OTEL_LLM_STREAM_CHUNKS: chunks})
            if exc is not None:
                self.record_failure(exc)
        except Exception as internal:  # noqa: BLE001
            internal_error("core.end_stream", internal)
        finally:
            self.end(end_ns)

    @property
    def ended(self) -> bool:
        return self.sink.ended

    def end(self, end_ns: int | None = None) -> None:
        """Run the kind's roll-ups, end the span, hand the metric values on — only the first time.

        The span ends at the time the call ended (``end_ns``, else now), taken before the
        roll-ups: pricing the first call of a model loads the price table (tenths of a
        second), which is otel-llm's work, not the call's latency.
        """
        if not self.sink.close():
            return
        now_ns = time.time_ns()
        if self.running is not None:
            _active.ended(self.running)
        self.elapsed = time.perf_counter() - self.started
        if end_ns is None:
            end_ns = now_ns
        else:  # ended earlier than now: the call's duration stops then too
            self.elapsed = max(0.0, self.elapsed - (now_ns - end_ns) / 1e9)
        kind = self.kind
        try:
            kind.on_end(self)
        except Exception as exc:  # noqa: BLE001
            internal_error("core.end", exc)
        finally:
            _end_span(self.span, end_ns)
        try:
            item = kind.metric_values(self)
            if item is not None:  # recorded by the configuration in force now: a later configure() shut the call's
                _runtime.current().instruments.submit(item)  # meter provider down, never collected again
        except Exception as exc:  # noqa: BLE001
            internal_error("core.metrics", exc)

    def never_ran(self) -> None:
        """The call's work will never run (a returned coroutine dropped unawaited): counted out of the running
        calls. Its span is left unended: nothing happened to record."""
        running, self.running = self.running, None
        if running is not None and not self.sink.ended:
            _active.ended(running)

    def duration(self) -> float:
        """Seconds from the start of the call to its end (or to now, while it runs)."""
        elapsed = self.elapsed
        return time.perf_counter() - self.started if elapsed is None else elapsed

    def _detach(self) -> None:
        token, self.token = self.token, None
        if token is not None:
            otel_context.detach(token)  # type: ignore[arg-type]


def open_call(kind: Kind, args: tuple[Any, ...], kwargs: dict[str, Any], attach: bool) -> Call | None:
    """Zone 1: start the span and, if ``attach``, make it current.

    ``None`` (the wrapper then calls the function bare) on any fault, when
    the runtime is disabled, when a finaliser calls it while the cyclic garbage
    collector runs (see ``_streams.defer``: attaching a context there can crash CPython),
    or where OpenTelemetry suppresses instrumentation (a span processor exporting: a
    decorated function the app's exporter calls would otherwise record a span, exported
    by the same exporter, without end).

    Generator functions pass ``attach=False``: their body runs later, step by
    step, each step in ``call.ctx`` (see ``_streams``).
    """
    span: Span | None = None
    try:
        runtime = _runtime.current()
        # A runtime that records nothing (exporter="none" without providers of
        # the user's, or no-op providers) makes the wrapper call the function
        # bare: "off" must cost next to nothing.
        if not runtime.enabled:
            return None
        if _streams.deferred_pending:  # a safe point: end the streams a garbage collection abandoned
            _streams.end_deferred()
        # Called by a finaliser the collector runs in this thread: no context may change there.
        if _streams.gc_running and _streams.collecting_here():
            return None
        if kind.selects:  # named from the call's arguments: the span starts under its name
            kind = kind.select(args)
        parent = otel_context.get_current()
        if REDACTING_KEY in parent:  # called by the redact hook: otel-llm's work, recorded nowhere
            return None
        if parent.get(SUPPRESS_INSTRUMENTATION_KEY):  # type: ignore[arg-type]  # an exporter's work (the app's too)
            return None
        project = runtime.settings.project
        known = kind._with_project  # static_attributes' cache, read here first (one call less per call)
        attributes = known[1] if known is not None and known[0] == project else kind.static_attributes(project)
        node = parent.get(ENCLOSING_NODE_KEY)  # a Context is a read-only dict
        session = current_session(parent)
        # Most calls run outside graph nodes, sessions and attempts: the static mapping as it is.
        if node or session is not None or kind.has_call_attributes or (kind.attempts and ATTEMPT_KEY in parent):
            attributes = _call_attributes(kind, attributes, parent, node, session, args, kwargs)
        # (name, context, kind, attributes): the API's order, passed by position (keywords cost more).
        span = runtime.tracer.start_span(kind.span_name, parent, kind.span_kind, attributes)
        call = Call(kind, runtime, span)
        values = kind.enter(call, parent)
        if kind.has_call_context:
            values = {**(values or {}), **kind.call_context(attributes, parent)}
        if SPAN_KEY is not None:  # the call's context in one copy: the parent's, the span, the kind's values
            call.ctx = otel_context.Context({**parent, SPAN_KEY: span, **values} if values else {**parent, SPAN_KEY: span})
        else:
            call.ctx = _context_via_api(span, parent, values)
        kind.on_start(call, args, kwargs)
        if attach:
            call.token = otel_context.attach(call.ctx)
        call.running = _active.started(kind.kind, kind.span_name)
        return call
    except Exception as exc:  # noqa: BLE001
        if span is not None:
            _end_span(span, None)
        internal_error("core.start", exc)
        return None


def _end_span(span: Span, end_ns: int | None) -> None:
    """``span.end(end_ns)``, which runs every span processor's ``on_end`` on the app's thread.

    A processor that raises (the app's own, a vendor's) must not turn the app's
    result into its error, nor replace the app's exception: logged once, the call goes on.
    """
    try:
        span.end(end_ns)
    except Exception as exc:  # noqa: BLE001
        internal_error("core.span_end", exc)


def _context_via_api(span: Span, parent: otel_context.Context, values: Mapping[str, object] | None) -> otel_context.Context:
    """``parent`` with ``span`` current and the kind's ``values``, when the span key is not known."""
    with_span = trace.set_span_in_context(span, parent)
    return otel_context.Context({**with_span, **values}) if values else with_span


def _call_attributes(
    kind: Kind,
    static: Mapping[str, AttributeValue],
    parent: otel_context.Context,
    node: Mapping[str, AttributeValue] | None,
    session: Session | None,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> dict[str, AttributeValue]:
    """A span's attributes inside a graph node, session or attempt, or from the call's arguments.

    The kind's own attributes win over the enclosing node's (a nested graph
    node names itself), and the node's values of the kind's ``identity`` are
    left out; the session's, the attempt's and the call's are added.
    """
    attributes = {**without(node, kind.identity), **static} if node else dict(static)
    if session is not None:
        attributes.update(session.attributes)
    if kind.attempts and ATTEMPT_KEY in parent:  # inside an otel_llm.attempt() block
        number = attempt_number(parent)
        if number is not None:
            attributes[semconv.OTEL_LLM_ATTEMPT] = number
    if kind.has_call_attributes:
        extra = kind.call_attributes(args, kwargs)
        if extra:
            attributes.update(extra)
    return attributes


def without(values: Mapping[str, AttributeValue], keys: frozenset[str]) -> Mapping[str, AttributeValue]:
    """``values`` less ``keys`` (``values`` itself when there is nothing to leave out)."""
    if not keys or keys.isdisjoint(values):
        return values
    return {k: v for k, v in values.items() if k not in keys}


def current_usage_sink() -> UsageSink | None:
    """The usage sink of the innermost active llm_call in this context, if any."""
    return otel_context.get_value(USAGE_SINK_KEY)  # type: ignore[return-value]
