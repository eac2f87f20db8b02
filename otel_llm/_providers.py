"""Build (or adopt) the OpenTelemetry SDK providers for one ``configure()`` call.

Why a separate module: with ``exporters/`` this is the only place that touches
the OpenTelemetry SDK, so the hot path (decorators) keeps importing only the
API. A :class:`Providers` remembers which providers *we* created, so flush and
shutdown never close a provider the application owns.
"""

from __future__ import annotations

import logging
import os
import time
import weakref
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from opentelemetry import metrics, trace
from opentelemetry.sdk.environment_variables import OTEL_METRICS_EXEMPLAR_FILTER
from opentelemetry.sdk.metrics import (
    AlwaysOffExemplarFilter, AlwaysOnExemplarFilter, ExemplarFilter, MeterProvider, TraceBasedExemplarFilter,
)
from opentelemetry.sdk.metrics.export import MetricExporter
from opentelemetry.sdk.resources import SERVICE_NAME, OTELResourceDetector, Resource
from opentelemetry.sdk.trace import SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter

from otel_llm import _notices, _upstream
from otel_llm._guard import internal_error
from otel_llm._settings import Settings, warn_malformed
from otel_llm.exporters._batching import BatchLogProcessor, BatchSpanProcessor, ProcessorPipeline, processors_settings

__all__ = ["Providers", "build"]

_log = logging.getLogger("otel_llm.providers")

# The longest a flush waits (a year): ``flush(timeout_s=math.inf)`` means as long as it takes.
LONGEST_FLUSH_S = 365 * 24 * 3600.0


@dataclass
class Providers:
    """The providers in use, and the parts of them that we own and must close."""

    tracer_provider: Any
    meter_provider: Any
    logger_provider: Any | None = None
    owned: list[Any] = field(default_factory=list)  # providers we created, closed by shutdown()
    closers: list[Callable[[], None]] = field(default_factory=list)  # detach handler, uninstrument
    # Our processors and spooled exporters: told the shutdown deadline before the providers close.
    bounded: list[Any] = field(default_factory=list)
    # Our batching processors' batchers, by signal ("traces", "logs"): handed on by :meth:`replaced_by`.
    batchers: dict[str, Any] = field(default_factory=dict)

    @property
    def records(self) -> bool:
        """False when spans could only ever be dropped (no-op tracer provider): otel-llm is off."""
        return not isinstance(self.tracer_provider, trace.NoOpTracerProvider)

    def force_flush(self, timeout_s: float = 5.0, skip: tuple[Any, ...] = ()) -> bool:
        """Flush every provider in use (adopted ones too: flushing never loses data), within ``timeout_s``;
        not those in ``skip``. A longer wait (``math.inf``: as long as it takes) waits :data:`LONGEST_FLUSH_S`:
        the providers take their timeouts as integer milliseconds and deadlines within the clock's range."""
        deadline = time.monotonic() + (min(timeout_s, LONGEST_FLUSH_S) if timeout_s > 0 else 0)
        ok = True
        seen: set[int] = {id(provider) for provider in skip}
        for provider in (self.tracer_provider, self.meter_provider, self.logger_provider):
            if provider is None or id(provider) in seen:
                continue
            seen.add(id(provider))
            flush = getattr(provider, "force_flush", None)
            if not callable(flush):
                continue
            left_ms = int((deadline - time.monotonic()) * 1000)
            if left_ms < 50:  # out of time (a MeterProvider raises when its deadline passed before a reader)
                ok = False
                continue
            try:
                result = flush(timeout_millis=left_ms)
                ok = ok and result is not False
            except Exception as exc:  # noqa: BLE001 — flush is best effort, reported not raised
                internal_error(f"providers: flushing {type(provider).__name__}", exc)
                ok = False
        return ok

    def replaced_by(self, successor: "Providers") -> None:
        """A new ``configure()`` replaces these providers (shut down next): a span or log record ending on
        ours after that (a stream started before and read after) goes on to ``successor``'s pipeline for
        its signal (or is counted as lost for that reason, when it has none)."""
        for signal, batcher in self.batchers.items():
            batcher.replaced_by(*successor._taker(signal, self.owned))

    def _taker(self, signal: str, replaced: list[Any]) -> tuple[Any | None, str]:
        """What takes ``signal``'s items a replaced pipeline (of the providers ``replaced`` owned) hands on:
        otel-llm's batcher for it, or, for spans, the processors of the app's own tracer provider (alive: the
        app passed it); else ``None``, with what this configuration is, for the notice of the loss."""
        batcher = self.batchers.get(signal)
        if batcher is not None:
            return batcher, ""
        provider = self.tracer_provider
        if signal != "traces" or not self.records or provider in self.owned:
            return None, "one exporting none"
        if provider in replaced:  # the replaced configuration's own, passed back: shut down with it
            return None, "one on the provider it started on, passed to configure() again and shut down by it"
        processor = _upstream.span_processor_of(provider)
        if processor is None:
            return None, f"one on the app's {type(provider).__name__}, which takes no span started on another"
        return ProcessorPipeline(processor), ""

    def shutdown(self, budget_s: float | None = None) -> None:
        """Undo our integrations, then close the providers we created (idempotent).

        Flushing and closing end within about ``budget_s`` seconds (default:
        ``Settings.shutdown_timeout_s``): exports still waiting on a collector
        then are interrupted and spooled (OTLP), and what no exporter took is
        counted as lost.
        """
        budget = Settings.shutdown_timeout_s if budget_s is None else max(budget_s, 0)
        deadline = time.monotonic() + budget
        for part in self.bounded:
            part.set_deadline(deadline)
        # Not our own meter provider: closing it makes the last collection, and a flush before would
        # export the same cumulative points twice (spooled twice, counted twice).
        self.force_flush(budget, skip=tuple(p for p in self.owned if p is self.meter_provider))
        closers, self.closers = self.closers, []
        for close in reversed(closers):
            _quietly(close)
        owned, self.owned = self.owned, []
        for provider in owned:
            _quietly(provider.shutdown)


