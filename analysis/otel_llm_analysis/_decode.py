"""One OTLP-JSON line -> rows appended to column batches. Pure Python, no DuckDB.

Why this shape: parsing is the cost that bounds ingest, so each line is decoded
once by a typed ``msgspec`` decoder straight into structs (no dicts), and only
the structural fields (ids, times, names, status) are touched in Python.
Attribute lists stay raw JSON text (``msgspec.Raw``): DuckDB turns them into a
MAP and reads the typed columns (tokens, cost, model, ...) from it, vectorised
and on both cores, using the spellings in :data:`SPELLINGS`.

Bad input never stops a file: a line that fails the strict decoder is retried
leniently (unknown fields tolerated and reported), then span by span, so one
wrong-typed span costs that span, not its 511 neighbours. Every problem becomes
a located :class:`Problem`.
"""

# No `from __future__ import annotations`: msgspec resolves the struct annotations
# at runtime, and the classes are local to `_types()`.

import base64
import binascii
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import msgspec

__all__ = [
    "SPELLINGS",
    "SPAN_KINDS",
    "Batch",
    "Problem",
    "decode_line",
]

#: column -> attribute names, first present wins (the span's kind, provider
#: normalisation and the requested model of other producers: ``_producers``). otel-llm / current GenAI semconv
#: first, then older semconv, OpenLLMetry (``llm.*``, ``gen_ai.usage.*_tokens``),
#: OpenLIT (``gen_ai.usage.cost``), OpenInference (``llm.token_count.*``,
#: ``llm.model_name``, ``llm.provider``) and others (``operation.cost``).
SPELLINGS: Mapping[str, tuple[str, ...]] = {
    "project": ("otel_llm.project",),
    "operation": ("gen_ai.operation.name", "llm.request.type"),
    "provider": ("gen_ai.provider.name", "gen_ai.system", "llm.provider", "llm.system"),
    # OpenInference's model_name is the model that answered; the one asked for is
    # in its invocation parameters (``_producers.REQUEST_MODEL_JSON``).
    "request_model": ("gen_ai.request.model", "llm.request.model", "llm.request.model_name"),
    "response_model": ("gen_ai.response.model", "llm.response.model", "llm.response.model_name", "llm.model_name",
                       "embedding.model_name"),
    "input_tokens": (
        "gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens",
        "llm.token_count.prompt", "llm.usage.prompt_tokens",
    ),
    "output_tokens": (
        "gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens",
        "llm.token_count.completion", "llm.usage.completion_tokens",
    ),
    "cache_read_tokens": (
        "gen_ai.usage.cache_read.input_tokens", "gen_ai.usage.cache_read_input_tokens",
        "llm.token_count.prompt_details.cache_read", "llm.usage.cache_read_input_tokens",
    ),
    "cache_write_tokens": (
        "gen_ai.usage.cache_creation.input_tokens", "gen_ai.usage.cache_creation_input_tokens",
        "llm.token_count.prompt_details.cache_write", "llm.usage.cache_creation_input_tokens",
    ),
    "reasoning_tokens": (
        "gen_ai.usage.reasoning.output_tokens", "gen_ai.usage.reasoning_tokens",
        "llm.token_count.completion_details.reasoning", "llm.usage.reasoning_tokens",
    ),
    "cost_usd": ("gen_ai.usage.cost", "gen_ai.usage.cost.amount", "llm.cost.total", "operation.cost"),
    "finish_reasons": ("gen_ai.response.finish_reasons", "llm.response.finish_reason"),
    "conversation_id": ("gen_ai.conversation.id", "session.id", "gen_ai.session.id"),
    "user_id": ("user.id", "enduser.id"),
    "graph_node": ("otel_llm.graph.node", "langgraph.node"),
    "db_system": ("db.system.name", "db.system"),
    "db_operation": ("db.operation.name", "db.operation"),
    "db_collection": ("db.collection.name", "db.vector.collection", "db.collection"),
    "error_type": ("error.type", "exception.type"),
    "service_name": ("service.name",),
}

