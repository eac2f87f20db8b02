"""An app SIGKILLed with telemetry in memory: the next start with the same spool says so.

Nothing can run in the killed process; what it had queued in memory is gone.
The next process that starts with the spool names the one that died (pid, start
time) once. A process shut down normally, or one still running beside it, is
never named.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from .conftest import app_env

APP = textwrap.dedent("""
    import sys, time
    import otel_llm
    spool, mode = sys.argv[1:3]
    otel_llm.configure(exporter="otlp", endpoint="http://127.0.0.1:9", spool_dir=spool, service_name="killed")
    print("configured", flush=True)
    if mode == "wait":
        time.sleep(60)
    otel_llm.shutdown()
""")


def start(spool: Path, mode: str) -> subprocess.Popen[str]:
    app = subprocess.Popen([sys.executable, "-c", APP, str(spool), mode], env=app_env("http://127.0.0.1:9", 1),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert app.stdout is not None and app.stdout.readline() == "configured\n"
    return app


def run(spool: Path) -> str:
    app = start(spool, "exit")
    _, err = app.communicate(timeout=60)
    assert app.returncode == 0, err
    return err


def test_the_next_start_names_the_process_that_was_killed(tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    killed = start(spool, "wait")
    beside = start(spool, "wait")  # running: never reported
    try:
        os.kill(killed.pid, signal.SIGKILL)
        killed.wait(timeout=10)
        said = [line for line in run(spool).splitlines() if "ended without shutting down" in line]
        assert len(said) == 1, said
        assert f"pid {killed.pid}," in said[0] and str(spool) in said[0]
        assert f"pid {beside.pid}," not in said[0]
        assert "ended without shutting down" not in run(spool)  # said once; a clean exit leaves no marker
    finally:
        beside.kill()
        beside.communicate(timeout=10)


def test_a_clean_shutdown_leaves_nothing_to_report(tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    run(spool)
    assert "ended without shutting down" not in run(spool)
    assert list((spool / "running").glob("*")) == []


def test_a_running_apps_marker_is_not_read_as_data_by_ingest(tmp_path: Path) -> None:
    """The spool's default place is ``./otel-data/spool``: while an app ran (or after it was killed),
    ``otel-llm ingest ./otel-data`` read its marker ``spool/running/<pid>.json`` as a data file and
    reported it as a bad line (exit 3). Markers carry no data-file suffix."""
    from otel_llm.exporters._exit_marker import started
    from otel_llm_analysis.store import TraceStore

    (tmp_path / "otel-data").mkdir()
    (tmp_path / "otel-data" / "traces.jsonl").write_text("")
    marker = started(tmp_path / "otel-data" / "spool")
    try:
        assert marker.path is not None and marker.path.exists()
        with TraceStore(str(tmp_path / "store.duckdb")) as store:
            assert store.ingest([str(tmp_path / "otel-data")]).bad_lines == []
    finally:
        marker.shutdown()


FILE_APP = textwrap.dedent("""
    import sys, time
    import otel_llm
    out, mode = sys.argv[1:3]
    otel_llm.configure(output_dir=out, service_name="killed")  # the embedded default: local files
    print("configured", flush=True)
    if mode == "wait":
        time.sleep(60)
    otel_llm.shutdown()
""")


def test_the_file_exporters_next_start_names_the_process_that_was_killed(tmp_path: Path) -> None:
    """The embedded default (local files) holds up to a second of spans and a metric interval in
    memory too: a killed app's loss was said by no one. The next start writing the same directory
    names it, once; the marker is not a data file (``otel-llm ingest`` of the directory is clean)."""
    from otel_llm_analysis.store import TraceStore

    out = tmp_path / "otel-data"

    def app(mode: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen([sys.executable, "-c", FILE_APP, str(out), mode], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        assert proc.stdout is not None and proc.stdout.readline() == "configured\n"
        return proc

    killed = app("wait")
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait(timeout=10)
    _, err = app("exit").communicate(timeout=60)
    said = [line for line in err.splitlines() if "ended without shutting down" in line]
    assert len(said) == 1 and f"pid {killed.pid}," in said[0] and str(out) in said[0], err
    assert "what it had spooled" not in said[0]  # no spool here
    _, err = app("exit").communicate(timeout=60)
    assert "ended without shutting down" not in err
    with TraceStore(str(tmp_path / "store.duckdb")) as store:
        assert store.ingest([str(out)]).bad_lines == []