def _quietly(fn: Callable[[], Any]) -> None:
    try:
        fn()
    except Exception as exc:  # noqa: BLE001 — shutdown must finish whatever one part does
        internal_error("providers: shutdown", exc)


def _resource(settings: Settings) -> Resource:
    """Resource.create also merges OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME.

    service.name: ``configure(service_name=)``, then ``OTEL_SERVICE_NAME`` (both
    resolved into the settings), then a ``service.name`` in
    ``OTEL_RESOURCE_ATTRIBUTES`` as the specification says, and only then our
    default -- which must not hide the one the user set there.
    """
    name = settings.service_name
    if name == _DEFAULT_SERVICE_NAME:
        name = str(OTELResourceDetector().detect().attributes.get(SERVICE_NAME) or name)
    return Resource.create({SERVICE_NAME: name})


# OTEL_METRICS_EXEMPLAR_FILTER's values (the specification's), and the default.
_EXEMPLAR_FILTERS = {
    "trace_based": TraceBasedExemplarFilter, "always_on": AlwaysOnExemplarFilter, "always_off": AlwaysOffExemplarFilter,
}


def _exemplar_filter() -> ExemplarFilter:
    """The exemplar filter ``OTEL_METRICS_EXEMPLAR_FILTER`` names; a malformed value warns and keeps the default
    (upstream's MeterProvider raises ``ValueError`` for it: ``configure()`` raised into the app)."""
    raw = os.environ.get(OTEL_METRICS_EXEMPLAR_FILTER)
    chosen = _EXEMPLAR_FILTERS.get((raw or "trace_based").strip().lower())
    if chosen is None:
        warn_malformed(OTEL_METRICS_EXEMPLAR_FILTER, raw or "", ValueError(f"not one of {', '.join(_EXEMPLAR_FILTERS)}"),
                       "trace_based")
        chosen = TraceBasedExemplarFilter
    return chosen()


