"""Searching the logs on the dashboard: words in the message and the lowest severity, as ``otel-llm logs``
does, giving the matching records themselves (newest first), not only the error patterns."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from otel_llm_analysis import TraceStore
from otel_llm_analysis.logs import log_patterns, search_logs
from tests.web._pages import download, read_csv, renders, wait_render
from tests.web.conftest import Server, Watched


def _records(page: Any) -> list[list[str]]:
    return page.eval_on_selector_all(
        "#view-log-records tbody tr", "trs => trs.map(tr => [...tr.cells].map(td => td.dataset.value))")


def _patterns(page: Any) -> list[str]:
    return page.eval_on_selector_all("#view-logs tbody tr", "trs => trs.map(tr => tr.cells[0].textContent)")


def _expected(api: TraceStore, text: str | None, severity: str) -> list[list[str]]:
    return [[r.time.isoformat(), r.severity_text or "", r.service_name or "", r.body or "", r.trace_id or ""]
            for r in search_logs(api, text, severity, limit=20)]


def test_dashboard_searches_the_log_records_by_words_and_severity(watched: Watched, server: Server,
                                                                  api: TraceStore, tmp_path: Path) -> None:
    page = watched.page
    page.goto(server.url + "/")
    wait_render(page, 0)
    assert _records(page) == _expected(api, None, "ERROR")  # the newest errors, before any search
    before = renders(page)
    page.fill("#log-text", "Timed OUT")
    page.keyboard.press("Enter")
    wait_render(page, before)
    shown = _records(page)
    assert shown == _expected(api, "Timed OUT", "ERROR") and shown
    assert _patterns(page) == [p.pattern for p in log_patterns(api, "ERROR", "Timed OUT", limit=20)]
    saved = read_csv(download(page, "[data-export='log-records.csv']", tmp_path))  # the records shown, as shown
    assert [[r["time"], r["severity_text"], r["service_name"], r["body"], r["trace_id"]] for r in saved] == shown
    before = renders(page)
    page.fill("#log-text", "")
    page.keyboard.press("Enter")
    wait_render(page, before)
    before = renders(page)
    page.select_option("#log-severity", "INFO")
    wait_render(page, before)
    shown = _records(page)
    assert shown == _expected(api, None, "INFO") and {row[1] for row in shown} > {"ERROR"}
    watched.assert_clean(server.url)


def test_the_logs_endpoint_takes_words_and_a_severity(server: Server, api: TraceStore) -> None:
    answer = httpx.get(f"{server.url}/api/logs", params={"text": "timed out", "severity": "WARN"}, timeout=30)
    assert answer.status_code == 200, answer.text
    assert [r["body"] for r in answer.json()["records"]] == [r.body for r in search_logs(api, "timed out", "WARN",
                                                                                         limit=20)]
    bad = httpx.get(f"{server.url}/api/logs", params={"severity": "LOUD"}, timeout=30)
    assert bad.status_code == 400 and "severity" in bad.text
