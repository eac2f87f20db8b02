"""One batch cannot block the spool: oversized batches are split, the queue behind them flows on.

The collector's OTLP receiver refuses requests over its limits (gRPC 4 MiB,
HTTP 20 MiB by default). 128 chat turns with ~100 kB prompts set as span
attributes make one 512-span batch of ~40 MB; then 500 ordinary turns follow
(2,000 spans). Every span must reach the collector's file.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from otel_llm.exporters._spool_segments import segment_files

from . import _otlp
from .conftest import Collector, run_app


@pytest.mark.parametrize("protocol", ["http/protobuf", "grpc"])
def test_a_40_mb_batch_then_2000_small_spans_all_arrive(collector: Collector, tmp_path: Path, protocol: str) -> None:
    truth_file = tmp_path / "truth.json"
    app = run_app(tmp_path, collector, "--turns", "628", "--big-turns", "128", "--big-chars", "105000",
                  "--capture-content", "--truth", str(truth_file), "--wait-spool-empty", "30",
                  protocol=protocol, timeout=240)
    assert app.returncode == 0, app.stdout + app.stderr
    collector.stop()

    truth = {(s["trace_id"], s["span_id"]): s for s in json.loads(truth_file.read_text())}
    written = _otlp.spans(_otlp.messages(collector.data_dir, "traces"))
    arrived = {(s["traceId"], s["spanId"]) for s in written}
    small = {k for k, s in truth.items() if "P" * 100 not in json.dumps(s)}
    assert len(small) >= 2000
    assert small - arrived == set(), f"{len(small - arrived)} of {len(small)} small spans lost"
    assert set(truth) - arrived == set(), f"{len(set(truth) - arrived)} of {len(truth)} spans lost"
    assert segment_files(tmp_path / "spool") == [], "nothing left waiting in the spool"
    assert "refused" not in app.stderr, app.stderr  # split, so nothing needed setting aside