#: OTLP ``Span.kind`` numbers -> names stored in ``spans.span_kind``.
SPAN_KINDS: Mapping[int, str] = {
    0: "UNSPECIFIED", 1: "INTERNAL", 2: "SERVER", 3: "CLIENT", 4: "PRODUCER", 5: "CONSUMER",
}
#: Span events that mark a stream's first token: otel-llm's, OpenInference's.
FIRST_TOKEN_EVENTS = frozenset({"llm.first_token", "First Token Stream Event"})
_NO_ATTRIBUTES = "[]"
_EMPTY_LIST = msgspec.Raw(b"[]")


@dataclass(frozen=True, slots=True)
class Problem:
    """A located report: ``where`` narrows the line down (e.g. ``resourceSpans[0]...spans[3]``)."""

    path: str
    line: int
    reason: str
    where: str = ""

    def __str__(self) -> str:
        loc = f" at {self.where}" if self.where else ""
        return f"{self.path}:{self.line}{loc}: {self.reason}"


# --- OTLP-JSON types ---------------------------------------------------------------
# Built twice by one factory: ``forbid_unknown_fields`` is a class option, and the
# strict set is what lets an unknown field be *reported* rather than silently lost.
_RAW_EMPTY = msgspec.Raw(b"")


def _types(forbid: bool) -> dict[str, Any]:
    # gc=False: decoded requests are trees (nothing here points back up), so the
    # cycle collector has nothing to find in them; untracked, the millions of
    # structs of a large file no longer trigger and lengthen its passes (decoding
    # 1M spans: 2.9 -> 1.9 s).
    opts = {"forbid_unknown_fields": forbid, "gc": False}
    Raw = msgspec.Raw

    class AnyValue(msgspec.Struct, **opts):
        stringValue: str | None = None
        intValue: int | None = None
        doubleValue: float | None = None
        boolValue: bool | None = None
        arrayValue: Raw = _RAW_EMPTY
        kvlistValue: Raw = _RAW_EMPTY
        bytesValue: str | None = None

    class Scope(msgspec.Struct, **opts):
        name: str = ""
        version: str = ""
        attributes: Raw = _RAW_EMPTY
        droppedAttributesCount: int = 0

    class Resource(msgspec.Struct, **opts):
        attributes: Raw = _RAW_EMPTY
        droppedAttributesCount: int = 0
        entityRefs: Raw = _RAW_EMPTY

    class Status(msgspec.Struct, **opts):
        code: int = 0
        message: str = ""

    class Event(msgspec.Struct, **opts):
        timeUnixNano: int = 0
        name: str = ""
        attributes: Raw = _RAW_EMPTY
        droppedAttributesCount: int = 0

    class Span(msgspec.Struct, **opts):
        traceId: str
        spanId: str
        name: str = ""
        kind: int = 0
        parentSpanId: str = ""
        startTimeUnixNano: int = 0
        endTimeUnixNano: int = 0
        attributes: Raw = _RAW_EMPTY
        events: list[Event] = []
        status: Status | None = None
        traceState: str = ""
        flags: int = 0
        droppedAttributesCount: int = 0
        droppedEventsCount: int = 0
        links: Raw = _RAW_EMPTY
        droppedLinksCount: int = 0

    class ScopeSpans(msgspec.Struct, **opts):
        scope: Scope | None = None
        spans: list[Span] = []
        schemaUrl: str = ""

    class ResourceSpans(msgspec.Struct, **opts):
        resource: Resource | None = None
        scopeSpans: list[ScopeSpans] = []
        schemaUrl: str = ""

    class NumberPoint(msgspec.Struct, **opts):
        attributes: Raw = _RAW_EMPTY
        startTimeUnixNano: int = 0
        timeUnixNano: int = 0
        asDouble: float | None = None
        asInt: int | None = None
        exemplars: Raw = _RAW_EMPTY
        flags: int = 0

    class HistogramPoint(msgspec.Struct, **opts):
        attributes: Raw = _RAW_EMPTY
        startTimeUnixNano: int = 0
        timeUnixNano: int = 0
        count: int = 0
        sum: float | None = None
        bucketCounts: list[int] = []
        explicitBounds: list[float] = []
        min: float | None = None
        max: float | None = None
        exemplars: Raw = _RAW_EMPTY
        flags: int = 0
        # exponential histogram / summary fields (kept as raw, counted via count/sum)
        scale: int = 0
        zeroCount: int = 0
        zeroThreshold: float = 0.0
        positive: Raw = _RAW_EMPTY
        negative: Raw = _RAW_EMPTY
        quantileValues: Raw = _RAW_EMPTY

    class NumberData(msgspec.Struct, **opts):
        dataPoints: list[NumberPoint] = []
        aggregationTemporality: int = 0
        isMonotonic: bool | None = None

    class HistogramData(msgspec.Struct, **opts):
        dataPoints: list[HistogramPoint] = []
        aggregationTemporality: int = 0

    class Metric(msgspec.Struct, **opts):
        name: str = ""
        description: str = ""
        unit: str = ""
        gauge: NumberData | None = None
        sum: NumberData | None = None
        histogram: HistogramData | None = None
        exponentialHistogram: HistogramData | None = None
        summary: HistogramData | None = None
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
        timeUnixNano: int = 0
        observedTimeUnixNano: int = 0
        severityNumber: int = 0
        severityText: str = ""
        body: AnyValue | None = None
        attributes: Raw = _RAW_EMPTY
        droppedAttributesCount: int = 0
        flags: int = 0
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


