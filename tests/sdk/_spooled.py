"""A spool left by a process that ran while nothing listened, for the replay tests."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

from tests.support.ports import closed_port

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


def app_env() -> dict[str, str]:
    """This environment without OTel settings (the apps set their own), exports given up after 1 s."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "PYTEST_"))}
    env["OTEL_EXPORTER_OTLP_TIMEOUT"] = "1"
    return env


def spool_while_down(spool: Path, spans: int) -> str:
    """Run an app that ends ``spans`` spans (``span 0``...) while its collector is down; its stderr."""
    return run_app(SPOOL_APP, f"http://127.0.0.1:{closed_port()}", str(spool), str(spans)).stderr


def run_app(app: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``app`` (Python source) with ``args`` in :func:`app_env` plus ``env``; it must exit 0."""
    done = subprocess.run([sys.executable, "-c", app, *args], env={**app_env(), **env}, capture_output=True,
                          text=True, timeout=90)
    assert done.returncode == 0, done.stderr
    return done


def otel_llm_lines(stderr: str) -> str:
    """otel-llm's own lines of an app's stderr (the apps' log records go there too)."""
    return "\n".join(line for line in stderr.splitlines() if line.startswith("otel-llm:"))


def said_twice(stderr: str) -> Counter[str]:
    """Items the app's stderr said may arrive twice because their request (direct or replayed) got no answer
    in time (the endpoint may have taken it), by unit (``spans``, ``log records``, ``metric points``)."""
    said: Counter[str] = Counter()
    taken = r"if it took the ([\d,]+) (spans?|log records?|metric points?) of th(?:at request|ose requests)"
    for count, units in re.findall(taken, stderr):
        said[units if units.endswith("s") else f"{units}s"] += int(count.replace(",", ""))
    return said
