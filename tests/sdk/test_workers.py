"""Spans ended in worker processes reach traces.jsonl (the default file exporter).

A worker forked from the app, or a ``multiprocessing`` child, writes each span
through as it ends, so no way of leaving — ``close()/join()``, ``os._exit``,
``Pool.terminate()`` (the ``with Pool`` block) — loses a span that had ended.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

APP = Path(__file__).with_name("workers_app.py")
SCENARIOS = ["pool-fork-with", "pool-fork-close-join", "pool-spawn-with", "pool-spawn-close-join",
             "executor-fork", "executor-spawn", "bare-fork-os-exit"]


def written_ids(out: Path) -> set[tuple[str, str]]:
    ids = set()
    for path in out.glob("traces*.jsonl"):
        for line in path.read_text().splitlines():
            for rs in json.loads(line)["resourceSpans"]:
                for ss in rs["scopeSpans"]:
                    ids |= {(s["traceId"], s["spanId"]) for s in ss["spans"]}
    return ids


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_span_a_worker_ended_is_in_the_file(tmp_path: Path, scenario: str) -> None:
    proc = subprocess.run([sys.executable, str(APP), scenario, str(tmp_path), "40", "50"],
                          capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr
    ended = {tuple(i) for i in json.loads((tmp_path / "ended.json").read_text())}
    assert len(ended) == 2000
    missing = ended - written_ids(tmp_path)
    assert not missing, f"{len(missing)} of {len(ended)} spans ended in workers are not in traces.jsonl"
    assert "lost" not in proc.stderr, proc.stderr


def calls_counted(files: list[Path]) -> int:
    """Model calls in ``gen_ai.client.operation.duration``: each process's last cumulative count, summed."""
    last: dict[tuple[str, str], int] = {}
    for line in (line for path in files for line in path.read_text().splitlines()):
        for rm in json.loads(line)["resourceMetrics"]:
            instance = next(a["value"]["stringValue"] for a in rm["resource"]["attributes"]
                            if a["key"] == "service.instance.id")
            for sm in rm["scopeMetrics"]:
                for metric in sm["metrics"]:
                    if metric["name"] == "gen_ai.client.operation.duration":
                        for point in metric["histogram"]["dataPoints"]:
                            key = (instance, point["startTimeUnixNano"])
                            last[key] = max(last.get(key, 0), int(point["count"]))
    return sum(last.values())


@pytest.mark.parametrize("scenario", ["pool-fork-close-join", "pool-spawn-close-join", "executor-fork", "executor-spawn"])
def test_every_call_a_worker_made_is_in_the_metrics_when_it_exits_normally(tmp_path: Path, scenario: str) -> None:
    """A worker leaving by ``close()/join()`` or an executor's end exports the metric points it recorded."""
    proc = subprocess.run([sys.executable, str(APP), scenario, str(tmp_path), "8", "50"],
                          capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr
    assert calls_counted([tmp_path / "metrics.jsonl"]) == 400


@pytest.mark.parametrize("scenario", ["pool-fork-close-join", "executor-fork"])
def test_a_forked_worker_counts_only_its_own_calls(tmp_path: Path, scenario: str) -> None:
    """A forked worker copies the parent's aggregated metric points; exported under the worker's own
    service.instance.id they counted the parent's calls again (3 parent calls + 400 made 409 with two
    workers). A worker's series start at its own first call."""
    env = {**os.environ, "PARENT_CALLS": "3"}
    proc = subprocess.run([sys.executable, str(APP), scenario, str(tmp_path), "8", "50"],
                          capture_output=True, text=True, timeout=240, env=env)
    assert proc.returncode == 0, proc.stderr
    assert calls_counted([tmp_path / "metrics.jsonl"]) == 403


def test_with_otlp_a_worker_spools_its_metric_points_and_never_sends_them(tmp_path: Path) -> None:
    """As for spans: a worker keeps its points in the spool (the parent or the next process replays
    them) and never waits on the network — with the collector down, a send would hold up its exit."""
    env = {**os.environ, "OTEL_LLM_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9"}
    proc = subprocess.run([sys.executable, str(APP), "pool-fork-close-join", str(tmp_path), "8", "50"],
                          capture_output=True, text=True, timeout=240, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "/v1/metrics; metric points are spooled" not in proc.stderr  # said by a send that failed
    assert calls_counted([p for p in (tmp_path / "spool" / "metrics").iterdir() if not p.name.startswith(".")]) == 400
