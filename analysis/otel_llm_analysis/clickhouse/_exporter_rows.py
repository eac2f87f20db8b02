"""Decoded OTLP rows (a :class:`~otel_llm_analysis._decode.Batch`) as the ClickHouse exporter writes them.

``otel-llm load`` reads file dumps with the ingest's own decoder (one parser,
the same located problems) and hands its staged columns here, which lays them
out as the exporter's Go code appends them (``exporter_traces.go``,
``exporter_logs.go``, ``internal/metrics/*.go``, v0.161.0): attribute values as
pdata's ``AsString()`` (:mod:`._asstring`) in maps ordered by key (as
the exporter's driver sends them), span kind and status as pdata's
names, an absent id as ``''`` (an exemplar's as zeros: it hex-encodes the bytes),
the log time as ``Timestamp`` else ``ObservedTimestamp``, a metric value as one
double. Times are nanoseconds here; :func:`fit_times` scales them to the
precision of each column of the target table.

What the decoder does not stage — schema URLs and the scope's dropped-attribute
count — is written empty (the decoder counts them under "not kept", and
``load`` reports that).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Callable, Mapping

import msgspec

from otel_llm_analysis._attribute_entries import key_text
from otel_llm_analysis._decode import Batch, Problem
from otel_llm_analysis.clickhouse._asstring import as_string

__all__ = ["LOG_COLUMNS", "METRIC_KIND_TABLE", "SPAN_COLUMNS", "fit_sums", "fit_times", "log_rows", "metric_rows",
           "span_rows"]

#: pdata's SpanKind.String() / StatusCode.String() (an unknown number: "").
_SPAN_KINDS = {0: "Unspecified", 1: "Internal", 2: "Server", 3: "Client", 4: "Producer", 5: "Consumer"}
_STATUS = {0: "Unset", 1: "Ok", 2: "Error"}
_TEMPORALITY = {"delta": 1, "cumulative": 2}
_ZERO_TRACE, _ZERO_SPAN = "0" * 32, "0" * 16
#: The decoder's metric_type -> the key of ``clickhouse.METRICS_TABLES``.
METRIC_KIND_TABLE = {"gauge": "gauge", "sum": "sum", "histogram": "histogram",
                     "exponential_histogram": "exp_histogram", "summary": "summary"}

SPAN_COLUMNS = (
    "Timestamp", "TraceId", "SpanId", "ParentSpanId", "TraceState", "SpanName", "SpanKind", "ServiceName",
    "ResourceAttributes", "ScopeName", "ScopeVersion", "SpanAttributes", "Duration", "StatusCode", "StatusMessage",
    "Events.Timestamp", "Events.Name", "Events.Attributes", "Links.TraceId", "Links.SpanId", "Links.TraceState",
    "Links.Attributes",
)
LOG_COLUMNS = (
    "Timestamp", "TraceId", "SpanId", "TraceFlags", "SeverityText", "SeverityNumber", "ServiceName", "Body",
    "ResourceSchemaUrl", "ResourceAttributes", "ScopeSchemaUrl", "ScopeName", "ScopeVersion", "ScopeAttributes",
    "LogAttributes", "EventName",
)
_METRIC_COMMON = (
    "ResourceAttributes", "ResourceSchemaUrl", "ScopeName", "ScopeVersion", "ScopeAttributes",
    "ScopeDroppedAttrCount", "ScopeSchemaUrl", "ServiceName", "MetricName", "MetricDescription", "MetricUnit",
    "Attributes", "StartTimeUnix", "TimeUnix", "Flags",
)
#: Every metric table's but the summary's (a summary point has no exemplars; its table no such columns).
_EXEMPLARS = ("Exemplars.FilteredAttributes", "Exemplars.TimeUnix", "Exemplars.Value", "Exemplars.SpanId",
              "Exemplars.TraceId")
_METRIC_OWN = {
    "gauge": ("Value",),
    "sum": ("Value", "AggregationTemporality", "IsMonotonic"),
    "histogram": ("Count", "Sum", "BucketCounts", "ExplicitBounds", "Min", "Max", "AggregationTemporality"),
    "exp_histogram": ("Count", "Sum", "Scale", "ZeroCount", "PositiveOffset", "PositiveBucketCounts",
                      "NegativeOffset", "NegativeBucketCounts", "Min", "Max", "AggregationTemporality"),
    "summary": ("Count", "Sum", "ValueAtQuantiles.Quantile", "ValueAtQuantiles.Value"),
}
METRIC_COLUMNS = {kind: _METRIC_COMMON + (() if kind == "summary" else _EXEMPLARS) + own
                  for kind, own in _METRIC_OWN.items()}

_decode_json = msgspec.json.Decoder().decode


class _KeyValue(msgspec.Struct):
    """One OTLP-JSON key/value, its value left as JSON text (converted once per distinct text)."""

    key: Any = None
    value: msgspec.Raw = msgspec.Raw(b"")


_decode_key_values = msgspec.json.Decoder(list[_KeyValue]).decode


class _Maps:
    """Attribute lists (raw OTLP JSON) -> ``{key: AsString(value)}``, each distinct list once.

    Values repeat far more than whole lists (a model name, a token count), so each
    distinct value text is converted once too. A list that is not a JSON array of
    key/values is reported once with its place and read as empty (the span, record
    or point is still loaded). An entry a map cannot keep (no key/value object, no
    key, the earlier of a repeated key) is left out as DuckDB's ingest leaves it; a
    key that is not a string is kept as its JSON text, as there (``_attribute_entries``).
    ``lost`` says whether the list :meth:`of` read last lost such entries (the caller
    names them: ``_Loader``), from counts the reading makes anyway.
    """

    def __init__(self, batch: Batch) -> None:
        self.batch = batch
        self._cache: dict[bytes, tuple[dict[str, str], bool]] = {}
        self._values: dict[bytes, str] = {}
        self.lost = False

    def of(self, raw: Any, ctx: int, what: str) -> dict[str, str]:
        data = bytes(raw) if raw is not None else b""
        found = self._cache.get(data)
        if found is not None:
            out, self.lost = found
            return out
        out = {}
        items = 0
        if data and data not in (b"[]", b"null"):
            try:
                pairs = [(key_text(item.key), bytes(item.value)) for item in _decode_key_values(data)]
                items = len(pairs)
            except msgspec.DecodeError:  # not a list of objects: read generically below, as the decoder would
                pairs, items = self._generic(data, ctx, what)
            values = self._values
            for key, value in pairs:
                if key is not None:
                    text = values.get(value)
                    if text is None:
                        text = values[value] = as_string(_decode_json(value)) if value else ""
                    out[key] = text  # a repeated key: the last, as a Go map
        self.lost = len(out) < items
        out = dict(sorted(out.items()))  # the map's order as the exporter's driver writes it: by key
        self._cache[data] = out, self.lost
        return out

    def _generic(self, data: bytes, ctx: int, what: str) -> tuple[list[tuple[str | None, bytes]], int]:
        """The key/values of a list the typed decoder refused (its objects' keys and values) and how many items
        it holds; a text that is no JSON array is reported and read as empty."""
        try:
            items = _decode_json(data)
        except msgspec.DecodeError as exc:
            items = exc
        if not isinstance(items, list):
            self._report(ctx, f"ignored {what}: not a JSON array of key/values")
            return [], 0
        return [(key_text(item.get("key")), msgspec.json.encode(item.get("value")) if "value" in item else b"")
                for item in items if isinstance(item, dict)], len(items)

    def _report(self, ctx: int, reason: str) -> None:
        source, line = self.batch.contexts[ctx][:2]
        self.batch.problems.append(Problem(source, line, reason))


class _Context:
    """What the rows of one scope of one line share: resource map, service name, scope."""

    def __init__(self, batch: Batch, maps: _Maps) -> None:
        self.batch, self.maps = batch, maps
        self._resources: dict[int, dict[str, str]] = {}

    def resource(self, ctx: int) -> dict[str, str]:
        rid = self.batch.contexts[ctx][2]
        found = self._resources.get(rid)
        if found is None:
            found = self._resources[rid] = self.maps.of(self.batch.resources[rid].encode(), ctx, "resource attributes")
        return found

    def service(self, ctx: int) -> str:
        return self.resource(ctx).get("service.name", "")

    def scope(self, ctx: int) -> tuple[str, str, dict[str, str]]:
        _, _, _, name, version, attrs = self.batch.contexts[ctx]
        return name or "", version or "", self.maps.of(attrs.encode() if attrs else b"", ctx, "scope attributes")


def _grouped(columns: Mapping[str, list[Any]], key: str) -> dict[int, list[int]]:
    """Row indexes of a child table (events, links, exemplars) by their parent's ordinal."""
    groups: dict[int, list[int]] = defaultdict(list)
    for i, parent in enumerate(columns[key]):
        groups[parent].append(i)
    return groups


def span_rows(batch: Batch, lossy: list[int] | None = None) -> list[list[Any]]:
    """The batch's spans as ``SPAN_COLUMNS`` rows (times in ns); ``lossy`` gets the index of each span whose
    attribute list lost entries (``_Maps``), for the caller to name those of them that are new."""
    maps = _Maps(batch)
    context = _Context(batch, maps)
    s, ev, ln = batch.cols["spans"], batch.cols["events"], batch.cols["links"]
    events, links = _grouped(ev, "span_ord"), _grouped(ln, "span_ord")
    rows = []
    for i in range(len(s["trace_id"])):
        ctx = s["ctx"][i]
        scope_name, scope_version, _ = context.scope(ctx)
        start, end = s["start_ns"][i] or 0, s["end_ns"][i] or 0
        mine, linked = events.get(i, ()), links.get(i, ())
        attributes = maps.of(s["attrs"][i], ctx, "span attributes")
        if maps.lost and lossy is not None:
            lossy.append(i)
        rows.append([
            start, s["trace_id"][i], s["span_id"][i], s["parent_span_id"][i] or "", s["trace_state"][i] or "",
            s["name"][i] or "", _SPAN_KINDS.get(s["kind"][i], ""), context.service(ctx), context.resource(ctx),
            scope_name, scope_version, attributes,
            (end - start) % 2**64, _STATUS.get(s["status_code"][i], ""), s["status_message"][i] or "",
            [ev["time_ns"][j] or 0 for j in mine], [ev["name"][j] or "" for j in mine],
            [maps.of(ev["attrs"][j], ctx, "event attributes") for j in mine],
            [ln["linked_trace_id"][j] for j in linked], [ln["linked_span_id"][j] for j in linked],
            [ln["trace_state"][j] or "" for j in linked],
            [maps.of(ln["attrs"][j], ctx, "link attributes") for j in linked],
        ])
    return rows


def log_rows(batch: Batch) -> list[list[Any]]:
    """The batch's log records as ``LOG_COLUMNS`` rows (times in ns)."""
    maps = _Maps(batch)
    context = _Context(batch, maps)
    lg = batch.cols["logs"]
    rows = []
    for i in range(len(lg["ctx"])):
        ctx = lg["ctx"][i]
        scope_name, scope_version, scope_attrs = context.scope(ctx)
        body = lg["body"][i]
        rows.append([
            lg["time_ns"][i] or lg["observed_ns"][i] or 0, lg["trace_id"][i] or "", lg["span_id"][i] or "",
            (lg["flags"][i] or 0) & 0xFF, lg["severity_text"][i] or "", (lg["severity_number"][i] or 0) & 0xFF,
            context.service(ctx), as_string(_decode_json(body)) if body else "", "", context.resource(ctx), "",
            scope_name, scope_version, scope_attrs, maps.of(lg["attrs"][i], ctx, "log attributes"),
            lg["event_name"][i] or "",
        ])
    return rows


def metric_rows(batch: Batch) -> dict[str, list[list[Any]]]:
    """The batch's metric points by ``METRICS_TABLES`` kind, as ``METRIC_COLUMNS[kind]`` rows (times in ns)."""
    maps = _Maps(batch)
    context = _Context(batch, maps)
    p, ex = batch.cols["points"], batch.cols["exemplars"]
    exemplars = _grouped(ex, "point_ord")
    out: dict[str, list[list[Any]]] = defaultdict(list)
    for i in range(len(p["ctx"])):
        ctx = p["ctx"][i]
        kind = METRIC_KIND_TABLE[p["metric_type"][i]]
        scope_name, scope_version, scope_attrs = context.scope(ctx)
        mine = exemplars.get(i, ())
        row = [
            context.resource(ctx), "", scope_name, scope_version, scope_attrs, 0, "", context.service(ctx),
            p["metric_name"][i] or "", p["description"][i] or "", p["unit"][i] or "",
            maps.of(p["attrs"][i], ctx, "point attributes"), p["start_ns"][i] or 0, p["time_ns"][i] or 0,
            p["flags"][i] or 0,
        ]
        if kind != "summary":
            row += [[maps.of(ex["attrs"][j], ctx, "exemplar attributes") for j in mine],
                    [ex["time_ns"][j] or 0 for j in mine], [ex["value"][j] or 0.0 for j in mine],
                    [ex["span_id"][j] or _ZERO_SPAN for j in mine], [ex["trace_id"][j] or _ZERO_TRACE for j in mine]]
        row.extend(_OWN_VALUES[kind](p, i))
        out[kind].append(row)
    return out


def _f(value: Any) -> float:
    return 0.0 if value is None else float(value)


def _sum(p: Mapping[str, list[Any]], i: int) -> float | None:
    """Point ``i``'s sum; None when the point has none (written as its table can hold it: :func:`fit_sums`)."""
    total = p["sum"][i]
    return None if total is None else float(total)


def _temporality(p: Mapping[str, list[Any]], i: int) -> int:
    text = p["temporality"][i]
    return _TEMPORALITY.get(text, int(text) if text and text.lstrip("-").isdigit() else 0)


_OWN_VALUES: dict[str, Callable[[Mapping[str, list[Any]], int], list[Any]]] = {
    "gauge": lambda p, i: [_f(p["value"][i])],
    "sum": lambda p, i: [_f(p["value"][i]), _temporality(p, i), bool(p["is_monotonic"][i])],
    "histogram": lambda p, i: [p["count"][i] or 0, _sum(p, i), list(p["bucket_counts"][i] or ()),
                               list(p["explicit_bounds"][i] or ()), _f(p["min"][i]), _f(p["max"][i]),
                               _temporality(p, i)],
    "exp_histogram": lambda p, i: [p["count"][i] or 0, _sum(p, i), p["scale"][i] or 0, p["zero_count"][i] or 0,
                                   p["positive_offset"][i] or 0, list(p["positive_bucket_counts"][i] or ()),
                                   p["negative_offset"][i] or 0, list(p["negative_bucket_counts"][i] or ()),
                                   _f(p["min"][i]), _f(p["max"][i]), _temporality(p, i)],
    "summary": lambda p, i: [p["count"][i] or 0, _sum(p, i),
                             [q["quantile"] for q in p["quantile_values"][i] or ()],
                             [q["value"] for q in p["quantile_values"][i] or ()]],
}


def fit_times(rows: list[list[Any]], columns: tuple[str, ...], types: Mapping[str, str]) -> None:
    """Scale the ns times of ``rows`` (in place) to each column's type: ``DateTime64(p)`` keeps
    ``p`` digits, ``DateTime`` whole seconds (as the exporter's driver truncates ``time.Time``)."""
    for index, name in enumerate(columns):
        kind = types[name]
        scalar = kind.replace("Array(", "").rstrip(")")
        if scalar.startswith("DateTime64("):
            divisor = 10 ** (9 - int(scalar[len("DateTime64("):].split(",")[0]))
        elif scalar.startswith("DateTime"):
            divisor = 10 ** 9
        else:
            continue
        if divisor == 1:
            continue
        if kind.startswith("Array("):
            for row in rows:
                row[index] = [t // divisor for t in row[index]]
        else:
            for row in rows:
                row[index] //= divisor


def fit_sums(rows: list[list[Any]], columns: tuple[str, ...], types: Mapping[str, str]) -> None:
    """A point's absent sum (None in ``rows``' ``Sum``) as the table holds it, in place: NULL in a ``Nullable``
    column (the tables ``otel-llm load`` creates: ``ExporterSchema.nullable_sums``), as DuckDB's ``metric_points``
    keeps it; else 0.0, as the exporter writes a point without one into its own tables (pdata's ``Sum()``)."""
    if "Sum" not in columns or types["Sum"].startswith("Nullable("):
        return
    index = columns.index("Sum")
    for row in rows:
        if row[index] is None:
            row[index] = 0.0