_DEFAULT_SERVICE_NAME = Settings.service_name


def _spool(exporter: Any, signal: str, settings: Settings) -> Any:
    """Wrap an OTLP exporter with the disk spool (or, with ``spool_max_bytes <= 0``, loss counting)."""
    from otel_llm.exporters.spool import spooled

    return spooled(exporter, signal, settings.resolved_spool_dir, settings.spool_max_bytes,
                   settings.max_request_bytes)


def _otlp_endpoint(settings: Settings, signal: str) -> dict[str, str]:
    """Explicit endpoints: http wants the per-signal path appended, grpc the bare host:port."""
    if not settings.endpoint or settings.endpoint == os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        # Not given as an argument: the exporters resolve OTEL_EXPORTER_OTLP_{,TRACES_,...}ENDPOINT
        # themselves, so a signal-specific variable still beats the generic one.
        return {}
    if settings.protocol == "grpc":
        return {"endpoint": settings.endpoint}
    return {"endpoint": f"{settings.endpoint.rstrip('/')}/v1/{signal}"}


# Of an export's timeout, what its requests leave for the spool to keep what they did not send (a local write):
# at most this, at most a quarter of it.
_KEEPING_RESERVE_S = 0.5


def _export_timeout(timeouts: dict[str, float], signal: str) -> dict[str, float]:
    """The ``timeout`` (seconds) to build ``signal``'s OTLP exporter with: its batching processor's export
    timeout (``OTEL_BSP_EXPORT_TIMEOUT``, ``OTEL_BLRP_EXPORT_TIMEOUT``), less :data:`_KEEPING_RESERVE_S`, when
    shorter than the exporter's own (``OTEL_EXPORTER_OTLP_{,SIGNAL_}TIMEOUT``), so that no export runs longer
    (what its requests did not send is spooled within it); otherwise nothing: the exporter reads its own."""
    from otel_llm.exporters._replay_http import sending_for

    limit = timeouts.get(signal)
    if limit is None:
        return {}
    limit -= min(_KEEPING_RESERVE_S, limit / 4)
    return {"timeout": limit} if limit < sending_for(signal).timeout_s else {}


def _otlp_exporters(settings: Settings, timeouts: dict[str, float]) -> tuple[SpanExporter, MetricExporter, Any]:
    from otel_llm.exporters._quiet import install
    from otel_llm.exporters._setup_warnings import grpc_timeouts_readable

    install()  # the HTTP client's lines of our exports stay out of the app's logging
    OTLPLogExporter = _upstream.otlp_log_exporter_class(settings.protocol)  # noqa: N806
    if settings.protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter

        from otel_llm.exporters.otlp import GrpcSpanExporter as OTLPSpanExporter
    else:
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import (  # type: ignore[assignment]
            OTLPMetricExporter,
        )

        # Upstream's exporter with a wire encoder ~5x faster (equal bytes once parsed):
        # the upstream encoder alone caps OTLP at ~14k spans/s on this project's 2-core box.
        from otel_llm.exporters.otlp import HttpSpanExporter as OTLPSpanExporter  # type: ignore[assignment]
    from otel_llm.exporters.otlp import METRIC_POINTS_PER_REQUEST, BoundedLogExporter, WellFormedMetricExporter

    # Every request stays under max_request_bytes: spans and logs are split by size,
    # metrics by data-point count (upstream's option).
    limit = settings.max_request_bytes
    with grpc_timeouts_readable() if settings.protocol == "grpc" else nullcontext():
        spans = OTLPSpanExporter(**_otlp_endpoint(settings, "traces"), **_export_timeout(timeouts, "traces"),
                                 max_request_bytes=limit)
        points = OTLPMetricExporter(**_otlp_endpoint(settings, "metrics"),
                                    max_export_batch_size=METRIC_POINTS_PER_REQUEST)
        records = OTLPLogExporter(**_otlp_endpoint(settings, "logs"), **_export_timeout(timeouts, "logs"))
    return (
        _spool(spans, "traces", settings),
        _spool(WellFormedMetricExporter(_upstream.watch_refusals(points)), "metrics", settings),
        _spool(BoundedLogExporter(_upstream.watch_refusals(records), limit), "logs", settings),
    )


