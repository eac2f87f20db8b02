"""One OTLP-JSON line -> rows appended to a :class:`Batch`. Pure Python, no DuckDB.

Why this shape: parsing is the cost that bounds ingest, so each line is decoded
once by a typed ``msgspec`` decoder straight into structs (no dicts), and only
the structural fields (ids, times, names, status, counts) are touched in
Python. Attribute lists stay raw JSON text (``msgspec.Raw``): DuckDB turns them
into key/value lists and reads the typed columns from them (see ``_rows``).
What a batch stages per table is ``_rows.TABLES[...].staged``.

Bad input never stops a file, and nothing is dropped in silence:

* a line that fails the strict decoder is retried leniently (unknown fields
  tolerated and reported), then item by item (a span, a metric, a log record),
  so one wrong-typed span costs that span, not its 511 neighbours;
* integers are range-checked by the types (a time or count beyond 64 bits is
  a located problem, not an overflow later);
* what OTLP sends but no table keeps (schema URLs, scope attributes, ...) is
  counted in ``Batch.not_kept``;
* every problem is a :class:`Problem` with file, line and place.
"""

from __future__ import annotations

import base64
import binascii
import operator
import re
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Iterator

import msgspec
from msgspec.structs import astuple

from otel_llm import semconv
from otel_llm._guard import internal_error
from otel_llm_analysis._otlp import (
    ENCODER, ENUM_NAMES, GENERIC_DECODER, LENIENT, LENIENT_DECODER, STRICT, STRICT_DECODER, lenient_decoder,
)
from otel_llm_analysis._producers import LLM_CALL as KIND_LLM_CALL, kind_of
from otel_llm_analysis._rows import TABLES
from otel_llm_analysis._sources import BOM
from otel_llm_analysis._spellings import (
    FIRST_TOKEN_EVENTS, FIRST_TOKEN_SCOPE, FIRST_TOKEN_SECONDS, REQUEST_STREAM, SPELLINGS, TOTAL_TOKENS,
)

__all__ = [
    "Batch",
    "Problem",
    "as_utf8",
    "decode_line",
]

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


# --- batches ------------------------------------------------------------------------


class Batch:
    """Staged rows of one insert, possibly from many files: column lists per table.

    ``resources`` holds each distinct resource attribute list once (per batch),
    ``resource_places`` where each was first met (file, line, JSON path: where
    a report names it); ``contexts`` what the rows of one scope of one line share (file, line,
    resource, scope: ``_rows.CONTEXT``). Rows refer to both by index, so the
    resource MAP is built once, not per span, and a row stages one int for all
    of it. Call :meth:`start_file` before decoding a file's lines.
    """

    def __init__(self) -> None:
        self.cols: dict[str, dict[str, list[Any]]] = {
            name: {column: [] for column in table.staged_names} for name, table in TABLES.items()}
        self.resources: list[str] = []
        self.resource_places: list[tuple[str, int, str]] = []
        self._resource_ids: dict[bytes, int] = {}
        self.contexts: list[tuple[Any, ...]] = []
        self._context_ids: dict[tuple[Any, ...], int] = {}
        self.source = ""
        self.problems: list[Problem] = []
        self.not_kept: Counter[str] = Counter()
        self.lines = 0  # lines decoded into this batch
        self.line_no = 0  # the line being decoded, in its file
        # whether the line being decoded may hold a total token count (see _report_total_only_usage)
        self.may_hold_totals = True

    def start_file(self, path: str) -> None:
        self.source = path

    def context(self, resource_id: int, scope: tuple[str, str, str]) -> int:
        """The id of (this file, this line, ``resource_id``, ``scope``) for the rows about to be added."""
        key = (self.source, self.line_no, resource_id, *scope)
        ctx = self._context_ids.get(key)
        if ctx is None:
            ctx = self._context_ids[key] = len(self.contexts)
            self.contexts.append(key)
        return ctx

    def count(self, table: str) -> int:
        return len(next(iter(self.cols[table].values())))

    def add(self, table: str, row: dict[str, Any]) -> None:
        """Append one row; staged columns it does not name are NULL. (Spans and events, the
        bulk of a file, are appended column by column instead: this costs ~1 us a row.)"""
        for column, values in self.cols[table].items():
            values.append(row.get(column))

    @property
    def spans(self) -> int:
        return self.count("spans")

    @property
    def rows(self) -> int:
        return self.spans + self.count("points") + self.count("logs")

    def resource_id(self, resource: Any, where: str) -> int:
        """The index of ``resource``'s attribute list in :attr:`resources`, met at ``where`` (its JSON path)."""
        raw = bytes(resource.attributes) if resource is not None else b""
        rid = self._resource_ids.get(raw)
        if rid is None:
            rid = self._resource_ids[raw] = len(self.resources)
            self.resources.append(_text(raw))
            self.resource_places.append((self.source, self.line_no, f"{where}.resource"))
        return rid


