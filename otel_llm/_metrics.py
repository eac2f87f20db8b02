"""The metric instruments, and the hand-off that records their points off the caller's thread.

Why a hand-off: recording one point in the OpenTelemetry SDK costs several
microseconds (attribute validation, hashing, a lock, an exemplar offer), as
much as the whole span of a decorated call. A call therefore does only what
must happen in it — the span and its attributes — and, when it ends, appends
the few values its points need (a small tuple) to :class:`Instruments`' queue
(``deque.append``: atomic under the GIL, no lock, a fraction of a
microsecond).

The queued items are flat tuples of numbers and strings — their recorder
named by its index (:func:`recorder_index`), attribute sets by theirs
(:func:`attribute_set`), the span by its ids in one int
(:func:`exemplar_ids`) — so the garbage collector stops tracking them while
they are young. Thousands of pending items that referred to spans, kinds or
bound methods would be tracked containers that survive into the older
generations, and each full collection they trigger walks the app's whole
heap: a cost the caller would pay in its own thread.

The points are recorded later, by whichever comes first:

* any collection by any reader of the meter's provider: an observable
  instrument whose callback drains the queue, and the SDK runs callbacks before
  it reads the synchronous instruments. So ``otel_llm.flush()``/``shutdown()``
  (they flush the meter provider), a periodic export and an
  ``InMemoryMetricReader.get_metrics_data()`` all see every call that ended
  before them — exact, not eventually;
* a daemon thread, every ``DRAIN_INTERVAL_S`` while the process is mostly
  waiting (an LLM app waits on the network most of the time): recording then
  takes nothing from the app. While the process is busy (more than
  ``BUSY_SHARE`` of a core, the thread's own drains not counted) it waits
  for an idle tick or a collection, because with the GIL every microsecond it
  spends recording is taken from the app's threads — the points are only read
  at collection anyway;
* the same thread as soon as ``WAKE_AT`` calls are pending, busy or not
  (bounded memory), and the caller itself past ``HIGH_WATER`` (a CPU-bound
  loop can outrun the thread): nothing is ever dropped.

A drain adds up counter increments (cost, vector operations, tool calls) per
counter, attribute set and ``error.type`` and adds each sum once
(:meth:`Instruments.add`): a counter point is its sum, so the result is the
same; histograms get every value, one ``record`` each, in submission order.

One lock serialises drains, so a collection waits for points the thread has
taken but not yet recorded. The values come from the calls, not from their
spans, so sampling does not change a single point; they keep the span's ids,
so the duration histograms' exemplars link to the call's span
(:func:`exemplar_context`; counts of tokens and cost go without, an exemplar
offer costs as much as half a point). Values, not calls, wait in the queue: a
finished call and its span are freed at once.

Extending: a kind returns its item from ``Kind.metric_values`` — its
``metric_recorder`` index first, then the values — and records it in its
static ``Kind.record_metrics`` (run on the draining thread, which unpacks
the item; counters through :meth:`Instruments.add`, attributes through
:func:`point_attributes`); the values carry what the recorder needs, the
kind's attribute sets included, so a kind that is gone by the time its
calls' points are recorded loses none of them. Anything else with points to
record calls :meth:`Instruments.submit` with one such tuple, its first value
the :func:`recorder_index` of a module-level recorder function. A new
instrument is one field here and one line in ``_build``.

Attribute sets recorded on these instruments stay low-cardinality: operation,
provider, model, kind-specific names and ``error.type`` — never conversation,
user or response ids. Names, units and bucket boundaries come from ``semconv``.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.metrics import CallbackOptions, Counter, Histogram, Meter, NoOpMeter, Observation
from opentelemetry.trace import INVALID_SPAN, NonRecordingSpan, SpanContext, TraceFlags
from opentelemetry.util.types import AttributeValue

from otel_llm import _active, semconv
from otel_llm._guard import internal_error

__all__ = [
    "BUSY_SHARE", "DRAIN_INTERVAL_S", "HIGH_WATER", "NO_EXEMPLAR", "WAKE_AT", "ExemplarIds", "Instruments",
    "AttributeSet", "Recorder", "attribute_set", "exemplar_context", "exemplar_ids", "point_attributes",
    "recorder_index",
]

# How often the metric thread looks at the queue (and at how busy the process is).
DRAIN_INTERVAL_S = 0.2
# The share of one core the process may have used over the last tick (the metric
# thread's own drains not counted) for the tick to count as idle and drain.
BUSY_SHARE = 0.1
# Pending items at which the metric thread drains at once, however busy the process.
WAKE_AT = 16384
# Pending items beyond which the submitting thread records the backlog itself: a
# CPU-bound loop can outrun the metric thread (both share the GIL). Bounds the
# queue's memory (under 300 bytes an llm_call item: about 4.5 MiB at WAKE_AT); never drops a point.
HIGH_WATER = 2 * WAKE_AT


# Records the points of one queued item (its recorder's index, then its values), on the draining thread.
Recorder = Callable[[Any, "Instruments"], None]

# A sampled span's trace and span ids in one int (``trace_id << 64 | span_id``),
# for an exemplar; 0: no exemplar.
ExemplarIds = int

class _Registry:
    """Values by a small int that queued items name them by, registered on first use; never shrinks."""

    def __init__(self) -> None:
        self.values: list[Any] = []
        self._indexes: dict[Any, int] = {}
        self.lock = threading.Lock()

    def index(self, key: Any, value: Any) -> int:
        """The index of ``key`` (hashable), registering ``value`` under it the first time."""
        index = self._indexes.get(key)
        if index is None:
            with self.lock:
                index = self._indexes.get(key)
                if index is None:
                    index = len(self.values)
                    self.values.append(value)
                    self._indexes[key] = index
        return index


# Every recorder ever submitted: a queued item names its recorder by its index.
# Recorders are module-level functions (a kind's static ``record_metrics``), a
# handful per process, so the registry stays that small.
_recorders = _Registry()


def recorder_index(record: Recorder) -> int:
    """The index items name ``record`` by, as their first value (registered on its first use; look it up once)."""
    return _recorders.index(record, record)


# An attribute set as queued items carry it: its index in ``_attribute_sets``. A
# dict, even of strings, would keep the item tracked by the garbage collector, and
# so would a long-lived tuple the collector has not yet looked at.
AttributeSet = int

# Every attribute set registered, by content. Metric attribute sets are
# low-cardinality by design (operation, provider, model, kind-specific names),
# so the registry stays small.
_attribute_sets = _Registry()
# (set, error.type) -> the set's attributes with error.type: built once each.
_with_errors: dict[tuple[AttributeSet, str], Mapping[str, AttributeValue]] = {}


def attribute_set(attributes: Mapping[str, AttributeValue]) -> AttributeSet:
    """The index queued items name ``attributes`` by (registered on first use; build it once per kind)."""
    return _attribute_sets.index(tuple(attributes.items()), dict(attributes))


def point_attributes(index: AttributeSet, error_type: str | None = None) -> Mapping[str, AttributeValue]:
    """The attributes of a point: the set's, plus ``error.type`` when the call failed.

    One dict per set and error type, reused for every point (the SDK copies what it keeps).
    """
    attributes = _attribute_sets.values[index]
    if error_type is None:
        return attributes
    found = _with_errors.get((index, error_type))
    if found is None:
        found = _with_errors[(index, error_type)] = {**attributes, semconv.ERROR_TYPE: error_type}
    return found


@dataclass(eq=False)
class Instruments:
    """Every instrument otel-llm records to, and the queue of points not yet recorded."""

    token_usage: Histogram
    operation_duration: Histogram
    time_to_first_chunk: Histogram
    cost: Counter
    vector_operations: Counter
    graph_node_duration: Histogram
    tool_duration: Histogram
    tool_calls: Counter
    _pending: deque[tuple[Any, ...]] = field(default_factory=deque, init=False, repr=False)  # (recorder, *values)
    _drain_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    # Counter increments of the drain under way, summed: (counter, attributes, error.type) -> sum.
    _sums: dict[tuple[int, AttributeSet, str | None], list[Any]] = field(default_factory=dict, init=False, repr=False)

    @classmethod
    def create(cls, meter: Meter) -> "Instruments":
        """The instruments on ``meter`` (works on the global proxy meter too); one set per meter.

        A meter hands back its existing instrument for a name it already has —
        the drain instrument's callback included — so every ``configure()`` on
        the same providers shares one queue, drained by that one callback.
        """
        with _per_meter_lock:
            known = _per_meter.get(meter)
            if known is None:
                known = cls._build(meter)
                _per_meter[meter] = known
            return known

    @classmethod
    def _build(cls, meter: Meter) -> "Instruments":
        instruments = cls(
            token_usage=_histogram(
                meter, semconv.METRIC_TOKEN_USAGE, "{token}",
                "Tokens used per LLM call, by gen_ai.token.type", semconv.TOKEN_USAGE_BUCKETS,
            ),
            operation_duration=_histogram(
                meter, semconv.METRIC_OPERATION_DURATION, "s", "Duration of LLM calls", semconv.DURATION_BUCKETS
            ),
            time_to_first_chunk=_histogram(
                meter, semconv.METRIC_TIME_TO_FIRST_CHUNK, "s",
                "Time from the start of a streamed LLM call to its first chunk", semconv.DURATION_BUCKETS,
            ),
            cost=meter.create_counter(semconv.METRIC_COST, unit="USD", description="Cost of LLM calls priced by otel-llm"),
            vector_operations=meter.create_counter(
                semconv.METRIC_VECTOR_OPERATIONS, unit="{operation}", description="Vector store operations"
            ),
            graph_node_duration=_histogram(
                meter, semconv.METRIC_GRAPH_NODE_DURATION, "s",
                "Duration of graph node executions", semconv.DURATION_BUCKETS,
            ),
            tool_duration=_histogram(
                meter, semconv.METRIC_TOOL_DURATION, "s", "Duration of tool calls", semconv.DURATION_BUCKETS
            ),
            tool_calls=meter.create_counter(
                semconv.METRIC_TOOL_CALLS, unit="{call}", description="Tool calls, by tool name and error.type"
            ),
        )
        if isinstance(meter, NoOpMeter):
            instruments.submit = _discard  # type: ignore[method-assign]  # nothing would ever be recorded
            return instruments
        _active.observe(meter)  # what is running now
        meter.create_observable_gauge(
            semconv.METRIC_PENDING_DRAIN, callbacks=[instruments._drain_at_collection],
            description="Records otel-llm's pending metric points before each collection; reports nothing",
        )
        _drainer.register(instruments)
        return instruments

    def submit(self, item: tuple[Any, ...]) -> None:
        """Have the recorder ``item[0]`` names record ``item`` on the recording thread.

        The only metric work on the caller's thread: one tuple appended.
        ``item[0]`` is the index of a module-level recorder function (see
        :func:`recorder_index`), which receives the whole ``item`` and
        unpacks it; the rest is flat numbers and strings, attribute sets by
        index (the queue keeps the item until it is recorded, untracked by
        the garbage collector). Past ``HIGH_WATER`` pending items the caller
        records the backlog itself.
        """
        pending = self._pending
        pending.append(item)
        backlog = len(pending)
        if backlog == WAKE_AT:
            _drainer.wake()
        elif backlog > HIGH_WATER:
            self.drain()

    def add(self, counter: Counter, amount: float, attributes: AttributeSet, error_type: str | None = None) -> None:
        """Add ``amount`` to ``counter`` (the ``attributes`` set plus ``error.type`` when given), from a recorder.

        Summed per counter, attribute set and error type over the drain under
        way, and added once when it ends: one SDK point instead of one per
        call. Called outside a drain it adds at once.
        """
        key = (id(counter), attributes, error_type)
        sums = self._sums
        entry = sums.get(key)
        if entry is not None:
            entry[3] += amount
        elif self._drain_lock.locked():
            # The entry keeps the counter alive, so its id stays its own for the drain.
            sums[key] = [counter, attributes, error_type, amount]
        else:
            counter.add(amount, point_attributes(attributes, error_type), NO_EXEMPLAR)

    def drain(self) -> None:
        """Record every pending item's points now: histogram values in submission order, counter sums at the end."""
        with self._drain_lock:
            pop, recorders = self._pending.popleft, _recorders.values
            while self._pending:
                item = pop()
                try:
                    recorders[item[0]](item, self)
                except Exception as exc:  # noqa: BLE001
                    internal_error("metrics.record", exc)
            self._add_sums()

    def _add_sums(self) -> None:
        sums, self._sums = self._sums, {}
        for counter, attributes, error_type, total in sums.values():
            try:
                counter.add(total, point_attributes(attributes, error_type), NO_EXEMPLAR)
            except Exception as exc:  # noqa: BLE001
                internal_error("metrics.record", exc)

    def _drain_at_collection(self, options: CallbackOptions) -> Iterable[Observation]:
        self.drain()
        return ()

    def _after_fork(self) -> None:
        # The parent's drain thread may have held the lock at fork time; in the
        # child nobody will release it. The queue's items were ended before the
        # fork and are the parent's to record: the child starts empty.
        self._drain_lock = threading.Lock()
        self._pending.clear()
        self._sums = {}


