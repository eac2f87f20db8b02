"""The filters chosen are in the page's address: a reload or a link opens the same figures, back and forward step
through the choices."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from otel_llm_analysis import TraceStore
from tests.web._pages import api_kpis, assert_same_numbers, choose, page_kpis, range_filters, renders, wait_render
from tests.web.conftest import Watched


def selected(page: Any) -> tuple[str, str, str]:
    return tuple(page.eval_on_selector(f"#{name}", "e => e.value") for name in ("f-range", "f-project", "f-model"))


def step(page: Any, move: str) -> None:
    before = renders(page)
    getattr(page, move)()
    wait_render(page, before)


def test_report_filters_survive_a_reload_and_follow_back_and_forward(watched: Watched, report: Path,
                                                                      api: TraceStore) -> None:
    """The report kept its filters in memory only: a reload showed the whole report again, a link could not
    name "last 7 days of project X", and the back button left the page. The filters are the address's
    fragment (#range=7d&project=X), read when the page opens and when back/forward moves through them."""
    page = watched.page
    page.goto(report.as_uri())
    wait_render(page, 0)
    project = page.eval_on_selector_all("#f-project option", "os => os.map(o => o.value).filter(Boolean)")[0]
    choose(page, "#f-range", "7d")
    choose(page, "#f-project", project)
    assert page.url.endswith(f"#range=7d&project={project}")
    week = range_filters(page, "7d", project)
    before = renders(page)
    page.reload()
    wait_render(page, 0 if renders(page) < before else before)
    assert selected(page) == ("7d", project, "")
    assert_same_numbers(page_kpis(page), api_kpis(api, week))
    step(page, "go_back")
    assert selected(page) == ("7d", "", "")
    assert_same_numbers(page_kpis(page), api_kpis(api, range_filters(page, "7d")))
    step(page, "go_forward")
    assert selected(page) == ("7d", project, "")
    assert_same_numbers(page_kpis(page), api_kpis(api, week))
    page.goto(report.as_uri() + "#range=7d&project=no-such-project")
    page.reload()
    wait_render(page, 0)
    assert selected(page) == ("7d", "", "")
    assert 'project "no-such-project"' in page.locator("#filter-note").inner_text()
    watched.assert_clean(report.as_uri())