def _text(raw: bytes | msgspec.Raw) -> str:
    data = bytes(raw)
    return data.decode("utf-8", "replace") if data else "[]"


_OPEN_BRACKET = ord("[")
_OPEN_BRACE = ord("{")


def _attrs(raw: msgspec.Raw, report: Callable[..., None], where: str) -> msgspec.Raw:
    """A resource's attribute JSON, checked here (once per line): anything but an array is
    reported and stored as no attributes. Rows' attribute lists are checked when staged
    (``_staging._joined_strings``), where one C-level pass does it for a whole batch."""
    if raw and memoryview(raw)[0] == _OPEN_BRACKET:
        return raw
    if raw and bytes(raw) != b"null":
        report(f"ignored attributes: expected an array, got {_preview(raw)}", f"{where}.attributes")
    return _EMPTY_LIST


def _preview(raw: bytes | msgspec.Raw) -> str:
    return bytes(raw)[:40].decode("utf-8", "replace")


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


def _optional_id(value: str, nbytes: int, report: Callable[..., None], where: str, what: str) -> str | None:
    """An id that may be absent (log records, exemplars): a bad one is reported and dropped; the
    W3C invalid id (all zeros: "outside any span", as several SDKs write it) is absent too."""
    if not value:
        return None
    normal, note = _normalise_id(value, nbytes)
    if normal is None:
        report(f"dropped {what}: {note}", where)
    return None if normal is not None and not normal.strip("0") else normal


# --- line decoding ----------------------------------------------------------------------


def decode_line(line: bytes, batch: Batch, line_no: int) -> None:
    """Append everything in one export-request line to ``batch``; problems go to ``batch.problems``.

    Never raises for any input: what cannot be read is reported with its place.
    An error of our own (a bug) goes through the internal-error guard, which
    re-raises under our test suite and otherwise reports the line.
    """
    batch.lines += 1
    batch.line_no = line_no
    if line.startswith(BOM):  # a mark some editors write first (mid-file where files were joined)
        line = line[len(BOM):]
    if not line or line.isspace():  # (not strip(): that copies the whole line)
        return  # blank lines carry nothing; not worth a report
    report = _reporter(batch, line_no)
    try:
        _decode(line, batch, report)
    except RecursionError:
        report("not loaded: JSON nested deeper than the parser's limit (about 1,000 levels)")
    except Exception as exc:  # noqa: BLE001 - our own fault: guarded, and the line is still reported
        internal_error("analysis.decode_line", exc)
        report(f"not loaded: internal error {type(exc).__name__}: {exc}")


def _decode(line: bytes, batch: Batch, report: Callable[..., None]) -> None:
    # every key of a total count holds "total": one search of the line spares the scopes of
    # nearly every line the search of their attributes (their joining alone was ~2.5 % of ingest)
    batch.may_hold_totals = _TOTAL_WORD in line
    try:
        request = STRICT_DECODER.decode(line)
    except msgspec.ValidationError as exc:
        _decode_lenient(line, batch, report, str(exc))
        return
    except msgspec.DecodeError as exc:
        _not_json(line, batch, report, exc)
        return
    _append_request(request, batch, report)


#: How msgspec says a string it decodes holds bytes that are not UTF-8.
_NOT_UTF8 = "Invalid UTF-8"
_REPLACEMENT = "\ufffd"


def _not_json(line: bytes, batch: Batch, report: Callable[..., None], exc: msgspec.DecodeError) -> None:
    """Report a line the decoder refused. A line whose fault is bytes that are not UTF-8 in a typed string
    (a span's or scope's name, ...) is read again with U+FFFD in their place, as in attribute values:
    a byte of one span must not cost the line's other spans."""
    if _NOT_UTF8 not in str(exc):
        report(f"invalid JSON: {exc}")
        return
    text, note = as_utf8(line, "line")
    report(note)
    _decode(text.encode(), batch, report)


def as_utf8(raw: bytes, what: str) -> tuple[str, str]:
    """``raw`` (a ``what``: the line, an attribute list) as text with U+FFFD in place of the sequences that are
    not UTF-8, and the report saying so (empty when it all was UTF-8)."""
    try:
        return raw.decode("utf-8"), ""
    except UnicodeDecodeError as exc:
        first = exc.start
    text = raw.decode("utf-8", "replace")
    count = text.count(_REPLACEMENT) - raw.count(_REPLACEMENT.encode())
    return text, f"read with U+FFFD in place of {count} invalid UTF-8 sequence(s) (the first at byte {first} of the {what})"


def _reporter(batch: Batch, line_no: int) -> Callable[..., None]:
    def report(reason: str, where: str = "") -> None:
        batch.problems.append(Problem(batch.source, line_no, reason, where))
    return report


