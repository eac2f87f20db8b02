"""The resolved state every decorator reads, swapped atomically by ``configure()``.

Why one immutable object behind one global: a decorated call reads
:func:`current` once and then uses a consistent tracer, instrument set, price
book and content policy even if another thread re-configures meanwhile. Before
``configure()`` a default runtime on the global (proxy) tracer and meter is
built lazily, so decorators applied at import time never fail and start
exporting as soon as *any* global provider is set.
"""

from __future__ import annotations

import atexit
import logging
import os
import signal
import threading
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Callable, Mapping

from opentelemetry import metrics, trace
from opentelemetry.metrics import Meter
from opentelemetry.trace import Tracer

from otel_llm import _notices, semconv
from otel_llm._guard import internal_error
from otel_llm._content import ContentPolicy
from otel_llm._sampling import say_if_sampled
from otel_llm._names import MAX_NAME_CHARS
from otel_llm._settings import Settings, attribute_value_limit
from otel_llm.pricing import PriceBook

if TYPE_CHECKING:
    from otel_llm._metrics import Instruments
    from otel_llm._providers import Providers

__all__ = ["Runtime", "configure", "current", "flush", "shutdown"]

_log = logging.getLogger("otel_llm")
SCOPE = semconv.INSTRUMENTATION_SCOPE


def _scope_version() -> str:
    try:
        from importlib.metadata import version

        return version("otel-llm")
    except Exception:  # noqa: BLE001 — running from a source tree without metadata
        return "0.0.0"


@dataclass(frozen=True)
class Runtime:
    """Everything a decorated call needs, resolved once per ``configure()``."""

    settings: Settings
    tracer: Tracer
    meter: Meter
    instruments: "Instruments"
    prices: PriceBook
    content: ContentPolicy
    enabled: bool = True  # False: decorators call the function bare (exporter="none", no-op providers)
    # The longest session value (thread and user id, run_config value) spans take: the SDK's span attribute
    # value length limit when set, else otel-llm's bound (``_names.bounded_value``).
    value_chars: int = MAX_NAME_CHARS

    @property
    def project(self) -> str | None:
        return self.settings.project


def _instruments(meter: Meter) -> "Instruments":
    from otel_llm._metrics import Instruments  # the core engineer's module; imported lazily

    return Instruments.create(meter)


def _build_runtime(
    settings: Settings, tracer_provider: Any | None, meter_provider: Any | None, enabled: bool = True
) -> Runtime:
    version = _scope_version()
    provider = tracer_provider or trace.get_tracer_provider()
    tracer = provider.get_tracer(SCOPE, version)
    if isinstance(provider, trace.ProxyTracerProvider):  # the global provider is not set yet
        tracer = _AwaitingGlobal(tracer)
    meter = (meter_provider or metrics.get_meter_provider()).get_meter(SCOPE, version)
    prices = PriceBook.load(settings.pricing)
    if enabled:
        prices.load_table()
    return Runtime(
        settings=settings,
        tracer=tracer,
        meter=meter,
        instruments=_instruments(meter),
        prices=prices,
        content=ContentPolicy(
            capture=settings.capture_content,
            redact=settings.redact,
            max_chars=settings.max_content_chars,
        ),
        enabled=enabled,
        value_chars=_value_chars(),
    )


def _value_chars() -> int:
    """``Runtime.value_chars``: read once per runtime, as the SDK's providers read their limits."""
    limit = attribute_value_limit()
    return MAX_NAME_CHARS if limit is None else limit


_lock = threading.RLock()
_runtime: Runtime | None = None
_providers: "Providers | None" = None
_atexit_registered = False
_threads_instrumented = False


def current() -> Runtime:
    """The active runtime; before ``configure()``, a default one on the global providers.

    Cheap (one global read) and never raises: if even the default cannot be
    built, the error propagates only from the first call inside our guard.
    """
    rt = _runtime
    if rt is not None:
        return rt
    return _default_runtime()


