"""The spool on real files: size bound, torn lines, resume, replay URL, the down/replay/direct cycle."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpanExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpSpanExporter

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_llm.exporters._spool_segments import SegmentStore, segment_files
from otel_llm.exporters.spool import replay_url, spooled

from . import _otlp
from .conftest import Collector, free_port


def record(i: int, size: int = 1000) -> bytes:
    return b'{"n":%d,"pad":"%s"}' % (i, b"x" * size)


def replayable_numbers(store: SegmentStore) -> list[int]:
    import json

    return [json.loads(line)["n"] for segment in store.pending() for line, _ in segment.lines()]


def test_full_spool_drops_the_oldest_batches_with_a_counted_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    store = SegmentStore(tmp_path / "traces", max_bytes=256 * 1024)
    with caplog.at_level(logging.WARNING, logger="otel_llm.spool"):
        for i in range(600):  # ~600 kB into a 256 kB spool
            assert store.append(record(i))
    store.close()

    on_disk = sum(p.stat().st_size for p in segment_files(tmp_path))
    assert on_disk <= 256 * 1024
    kept = replayable_numbers(store)
    assert kept == list(range(kept[0], 600)), "the newest batches survive, in order"
    assert store.dropped_records == kept[0] > 0
    assert any("dropped" in r.message and str(store.dropped_records) in r.message for r in caplog.records)


def test_a_record_larger_than_the_spool_is_refused(tmp_path: Path) -> None:
    store = SegmentStore(tmp_path / "traces", max_bytes=64 * 1024)
    assert not store.append(record(1, size=70 * 1024))
    assert store.dropped_records == 1


def test_torn_tail_of_a_dead_writer_is_skipped(tmp_path: Path) -> None:
    directory = tmp_path / "traces"
    directory.mkdir()
    orphan = directory / f"{1:020d}-999999.active"  # nobody holds its lock: its writer died
    orphan.write_bytes(record(1) + b"\n" + record(2) + b"\n" + record(3)[:20])
    assert replayable_numbers(SegmentStore(directory, max_bytes=1 << 20)) == [1, 2]


def test_replay_resumes_after_the_last_delivered_line(tmp_path: Path) -> None:
    store = SegmentStore(tmp_path / "traces", max_bytes=1 << 20)
    for i in range(5):
        store.append(record(i, size=10))
    store.close()
    (segment,) = store.pending()
    lines = list(segment.lines())
    segment.mark_delivered(lines[1][1])  # two lines delivered, then the process died
    assert replayable_numbers(SegmentStore(tmp_path / "traces", max_bytes=1 << 20)) == [2, 3, 4]


def test_a_live_writers_segment_is_not_replayed_by_another_store(tmp_path: Path) -> None:
    writer = SegmentStore(tmp_path / "traces", max_bytes=1 << 20)
    writer.append(record(1, size=10))
    other = SegmentStore(tmp_path / "traces", max_bytes=1 << 20)  # e.g. a second process
    assert other.pending() == []
    writer.close()
    assert replayable_numbers(other) == [1]


def test_replay_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_LLM_SPOOL_REPLAY_ENDPOINT", raising=False)
    http = HttpSpanExporter(endpoint="http://127.0.0.1:5555/v1/traces")
    grpc = GrpcSpanExporter(endpoint="http://collector.local:4317", insecure=True)
    assert replay_url(http, "traces") == "http://127.0.0.1:5555/v1/traces"
    assert replay_url(grpc, "traces") == "http://collector.local:4318/v1/traces"
    monkeypatch.setenv("OTEL_LLM_SPOOL_REPLAY_ENDPOINT", "http://127.0.0.1:9999/")
    assert replay_url(grpc, "logs") == "http://127.0.0.1:9999/v1/logs"
    grpc.shutdown()
    http.shutdown()


class FlakyInner(SpanExporter):
    """An inner exporter that fails while ``down`` and counts its calls."""

    def __init__(self) -> None:
        self.down = True
        self.calls = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.calls += 1
        return SpanExportResult.FAILURE if self.down else SpanExportResult.SUCCESS


def batches(count: int, size: int = 5) -> list[list[ReadableSpan]]:
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    for i in range(count * size):
        provider.get_tracer("t").start_span(f"s{i}").end()
    spans = list(memory.get_finished_spans())
    return [spans[i : i + size] for i in range(0, len(spans), size)]


def ids(spans: Sequence[ReadableSpan]) -> set[tuple[str, str]]:
    return {(format(s.context.trace_id, "032x"), format(s.context.span_id, "016x")) for s in spans}


def test_while_down_batches_skip_the_inner_exporter_and_flush_does_not_wait(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_LLM_SPOOL_REPLAY_ENDPOINT", f"http://127.0.0.1:{free_port()}")  # nothing listens
    inner = FlakyInner()
    exporter = spooled(inner, "traces", tmp_path, 1 << 20)
    sent = batches(4)
    assert all(exporter.export(b) == SpanExportResult.SUCCESS for b in sent), "spooled counts as delivered"
    assert inner.calls == 1, "after one failure, batches go straight to the spool"

    started = time.monotonic()
    assert exporter.force_flush(30_000) is False
    assert time.monotonic() - started < 5, "a down endpoint gets one attempt, not the whole timeout"
    exporter.shutdown()

    spooled_ids = _otlp.span_ids(m for seg in segment_files(tmp_path) for m in _otlp.lines(seg))
    assert spooled_ids == set().union(*(ids(b) for b in sent))
    assert all(p.suffix == ".pending" for p in segment_files(tmp_path)), "sealed at shutdown"


def test_replay_delivers_in_order_then_exports_go_direct_again(
    collector: Collector, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_LLM_SPOOL_REPLAY_ENDPOINT", collector.http_endpoint)
    inner = FlakyInner()
    exporter = spooled(inner, "traces", tmp_path / "spool", 1 << 20)
    first, second, third = batches(3)
    exporter.export(first)  # fails -> spooled; the replayer finds the collector up
    inner.down = False
    assert exporter.force_flush(10_000) is True, "the backlog is replayed"
    exporter.export(second)
    exporter.export(third)
    assert inner.calls == 3, "healthy again: the inner exporter is used directly"
    exporter.shutdown()
    collector.stop()
    assert _otlp.span_ids(_otlp.messages(collector.data_dir, "traces")) == ids(first)
    assert segment_files(tmp_path / "spool") == []
