"""The spool on real files: size bound, torn lines, resume, replay URL, the down/replay/direct cycle."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from typing import Any
from pathlib import Path

import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpanExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpSpanExporter

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_llm import _notices
from otel_llm.exporters._spool_segments import SegmentStore, segment_files
from otel_llm.exporters.spool import replay_url, spooled

from . import _otlp
from .conftest import Collector, free_port


def record(i: int, size: int = 1000, spans: int = 1) -> bytes:
    """An OTLP-JSON traces request holding ``spans`` spans; ``n`` numbers it."""
    span = b'{"n":%d,"pad":"%s"}' % (i, b"x" * (size // spans))
    return b'{"resourceSpans":[{"scopeSpans":[{"spans":[%s]}]}]}' % b",".join([span] * spans)


def replayable_numbers(store: SegmentStore) -> list[int]:
    return [_number(line) for segment in store.pending() for line, _ in segment.lines()]


def _number(line: bytes) -> int:
    return json.loads(line)["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["n"]


def test_full_spool_drops_the_oldest_batches_and_counts_their_spans(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _notices._reset_for_tests()
    store = SegmentStore(tmp_path / "traces", max_bytes=256 * 1024)
    for i in range(600):  # ~600 kB into a 256 kB spool, 3 spans per batch
        assert store.append(record(i, spans=3))
    store.close()

    on_disk = sum(p.stat().st_size for p in segment_files(tmp_path))
    assert on_disk <= 256 * 1024
    kept = replayable_numbers(store)
    assert kept == list(range(kept[0], 600)), "the newest batches survive, in order"
    assert store.dropped_records == kept[0] > 0
    err = capsys.readouterr().err
    assert "spans lost: the spool was full" in err and err.count("the spool was full") == 1  # once per incident
    assert _notices.totals() == {("traces", "spool_full"): 3 * store.dropped_records}  # spans, not batches


def test_the_bound_covers_every_signal_and_stays_within_one_record(tmp_path: Path) -> None:
    """Traces, metrics and logs share one bound (the spool directory), the segments being written included."""
    bound = 300 * 1024
    stores = [SegmentStore(tmp_path / signal, max_bytes=bound, root=tmp_path) for signal in ("traces", "metrics", "logs")]
    largest = 0
    for i in range(400):
        line = record(i, size=500 + (i % 7) * 300)
        largest = max(largest, len(line) + 1)
        assert stores[i % 3].append(line)
        on_disk = sum(p.stat().st_size for p in segment_files(tmp_path))
        assert on_disk <= bound, f"{on_disk} bytes on disk after record {i}"
    for store in stores:
        store.close()


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
    gateway = HttpSpanExporter(endpoint="https://gateway.example/otlp/traces")  # a signal URL of any path
    assert replay_url(gateway, "traces") == "https://gateway.example/otlp/traces"
    gateway.shutdown()
    tls = GrpcSpanExporter(endpoint="https://collector.local:4317")  # a TLS collector: replay keeps TLS
    assert replay_url(tls, "traces") == "https://collector.local:4318/v1/traces"
    monkeypatch.setenv("OTEL_LLM_SPOOL_REPLAY_ENDPOINT", "http://127.0.0.1:9999/")
    assert replay_url(grpc, "logs") == "http://127.0.0.1:9999/v1/logs"
    tls.shutdown()
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


class FakeCollector:
    """An OTLP/HTTP endpoint on loopback: 400 for bodies with ``poison``, drops the connection for ``reset``."""

    def __init__(self) -> None:
        import http.server
        import threading

        self.received: list[bytes] = []
        self.requests = 0  # every POST, answered or not
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 — http.server's naming
                body = self.rfile.read(int(self.headers["Content-Length"]))
                owner.requests += 1
                if b"reset" in body:
                    self.close_connection = True
                    return  # no response at all: the client sees the connection drop
                status = 400 if b"poison" in body else 200
                if status == 200 and body != b"{}":
                    owner.received.append(body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def numbers(self) -> list[int]:
        return [_number(body) for body in self.received]

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def fake_collector() -> Iterator[FakeCollector]:
    server = FakeCollector()
    yield server
    server.close()


def test_a_refused_batch_goes_to_the_dead_letter_file_and_the_queue_flows_on(
    tmp_path: Path, fake_collector: FakeCollector, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OTEL_LLM_SPOOL_REPLAY_ENDPOINT", fake_collector.url)
    store = SegmentStore(tmp_path / "spool" / "traces", max_bytes=1 << 20, root=tmp_path / "spool")
    for i, marker in enumerate([b"", b"poison", b"", b"poison", b""]):
        store.append(record(i, size=100).replace(b'"pad":"', b'"pad":"' + marker))
    store.close()  # left behind by an earlier process
    inner = FlakyInner()
    exporter = spooled(inner, "traces", tmp_path / "spool", 1 << 20)
    assert exporter.force_flush(10_000) is True, "the backlog is replayed past the refused batches"
    exporter.shutdown()
    assert fake_collector.numbers() == [0, 2, 4]
    dead = tmp_path / "spool" / "traces.dead-letter"
    assert [_number(line) for line in dead.read_bytes().splitlines()] == [1, 3]
    notices = [line for line in capsys.readouterr().err.splitlines() if "refused for good" in line]
    assert len(notices) == 1 and str(dead) in notices[0] and "1 span " in notices[0] and "HTTP 400" in notices[0]
    assert segment_files(tmp_path / "spool") == []


def test_a_batch_failing_again_and_again_while_the_endpoint_answers_is_set_aside(
    tmp_path: Path, fake_collector: FakeCollector, monkeypatch: pytest.MonkeyPatch
) -> None:
    from otel_llm.exporters.spool import MAX_LINE_FAILURES

    monkeypatch.setenv("OTEL_LLM_SPOOL_REPLAY_ENDPOINT", fake_collector.url)
    monkeypatch.setattr("otel_llm.exporters.spool._PROBE_MAX_S", 0.05)  # keep the retries quick
    monkeypatch.setattr("otel_llm.exporters.spool._PROBE_MIN_S", 0.01)
    store = SegmentStore(tmp_path / "spool" / "traces", max_bytes=1 << 20, root=tmp_path / "spool")
    for i, marker in enumerate([b"", b"reset", b""]):
        store.append(record(i, size=100).replace(b'"pad":"', b'"pad":"' + marker))
    store.close()
    exporter = spooled(FlakyInner(), "traces", tmp_path / "spool", 1 << 20)
    deadline = time.monotonic() + 20
    while segment_files(tmp_path / "spool") and time.monotonic() < deadline:
        exporter.force_flush(1_000)
    exporter.shutdown()
    assert fake_collector.numbers() == [0, 2]
    dead = (tmp_path / "spool" / "traces.dead-letter").read_bytes().splitlines()
    assert [_number(line) for line in dead] == [1]
    assert MAX_LINE_FAILURES >= 3


def test_a_direct_export_refused_for_good_is_set_aside_without_stalling(
    tmp_path: Path, fake_collector: FakeCollector, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The OTLP/HTTP span exporter reports a permanent refusal; the spool keeps exporting directly."""
    from otel_llm.exporters.otlp import HttpSpanExporter

    monkeypatch.setenv("OTEL_LLM_SPOOL_REPLAY_ENDPOINT", fake_collector.url)
    inner = HttpSpanExporter(endpoint=f"{fake_collector.url}/v1/traces")

    class Poisoned(HttpSpanExporter):  # our HTTP exporter, refused (400) for one batch
        def send(self, request: bytes, items: int) -> Any:
            return super().send(request + (b"poison" if b"s5" in request else b""), items)

    inner = Poisoned(endpoint=f"{fake_collector.url}/v1/traces")
    exporter = spooled(inner, "traces", tmp_path / "spool", 1 << 20)
    sent = batches(3)
    results = [exporter.export(b) for b in sent]
    exporter.shutdown()
    assert results == [SpanExportResult.SUCCESS] * 3  # kept aside counts as handled
    assert segment_files(tmp_path / "spool") == [], "nothing was spooled: the endpoint was up"
    dead = (tmp_path / "spool" / "traces.dead-letter").read_bytes().splitlines()
    assert _otlp.span_ids(json.loads(line) for line in dead) == ids(sent[1])
    notices = [line for line in capsys.readouterr().err.splitlines() if "refused for good" in line]
    assert len(notices) == 1 and "HTTP 400 Bad Request" in notices[0], notices  # why, as on replay


