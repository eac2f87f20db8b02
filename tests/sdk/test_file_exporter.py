"""The embedded file exporters: collector-format OTLP-JSON lines, atomic, rotated, never raising.

The round trip sends the same spans to the SDK's InMemorySpanExporter and to
our FileSpanExporter, parses traces.jsonl back and compares field by field.

The golden test compares our lines with what the real collector's
``fileexporter`` (otelcol-llm v0.161.0) wrote for the same deterministic
spans and log records received over OTLP/HTTP. To regenerate the golden
files, start a collector whose OTLP/HTTP receiver feeds file exporters and run
``python tests/sdk/test_file_exporter.py http://127.0.0.1:4318 <dir the collector writes to>``.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry._logs import SeverityNumber
from opentelemetry.metrics import Observation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, SpanKind, Status, StatusCode

from otel_llm._guard import swallowing
from otel_llm.exporters._jsonl import JsonlWriter, backup_name
from otel_llm.exporters.file import FileMetricExporter, FileSpanExporter
from otel_llm.testing import SequentialIdGenerator

BACKUP = re.compile(r"^traces-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}\.\d{3}-size\.jsonl$")


# --- helpers: decode OTLP-JSON back into Python values -------------------------------
def any_value(v: dict[str, Any]) -> Any:
    (kind, raw), = v.items()
    if kind == "intValue":
        assert isinstance(raw, str), "int64 must be written as a string"
        return int(raw)
    if kind == "arrayValue":
        return tuple(any_value(x) for x in raw.get("values", []))
    if kind == "kvlistValue":
        return {kv["key"]: any_value(kv["value"]) for kv in raw.get("values", [])}
    return raw


def attrs(items: list[dict[str, Any]] | None) -> dict[str, Any]:
    return {kv["key"]: any_value(kv["value"]) for kv in items or []}


def lines(path: Path) -> list[dict[str, Any]]:
    raw = path.read_bytes()
    assert raw.endswith(b"\n")
    return [json.loads(line) for line in raw.split(b"\n")[:-1]]


def file_spans(path: Path) -> dict[str, tuple[dict, dict, dict]]:
    """spanId -> (span, scope, resource) from every line of traces.jsonl."""
    out = {}
    for request in lines(path):
        for rs in request["resourceSpans"]:
            for ss in rs["scopeSpans"]:
                for span in ss["spans"]:
                    out[span["spanId"]] = (span, ss["scope"], rs["resource"])
    return out


@pytest.fixture
def pipeline(tmp_path: Path):
    memory = InMemorySpanExporter()
    file_exporter = FileSpanExporter(tmp_path / "traces.jsonl")
    provider = TracerProvider(resource=Resource.create({"service.name": "round-trip", "deploy.n": 3}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    provider.add_span_processor(SimpleSpanProcessor(file_exporter))
    yield provider, memory, tmp_path / "traces.jsonl"
    provider.shutdown()


ALL_TYPES = {
    "s": "text é 😀", "b": True, "i": 42, "big": 2**62, "neg": -7, "f": 0.25,
    "ls": ("a", "b"), "li": (1, 2, 3), "lf": (0.5, 1.5), "lb": (True, False),
}


def emit_spans(provider: TracerProvider) -> None:
    tracer = provider.get_tracer("otel_llm.test", "9.9")
    with tracer.start_as_current_span("linked-target") as target:
        pass
    with tracer.start_as_current_span(
        "chat gpt-4o", kind=SpanKind.CLIENT, attributes=ALL_TYPES,
        links=[Link(target.get_span_context(), {"link.reason": "retry", "n": 1})],
    ) as parent:
        parent.add_event("llm.request", {"k": "v", "n": 2})
        parent.add_event("empty")
        with tracer.start_as_current_span("graph retrieve") as child:
            child.set_status(Status(StatusCode.OK))
        try:
            raise ValueError("model overloaded")
        except ValueError as exc:
            parent.record_exception(exc)
            parent.set_status(Status(StatusCode.ERROR, "model overloaded"))


def test_round_trip_field_by_field(pipeline) -> None:
    provider, memory, path = pipeline
    emit_spans(provider)
    seen: list[ReadableSpan] = list(memory.get_finished_spans())
    written = file_spans(path)
    assert len(written) == len(seen) == 3
    for span in seen:
        ctx = span.get_span_context()
        got, scope, resource = written[format(ctx.span_id, "016x")]
        assert got["traceId"] == format(ctx.trace_id, "032x")
        assert re.fullmatch(r"[0-9a-f]{32}", got["traceId"]) and re.fullmatch(r"[0-9a-f]{16}", got["spanId"])
        if span.parent is not None:
            assert got["parentSpanId"] == format(span.parent.span_id, "016x")
        else:
            assert "parentSpanId" not in got or got["parentSpanId"] == ""
        assert got["name"] == span.name
        assert got["kind"] == span.kind.value + 1  # OTLP enum: INTERNAL=1, CLIENT=3
        assert got["startTimeUnixNano"] == str(span.start_time)
        assert got["endTimeUnixNano"] == str(span.end_time)
        assert attrs(got.get("attributes")) == dict(span.attributes or {})
        assert [(e["name"], e["timeUnixNano"], attrs(e.get("attributes"))) for e in got.get("events", [])] == [
            (e.name, str(e.timestamp), dict(e.attributes or {})) for e in span.events]
        assert [(lk["traceId"], lk["spanId"], attrs(lk.get("attributes"))) for lk in got.get("links", [])] == [
            (format(lk.context.trace_id, "032x"), format(lk.context.span_id, "016x"), dict(lk.attributes or {}))
            for lk in span.links]
        expected_status: dict[str, Any] = {}
        if span.status.status_code is StatusCode.OK:
            expected_status = {"code": 1}
        elif span.status.status_code is StatusCode.ERROR:
            expected_status = {"code": 2, "message": span.status.description}
        assert got["status"] == expected_status
        assert scope == {"name": "otel_llm.test", "version": "9.9"}
        assert attrs(resource["attributes"]) == dict(span.resource.attributes)
    parent = next(s for s in written.values() if s[0]["name"] == "chat gpt-4o")[0]
    assert parent["kind"] == 3 and parent["status"] == {"code": 2, "message": "model overloaded"}
    assert attrs(parent["attributes"])["big"] == 2**62
    assert [e["name"] for e in parent["events"]] == ["llm.request", "empty", "exception"]
    unset = next(s for s in written.values() if s[0]["name"] == "linked-target")[0]
    assert unset["status"] == {}


GOLDEN = Path(__file__).parent / "golden"
T0 = 1_790_000_000_000_000_000  # a fixed clock: every timestamp below is T0 + n µs


def emit_golden(span_exporter: Any, log_exporter: Any) -> None:
    """The same spans and log records, whichever exporter receives them."""
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor

    resource = Resource({"service.name": "golden", "deploy.n": 3})  # no random instance id
    tp = TracerProvider(resource=resource, id_generator=SequentialIdGenerator(), shutdown_on_exit=False)
    tp.add_span_processor(SimpleSpanProcessor(span_exporter))
    lp = LoggerProvider(resource=resource, shutdown_on_exit=False)
    lp.add_log_record_processor(SimpleLogRecordProcessor(log_exporter))
    tracer = tp.get_tracer("otel_llm", "0.1.0")
    target = tracer.start_span("retrieve docs", start_time=T0)
    target.end(end_time=T0 + 1_000)
    span = tracer.start_span(
        "chat gpt-4o", kind=SpanKind.CLIENT, start_time=T0 + 2_000, attributes={**ALL_TYPES, "nan": float("nan")},
        links=[Link(target.get_span_context(), {"link.reason": "context"})],
    )
    span.add_event("llm.first_token", {"n": 1}, timestamp=T0 + 3_000)
    span.set_status(Status(StatusCode.ERROR, "model overloaded"))
    with trace.use_span(span):
        lp.get_logger("app", "1.0").emit(
            timestamp=T0 + 4_000, observed_timestamp=T0 + 4_500, severity_text="WARN",
            severity_number=SeverityNumber.WARN, body="retrying gpt-4o", attributes={"attempt": 2},
        )
    span.end(end_time=T0 + 5_000)
    ok = tracer.start_span("grade", start_time=T0 + 6_000)
    ok.set_status(Status(StatusCode.OK))
    ok.end(end_time=T0 + 7_000)
    tp.shutdown()
    lp.shutdown()


def emit_golden_metrics(exporter: Any) -> None:
    """Histogram, counter, up-down counter and gauge through one collection."""
    reader = PeriodicExportingMetricReader(exporter, export_interval_millis=3_600_000)
    provider = MeterProvider(resource=Resource({"service.name": "golden"}), metric_readers=[reader],
                             shutdown_on_exit=False)
    meter = provider.get_meter("otel_llm", "0.1.0")
    hist = meter.create_histogram("gen_ai.client.token.usage", unit="{token}",
                                  explicit_bucket_boundaries_advisory=[1, 4, 16])
    hist.record(10, {"gen_ai.token.type": "input"})
    hist.record(3, {"gen_ai.token.type": "input"})
    meter.create_counter("otel_llm.cost", unit="USD").add(0.25, {"gen_ai.request.model": "gpt-4o"})
    meter.create_up_down_counter("queue.depth").add(-3)
    meter.create_observable_gauge("gauge", callbacks=[lambda _: [Observation(1.5)]])
    provider.shutdown()  # exactly one collection


def _without_times(value: Any) -> Any:
    """Metric timestamps come from each reader's clock: compare everything else."""
    if isinstance(value, dict):
        return {k: _without_times(v) for k, v in value.items() if not k.lower().endswith("timeunixnano")}
    if isinstance(value, list):
        return [_without_times(v) for v in value]
    return value