_STRICT = _types(forbid=True)
_LENIENT = _types(forbid=False)
# strict=False: int64 as JSON strings ("1700000000000000000") decode into ``int``.
_STRICT_DECODER = msgspec.json.Decoder(_STRICT["Request"], strict=False)
_LENIENT_DECODER = msgspec.json.Decoder(_LENIENT["Request"], strict=False)
_GENERIC_DECODER = msgspec.json.Decoder()


# --- batches ------------------------------------------------------------------------


@dataclass
class Batch:
    """Column lists for one insert. Raw attribute JSON is text; resources are interned.

    ``resources`` holds each distinct resource attribute list once (per batch);
    rows refer to it by index, so the resource MAP is built once, not per span.
    """

    source: str = ""
    resources: list[str] = field(default_factory=list)
    _resource_ids: dict[bytes, int] = field(default_factory=dict)
    # spans
    span_cols: dict[str, list[Any]] = field(default_factory=lambda: _columns(
        "trace_id", "span_id", "parent_span_id", "name", "kind", "start_ns", "end_ns",
        "status_code", "status_message", "scope_name", "resource_id", "attrs", "ttft_ns"))
    event_cols: dict[str, list[Any]] = field(default_factory=lambda: _columns(
        "span_ord", "trace_id", "span_id", "time_ns", "name", "attrs"))
    point_cols: dict[str, list[Any]] = field(default_factory=lambda: _columns(
        "time_ns", "start_ns", "metric_name", "metric_type", "unit", "temporality", "is_monotonic",
        "scope_name", "resource_id", "attrs", "value", "count", "sum", "min", "max",
        "bucket_counts", "explicit_bounds"))
    log_cols: dict[str, list[Any]] = field(default_factory=lambda: _columns(
        "time_ns", "severity_number", "severity_text", "body", "trace_id", "span_id",
        "scope_name", "resource_id", "attrs"))
    problems: list[Problem] = field(default_factory=list)
    lines: int = 0

    @property
    def spans(self) -> int:
        return len(self.span_cols["trace_id"])

    @property
    def rows(self) -> int:
        return self.spans + len(self.point_cols["time_ns"]) + len(self.log_cols["time_ns"])

    def resource_id(self, resource: Any) -> int:
        raw = bytes(resource.attributes) if resource is not None else b""
        rid = self._resource_ids.get(raw)
        if rid is None:
            rid = self._resource_ids[raw] = len(self.resources)
            self.resources.append(_text(raw))
        return rid