def _default_runtime() -> Runtime:
    global _runtime
    with _lock:
        if _runtime is None:
            _runtime = _build_runtime(Settings.resolve(exporter="none"), None, None)
            say_if_sampled(trace.get_tracer_provider())
        return _runtime


class _AwaitingGlobal(Tracer):
    """The tracer of a runtime on the global providers while the app has set no tracer provider yet.

    Why: OpenTelemetry's proxy passes spans on to the provider the app sets
    later (at most once per process), but otel-llm says a sampler that keeps
    only some calls' spans when it attaches to a provider (``_sampling``), and
    it attached to the proxy. The first span started after the app set its
    provider sees that provider instead of the proxy (one attribute read per
    call until then): its sampler is said, and the runtime takes the provider's
    own tracer (what the proxy would delegate to), so later calls go through
    neither this tracer nor the proxy.
    """

    def __init__(self, proxy: Tracer) -> None:
        from otel_llm._upstream import global_tracer_provider  # the global's private slot, read where it is

        self._proxy = proxy
        self._global = global_tracer_provider
        self.adopted = False

    def start_span(self, *args: Any, **kwargs: Any) -> Any:
        if not self.adopted:
            provider = self._global()
            if provider is not None:
                _adopt_global(self, provider)
        return self._proxy.start_span(*args, **kwargs)

    def start_as_current_span(self, *args: Any, **kwargs: Any) -> Any:
        return self._proxy.start_as_current_span(*args, **kwargs)


def _adopt_global(awaiting: _AwaitingGlobal, provider: Any) -> None:
    """The app set ``provider`` as the global one: say its sampler, and have the runtime still waiting for it
    (its tracer ``awaiting``) use the provider's tracer, or the proxy's when the provider has none to give."""
    global _runtime
    awaiting.adopted = True  # the global is set once: this tracer looks no further
    say_if_sampled(provider)
    try:
        tracer = provider.get_tracer(SCOPE, _scope_version())
    except Exception as exc:  # noqa: BLE001 — the app's provider: the proxy passes spans on as before
        internal_error("runtime: adopt the global tracer provider", exc)
        tracer = awaiting._proxy
    with _lock:
        if _runtime is not None and _runtime.tracer is awaiting:
            _runtime = replace(_runtime, tracer=tracer)


_NOT_SETTINGS = frozenset({"tracer_provider", "meter_provider", "extra"})


def configure(
    *,
    service_name: str | None = None,
    project: str | None = None,
    exporter: str | None = None,
    output_dir: str | Any | None = None,
    endpoint: str | None = None,
    protocol: str | None = None,
    pricing: Mapping[str, Any] | str | Any | None = None,
    capture_content: bool | None = None,
    redact: Callable[[str], str] | None = None,
    tracer_provider: Any | None = None,
    meter_provider: Any | None = None,
    logs: bool | None = None,
    process_metrics: bool | None = None,
    **extra: Any,
) -> None:
    """Configure otel-llm: resolve settings, build or adopt providers, swap the runtime.

    ``None`` means "not given": the environment (``OTEL_*``, ``OTEL_LLM_*``)
    then the default applies (``exporter="file"``, ``output_dir="./otel-data"``,
    ``protocol="http/protobuf"``, ``capture_content=False``, logs on with the
    file exporter, ``process_metrics=False``). Extra settings
    (``max_content_chars``, ``rotate_max_bytes``, ``spool_dir``,
    ``spool_max_bytes``, ``metric_export_interval_ms``) are keyword arguments
    too. Providers passed in are used, never shut down by us; providers we
    create become the global ones. Calling it again replaces the previous
    configuration and closes what the previous call created.

    ``exporter="none"`` without providers turns otel-llm off (decorated
    functions run bare); with providers passed in (as ``otel_llm.testing``
    does) it only means "we add no exporter".

    Raises ``ValueError``/``TypeError`` only for invalid explicit arguments.
    """
    global _runtime, _providers
    # Every named parameter except the providers is a setting (keeps the signature explicit
    # for users and IDEs without repeating each name a second time here).
    settings = Settings.resolve(**{
        **{k: v for k, v in locals().items() if k not in _NOT_SETTINGS},
        **extra,
    })
    if settings.exporter == "otlp":
        _check_endpoints(endpoint, settings.protocol)
    from otel_llm import _providers as providers_mod
    from otel_llm.exporters._setup_warnings import said_once

    with _lock:
        previous = _providers
        previous_budget = _runtime.settings.shutdown_timeout_s if _runtime is not None else None
        with said_once():  # upstream's exporters each warn about the same OTEL_* setting
            built = providers_mod.build(settings, tracer_provider, meter_provider)
        try:
            runtime = _build_runtime(settings, built.tracer_provider, built.meter_provider, built.records)
        except Exception:
            built.shutdown()
            raise
        providers_mod.install_globals(built)
        _runtime, _providers = runtime, built
        if built.records:
            say_if_sampled(built.tracer_provider)
        if previous is not None:
            previous.replaced_by(built)  # what ends on the previous providers from now on goes on to the new
            previous.shutdown(previous_budget)
        _register_atexit()
        _register_sigterm_flush()
        _register_worker_exit_flush()
        _register_fork_reset()
        _instrument_threads()