def test_the_dead_letter_file_is_read_by_otel_llm_ingest_when_named(tmp_path: Path) -> None:
    from otel_llm_analysis import TraceStore

    dead = tmp_path / "spool" / "traces.dead-letter"
    dead.parent.mkdir()
    dead.write_bytes((Path(__file__).parents[1] / "sdk" / "golden" / "collector_traces.jsonl").read_bytes())
    store = TraceStore(str(tmp_path / "x.duckdb"))
    store.ingest([tmp_path])  # a directory: not picked up (not .jsonl), as undelivered data should not be
    assert store.query("SELECT count(*) FROM spans") == [(0,)]
    store.ingest([dead])  # named: read
    assert store.query("SELECT count(*) FROM spans") == [(3,)]
    store.close()


def test_small_spooled_lines_are_replayed_together_in_order(
    tmp_path: Path, fake_collector: FakeCollector, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker spools one span per line; replay merges consecutive lines up to the request bound."""
    monkeypatch.setenv("OTEL_LLM_SPOOL_REPLAY_ENDPOINT", fake_collector.url)
    store = SegmentStore(tmp_path / "spool" / "traces", max_bytes=1 << 20, root=tmp_path / "spool")
    for i in range(200):
        store.append(record(i, size=100))
    store.close()
    exporter = spooled(FlakyInner(), "traces", tmp_path / "spool", 1 << 20, max_request_bytes=8 * 1024)
    assert exporter.force_flush(10_000) is True
    exporter.shutdown()
    numbers = [span["n"] for body in fake_collector.received for span in _otlp.spans([json.loads(body)])]
    assert numbers == list(range(200))
    assert 200 // 70 <= len(fake_collector.received) <= 200 // 40  # ~130-byte lines, 8 KiB requests
    assert max(len(body) for body in fake_collector.received) <= 8 * 1024


def test_segments_keep_write_order_when_the_wall_clock_steps_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An NTP step or a resumed VM moves time.time_ns() backwards mid-outage: segments are named by it, and
    replay (and eviction of the oldest) follow the names -- they must still follow the order of writing."""
    import otel_llm.exporters._spool_segments as segments

    clock = iter([5_000_000_000_000_000_000, 4_000_000_000_000_000_000, 4_000_000_000_000_000_001,
                  3_000_000_000_000_000_000])
    monkeypatch.setattr(segments.time, "time_ns", lambda: next(clock))
    store = SegmentStore(tmp_path / "traces", max_bytes=1 << 20)
    for i in range(4):
        store.append(record(i, size=10))
        store.seal()  # one segment per record, each named at a different wall-clock time
    assert replayable_numbers(store) == [0, 1, 2, 3]


def test_a_flush_that_says_delivered_means_the_next_batch_goes_direct(
    collector: Collector, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """flush() -> True right after the replayer deleted the last segment, before it marked the exporter
    healthy: the next batch was spooled again (and replayed), not exported. The gap is widened here."""
    monkeypatch.setenv("OTEL_LLM_SPOOL_REPLAY_ENDPOINT", collector.http_endpoint)
    from otel_llm.exporters import spool as spool_module

    removed = []
    original = spool_module._Spool._replay

    def slow_replay(self: Any, segment: Any) -> bool:
        done = original(self, segment)
        removed.append(segment)
        time.sleep(0.5)  # the replayer is between deleting the segment and saying "recovered"
        return done

    monkeypatch.setattr(spool_module._Spool, "_replay", slow_replay)
    inner = FlakyInner()
    exporter = spooled(inner, "traces", tmp_path / "spool", 1 << 20)
    first, second = batches(2)
    exporter.export(first)  # fails -> spooled; the replayer delivers it
    inner.down = False
    deadline = time.monotonic() + 10
    while not removed and time.monotonic() < deadline:
        time.sleep(0.01)
    assert exporter.force_flush(10_000) is True
    exporter.export(second)
    exporter.shutdown()
    assert inner.calls == 2, "after a flush that said everything was delivered, exports go direct"


def test_a_batch_spooled_while_the_replayer_recovers_says_nothing_false(
    tmp_path: Path, fake_collector: FakeCollector, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A batch that found the exporter unhealthy is encoded for the spool; if the replayer recovers meanwhile,
    that batch used to reopen the outage: a second, false "collector unreachable" and a detour via the spool."""
    import threading

    from otel_llm.exporters import spool as spool_module

    monkeypatch.setenv("OTEL_LLM_SPOOL_REPLAY_ENDPOINT", fake_collector.url)
    inner = FlakyInner()
    exporter = spooled(inner, "traces", tmp_path / "spool", 1 << 20)
    first, second = batches(2)
    exporter.export(first)  # fails: spooled, the outage is said once
    core = exporter._spool
    original = core._records
    encoding = threading.Event()

    def slow_records(batch: Any) -> Any:
        encoding.set()
        time.sleep(0.5)  # the replayer delivers the backlog and recovers meanwhile
        return original(batch)

    monkeypatch.setattr(core, "_records", slow_records)
    monkeypatch.setattr(spool_module, "_PROBE_MIN_S", 0.01)
    inner.down = False
    exporter.export(second)
    assert encoding.is_set()
    assert exporter.force_flush(10_000) is True
    exporter.shutdown()
    err = capsys.readouterr().err
    assert err.count("collector unreachable") == 1, err
    assert _otlp.span_ids(json.loads(body) for body in fake_collector.received) == ids(first) | ids(second)