def _columns(*names: str) -> dict[str, list[Any]]:
    return {n: [] for n in names}


def _text(raw: bytes | msgspec.Raw) -> str:
    data = bytes(raw)
    return data.decode("utf-8", "replace") if data else _NO_ATTRIBUTES


_OPEN_BRACKET = ord("[")


def _attrs(raw: msgspec.Raw, report: Callable[..., None], where: str, item: str) -> msgspec.Raw:
    """Attribute JSON kept as the decoder's zero-copy slice (ingest joins them into one Arrow buffer).

    The typed decoder skips over it unchecked, so a value that is not a KeyValue
    array (an object, a string) is reported here and stored as no attributes.
    Hot path: callers test ``memoryview(raw)[0] == _OPEN_BRACKET`` inline first.
    """
    if raw and memoryview(raw)[0] == _OPEN_BRACKET:
        return raw
    if raw and bytes(raw) != b"null":
        report(f"ignored attributes: expected an array, got {bytes(raw)[:40].decode('utf-8', 'replace')}",
               f"{where}.{item}.attributes")
    return _EMPTY_LIST


# --- ids ------------------------------------------------------------------------------

_HEX = re.compile(rb"[0-9a-f]*")


def _normalise_id(value: str, nbytes: int) -> tuple[str | None, str | None]:
    """(hex id or None, note). Upper-case hex is lowered; base64 (proto-JSON style) converted."""
    if len(value) == nbytes * 2:
        low = value.lower()
        if _HEX.fullmatch(low.encode()):
            return low, None
    if value and len(value) == 4 * ((nbytes + 2) // 3):
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) == nbytes:
            return raw.hex(), "base64"
    return None, f"invalid id {value[:40]!r} (expected {nbytes * 2} hex digits)"


# --- line decoding ----------------------------------------------------------------------


def decode_line(line: bytes, batch: Batch, line_no: int) -> None:
    """Append everything in one export-request line to ``batch``; problems go to ``batch.problems``."""
    batch.lines += 1
    if not line.strip():
        return  # blank lines carry nothing; not worth a report
    report = _reporter(batch, line_no)
    try:
        request = _STRICT_DECODER.decode(line)
    except msgspec.DecodeError as exc:
        if isinstance(exc, msgspec.ValidationError):
            _decode_lenient(line, batch, report, str(exc))
        else:
            report(f"invalid JSON: {exc}")
        return
    _append_request(request, batch, report)


def _reporter(batch: Batch, line_no: int) -> Callable[..., None]:
    def report(reason: str, where: str = "") -> None:
        batch.problems.append(Problem(batch.source, line_no, reason, where))
    return report


