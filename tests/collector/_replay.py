"""Replay a spooled line left behind by an earlier process to a local HTTP server, for tests of answers."""

from __future__ import annotations

import http.server
import threading
import time
from pathlib import Path

import pytest

from otel_llm.exporters._spool_segments import SegmentStore, segment_files
from otel_llm.exporters.spool import spooled

from .test_spool import FlakyInner


def replay_left_behind(spool: Path, line: bytes | list[bytes], handler: type[http.server.BaseHTTPRequestHandler],
                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Leave ``line`` (or these lines, in order) in the traces spool, then :func:`replay_spool` it."""
    leave_behind(spool, [line] if isinstance(line, bytes) else line)
    replay_spool(spool, handler, monkeypatch)


def leave_behind(spool: Path, lines: list[bytes]) -> None:
    """Write ``lines`` to a sealed traces segment, as an earlier process would have left them."""
    store = SegmentStore(spool / "traces", max_bytes=1 << 20, root=spool)
    for line in lines:
        store.append(line)
    store.close()


def replay_spool(spool: Path, handler: type[http.server.BaseHTTPRequestHandler],
                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Let a new exporter replay the traces spool to a server answering with ``handler``; returns once the
    spool is empty (10 s at most) and the exporter is shut down."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("OTEL_LLM_SPOOL_REPLAY_ENDPOINT", f"http://127.0.0.1:{server.server_address[1]}")
    try:
        exporter = spooled(FlakyInner(), "traces", spool, 1 << 20)  # replays the backlog at once
        deadline = time.monotonic() + 10
        while segment_files(spool) and time.monotonic() < deadline:
            time.sleep(0.05)
        exporter.shutdown()
    finally:
        server.shutdown()
