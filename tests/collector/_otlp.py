"""Read OTLP-JSON files back (the collector's, the SDK's, the spool's) for assertions.

Deliberately independent of otel_llm_analysis: these tests check the files
themselves, so a bug shared by the writer and the reader cannot hide.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any


def lines(path: Path) -> Iterator[dict[str, Any]]:
    """Every OTLP-JSON message in a .jsonl (or native-zstd .jsonl.zst) file."""
    raw = path.read_bytes()
    if path.suffix == ".zst":
        import zstandard

        reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(raw), read_across_frames=True)
        raw = reader.read()
    for line in raw.splitlines():
        if line.strip():
            yield json.loads(line)


def signal_files(directory: Path, signal: str) -> list[Path]:
    """The live file and its rotated backups (``traces-<time>-size.jsonl``)."""
    return sorted(p for p in directory.glob(f"{signal}*.jsonl*") if p.is_file())


def messages(directory: Path, signal: str) -> list[dict[str, Any]]:
    return [m for path in signal_files(directory, signal) for m in lines(path)]


def value(any_value: dict[str, Any]) -> Any:
    """OTLP AnyValue -> Python (int64 arrive as strings)."""
    if "stringValue" in any_value:
        return any_value["stringValue"]
    if "intValue" in any_value:
        return int(any_value["intValue"])
    if "doubleValue" in any_value:
        return float(any_value["doubleValue"])
    if "boolValue" in any_value:
        return any_value["boolValue"]
    if "arrayValue" in any_value:
        return [value(v) for v in any_value["arrayValue"].get("values", [])]
    if "kvlistValue" in any_value:
        return attributes(any_value["kvlistValue"].get("values", []))
    return None


def attributes(kvs: Iterable[dict[str, Any]]) -> dict[str, Any]:
    return {kv["key"]: value(kv.get("value", {})) for kv in kvs}


def spans(msgs: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every span object (as written) across messages."""
    return [
        span
        for m in msgs
        for rs in m.get("resourceSpans", [])
        for ss in rs.get("scopeSpans", [])
        for span in ss.get("spans", [])
    ]


def span_ids(msgs: Iterable[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(s["traceId"], s["spanId"]) for s in spans(msgs)}


def metric_names(msgs: Iterable[dict[str, Any]]) -> set[str]:
    return {
        metric["name"]
        for m in msgs
        for rm in m.get("resourceMetrics", [])
        for sm in rm.get("scopeMetrics", [])
        for metric in sm.get("metrics", [])
    }


def log_records(msgs: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        record
        for m in msgs
        for rl in m.get("resourceLogs", [])
        for sl in rl.get("scopeLogs", [])
        for record in sl.get("logRecords", [])
    ]
