"""Replay on a disk that takes no more writes: each spooled span is delivered once, not once per attempt.

Replay records how far a segment was delivered in a small ``.offset`` file.
When that note cannot be written (the disk full, a file-size limit, a
read-only remount), the error escaped the replay attempt after the POST had
succeeded; the replayer retried the attempt and sent the same lines again, and
again at every retry until the process ended: the collector got each span
many times. A segment that could not be deleted either (a read-only
directory) failed every replay attempt after it as an internal error, with
a traceback on the app's stderr. Now the progress is
kept in memory for the rest of the process (a later process may send the
lines again: at-least-once, as documented).

Real processes: one spools while nothing listens; the next one, whose files
may not grow past 2 bytes (``RLIMIT_FSIZE``, as on a full disk), replays to a
local HTTP endpoint that records every span it is sent.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from otel_llm.exporters._spool_segments import segment_files

from ._http_answers import Answering, serving

SPANS = 40


class _Recording(Answering):
    """Takes every export and records the span names each one carries."""

    names: list[str] = []

    def do_POST(self) -> None:  # noqa: N802 — http.server's name
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        if self.path == "/v1/traces" and body and "json" in (self.headers.get("content-type") or ""):
            request = json.loads(body)
            type(self).names += [s["name"] for rs in request.get("resourceSpans", [])
                                 for ss in rs.get("scopeSpans", []) for s in ss.get("spans", [])]
        elif self.path == "/v1/traces":  # a direct export: protobuf
            message = trace_service_pb2.ExportTraceServiceRequest.FromString(body)
            type(self).names += [s.name for rs in message.resource_spans for ss in rs.scope_spans for s in ss.spans]
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")


@pytest.fixture
def recording() -> Iterator[str]:
    _Recording.names = []
    with serving(_Recording) as url:
        yield url


SPOOL_APP = textwrap.dedent("""
    import sys, otel_llm
    from opentelemetry import trace
    endpoint, spool, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    otel_llm.configure(exporter="otlp", endpoint=endpoint, spool_dir=spool, service_name="spooling", logs=False,
                       shutdown_timeout_s=2)
    for i in range(count):
        with trace.get_tracer("app").start_as_current_span(f"span {i}"):
            pass
        if i % 10 == 9:
            otel_llm.flush(2)
    otel_llm.shutdown()
""")

REPLAY_APP = textwrap.dedent("""
    import errno, os, resource, signal, sys, time, otel_llm
    from opentelemetry import trace
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG) instead of killing
    resource.setrlimit(resource.RLIMIT_FSIZE, (2, 2))
    endpoint, spool, read_only = sys.argv[1], sys.argv[2], sys.argv[3] == "read-only"
    unlink = os.unlink

    def read_only_unlink(path, *args, **kwargs):  # a directory remounted read-only: nothing goes
        if read_only and str(path).startswith(spool):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return unlink(path, *args, **kwargs)

    os.unlink = read_only_unlink
    otel_llm.configure(exporter="otlp", endpoint=endpoint, spool_dir=spool, service_name="replaying", logs=False,
                       shutdown_timeout_s=3)
    time.sleep(6)  # the replayer's attempts, with their backoff
    with trace.get_tracer("app").start_as_current_span("after"):  # the backlog delivered: sent directly
        pass
    otel_llm.shutdown()
""")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("disk", ["full", "read-only"])
def test_replay_sends_each_span_once_when_its_progress_cannot_be_written(tmp_path: Path, recording: str,
                                                                          disk: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "PYTEST_"))}
    env["OTEL_EXPORTER_OTLP_TIMEOUT"] = "1"
    spool = tmp_path / "spool"
    spooled = subprocess.run([sys.executable, "-c", SPOOL_APP, f"http://127.0.0.1:{_closed_port()}", str(spool),
                              str(SPANS)], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert spooled.returncode == 0, spooled.stderr
    assert segment_files(spool / "traces"), spooled.stderr

    replayed = subprocess.run([sys.executable, "-c", REPLAY_APP, recording, str(spool), disk], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=60)
    assert replayed.returncode == 0, replayed.stderr
    assert "Traceback" not in replayed.stderr and "internal error" not in replayed.stderr, replayed.stderr
    sent = Counter(_Recording.names)
    assert set(sent) == {f"span {i}" for i in range(SPANS)} | {"after"}, (sorted(sent), replayed.stderr)
    assert {name: n for name, n in sent.items() if n > 1} == {}, replayed.stderr