# One Instruments per meter, for as long as the meter lives (the value never refers to its key).
_per_meter: "weakref.WeakKeyDictionary[Meter, Instruments]" = weakref.WeakKeyDictionary()
_per_meter_lock = threading.Lock()


def _discard(item: tuple[Any, ...]) -> None:
    """``submit`` on a no-op meter: there is nothing to record to."""


def exemplar_ids(span_context: SpanContext) -> ExemplarIds:
    """What a queued item keeps of its call's span: its ids when sampled (an exemplar may link to it).

    A ``SpanContext`` is a tuple ``(trace_id, span_id, is_remote, trace_flags, ...)``;
    read by index, as its own properties do, without their three Python calls
    (this runs once per call, on the caller's thread).
    """
    if not span_context[3] & _SAMPLED:
        return 0
    return span_context[0] << 64 | span_context[1]


def exemplar_context(ids: ExemplarIds) -> Context:
    """The context a point is recorded in, so an exemplar links to its call's span.

    Never the current context: points are recorded on whichever thread drains,
    and that thread's current span (if any) is not the call's.
    """
    if not ids:
        return NO_EXEMPLAR
    span = NonRecordingSpan(SpanContext(ids >> 64, ids & _SPAN_ID_MASK, False, _SAMPLED))
    return trace.set_span_in_context(span)


