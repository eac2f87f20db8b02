"""The spool directory misbehaving under a real app: impossible to create.

Real processes (``emitter.py``) and the built collector: what the app ended
must reach the collector's files once it answers, the app must run and exit
normally, and no traceback of ours may reach its stderr.
"""

from __future__ import annotations

from pathlib import Path

from . import _otlp
from .conftest import Collector, run_app
from .test_durability import _truth_ids


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
