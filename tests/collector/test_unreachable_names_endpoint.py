""""collector unreachable at ..." names the endpoint the app exports to, for gRPC too.

A gRPC app's spool is replayed over OTLP/HTTP to the same host on port 4318;
the notice named only that guessed URL, so a user who configured port 4317 (or
another) read of a port they never set and looked for the wrong problem.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from .conftest import app_env, free_port

APP = textwrap.dedent("""
    import sys
    import otel_llm
    from opentelemetry import trace
    endpoint, spool = sys.argv[1:3]
    otel_llm.configure(exporter="otlp", endpoint=endpoint, protocol="grpc", spool_dir=spool, service_name="down")
    with trace.get_tracer("app").start_as_current_span("work"):
        pass
    otel_llm.shutdown()
""")


def test_a_grpc_app_is_told_its_own_endpoint_is_unreachable(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    env = app_env("", 1)
    del env["OTEL_LLM_SPOOL_REPLAY_ENDPOINT"]  # replay guesses http://127.0.0.1:4318
    done = subprocess.run([sys.executable, "-c", APP, f"http://127.0.0.1:{port}", str(tmp_path / "spool")],
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    said = [line for line in done.stderr.splitlines() if "unreachable" in line and "traces" in line]
    assert said and all(f"127.0.0.1:{port}" in line for line in said), done.stderr
    assert all("http://127.0.0.1:4318/v1/traces" in line for line in said), done.stderr  # where replay goes