def test_metric_lines_equal_the_collectors_except_timestamps(tmp_path: Path) -> None:
    emit_golden_metrics(FileMetricExporter(tmp_path / "metrics.jsonl"))
    ours = _without_times(lines(tmp_path / "metrics.jsonl"))
    assert ours == _without_times(lines(GOLDEN / "collector_metrics.jsonl"))


@pytest.mark.parametrize("signal", ["traces", "logs"])
def test_lines_equal_what_the_collector_fileexporter_wrote(tmp_path: Path, signal: str) -> None:
    from otel_llm.exporters.file import FileLogExporter

    emit_golden(FileSpanExporter(tmp_path / "traces.jsonl"), FileLogExporter(tmp_path / "logs.jsonl"))
    ours = lines(tmp_path / f"{signal}.jsonl")
    collector = lines(GOLDEN / f"collector_{signal}.jsonl")
    assert ours == collector


def test_the_same_json_as_the_collector_floats_spelled_the_python_way(tmp_path: Path) -> None:
    """What the README says: the same JSON as the collector's file exporter, equal once parsed.

    For the golden corpus the trace and log lines are even byte-identical; a
    float may be spelled differently (we write ``5.85e-6`` and ``1.0`` where
    the collector writes ``0.00000585`` and ``1``) — the same number once read.
    """
    from otel_llm.exporters.file import FileLogExporter

    emit_golden(FileSpanExporter(tmp_path / "traces.jsonl"), FileLogExporter(tmp_path / "logs.jsonl"))
    for signal in ("traces", "logs"):
        assert (tmp_path / f"{signal}.jsonl").read_bytes() == (GOLDEN / f"collector_{signal}.jsonl").read_bytes()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(FileSpanExporter(tmp_path / "floats.jsonl")))
    with provider.get_tracer("t").start_as_current_span("priced") as span:
        span.set_attributes({"gen_ai.usage.cost": 5.85e-6, "gen_ai.request.temperature": 1.0})
    raw = (tmp_path / "floats.jsonl").read_text()
    assert '"doubleValue":5.85e-6' in raw.replace("e-06", "e-6") and '"doubleValue":1.0' in raw
    collector_spelling = raw.replace("5.85e-06", "0.00000585").replace("5.85e-6", "0.00000585").replace(
        '"doubleValue":1.0', '"doubleValue":1')
    assert json.loads(collector_spelling) == json.loads(raw)


