"""A budget says what is left of it this month (or how far it is over), on the page and in its download,
as the analytics pages it replaces showed "budget remaining"."""

from __future__ import annotations

import json
import math
from pathlib import Path

from otel_llm_analysis import Budget, TraceStore, budget_status
from tests.support.synthetic import generate
from tests.web._pages import download, read_csv, wait_render
from tests.web.conftest import MONTH, Watched, cli


def test_report_budgets_say_what_is_left_or_over_on_the_page_and_in_the_download(
        watched: Watched, tmp_path: Path) -> None:
    data = generate(tmp_path / "data", seed=4, traces=40, days=10)
    db = tmp_path / "store.duckdb"
    with TraceStore(db) as store:
        store.ingest([str(f) for f in data.files])
        spent = budget_status(store, [Budget(1.0)], MONTH)[0].spent
    assert 0.02 <= spent < 1, spent  # the figures below are shown to 3 decimals
    budgets = tmp_path / "budgets.json"
    budgets.write_text(json.dumps([{"name": "roomy", "monthly": spent + 0.5}, {"name": "tight", "monthly": spent / 2}]))
    out = tmp_path / "report.html"
    cli("report", "--db", str(db), "-o", str(out), "--budgets", str(budgets), "--max-views", "10")
    page = watched.page
    page.goto(out.as_uri())
    wait_render(page, 0)
    details = dict(page.eval_on_selector_all(
        "[data-budget]", "els => els.map(e => [e.dataset.budget, e.querySelector('.detail').textContent])"))
    assert "$0.500 left" in details["roomy"], details
    assert f"${spent / 2:.3f} over" in details["tight"], details
    saved = {row["budget"]: row for row in read_csv(download(page, "[data-export='budgets.csv']", tmp_path))}
    assert math.isclose(float(saved["roomy"]["remaining_usd"]), 0.5, rel_tol=1e-9)
    assert math.isclose(float(saved["tight"]["remaining_usd"]), -spent / 2, rel_tol=1e-9)
    watched.assert_clean(out.as_uri())
