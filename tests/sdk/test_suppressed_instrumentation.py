"""A decorated function called where OpenTelemetry suppresses instrumentation runs bare.

Span processors and exporters run with OpenTelemetry's "suppress
instrumentation" flag set (``SimpleSpanProcessor`` sets it around ``export``),
so the telemetry pipeline's own work is not recorded. An app whose exporter calls
one of its decorated functions (a notifier, a redaction helper) once got a span
for each call — ended, exported, calling the function again — until Python's
recursion limit stopped it inside the SDK.
"""

from __future__ import annotations

from opentelemetry import context as otel_context
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

import otel_llm
from otel_llm.testing import Capture


def test_a_decorated_function_called_by_the_apps_exporter_is_not_recorded() -> None:
    calls: list[str] = []

    @otel_llm.tool("notify")
    def notify(name: str) -> str:
        calls.append(name)
        return name

    class Notifying(SpanExporter):
        def export(self, spans) -> SpanExportResult:  # type: ignore[no-untyped-def]
            for span in spans:
                assert notify(span.name) == span.name  # the function still runs, and returns
            return SpanExportResult.SUCCESS

    cap = Capture()
    cap.tracer_provider.add_span_processor(SimpleSpanProcessor(Notifying()))
    with cap:
        notify("first")
    assert [s.name for s in cap.spans()] == ["execute_tool notify"]
    assert calls == ["first", "execute_tool notify"]


def test_a_decorated_function_runs_bare_under_suppression() -> None:
    with Capture() as cap:
        key = getattr(otel_context, "_SUPPRESS_INSTRUMENTATION_KEY")
        token = otel_context.attach(otel_context.set_value(key, True))
        try:
            assert otel_llm.graph_node("n")(lambda: 3)() == 3
        finally:
            otel_context.detach(token)
        otel_llm.graph_node("m")(lambda: 4)()
    assert [s.name for s in cap.spans()] == ["m"]
