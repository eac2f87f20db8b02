"""Names with no place to break (a fine-tuned model's id, a generated conversation id) keep the page in
the screen's width: they wrap whole, and nothing scrolls sideways but the tables' own scroll boxes."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.synthetic import generate
from tests.web._pages import wait_render
from tests.web.conftest import Watched, cli

#: a model id without a hyphen, slash or space to break at
MODEL = "ftgpt4o" + "Z" * 250


def test_report_with_an_unbreakable_model_name_does_not_scroll_sideways(watched: Watched, tmp_path: Path) -> None:
    """The cost chart's legend and the cheaper-models note ("MODEL: no price in the table ...") held the
    name on one line 2,000 px wide: the whole page scrolled sideways by 760 px at a laptop's width."""
    generate(tmp_path / "data", seed=3, traces=60, days=3)
    traces = tmp_path / "data" / "traces.jsonl"
    text = traces.read_text()
    assert '"gpt-4o"' in text
    traces.write_text(text.replace('"gpt-4o"', json.dumps(MODEL)))
    out = tmp_path / "long.html"
    cli("report", "--ingest", str(tmp_path / "data"), "--db", str(tmp_path / "l.duckdb"), "-o", str(out))
    page = watched.page
    page.goto(out.as_uri())
    wait_render(page, 0)
    legend = page.locator("[data-chart] .legend").all_inner_texts()
    assert any(MODEL in " ".join(t.split()).replace(" ", "") for t in legend), legend
    assert MODEL in page.locator("#view-recommend").inner_text().replace("\n", "")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"
    watched.assert_clean(out.as_uri())
