"""The tables sort by any column, as the analytics pages they replace did: a header is a button (keyboard
too), numbers biggest first then smallest first, names A to Z, an unknown figure (an unpriced cost) last."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.web._pages import wait_render
from tests.web.conftest import Watched


def _column(page: Any, view: str, key: str) -> list[str]:
    return page.eval_on_selector_all(f"#view-{view} tbody tr:not(.tree) td[data-key='{key}']",
                                     "tds => tds.map(td => td.dataset.value)")


def _sort(page: Any, view: str, label: str) -> str:
    """Press the header ``label`` of ``view`` by keyboard; returns its aria-sort."""
    button = page.locator(f"#view-{view} thead th button.sort", has_text=label).first
    button.focus()
    page.keyboard.press("Enter")
    return button.evaluate("b => b.closest('th').getAttribute('aria-sort')")


def _numbers(values: list[str]) -> list[float]:
    return [float(v) for v in values if v != ""]


def test_report_tables_sort_by_a_column_both_ways_with_unknown_figures_last(watched: Watched, report: Path) -> None:
    page = watched.page
    page.goto(report.as_uri())
    wait_render(page, 0)
    calls = sorted(_numbers(_column(page, "models", "llm_calls")))
    assert _sort(page, "models", "LLM calls") == "descending"
    assert _numbers(_column(page, "models", "llm_calls")) == calls[::-1]
    assert _sort(page, "models", "LLM calls") == "ascending"
    assert _numbers(_column(page, "models", "llm_calls")) == calls
    assert _sort(page, "models", "Cost / 1k calls") == "descending"
    costs = _column(page, "models", "cost_per_call")
    assert "" in costs and costs.index("") == len(costs) - costs.count("")  # unpriced: last, whichever way
    assert _numbers(costs) == sorted(_numbers(costs), reverse=True)
    assert _sort(page, "models", "Cost / 1k calls") == "ascending"
    costs = _column(page, "models", "cost_per_call")
    assert costs[-1] == "" and _numbers(costs) == sorted(_numbers(costs))
    assert _sort(page, "models", "Model") == "ascending"
    names = page.eval_on_selector_all("#view-models tbody tr td:first-child", "tds => tds.map(td => td.textContent)")
    named = [n for n in names if n != "(none)"]
    assert named == sorted(named, key=str.lower) and names[-1] == "(none)"
    # a trace's span tree row stays under its trace
    assert _sort(page, "traces-cost", "Duration ms") == "descending"
    page.locator("#view-traces-cost button.toggle").first.click()
    assert page.eval_on_selector("#view-traces-cost tr.tree:not([hidden])",
                                 "tr => tr.previousElementSibling.querySelector('button.toggle').getAttribute('aria-expanded')") == "true"
    watched.assert_clean(report.as_uri())
