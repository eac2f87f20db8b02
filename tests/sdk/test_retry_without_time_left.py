"""A retry upstream's client sends with no time left says nothing: the answer before it stands.

Upstream's OTLP/HTTP client retries a busy answer (503) after a backoff when the
backoff fits in what is left of its timeout, and sends the retry with what is
left then, at least 0. On a loaded machine the backoff's sleep overruns by a few
milliseconds and the retry goes out with a timeout of 0.0, which the transport
refuses ("Attempted to set connect timeout to 0.0"): the export then ended with
that error instead of the endpoint's 503, so a busy collector read as one that
did not answer. A retry with no time left is not sent; the 503 stands.
"""

from __future__ import annotations

import pytest

from opentelemetry.exporter.http.transport._urllib3 import Urllib3HTTPTransport
from opentelemetry.sdk.trace.export import SpanExportResult

from otel_llm.exporters.otlp import HttpSpanExporter

from ._http_answers import Answering, one_span, serving


class _Busy(Answering):
    """Answers every export 503 Service Unavailable, with no body (a full queue)."""

    posts: list[str] = []

    def answer(self) -> tuple[int, dict[str, str], bytes]:
        return 503, {"Content-Type": "text/plain"}, b""


@pytest.mark.parametrize("transport", [None, Urllib3HTTPTransport])
def test_a_retry_left_no_time_keeps_the_busy_answer(transport: type | None) -> None:
    extra = {} if transport is None else {"_transport": transport()}
    _Busy.posts = []
    with serving(_Busy) as url:
        exporter = HttpSpanExporter(endpoint=f"{url}/v1/traces", timeout=3, **extra)
        client = exporter._client  # upstream's _OTLPHTTPClient
        event = client._shutdown_event
        waited = type(event).wait.__get__(event)  # the Event's own sleep: this one overruns whatever it is asked

        def overrunning(backoff: float) -> bool:  # a loaded machine: the sleep ends past the deadline
            waited(backoff)
            return waited(3.0)

        client._shutdown_event.wait = overrunning
        client._compute_backoff = lambda retry: 0.2  # a retry fits in the timeout when it is decided
        result = exporter.export(one_span())
    assert result is SpanExportResult.FAILURE
    assert exporter.answer is not None and exporter.answer.busy, exporter.answer
    assert _Busy.posts == ["/v1/traces"], _Busy.posts

