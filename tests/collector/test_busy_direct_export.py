"""A collector that answers "busy" (HTTP 503, 429) to an app's own export is not "unreachable".

The replayer already told the two apart; the first failed export of an outage
said "collector unreachable at ..." when the collector had answered 503 (a full
queue): the operator looks for a network fault that is not there.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

APP = textwrap.dedent("""
    import http.server, sys, threading

    class Busy(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("content-length", 0)))
            self.send_response(int(sys.argv[1]))
            self.send_header("Retry-After", "0")
            self.end_headers()
        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Busy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    import otel_llm
    otel_llm.configure(exporter="otlp", endpoint=f"http://127.0.0.1:{server.server_port}", spool_dir=sys.argv[2],
                       service_name="busy", shutdown_timeout_s=2)

    @otel_llm.llm_call(model="gpt-4o", provider="openai")
    def call():
        return {"usage": {"prompt_tokens": 3, "completion_tokens": 2}}

    call()
    otel_llm.flush()
    otel_llm.shutdown()
""")


@pytest.mark.parametrize("status", [503, 429])
def test_an_export_answered_busy_says_busy_not_unreachable(tmp_path: Path, status: int) -> None:
    done = subprocess.run([sys.executable, "-c", APP, str(status), str(tmp_path / "spool")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "unreachable" not in done.stderr, done.stderr
    assert f"is busy (HTTP {status}" in done.stderr and "spans" in done.stderr, done.stderr
