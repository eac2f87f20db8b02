"""Test helper: run otel-llm against in-memory exporters and read back what it recorded.

Why a public helper: applications using otel-llm want to assert on their own
spans and metrics without a global provider or files. ``capture()`` builds a
private TracerProvider (``InMemorySpanExporter`` behind a
``SimpleSpanProcessor``, so spans are visible the moment they end) and a
MeterProvider with an ``InMemoryMetricReader``, configures otel-llm on them
with ``exporter="none"``, and restores the previous runtime on exit::

    from otel_llm.testing import capture

    def test_tokens():
        with capture(pricing={"my-model": {"input": 1, "output": 2}}) as cap:
            answer()
        span = cap.spans()[0]
        assert span.attributes["gen_ai.usage.input_tokens"] == 12
        assert cap.metrics()["gen_ai.client.token.usage"]

It is also a pytest-friendly object: ``cap = Capture(); cap.start(); ...;
cap.stop()`` in a fixture. ``capture(fixed_ids=True)`` numbers trace and span
ids 1, 2, 3… so whole-span snapshots are stable.
"""

from __future__ import annotations

import itertools
import threading
from typing import Any

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_llm import _runtime

__all__ = ["Capture", "SequentialIdGenerator", "capture"]


class SequentialIdGenerator(IdGenerator):
    """Trace and span ids 1, 2, 3…: deterministic ids for snapshot tests."""

    def __init__(self) -> None:
        self._spans = itertools.count(1)
        self._traces = itertools.count(1)
        self._lock = threading.Lock()

    def generate_span_id(self) -> int:
        with self._lock:
            return next(self._spans)

    def generate_trace_id(self) -> int:
        with self._lock:
            return next(self._traces)


class Capture:
    """Private providers + in-memory exporter/reader, installed as otel-llm's runtime."""

    def __init__(self, *, fixed_ids: bool = False, **configure_kwargs: Any) -> None:
        self.exporter = InMemorySpanExporter()
        self.reader = InMemoryMetricReader()
        self.tracer_provider = TracerProvider(
            id_generator=SequentialIdGenerator() if fixed_ids else None, shutdown_on_exit=False
        )
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.meter_provider = MeterProvider(metric_readers=[self.reader], shutdown_on_exit=False)
        self._kwargs = configure_kwargs
        self._saved: tuple[Any, Any] | None = None

    # --- lifecycle ---------------------------------------------------------
    def start(self) -> "Capture":
        """Install: the previous runtime is set aside (not shut down) until :meth:`stop`."""
        if self._saved is not None:
            return self
        self._saved = _runtime._swap(None, None)
        try:
            _runtime.configure(
                tracer_provider=self.tracer_provider,
                meter_provider=self.meter_provider,
                exporter="none",
                **self._kwargs,
            )
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Close what our configure() created and restore the previous runtime."""
        if self._saved is None:
            return
        saved, self._saved = self._saved, None
        _, ours = _runtime._swap(*saved)
        if ours is not None:
            ours.shutdown()

    def __enter__(self) -> "Capture":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- reading -------------------------------------------------------------
    def spans(self) -> list[ReadableSpan]:
        """Finished spans, in the order they ended."""
        return list(self.exporter.get_finished_spans())

    def span(self, name: str) -> ReadableSpan:
        """The one finished span called ``name`` (``AssertionError`` if not exactly one)."""
        found = [s for s in self.spans() if s.name == name]
        assert len(found) == 1, f"expected one span {name!r}, found {[s.name for s in self.spans()]}"
        return found[0]

    def clear(self) -> None:
        self.exporter.clear()

    def metrics(self) -> dict[str, list[Any]]:
        """Data points by metric name, flattened across resources and scopes.

        Each point is the SDK's point object (``NumberDataPoint`` with
        ``.value``, ``HistogramDataPoint`` with ``.count/.sum/.bucket_counts``),
        all carrying ``.attributes``.
        """
        data = self.reader.get_metrics_data()
        points: dict[str, list[Any]] = {}
        if data is None:
            return points
        for rm in data.resource_metrics:
            for sm in rm.scope_metrics:
                for metric in sm.metrics:
                    points.setdefault(metric.name, []).extend(metric.data.data_points)
        return points


def capture(*, fixed_ids: bool = False, **configure_kwargs: Any) -> Capture:
    """A :class:`Capture` to use as a context manager; other kwargs go to ``configure()``."""
    return Capture(fixed_ids=fixed_ids, **configure_kwargs)