def _decode_lenient(line: bytes, batch: Batch, report: Callable[..., None], strict_error: str) -> None:
    try:
        request = LENIENT_DECODER.decode(line)
    except msgspec.ValidationError:
        _decode_piecewise(line, batch, report)
        return
    except msgspec.DecodeError as exc:  # the strict decoder stopped before the malformed part
        _not_json(line, batch, report, exc)
        return
    if not any(b'"%s"' % key.encode() in line for key in _TOP_KEYS):
        report(_not_a_request(line))
        return
    # Only unknown fields differed: load it all, say which field was ignored.
    report(f"ignored {_lower_first(strict_error)}")
    _append_request(request, batch, report)


def _not_a_request(line: bytes) -> str:
    """Why a JSON object without any OTLP field loads nothing (a row of a table export, another
    tool's log line), naming the fields it holds instead."""
    fields = list(GENERIC_DECODER.decode(line))
    shown = ", ".join(f"`{name}`" for name in fields[:5]) + (f" and {len(fields) - 5} more" if len(fields) > 5 else "")
    return (f"not loaded: not an OTLP export request (no {', '.join(plan[0] for plan in _PLANS)}; it holds {shown})")


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


_PLANS = (
    ("resourceSpans", "scopeSpans", "spans", "ResourceSpans", "ScopeSpans", "Span"),
    ("resourceMetrics", "scopeMetrics", "metrics", "ResourceMetrics", "ScopeMetrics", "Metric"),
    ("resourceLogs", "scopeLogs", "logRecords", "ResourceLogs", "ScopeLogs", "LogRecord"),
)
_TOP_KEYS = frozenset(plan[0] for plan in _PLANS)


def _decode_piecewise(line: bytes, batch: Batch, report: Callable[..., None]) -> None:
    """Slow path for a line with a wrong-typed value: convert each item alone, skip the bad ones.

    Every level is type-checked before it is walked (an int where a list of
    scopes belongs is reported, not iterated).
    """
    try:
        obj = GENERIC_DECODER.decode(line)
    except msgspec.DecodeError as exc:
        _not_json(line, batch, report, exc)
        return
    if not isinstance(obj, dict):
        report(f"expected a JSON object (an OTLP export request), got {_json_type(obj)}")
        return
    for key in obj:
        if key not in _TOP_KEYS:
            report(f"ignored unknown field `{key}`", "$")
    T = LENIENT
    named: list[str] = []
    for top, mid, leaf, res_name, scope_name, item_name in _PLANS:
        rebuilt = []
        for ri, res in _items(obj, top, "$", report):
            where_r = f"$.{top}[{ri}]"
            scopes = []
            for si, scope in _items(res, mid, where_r, report):
                where_s = f"{where_r}.{mid}[{si}]"
                items = []
                for ii, item in _items(scope, leaf, where_s, report):
                    named += _enum_numbers(item)
                    converted = _convert(item, T[item_name], report, f"{where_s}.{leaf}[{ii}]", "skipped")
                    if converted is not None:
                        items.append(converted)
                shell = _convert({**scope, leaf: []}, T[scope_name], report, where_s, f"skipped {len(items)} item(s)")
                if shell is not None:
                    setattr(shell, leaf, items)
                    scopes.append(shell)
            shell = _convert({**res, mid: []}, T[res_name], report, where_r, "skipped resource")
            if shell is not None:
                setattr(shell, mid, scopes)
                rebuilt.append(shell)
        if rebuilt:
            _append_request(T["Request"](**{top: rebuilt}), batch, report)
    if named:
        report(f"read {len(named)} enum name(s) as their numbers ({', '.join(dict.fromkeys(named))}): "
               "OTLP JSON expects numbers")


def _enum_numbers(item: dict[str, Any]) -> list[str]:
    """Replace the enum names of a span, log record or metric (``_otlp.ENUM_NAMES``) by their numbers in place;
    returns the names replaced. A name OTLP does not define is left for the typed decoder to report."""
    holders = [item, item.get("status"), *(item.get(kind) for kind in ("sum", "histogram", "exponentialHistogram"))]
    named = []
    for holder in holders:
        if not isinstance(holder, dict):
            continue
        for field, names in ENUM_NAMES.items():
            value = holder.get(field)
            if isinstance(value, str) and value in names:
                holder[field] = names[value]
                named.append(value)
    return named


def _items(parent: dict[str, Any], key: str, where: str, report: Callable[..., None]) -> list[tuple[int, Any]]:
    """(index, object) of the array ``parent[key]``; anything else at any level is reported."""
    value = parent.get(key)
    if value is None:
        return []  # absent or null: the proto3 JSON default, an empty list
    if not isinstance(value, list):
        report(f"skipped: expected an array, got {_json_type(value)}", f"{where}.{key}")
        return []
    out = []
    for i, item in enumerate(value):
        if isinstance(item, dict):
            out.append((i, item))
        else:
            report(f"skipped: expected an object, got {_json_type(item)}", f"{where}.{key}[{i}]")
    return out


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if value is None:
        return "null"
    return {dict: "object", list: "array", str: "str", int: "int"}.get(type(value), "float")


