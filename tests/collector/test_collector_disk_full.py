"""A collector whose disk is full says so through the app: its own message, not "busy".

The real collector writes its files on a full disk (each file a link to
``/dev/full``: every write fails with ENOSPC), so its file exporter fails and
the receiver answers the app with HTTP 503 / gRPC UNAVAILABLE carrying the
error ("write .../traces.jsonl: no space left on device"). The app said
"is busy (HTTP 503 Service Unavailable)" -- the operator waits for a load
spike to pass while the collector's disk stays full. The notice must carry
the collector's message, and the spans must wait in the spool.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from otel_llm.exporters._spool_segments import segment_files

from . import _otlp
from ._apps import ONE_CALL
from .conftest import Collector, app_env

APP = textwrap.dedent("""
    import sys
    import otel_llm
    endpoint, spool, protocol = sys.argv[1:4]
    otel_llm.configure(exporter="otlp", endpoint=endpoint, protocol=protocol, spool_dir=spool, service_name="full",
                       logs=False, shutdown_timeout_s=2)

""") + ONE_CALL


@pytest.mark.parametrize("protocol", ["http/protobuf", "grpc"])
def test_a_collector_that_cannot_write_is_named_with_its_message_and_the_spans_wait(
    collector_factory, tmp_path: Path, protocol: str  # type: ignore[no-untyped-def]
) -> None:
    collector: Collector = collector_factory()
    collector.data_dir.mkdir(parents=True)
    for name in ("traces.jsonl", "metrics.jsonl", "logs.jsonl"):
        os.symlink("/dev/full", collector.data_dir / name)
    collector.start()
    spool = tmp_path / "spool"
    done = subprocess.run([sys.executable, "-c", APP, collector.endpoint(protocol), str(spool), protocol],
                          env=app_env(collector.http_endpoint, 1), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    said = [line for line in done.stderr.splitlines() if line.startswith("otel-llm:") and "/traces" in line]
    assert said, done.stderr
    first = said[0]
    assert "no space left on device" in first and "could not take the spans" in first, done.stderr
    assert "busy" not in first and "unreachable" not in first, done.stderr
    kept = [m for path in segment_files(spool / "traces") for m in _otlp.lines(path)]
    assert len(_otlp.spans(kept)) == 1, f"the span waits in the spool\n{done.stderr}"