def _console_exporters(settings: Settings, timeouts: dict[str, float]) -> tuple[SpanExporter, MetricExporter, Any]:
    from opentelemetry.sdk.metrics.export import ConsoleMetricExporter
    from opentelemetry.sdk.trace.export import ConsoleSpanExporter

    return ConsoleSpanExporter(), ConsoleMetricExporter(), _upstream.ConsoleLogRecordExporter()


def _file_exporters(settings: Settings, timeouts: dict[str, float]) -> tuple[SpanExporter, MetricExporter, Any]:
    from otel_llm.exporters.file import FileLogExporter, FileMetricExporter, FileSpanExporter

    out = Path(settings.output_dir)
    sizes = {"max_bytes": settings.rotate_max_bytes, "max_line_bytes": settings.max_request_bytes}
    return (
        FileSpanExporter(out / "traces.jsonl", **sizes),
        FileMetricExporter(out / "metrics.jsonl", **sizes),
        FileLogExporter(out / "logs.jsonl", **sizes),
    )


# Each builds a signal's exporters from the settings and the batching processors' export timeouts (seconds,
# by signal: what an exporter of its own timeout must keep within).
_EXPORTERS: dict[str, Callable[[Settings, dict[str, float]], tuple[SpanExporter, MetricExporter, Any]]] = {
    "file": _file_exporters,
    "otlp": _otlp_exporters,
    "console": _console_exporters,
}


#: Under the file exporter's output directory: what otel-llm keeps there that is not telemetry (the
#: running processes' exit markers); no data file suffix inside, so ``otel-llm ingest`` passes over it.
MARKER_DIR = ".otel-llm"


# Queue sizes, batch sizes, delays and export timeouts of our batching processors; the standard
# OTEL_BSP_* / OTEL_BLRP_* variables win. The SDK's default span queue (2048)
# drops spans in any burst faster than the exporter; 32768 bound it to tens of MB.
# max queue, max batch, schedule delay (ms): at most 1 s of spans in memory; export timeout (ms): upstream's
_SPAN_BATCHING = (32768, 512, 1000, 30000)
_LOG_BATCHING = (2048, 512, 1000, 30000)


