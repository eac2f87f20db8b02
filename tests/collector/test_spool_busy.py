"""Replay into a collector that answers "busy, come back later" (HTTP 503/429): the spool waits, never gives up.

The real collector with the ClickHouse overlay and ClickHouse down (a closed
port): once its persistent queue is full it refuses every request with a
retryable 503 -- yet it answers an empty request with 200, so it looks up.
Such a refusal says nothing about the data: spooled lines must wait for the
queue to drain, not be set aside in the dead-letter file as if they were poison.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from otel_llm.exporters._spool_segments import SegmentStore, segment_files
from otel_llm.exporters.spool import MAX_LINE_FAILURES, dead_letter_path, spooled
from tests.support.ports import closed_port

from .conftest import Collector
from .test_clickhouse_overlay import PASSWORD, post
from .test_spool import FlakyInner, record


def test_a_collector_refusing_with_503_keeps_the_spool_waiting_not_dead_lettered(
    collector_factory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    queue_items = 5000  # the overlay's smallest valid queue
    collector: Collector = collector_factory(
        clickhouse=f"tcp://writer:{PASSWORD}@127.0.0.1:{closed_port()}/llm",
        env={"OTEL_LLM_CLICKHOUSE_CREATE_SCHEMA": "false", "OTEL_LLM_CLICKHOUSE_QUEUE_ITEMS": str(queue_items)},
    ).start()
    for i in range(queue_items // 1000):
        assert post(collector, 1000, start=i * 1000)[0] == 200
    assert post(collector, 1, start=queue_items)[0] == 503, "the queue is full: every request is refused"

    spool = tmp_path / "spool"
    store = SegmentStore(spool / "traces", max_bytes=1 << 20, root=spool)
    for i in range(3):
        store.append(record(i, size=100))
    store.close()  # left behind by an earlier process
    monkeypatch.setenv("OTEL_LLM_SPOOL_REPLAY_ENDPOINT", collector.http_endpoint)
    monkeypatch.setattr("otel_llm.exporters.spool._PROBE_MIN_S", 0.01)  # many attempts in a few seconds
    monkeypatch.setattr("otel_llm.exporters.spool._PROBE_MAX_S", 0.05)
    exporter = spooled(FlakyInner(), "traces", spool, 1 << 20)
    deadline = time.monotonic() + 4 * MAX_LINE_FAILURES * 0.05 + 3
    while time.monotonic() < deadline:
        assert exporter.force_flush(1_000) is False, "nothing can be delivered while the queue is full"
    exporter.shutdown()

    assert not dead_letter_path(spool, "traces").exists(), "a busy collector is no reason to set data aside"
    waiting = [line for segment in SegmentStore(spool / "traces", max_bytes=1 << 20, root=spool).pending()
               for line, _ in segment.lines()]
    assert len(waiting) == 3, "every spooled line still waits for the collector"
    assert segment_files(spool)


def test_the_replayer_waits_as_long_as_retry_after_asks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A 429 with ``Retry-After: 2``: the next attempt comes two seconds later, not at the probe backoff."""
    import http.server

    from ._replay import replay_left_behind

    attempts: list[float] = []

    class Throttling(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 — http.server's naming
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if body != b"{}":
                attempts.append(time.monotonic())
            throttled = body != b"{}" and len(attempts) == 1
            self.send_response(429 if throttled else 200)
            if throttled:
                self.send_header("Retry-After", "2")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    spool = tmp_path / "spool"
    monkeypatch.setattr("otel_llm.exporters.spool._PROBE_MIN_S", 0.01)
    monkeypatch.setattr("otel_llm.exporters.spool._PROBE_MAX_S", 0.05)
    replay_left_behind(spool, record(0, size=100), Throttling, monkeypatch)
    assert len(attempts) == 2 and segment_files(spool) == [], "refused once, then delivered"
    assert attempts[1] - attempts[0] >= 1.9, f"retried after {attempts[1] - attempts[0]:.2f} s"
    assert not dead_letter_path(spool, "traces").exists()
    err = capsys.readouterr().err
    assert "is busy (HTTP 429" in err and err.count("is busy") == 1, err