def _decode_lenient(line: bytes, batch: Batch, report: Callable[..., None], strict_error: str) -> None:
    try:
        request = _LENIENT_DECODER.decode(line)
    except msgspec.ValidationError:
        _decode_piecewise(line, batch, report)
        return
    # Only unknown fields differed: load it all, say which field was ignored.
    report(f"ignored {_lower_first(strict_error)}")
    _append_request(request, batch, report)


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _decode_piecewise(line: bytes, batch: Batch, report: Callable[..., None]) -> None:
    """Slow path for a line with a wrong-typed value: convert each item alone, skip the bad ones."""
    try:
        obj = _GENERIC_DECODER.decode(line)
    except msgspec.DecodeError as exc:  # pragma: no cover - strict decoder already parsed it
        report(f"invalid JSON: {exc}")
        return
    if not isinstance(obj, dict):
        report(f"expected a JSON object (an OTLP export request), got {type(obj).__name__}")
        return
    T = _LENIENT
    plans = (
        ("resourceSpans", "scopeSpans", "spans", T["ResourceSpans"], T["ScopeSpans"], T["Span"]),
        ("resourceMetrics", "scopeMetrics", "metrics", T["ResourceMetrics"], T["ScopeMetrics"], T["Metric"]),
        ("resourceLogs", "scopeLogs", "logRecords", T["ResourceLogs"], T["ScopeLogs"], T["LogRecord"]),
    )
    for key in obj:
        if key not in {p[0] for p in plans}:
            report(f"ignored unknown field `{key}`", "$")
    for top, mid, leaf, res_type, scope_type, item_type in plans:
        resources = obj.get(top) or []
        if not isinstance(resources, list):
            report(f"expected an array, got {type(resources).__name__}", f"$.{top}")
            continue
        rebuilt = []
        for ri, res in enumerate(resources):
            where_r = f"$.{top}[{ri}]"
            if not isinstance(res, dict):
                report(f"expected an object, got {type(res).__name__}", where_r)
                continue
            scopes = []
            for si, scope in enumerate(res.get(mid) or []):
                where_s = f"{where_r}.{mid}[{si}]"
                if not isinstance(scope, dict):
                    report(f"expected an object, got {type(scope).__name__}", where_s)
                    continue
                items = []
                for ii, item in enumerate(scope.get(leaf) or []):
                    try:
                        items.append(_convert(item, item_type))
                    except msgspec.ValidationError as exc:
                        report(f"skipped: {_lower_first(str(exc))}", f"{where_s}.{leaf}[{ii}]")
                try:
                    scopes.append(_convert({**scope, leaf: []}, scope_type))
                    setattr(scopes[-1], leaf, items)
                except msgspec.ValidationError as exc:
                    report(f"skipped {len(items)} item(s): {_lower_first(str(exc))}", where_s)
            try:
                rebuilt.append(_convert({**res, mid: []}, res_type))
                setattr(rebuilt[-1], mid, scopes)
            except msgspec.ValidationError as exc:
                report(f"skipped resource: {_lower_first(str(exc))}", where_r)
        _append_request(T["Request"](**{top: rebuilt}), batch, report)


_DECODERS: dict[type, msgspec.json.Decoder] = {}


def _convert(obj: Any, typ: type) -> Any:
    """Generic JSON value -> struct, by re-encoding (``msgspec.Raw`` fields need JSON text)."""
    decoder = _DECODERS.get(typ)
    if decoder is None:
        decoder = _DECODERS[typ] = msgspec.json.Decoder(typ, strict=False)
    return decoder.decode(msgspec.json.encode(obj))


def _append_request(request: Any, batch: Batch, report: Callable[..., None]) -> None:
    if request.resourceSpans:
        _append_spans(request.resourceSpans, batch, report)
    if request.resourceMetrics:
        _append_metrics(request.resourceMetrics, batch, report)
    if request.resourceLogs:
        _append_logs(request.resourceLogs, batch, report)


def _ids_ok(ids: list[str], width: int) -> bool:
    """Fast check that every id is ``width`` lowercase hex digits (one regex per line)."""
    joined = "".join(ids).encode()
    return len(joined) == width * len(ids) and _HEX.fullmatch(joined) is not None


