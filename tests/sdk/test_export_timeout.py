"""``OTEL_BSP_EXPORT_TIMEOUT`` / ``OTEL_BLRP_EXPORT_TIMEOUT``: the longest one export may run.

otel-llm builds its own batching processors (``exporters._batching``), which
read the other ``OTEL_BSP_*``/``OTEL_BLRP_*`` variables but not these: an app
that set ``OTEL_BSP_EXPORT_TIMEOUT=500`` to bound an export still had
``flush()`` and ``shutdown()`` wait on an export that hung (a slow disk, a
collector that took the request and never answered) for as long as it hung, up
to the exporter's own timeout (10 s for OTLP) or the 30 s a local file's drain
may take. They are read as upstream's ``BatchSpanProcessor`` reads them
(milliseconds; a malformed one warns once and keeps the default, 30 s), and
honoured: no flush or shutdown waits on one export longer than that (what it
held is counted as lost, said with the variable's name), and an OTLP export's
requests are given no more time than that (what they did not send is spooled).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from otel_llm import _notices
from otel_llm.exporters._batching import BatchSpanProcessor, processors_settings

from ._http_answers import Recording, _carried, serving
from ._spooled import run_app

# The defaults otel-llm's span batching processor is built with (``_providers``): queue, batch, delay, timeout.
from otel_llm._providers import _SPAN_BATCHING


class _Slow(SpanExporter):
    """Takes each export ``seconds`` to return (or until released): a slow disk, a hung collector."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.released = threading.Event()
        self.exported: list[str] = []

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.released.wait(self.seconds)
        self.exported += [span.name for span in spans]
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass


@pytest.fixture
def fresh_notices() -> Iterator[None]:
    _notices._reset_for_tests()
    yield
    _notices._reset_for_tests()


def _pipeline(exporter: SpanExporter, timeout_ms: str, local: bool = False) -> tuple[TracerProvider, BatchSpanProcessor]:
    """A provider whose spans go to ``exporter`` through otel-llm's span batcher, built as ``configure()`` builds
    it with ``OTEL_BSP_EXPORT_TIMEOUT=timeout_ms``."""
    settings = processors_settings("BSP", _SPAN_BATCHING, {"OTEL_BSP_EXPORT_TIMEOUT": timeout_ms}.get)
    processor = BatchSpanProcessor(exporter, local=local, **settings)
    provider = TracerProvider()
    provider.add_span_processor(processor)
    return provider, processor


def _end_span(provider: TracerProvider, name: str) -> None:
    provider.get_tracer("t").start_span(name).end()


def test_a_flush_waits_on_a_hung_export_no_longer_than_the_export_timeout(fresh_notices: None) -> None:
    slow = _Slow(30)
    provider, processor = _pipeline(slow, "300")
    try:
        _end_span(provider, "first")
        started = time.monotonic()
        flushed = processor.force_flush(20_000)
        waited = time.monotonic() - started
        assert flushed is False  # not exported: said, not waited for
        assert waited < 3, waited  # the export hangs for 30 s; its timeout is 0.3 s
    finally:
        slow.released.set()
    while not slow.exported and time.monotonic() - started < 10:  # the export returns once released
        time.sleep(0.01)
    processor.shutdown()
    assert slow.exported == ["first"]  # it finished after all: nothing was counted lost meanwhile
    assert _notices.totals() == {}


def test_a_shutdown_waits_on_a_hung_local_export_no_longer_than_the_export_timeout_and_counts_it(
        fresh_notices: None, capsys: pytest.CaptureFixture[str]) -> None:
    """A local file's export is drained past the shutdown budget (up to 30 s): no longer than its timeout."""
    slow = _Slow(30)
    provider, processor = _pipeline(slow, "300", local=True)
    _end_span(provider, "first")
    time.sleep(0.05)
    deadline = time.monotonic()
    while not processor.batcher._exporting and time.monotonic() - deadline < 5:  # the export has begun
        time.sleep(0.01)
    _end_span(provider, "second")  # queued behind the hung export
    started = time.monotonic()
    processor.shutdown()
    waited = time.monotonic() - started
    slow.released.set()
    assert waited < 3, waited
    assert _notices.totals() == {("traces", "export_timeout"): 2}
    said = capsys.readouterr().err
    assert "2 spans lost" in said and "OTEL_BSP_EXPORT_TIMEOUT (300 ms)" in said, said


def test_an_export_slower_than_usual_but_within_its_timeout_is_waited_for(fresh_notices: None) -> None:
    slow = _Slow(0.3)
    provider, processor = _pipeline(slow, "5000")
    _end_span(provider, "first")
    assert processor.force_flush(20_000) is True
    processor.shutdown()
    assert slow.exported == ["first"] and _notices.totals() == {}


APP = """
import logging, sys, time, otel_llm
from opentelemetry import trace
otel_llm.configure(exporter="otlp", endpoint=sys.argv[1], spool_dir=sys.argv[2], service_name="slow",
                   logs=True, shutdown_timeout_s=3)
for i in range(3):
    with trace.get_tracer("app").start_as_current_span(f"span {i}"):
        logging.getLogger("app").warning("record %d", i)
started = time.monotonic()
flushed = otel_llm.flush(20)
print("flush", flushed, round(time.monotonic() - started, 1))
otel_llm.shutdown()
"""

HUNG_S = 6.0  # how long the endpoint holds the first export of the signal before it answers


class _HoldingFirst(Recording):
    """Takes every export; answers the first one to ``held`` only after :data:`HUNG_S`."""

    held = "/v1/traces"

    def do_POST(self) -> None:  # noqa: N802 — http.server's name
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        type(self).posts.append(self.path)
        if self.path == self.held and type(self).posts.count(self.held) == 1:
            time.sleep(HUNG_S)
        type(self).names += _carried(self.path, body, "json" in (self.headers.get("content-type") or ""))
        self._send(200, b"{}")


@pytest.mark.parametrize(("signal", "variable", "items"), [
    ("traces", "OTEL_BSP_EXPORT_TIMEOUT", {"span 0", "span 1", "span 2"}),
    ("logs", "OTEL_BLRP_EXPORT_TIMEOUT", {"record 0", "record 1", "record 2"}),
])
def test_an_otlp_export_is_given_no_more_time_than_the_export_timeout(
        tmp_path: Path, signal: str, variable: str, items: set[str]) -> None:
    """The exporter's own timeout is 10 s; the export's, 0.5 s: the held request is given up after 0.5 s, what
    it carried is spooled and sent again, and the flush is done long before the endpoint answers it."""
    _HoldingFirst.names, _HoldingFirst.posts, _HoldingFirst.held = [], [], f"/v1/{signal}"
    with serving(_HoldingFirst) as url:
        done = run_app(APP, url, str(tmp_path / "spool"), OTEL_EXPORTER_OTLP_TIMEOUT="10", **{variable: "500"})
    (line,) = [line for line in done.stdout.splitlines() if line.startswith("flush")]
    _, flushed, seconds = line.split()
    assert flushed == "True" and float(seconds) < HUNG_S - 2, done.stdout + done.stderr
    assert items <= set(_HoldingFirst.names), (_HoldingFirst.names, done.stderr)
    assert "did not answer within the exporter's timeout" in done.stderr, done.stderr