def _check_endpoints(endpoint: str | None, protocol: str) -> None:
    """An ``endpoint`` argument that is not a URL raises (a configuration error is the caller's to see);
    an ``OTEL_EXPORTER_OTLP_*ENDPOINT`` variable that is not one is said on stderr, naming it (upstream's
    exporters read it themselves: what they cannot send is spooled, as for a collector that is down)."""
    from otel_llm.exporters._endpoints import endpoint_problem, environment_problems

    if endpoint is not None:
        problem = endpoint_problem(endpoint, protocol)
        if problem:
            raise ValueError(f"configure(endpoint={endpoint!r}) is not a usable OTLP endpoint for protocol "
                             f"{protocol!r}: {problem}")
        return
    for sentence in environment_problems(protocol):
        _notices.notice(f"{sentence}; nothing can be sent there: what is not sent is spooled for a process "
                        "with a usable endpoint (or, with the spool off, counted as lost)")


def flush(timeout_s: float = 5) -> bool:
    """Force-flush every provider in use; ``True`` when all finished in time. Never raises."""
    state = _providers
    if state is None:
        return True
    try:
        return state.force_flush(timeout_s)
    except Exception as exc:  # noqa: BLE001 — never raises into the app
        internal_error("runtime: flush", exc)
        return False


def shutdown() -> None:
    """Flush and close what ``configure()`` created, within ``shutdown_timeout_s``. Idempotent.

    Decorators keep working after. With the OTLP exporter, what the collector
    has not taken when the budget runs out is spooled, and a line on stderr
    says how much and where (see ``exporters.spool``); what nothing could take
    is counted as lost. Called again (at exit), it sums up what was lost since
    (spans ended after the shutdown), as the first notice of such a loss says.
    """
    from otel_llm.exporters._owned_lock import held_here

    if held_here():  # called by a signal handler that interrupted this thread inside a delivery lock
        _shutdown_elsewhere()
        return
    _shutdown_here()


def _shutdown_elsewhere() -> None:
    """Shut down in a helper thread, waited for within the budget, and return.

    Why: a signal handler runs on the thread it interrupted; when that thread
    holds a delivery lock (its metric flush was appending to the spool), a
    shutdown here would wait for the lock for ever. The helper waits for it
    instead: once the handler returns, the interrupted code ends and lets it go,
    and the helper finishes (not a daemon: the interpreter's exit waits for it).
    """
    rt = _runtime
    budget = rt.settings.shutdown_timeout_s if rt is not None else Settings.shutdown_timeout_s
    helper = threading.Thread(target=_shutdown_here, name="otel-llm-shutdown")
    helper.start()
    helper.join(budget + 1.0)
    if helper.is_alive():
        _notices.notice("otel_llm.shutdown() was called (a signal handler?) while its own thread was inside "
                        "otel-llm's export; it ends once the interrupted code goes on")


