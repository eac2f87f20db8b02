"""The report's tools, agents and retries tables, and compare's turn columns, show what the analysis API returns."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from otel_llm_analysis import Filters, TraceStore, agents, compare, retries, tools
from tests.web._pages import choose, range_filters, wait_render
from tests.web.conftest import Watched


def open_report(watched: Watched, path: Path) -> Any:
    watched.page.goto(path.as_uri())
    wait_render(watched.page, 0)
    return watched.page


def shown(page: Any, view: str) -> dict[str, dict[str, str]]:
    """A table's rows as the page holds them: first cell -> {column key: raw value text}."""
    rows = page.eval_on_selector_all(
        f"#view-{view} tbody tr",
        "trs => trs.map(tr => [tr.cells[0].textContent, "
        "Object.fromEntries([...tr.querySelectorAll('td[data-key]')].map(td => [td.dataset.key, td.dataset.value]))])")
    return dict(rows)


def same(text: str, value: Any) -> bool:
    if value is None:
        return text == ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return math.isclose(float(text), value, rel_tol=1e-9, abs_tol=1e-12)
    return text == str(value)


def assert_rows(page_rows: dict[str, dict[str, str]], api_rows: list[Any], key: str) -> None:
    assert set(page_rows) == {str(getattr(r, key)) for r in api_rows}
    for row in api_rows:
        cells = page_rows[str(getattr(row, key))]
        for column, text in cells.items():
            assert same(text, getattr(row, column)), (getattr(row, key), column, text, getattr(row, column))


def test_report_tools_agents_and_retries_tables_equal_the_api(watched: Watched, report: Path, api: TraceStore) -> None:
    page = open_report(watched, report)
    api_tools = tools(api)
    assert api_tools and agents(api)
    assert_rows(shown(page, "tools"), api_tools, "tool")
    assert [row[0] for row in page.eval_on_selector_all("#view-tools tbody tr", "trs => trs.map(t => [t.cells[0].textContent])")] == [
        r.tool for r in api_tools]  # slowest first, as the API
    assert_rows(shown(page, "agents"), agents(api), "agent")
    retried = shown(page, "retries")
    overall = retries(api)[0]
    assert same(retried["all projects"]["first_time_right_rate"], overall.first_time_right_rate)
    assert same(retried["all projects"]["attempts"], overall.attempts)
    for row in retries(api, "project"):
        assert same(retried[row.key]["success_rate"], row.success_rate)
    assert page.locator("[data-export='tools.csv']").count() == 1
    page.locator("#view-tools").scroll_into_view_if_needed()
    watched.screenshot("report-agents")
    watched.assert_clean(report.as_uri())


@pytest.mark.parametrize("range_key, project", [("30d", None), ("", "support")])
def test_report_tool_and_agent_tables_follow_the_filters(watched: Watched, report: Path, api: TraceStore,
                                                         range_key: str, project: str | None) -> None:
    page = open_report(watched, report)
    choose(page, "#f-range", range_key)
    if project:
        choose(page, "#f-project", project)
    filters = range_filters(page, range_key, project=project)
    assert_rows(shown(page, "tools"), tools(api, filters), "tool")
    assert_rows(shown(page, "agents"), agents(api, filters), "agent")
    watched.assert_clean(report.as_uri())


def test_report_compare_shows_turn_success_against_attempts(watched: Watched, report: Path, api: TraceStore) -> None:
    page = open_report(watched, report)
    rows = page.eval_on_selector_all(
        "#view-compare table", "ts => ts.map(t => [...t.querySelectorAll('tbody tr')].map(tr => [tr.cells[0].textContent, "
        "Object.fromEntries([...tr.querySelectorAll('td[data-key]')].map(td => [td.dataset.key, td.dataset.value]))]))")
    by_retries = {r.key: r for r in compare(api, "run_config.max_retries")}
    table = next(dict(t) for t in rows if set(dict(t)) == set(by_retries))
    for key, row in by_retries.items():
        for column in ("turns", "turn_success_rate", "first_time_right_rate", "mean_attempts", "mean_turn_ms"):
            assert same(table[key][column], getattr(row, column)), (key, column)
    watched.assert_clean(report.as_uri())


def test_tools_agents_and_retries_endpoints_answer_with_the_api_rows(api: TraceStore) -> None:
    """``/api/tools``, ``/api/agents``, ``/api/retries``: the same rows, filtered; a model filter leaves tools alone."""
    from fastapi.testclient import TestClient

    from otel_llm_analysis.web.live import LiveStore
    from otel_llm_analysis.web.server import create_app
    from otel_llm_analysis.web.views import Query

    live = LiveStore(api)  # the session's store: released, not stopped, at the end
    try:
        _endpoints_answer_with_the_api_rows(TestClient(create_app(live, Query())), api)
    finally:
        live.release()


def _endpoints_answer_with_the_api_rows(client: Any, api: TraceStore) -> None:
    spec = client.get("/openapi.json").json()
    for name in ("tools", "agents", "retries"):
        assert f"/api/{name}" in spec["paths"] and f"/api/export/{name}.{{fmt}}" in spec["paths"]
    support = Filters(project="support")
    served = client.get("/api/tools", params={"project": "support"}).json()["rows"]
    assert [(r["tool"], r["calls"]) for r in served] == [(r.tool, r.calls) for r in tools(api, support)]
    served = client.get("/api/tools", params={"model": "gpt-4o"}).json()["rows"]  # tools have no model
    assert [(r["tool"], r["calls"]) for r in served] == [(r.tool, r.calls) for r in tools(api)]
    served = client.get("/api/agents", params={"since": "2026-11-01"}).json()["rows"]
    november = agents(api, Filters.of("2026-11-01"))
    assert [(r["agent"], r["invocations"], r["success_rate"]) for r in served] == [
        (r.agent, r.invocations, r.success_rate) for r in november] and november
    rows = client.get("/api/retries").json()["rows"]
    assert rows[-1]["key"] == "all projects" and rows[-1]["turns"] == retries(api)[0].turns
    assert client.get("/api/export/tools.csv").text.splitlines()[0].startswith("tool,calls")
