"""A bare ``os.fork()`` child that ends by ``os._exit`` or SIGTERM leaves no exit marker behind it.

Each child forked after ``configure()`` writes ``running/<pid>.running``; a
marker left by a dead process makes the next start say its in-memory telemetry
was lost. A ``multiprocessing`` worker hands its telemetry over and removes its
marker as it ends, but a bare ``os.fork()`` child ending by ``os._exit`` (as
forking servers' children do) or by SIGTERM ran nothing: its marker stayed and
the next start reported a loss -- true of its metric points, never flushed. Now
such a child flushes to the spool (bounded) and removes its marker.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

APP = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    import otel_llm
    spool, mode = sys.argv[1:3]
    otel_llm.configure(exporter="otlp", endpoint="http://127.0.0.1:9", spool_dir=spool, service_name="forks",
                       shutdown_timeout_s=1)

    @otel_llm.llm_call
    def call():
        return {"model": "m", "usage": {"prompt_tokens": 3, "completion_tokens": 4}}

    if mode != "none":
        pid = os.fork()
        if pid == 0:
            call()
            print("child marker", (Path(spool) / "running" / f"{os.getpid()}.running").exists(), flush=True)
            if mode == "os._exit":
                os._exit(0)
            os.kill(os.getpid(), signal.SIGTERM)
            signal.pause()
        _, status = os.waitpid(pid, 0)
        print("child", pid, "status", status, flush=True)
        print("child marker after", (Path(spool) / "running" / f"{pid}.running").exists(), flush=True)
    otel_llm.shutdown()
""")


def _run(spool: Path, mode: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "PYTEST_"))}
    env["OTEL_EXPORTER_OTLP_TIMEOUT"] = "1"
    return subprocess.run([sys.executable, "-c", APP, str(spool), mode], env=env, cwd=spool.parent,
                          capture_output=True, text=True, timeout=60)


def _spooled_metric_calls(spool: Path) -> int:
    """The ``gen_ai.client.operation.duration`` count summed over the spooled metric lines."""
    total = 0
    for path in (spool / "metrics").glob("*"):
        if path.name.startswith("."):
            continue
        for line in path.read_bytes().splitlines():
            for rm in json.loads(line).get("resourceMetrics", []):
                for sm in rm.get("scopeMetrics", []):
                    for metric in sm.get("metrics", []):
                        if metric["name"] == "gen_ai.client.operation.duration":
                            total += sum(int(p["count"]) for p in metric["histogram"]["dataPoints"])
    return total


@pytest.mark.parametrize("mode", ["os._exit", "SIGTERM"])
def test_a_bare_fork_child_ending_abruptly_hands_over_and_leaves_no_marker(tmp_path: Path, mode: str) -> None:
    spool = tmp_path / "spool"
    done = _run(spool, mode)
    assert done.returncode == 0, done.stderr
    assert "child marker True" in done.stdout, done.stdout  # it had one while it ran
    assert "child marker after False" in done.stdout, (done.stdout, done.stderr)
    status = int(done.stdout.split("status ")[1].split()[0])
    if mode == "SIGTERM":  # it still ends by the signal
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGTERM, status
    assert _spooled_metric_calls(spool) == 1  # the child's call; the parent made none
    again = _run(spool, "none")
    assert "ended without shutting down" not in again.stderr, again.stderr


EXEC_APP = textwrap.dedent("""
    import os, subprocess, sys
    import otel_llm
    spool = sys.argv[1]
    otel_llm.configure(exporter="otlp", endpoint="http://127.0.0.1:9", spool_dir=spool, service_name="runs",
                       shutdown_timeout_s=1)
    subprocess.run(["true"], preexec_fn=lambda: None, check=True)  # Python's fork hooks run, then exec
    print("markers", sorted(os.listdir(os.path.join(spool, "running"))), "own", f"{os.getpid()}.running")
    otel_llm.shutdown()
""")


def test_a_subprocess_run_with_preexec_fn_leaves_no_marker(tmp_path: Path) -> None:
    """The at-fork hooks run in the child of ``subprocess`` when it has a ``preexec_fn``; the child then
    executes another program, which never removes the marker written for it: the next start reported
    a process that "ended without shutting down"."""
    spool = tmp_path / "spool"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "PYTEST_"))}
    done = subprocess.run([sys.executable, "-c", EXEC_APP, str(spool)], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    markers, own = done.stdout.split("markers ")[1].split(" own ")
    assert markers == repr([own.strip()]), done.stdout
    again = _run(spool, "none")
    assert "ended without shutting down" not in again.stderr, again.stderr