def test_huge_and_odd_attribute_values_never_crash(pipeline) -> None:
    provider, memory, path = pipeline
    tracer = provider.get_tracer("t")
    huge = "x" * (5 * 1024 * 1024)
    with tracer.start_as_current_span("huge") as span:
        span.set_attribute("payload", huge)
        span.set_attribute("raw", b"\x00\xff\xfe binary")
        span.set_attribute("lone.surrogate", "bad \ud800 text")
        span.set_attribute("nan", float("nan"))
        span.set_attribute("mixed", ["a", 1])  # type: ignore[list-item]  # SDK drops invalid sequences
    (got, _, _), = file_spans(path).values()
    values = attrs(got["attributes"])
    # Over the 1 MiB line bound: the longest value is cut, with the content policy's marker.
    assert values["payload"].startswith("x" * 1000)
    assert values["payload"].endswith(f"…[truncated from {len(huge)} chars]")
    assert len(path.read_bytes()) <= 1024 * 1024
    assert "raw" in values and "lone.surrogate" in values
    assert values["nan"] == "NaN"


def _content_spans(count: int, chars: int) -> list[Any]:
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "big"}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    for i in range(count):
        with provider.get_tracer("t").start_as_current_span(f"chat {i}") as span:
            span.set_attribute("gen_ai.input.messages", f"{i:06d}" + "p" * chars)
            span.add_event("chat.message", {"otel_llm.message.content": "c" * (chars // 2)})
    return list(memory.get_finished_spans())


@pytest.mark.parametrize("bound", [1024 * 1024, 64 * 1024])
def test_a_batch_over_the_line_bound_is_split_into_several_lines(tmp_path: Path, bound: int) -> None:
    """The otlpjsonfilereceiver reads lines of at most 1 MiB (its default): no line may be longer."""
    spans = _content_spans(300, 20_000)  # ~9 MB in one batch
    exporter = FileSpanExporter(tmp_path / "traces.jsonl", max_line_bytes=bound)
    assert exporter.export(spans) is SpanExportResult.SUCCESS
    raw = (tmp_path / "traces.jsonl").read_bytes().split(b"\n")[:-1]
    assert len(raw) > 1 and max(len(line) + 1 for line in raw) <= bound
    written = file_spans(tmp_path / "traces.jsonl")
    assert sorted(written) == sorted(format(s.context.span_id, "016x") for s in spans)
    for span, _, _ in written.values():  # split, not cut: every value is whole
        assert len(attrs(span["attributes"])["gen_ai.input.messages"]) == 20_006


def test_one_span_over_the_bound_is_cut_and_its_batch_mates_kept_whole(tmp_path: Path) -> None:
    spans = _content_spans(3, 1000) + _content_spans(1, 3 * 1024 * 1024) + _content_spans(3, 1000)
    FileSpanExporter(tmp_path / "traces.jsonl").export(spans)
    raw = (tmp_path / "traces.jsonl").read_bytes().split(b"\n")[:-1]
    assert max(len(line) + 1 for line in raw) <= 1024 * 1024
    written = [span for span, _, _ in file_spans(tmp_path / "traces.jsonl").values()]
    assert [s["name"] for s in written] == [s.name for s in spans]  # order kept
    cut = [attrs(s["attributes"])["gen_ai.input.messages"] for s in written if "truncated" in json.dumps(s)]
    assert len(cut) == 1 and cut[0].endswith(f"…[truncated from {3 * 1024 * 1024 + 6} chars]")


def test_lines_are_whole_even_when_a_previous_writer_tore_one(tmp_path: Path) -> None:
    path = tmp_path / "traces.jsonl"
    path.write_bytes(b'{"resourceSpans":[{"trunc')  # a crashed process's last, partial line
    writer = JsonlWriter(path, lambda batch: {"n": batch})
    assert writer.write(1) and writer.write(2)
    writer.close()
    raw = path.read_bytes().split(b"\n")
    assert raw[0] == b'{"resourceSpans":[{"trunc'
    assert [json.loads(x) for x in raw[1:-1]] == [{"n": 1}, {"n": 2}]


@pytest.mark.parametrize("truncate_fails", [False, True])
def test_a_failed_partial_write_never_glues_the_next_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          truncate_fails: bool) -> None:
    """The part written is cut back; where it cannot be, the next write ends the torn line first."""
    from otel_llm.exporters import _jsonl

    path = tmp_path / "traces.jsonl"
    writer = JsonlWriter(path, lambda n: {"n": n, "pad": "x" * 100})
    real = _jsonl._write_all

    def disk_full_halfway(fd: int, data: bytes) -> None:
        os.write(fd, data[: len(data) // 2])
        raise OSError(28, "No space left on device")

    def no_truncate(fd: int, size: int) -> None:
        raise OSError(1, "Operation not permitted")

    monkeypatch.setattr(_jsonl, "_write_all", disk_full_halfway)
    if truncate_fails:
        monkeypatch.setattr(_jsonl.os, "ftruncate", no_truncate)
    assert writer.write(1) is False
    monkeypatch.setattr(_jsonl, "_write_all", real)
    assert writer.write(2) is True
    writer.close()
    *torn, whole, end = path.read_bytes().split(b"\n")
    assert [line[:6] for line in torn] == ([b'{"n":1'] if truncate_fails else []) and end == b""
    assert json.loads(whole) == {"n": 2, "pad": "x" * 100}


def test_rotation_by_size_uses_collector_backup_names(tmp_path: Path) -> None:
    path = tmp_path / "traces.jsonl"
    start = datetime(2026, 11, 25, 14, 45, 1, 123000, tzinfo=timezone.utc)
    ticks = iter(range(1000))
    clock = lambda: start + timedelta(seconds=next(ticks) // 2)  # noqa: E731 — pairs share a second
    writer = JsonlWriter(path, lambda i: {"i": i, "pad": "p" * 300}, max_bytes=1000, clock=clock)
    for i in range(30):
        assert writer.write(i)
    writer.close()
    files = sorted(tmp_path.iterdir())
    backups = [f for f in files if f != path]
    assert backups and all(BACKUP.match(f.name) for f in backups)
    assert backups[0].name == "traces-2026-11-25T14-45-01.123-size.jsonl"
    seen = []
    for f in files:
        assert f.stat().st_size <= 1000
        seen += [rec["i"] for rec in lines(f)]
    assert sorted(seen) == list(range(30))  # nothing lost, nothing split


def test_encoders_with_and_without_orjson_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    from otel_llm.exporters import _jsonl

    message = {"s": "é 😀", "bad": "x \ud800 y", "n": [1, 2.5, True, None], "big": str(2**63 - 1)}
    fast = _jsonl.encode_line(message)
    monkeypatch.setattr(_jsonl, "_orjson", None)
    slow = _jsonl.encode_line(message)
    assert fast.endswith(b"\n") and slow.endswith(b"\n") and fast.count(b"\n") == 1
    assert json.loads(fast) == json.loads(slow)
    assert json.loads(slow)["bad"] == "x \ud800 y"


def test_backup_name_format() -> None:
    when = datetime(2026, 1, 2, 3, 4, 5, 6000, tzinfo=timezone.utc)
    assert backup_name(Path("/d/metrics.jsonl"), when) == Path("/d/metrics-2026-01-02T03-04-05.006-size.jsonl")


def test_line_larger_than_limit_is_written_whole(tmp_path: Path) -> None:
    path = tmp_path / "traces.jsonl"
    writer = JsonlWriter(path, lambda s: {"s": s}, max_bytes=100)
    assert writer.write("small") and writer.write("L" * 500) and writer.write("after")
    writer.close()
    contents = [rec["s"] for f in sorted(tmp_path.iterdir()) for rec in lines(f)]
    assert sorted(contents, key=len) == ["small", "after", "L" * 500]


def test_concurrent_writers_never_interleave(tmp_path: Path) -> None:
    """Threads share one writer, and two writers (two fds, as two processes) share the file."""
    path = tmp_path / "traces.jsonl"
    writers = [JsonlWriter(path, lambda rec: rec) for _ in range(2)]

    def work(tid: int) -> None:
        for n in range(150):
            size = 70_000 if n % 25 == 0 else 200 + n
            writers[tid % 2].write({"t": tid, "n": n, "pad": chr(65 + tid) * size})

    threads = [threading.Thread(target=work, args=(t,)) for t in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for w in writers:
        w.close()
    records = lines(path)
    assert len(records) == 6 * 150
    for rec in records:
        assert set(rec["pad"]) == {chr(65 + rec["t"])}
    assert sorted((r["t"], r["n"]) for r in records) == [(t, n) for t in range(6) for n in range(150)]


WRITER_SCRIPT = """
import sys
from otel_llm.exporters._jsonl import JsonlWriter
path, tag, max_bytes = sys.argv[1], sys.argv[2], int(sys.argv[3])
w = JsonlWriter(path, lambda rec: rec, max_bytes=max_bytes or None)
for n in range(300):
    w.write({"t": tag, "n": n, "pad": tag * (40_000 if n % 50 == 0 else 100 + n)})
w.close()
"""


@pytest.mark.parametrize("max_bytes", [0, 200_000], ids=["append", "append+rotate"])
def test_two_processes_appending_never_interleave_or_lose_lines(tmp_path: Path, max_bytes: int) -> None:
    path = tmp_path / "traces.jsonl"
    procs = [subprocess.Popen([sys.executable, "-c", WRITER_SCRIPT, str(path), tag, str(max_bytes)])
             for tag in ("A", "B")]
    assert [p.wait(timeout=60) for p in procs] == [0, 0]
    files = sorted(tmp_path.iterdir())
    records = [rec for f in files for rec in lines(f)]
    for rec in records:
        assert set(rec["pad"]) == {rec["t"]}
    assert sorted((r["t"], r["n"]) for r in records) == [(t, n) for t in "AB" for n in range(300)]
    if max_bytes:
        assert len(files) > 2 and all(BACKUP.match(f.name) for f in files if f != path)


def test_failures_are_reported_not_raised(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "is-a-dir"
    target.mkdir()
    exporter = FileSpanExporter(target)
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    for _ in range(3):
        with provider.get_tracer("t").start_as_current_span("s"):
            pass
    span = InMemorySpanExporter()  # a real finished span to export directly
    p2 = TracerProvider()
    p2.add_span_processor(SimpleSpanProcessor(span))
    with p2.get_tracer("t").start_as_current_span("s"):
        pass
    assert exporter.export(span.get_finished_spans()) is SpanExportResult.FAILURE
    notices = [line for line in capsys.readouterr().err.splitlines() if str(target) in line]
    assert len(notices) == 1 and "1 span lost" in notices[0] and "IsADirectoryError" in notices[0]  # once
    exporter.shutdown()
    exporter.shutdown()  # idempotent
    assert exporter.export(span.get_finished_spans()) is SpanExportResult.FAILURE
    bad = JsonlWriter(tmp_path / "x.jsonl", lambda _: 1 / 0)  # encoder bug: our fault, guarded
    with swallowing():
        assert bad.write(object()) is False
    with pytest.raises(ZeroDivisionError):  # our suite re-raises internal errors
        bad.write(object())


def test_empty_batch_writes_nothing(tmp_path: Path) -> None:
    exporter = FileSpanExporter(tmp_path / "traces.jsonl")
    assert exporter.export([]) is SpanExportResult.SUCCESS
    assert exporter.force_flush() is True
    assert not (tmp_path / "traces.jsonl").exists()


def test_metrics_file_has_collector_layout(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    reader = PeriodicExportingMetricReader(FileMetricExporter(path), export_interval_millis=3_600_000)
    provider = MeterProvider(resource=Resource.create({"service.name": "m"}), metric_readers=[reader])
    meter = provider.get_meter("otel_llm", "1")
    hist = meter.create_histogram("gen_ai.client.token.usage", unit="{token}",
                                  explicit_bucket_boundaries_advisory=[1, 4, 16])
    counter = meter.create_counter("otel_llm.cost", unit="USD")
    hist.record(10, {"gen_ai.token.type": "input"})
    hist.record(3, {"gen_ai.token.type": "input"})
    counter.add(0.5)
    provider.force_flush()
    provider.shutdown()
    metrics = {}
    for request in lines(path):
        for rm in request["resourceMetrics"]:
            assert attrs(rm["resource"]["attributes"])["service.name"] == "m"
            for sm in rm["scopeMetrics"]:
                for m in sm["metrics"]:
                    metrics[m["name"]] = m
    point = metrics["gen_ai.client.token.usage"]["histogram"]["dataPoints"][0]
    assert point["count"] == "2" and point["sum"] == 13
    assert point["bucketCounts"] == ["0", "1", "1", "0"] and point["explicitBounds"] == [1, 4, 16]
    assert attrs(point["attributes"]) == {"gen_ai.token.type": "input"}
    cost = metrics["otel_llm.cost"]["sum"]
    assert cost["dataPoints"][0]["asDouble"] == 0.5 and cost["isMonotonic"] is True


def test_global_tracer_untouched(tmp_path: Path) -> None:
    """The exporters are plain classes: using them sets no global provider."""
    before = trace.get_tracer_provider()
    FileSpanExporter(tmp_path / "t.jsonl").shutdown()
    assert trace.get_tracer_provider() is before


if __name__ == "__main__":  # regenerate the golden files from a running collector
    import shutil

    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    endpoint, written = sys.argv[1].rstrip("/"), Path(sys.argv[2])
    emit_golden(OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces"), OTLPLogExporter(endpoint=f"{endpoint}/v1/logs"))
    emit_golden_metrics(OTLPMetricExporter(endpoint=f"{endpoint}/v1/metrics"))
    GOLDEN.mkdir(exist_ok=True)
    input("flush the collector (stop it), then press Enter ")
    for signal in ("traces", "logs", "metrics"):
        shutil.copy(written / f"{signal}.jsonl", GOLDEN / f"collector_{signal}.jsonl")
