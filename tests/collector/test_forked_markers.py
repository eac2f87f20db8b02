"""Forked workers have exit markers of their own: a killed worker is named by the next start.

A process that exports with a spool writes ``running/<pid>.running`` and removes
it when it shuts down; a marker left behind by a dead process tells the next
start that its in-memory telemetry was lost. A child forked after
``configure()`` (``os.fork``, ``multiprocessing`` with fork, a pre-fork server's
workers) wrote none: a worker killed by the OOM killer lost its queued spans
and nothing ever said so. Each forked child has its own marker, removed when it
ends cleanly (``sys.exit``, a ``multiprocessing`` worker's normal end).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from .conftest import app_env

APP = textwrap.dedent("""
    import multiprocessing, os, signal, sys
    from pathlib import Path
    import otel_llm
    spool, mode = sys.argv[1:3]
    otel_llm.configure(exporter="otlp", endpoint="http://127.0.0.1:9", spool_dir=spool, service_name="forks",
                       shutdown_timeout_s=1)

    def own_marker():
        return (Path(spool) / "running" / f"{os.getpid()}.running").exists()

    def work(_=None):
        return own_marker()

    if mode == "kill-child":
        pid = os.fork()
        if pid == 0:
            print("child marker", own_marker(), flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
        os.waitpid(pid, 0)
        print("killed", pid, flush=True)
    elif mode == "clean-children":
        pid = os.fork()
        if pid == 0:
            print("fork marker", own_marker(), flush=True)
            sys.exit(0)  # a pre-fork server's worker ends so: atexit runs
        os.waitpid(pid, 0)
        context = multiprocessing.get_context("fork")
        process = context.Process(target=work)
        process.start()
        process.join()
        with context.Pool(2) as pool:
            print("pool markers", all(pool.map(work, range(4))), flush=True)
            pool.close()
            pool.join()
    otel_llm.shutdown()
""")


def run(spool: Path, mode: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-c", APP, str(spool), mode], env=app_env("http://127.0.0.1:9", 1),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done


def test_a_killed_forked_worker_is_named_by_the_next_start(tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    first = run(spool, "kill-child")
    assert "child marker True" in first.stdout, first.stdout + first.stderr
    child = first.stdout.split("killed ")[1].split()[0]
    said = [line for line in run(spool, "exit").stderr.splitlines() if "ended without shutting down" in line]
    assert len(said) == 1 and f"pid {child}," in said[0], said


def test_forked_workers_that_end_cleanly_leave_no_marker(tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    done = run(spool, "clean-children")
    assert "fork marker True" in done.stdout and "pool markers True" in done.stdout, done.stdout + done.stderr
    assert list((spool / "running").glob("*")) == []
    assert "ended without shutting down" not in run(spool, "exit").stderr


POOL_APP = textwrap.dedent("""
    import multiprocessing, sys
    import otel_llm
    spool = sys.argv[1]
    otel_llm.configure(exporter="otlp", endpoint="http://127.0.0.1:9", spool_dir=spool, service_name="pool",
                       shutdown_timeout_s=1, logs=False)

    @otel_llm.tool("lookup")
    def lookup(i):
        return i

    with multiprocessing.get_context("fork").Pool(2) as pool:  # __exit__: terminate(), SIGTERM to the workers
        print(pool.map(lookup, range(4)))
    otel_llm.shutdown()
""")


def test_a_pool_terminated_by_its_with_block_keeps_its_workers_metrics_and_leaves_no_marker(tmp_path: Path) -> None:
    """``with Pool() as pool:`` ends with ``terminate()``: SIGTERM to each worker. The workers' spans were
    on disk already, but the metric points they recorded were lost in silence, and (with a marker per
    worker) every such run had the next start name its workers as killed. On SIGTERM a worker flushes
    to the spool (local disk, bounded), then removes its marker, then ends by the signal as before."""
    from otel_llm.exporters._spool_segments import segment_files

    from . import _otlp

    spool = tmp_path / "spool"
    done = subprocess.run([sys.executable, "-c", POOL_APP, str(spool)], env=app_env("http://127.0.0.1:9", 1),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert list((spool / "running").glob("*")) == [], done.stderr
    messages = [m for path in segment_files(spool / "metrics") for m in _otlp.lines(path)]
    calls = [int(point.get("asInt", 0)) for m in messages for rm in m["resourceMetrics"] for sm in rm["scopeMetrics"]
             for metric in sm["metrics"] if metric["name"] == "otel_llm.tool.calls"
             for point in metric["sum"]["dataPoints"]]
    assert sum(calls) == 4, f"the workers counted every call, and their points are spooled: {calls}"
