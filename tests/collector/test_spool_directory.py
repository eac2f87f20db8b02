"""The spool directory misbehaving under a real app: deleted while in use, impossible to create.

Real processes (``emitter.py``) and the built collector: what the app ended
must reach the collector's files once it answers, the app must run and exit
normally, and no traceback of ours may reach its stderr.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from otel_llm.exporters._spool_segments import segment_files

from . import _otlp
from .conftest import Collector, run_app
from .test_durability import _truth_ids


def _wait_for(condition, timeout_s: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_the_spool_directory_deleted_while_spooling_keeps_every_span(
    collector_factory, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    """``rm -rf`` of the spool (a tmp cleaner, a user tidying up) while the collector is down: the spool
    recreates its directory, keeps what it was writing, and delivers it all when the collector answers."""
    collector: Collector = collector_factory()  # not started yet: everything is spooled
    truth_file = tmp_path / "truth.json"
    spool = tmp_path / "spool"
    app = run_app(tmp_path, collector, "--turns", "60", "--pace", "0.1", "--truth", str(truth_file),
                  "--wait-spool-empty", "30", background=True, otlp_timeout_s=1)
    assert isinstance(app, subprocess.Popen)
    assert _wait_for(lambda: any(p.stat().st_size for p in segment_files(spool / "traces")), 20), \
        "the app spools while the collector is down"
    shutil.rmtree(spool)
    time.sleep(2.0)  # the app goes on spooling into the vanished directory
    collector.start()
    output, _ = app.communicate(timeout=90)
    collector.stop()

    assert app.returncode == 0, output
    assert "Traceback" not in output, output
    truth = _truth_ids(truth_file)
    written = _otlp.span_ids(_otlp.messages(collector.data_dir, "traces"))
    assert len(truth) == 60 * 4
    assert truth - written == set(), f"{len(truth - written)} of {len(truth)} spans lost\n{output}"
    assert segment_files(spool) == [], "everything replayed"


def test_a_spool_directory_that_cannot_be_created_never_stops_the_app(
    collector: Collector, tmp_path: Path
) -> None:
    """A read-only working directory (a container) must not turn ``configure(exporter="otlp")`` into a crash:
    with the collector up every span goes out directly."""
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the spool's parent should be")
    truth_file = tmp_path / "truth.json"
    app = run_app(tmp_path, collector, "--turns", "5", "--truth", str(truth_file), "--spool-dir",
                  str(blocker / "spool"))
    collector.stop()
    assert app.returncode == 0, app.stdout + app.stderr
    assert "Traceback" not in app.stderr, app.stderr
    truth = _truth_ids(truth_file)
    assert len(truth) == 5 * 4
    assert truth <= _otlp.span_ids(_otlp.messages(collector.data_dir, "traces"))


def test_a_spool_directory_that_cannot_be_created_is_reported_when_needed(
    collector_factory, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    """With the collector down too, the spans are lost: said once, with the count and the path."""
    collector: Collector = collector_factory()  # nothing listens
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the spool's parent should be")
    app = run_app(tmp_path, collector, "--turns", "5", "--truth", str(tmp_path / "truth.json"), "--spool-dir",
                  str(blocker / "spool"), otlp_timeout_s=1, env={"OTEL_LLM_SHUTDOWN_TIMEOUT_S": "2"})
    assert app.returncode == 0, app.stdout + app.stderr
    assert "Traceback" not in app.stderr, app.stderr
    spans = len(_truth_ids(tmp_path / "truth.json"))
    assert f"in total {spans} spans lost at {blocker / 'spool' / 'traces'}: writing failed" in app.stderr, app.stderr


def test_with_the_sdk_disabled_nothing_is_sent_not_even_the_spool(collector: Collector, tmp_path: Path) -> None:
    """OTEL_SDK_DISABLED=true (the specification's off switch): an app with data left in its spool by an
    earlier run must not send it -- or anything -- to a collector that answers."""
    from otel_llm.exporters._spool_segments import SegmentStore

    from .test_spool import record

    spool = tmp_path / "spool"
    store = SegmentStore(spool / "traces", max_bytes=1 << 20, root=spool)
    store.append(record(1, size=100))
    store.close()  # left by an earlier run
    script = (
        "import sys, time, otel_llm\n"
        "otel_llm.configure(exporter='otlp', endpoint=sys.argv[1], spool_dir=sys.argv[2], logs=True)\n"
        "otel_llm.tool('lookup')(lambda q: q)('x')\n"
        "time.sleep(2)\n"  # a replayer would have started at configure() and delivered by now
        "otel_llm.shutdown()\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "PYTEST_"))}
    app = subprocess.run([sys.executable, "-c", script, collector.http_endpoint, str(spool)], capture_output=True,
                         text=True, timeout=60, env={**env, "OTEL_SDK_DISABLED": "true"})
    collector.stop()
    assert app.returncode == 0, app.stdout + app.stderr
    assert _otlp.messages(collector.data_dir, "traces") == [], "a disabled SDK sends nothing"
    assert len(segment_files(spool / "traces")) == 1, "the spool waits for an enabled run"