def _shutdown_here() -> None:
    global _runtime, _providers
    with _lock:
        state, _providers = _providers, None
        settings = _runtime.settings if _runtime is not None else None
        _runtime = None  # back to the default runtime on the global providers
    if state is None:  # shut down before (this is the exit): sum up what ended after that, as promised
        _notices.print_tally()
        return
    budget = settings.shutdown_timeout_s if settings is not None else None
    owned = list(state.owned)  # emptied by the shutdown
    try:
        state.shutdown(budget)
    finally:
        _quiet_meters_after(owned)
        _notices.print_tally()


def _quiet_meters_after(owned: list[Any]) -> None:
    """After shutdown, calls record their metrics nowhere when the global meter provider is one
    otel-llm made (``owned``) and just shut down.

    The runtime falls back to the global providers; the SDK's shut-down
    MeterProvider answers ``get_meter`` with a no-op meter *and* a WARNING in the
    application's log. So the fallback takes its meter from a no-op provider at
    once. Spans still go to the (shut-down) tracer provider, whose processors
    count them as lost on stderr.
    """
    global _runtime
    provider = metrics.get_meter_provider()
    if not any(provider is ours for ours in owned):
        return
    with _lock:
        if _runtime is None:
            _runtime = _build_runtime(Settings.resolve(exporter="none"), None, metrics.NoOpMeterProvider())


def _swap(runtime: Runtime | None, providers: "Providers | None") -> tuple[Runtime | None, "Providers | None"]:
    """Install a runtime and return the previous pair (used by ``otel_llm.testing``)."""
    global _runtime, _providers
    with _lock:
        old = (_runtime, _providers)
        _runtime, _providers = runtime, providers
        return old


def _register_atexit() -> None:
    global _atexit_registered
    if not _atexit_registered:
        atexit.register(shutdown)
        _atexit_registered = True


_sigterm_pid: int | None = None  # the process whose SIGTERM handler is ours


def _register_sigterm_flush() -> None:
    """Flush before a SIGTERM ends the process, when the app left SIGTERM at its default; once per process.

    Why: SIGTERM is how containers and services are stopped (``docker stop``,
    ``kubectl delete pod``, systemd), and its default action ends the process
    without ``atexit`` -- the spans of the last second, still in the export
    queue, were lost without a word. The handler runs :func:`shutdown` (bounded
    by ``shutdown_timeout_s``), restores the default and sends SIGTERM again, so
    the process still ends by the signal with the same exit status. A handler the
    app sets (before or after) is the app's: we never replace one, and a later
    one replaces ours. Only the main thread may set handlers; elsewhere nothing
    is done.
    """
    global _sigterm_pid
    if _sigterm_pid == os.getpid() or threading.current_thread() is not threading.main_thread():
        return
    try:
        if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
            return
        signal.signal(signal.SIGTERM, _flush_then_terminate)
    except (ValueError, OSError, AttributeError) as exc:  # no SIGTERM here (an embedded interpreter)
        _log.debug("otel-llm: SIGTERM flush not installed: %s", exc)
        return
    _sigterm_pid = os.getpid()
    _register_worker_sigterm_watch()


_sigterm_started = False  # this process's SIGTERM handler has begun
_worker_watch_registered = False


