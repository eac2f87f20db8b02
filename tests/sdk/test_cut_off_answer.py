"""A 2xx answer whose body is cut off (the connection drops after the status line) was delivered.

Upstream's HTTP transport reads the answer's body before handing back the status:
when the connection broke part way through the body, the 200 was lost with it, the
export counted as failed, upstream's client sent the batch again at once, and what
was left was spooled and replayed -- the collector got the same spans two or three
times. The status line already said the request was taken. The same holds for
upstream's urllib3 transport (``Urllib3HTTPTransport``, given as ``_transport``),
which reads the body inside its pool's request.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from opentelemetry.exporter.http.transport._urllib3 import Urllib3HTTPTransport
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_llm import _upstream
from otel_llm._upstream import LogRecordExportResult
from otel_llm.exporters._spool_segments import segment_files
from otel_llm.exporters.otlp import HttpSpanExporter

from ._http_answers import Answering, _carried, one_span, serving
from ._spooled import run_app
from .test_closed_without_answer import APP  # three spans, then shutdown


class _CutOff(Answering):
    """Takes each export, answers ``200 OK`` with a Content-Length larger than the body it sends, and
    closes the connection; notes the span names it took."""

    names: list[str] = []

    def do_POST(self) -> None:  # noqa: N802 — http.server's name
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        type(self).posts.append(self.path)
        if self.path == "/v1/traces":
            type(self).names += _carried(self.path, body, "json" in (self.headers.get("content-type") or ""))
        self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\n"
                         b"Content-Length: 100\r\n\r\n\x0a\x00")
        self.wfile.flush()
        self.close_connection = True


def test_a_200_cut_off_mid_body_is_delivered_once_and_not_spooled(tmp_path: Path) -> None:
    _CutOff.names = []
    spool = tmp_path / "spool"
    with serving(_CutOff) as url:
        done = run_app(APP, url, str(spool))
        done_after = run_app(APP.replace("range(3)", "range(0)"), url, str(spool))  # replays anything spooled
    assert sorted(_CutOff.names) == ["span 0", "span 1", "span 2"], (_CutOff.names, done.stderr)
    assert "spooled" not in done.stderr and "lost" not in done.stderr, done.stderr
    assert not segment_files(spool / "traces"), done_after.stderr


def test_a_200_cut_off_mid_body_is_delivered_once_over_upstreams_urllib3_transport() -> None:
    memory = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(memory))
    with tracer_provider.get_tracer("app").start_as_current_span("span 0"):
        pass
    kept = InMemoryLogRecordExporter()
    logger_provider = LoggerProvider()
    logger_provider.add_log_record_processor(SimpleLogRecordProcessor(kept))
    logger_provider.get_logger("app").emit(body="record 0")
    _CutOff.names = []
    with serving(_CutOff) as url:
        spans = HttpSpanExporter(endpoint=f"{url}/v1/traces", timeout=3, _transport=Urllib3HTTPTransport())
        records = _upstream.watch_refusals(OTLPLogExporter(endpoint=f"{url}/v1/logs", timeout=3,
                                                           _transport=Urllib3HTTPTransport()))
        span_result = spans.export(memory.get_finished_spans())
        record_result = records.export(kept.get_finished_logs())
        posts = list(_CutOff.posts)
    assert span_result is SpanExportResult.SUCCESS, spans.answer
    assert record_result is LogRecordExportResult.SUCCESS, records.answer
    assert _CutOff.names == ["span 0"], _CutOff.names  # sent once, not again after the break
    assert posts == ["/v1/traces", "/v1/logs"], posts


class _Undecodable(Answering):
    """Answers every export with ``status`` and a body said to be gzip that is not."""

    status = 400

    def answer(self) -> tuple[int, dict[str, str], bytes]:
        return type(self).status, {"Content-Encoding": "gzip", "Content-Type": "text/plain"}, b"not gzip at all"


@pytest.mark.parametrize("transport", [None, Urllib3HTTPTransport])
def test_an_error_answer_whose_body_cannot_be_read_still_says_its_status(transport: type | None) -> None:
    """The body broke (here: not the gzip it claims to be) after the status line: a 400 was taken for no
    answer at all ("collector unreachable", spooled and sent again) instead of a refusal, a 503 lost its
    "busy". The status line speaks, whatever the body does."""
    spans = one_span()
    extra = {} if transport is None else {"_transport": transport()}
    with serving(_Undecodable) as url:
        exporter = HttpSpanExporter(endpoint=f"{url}/v1/traces", timeout=1, **extra)
        _Undecodable.status = 400
        refused = exporter.export(spans)
        refusal = exporter.refusal
        _Undecodable.status = 503
        busy = exporter.export(spans)
    assert refused is SpanExportResult.FAILURE and refusal == "HTTP 400 Bad Request", refusal
    assert busy is SpanExportResult.FAILURE and exporter.answer is not None and exporter.answer.busy, exporter.answer
