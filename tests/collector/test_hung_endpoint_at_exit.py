"""An endpoint that accepts the connection and never answers, at exit: the spans are spooled, not lost.

A stopped or hung collector, or a firewall that drops packets, holds the
exporter in a socket read up to its timeout (10 s), beyond the shutdown budget.
The batch being sent and the batches queued behind it were counted as lost
("the shutdown budget ran out"); they are now in the spool for the next process.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

from otel_llm.exporters._replay_http import line_items
from otel_llm.exporters._spool_segments import segment_files

from .conftest import app_env

APP = textwrap.dedent("""
    import sys
    import otel_llm
    from opentelemetry import trace
    endpoint, spool = sys.argv[1:3]
    otel_llm.configure(exporter="otlp", endpoint=endpoint, spool_dir=spool, service_name="hung", logs=False)
    tracer = trace.get_tracer("app")
    for i in range(50):
        with tracer.start_as_current_span(f"span {i}"):
            pass
    otel_llm.shutdown()
""")


def test_spans_in_flight_and_queued_at_the_deadline_are_spooled(tmp_path: Path) -> None:
    with socket.socket() as hung:  # listens, never accepts: connections complete, requests are never answered
        hung.bind(("127.0.0.1", 0))
        hung.listen(64)
        url = f"http://127.0.0.1:{hung.getsockname()[1]}"
        env = {**app_env(url, 10), "OTEL_LLM_SHUTDOWN_TIMEOUT_S": "2", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "10"}
        done = subprocess.run([sys.executable, "-c", APP, url, str(tmp_path / "spool")], env=env,
                              capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert " lost" not in done.stderr, done.stderr
    assert "50 spans spooled" in done.stderr, done.stderr
    spooled = sum(line_items(line) for path in segment_files(tmp_path / "spool" / "traces")
                  for line in path.read_bytes().splitlines())
    names = {span["name"] for path in segment_files(tmp_path / "spool" / "traces")
             for line in path.read_bytes().splitlines()
             for rs in json.loads(line)["resourceSpans"] for ss in rs["scopeSpans"] for span in ss["spans"]}
    assert spooled == 50 and names == {f"span {i}" for i in range(50)}
