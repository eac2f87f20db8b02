"""Threshold checks (p95, error rate, TTFT, memory, spend) against values recomputed from the records."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from otel_llm_analysis import TraceStore
from otel_llm_analysis._filters import Filters
from otel_llm_analysis.alerts import MEMORY_METRIC, Thresholds, any_breached, check

from _ground_truth import close, is_llm, percentile, store_fixture
from test_cli import _app

loaded = store_fixture(seed=29, traces=120)


def _observed(rows):
    return {r.check: r for r in rows}


def test_observed_values_match_the_records_and_limits_decide(loaded):
    store, data = loaded
    calls = [s for s in data.spans if is_llm(s)]
    p95 = percentile([s.duration_ms for s in calls], 0.95)
    error_rate = sum(1 for s in calls if s.status_code == 2) / len(calls)
    cost = sum(s.cost_usd for s in calls if s.cost_usd is not None)

    # Limits just above the observed values: everything passes.
    rows = check(store, Thresholds(p95 * 1.001, error_rate + 1e-6, None, None, cost * 1.001))
    got = _observed(rows)
    assert close(got["p95_latency_ms"].observed, p95, rel=1e-6)
    assert close(got["error_rate"].observed, error_rate)
    assert close(got["cost_usd"].observed, cost, rel=1e-9)
    assert [r.status for r in rows] == ["ok", "ok", "ok"] and not any_breached(rows)
    assert set(got) == {"p95_latency_ms", "error_rate", "cost_usd"}  # unset limits are not checked

    # Just below: each one breaches on its own.
    rows = check(store, Thresholds(p95 * 0.999, error_rate - 1e-6, None, None, cost * 0.999))
    assert [r.status for r in rows] == ["breached"] * 3 and any_breached(rows)


def test_the_window_restricts_what_is_checked(loaded):
    store, data = loaded
    calls = [s for s in data.spans if is_llm(s)]
    since = max(s.start_time for s in calls) - timedelta(days=7)
    recent = [s for s in calls if s.start_time >= since]
    rows = check(store, Thresholds(None, 1.0, None, None, None), Filters.of(since=since))
    expected = sum(1 for s in recent if s.status_code == 2) / len(recent)
    assert close(_observed(rows)["error_rate"].observed, expected)


def test_no_data_is_reported_and_never_breaches(store):
    rows = check(store, Thresholds(1.0, 0.0, 1.0, 1.0, 0.0))
    assert [r.status for r in rows] == ["no data"] * 5
    assert not any_breached(rows)


def test_peak_memory_comes_from_the_sdks_process_metrics(tmp_path: Path):
    """The demo runs with process_metrics=True: its metrics.jsonl holds process.memory.usage."""
    out = tmp_path / "otel-data"
    done = subprocess.run([sys.executable, "-m", "otel_llm", "demo", "--turns", "3", "--output-dir", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    values = []
    for line in (out / "metrics.jsonl").read_text().splitlines():
        for rm in json.loads(line)["resourceMetrics"]:
            for sm in rm["scopeMetrics"]:
                for metric in sm["metrics"]:
                    if metric["name"] == MEMORY_METRIC:
                        points = (metric.get("sum") or metric.get("gauge"))["dataPoints"]
                        values += [float(p.get("asInt", p.get("asDouble"))) for p in points]
    assert values, "the demo's process metrics must include process memory"
    with TraceStore(tmp_path / "check.duckdb") as store:
        store.ingest([out])
        row = _observed(check(store, Thresholds(None, None, None, 1e6, None)))["peak_memory_mb"]
    assert close(row.observed, max(values) / (1024 * 1024))
    assert row.status == "ok"


def test_cli_exit_codes(loaded, tmp_path: Path):
    store, data = loaded
    db = str(tmp_path / "analysis.duckdb")
    store.close()
    runner = CliRunner()
    passing = runner.invoke(_app(), ["check", "--db", db, "--max-p95-ms", "1e9", "--max-error-rate", "1",
                                     "--format", "json"])
    assert passing.exit_code == 0, passing.output
    assert {r["status"] for r in json.loads(passing.stdout)["rows"]} <= {"ok", "no data"}
    failing = runner.invoke(_app(), ["check", "--db", db, "--max-p95-ms", "0.001"])
    assert failing.exit_code == 1
    assert "Exit codes" in runner.invoke(_app(), ["check", "--help"]).output


def test_peak_memory_of_a_project_is_its_services_not_every_process(tmp_path):
    """Metric points carry no project; a project's services do. ``check --project small`` must not
    fail on another project's process memory (it did: the peak was every service's)."""
    import orjson

    start = 1_764_590_400_000_000_000

    def service(name: str, project: str, memory_bytes: float, n: int) -> dict:
        resource = {"attributes": [{"key": "service.name", "value": {"stringValue": name}}]}
        span = {"traceId": f"{n:032x}", "spanId": f"{n:016x}", "name": "chat", "kind": 3,
                "startTimeUnixNano": str(start), "endTimeUnixNano": str(start + 10**8),
                "attributes": [{"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
                               {"key": "otel_llm.project", "value": {"stringValue": project}}]}
        metric = {"name": MEMORY_METRIC, "unit": "By",
                  "gauge": {"dataPoints": [{"timeUnixNano": str(start + 10**9), "asDouble": memory_bytes}]}}
        return {"spans": {"resourceSpans": [{"resource": resource, "scopeSpans": [{"spans": [span]}]}]},
                "metrics": {"resourceMetrics": [{"resource": resource, "scopeMetrics": [{"metrics": [metric]}]}]}}

    small, big = service("svc-small", "small", 100 * 2**20, 1), service("svc-big", "big", 900 * 2**20, 2)
    (tmp_path / "traces.jsonl").write_bytes(b"".join(orjson.dumps(s["spans"]) + b"\n" for s in (small, big)))
    (tmp_path / "metrics.jsonl").write_bytes(b"".join(orjson.dumps(s["metrics"]) + b"\n" for s in (small, big)))
    with TraceStore(":memory:") as store:
        assert store.ingest(tmp_path).bad_lines == []
        limits = Thresholds(None, None, None, 500.0, None)
        assert [(r.observed, r.status) for r in check(store, limits, Filters(project="small"))] == [(100.0, "ok")]
        assert [(r.observed, r.status) for r in check(store, limits, Filters(project="big"))] == [(900.0, "breached")]
        assert [r.observed for r in check(store, limits)] == [900.0]


def test_peak_memory_of_delta_points_is_the_level_they_add_up_to(tmp_path):
    """A delta sum point holds the change since the previous point, not the memory in use: a process
    at 300, 400 and 350 MB sends +300, +100 and -50 MB. The peak is 400 MB, in a window that starts
    after the first point too (its level still counts the points before). It was the largest change."""
    import orjson
    from datetime import datetime

    start = 1_764_590_400_000_000_000
    mb = 2**20

    def points(series: str, deltas: list[float]) -> dict:
        resource = {"attributes": [{"key": "service.name", "value": {"stringValue": "svc"}},
                                   {"key": "service.instance.id", "value": {"stringValue": series}}]}
        data = [{"startTimeUnixNano": str(start + i * 60 * 10**9), "timeUnixNano": str(start + (i + 1) * 60 * 10**9),
                 "asDouble": delta * mb} for i, delta in enumerate(deltas)]
        metric = {"name": MEMORY_METRIC, "unit": "By",
                  "sum": {"aggregationTemporality": 1, "isMonotonic": False, "dataPoints": data}}
        return {"resourceMetrics": [{"resource": resource, "scopeMetrics": [{"metrics": [metric]}]}]}

    lines = [points("a", [300, 100, -50]), points("b", [200, -100, 20])]  # two processes: peaks 400 and 200 MB
    (tmp_path / "metrics.jsonl").write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))
    limits = Thresholds(None, None, None, 390.0, None)
    with TraceStore(":memory:") as store:
        assert store.ingest(tmp_path).bad_lines == []
        assert [(r.observed, r.status) for r in check(store, limits)] == [(400.0, "breached")]
        after_first = datetime.utcfromtimestamp((start + 90 * 10**9) / 1e9)
        assert [r.observed for r in check(store, limits, Filters.of(since=after_first))] == [400.0]
        after_peak = datetime.utcfromtimestamp((start + 150 * 10**9) / 1e9)
        assert [r.observed for r in check(store, limits, Filters.of(since=after_peak))] == [350.0]


def _metrics_only(path: Path) -> None:
    """Process metrics of two services (3 memory points and 1 CPU point each), no spans, no logs."""
    import orjson

    start = 1_764_590_400_000_000_000

    def line(service: str, memory_mb: float) -> dict:
        resource = {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]}
        points = [{"timeUnixNano": str(start + i * 10**9), "asDouble": memory_mb * 2**20} for i in range(3)]
        metrics = [{"name": MEMORY_METRIC, "unit": "By", "gauge": {"dataPoints": points}},
                   {"name": "process.cpu.utilization", "unit": "1",
                    "gauge": {"dataPoints": [{"timeUnixNano": str(start), "asDouble": 0.25}]}}]
        return {"resourceMetrics": [{"resource": resource, "scopeMetrics": [{"metrics": metrics}]}]}

    path.write_bytes(b"".join(orjson.dumps(line(s, mb)) + b"\n" for s, mb in (("api", 100), ("worker", 300))))


def test_a_store_of_metrics_only_says_what_it_holds_and_what_its_checks_lack(tmp_path):
    """``check`` on a store holding only process metrics answered "no data" for every call check, which
    reads as an empty store. Each check without data says what it lacks (no LLM calls) and what the
    store does hold: metrics only, how many points, from which services."""
    _metrics_only(tmp_path / "metrics.jsonl")
    limits = Thresholds(2000.0, 0.05, None, 500.0, 1.0)
    with TraceStore(":memory:") as store:
        assert store.ingest(tmp_path).bad_lines == []
        rows = _observed(check(store, limits))
        later = check(store, limits, Filters.of(since=datetime(2027, 1, 1)))  # after every point
    assert {row.reason for row in later} == {
        "no LLM calls in the window; the store holds, in the window, nothing: no spans, metric points or logs",
        f"no {MEMORY_METRIC} points (written with configure(process_metrics=True)) in the window; the store "
        "holds, in the window, nothing: no spans, metric points or logs"}
    assert {name: row.status for name, row in rows.items()} == {
        "p95_latency_ms": "no data", "error_rate": "no data", "peak_memory_mb": "ok", "cost_usd": "no data"}
    assert rows["peak_memory_mb"].reason is None
    for name in ("p95_latency_ms", "error_rate", "cost_usd"):
        reason = rows[name].reason
        assert reason.startswith("no LLM calls"), reason
        assert "only metrics: 8 metric points from api, worker" in reason and "no spans" in reason, reason


def test_an_empty_store_or_window_says_it_holds_nothing(store):
    rows = check(store, Thresholds(1.0, 0.0, 1.0, 1.0, 0.0))
    assert all(row.reason.endswith("the store holds nothing: no spans, metric points or logs")
               for row in rows), [row.reason for row in rows]
    assert rows[3].reason.startswith(f"no {MEMORY_METRIC} points")


def test_the_check_command_notes_what_a_metrics_only_store_holds(tmp_path):
    _metrics_only(tmp_path / "metrics.jsonl")
    db = str(tmp_path / "metrics.duckdb")
    with TraceStore(db) as store:
        store.ingest(tmp_path / "metrics.jsonl")
    result = CliRunner().invoke(_app(), ["check", "--db", db, "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    reasons = {row["check"]: row["reason"] for row in document["rows"]}
    assert "8 metric points from api, worker" in reasons["p95_latency_ms"]


def test_the_check_table_says_what_a_metrics_only_store_holds(tmp_path):
    _metrics_only(tmp_path / "metrics.jsonl")
    db = str(tmp_path / "metrics.duckdb")
    with TraceStore(db) as store:
        store.ingest(tmp_path / "metrics.jsonl")
    result = CliRunner().invoke(_app(), ["check", "--db", db])
    assert result.exit_code == 0, result.output
    assert "8 metric points from api, worker" in " ".join(result.output.split()), result.output