def build(
    settings: Settings,
    tracer_provider: Any | None = None,
    meter_provider: Any | None = None,
) -> Providers:
    """Create what was not passed in; adopted providers are used as they are.

    ``OTEL_SDK_DISABLED=true`` (the specification's off switch) counts as
    ``exporter="none"``: no exporter, no spool replaying an earlier run's data.
    With ``exporter="none"`` and nothing passed in, otel-llm is *off*: the
    API's no-op providers, nothing installed globally (the application keeps
    the one-time global slot for its own setup), nothing exported, and the
    runtime is marked disabled so decorators call the function bare.
    """
    off = settings.exporter == "none" or _sdk_disabled()
    if off:
        tracer_provider = tracer_provider if tracer_provider is not None else trace.NoOpTracerProvider()
        meter_provider = meter_provider if meter_provider is not None else metrics.NoOpMeterProvider()
    make = None if off else _EXPORTERS.get(settings.exporter)
    # Read where our processors are built (a malformed variable nothing reads is not warned about).
    span_batching = processors_settings("BSP", _SPAN_BATCHING, os.environ.get) if make and tracer_provider is None else {}
    log_batching = processors_settings("BLRP", _LOG_BATCHING, os.environ.get) if make and settings.logs_enabled else {}
    timeouts = {signal: batching["export_timeout_s"]
                for signal, batching in (("traces", span_batching), ("logs", log_batching)) if batching}
    span_exp, metric_exp, log_exp = make(settings, timeouts) if make else (None, None, None)
    resource = _resource(settings)
    result = Providers(tracer_provider=tracer_provider, meter_provider=meter_provider)

    local = settings.exporter == "file"  # worker processes write local files through, item by item
    for exporter in (span_exp, metric_exp, log_exp):
        if hasattr(exporter, "set_deadline"):
            result.bounded.append(exporter)

    if tracer_provider is None:
        tp = TracerProvider(  # our atexit flushes
            resource=resource, shutdown_on_exit=False, span_limits=_upstream.tolerant_limits(SpanLimits)())
        if span_exp is not None:
            processor = BatchSpanProcessor(span_exp, local=local, **span_batching)
            tp.add_span_processor(processor)
            result.bounded.append(processor.batcher)
            result.batchers["traces"] = processor.batcher
        result.tracer_provider = tp
        result.owned.append(tp)

    if meter_provider is None:
        readers = []
        if metric_exp is not None:
            readers.append(
                _upstream.periodic_metric_reader()(
                    metric_exp, export_interval_millis=settings.metric_export_interval_ms
                )
            )
        mp = MeterProvider(
            resource=resource, metric_readers=readers, shutdown_on_exit=False, exemplar_filter=_exemplar_filter())
        result.meter_provider = mp
        result.owned.append(mp)

    if result.records and not isinstance(result.meter_provider, metrics.NoOpMeterProvider):
        _notices.observe(result.meter_provider.get_meter("otel_llm.delivery"))

    if settings.logs_enabled and log_exp is not None:
        from otel_llm._logs import attach_logging, logger_provider_for

        log_processor = BatchLogProcessor(log_exp, local=local, **log_batching)
        result.bounded.append(log_processor.batcher)
        result.batchers["logs"] = log_processor.batcher
        lp = logger_provider_for(resource, log_processor)
        result.logger_provider = lp
        result.owned.append(lp)
        result.closers.append(attach_logging(lp))

    if settings.process_metrics and not isinstance(result.meter_provider, metrics.NoOpMeterProvider):
        from otel_llm._process import enable_process_metrics

        closer = enable_process_metrics(result.meter_provider)
        if closer is not None:
            result.closers.append(closer)
    if not off and settings.exporter in ("otlp", "file"):
        from otel_llm.exporters._exit_marker import started

        # last: removed once all else is closed
        if settings.exporter == "file":
            result.owned.append(started(Path(settings.output_dir) / MARKER_DIR, spooled=False))
        elif settings.spool_max_bytes > 0:
            result.owned.append(started(settings.resolved_spool_dir))
    return result


def _sdk_disabled() -> bool:
    """``OTEL_SDK_DISABLED``: only ``true`` (any case) disables, as the specification says."""
    return os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true"


# Every provider we ever made global: only those may be replaced by a later configure().
_installed: "weakref.WeakSet[Any]" = weakref.WeakSet()


def install_globals(providers: Providers) -> None:
    """Make the providers we created the global ones, so other instrumentations share our files.

    OpenTelemetry allows setting a global provider once. When the current
    global is one *we* installed (by an earlier ``configure()``, even one
    since shut down), it is swapped; a global the application set itself is
    left alone.
    """
    for signal, provider in (("traces", providers.tracer_provider), ("metrics", providers.meter_provider),
                             ("logs", providers.logger_provider)):
        if provider is None or provider not in providers.owned:
            continue
        if _upstream.install_global_provider(signal, provider, _installed):
            _installed.add(provider)
        else:
            _log.info("otel-llm: a global %s is already set by the application; keeping it",
                      type(_upstream.global_provider(signal)).__name__)
