"""The app's DEBUG logging shows the app's own lines, not the HTTP client's lines of otel-llm's exports.

OTLP/HTTP exports go through ``requests``/``urllib3``, whose loggers write a line
per connection and request at DEBUG: an app with ``logging.basicConfig(level=DEBUG)``
got two lines per export in its own log (every batch, every metric interval),
which it never wrote. The app's own requests still log as they did.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

APP = textwrap.dedent("""
    import http.server, logging, sys, threading, urllib3
    logging.basicConfig(level=logging.DEBUG, stream=sys.stdout, format="%(name)s %(message)s")

    class Answer(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("content-length", 0)))
            self.send_response(int(sys.argv[1]))
            self.end_headers()
        do_GET = do_POST
        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    import otel_llm
    otel_llm.configure(exporter="otlp", endpoint=f"http://127.0.0.1:{server.server_port}", spool_dir=sys.argv[2],
                       service_name="debug-logging")

    @otel_llm.llm_call(model="gpt-4o", provider="openai")
    def call():
        return {"usage": {"prompt_tokens": 3, "completion_tokens": 2}}

    call()
    urllib3.PoolManager().request("GET", f"http://127.0.0.1:{server.server_port}/the-apps-own")
    otel_llm.flush()
    otel_llm.shutdown()
""")


def test_exports_add_no_http_client_lines_to_the_apps_debug_log(tmp_path: Path) -> None:
    for status in (200, 503):
        done = subprocess.run([sys.executable, "-c", APP, str(status), str(tmp_path / f"spool-{status}")],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        urllib3_lines = [line for line in done.stdout.splitlines() if line.startswith("urllib3")]
        assert any("/the-apps-own" in line for line in urllib3_lines), done.stdout  # the app's own: kept
        assert not [line for line in urllib3_lines if "/v1/" in line], done.stdout
        assert len(urllib3_lines) <= 2, done.stdout  # the app's one connection and its one request
