"""The collector's protobuf file format (file exporter ``format: proto``), handed on as OTLP JSON.

Why: a collector may write its files as protobuf - each frame a 4-byte big-endian
length, then an ``Export{Trace,Metrics,Logs}ServiceRequest`` (``_sources`` reads
the frames, decompressing them under ``compression: zstd``). Each message is
turned into the OTLP JSON the decoder reads, so both formats load through the
same checks into the same rows. The three messages begin with the same fields,
so the bytes do not say which signal a file holds: its name does, as the
collector's configuration names each signal's file (``traces.pb``,
``metrics-....binpb``). protobuf's JSON mapping writes bytes as base64; OTLP
JSON writes trace and span ids in hex, so those are turned back.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import orjson

__all__ = ["FrameError", "signal_of", "to_json"]

#: The words of a file name that say its signal, in the order they are looked for.
_SIGNALS = (("trace", "traces"), ("metric", "metrics"), ("log", "logs"))
#: The fields of OTLP messages that hold ids (bytes in protobuf, hex in OTLP JSON).
_IDS = frozenset({"traceId", "spanId", "parentSpanId"})


class FrameError(ValueError):
    """A frame that is not the signal's message; the message is the report's reason."""


def signal_of(path: Path) -> str | None:
    """``traces``, ``metrics`` or ``logs`` from the file's name; None when it names none."""
    name = path.name.lower()
    for word, signal in _SIGNALS:
        if word in name:
            return signal
    return None


def _message(signal: str) -> type:
    if signal == "traces":
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

        return ExportTraceServiceRequest
    if signal == "metrics":
        from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest

        return ExportMetricsServiceRequest
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

    return ExportLogsServiceRequest


def to_json(payload: bytes, signal: str) -> tuple[bytes, str | None]:
    """One frame's message as an OTLP JSON line, and a note when some of it was changed to read it;
    :class:`FrameError` when it is not one.

    protobuf refuses a whole message for one string field that is not UTF-8 (a producer's byte in one
    span's name), so such a frame is read again with U+FFFD in place of those bytes, as the JSON decoder
    reads such a line (``_decode``), and the note says how many fields."""
    from google.protobuf import json_format
    from google.protobuf.message import DecodeError

    kind = _message(signal)
    note = None
    try:
        message = kind.FromString(payload)
    except DecodeError as exc:
        fixed = _as_utf8(payload, kind.DESCRIPTOR) if "UTF-8" in str(exc) else None
        if fixed is None:
            raise FrameError(f"not a protobuf {signal} export request: {exc}") from None
        payload, count = fixed
        message = kind.FromString(payload)
        note = f"read with U+FFFD in place of the bytes that are not UTF-8 in {count} string field(s)"
    request = json_format.MessageToDict(message, use_integers_for_enums=True)
    _hex_ids(request)
    return orjson.dumps(request), note


def _as_utf8(payload: bytes, descriptor: Any) -> tuple[bytes, int] | None:
    """``payload`` (a message of ``descriptor``) with U+FFFD in place of the bytes of its string fields, at
    every depth, that are not UTF-8, and how many fields that changed; None when the wire format cannot be
    walked (the frame is then refused as it was)."""
    out = bytearray()
    changed = pos = 0
    while pos < len(payload):
        first = pos
        key, pos = _varint(payload, pos)
        wire = key & 7
        if wire == 2:  # length-delimited: a string, a message, bytes or a packed list
            length, begin = _varint(payload, pos)
            end = begin + length
            if end > len(payload):
                return None
            value = text = payload[begin:end]
            field = descriptor.fields_by_number.get(key >> 3)
            if field is not None and field.type == field.TYPE_STRING:
                text = value.decode("utf-8", "replace").encode()
                changed += text != value
            elif field is not None and field.type == field.TYPE_MESSAGE:
                inner = _as_utf8(value, field.message_type)
                if inner is None:
                    return None
                text, count = inner
                changed += count
            out += payload[first:pos] + _encoded_varint(len(text)) + text
            pos = end
            continue
        if wire == 0:
            pos = _varint(payload, pos)[1]
        elif wire in (1, 5):
            pos += 8 if wire == 1 else 4
        else:  # groups (deprecated, in no OTLP message): not walked
            return None
        if pos > len(payload):
            return None
        out += payload[first:pos]
    return bytes(out), changed


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    """The varint at ``pos`` and the position after it; IndexError-free: a truncated one ends the data."""
    value = shift = 0
    while pos < len(data):
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7
    return value, len(data) + 1  # past the end: the caller refuses it


def _encoded_varint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _hex_ids(node: object) -> None:
    """Ids from protobuf's JSON mapping (base64) to OTLP JSON's hex, in place."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _IDS and isinstance(value, str):
                node[key] = base64.b64decode(value).hex()
            elif isinstance(value, (dict, list)):
                _hex_ids(value)
    elif isinstance(node, list):
        for item in node:
            _hex_ids(item)
