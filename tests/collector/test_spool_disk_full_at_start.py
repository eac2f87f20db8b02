"""Collector down and the spool's disk full (``RLIMIT_FSIZE``): each lost span counted once, no false recovery.

A real app process whose files cannot grow by a byte exports to an endpoint
where nothing listens. The span cannot be spooled and is reported lost -- once,
although the exit path tries to keep it twice (when the shutdown deadline
interrupts its send, and when the send fails). And since nothing was spooled and
the endpoint never answered, no line may claim that it "answers again".
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from .conftest import app_env

APP = textwrap.dedent("""
    import resource, sys
    import otel_llm
    from opentelemetry import trace
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))  # stdout and stderr are pipes: not limited
    otel_llm.configure(exporter="otlp", endpoint="http://127.0.0.1:9", spool_dir=sys.argv[1], logs=False)
    with trace.get_tracer("app").start_as_current_span("the only span"):
        pass
    otel_llm.shutdown()
    print("app ended", flush=True)
""")


def test_a_span_the_full_spool_cannot_keep_is_counted_once_and_no_recovery_is_claimed(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", APP, str(tmp_path / "spool")],
                          env={**app_env("http://127.0.0.1:9", 10), "OTEL_LLM_SHUTDOWN_TIMEOUT_S": "2"},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout == "app ended\n", done.stderr
    assert "1 span lost: writing failed" in done.stderr, done.stderr
    assert f"in total 1 span lost at {tmp_path / 'spool' / 'traces'}: writing failed" in done.stderr, done.stderr
    assert "answers again" not in done.stderr, done.stderr