def _append_spans(resource_spans: list[Any], batch: Batch, report: Callable[..., None]) -> None:
    cols = batch.span_cols
    ev = batch.event_cols
    c_tid, c_sid, c_pid, c_name, c_kind = (cols[k] for k in ("trace_id", "span_id", "parent_span_id", "name", "kind"))
    c_start, c_end, c_code, c_msg = (cols[k] for k in ("start_ns", "end_ns", "status_code", "status_message"))
    c_scope, c_res, c_attrs, c_ttft = (cols[k] for k in ("scope_name", "resource_id", "attrs", "ttft_ns"))
    for ri, rs in enumerate(resource_spans):
        rid = batch.resource_id(rs.resource)
        for si, ss in enumerate(rs.scopeSpans):
            spans = ss.spans
            if not spans:
                continue
            scope_name = ss.scope.name if ss.scope is not None else ""
            where = f"$.resourceSpans[{ri}].scopeSpans[{si}]"
            first = len(c_tid)
            tids = [s.traceId for s in spans]
            sids = [s.spanId for s in spans]
            pids = [s.parentSpanId for s in spans]
            if not (_ids_ok(tids, 32) and _ids_ok(sids, 16) and _ids_ok([p for p in pids if p], 16)):
                keep = _fix_ids(spans, tids, sids, pids, report, where)
                spans = [spans[i] for i in keep]
                tids = [tids[i] for i in keep]
                sids = [sids[i] for i in keep]
                pids = [pids[i] for i in keep]
            c_tid += tids
            c_sid += sids
            c_pid += [p or None for p in pids]
            for offset, span in enumerate(spans):
                c_name.append(span.name)
                c_kind.append(span.kind)
                c_start.append(span.startTimeUnixNano)
                c_end.append(span.endTimeUnixNano)
                status = span.status
                if status is None:
                    c_code.append(0)
                    c_msg.append(None)
                else:
                    c_code.append(status.code)
                    c_msg.append(status.message or None)
                raw = span.attributes
                if not (raw and memoryview(raw)[0] == _OPEN_BRACKET):
                    raw = _attrs(raw, report, where, f"spans[{offset}]")
                c_attrs.append(raw)
                ttft = None
                if span.events:
                    ttft = _append_events(span, first + offset, tids[offset], sids[offset], ev, report,
                                          f"{where}.spans[{offset}]")
                c_ttft.append(ttft)
            count = len(spans)
            c_scope += [scope_name] * count
            c_res += [rid] * count


def _append_events(span: Any, ordinal: int, trace_id: str, span_id: str, ev: dict[str, list[Any]],
                   report: Callable[..., None], where: str) -> int | None:
    """Events of one span; returns its time to first token (ns) when it has a first-token event."""
    first_token = None
    for i, event in enumerate(span.events):
        ev["span_ord"].append(ordinal)
        ev["trace_id"].append(trace_id)
        ev["span_id"].append(span_id)
        ev["time_ns"].append(event.timeUnixNano)
        ev["name"].append(event.name)
        ev["attrs"].append(_attrs(event.attributes, report, where, f"events[{i}]"))
        if event.name in FIRST_TOKEN_EVENTS and span.startTimeUnixNano:
            delta = event.timeUnixNano - span.startTimeUnixNano
            if first_token is None or delta < first_token:
                first_token = delta
    return first_token


def _fix_ids(spans: list[Any], tids: list[str], sids: list[str], pids: list[str],
             report: Callable[..., None], where: str) -> list[int]:
    """Normalise ids in place; returns the indexes of spans worth keeping."""
    keep: list[int] = []
    converted = 0
    for i in range(len(spans)):
        tid, note_t = _normalise_id(tids[i], 16)
        sid, note_s = _normalise_id(sids[i], 8)
        pid, note_p = _normalise_id(pids[i], 8) if pids[i] else ("", None)
        notes = [n for n in (note_t, note_s, note_p) if n]
        bad = [n for n in notes if n != "base64"]
        if bad or tid is None or sid is None or pid is None:
            report(f"skipped span: {bad[0] if bad else 'invalid id'}", f"{where}.spans[{i}]")
            continue
        converted += len(notes)
        tids[i], sids[i], pids[i] = tid, sid, pid
        keep.append(i)
    if converted:
        report(f"converted {converted} base64 id(s) to hex (OTLP JSON expects hex ids)", where)
    return keep


_TEMPORALITY = {1: "delta", 2: "cumulative"}


