"""Real processes writing the SDK's process metrics, for the `otel-llm processes` tests.

Each runs a small app with ``configure(process_metrics=True)`` that allocates 8 MB per
step, so a process given more steps shows more memory.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Mapping

APP = """
import sys, time
import otel_llm
otel_llm.configure(service_name=sys.argv[1], process_metrics=True, metric_export_interval_ms=100)
blob = []
for i in range(int(sys.argv[2])):
    blob.append(bytearray(8_000_000))
    time.sleep(0.15)
otel_llm.shutdown()
"""


def run_processes(out: Path, steps: Mapping[str, int]) -> None:
    """Run one process per service name (``steps``: service -> allocation steps), its files under ``out``."""
    for service, count in steps.items():
        done = subprocess.run([sys.executable, "-c", APP, service, str(count)], cwd=out.parent,
                              capture_output=True, text=True, timeout=120,
                              env={**os.environ, "OTEL_LLM_OUTPUT_DIR": str(out)})
        assert done.returncode == 0, done.stderr
