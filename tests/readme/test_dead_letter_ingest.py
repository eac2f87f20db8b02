"""README, The collector pipeline: a batch the collector refuses for good "is moved to
``spool/<signal>.dead-letter`` (OTLP-JSON lines; ``otel-llm ingest`` reads the file when named)".

A stand-in collector answers every OTLP request HTTP 400 (a refusal for good); a real app exports to it,
and the dead-letter file it leaves is ingested by the installed ``otel-llm`` as the README says.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pytest

from tests.readme.test_examples import BIN, _env


class _Refuse(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(400, "Bad Request")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def refusing_collector() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Refuse)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


APP = """
    import otel_llm

    otel_llm.configure(service_name="refused-app", exporter="otlp", logs=False)

    @otel_llm.graph_node("step")
    def step(n: int) -> int:
        return n

    for n in range(7):
        step(n)
    otel_llm.shutdown()
"""


def test_ingest_reads_a_dead_letter_file_when_named(tmp_path: Path, refusing_collector: str) -> None:
    (tmp_path / "app.py").write_text(textwrap.dedent(APP), "utf-8")
    app = subprocess.run([sys.executable, "app.py"], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                         env={**_env(tmp_path), "OTEL_EXPORTER_OTLP_ENDPOINT": refusing_collector,
                              "OTEL_LLM_SHUTDOWN_TIMEOUT_S": "3"})
    assert app.returncode == 0, app.stderr
    dead = tmp_path / "otel-data" / "spool" / "traces.dead-letter"
    assert dead.is_file(), (app.stderr, sorted(p.name for p in (tmp_path / "otel-data").rglob("*")))
    assert "dead-letter" in app.stderr, app.stderr  # the stderr notice
    proc = subprocess.run([str(BIN / "otel-llm"), "ingest", str(dead), "--db", "dead.duckdb"], cwd=tmp_path,
                          env=_env(tmp_path), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = subprocess.run([str(BIN / "otel-llm"), "sql", "SELECT name, service_name FROM spans", "--db",
                           "dead.duckdb", "--format", "json"], cwd=tmp_path, env=_env(tmp_path),
                          capture_output=True, text=True, timeout=300)
    assert rows.returncode == 0, rows.stderr
    spans = json.loads(rows.stdout)["rows"]
    assert sorted((r["name"], r["service_name"]) for r in spans) == [("step", "refused-app")] * 7, spans
