"""A replay progress note that cannot be read (emptied by a crash before it reached the disk).

Replay notes in ``<segment>.offset`` how far a segment was delivered. A note a
crash left empty (or garbage) read as "nothing delivered": the segment was
replayed from its start and the lines delivered before went to the collector a
second time, without a word. It is still replayed from its start (the lines
after the note must not be lost), and the notice says which note and that
those lines arrive twice.
"""

from __future__ import annotations

import http.server
import threading
import time
from pathlib import Path

import pytest

from otel_llm.exporters._spool_segments import OFFSET, SegmentStore, segment_files
from otel_llm.exporters.spool import spooled

from .test_spool import FlakyInner, _number, record


class _Takes(http.server.BaseHTTPRequestHandler):
    """Takes every request, noting the first span number of each one that carries spans."""

    taken: list[int] = []

    def do_POST(self) -> None:  # noqa: N802 — http.server's naming
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if body != b"{}":
            type(self).taken.append(_number(body))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_an_unreadable_progress_note_is_said_before_its_lines_are_sent_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    spool = tmp_path / "spool"
    store = SegmentStore(spool / "traces", max_bytes=1 << 20, root=spool)
    store.append(record(0, size=100))
    store.append(record(1, size=100))
    store.close()
    (segment,) = segment_files(spool / "traces")
    note = segment.with_name(segment.name + OFFSET)
    note.write_text("")  # the first line was delivered; the crash lost what the note said
    _Takes.taken = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Takes)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("OTEL_LLM_SPOOL_REPLAY_ENDPOINT", f"http://127.0.0.1:{server.server_address[1]}")
    try:
        exporter = spooled(FlakyInner(), "traces", spool, 1 << 20)
        deadline = time.monotonic() + 10
        while segment_files(spool) and time.monotonic() < deadline:
            time.sleep(0.05)
        exporter.shutdown()
    finally:
        server.shutdown()
    assert _Takes.taken == [0], "both lines, in one merged request: nothing after the note is lost"
    said = [line for line in capsys.readouterr().err.splitlines() if str(note) in line]
    assert said and "twice" in said[0], said
