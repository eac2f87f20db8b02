"""From a number to what is behind it: a project's or model's row opens the page filtered to it, whose
traces table lists that group's traces (as the older dashboards' click from a model to its jobs)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from otel_llm_analysis import Filters, TraceStore, top_traces
from tests.web._pages import page_kpis, renders, table_rows, wait_render
from tests.web.conftest import Server, Watched


def _drill(page: Any, view: str, key: str) -> dict[str, Any]:
    """Press the row ``key`` of ``view`` by keyboard (focus + Enter); returns the row's figures as shown before."""
    row = table_rows(page, view)[key]
    before = renders(page)
    button = page.locator(f"#view-{view} tbody tr td:first-child button.drill").filter(
        has_text=re.compile(f"^{re.escape(key)}$"))
    button.focus()
    page.keyboard.press("Enter")
    wait_render(page, before)
    return row


def _check(page: Any, api: TraceStore, view: str, key: str, select: str, filters: Filters) -> None:
    row = _drill(page, view, key)
    assert page.input_value(select) == key
    shown = page_kpis(page)
    assert shown["llm_calls"] == row["llm_calls"] and shown["cost_usd"] == row["cost_usd"], (shown, row)
    expected = [t.trace_id for t in top_traces(api, 10, "cost", filters)]
    traces = page.eval_on_selector_all("#view-traces-cost tbody tr:not(.tree) td:first-child",
                                       "tds => tds.map(td => td.title)")
    assert traces == expected and traces


def test_report_rows_of_a_project_and_a_model_open_the_page_filtered_to_them(
        watched: Watched, report: Path, api: TraceStore) -> None:
    page = watched.page
    page.goto(report.as_uri())
    wait_render(page, 0)
    _check(page, api, "models", "gpt-4o", "#f-model", Filters(model="gpt-4o"))
    assert "model=gpt-4o" in page.url  # a step the back button returns from
    page.go_back()
    page.wait_for_function("() => document.getElementById('f-model').value === ''")
    _check(page, api, "projects", "search", "#f-project", Filters(project="search"))
    # the "(none)" row names no project a filter could pick: it is not a button
    assert page.locator("#view-models tbody tr.none button.drill").count() == 0
    watched.assert_clean(report.as_uri())


def test_dashboard_model_row_opens_the_page_filtered_to_it(watched: Watched, server: Server, api: TraceStore) -> None:
    page = watched.page
    page.goto(server.url + "/")
    wait_render(page, 0)
    _check(page, api, "models", "claude-haiku-4-5", "#f-model", Filters(model="claude-haiku-4-5"))
    watched.assert_clean(server.url)
