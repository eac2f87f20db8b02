"""The fast OTLP-JSON span encoder builds exactly upstream's dict, on a corpus of every value and field."""

from __future__ import annotations

from opentelemetry.exporter.otlp.json.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceFlags, TraceState, use_span

from otel_llm.exporters._json_spans import spans_request

VALUES = {
    "s": "text é 😀", "empty": "", "b": True, "f": False, "i": 42, "zero": 0, "big": 2**62, "neg": -7,
    "d": 0.25, "tiny": 5.85e-6, "one": 1.0, "nan": float("nan"), "inf": float("inf"), "ninf": float("-inf"),
    "ls": ("a", "b"), "li": (1, 2), "lf": (0.5, 1.5), "lb": (True, False), "l0": (), "raw": b"\x00\xff", "e": b"",
}


def corpus() -> list:
    memory = InMemorySpanExporter()
    for resource in (Resource({"service.name": "a", "n": 3}, schema_url="https://r/1"), Resource({"service.name": "b"})):
        provider = TracerProvider(resource=resource, span_limits=SpanLimits(max_attributes=30, max_events=2, max_links=1))
        provider.add_span_processor(SimpleSpanProcessor(memory))
        for scope in (("otel_llm", "0.1.0", "https://s/1", {"scope.attr": 1}), ("other", None, None, None)):
            tracer = provider.get_tracer(scope[0], scope[1], schema_url=scope[2], attributes=scope[3])
            remote = SpanContext(0xABC, 0xDEF, is_remote=True, trace_flags=TraceFlags(1),
                                 trace_state=TraceState([("k", "v"), ("x", "y")]))
            with tracer.start_as_current_span("parent", kind=SpanKind.SERVER, attributes=VALUES,
                                              links=[Link(remote, {"why": "retry"}), Link(remote)]) as parent:
                parent.add_event("e1", {"n": 1}, timestamp=5)
                parent.add_event("e2")
                parent.add_event("e3-dropped")
                parent.set_status(Status(StatusCode.ERROR, "boom"))
            with use_span(tracer.start_span("child-of-remote", context=None, kind=SpanKind.CLIENT), end_on_exit=True) as s:
                s.set_status(Status(StatusCode.OK))
            from opentelemetry import trace

            with tracer.start_as_current_span("remote-parent", context=trace.set_span_in_context(
                    trace.NonRecordingSpan(remote)), kind=SpanKind.CONSUMER):
                pass
            tracer.start_span("unnamed-attrs-dropped", attributes={f"k{i}": i for i in range(40)},
                              kind=SpanKind.PRODUCER).end()
    return list(memory.get_finished_spans())


def test_equal_to_upstreams_dict() -> None:
    spans = corpus()
    assert spans_request(spans) == encode_spans(spans).to_dict()
    for span in spans:  # and one span at a time, as a worker process writes them
        assert spans_request([span]) == encode_spans([span]).to_dict()


def test_equal_resources_from_different_objects_merge_like_upstream() -> None:
    memory = InMemorySpanExporter()
    for _ in range(2):  # two providers, two Resource objects equal by value
        provider = TracerProvider(resource=Resource({"service.name": "same"}))
        provider.add_span_processor(SimpleSpanProcessor(memory))
        provider.get_tracer("t").start_span("s").end()
    spans = list(memory.get_finished_spans()) + corpus()
    assert spans[0].resource is not spans[1].resource
    request = spans_request(spans)
    assert request == encode_spans(spans).to_dict()
    assert len(request["resourceSpans"][0]["scopeSpans"][0]["spans"]) == 2
    assert spans_request([]) is None
