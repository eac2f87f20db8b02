"""Spool replay sends as the OTLP exporters do: ``OTEL_EXPORTER_OTLP_{,SIGNAL_}COMPRESSION`` and ``..._TIMEOUT``.

A collector that requires gzip (or a proxy that bills bytes) got the spooled
backlog uncompressed; a user who set a short timeout so exit is never held up
saw replay wait 10 s on a hung endpoint. The timeout is read as the Python OTLP
exporters of the same process read it (seconds), so one setting means one thing.
"""

from __future__ import annotations

import gzip
import http.server
import json
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from otel_llm.exporters._spool_segments import SegmentStore, segment_files
from otel_llm.exporters.spool import spooled

from .test_spool import FlakyInner, record


class Endpoint:
    """OTLP/HTTP on loopback recording each request's headers and body; ``delay_s`` before answering."""

    def __init__(self, delay_s: float = 0.0) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 — http.server's naming
                body = self.rfile.read(int(self.headers["Content-Length"]))
                owner.requests.append((dict(self.headers), body))
                time.sleep(delay_s)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def spool_with_backlog(tmp_path: Path) -> Path:
    store = SegmentStore(tmp_path / "spool" / "traces", max_bytes=1 << 20, root=tmp_path / "spool")
    for i in range(3):
        store.append(record(i, size=2000))
    store.close()
    return tmp_path / "spool"


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    server = Endpoint()
    yield server
    server.server.shutdown()


@pytest.mark.parametrize(("variable", "value", "decode"), [
    ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip", gzip.decompress),
    ("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "gzip", gzip.decompress),
    ("OTEL_EXPORTER_OTLP_COMPRESSION", "deflate", zlib.decompress),
])
def test_replay_compresses_as_the_exporter_does(spool_with_backlog: Path, endpoint: Endpoint,
                                                monkeypatch: pytest.MonkeyPatch,
                                                variable: str, value: str, decode: object) -> None:
    monkeypatch.setenv("OTEL_LLM_SPOOL_REPLAY_ENDPOINT", endpoint.url)
    monkeypatch.setenv(variable, value)
    exporter = spooled(FlakyInner(), "traces", spool_with_backlog, 1 << 20)
    assert exporter.force_flush(10_000) is True
    exporter.shutdown()
    assert segment_files(spool_with_backlog) == []
    sent = [(headers, body) for headers, body in endpoint.requests]
    assert sent and all(headers.get("Content-Encoding") == value for headers, _ in sent), [h for h, _ in sent]
    data = [json.loads(decode(body)) for _, body in sent]  # type: ignore[operator]
    assert sum(len(d.get("resourceSpans", [])) for d in data) == 3


def test_the_signal_setting_wins_and_none_sends_plain(spool_with_backlog: Path, endpoint: Endpoint,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_LLM_SPOOL_REPLAY_ENDPOINT", endpoint.url)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "none")
    exporter = spooled(FlakyInner(), "traces", spool_with_backlog, 1 << 20)
    assert exporter.force_flush(10_000) is True
    exporter.shutdown()
    assert endpoint.requests and all("Content-Encoding" not in h for h, _ in endpoint.requests)
    assert all(json.loads(body) is not None for _, body in endpoint.requests)


@pytest.mark.parametrize("variable", ["OTEL_EXPORTER_OTLP_TIMEOUT", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT"])
def test_replay_gives_up_on_a_hung_endpoint_after_the_otlp_timeout(spool_with_backlog: Path,
                                                                   monkeypatch: pytest.MonkeyPatch,
                                                                   variable: str) -> None:
    hung = Endpoint(delay_s=8)
    monkeypatch.setenv("OTEL_LLM_SPOOL_REPLAY_ENDPOINT", hung.url)
    monkeypatch.setenv(variable, "0.5")  # seconds, as the Python OTLP exporters read it
    exporter = spooled(FlakyInner(), "traces", spool_with_backlog, 1 << 20)
    started = time.monotonic()
    assert exporter.force_flush(6_000) is False  # the attempt ends with the timeout, the flush with it
    took = time.monotonic() - started
    exporter._spool._stopping = True  # noqa: SLF001 — no closing replay against the hung endpoint
    hung.server.shutdown()
    assert took < 3, f"replay waited {took:.1f} s on a hung endpoint with a 0.5 s timeout"
    assert len(segment_files(spool_with_backlog)) == 1, "the backlog stays for the next attempt"
