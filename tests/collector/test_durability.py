"""No span is lost when the collector crashes or is down, or when the app dies abruptly.

At-least-once: duplicates are allowed (the analysis de-duplicates on
trace_id, span_id), missing spans are not.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from otel_llm.exporters._spool_segments import segment_files

from . import _otlp
from .conftest import Collector, run_app


FAST_FAILURE_S = 1  # the app's OTLP timeout: a down collector costs one second, once


def _truth_ids(path: Path) -> set[tuple[str, str]]:
    return {(s["trace_id"], s["span_id"]) for s in json.loads(path.read_text())}


def _wait_for_spans(collector: Collector, timeout_s: float) -> set[tuple[str, str]]:
    """Poll the collector's file until the first spans are in (the app is mid-run then)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        traces = collector.data_dir / "traces.jsonl"
        if traces.exists() and traces.stat().st_size:
            try:
                return _otlp.span_ids(_otlp.messages(collector.data_dir, "traces"))
            except ValueError:
                pass  # caught between a record and its newline: read again
        time.sleep(0.05)
    return set()


@pytest.mark.parametrize("protocol", ["http/protobuf", "grpc"])
def test_collector_sigkilled_mid_run_then_restarted_loses_no_span(
    collector: Collector, tmp_path: Path, protocol: str
) -> None:
    truth_file = tmp_path / "truth.json"
    app = run_app(tmp_path, collector, "--turns", "100", "--pace", "0.05", "--truth", str(truth_file),
                  protocol=protocol, background=True, otlp_timeout_s=FAST_FAILURE_S)
    assert isinstance(app, subprocess.Popen)
    before_kill = _wait_for_spans(collector, timeout_s=20)
    collector.kill()
    time.sleep(1.0)
    assert app.poll() is None, "the app must still be emitting while the collector is down"
    collector.start()
    output, _ = app.communicate(timeout=60)
    assert app.returncode == 0, output
    collector.stop()

    truth = _truth_ids(truth_file)
    written = _otlp.span_ids(_otlp.messages(collector.data_dir, "traces"))
    assert before_kill, "some spans were written before the crash"
    assert len(before_kill) < len(truth), "the crash happened mid-run"
    assert truth - written == set(), f"{len(truth - written)} of {len(truth)} spans lost"


@pytest.mark.parametrize(
    ("end", "exit_code", "protocol"),
    [
        ("sys_exit", 3, "http/protobuf"),
        ("raise", 1, "http/protobuf"),
        ("sigkill", -9, "http/protobuf"),
        ("sys_exit", 3, "grpc"),
    ],
)
def test_abrupt_exit_with_collector_down_spools_and_next_start_delivers(
    collector_factory, tmp_path: Path, end: str, exit_code: int, protocol: str  # type: ignore[no-untyped-def]
) -> None:
    collector: Collector = collector_factory()  # not started: nothing listens on its ports
    truth_file = tmp_path / "truth.json"
    started = time.monotonic()
    app = run_app(tmp_path, collector, "--turns", "5", "--truth", str(truth_file), "--end", end, protocol=protocol,
                  otlp_timeout_s=FAST_FAILURE_S)
    assert app.returncode == exit_code, app.stdout + app.stderr
    assert time.monotonic() - started < 15, "a down collector must not hold the app's exit for long"

    truth = _truth_ids(truth_file)
    assert len(truth) == 5 * 4 + (0 if end == "sigkill" else 1)  # + the span the exit happened in
    spooled = _otlp.span_ids(m for seg in segment_files(tmp_path / "spool" / "traces") for m in _otlp.lines(seg))
    assert truth <= spooled, "the spool holds every span"

    collector.start()
    next_app = run_app(tmp_path, collector, "--turns", "0", "--wait-spool-empty", "20", protocol=protocol,
                       otlp_timeout_s=FAST_FAILURE_S)
    assert next_app.returncode == 0, next_app.stdout + next_app.stderr
    assert segment_files(tmp_path / "spool") == [], "replayed data is deleted from the spool"
    collector.stop()

    written = _otlp.span_ids(_otlp.messages(collector.data_dir, "traces"))
    assert truth <= written
    bodies = {r.get("body", {}).get("stringValue") for r in _otlp.log_records(_otlp.messages(collector.data_dir, "logs"))}
    assert {f"turn {i}" for i in range(5)} <= bodies, "spooled logs are replayed too"
    assert _otlp.metric_names(_otlp.messages(collector.data_dir, "metrics")), "and metrics"


def test_collector_down_exit_is_fast_and_says_what_was_spooled(collector_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Upstream's default OTLP timeout (10 s) and a collector that never comes: the exit stays within the budget."""
    collector: Collector = collector_factory()  # nothing listens
    started = time.monotonic()
    app = run_app(tmp_path, collector, "--turns", "20", "--truth", str(tmp_path / "truth.json"), otlp_timeout_s=10,
                  env={"OTEL_LLM_SHUTDOWN_TIMEOUT_S": "2"})
    elapsed = time.monotonic() - started
    assert app.returncode == 0, app.stderr
    assert elapsed < 2 + 8, f"exit took {elapsed:.1f} s"  # the budget plus the app's own start-up
    assert "Failed to export" not in app.stderr and "Transient error" not in app.stderr, app.stderr
    spooled = len(_truth_ids(tmp_path / "truth.json"))
    assert (f"collector unreachable at {collector.http_endpoint}/v1/traces; {spooled} spans spooled to "
            f"{tmp_path / 'spool' / 'traces'}") in app.stderr, app.stderr


def test_the_spool_bound_holds_for_all_signals_together(collector_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    collector: Collector = collector_factory()  # never started: everything is spooled
    bound = 500_000
    app = run_app(tmp_path, collector, "--turns", "2500", otlp_timeout_s=1,
                  env={"OTEL_LLM_SPOOL_MAX_MB": str(bound / 2**20), "OTEL_LLM_SHUTDOWN_TIMEOUT_S": "1"},
                  timeout=180)
    assert app.returncode == 0, app.stderr
    on_disk = sum(p.stat().st_size for p in segment_files(tmp_path / "spool"))
    assert on_disk <= bound, f"{on_disk:,} bytes in a {bound:,}-byte spool"
    assert "spans lost: the spool was full" in app.stderr  # counted in spans, not batches
