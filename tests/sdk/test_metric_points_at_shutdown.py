"""The metric points ``shutdown()`` hands to the spool are each counted once, and none is missing.

Cumulative metrics were exported twice during the shutdown: once by its flush,
then again by the metric reader's final collection. With the collector away,
both copies were spooled and the notice said "10 metric points spooled" for the
5 the app recorded.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

APP = textwrap.dedent("""
    import sys, otel_llm
    endpoint, spool = sys.argv[1:3]
    otel_llm.configure(exporter="otlp", endpoint=endpoint, spool_dir=spool, service_name="points",
                       shutdown_timeout_s=3)

    @otel_llm.llm_call(model="gpt-4o", provider="openai")
    def call():
        return {"usage": {"prompt_tokens": 3, "completion_tokens": 2}}

    call()
    call()
    otel_llm.shutdown()
""")


def _points(line: str) -> list[tuple[str, str]]:
    """(metric name, attributes) of every data point in one spooled OTLP-JSON line."""
    out = []
    for resource in json.loads(line)["resourceMetrics"]:
        for scope in resource["scopeMetrics"]:
            for metric in scope["metrics"]:
                for kind in ("sum", "gauge", "histogram", "exponentialHistogram", "summary"):
                    for point in metric.get(kind, {}).get("dataPoints", []):
                        out.append((metric["name"], json.dumps(point.get("attributes", []), sort_keys=True)))
    return out


def _unreachable() -> str:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{free.getsockname()[1]}"


def test_the_spooled_metric_points_are_counted_once_and_all_kept(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "PYTEST_"))}
    spool = tmp_path / "spool"
    done = subprocess.run([sys.executable, "-c", APP, _unreachable(), str(spool)], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stderr
    said = re.search(r"([\d,]+) metric points? spooled to", done.stderr)
    assert said, done.stderr
    spooled = [point for path in sorted((spool / "metrics").glob("*.pending*"))
               for line in path.read_text().splitlines() if line.strip() for point in _points(line)]
    names = {name for name, _ in spooled}
    assert {"gen_ai.client.token.usage", "gen_ai.client.operation.duration"} <= names, names
    assert len(spooled) == len(set(spooled)), sorted(spooled)  # each point once
    assert int(said.group(1).replace(",", "")) == len(spooled), (done.stderr, spooled)
    assert " lost" not in done.stderr, done.stderr