def _append_metrics(resource_metrics: list[Any], batch: Batch, report: Callable[..., None]) -> None:
    cols = batch.point_cols
    for ri, rm in enumerate(resource_metrics):
        rid = batch.resource_id(rm.resource)
        for sm in rm.scopeMetrics:
            scope_name = sm.scope.name if sm.scope is not None else ""
            for metric in sm.metrics:
                for kind, data in (("gauge", metric.gauge), ("sum", metric.sum), ("histogram", metric.histogram),
                                   ("exponential_histogram", metric.exponentialHistogram),
                                   ("summary", metric.summary)):
                    if data is None:
                        continue
                    temporality = _TEMPORALITY.get(getattr(data, "aggregationTemporality", 0))
                    monotonic = getattr(data, "isMonotonic", None)
                    for p in data.dataPoints:
                        cols["time_ns"].append(p.timeUnixNano)
                        cols["start_ns"].append(p.startTimeUnixNano or None)
                        cols["metric_name"].append(metric.name)
                        cols["metric_type"].append(kind)
                        cols["unit"].append(metric.unit or None)
                        cols["temporality"].append(temporality)
                        cols["is_monotonic"].append(monotonic)
                        cols["scope_name"].append(scope_name)
                        cols["resource_id"].append(rid)
                        cols["attrs"].append(_attrs(p.attributes, report, f"$.resourceMetrics[{ri}]",
                                                    f"metric {metric.name!r} point"))
                        if kind in ("gauge", "sum"):
                            value = p.asDouble if p.asDouble is not None else p.asInt
                            cols["value"].append(float(value) if value is not None else None)
                            for k in ("count", "sum", "min", "max", "bucket_counts", "explicit_bounds"):
                                cols[k].append(None)
                        else:
                            cols["value"].append(None)
                            cols["count"].append(p.count)
                            cols["sum"].append(p.sum)
                            cols["min"].append(p.min)
                            cols["max"].append(p.max)
                            cols["bucket_counts"].append(list(p.bucketCounts) if kind == "histogram" else None)
                            cols["explicit_bounds"].append(list(p.explicitBounds) if kind == "histogram" else None)


def render_value(value: Any) -> str | None:
    """An ``AnyValue`` struct as the text stored in maps and log bodies."""
    if value is None:
        return None
    if value.stringValue is not None:
        return value.stringValue
    if value.boolValue is not None:
        return "true" if value.boolValue else "false"
    if value.intValue is not None:
        return str(value.intValue)
    if value.doubleValue is not None:
        return repr(value.doubleValue)
    for raw in (value.arrayValue, value.kvlistValue):
        if raw:
            return bytes(raw).decode("utf-8", "replace")
    return value.bytesValue


def _append_logs(resource_logs: list[Any], batch: Batch, report: Callable[..., None]) -> None:
    cols = batch.log_cols
    for ri, rl in enumerate(resource_logs):
        rid = batch.resource_id(rl.resource)
        for si, sl in enumerate(rl.scopeLogs):
            scope_name = sl.scope.name if sl.scope is not None else ""
            for li, rec in enumerate(sl.logRecords):
                tid = sid = None
                if rec.traceId:
                    tid, note = _normalise_id(rec.traceId, 16)
                    if tid is None:
                        report(f"dropped trace id: {note}", f"$.resourceLogs[{ri}].scopeLogs[{si}].logRecords[{li}]")
                if rec.spanId:
                    sid, note = _normalise_id(rec.spanId, 8)
                    if sid is None:
                        report(f"dropped span id: {note}", f"$.resourceLogs[{ri}].scopeLogs[{si}].logRecords[{li}]")
                cols["time_ns"].append(rec.timeUnixNano or rec.observedTimeUnixNano)
                cols["severity_number"].append(rec.severityNumber or None)
                cols["severity_text"].append(rec.severityText or None)
                cols["body"].append(render_value(rec.body))
                cols["trace_id"].append(tid)
                cols["span_id"].append(sid)
                cols["scope_name"].append(scope_name)
                cols["resource_id"].append(rid)
                cols["attrs"].append(_attrs(rec.attributes, report, f"$.resourceLogs[{ri}].scopeLogs[{si}]",
                                            f"logRecords[{li}]"))
