"""A loss is never silent: full disks, unwritable directories, otel-llm's own notices.

The apps run as subprocesses (``delivery_app.py``) so logging starts unconfigured
and the exit path is real. A full disk is ``/dev/full`` behind the file's name:
every write fails with ENOSPC, as on a full filesystem. An unwritable directory
is one below a regular file (it cannot be created, even by root).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from otel_llm import _notices, semconv

APP = Path(__file__).with_name("delivery_app.py")


def run_app(out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(APP), str(out), *args], capture_output=True, text=True, timeout=120)


def written_span_ids(out: Path) -> set[tuple[str, str]]:
    """(trace id, span id) of every span in ``out/traces.jsonl``."""
    written: set[tuple[str, str]] = set()
    for line in (out / "traces.jsonl").read_text().splitlines():
        for rs in json.loads(line)["resourceSpans"]:
            for ss in rs["scopeSpans"]:
                written |= {(s["traceId"], s["spanId"]) for s in ss["spans"]}
    return written


def metric_points(path: Path, name: str) -> list[dict[str, Any]]:
    """The data points of the metric ``name`` (a sum or a histogram) in a metrics.jsonl."""
    points = []
    for line in path.read_text().splitlines():
        for rm in json.loads(line)["resourceMetrics"]:
            for sm in rm["scopeMetrics"]:
                for m in sm["metrics"]:
                    if m["name"] == name:
                        points += (m.get("sum") or m.get("histogram") or {}).get("dataPoints", [])
    return points


@pytest.mark.parametrize("logging_setup", [[], ["--log-file", "app.log"], ["--app-handler"]],
                         ids=["no-logging-config", "app-logs-to-a-file", "app-handler"])
def test_full_disk_is_reported_on_stderr_once_with_counts_and_path(tmp_path: Path, logging_setup: list[str]) -> None:
    out = tmp_path / "out"
    args = [a if a != "app.log" else str(tmp_path / "app.log") for a in logging_setup]
    proc = run_app(out, "--full", "traces,metrics,logs", *args)
    assert proc.returncode == 0, proc.stderr  # the app is never broken
    traces = str((out / "traces.jsonl").absolute())
    lines = [line for line in proc.stderr.splitlines() if traces in line]
    first = [line for line in lines if "No space left on device" in line]
    assert len(first) == 1, proc.stderr  # once per incident, not once per batch
    assert re.search(r"\b[\d,]+ spans? lost\b", first[0]), first[0]  # the first failed batch may hold one span
    assert f"in total 1,000 spans lost at {traces}" in proc.stderr  # the tally at exit


def test_unwritable_output_directory_is_reported(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    out = blocker / "otel-data"  # cannot be created, whoever runs the test
    proc = run_app(out, "--spans", "1000")
    assert proc.returncode == 0, proc.stderr
    assert f"in total 1,000 spans lost at {out / 'traces.jsonl'}" in proc.stderr
    assert "NotADirectoryError" in proc.stderr


def test_dropped_spans_are_exported_as_a_metric(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = run_app(out, "--full", "traces", "--spans", "700")
    assert proc.returncode == 0, proc.stderr
    points = metric_points(out / "metrics.jsonl", semconv.METRIC_TELEMETRY_DROPPED)
    attrs = [{a["key"]: a["value"]["stringValue"] for a in p["attributes"]} for p in points]
    assert {semconv.OTEL_LLM_SIGNAL: "traces", semconv.ERROR_TYPE: "write_failed"} in attrs
    last = max(int(p["asInt"]) for p, a in zip(points, attrs) if a[semconv.OTEL_LLM_SIGNAL] == "traces")
    assert last == 700


def test_configure_keeps_the_apps_own_warnings_on_the_console(tmp_path: Path) -> None:
    """Without logging config Python prints warnings through its last-resort handler; the bridge keeps that."""
    proc = run_app(tmp_path / "out", "--spans", "1", "--app-warning", "the app speaks")
    assert proc.returncode == 0
    assert proc.stderr.splitlines().count("the app speaks") == 1
    bodies = [r["body"]["stringValue"] for line in (tmp_path / "out" / "logs.jsonl").read_text().splitlines()
              for rl in json.loads(line)["resourceLogs"] for sl in rl["scopeLogs"] for r in sl["logRecords"]]
    assert "the app speaks" in bodies  # and the bridge still exports it


def test_an_app_handler_prints_once_and_last_resort_stays_quiet(tmp_path: Path) -> None:
    proc = run_app(tmp_path / "out", "--spans", "1", "--app-handler", "--app-warning", "the app speaks")
    assert [line for line in proc.stderr.splitlines() if "the app speaks" in line] == ["APP the app speaks"]


def test_unknown_price_reaches_stderr_and_never_the_logs_bridge(tmp_path: Path) -> None:
    proc = run_app(tmp_path / "out", "--spans", "3", "--unpriced", "no-such-model-xyz", "--log-file",
                   str(tmp_path / "app.log"))
    assert proc.returncode == 0
    assert [line for line in proc.stderr.splitlines() if "no price for model 'no-such-model-xyz'" in line]
    logs = tmp_path / "out" / "logs.jsonl"
    assert not logs.exists() or "no-such-model-xyz" not in logs.read_text()


@pytest.mark.parametrize("logging_setup", [[], ["--silence-root"]], ids=["no-logging-config", "root-logger-silenced"])
def test_dropped_counts_models_and_costs_reach_stderr_once_and_never_the_logs_bridge(
    tmp_path: Path, logging_setup: list[str]
) -> None:
    """A bad token count, a model name that is not a string: each said once. (The call, 10**12 tokens of
    gpt-4o, would cost $2.5M, past the sanity bound; its dropped count leaves it unpriced first.)"""
    usage = {"prompt_tokens": 10**12, "completion_tokens": -3}
    proc = run_app(tmp_path / "out", "--spans", "3", "--usage", json.dumps(usage), "--record-model", "123",
                   *logging_setup)
    assert proc.returncode == 0, proc.stderr
    said = {
        "dropped an invalid token count output_tokens=-3": 1,
        "record_usage(model=...) ignored": 1,
        "dropped the cost of a call of model 'gpt-4o'": 0,  # no cost computed: the dropped count said so
    }
    lines = proc.stderr.splitlines()
    assert {words: sum(line.startswith(f"otel-llm: {words}") for line in lines) for words in said} == said, proc.stderr
    logs = tmp_path / "out" / "logs.jsonl"
    exported = logs.read_text() if logs.exists() else ""
    assert not [words for words in ("invalid token count", "record_usage", "dropped the cost") if words in exported]


def test_notices_count_per_incident_and_feed_the_metric(capsys: pytest.CaptureFixture[str]) -> None:
    _notices._reset_for_tests()
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    _notices.observe(provider.get_meter("t"))
    for _ in range(3):
        _notices.lost("traces", 10, "/x/traces.jsonl", "write_failed", "OSError: disk full")
    _notices.resolved("traces", "/x/traces.jsonl")
    _notices.lost("traces", 1, "/x/traces.jsonl", "write_failed", "OSError: disk full")  # a new incident
    _notices.print_tally()
    err = capsys.readouterr().err.splitlines()
    assert len([line for line in err if "lost: writing failed at /x/traces.jsonl" in line]) == 2
    assert any("works again; 30 spans lost there meanwhile" in line for line in err)
    assert "otel-llm: in total 30 spans lost at /x/traces.jsonl: writing failed" in err
    assert "otel-llm: in total 1 span lost at /x/traces.jsonl: writing failed" in err
    (metric,) = [m for rm in reader.get_metrics_data().resource_metrics for sm in rm.scope_metrics
                 for m in sm.metrics if m.name == semconv.METRIC_TELEMETRY_DROPPED]
    assert [p.value for p in metric.data.data_points] == [31]
    _notices.print_tally()
    assert capsys.readouterr().err == ""  # each loss is tallied once
    _notices._reset_for_tests()


def test_a_forked_child_reports_its_own_losses_not_the_parents(capsys: pytest.CaptureFixture[str]) -> None:
    """The parent's incidents are the parent's: a child tallied them again at its exit and its
    ``otel_llm.telemetry.dropped`` counted them again under its own service.instance.id."""
    _notices._reset_for_tests()
    _notices.lost("traces", 7, "/x/traces.jsonl", "write_failed", "OSError: disk full")
    capsys.readouterr()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: what it would report, to the parent, then leave without any exit handler
        try:
            os.write(write_end, json.dumps(sorted(_notices.totals().values())).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        child_totals = json.loads(pipe.read())
    os.waitpid(pid, 0)
    assert child_totals == []
    assert list(_notices.totals().values()) == [7]  # the parent keeps its own
    _notices._reset_for_tests()


def test_app_killed_loses_at_most_the_spans_of_its_last_second(tmp_path: Path) -> None:
    """SIGKILL: no flush, no atexit. Spans queued in memory are lost; the export runs every second."""
    out = tmp_path / "out"
    proc = run_app(out, "--spans", "300", "--then-sleep", "2.5", "--more", "50", "--sigkill")
    assert proc.returncode == -9
    before = {tuple(i) for i in json.loads((out / "ended-before.json").read_text())}
    written = written_span_ids(out)
    assert len(before) == 300 and before <= written  # ended 2.5 s before the kill: on disk


@pytest.mark.parametrize(("app_handler", "exit_status"), [([], -15), (["--app-sigterm-exit", "7"], 7)],
                         ids=["default-sigterm", "apps-own-handler"])
def test_app_stopped_by_sigterm_writes_every_span_it_ended_and_still_dies_by_the_signal(
    tmp_path: Path, app_handler: list[str], exit_status: int
) -> None:
    """SIGTERM (docker stop, kubectl delete pod, systemd) skips atexit: the spans of the last second sat in
    the export queue and were lost without a word. Now they are written; the exit status stays SIGTERM's,
    and an app's own SIGTERM handler is kept (it exits, so atexit flushes)."""
    out = tmp_path / "out"
    proc = run_app(out, "--spans", "300", "--sigterm", *app_handler)
    assert proc.returncode == exit_status, proc.stderr
    ended = {tuple(i) for i in json.loads((out / "ended.json").read_text())}
    written = written_span_ids(out)
    assert len(ended) == 300 and ended <= written, f"{len(ended - written)} of 300 spans lost"
