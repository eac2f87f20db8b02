"""The fast wire encoder: its bytes parse to exactly upstream's request, and the collector agrees."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans as upstream_encode
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as UpstreamGrpc
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as UpstreamHttp
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, NonRecordingSpan, SpanContext, SpanKind, Status, StatusCode, TraceFlags, TraceState
from opentelemetry.trace import set_span_in_context

from otel_llm.exporters._otlp_wire import encode_spans
from otel_llm.exporters.otlp import GrpcSpanExporter, HttpSpanExporter

from . import _otlp
from .conftest import Collector

ODD_VALUES = {
    "s": "text ✓", "empty": "", "t": True, "f": False, "zero": 0, "neg": -42, "big": 2**62,
    "pi": 3.14159, "fzero": 0.0, "strs": ["a", "b"], "ints": [1, -2], "floats": [0.5], "bools": [True, False],
}


def odd_spans() -> Sequence[ReadableSpan]:
    """Spans exercising every field the encoder writes, over two resources and three scopes."""
    memory = InMemorySpanExporter()
    providers = [
        TracerProvider(resource=Resource.create({"service.name": "a", "n": 1}), span_limits=SpanLimits(max_span_attributes=20)),
        TracerProvider(resource=Resource({"service.name": "b"}, schema_url="https://opentelemetry.io/schemas/1.26.0")),
    ]
    for p in providers:
        p.add_span_processor(SimpleSpanProcessor(memory))
    remote = SpanContext(0xABC, 0xDEF, is_remote=True, trace_flags=TraceFlags(1), trace_state=TraceState([("k", "v"), ("x", "y")]))
    tracers = [
        providers[0].get_tracer("scope.one", "1.2.3", schema_url="https://example.com/s", attributes={"scope.attr": 1}),
        providers[0].get_tracer("scope.two"),
        providers[1].get_tracer("scope.three", "0.1"),
    ]
    for n, kind in enumerate(SpanKind):
        tracer = tracers[n % len(tracers)]
        with tracer.start_as_current_span(f"root {kind.name} ☃", kind=kind, attributes={**ODD_VALUES, "same": 1}) as root:
            root.add_event("plain")
            root.add_event("with attrs", {"same": True, "e": "x"}, timestamp=123)
            with tracer.start_as_current_span("child", attributes={"same": 1.0}, links=[Link(remote, {"l": "1"}), Link(root.get_span_context())]) as child:
                child.set_status(Status(StatusCode.ERROR, "boom"))
            with tracer.start_as_current_span("ok") as ok:
                ok.set_status(StatusCode.OK)
        with tracer.start_as_current_span("remote parent", context=set_span_in_context(NonRecordingSpan(remote))) as s:
            for i in range(30):  # beyond the limit: dropped_attributes_count
                s.set_attribute(f"many.{i}", i)
    return memory.get_finished_spans()


def test_bytes_parse_to_exactly_upstreams_request() -> None:
    spans = odd_spans()
    ours = ExportTraceServiceRequest.FromString(encode_spans(spans))
    assert ours == upstream_encode(spans)
    assert ours.resource_spans[0].scope_spans[0].spans[0].dropped_attributes_count == 0
    assert any(s.dropped_attributes_count for rs in ours.resource_spans for ss in rs.scope_spans for s in ss.spans)


def test_cached_attribute_pairs_keep_their_type_and_place() -> None:
    """1, True and 1.0 are equal (and hash alike) in Python: the cache must not mix them up."""
    spans = odd_spans()
    encode_spans(spans)  # warm the cache
    assert ExportTraceServiceRequest.FromString(encode_spans(spans)) == upstream_encode(spans)


@pytest.mark.parametrize(("ours", "upstream"), [(HttpSpanExporter, UpstreamHttp), (GrpcSpanExporter, UpstreamGrpc)])
def test_the_collector_writes_the_same_objects_from_either_encoder(collector_factory, ours, upstream) -> None:  # type: ignore[no-untyped-def]
    spans = odd_spans()
    written = []
    for exporter_class in (upstream, ours):
        collector: Collector = collector_factory().start()
        if exporter_class in (HttpSpanExporter, UpstreamHttp):
            exporter = exporter_class(endpoint=f"{collector.http_endpoint}/v1/traces")
        else:
            exporter = exporter_class(endpoint=collector.grpc_endpoint, insecure=True)
        assert exporter.export(spans) == SpanExportResult.SUCCESS
        exporter.shutdown()
        collector.stop()
        written.append(_otlp.messages(collector.data_dir, "traces"))
    assert written[0] == written[1]
    assert len(_otlp.spans(written[1])) == len(spans)