_SPAN_ID_MASK = (1 << 64) - 1
_SAMPLED = TraceFlags(TraceFlags.SAMPLED)


# The context of a point that takes no exemplar (an empty Context would make the
# SDK fall back to the current one).
NO_EXEMPLAR: Context = trace.set_span_in_context(INVALID_SPAN)


def _histogram(meter: Meter, name: str, unit: str, description: str, buckets: Sequence[float]) -> Histogram:
    """A histogram with the semconv-recommended bucket boundaries as the advisory."""
    return meter.create_histogram(
        name, unit=unit, description=description, explicit_bucket_boundaries_advisory=buckets
    )


class _Drainer:
    """One daemon thread per process that drains every live :class:`Instruments` when the process idles.

    Each tick it compares the process's CPU time (less its own drains) with
    the wall time: under ``BUSY_SHARE`` of a core the process is mostly
    waiting, and the queues are drained; otherwise they wait for an idle tick,
    a collection or ``WAKE_AT`` pending items (:meth:`wake`).

    Weak references only: instruments of a replaced runtime are drained while
    their meter provider lives (its collections drain them too) and then go away.
    """

    # The clocks a tick reads (the process's CPU, this thread's CPU, wall time).
    process_cpu: Callable[[], float] = staticmethod(time.process_time)
    thread_cpu: Callable[[], float] = staticmethod(time.thread_time)
    wall: Callable[[], float] = staticmethod(time.monotonic)

    def __init__(self) -> None:
        self._queues: weakref.WeakSet[Instruments] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._last = (self.process_cpu(), self.wall())
        self._own = 0.0  # this thread's CPU time spent draining since the last tick

    def wake(self) -> None:
        """Drain now rather than at the next idle tick (a queue is filling up)."""
        self._wake.set()

    def register(self, instruments: Instruments) -> None:
        with self._lock:
            self._queues.add(instruments)
            if self._thread is None or not self._thread.is_alive():
                self._start()

    def _start(self) -> None:
        self._last, self._own = (self.process_cpu(), self.wall()), 0.0
        self._thread = threading.Thread(target=self._run, name="otel-llm-metrics", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            woken = self._wake.wait(DRAIN_INTERVAL_S)
            self._wake.clear()
            self.tick(woken)

    def tick(self, woken: bool) -> bool:
        """One look at the queues: drain them if ``woken`` or the process idled since the last tick.

        First, whatever the load, the spans of streams abandoned during a garbage
        collection are ended (``_streams.end_deferred``: they wait for a safe point).
        """
        from otel_llm import _streams  # imported with _core, before any tick

        _streams.end_deferred()
        cpu, wall = self.process_cpu(), self.wall()
        last_cpu, last_wall = self._last
        idle = cpu - last_cpu - self._own < BUSY_SHARE * (wall - last_wall)
        self._last, self._own = (cpu, wall), 0.0
        if not (woken or idle):
            return False
        started = self.thread_cpu()
        with self._lock:
            queues = list(self._queues)
        for instruments in queues:
            instruments.drain()
        del queues
        self._own = self.thread_cpu() - started
        return True

    def after_fork_in_child(self) -> None:
        """The thread did not survive the fork: fresh locks, a new thread if anything is registered."""
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread = None
        queues = list(self._queues)
        for instruments in queues:
            instruments._after_fork()
        if queues:
            self._start()


_drainer = _Drainer()


def _after_fork_in_child() -> None:
    global _per_meter_lock
    _per_meter_lock = threading.Lock()
    _recorders.lock = threading.Lock()
    _attribute_sets.lock = threading.Lock()
    _drainer.after_fork_in_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
