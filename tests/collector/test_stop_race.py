"""``otel-llm collector stop`` when the collector ends on its own while being stopped.

The window between "is it still alive?" and the SIGKILL after the timeout is
real (a collector finishing its flush just then, or a second ``stop`` run at
the same moment); the process is gone, which is what ``stop`` wanted.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from otel_llm.collector import _process, cli


def test_stop_says_stopped_when_the_collector_exits_just_before_the_kill(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A process that ignores SIGTERM, as a collector stuck in its flush does.
    stubborn = subprocess.Popen([sys.executable, "-c",
                                 "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"])
    state = _process.CollectorState(pid=stubborn.pid, data_dir=str(tmp_path / "data"), grpc_endpoint=None,
                                    http_endpoint=None, health_endpoint=None, command=["otelcol-llm"],
                                    log_file=str(tmp_path / "log"), started_at=0.0)
    _process.pid_file(tmp_path).write_text(json.dumps(dataclasses.asdict(state)))
    checks: list[int] = []

    def alive_then_gone_unseen(pid: int) -> bool:
        """Alive at stop's first look; at the look after SIGTERM it ends right after the check said alive
        (with ``--timeout 0.001`` the SIGKILL comes next)."""
        checks.append(pid)
        if len(checks) == 2:
            os.kill(pid, signal.SIGKILL)
            stubborn.wait()
        return True if len(checks) <= 2 else _real_is_alive(pid)

    _real_is_alive = _process.is_alive
    monkeypatch.setattr(_process, "is_alive", alive_then_gone_unseen)
    result = CliRunner().invoke(cli.app, ["stop", "--run-dir", str(tmp_path), "--timeout", "0.001"])
    assert result.exception is None, repr(result.exception)
    assert result.exit_code == 0
    assert f"otelcol-llm stopped (pid {stubborn.pid})" in result.output
    assert not _process.pid_file(tmp_path).exists()
