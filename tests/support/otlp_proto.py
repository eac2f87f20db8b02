"""OTLP JSON files turned into the collector file exporter's ``format: proto`` (for ingest and load tests)."""

from __future__ import annotations

import base64
import struct
from pathlib import Path

import orjson
from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

#: The request message of each signal, by the name its file is given
SIGNALS = {"traces": ExportTraceServiceRequest, "metrics": ExportMetricsServiceRequest,
           "logs": ExportLogsServiceRequest}
_IDS = ("traceId", "spanId", "parentSpanId")


def _base64_ids(node: object) -> None:
    """OTLP JSON's hex ids as protobuf's JSON mapping writes bytes (base64), in place."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _IDS and isinstance(value, str) and value:
                node[key] = base64.b64encode(bytes.fromhex(value)).decode()
            else:
                _base64_ids(value)
    elif isinstance(node, list):
        for item in node:
            _base64_ids(item)


def frames(json_file: Path, signal: str) -> list[bytes]:
    """Each line of an OTLP JSON file as the file exporter's ``format: proto`` frames it: a 4-byte
    big-endian length, then the request's protobuf."""
    frames = []
    for line in json_file.read_bytes().splitlines():
        request = orjson.loads(line)
        _base64_ids(request)
        message = json_format.ParseDict(request, SIGNALS[signal]()).SerializeToString()
        frames.append(struct.pack(">I", len(message)) + message)
    return frames
