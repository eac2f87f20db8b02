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


def to_json(payload: bytes, signal: str) -> bytes:
    """One frame's message as an OTLP JSON line; :class:`FrameError` when it is not one."""
    from google.protobuf import json_format
    from google.protobuf.message import DecodeError

    try:
        message = _message(signal).FromString(payload)
    except DecodeError as exc:
        raise FrameError(f"not a protobuf {signal} export request: {exc}") from None
    request = json_format.MessageToDict(message, use_integers_for_enums=True)
    _hex_ids(request)
    return orjson.dumps(request)


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
