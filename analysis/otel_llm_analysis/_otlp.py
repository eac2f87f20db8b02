"""OTLP-JSON as typed ``msgspec`` structs, and the decoders ingest uses.

Why typed structs: decoding straight into structs (no dicts) is what keeps
parsing near orjson's speed, and the types do the validation: integer ranges
are those of the columns the values land in (int64 times and counts, uint32
flags and dropped counts, int32 enums and scales), so a value out of range
fails here, where it can be located, rather than in the Arrow conversion.

Attribute lists stay ``msgspec.Raw`` (the JSON text, skipped unchecked):
DuckDB parses them, vectorised (see ``ingest``).
"""

# No `from __future__ import annotations`: msgspec resolves the struct annotations
# at runtime, and the classes are local to `_types()`.

from decimal import Decimal
from typing import Annotated, Any

import msgspec

__all__ = [
    "ENCODER",
    "ENUM_NAMES",
    "GENERIC_DECODER",
    "LENIENT",
    "LENIENT_DECODER",
    "STRICT",
    "STRICT_DECODER",
    "lenient_decoder",
]

_RAW_EMPTY = msgspec.Raw(b"")


def _levels(name: str, first: int) -> dict[str, int]:
    return {f"SEVERITY_NUMBER_{name}{n if n > 1 else ''}": first + n - 1 for n in range(1, 5)}


#: Field -> the names OTLP's ``.proto`` files give its enum values. OTLP/JSON writes the numbers,
#: but the collector's JSON reader takes these names too, so some producers send them; ingest
#: reads them as the numbers (``_decode``) rather than skip the span, point or record.
ENUM_NAMES: dict[str, dict[str, int]] = {
    "kind": {f"SPAN_KIND_{name}": n for n, name in enumerate(
        ("UNSPECIFIED", "INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER"))},
    "code": {"STATUS_CODE_UNSET": 0, "STATUS_CODE_OK": 1, "STATUS_CODE_ERROR": 2},
    "severityNumber": {"SEVERITY_NUMBER_UNSPECIFIED": 0, **_levels("TRACE", 1), **_levels("DEBUG", 5),
                       **_levels("INFO", 9), **_levels("WARN", 13), **_levels("ERROR", 17), **_levels("FATAL", 21)},
    "aggregationTemporality": {"AGGREGATION_TEMPORALITY_UNSPECIFIED": 0, "AGGREGATION_TEMPORALITY_DELTA": 1,
                               "AGGREGATION_TEMPORALITY_CUMULATIVE": 2},
}
Time = Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)]
Count = Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)]
Int64 = Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]
Int32 = Annotated[int, msgspec.Meta(ge=-(2**31), le=2**31 - 1)]
UInt32 = Annotated[int, msgspec.Meta(ge=0, le=2**32 - 1)]