def _register_worker_sigterm_watch() -> None:
    """In each forked ``multiprocessing`` worker, make sure the SIGTERM handler it inherits runs; registered once.

    ``Pool.terminate()`` (so every ``with Pool() as pool:``) ends its workers
    with SIGTERM while it holds the lock of their task queue for good. A worker
    whose main thread sleeps on that lock when the signal lands elsewhere never
    ran the handler and never ended: the app's ``with`` block waited for ever.
    :mod:`otel_llm._signal_wakeup` wakes that main thread.
    """
    global _worker_watch_registered
    if _worker_watch_registered or not hasattr(os, "register_at_fork"):
        return
    from otel_llm import _upstream

    os.register_at_fork(after_in_child=lambda: _upstream.on_multiprocessing_worker_start(_watch_sigterm))
    _worker_watch_registered = True


def _watch_sigterm() -> None:
    global _sigterm_started
    _sigterm_started = False
    try:
        if signal.getsignal(signal.SIGTERM) is _flush_then_terminate:
            from otel_llm import _signal_wakeup

            _signal_wakeup.watch(signal.SIGTERM, _flush_then_terminate, lambda: _sigterm_started)
    except Exception as exc:  # noqa: BLE001 — the worker runs its tasks whatever the watch does
        internal_error("runtime: SIGTERM watch in a worker", exc)


_WORKER_FLUSH_S = 1.0  # a multiprocessing worker's flush on SIGTERM: to the local spool, never the network


def _flush_then_terminate(signum: int, frame: Any) -> None:
    """SIGTERM: shut down (in a thread, waited for within the budget), then end by the signal as before.

    A forked child inherits the handler. A ``multiprocessing`` worker -- which
    ``Pool.terminate()``, and so every ``with Pool() as pool:`` block, ends
    with SIGTERM -- first flushes (its exporters write to the spool on local
    disk, :data:`_WORKER_FLUSH_S` at most) so the metric points it recorded are
    kept, then removes its exit marker; one already in its exit flush (it
    got its last task before the signal) is left to finish it; other children
    end at once, as before (their marker tells the next start that what they
    held was lost).
    """
    global _sigterm_started
    _sigterm_started = True  # first: a wakeup (_signal_wakeup) must not send the signal again from now on
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM ends the process at once
    if os.getpid() == _sigterm_pid:
        settings = _runtime.settings if _runtime is not None else None
        budget = settings.shutdown_timeout_s if settings is not None else Settings.shutdown_timeout_s
        # A thread, not this frame: the interrupted code may hold a lock the flush needs.
        closing = threading.Thread(target=shutdown, name="otel-llm-sigterm", daemon=True)
        closing.start()
        closing.join(budget + 1)
    elif _worker_exiting:
        return  # its exit flush runs on this very thread, holding the locks a flush needs: let it end
    else:
        _hand_over_at_child_exit()
    os.kill(os.getpid(), signal.SIGTERM)


_forked_child = False  # this process was forked from a configured one
_handed_over = False  # this child's exit flush ran (its marker is gone if the flush finished)


def _hand_over_at_child_exit() -> None:
    """In a forked child that ends now (SIGTERM, ``os._exit``): flush to the local spool or file (bounded,
    in a thread: the interrupted code may hold a lock the flush needs), then remove its exit marker. Once.

    A flush that does not finish in time leaves the marker: what the child held may be lost, and the
    next start says so.
    """
    global _handed_over
    from otel_llm.exporters import _exit_marker
    from otel_llm.exporters._batching import ending_child, in_worker_process

    if _handed_over or not (_forked_child or in_worker_process()) or _providers is None:
        return
    _handed_over = True
    ending_child()  # keep, never send: a hung collector must not hold the child's exit
    flushing = threading.Thread(target=flush, args=(_WORKER_FLUSH_S,), name="otel-llm-child-exit", daemon=True)
    flushing.start()
    flushing.join(_WORKER_FLUSH_S + 1.0)
    if not flushing.is_alive():  # what it held is spooled or counted: nothing for the next start
        _exit_marker.remove_own()
    _notices.print_tally()  # its losses, summed up at its exit as their first notice said


