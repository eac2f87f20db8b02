"""``otel-llm check --max-cpu``: the highest process CPU utilization a real process's metrics wrote, as a gate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.support.app_store import cli as run, ingest, run_app

APP = """
import time
import otel_llm
otel_llm.configure(service_name="cruncher", process_metrics=True, metric_export_interval_ms=100)
end = time.perf_counter() + 1.0
n = 0
while time.perf_counter() < end:
    n += 1
otel_llm.shutdown()
"""


def _peak_cpu(metrics: Path) -> float:
    values = []
    for line in metrics.read_text().splitlines():
        for rm in json.loads(line)["resourceMetrics"]:
            for sm in rm["scopeMetrics"]:
                for metric in sm["metrics"]:
                    if metric["name"] == "process.cpu.utilization":
                        values += [float(p.get("asDouble", p.get("asInt"))) for p in metric["gauge"]["dataPoints"]]
    return max(values)


@pytest.fixture(scope="module")
def busy(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, float]:
    root = tmp_path_factory.mktemp("cpu")
    out = run_app(root, APP)
    return ingest(root, out), _peak_cpu(out / "metrics.jsonl")


def _cpu_row(result) -> dict:
    (row,) = [r for r in json.loads(result.stdout)["rows"] if r["check"] == "peak_cpu_utilization"]
    return row


def test_max_cpu_breached_below_the_peak_and_ok_above_it(busy) -> None:
    db, peak = busy
    assert peak > 0
    below = run("check", "--max-cpu", str(peak * 0.999), "--db", db, "-f", "json")
    assert below.exit_code == 1, below.output
    assert _cpu_row(below) == {"check": "peak_cpu_utilization", "observed": pytest.approx(peak),
                               "limit": pytest.approx(peak * 0.999), "status": "breached", "reason": None}
    above = run("check", "--max-cpu", "1", "--max-p95-ms", "1e9", "--db", db, "-f", "json")
    assert above.exit_code == 0, above.output
    assert _cpu_row(above)["status"] == "ok"
    assert all(r["check"] != "peak_cpu_utilization" for r in json.loads(run("check", "--db", db, "-f", "json").stdout)["rows"])


def test_max_cpu_without_process_metrics_is_no_data_and_out_of_range_is_a_usage_error(tmp_path: Path, busy) -> None:
    from tests.support import synthetic

    synthetic.generate(tmp_path / "data", seed=3, traces=5)
    db = str(tmp_path / "s.duckdb")
    assert run("ingest", str(tmp_path / "data"), "--db", db).exit_code == 0
    result = run("check", "--max-cpu", "0.5", "--db", db, "-f", "json")
    assert _cpu_row(result)["status"] == "no data"
    assert run("check", "--max-cpu", "1.5", "--db", busy[0]).exit_code == 2
