"""``otel_llm.flush()`` answers True only when the collector took the data.

A serverless function or a batch job calls ``flush()`` before it ends and
trusts the answer. With the collector down the spans sit in the spool on the
local disk -- which a container's end deletes -- so True would be a lie: the
span and log processors answered for their queues only, never asking the
spooling exporter, which replays once and says whether its backlog is gone.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from .conftest import Collector, app_env

APP = textwrap.dedent("""
    import logging, sys
    import otel_llm
    from opentelemetry import trace
    endpoint, spool = sys.argv[1:3]
    otel_llm.configure(exporter="otlp", endpoint=endpoint, spool_dir=spool, logs=True, service_name="flush")
    with trace.get_tracer("app").start_as_current_span("the function's work"):
        logging.getLogger("app").warning("done")
    print(f"flushed={otel_llm.flush(5)}", flush=True)
    otel_llm.shutdown()
""")


def run(endpoint: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", APP, endpoint, str(tmp_path / "spool")],
                          env=app_env(endpoint, 1), capture_output=True, text=True, timeout=60)


def test_flush_is_false_while_the_spans_wait_in_the_spool(tmp_path: Path) -> None:
    done = run("http://127.0.0.1:9", tmp_path)  # nothing listens
    assert done.returncode == 0, done.stderr
    assert "flushed=False" in done.stdout, (done.stdout, done.stderr)


def test_flush_is_true_when_the_collector_took_everything(collector: Collector, tmp_path: Path) -> None:
    done = run(collector.endpoint("http/protobuf"), tmp_path)
    assert done.returncode == 0, done.stderr
    assert "flushed=True" in done.stdout, (done.stdout, done.stderr)
    assert "otel-llm" not in done.stderr, done.stderr