_real_exit = os._exit


def _exit_after_hand_over(status: int) -> None:
    """``os._exit`` in a forked child: hand over what it holds, then end as asked.

    A bare ``os.fork()`` child -- a forking server's worker -- typically ends
    with ``os._exit``, which runs no ``atexit`` and no finalizer: the metric
    points it recorded were lost and its exit marker stayed behind. A
    ``multiprocessing`` worker has already flushed in its finalizers; then
    nothing is done twice.
    """
    try:
        _hand_over_at_child_exit()
    except BaseException as exc:  # noqa: BLE001 — the child must end whatever the flush does
        internal_error("runtime: flush at a forked child's os._exit", exc)
    _real_exit(status)


def _after_fork_in_child() -> None:
    global _forked_child, _handed_over
    if _providers is None:  # not configured (or shut down): nothing to hand over
        return
    _forked_child, _handed_over = True, False
    os._exit = _exit_after_hand_over


_worker_exit_registered = False


def _register_worker_exit_flush() -> None:
    """Flush the providers when a forked ``multiprocessing`` worker ends normally; registered once.

    Such a worker leaves through ``os._exit``: no ``atexit``, so no
    ``shutdown()``. Its spans and log records are written through or flushed by
    their processors (``exporters._batching``), but the metric points it
    recorded sit in its copy of the meter provider until a periodic export that
    never comes. ``close()/join()`` and an executor's end run the worker's
    ``multiprocessing`` finalizers, where :func:`flush` exports them. (A bare
    ``os.fork()`` child ending in ``os._exit`` runs no finalizer: see
    :func:`_exit_after_hand_over`.)
    """
    global _worker_exit_registered
    if _worker_exit_registered or not hasattr(os, "register_at_fork"):
        return
    from otel_llm import _upstream

    os.register_at_fork(after_in_child=lambda: _upstream.on_multiprocessing_worker_exit(_flush_at_worker_exit))
    _worker_exit_registered = True


_worker_exiting = False  # this multiprocessing worker runs its exit flush


def _flush_at_worker_exit() -> None:
    global _worker_exiting, _handed_over
    _worker_exiting = True
    flush()
    _handed_over = True  # its os._exit that follows has nothing left to do
    _notices.print_tally()


_fork_reset_registered = False


def _register_fork_reset() -> None:
    """In a forked child, forget the metric points the parent had aggregated in the meter provider
    ``configure()`` made (an app's own provider is the app's); registered once.

    Each process counts its own calls: the child's copy of the parent's
    aggregations, exported under the child's ``service.instance.id``, would
    count the parent's calls again (``_upstream.forget_metric_points``). The
    queue of calls not yet recorded is the metric thread's (``_metrics``), which
    empties it in the child too.
    """
    global _fork_reset_registered
    if _fork_reset_registered or not hasattr(os, "register_at_fork"):
        return
    os.register_at_fork(after_in_child=_forget_parent_metric_points)
    os.register_at_fork(after_in_child=_after_fork_in_child)
    _fork_reset_registered = True


def _forget_parent_metric_points() -> None:
    state = _providers
    if state is None or not any(p is state.meter_provider for p in state.owned):  # an app's own: left as it is
        return
    try:
        from otel_llm import _upstream

        _upstream.forget_metric_points(state.meter_provider)
    except Exception as exc:  # noqa: BLE001 — a fork hook must never raise into the app
        internal_error("runtime: metric points after fork", exc)


def _instrument_threads() -> None:
    """Propagate context into threads/executors via the core engineer's helper, once."""
    global _threads_instrumented
    if _threads_instrumented:
        return
    try:
        from otel_llm.context import instrument_threads
    except ImportError:
        return
    try:
        instrument_threads()
        _threads_instrumented = True
    except Exception:  # noqa: BLE001 — missing propagation is degraded, not fatal
        _log.warning("otel-llm: could not instrument threads", exc_info=True)
