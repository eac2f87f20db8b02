"""With the OTLP exporter, every span a worker process ended reaches the collector.

A worker writes its spans through to the spool as they end; the parent's
replayer (or, at the latest, its shutdown) delivers them. So ``os._exit`` and
``Pool.terminate()`` lose nothing either. (The file exporter's guarantees are
in ``tests/sdk/test_workers.py``.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from otel_llm.exporters._spool_segments import segment_files

from . import _otlp
from .conftest import Collector

APP = Path(__file__).resolve().parents[1] / "sdk" / "workers_app.py"
SCENARIOS = ["pool-fork-with", "pool-fork-close-join", "pool-spawn-with", "pool-spawn-close-join",
             "executor-fork", "executor-spawn", "bare-fork-os-exit"]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_span_a_worker_ended_reaches_the_collector(collector: Collector, tmp_path: Path, scenario: str) -> None:
    env = {**os.environ, "OTEL_LLM_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT": collector.http_endpoint,
           "OTEL_LLM_SPOOL_REPLAY_ENDPOINT": collector.http_endpoint}
    proc = subprocess.run([sys.executable, str(APP), scenario, str(tmp_path), "40", "50"], env=env,
                          capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr
    collector.stop()
    ended = {tuple(i) for i in json.loads((tmp_path / "ended.json").read_text())}
    delivered = _otlp.span_ids(_otlp.messages(collector.data_dir, "traces"))
    assert len(ended) == 2000
    assert ended - delivered == set(), f"{len(ended - delivered)} of 2000 lost"
    assert [p for p in segment_files(tmp_path / "spool") if "traces" in p.parts] == []
