"""What the report and the dashboard tests read off a page, and the API figures they compare it with."""

from __future__ import annotations

import csv
import io
import json
import math
from datetime import datetime
from pathlib import Path
from typing import Any

from otel_llm_analysis import Filters, summary, time_to_first_token, totals

CHARTS = ("cost", "forecast", "calls", "tokens", "p95", "error_rate")


def api_kpis(store: Any, filters: Filters) -> dict[str, float | None]:
    """The KPI figures straight from the analysis API (not through the web package)."""
    total = totals(store, filters)
    first = time_to_first_token(store, None, filters)
    return {
        "spans": total.spans, "traces": total.traces, "llm_calls": total.llm_calls,
        "total_tokens": total.total_tokens, "cost_usd": total.cost_usd, "cost_per_call": total.cost_per_call,
        "error_rate": total.error_rate, "p95_ms": total.p95_ms,
        "ttft_p95_ms": first[0].p95_ms if first else None,
    }


def page_kpis(page: Any) -> dict[str, float | None]:
    raw = page.eval_on_selector_all(
        "[data-kpi]", "els => Object.fromEntries(els.map(e => [e.dataset.kpi, e.dataset.value]))")
    return {k: (float(v) if v not in ("", None) else None) for k, v in raw.items()}


def assert_same_numbers(shown: dict[str, float | None], expected: dict[str, float | None]) -> None:
    assert set(shown) == set(expected), (shown, expected)
    for key, value in expected.items():
        if value is None:
            assert shown[key] is None, (key, shown[key])
        else:
            assert shown[key] is not None and math.isclose(shown[key], value, rel_tol=1e-9, abs_tol=1e-12), (
                key, shown[key], value)


def assert_kpi_text(page: Any) -> None:
    """Every card with a value shows a formatted figure (no '–' where there is one)."""
    cards = page.eval_on_selector_all(
        "[data-kpi]", "els => els.map(e => [e.dataset.value, e.querySelector('.value').textContent])")
    for value, text in cards:
        assert text.strip(), cards
        if value:
            assert text != "–", cards


def assert_charts_rendered(page: Any) -> list[str]:
    """Each chart has an SVG with drawn marks; returns the charts found."""
    found = page.eval_on_selector_all(
        "[data-chart]",
        "els => els.map(e => [e.dataset.chart, e.querySelectorAll('svg rect, svg path, svg circle').length])")
    names = [name for name, _ in found]
    assert sorted(names) == sorted(CHARTS), names
    empty = [name for name, marks in found if marks == 0]
    assert empty == [], f"charts without marks: {empty}"
    return names


def table_rows(page: Any, view: str) -> dict[str, dict[str, float | str | None]]:
    """A table's rows: first cell -> {column key: raw value} (a number, else its text: a time, a name)."""
    rows = page.eval_on_selector_all(
        f"#view-{view} tbody tr:not(.tree)",
        "trs => trs.map(tr => [tr.cells[0].textContent, "
        "Object.fromEntries([...tr.querySelectorAll('td[data-key]')].map(td => [td.dataset.key, td.dataset.value]))])")
    return {key: {k: _number(v) for k, v in values.items()} for key, values in rows}


def _number(value: str) -> float | str | None:
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        return value


def api_table(store: Any, by: str, filters: Filters) -> dict[str, dict[str, Any]]:
    return {("(none)" if r.key is None else str(r.key)): r for r in summary(store, by, filters)}


def wait_render(page: Any, before: int) -> None:
    page.wait_for_function("n => (window.otelLlmRenders || 0) > n", arg=before, timeout=30_000)


def renders(page: Any) -> int:
    return page.evaluate("window.otelLlmRenders || 0")


def choose(page: Any, select: str, value: str) -> None:
    """Pick ``value`` in a filter and wait until the page has re-rendered."""
    before = renders(page)
    page.select_option(select, value)
    wait_render(page, before)


def range_filters(page: Any, key: str, project: str | None = None, model: str | None = None) -> Filters:
    """The filters of the page's date range ``key`` (its since/until as the page holds them)."""
    ranges = page.evaluate("JSON.parse(document.getElementById('otel-llm-data').textContent).meta.choices.ranges")
    chosen = next(r for r in ranges if r["key"] == key)
    return Filters(since=_naive(chosen["since"]), until=_naive(chosen["until"]), project=project, model=model)


