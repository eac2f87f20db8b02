"""The report and the dashboard show what the CLI has: each process's usage (``otel-llm processes``), when
each group last ran (``summary``'s ``last_seen``) and the logs narrowed by service, logger or trace."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest
from fastapi.testclient import TestClient

from otel_llm_analysis import Filters, TraceStore, log_patterns, process_usage, summary
from otel_llm_analysis.export import to_records
from otel_llm_analysis.web.live import LiveStore
from otel_llm_analysis.web.server import create_app
from otel_llm_analysis.web.views import Query
from tests.support.process_app import run_processes
from tests.support.synthetic import generate
from tests.web._pages import wait_render
from tests.web.conftest import Watched, cli

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Synthetic calls and logs plus two real processes' memory, CPU and thread metrics."""
    tmp = tmp_path_factory.mktemp("processes")
    generate(tmp / "calls", seed=5, traces=80, days=3, error_rate=0.3, spans_per_line=16)
    run_processes(tmp / "otel-data", {"scraper": 4, "processor": 2})
    db = tmp / "s.duckdb"
    with TraceStore(db) as store:
        store.ingest([tmp / "calls", tmp / "otel-data"])
    return db


@pytest.fixture(scope="module")
def client(store_path: Path) -> Iterator[tuple[TraceStore, TestClient]]:
    with TraceStore(store_path, read_only=True) as store:
        yield store, TestClient(create_app(LiveStore(store), Query()))


def test_the_processes_endpoint_gives_each_process_memory_cpu_and_threads(client: Any) -> None:
    """``otel-llm processes`` showed each process's memory, CPU and threads; the report and the dashboard did
    not show them anywhere. ``/api/processes`` gives ``process_usage``'s rows for the page's period."""
    store, http = client
    answer = http.get("/api/processes")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    expected = to_records(process_usage(store, body["period"], Filters()))
    assert {row["service"] for row in expected} == {"scraper", "processor"}
    assert [{k: row[k] for k in ("period", "service", "instance", "peak_memory_mb", "peak_threads", "points")}
            for row in body["rows"]] == [
        {k: (v.isoformat() if k == "period" else v) for k, v in row.items()
         if k in ("period", "service", "instance", "peak_memory_mb", "peak_threads", "points")} for row in expected]
    hourly = http.get("/api/processes", params={"period": "hour"}).json()
    assert hourly["period"] == "hour" and len(hourly["rows"]) == len(process_usage(store, "hour"))
    assert "`/api/processes`" in README.read_text("utf-8")


def test_the_tables_say_when_each_group_last_ran(client: Any) -> None:
    """``otel-llm summary`` has ``last_seen`` (when a model, project... last ran); the page's tables did not."""
    store, http = client
    rows = {row["key"]: row["last_seen"] for row in http.get("/api/models").json()["rows"]}
    expected = {row.key: row.last_seen.isoformat() for row in summary(store, "model")}
    assert rows == expected and all(rows.values())


def test_the_logs_endpoint_narrows_by_service_logger_and_trace(client: Any) -> None:
    """``otel-llm logs --patterns --service/--logger/--trace`` narrows the patterns; ``/api/logs`` refused those
    parameters (400 unknown parameter). It takes them, with the CLI's answers."""
    store, http = client
    everything = log_patterns(store, "ERROR", limit=20)
    trace_id = everything[0].example_trace_id
    for params in ({"service": "rag-api"}, {"logger": "otel_llm"}, {"trace_id": trace_id},
                   {"service": "nosuch"}):
        answer = http.get("/api/logs", params=params)
        assert answer.status_code == 200, answer.text
        expected = log_patterns(store, "ERROR", limit=20, **params)
        assert [(r["pattern"], r["count"]) for r in answer.json()["rows"]] == [(p.pattern, p.count) for p in expected]
    assert sum(p.count for p in log_patterns(store, "ERROR", limit=20, trace_id=trace_id)) < sum(
        p.count for p in everything)
    assert http.get("/api/logs", params={"trace_id": "not-hex"}).status_code == 400
    readme = " ".join(README.read_text("utf-8").split())
    assert "`/api/logs` also takes `service`, `logger` and `trace_id`" in readme


def test_the_report_shows_the_processes_and_when_each_group_last_ran(watched: Watched, store_path: Path,
                                                                      tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    cli("report", "--db", str(store_path), "-o", str(out), "--max-views", "4")
    page = watched.page
    page.goto(out.as_uri())
    wait_render(page, 0)
    with TraceStore(store_path, read_only=True) as store:  # the calls span 3 days: the page's periods are days
        expected = process_usage(store, "day")
    shown = page.eval_on_selector_all("#view-processes tbody tr", "trs => trs.map(tr => ["
                                      "tr.querySelector('[data-key=service]').textContent, "
                                      "Number(tr.querySelector('[data-key=peak_memory_mb]').dataset.value)])")
    want = sorted((row.service, row.peak_memory_mb) for row in expected)
    assert [service for service, _ in sorted(shown)] == [service for service, _ in want]
    assert [peak for _, peak in sorted(shown)] == pytest.approx([peak for _, peak in want])
    assert {"scraper", "processor"} <= {service for service, _ in shown}
    headers = page.eval_on_selector_all("#view-models th", "ths => ths.map(th => th.textContent)")
    assert "Last seen (UTC)" in headers
    assert "otel-llm logs --patterns --service" in page.locator("#view-logs").inner_text()
    watched.assert_clean(out.as_uri())
