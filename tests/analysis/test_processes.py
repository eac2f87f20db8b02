"""`otel-llm processes`: each process's memory, CPU and threads over time, from the SDK's process metrics.

Two real processes run an app with ``configure(process_metrics=True)`` (one allocates
as it goes); the expected figures are recomputed from their ``metrics.jsonl`` in plain
Python, per service instance and hour.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from otel_llm import semconv
from tests.support.process_app import run_processes

def _app():
    import typer

    from otel_llm_analysis.cli import register

    app = typer.Typer()
    register(app)
    return app


def _expected(metrics: Path) -> dict[tuple[str, str], dict[str, float]]:
    """Per (service, instance): peak and mean memory (MiB), peak threads, mean CPU utilisation of the points
    (the instrumentation writes one CPU utilisation point per collection)."""
    memory: dict[tuple[str, str], list[float]] = defaultdict(list)
    threads: dict[tuple[str, str], list[float]] = defaultdict(list)
    cpu: dict[tuple[str, str], list[float]] = defaultdict(list)
    for line in metrics.read_text().splitlines():
        for rm in json.loads(line)["resourceMetrics"]:
            resource = {a["key"]: a["value"]["stringValue"] for a in rm["resource"]["attributes"]
                        if "stringValue" in a["value"]}
            key = (resource["service.name"], resource["service.instance.id"])
            for sm in rm["scopeMetrics"]:
                for metric in sm["metrics"]:
                    data = metric.get("sum") or metric.get("gauge")
                    for point in data["dataPoints"] if data else ():
                        value = float(point.get("asInt", point.get("asDouble")))
                        if metric["name"] == semconv.METRIC_PROCESS_MEMORY_USAGE:
                            memory[key].append(value / 2**20)
                        elif metric["name"] == "process.thread.count":
                            threads[key].append(value)
                        elif metric["name"] == "process.cpu.utilization":
                            cpu[key].append(value)
    return {key: {"peak_memory_mb": max(values), "mean_memory_mb": sum(values) / len(values),
                  "peak_threads": max(threads[key]),
                  "mean_cpu_utilization": sum(cpu[key]) / len(cpu[key])}
            for key, values in memory.items()}


def test_each_process_memory_cpu_and_threads_per_period(tmp_path: Path):
    out = tmp_path / "otel-data"
    run_processes(out, {"scraper": 8, "processor": 3})
    expected = _expected(out / "metrics.jsonl")
    assert len(expected) == 2
    db = str(tmp_path / "store.duckdb")
    runner = CliRunner()
    ingested = runner.invoke(_app(), ["ingest", str(out), "--db", db])
    assert ingested.exit_code == 0, ingested.output
    shown = runner.invoke(_app(), ["processes", "--period", "week", "--db", db, "--format", "json"])
    assert shown.exit_code == 0, shown.output
    rows = json.loads(shown.stdout)["rows"]
    # All points fall in one week (unless the run crossed Monday 00:00 UTC: then two rows per process).
    by_process: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for row in rows:
        by_process[(row["service"], row["instance"])].append(row)
    assert set(by_process) == set(expected)
    for key, want in expected.items():
        got = by_process[key]
        assert max(r["peak_memory_mb"] for r in got) == pytest.approx(want["peak_memory_mb"])
        assert max(r["peak_threads"] for r in got) == want["peak_threads"]
        if len(got) == 1:
            assert got[0]["mean_memory_mb"] == pytest.approx(want["mean_memory_mb"])
            assert got[0]["mean_cpu_utilization"] == pytest.approx(want["mean_cpu_utilization"])
    scraper = max(r["peak_memory_mb"] for r in by_process[next(k for k in expected if k[0] == "scraper")])
    processor = max(r["peak_memory_mb"] for r in by_process[next(k for k in expected if k[0] == "processor")])
    assert scraper > processor + 20, "the process that allocated more shows more memory"
    one = runner.invoke(_app(), ["processes", "--service", "processor", "--db", db, "--format", "json"])
    assert {r["service"] for r in json.loads(one.stdout)["rows"]} == {"processor"}
    # a misspelt service: refused with those held, not "no process metrics here: configure(process_metrics=True)"
    misspelt = runner.invoke(_app(), ["processes", "--service", "procesor", "--db", db])
    assert misspelt.exit_code == 2, misspelt.output
    assert ("no process metrics for service procesor (the store has process metrics of services: processor, "
            "scraper)") in misspelt.output, misspelt.output
    table = runner.invoke(_app(), ["processes", "--db", db])
    assert table.exit_code == 0 and "scraper" in table.output and "processor" in table.output, table.output
    hours = runner.invoke(_app(), ["processes", "--period", "hour", "--db", db, "--format", "json"])
    for row in json.loads(hours.stdout)["rows"]:
        period = datetime.fromisoformat(row["period"])
        assert (period.minute, period.second) == (0, 0)