def _naive(text: str | None) -> datetime | None:
    if text is None:
        return None
    moment = datetime.fromisoformat(text)
    return moment.replace(tzinfo=None)


def download(page: Any, selector: str, out: Path) -> Path:
    """Click an export button and save what it downloads."""
    with page.expect_download() as info:
        page.click(selector)
    path = out / info.value.suggested_filename
    info.value.save_as(str(path))
    return path


def read_csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text("utf-8"))))


def read_json(path: Path) -> Any:
    return json.loads(path.read_text("utf-8"))


#: Contrast (WCAG 2 ratio) of what a page draws against the background it is drawn on: text (its colour),
#: chart text and marks (fill, else stroke; a line's stroke) and legend swatches, each against its nearest opaque background.
_CONTRASTS = """() => {
  const rgb = s => { const m = String(s).match(/[\\d.]+/g); return m ? m.slice(0, 4).map(Number) : null; };
  const lum = c => { const a = c.slice(0, 3).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 :
                                                        Math.pow((v + 0.055) / 1.055, 2.4); });
                     return 0.2126 * a[0] + 0.7152 * a[1] + 0.0722 * a[2]; };
  const bg = el => { for (let e = el; e; e = e.parentElement) { const c = rgb(getComputedStyle(e).backgroundColor);
                       if (c && (c.length < 4 || c[3] > 0)) return c; } return [255, 255, 255]; };
  const ratio = (a, b) => { const x = lum(a), y = lum(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); };
  const out = [];
  document.querySelectorAll("h1, h2, h3, p, .card .label, .card .value, .card .change, .card .unpriced, th, td, " +
                            "button, select, input, label, summary, .legend span, .budget .detail, .budget .name")
    .forEach(e => { if (e.getClientRects().length && e.textContent.trim())
                      out.push(["text", e.tagName + "." + e.className, ratio(rgb(getComputedStyle(e).color), bg(e))]); });
  document.querySelectorAll(".chart svg text:not(.spike-mark)").forEach(t => out.push(
    ["text", "chart " + t.textContent, ratio(rgb(getComputedStyle(t).fill), bg(t.closest(".chart")))]));
  document.querySelectorAll(".chart svg rect, .chart svg circle, .chart svg path, .chart svg text.spike-mark, " +
                            ".chart svg > line:not(.grid line)").forEach(m => {
    const cs = getComputedStyle(m), c = m.tagName !== "line" && cs.fill && cs.fill !== "none" ? cs.fill : cs.stroke;
    out.push(["mark", m.tagName + " " + c, ratio(rgb(c), bg(m.closest(".chart")))]); });
  document.querySelectorAll(".legend i:not(.none):not(.spike)").forEach(i => {
    const cs = getComputedStyle(i), c = i.classList.contains("dash") ? cs.borderTopColor : cs.backgroundColor;
    out.push(["mark", "legend " + i.parentElement.textContent + " " + c, ratio(rgb(c), bg(i.parentElement))]); });
  return { background: lum(bg(document.body)), items: out };
}"""


def contrasts(page: Any) -> dict[str, Any]:
    """The page background's luminance and each drawn item's contrast ratio (see ``_CONTRASTS``)."""
    return page.evaluate(_CONTRASTS)


def assert_readable(page: Any) -> None:
    """Text at 4.5:1 at least against its background, chart marks and swatches at 3:1 (WCAG 2 AA)."""
    found = contrasts(page)
    poor = [(kind, what, round(r, 2)) for kind, what, r in found["items"] if r < (4.5 if kind == "text" else 3)]
    assert poor == [], poor


class HeldRoutes:
    """A route handler holding the page's requests (``page.route(pattern, held)``) until :meth:`release`:
    a server answering late, at the moment a test chooses."""

    def __init__(self) -> None:
        self.routes: list[Any] = []
        self.holding = True

    def __call__(self, route: Any) -> None:
        if self.holding:
            self.routes.append(route)
        else:
            route.continue_()

    def release(self) -> None:
        """Let the held requests go on, and those to come."""
        self.holding = False
        for route in self.routes:
            route.continue_()