def _convert(obj: Any, typ: type, report: Callable[..., None], where: str, what: str) -> Any:
    """Generic JSON value -> struct, by re-encoding (``msgspec.Raw`` fields need JSON text); None if invalid."""
    try:
        return lenient_decoder(typ).decode(ENCODER.encode(obj))
    except msgspec.DecodeError as exc:
        report(f"{what}: {_lower_first(str(exc))}", where)
        return None


def _append_request(request: Any, batch: Batch, report: Callable[..., None]) -> None:
    if request.resourceSpans:
        _append_spans(request.resourceSpans, batch, report)
    if request.resourceMetrics:
        _append_metrics(request.resourceMetrics, batch, report)
    if request.resourceLogs:
        _append_logs(request.resourceLogs, batch, report)


def _scope(holder: Any, batch: Batch) -> tuple[str, str, str]:
    """(name, version, attribute JSON) of a scope; counts what no table keeps."""
    if holder.schemaUrl:
        batch.not_kept["scope schema URLs"] += 1
    scope = holder.scope
    if scope is None:
        return "", "", "[]"
    if scope.droppedAttributesCount:
        batch.not_kept["scope dropped-attribute counts"] += 1
    attrs = bytes(scope.attributes)
    if attrs and attrs not in (b"[]", b"null"):
        batch.not_kept["scope attribute lists"] += 1
    return scope.name, scope.version, _text(attrs if attrs != b"null" else b"")


def _resource(holder: Any, batch: Batch, report: Callable[..., None], where: str) -> int:
    """The interned id of a resource; counts what no table keeps."""
    if holder.schemaUrl:
        batch.not_kept["resource schema URLs"] += 1
    resource = holder.resource
    if resource is not None:
        if resource.attributes and memoryview(resource.attributes)[0] != _OPEN_BRACKET:
            resource.attributes = _attrs(resource.attributes, report, f"{where}.resource")
        elif not bytes(resource.attributes).isascii() and (note := as_utf8(bytes(resource.attributes), "attribute list")[1]):
            report(note, f"{where}.resource.attributes")  # kept with U+FFFD (``_text``)
        if resource.droppedAttributesCount:
            batch.not_kept["resource dropped-attribute counts"] += 1
        if resource.entityRefs and bytes(resource.entityRefs) not in (b"[]", b"null"):
            batch.not_kept["resource entity references"] += 1
    return batch.resource_id(resource, where)


def _scopes(resources: list[Any], top: str, mid: str, leaf: str, batch: Batch,
            report: Callable[..., None]) -> Iterator[tuple[int, str, list[Any]]]:
    """(context id, JSON path, items) of every scope of every resource of one signal."""
    for ri, holder in enumerate(resources):
        where = f"$.{top}[{ri}]"
        rid = _resource(holder, batch, report, where)
        for si, scoped in enumerate(getattr(holder, mid)):
            yield batch.context(rid, _scope(scoped, batch)), f"{where}.{mid}[{si}]", getattr(scoped, leaf)


_HEX_DIGITS = b"0123456789abcdef"
#: The W3C invalid span id: some converters write it as the parent of a root.
_NO_SPAN = "0" * 16
#: The W3C invalid trace id.
_NO_TRACE = "0" * 32


def _ids_ok(ids: list[str], width: int) -> bool:
    """Fast check that every id is ``width`` lowercase hex digits (one pass per scope).

    The joined length is ``width`` times the count and no id is shorter, so every
    id has the width (a short id beside a long one would otherwise add up);
    deleting the hex digits from the joined bytes leaves nothing only if all of
    them are (a fifth of the time of a ``[0-9a-f]*`` regex match).
    """
    if not ids:
        return True
    joined = "".join(ids).encode()
    return (len(joined) == width * len(ids) and min(map(len, ids)) == width
            and not joined.translate(None, _HEX_DIGITS))


#: Span fields by name -> position in ``msgspec.structs.astuple(span)``: one C-level
#: pass turns a scope's spans into columns (a third of the cost of per-field loops).
_SPAN_FIELD = {name: i for i, name in enumerate(LENIENT["Span"].__struct_fields__)}
assert _SPAN_FIELD == {name: i for i, name in enumerate(STRICT["Span"].__struct_fields__)}
_S = _SPAN_FIELD