def _types(forbid: bool) -> dict[str, Any]:
    # gc=False: decoded requests are trees (nothing here points back up), so the
    # cycle collector has nothing to find in them; untracked, the millions of
    # structs of a large file no longer trigger and lengthen its passes (decoding
    # 1M spans: 2.9 -> 1.9 s).
    opts = {"forbid_unknown_fields": forbid, "gc": False}
    Raw = msgspec.Raw

    class Scope(msgspec.Struct, **opts):
        name: str = ""
        version: str = ""
        attributes: Raw = _RAW_EMPTY
        droppedAttributesCount: UInt32 = 0

    class Resource(msgspec.Struct, **opts):
        attributes: Raw = _RAW_EMPTY
        droppedAttributesCount: UInt32 = 0
        entityRefs: Raw = _RAW_EMPTY

    class Status(msgspec.Struct, **opts):
        code: Int32 = 0
        message: str = ""

    class Event(msgspec.Struct, **opts):
        timeUnixNano: Time = 0
        name: str = ""
        attributes: Raw = _RAW_EMPTY
        droppedAttributesCount: UInt32 = 0

    class Link(msgspec.Struct, **opts):
        traceId: str = ""
        spanId: str = ""
        traceState: str = ""
        attributes: Raw = _RAW_EMPTY
        droppedAttributesCount: UInt32 = 0
        flags: UInt32 = 0

    class Span(msgspec.Struct, **opts):
        traceId: str
        spanId: str
        name: str = ""
        kind: Int32 = 0
        parentSpanId: str = ""
        startTimeUnixNano: Time = 0
        endTimeUnixNano: Time = 0
        attributes: Raw = _RAW_EMPTY
        # None, not []: msgspec gives every instance its own copy of a [] default, and
        # a million spans without events or links made two million lists for the GC.
        events: list[Event] | None = None
        status: Status | None = None
        traceState: str = ""
        flags: UInt32 = 0
        droppedAttributesCount: UInt32 = 0
        droppedEventsCount: UInt32 = 0
        links: list[Link] | None = None
        droppedLinksCount: UInt32 = 0

    class ScopeSpans(msgspec.Struct, **opts):
        scope: Scope | None = None
        spans: list[Span] = []
        schemaUrl: str = ""

    class ResourceSpans(msgspec.Struct, **opts):
        resource: Resource | None = None
        scopeSpans: list[ScopeSpans] = []
        schemaUrl: str = ""

    class Exemplar(msgspec.Struct, **opts):
        filteredAttributes: Raw = _RAW_EMPTY
        timeUnixNano: Time = 0
        asDouble: float | None = None
        asInt: Int64 | None = None
        spanId: str = ""
        traceId: str = ""

    class NumberPoint(msgspec.Struct, **opts):
        attributes: Raw = _RAW_EMPTY
        startTimeUnixNano: Time = 0
        timeUnixNano: Time = 0
        asDouble: float | None = None
        asInt: Int64 | None = None
        exemplars: list[Exemplar] = []
        flags: UInt32 = 0

    class HistogramPoint(msgspec.Struct, **opts):
        attributes: Raw = _RAW_EMPTY
        startTimeUnixNano: Time = 0
        timeUnixNano: Time = 0
        count: Count = 0
        sum: float | None = None
        bucketCounts: list[Count] = []
        explicitBounds: list[float] = []
        exemplars: list[Exemplar] = []
        flags: UInt32 = 0
        min: float | None = None
        max: float | None = None

    class Buckets(msgspec.Struct, **opts):
        offset: Int32 = 0
        bucketCounts: list[Count] = []

    class ExponentialPoint(msgspec.Struct, **opts):
        attributes: Raw = _RAW_EMPTY
        startTimeUnixNano: Time = 0
        timeUnixNano: Time = 0
        count: Count = 0
        sum: float | None = None
        scale: Int32 = 0
        zeroCount: Count = 0
        positive: Buckets | None = None
        negative: Buckets | None = None
        flags: UInt32 = 0
        exemplars: list[Exemplar] = []
        min: float | None = None
        max: float | None = None
        zeroThreshold: float = 0.0

    class Quantile(msgspec.Struct, **opts):
        quantile: float = 0.0
        value: float = 0.0

    class SummaryPoint(msgspec.Struct, **opts):
        attributes: Raw = _RAW_EMPTY
        startTimeUnixNano: Time = 0
        timeUnixNano: Time = 0
        count: Count = 0
        sum: float | None = None
        quantileValues: list[Quantile] = []
        flags: UInt32 = 0

    class Gauge(msgspec.Struct, **opts):
        dataPoints: list[NumberPoint] = []

    class Sum(msgspec.Struct, **opts):
        dataPoints: list[NumberPoint] = []
        aggregationTemporality: Int32 = 0
        isMonotonic: bool | None = None

    class Histogram(msgspec.Struct, **opts):
        dataPoints: list[HistogramPoint] = []
        aggregationTemporality: Int32 = 0

    class ExponentialHistogram(msgspec.Struct, **opts):
        dataPoints: list[ExponentialPoint] = []
        aggregationTemporality: Int32 = 0

    class Summary(msgspec.Struct, **opts):
        dataPoints: list[SummaryPoint] = []

    class Metric(msgspec.Struct, **opts):
        name: str = ""
        description: str = ""
        unit: str = ""
        gauge: Gauge | None = None
        sum: Sum | None = None
        histogram: Histogram | None = None
        exponentialHistogram: ExponentialHistogram | None = None
        summary: Summary | None = None
        metadata: Raw = _RAW_EMPTY

    class ScopeMetrics(msgspec.Struct, **opts):
        scope: Scope | None = None
        metrics: list[Metric] = []
        schemaUrl: str = ""

    class ResourceMetrics(msgspec.Struct, **opts):
        resource: Resource | None = None
        scopeMetrics: list[ScopeMetrics] = []
        schemaUrl: str = ""

    class LogRecord(msgspec.Struct, **opts):
        timeUnixNano: Time = 0
        observedTimeUnixNano: Time = 0
        severityNumber: Int32 = 0
        severityText: str = ""
        body: Raw = _RAW_EMPTY
        attributes: Raw = _RAW_EMPTY
        droppedAttributesCount: UInt32 = 0
        flags: UInt32 = 0
        traceId: str = ""
        spanId: str = ""
        eventName: str = ""

    class ScopeLogs(msgspec.Struct, **opts):
        scope: Scope | None = None
        logRecords: list[LogRecord] = []
        schemaUrl: str = ""

    class ResourceLogs(msgspec.Struct, **opts):
        resource: Resource | None = None
        scopeLogs: list[ScopeLogs] = []
        schemaUrl: str = ""

    class Request(msgspec.Struct, **opts):
        resourceSpans: list[ResourceSpans] = []
        resourceMetrics: list[ResourceMetrics] = []
        resourceLogs: list[ResourceLogs] = []

    return {name: obj for name, obj in locals().items() if isinstance(obj, type)}


# Built twice by one factory: ``forbid_unknown_fields`` is a class option, and the
# strict set is what lets an unknown field be *reported* rather than silently lost.
STRICT = _types(forbid=True)
LENIENT = _types(forbid=False)
# strict=False: int64 as JSON strings ("1700000000000000000") decode into ``int``.
STRICT_DECODER = msgspec.json.Decoder(STRICT["Request"], strict=False)
LENIENT_DECODER = msgspec.json.Decoder(LENIENT["Request"], strict=False)
# The item-by-item path: any JSON value. Floats as Decimal, so a number no double
# holds (1e400) reaches the typed decoder of its item (and is reported there)
# instead of failing the whole line; re-encoded as the same number.
GENERIC_DECODER = msgspec.json.Decoder(float_hook=Decimal)
ENCODER = msgspec.json.Encoder(decimal_format="number")
_DECODERS: dict[type, msgspec.json.Decoder] = {}


def lenient_decoder(typ: type) -> msgspec.json.Decoder:
    """A decoder for one lenient struct type (cached): the item-by-item path converts items alone."""
    decoder = _DECODERS.get(typ)
    if decoder is None:
        decoder = _DECODERS[typ] = msgspec.json.Decoder(typ, strict=False)
    return decoder
