"""With the OTLP exporter, multiprocessing workers that end normally flush what they queued.

(The file exporter's worker guarantees, which also cover ``os._exit`` and
``Pool.terminate()``, are in ``tests/sdk/test_workers.py``.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from . import _otlp
from .conftest import Collector

APP = Path(__file__).resolve().parents[1] / "sdk" / "workers_app.py"


@pytest.mark.parametrize("scenario", ["pool-fork-close-join", "executor-fork", "pool-spawn-close-join"])
def test_workers_leaving_normally_deliver_every_span(collector: Collector, tmp_path: Path, scenario: str) -> None:
    env = {**os.environ, "OTEL_LLM_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT": collector.http_endpoint,
           "OTEL_LLM_SPOOL_REPLAY_ENDPOINT": collector.http_endpoint}
    proc = subprocess.run([sys.executable, str(APP), scenario, str(tmp_path), "40", "50"], env=env,
                          capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr
    collector.stop()
    ended = {tuple(i) for i in json.loads((tmp_path / "ended.json").read_text())}
    delivered = _otlp.span_ids(_otlp.messages(collector.data_dir, "traces"))
    assert len(ended) == 2000 and ended - delivered == set()