def _append_spans(resource_spans: list[Any], batch: Batch, report: Callable[..., None]) -> None:
    """Spans of one line. Their attribute lists are checked when staged (``_staging._joined_strings``):
    a first-byte test per span here cost more than all the other fields together."""
    cols = batch.cols["spans"]
    for ctx, where, spans in _scopes(resource_spans, "resourceSpans", "scopeSpans", "spans", batch, report):
        if not spans:
            continue
        fields = list(zip(*map(astuple, spans)))
        tids, sids, pids = fields[_S["traceId"]], fields[_S["spanId"]], fields[_S["parentSpanId"]]
        index: list[int] | range = range(len(spans))
        if not (_ids_ok(tids, 32) and _ids_ok(sids, 16) and _ids_ok([p for p in pids if p], 16)):
            tids, sids, pids = list(tids), list(sids), list(pids)
            index = _fix_ids(tids, sids, pids, report, where)
            fields = [tuple(column[i] for i in index) for column in fields]
            tids, sids, pids = [tids[i] for i in index], [sids[i] for i in index], [pids[i] for i in index]
            spans = [spans[i] for i in index]
        if _NO_TRACE in tids or _NO_SPAN in sids:
            _report_invalid_ids(tids, sids, index, report, where)
        count = len(spans)
        first = len(cols["trace_id"])
        cols["trace_id"] += tids
        cols["span_id"] += sids
        cols["parent_span_id"] += [None if not p or p == _NO_SPAN else p for p in pids]
        for column, name in _COPIED:
            cols[column] += fields[_S[name]]
        _drop_backward_ends(cols["end_ns"], first, fields, index, report, where)
        _report_future_starts(fields[_S["startTimeUnixNano"]], index, report, where)
        _report_undated_starts(fields[_S["startTimeUnixNano"]], index, report, where)
        if batch.may_hold_totals:
            _report_total_only_usage(fields[_S["attributes"]], index, report, where)
        statuses = fields[_S["status"]]
        cols["status_code"] += [0 if s is None else s.code for s in statuses]
        cols["status_message"] += [None if s is None else (s.message or None) for s in statuses]
        ttft: list[int | None] = [None] * count
        for i, span_events in enumerate(fields[_S["events"]]):
            if span_events:
                ttft[i] = _append_events(spans[i], first + i, tids[i], sids[i], batch)
                if ttft[i] is not None and ttft[i] < 0:  # a clock step, or an unset (0) event time
                    report(f"time to first token left empty: the first-token event is {-ttft[i] / 1e9:g} s "
                           "before its span's start", f"{where}.spans[{index[i]}]")
                    ttft[i] = None
        if batch.contexts[ctx][3].startswith(FIRST_TOKEN_SCOPE):  # OpenLIT's: no event, an attribute
            attributes = fields[_S["attributes"]]
            for i in range(count):
                if ttft[i] is None:
                    ttft[i] = _first_token_attribute(attributes[i])
        cols["ttft_ns"] += ttft
        for i, span_links in enumerate(fields[_S["links"]]):
            if span_links:
                _append_links(span_links, first + i, tids[i], sids[i], batch, report,
                              f"{where}.spans[{index[i]}]")
        cols["ctx"] += [ctx] * count


def _report_invalid_ids(tids: Any, sids: Any, index: list[int] | range, report: Callable[..., None],
                        where: str) -> None:
    """Name the spans whose trace or span id is all zeros (W3C's invalid id, which no tracer hands out): kept,
    but unrelated requests that share the trace id count as one trace, and no span can name the span id as
    its parent (that parent is read as none: a root's)."""
    for i, (tid, sid) in enumerate(zip(tids, sids)):
        if tid == _NO_TRACE:
            report("kept, but its trace id is all zeros (the W3C invalid id): the spans of unrelated requests "
                   "that share it count as one trace", f"{where}.spans[{index[i]}]")
        elif sid == _NO_SPAN:
            report("kept, but its span id is all zeros (the W3C invalid id): no span can name it as its parent",
                   f"{where}.spans[{index[i]}]")


def _drop_backward_ends(ends: list[int], first: int, fields: list[Any], index: list[int] | range,
                        report: Callable[..., None], where: str) -> None:
    """An end before its start (a producer's clock stepped back) is no duration: a negative
    latency would drag percentiles and a trace's wall time below zero. The end is left unset
    (``end_time`` and ``duration_ms`` NULL), the span kept and reported."""
    starts, stops = fields[_S["startTimeUnixNano"]], fields[_S["endTimeUnixNano"]]
    if not any(map(operator.lt, stops, starts)):
        return
    for i, (start, end) in enumerate(zip(starts, stops)):
        if 0 < end < start:
            ends[first + i] = 0
            report(f"end time left empty: endTimeUnixNano {end} is {(start - end) / 1e9:g} s before "
                   f"startTimeUnixNano {start}", f"{where}.spans[{index[i]}]")


#: How far after the ingest a span may start before it is named (clocks of hosts drift by
#: seconds, a wrong timezone by hours; a day more is a producer's clock or unit error).
FUTURE_SLACK_NS = 86_400 * 10**9


def _report_future_starts(starts: tuple[int, ...], index: list[int] | range,
                          report: Callable[..., None], where: str) -> None:
    """Name spans that start more than :data:`FUTURE_SLACK_NS` after now: kept as sent, but one
    such span stretches every time series to its date, so the user must learn where it is."""
    limit = time.time_ns() + FUTURE_SLACK_NS
    if max(starts, default=0) <= limit:
        return
    for i, start in enumerate(starts):
        if start > limit:
            when = datetime.fromtimestamp(start / 1e9, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            report(f"kept, but dated in the future: startTimeUnixNano {start} is {when} "
                   "(a producer's clock or time unit?)", f"{where}.spans[{index[i]}]")


#: Why a record without a time is named: kept, but no time window can find it (a count without a
#: window includes it, one with a window does not). The record's own field, then the analyses it misses.
_UNDATED = "kept, but undated: {field}, so no time window ({missed}) finds it"


def _report_undated_starts(starts: tuple[int, ...], index: list[int] | range,
                           report: Callable[..., None], where: str) -> None:
    """Name spans without a start time (``_UNDATED``)."""
    if 0 not in starts:
        return
    for i, start in enumerate(starts):
        if not start:
            report(_UNDATED.format(field="startTimeUnixNano is 0", missed="trends, budgets, --since"),
                   f"{where}.spans[{index[i]}]")


#: What every key of a total token count (``TOTAL_TOKENS``) holds; the tests report each spelling.
_TOTAL_WORD = b"total"
#: The attribute keys, as they appear in the raw attribute JSON, of a total token count and of
#: the input/output counts that make it readable.
_TOTAL_KEYS = tuple(b'"%s"' % name.encode() for name in TOTAL_TOKENS)
_SPLIT_KEYS = tuple(b'"%s"' % name.encode() for column in ("input_tokens", "output_tokens")
                    for name in SPELLINGS[column])
#: otel-llm's own spans carry their kind: the SDK records a total when the response gave only that
#: (``gen_ai.usage.total_tokens``), valid data counted as a total-only call, not a split it failed to read
_OURS = b'"%s"' % semconv.OTEL_LLM_KIND.encode()


def _report_total_only_usage(attributes: tuple[Any, ...], index: list[int] | range,
                             report: Callable[..., None], where: str) -> None:
    """Report other producers' spans whose usage is only a total: their tokens and cost stay unknown,
    and saying so beats a call of 0 tokens (otel-llm's own such calls are counted, not reported). One
    search of the scope's joined attributes finds the rare scope that holds a total at all."""
    joined = b"".join(attributes)
    if not any(key in joined for key in _TOTAL_KEYS):
        return
    for i, raw in enumerate(attributes):
        text = bytes(raw)
        total = next((key for key in _TOTAL_KEYS if key in text), None)
        if (total is not None and _OURS not in text and not any(key in text for key in _SPLIT_KEYS)
                and _is_model_call(text)):
            report(f"input_tokens and output_tokens left empty: usage given only as a total ({total.decode()}), "
                   "which cannot be split or priced", f"{where}.spans[{index[i]}]")


def _is_model_call(attributes: bytes) -> bool:
    """Whether a span's raw attribute list makes it a model call (``_producers.kind_of``)."""
    try:
        items = msgspec.json.decode(attributes)
        # each value as text (the SQL lookups' view of it): a token count is evidence of a call too
        values = {item["key"]: None if (v := next(iter(item["value"].values()), None)) is None else str(v)
                  for item in items}
    except (msgspec.DecodeError, TypeError, KeyError, AttributeError):
        return False  # not an attribute list: reported where the attributes are staged
    return kind_of(values) == KIND_LLM_CALL


#: Staged span column <- span field, copied as decoded.
_COPIED = (("name", "name"), ("kind", "kind"), ("start_ns", "startTimeUnixNano"), ("end_ns", "endTimeUnixNano"),
           ("trace_state", "traceState"), ("flags", "flags"), ("dropped_attributes_count", "droppedAttributesCount"),
           ("dropped_events_count", "droppedEventsCount"), ("dropped_links_count", "droppedLinksCount"),
           ("attrs", "attributes"))


def _append_events(span: Any, ordinal: int, trace_id: str, span_id: str, batch: Batch) -> int | None:
    """Events of one span; returns its time to first token (ns) when it has a first-token event."""
    ev = batch.cols["events"]
    first_token = None
    for event in span.events:
        ev["span_ord"].append(ordinal)
        ev["trace_id"].append(trace_id)
        ev["span_id"].append(span_id)
        ev["time_ns"].append(event.timeUnixNano)
        ev["name"].append(event.name)
        ev["dropped_attributes_count"].append(event.droppedAttributesCount)
        ev["attrs"].append(event.attributes)
        if event.name in FIRST_TOKEN_EVENTS and span.startTimeUnixNano:
            delta = event.timeUnixNano - span.startTimeUnixNano
            if first_token is None or delta < first_token:
                first_token = delta
    return first_token


class _Attribute(msgspec.Struct):
    """One ``{"key": ..., "value": {"<type>Value": ...}}`` of a span's attribute list."""

    key: str = ""
    value: dict[str, Any] = {}


_ATTRIBUTE_LIST = msgspec.json.Decoder(list[_Attribute])
_MAX_NS = 2**63 - 1


def _first_token_attribute(raw: msgspec.Raw) -> int | None:
    """A streamed call's time to first token (ns) from its attributes: ``FIRST_TOKEN_SECONDS`` (seconds)
    beside ``REQUEST_STREAM`` true (OpenLIT writes the first on every call, the whole duration on one that
    did not stream). None when it did not stream or the value is no finite number of seconds >= 0; an
    unreadable attribute list is reported where the attributes are staged. Only the spans of OpenLIT's
    scopes are read here, so no other span pays for the decoding."""
    try:
        values = {item.key: next(iter(item.value.values()), None) for item in _ATTRIBUTE_LIST.decode(raw)}
    except msgspec.DecodeError:
        return None
    if values.get(REQUEST_STREAM) not in (True, "true"):
        return None
    seconds = values.get(FIRST_TOKEN_SECONDS)
    if isinstance(seconds, bool):
        return None
    try:
        ns = float(seconds) * 1e9  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return round(ns) if 0 <= ns <= _MAX_NS else None  # (NaN fails both)


def _append_links(links: list[Any], ordinal: int, trace_id: str, span_id: str, batch: Batch,
                  report: Callable[..., None], where: str) -> None:
    for i, link in enumerate(links):
        here = f"{where}.links[{i}]"
        linked_trace, note_t = _normalise_id(link.traceId, 16)
        linked_span, note_s = _normalise_id(link.spanId, 8)
        if linked_trace is None or linked_span is None:
            report(f"skipped link: {note_t if linked_trace is None else note_s}", here)
            continue
        batch.add("links", {
            "span_ord": ordinal, "trace_id": trace_id, "span_id": span_id, "linked_trace_id": linked_trace,
            "linked_span_id": linked_span, "trace_state": link.traceState, "flags": link.flags,
            "dropped_attributes_count": link.droppedAttributesCount, "attrs": link.attributes})


def _fix_ids(tids: list[str], sids: list[str], pids: list[str], report: Callable[..., None],
             where: str) -> list[int]:
    """Normalise ids in place; returns the indexes of spans worth keeping."""
    keep: list[int] = []
    converted = 0
    for i in range(len(tids)):
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


# --- metrics --------------------------------------------------------------------------

_TEMPORALITY = {1: "delta", 2: "cumulative"}
_NUMBER_KINDS = ("gauge", "sum")
_KINDS = (("gauge", "gauge"), ("sum", "sum"), ("histogram", "histogram"),
          ("exponentialHistogram", "exponential_histogram"), ("summary", "summary"))


def _append_metrics(resource_metrics: list[Any], batch: Batch, report: Callable[..., None]) -> None:
    for ctx, where, metrics in _scopes(resource_metrics, "resourceMetrics", "scopeMetrics", "metrics", batch, report):
        for mi, metric in enumerate(metrics):
            where_m = f"{where}.metrics[{mi}]"
            if metric.metadata and bytes(metric.metadata) not in (b"[]", b"null"):
                batch.not_kept["metric metadata lists"] += 1
            if all(getattr(metric, field_name) is None for field_name, _ in _KINDS):
                report(f"not loaded: metric `{metric.name}` has no data "
                       f"({', '.join(name for name, _ in _KINDS[:-1])} or {_KINDS[-1][0]})", where_m)
            for field_name, kind in _KINDS:
                data = getattr(metric, field_name)
                if data is None:
                    continue
                number = getattr(data, "aggregationTemporality", 0)
                temporality = _TEMPORALITY.get(number, str(number) if number else None)
                monotonic = getattr(data, "isMonotonic", None)
                for pi, p in enumerate(data.dataPoints):
                    where_p = f"{where_m}.{field_name}.dataPoints[{pi}]"
                    ordinal = batch.count("points")
                    exemplars = _exemplars(p, ordinal, metric.name, batch, report, where_p)
                    if not p.timeUnixNano:
                        report(_UNDATED.format(field="timeUnixNano is 0", missed="check, --since"), where_p)
                    if kind == "histogram" and p.bucketCounts:
                        _check_buckets(p, report, where_p)
                    elif kind == "exponential_histogram":
                        _check_exponential_count(p, report, where_p)
                    batch.add("points", {
                        **_point_values(kind, p), "time_ns": p.timeUnixNano, "start_ns": p.startTimeUnixNano,
                        "metric_name": metric.name, "description": metric.description, "metric_type": kind,
                        "unit": metric.unit, "temporality": temporality, "is_monotonic": monotonic, "ctx": ctx,
                        "flags": p.flags, "attrs": p.attributes, "exemplars": exemplars})


def _check_buckets(p: Any, report: Callable[..., None], where: str) -> None:
    """Name a histogram point whose buckets contradict its bounds or its count: kept as sent, but a
    percentile or share read from those buckets would be wrong without a word."""
    buckets, bounds = p.bucketCounts, p.explicitBounds
    if len(buckets) != len(bounds) + 1:
        report(f"kept as sent, but bucketCounts has {len(buckets)} entries for {len(bounds)} explicitBounds "
               "(OTLP: one more than the bounds)", where)
    elif p.count is not None and sum(buckets) != p.count:
        report(f"kept as sent, but count {p.count} is not the sum of bucketCounts ({sum(buckets)})", where)


def _check_exponential_count(p: Any, report: Callable[..., None], where: str) -> None:
    """Name an exponential histogram point whose count is not its zero count plus its buckets
    (kept as sent: a percentile or share read from those buckets would be wrong without a word)."""
    if p.count is None or (p.positive is None and p.negative is None and not p.zeroCount):
        return  # no buckets at all (count and sum only): nothing to contradict, as for explicit ones
    held = (p.zeroCount or 0) + sum(sum(b.bucketCounts) for b in (p.positive, p.negative) if b is not None)
    if held != p.count:
        report(f"kept as sent, but count {p.count} is not zeroCount + the positive and negative bucketCounts "
               f"({held})", where)


def _point_values(kind: str, p: Any) -> dict[str, Any]:
    """The values of one point of ``kind``; the columns other kinds have stay NULL."""
    if kind in _NUMBER_KINDS:
        value = p.asDouble if p.asDouble is not None else p.asInt
        return {"value": float(value) if value is not None else None}
    values: dict[str, Any] = {"count": p.count, "sum": p.sum}
    if kind == "histogram":
        values.update(min=p.min, max=p.max, bucket_counts=list(p.bucketCounts),
                      explicit_bounds=list(p.explicitBounds))
    elif kind == "exponential_histogram":
        positive, negative = p.positive, p.negative
        values.update(min=p.min, max=p.max, scale=p.scale, zero_count=p.zeroCount, zero_threshold=p.zeroThreshold,
                      positive_offset=positive.offset if positive else None,
                      positive_bucket_counts=list(positive.bucketCounts) if positive else None,
                      negative_offset=negative.offset if negative else None,
                      negative_bucket_counts=list(negative.bucketCounts) if negative else None)
    else:
        values["quantile_values"] = [{"quantile": q.quantile, "value": q.value} for q in p.quantileValues]
    return values


def _exemplars(point: Any, ordinal: int, metric_name: str, batch: Batch, report: Callable[..., None],
               where: str) -> str:
    """Stage a point's exemplars (they follow their point into ``metric_exemplars``); returns their JSON
    text, part of what makes the point distinct ("" when it has none)."""
    exemplars = getattr(point, "exemplars", None)
    if not exemplars:
        return ""
    for i, ex in enumerate(exemplars):
        here = f"{where}.exemplars[{i}]"
        value = ex.asDouble if ex.asDouble is not None else ex.asInt
        batch.add("exemplars", {
            "point_ord": ordinal, "metric_name": metric_name, "time_ns": ex.timeUnixNano,
            "value": float(value) if value is not None else None,
            "trace_id": _optional_id(ex.traceId, 16, report, here, "trace id"),
            "span_id": _optional_id(ex.spanId, 8, report, here, "span id"), "attrs": ex.filteredAttributes})
    return ENCODER.encode(exemplars).decode("utf-8", "replace")


# --- logs -------------------------------------------------------------------------------


def _append_logs(resource_logs: list[Any], batch: Batch, report: Callable[..., None]) -> None:
    for ctx, where_s, records in _scopes(resource_logs, "resourceLogs", "scopeLogs", "logRecords", batch, report):
        for li, rec in enumerate(records):
            where = f"{where_s}.logRecords[{li}]"
            if not rec.timeUnixNano and not rec.observedTimeUnixNano:
                report(_UNDATED.format(field="neither timeUnixNano nor observedTimeUnixNano is set",
                                       missed="--since"), where)
            batch.add("logs", {
                "time_ns": rec.timeUnixNano, "observed_ns": rec.observedTimeUnixNano,
                "severity_number": rec.severityNumber, "severity_text": rec.severityText,
                "body": _body(rec.body, report, where),
                "trace_id": _optional_id(rec.traceId, 16, report, where, "trace id"),
                "span_id": _optional_id(rec.spanId, 8, report, where, "span id"), "flags": rec.flags,
                "event_name": rec.eventName, "ctx": ctx, "dropped_attributes_count": rec.droppedAttributesCount,
                "attrs": rec.attributes})


def _body(raw: msgspec.Raw, report: Callable[..., None], where: str) -> str | None:
    """A log body's AnyValue JSON (rendered in SQL like attribute values); None when absent."""
    data = bytes(raw)
    if not data or data == b"null":
        return None
    if data[0] != _OPEN_BRACE:
        report(f"ignored body: expected an AnyValue object, got {_preview(data)}", f"{where}.body")
        return None
    text, note = as_utf8(data, "body")
    if note:
        report(note, f"{where}.body")
    return text
