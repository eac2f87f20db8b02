"""``otel-llm report``: the file opens offline in Chromium and shows what the analysis API returns."""

from __future__ import annotations

import csv
import io
import json
import shutil
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from otel_llm_analysis import Filters, TraceStore, budget_status, load_budgets, summary, top_traces, totals
from otel_llm_analysis._unpriced import reasons_text
from otel_llm_analysis.budgets import Budget
from otel_llm_analysis.traces import span_trees
from otel_llm_analysis.trends import series as trend_series
from otel_llm_analysis.web.choices import choices
from otel_llm_analysis.web.live import LiveStore
from otel_llm_analysis.web.server import create_app
from otel_llm_analysis.web.static import plan
from otel_llm_analysis.web.views import Query, trends_view
from tests.support.sampled import sampled_runs
from tests.support.synthetic import generate
from tests.web._pages import (
    api_kpis,
    api_table,
    assert_charts_rendered,
    assert_kpi_text,
    assert_readable,
    assert_same_numbers,
    choose,
    contrasts,
    download,
    page_kpis,
    range_filters,
    read_csv,
    read_json,
    table_rows,
    wait_render,
)
from tests.web.conftest import ARTIFACTS, AS_OF, MONTH, Watched, cli, interrupted_store


def open_report(watched: Watched, path: Path) -> Any:
    page = watched.page
    page.goto(path.as_uri())
    wait_render(page, 0)
    return page


def test_report_opens_offline_without_errors_and_draws_every_chart(watched: Watched, report: Path) -> None:
    page = open_report(watched, report)
    assert_charts_rendered(page)
    watched.screenshot("report")
    watched.assert_clean(report.as_uri())
    assert {u for u in watched.requests} == {report.as_uri()}  # the file itself, nothing else


def test_report_kpis_equal_the_api(watched: Watched, report: Path, api: TraceStore) -> None:
    page = open_report(watched, report)
    assert_same_numbers(page_kpis(page), api_kpis(api, Filters()))
    assert_kpi_text(page)
    models = table_rows(page, "models")
    for key, row in api_table(api, "model", Filters()).items():
        assert models[key]["llm_calls"] == row.llm_calls
        assert models[key]["cost_share"] == (None if row.cost_share is None else pytest.approx(row.cost_share))
    watched.assert_clean(report.as_uri())


@pytest.mark.parametrize("range_key, project, model", [
    ("7d", None, None),
    ("2026-10", "support", None),
    ("30d", None, "gpt-4o"),
    ("", "search", None),
])
def test_report_filters_show_the_api_figures_of_the_filtered_range(
        watched: Watched, report: Path, api: TraceStore, range_key: str, project: str | None, model: str | None,
) -> None:
    page = open_report(watched, report)
    before = page_kpis(page)
    choose(page, "#f-range", range_key)
    if project:
        choose(page, "#f-project", project)
    if model:
        choose(page, "#f-model", model)
    filters = range_filters(page, range_key, project, model)
    expected = api_kpis(api, filters)
    shown = page_kpis(page)
    assert_same_numbers(shown, expected)
    assert shown != before  # the filter changed the numbers
    projects = table_rows(page, "projects")
    for key, row in api_table(api, "project", filters).items():
        assert projects[key]["llm_calls"] == row.llm_calls
        assert projects[key]["spans"] == row.spans
    if range_key == "7d":
        assert (filters.since.isoformat(), filters.until.isoformat()) == ("2026-11-13T00:00:00", "2026-11-20T00:00:00")
    watched.assert_clean(report.as_uri())


def test_report_with_few_filter_choices_combines_project_and_model(
        watched: Watched, db: Path, api: TraceStore, tmp_path: Path) -> None:
    out = tmp_path / "week.html"
    cli("report", "--db", str(db), "-o", str(out), "--since", "2026-11-13", "--until", "2026-11-20",
        "--max-views", "80")
    page = open_report(watched, out)
    assert_same_numbers(page_kpis(page), api_kpis(api, Filters.of("2026-11-13", "2026-11-20")))
    busiest = summary(api, "model", Filters.of("2026-11-13", "2026-11-20", project="support", calls_only=True))[0].key
    choose(page, "#f-project", "support")
    choose(page, "#f-model", busiest)
    assert page.input_value("#f-project") == "support"  # both stay chosen
    assert_same_numbers(page_kpis(page), api_kpis(api, Filters.of("2026-11-13", "2026-11-20", project="support",
                                                                  model=busiest)))
    watched.assert_clean(out.as_uri())


def test_report_exports_download_and_parse(watched: Watched, report: Path, api: TraceStore, tmp_path: Path) -> None:
    page = open_report(watched, report)
    choose(page, "#f-range", "30d")
    filters = range_filters(page, "30d")
    models = read_csv(download(page, "[data-export='models.csv']", tmp_path))
    expected = api_table(api, "model", filters)
    assert {row["key"] or "(none)" for row in models} == set(expected)
    for row in models:
        assert int(row["llm_calls"]) == expected[row["key"] or "(none)"].llm_calls
    traces = read_json(download(page, "[data-export='traces-cost.json']", tmp_path))
    assert [t["trace_id"] for t in traces] == [t.trace_id for t in top_traces(api, 10, "cost", filters)]
    everything = read_json(download(page, "#export-json", tmp_path))
    assert everything["filters"]["range"] == "30d"
    cards = {c["key"]: c["value"] for c in everything["views"]["summary"]["cards"]}
    expected_cards = api_kpis(api, filters)
    expected_cards["cost_per_1k_calls"] = expected_cards.pop("cost_per_call") * 1000  # as the card shows it
    assert_same_numbers(cards, expected_cards)
    watched.assert_clean(report.as_uri())


def test_report_whole_page_json_holds_the_per_1k_calls_cost_the_cards_and_tables_show(
        watched: Watched, report: Path, api: TraceStore, tmp_path: Path) -> None:
    """The header's Export JSON held the card "Cost per 1k calls" with the cost per call as its value, and the
    tables' "Cost / 1k calls" columns per call too, while each section's own download held the figure shown:
    a number read off the whole page's file was 1,000 times smaller than the page's. It now holds what the
    page shows, named ``cost_per_1k_calls``, in the cards and in every table."""
    page = open_report(watched, report)
    everything = read_json(download(page, "#export-json", tmp_path))
    card = next(c for c in everything["views"]["summary"]["cards"] if c["label"] == "Cost per 1k calls")
    assert card["key"] == "cost_per_1k_calls"
    assert card["value"] == pytest.approx(totals(api).cost_per_call * 1000, rel=1e-9)
    shown = float(page.locator("[data-kpi='cost_per_call']").get_attribute("data-value"))
    assert card["value"] == pytest.approx(shown * 1000, rel=1e-9)  # the card's figure, as its label says
    models = {row["key"]: row for row in everything["views"]["models"]["rows"]}
    for key, row in api_table(api, "model", Filters()).items():
        got = models[None if key == "(none)" else key]
        assert "cost_per_call" not in got
        if row.cost_per_call is None:
            assert got["cost_per_1k_calls"] is None
        else:
            assert got["cost_per_1k_calls"] == pytest.approx(row.cost_per_call * 1000, rel=1e-9)
    for group in everything["views"]["compare"]["groups"]:
        assert all("cost_per_1k_calls" in r and "cost_per_call" not in r for r in group["rows"]), group
    watched.assert_clean(report.as_uri())


def test_report_downloads_the_per_1k_calls_cost_its_tables_and_cards_show(
        watched: Watched, report: Path, api: TraceStore, tmp_path: Path) -> None:
    """The tables show "Cost / 1k calls" (the cost per call x 1,000); their CSV and JSON downloads held the cost
    per call under the same table, and the cards' CSV paired the label "Cost per 1k calls" with the per-call
    value: a figure read off the file was 1,000 times the page's. The downloads say per 1k calls and hold it."""
    page = open_report(watched, report)
    expected = {key: row for key, row in api_table(api, "model", Filters()).items()}
    for name in ("models.csv", "models.json"):
        path = download(page, f"[data-export='{name}']", tmp_path)
        rows = read_csv(path) if name.endswith(".csv") else read_json(path)
        assert "cost_per_call" not in rows[0] and "cost_per_1k_calls" in rows[0], (name, list(rows[0]))
        for row in rows:
            per_call = expected[row["key"] or "(none)"].cost_per_call
            got = row["cost_per_1k_calls"]
            if per_call is None:
                assert got in ("", None), (name, row)
            else:
                assert float(got) == pytest.approx(per_call * 1000, rel=1e-9), (name, row)
    cards = {row["key"]: row for row in read_csv(download(page, "[data-export='summary.csv']", tmp_path))}
    assert "cost_per_call" not in cards
    card = cards["cost_per_1k_calls"]
    assert card["label"] == "Cost per 1k calls"
    assert float(card["value"]) == pytest.approx(totals(api).cost_per_call * 1000, rel=1e-9)
    compare = read_csv(download(page, "[data-export='compare.csv']", tmp_path))
    assert compare and "cost_per_1k_calls" in compare[0] and "cost_per_call" not in compare[0]
    watched.assert_clean(report.as_uri())


def test_report_budget_bars_are_coloured_by_status_with_projection(
        watched: Watched, report: Path, api: TraceStore, budgets_file: Path) -> None:
    page = open_report(watched, report)
    expected = {s.budget: s for s in budget_status(api, load_budgets(budgets_file), MONTH, date.fromisoformat(AS_OF))}
    bars = page.eval_on_selector_all(
        "[data-budget]",
        "els => els.map(e => [e.dataset.budget, e.dataset.status,"
        " getComputedStyle(e.querySelector('.fill')).backgroundColor,"
        " getComputedStyle(e.querySelector('.fill')).backgroundImage, e.querySelector('.detail').textContent])")
    assert [b[0] for b in bars] == ["ok", "warning", "critical"]
    colours = {"ok": "rgb(0, 158, 115)", "warning": "rgb(230, 159, 0)"}
    for name, status, colour, image, detail in bars:
        assert status == expected[name].status == name
        if name in colours:
            assert colour == colours[name]
        else:  # critical: vermillion stripes, so it differs from the others in grey scale too
            assert "rgb(213, 94, 0)" in image
        assert "projected month-end" in detail
        assert ("runs out on " + expected[name].runs_out_on.isoformat()) in detail if expected[name].runs_out_on \
            else "does not run out" in detail
    page.locator("#view-budgets").screenshot(path=str(ARTIFACTS / "report-budgets.png"))
    watched.assert_clean(report.as_uri())


def test_report_trace_tree_opens_and_marks_failed_spans(watched: Watched, report: Path, api: TraceStore) -> None:
    page = open_report(watched, report)
    failing = next(t for t in top_traces(api, 10, "duration") if t.errors)
    row = page.locator("#view-traces-duration tbody tr", has=page.locator(f"td[title='{failing.trace_id}']"))
    tree = row.locator("xpath=following-sibling::tr[1]")
    assert tree.is_hidden()
    row.locator("button.toggle").click()
    assert tree.is_visible()
    spans = tree.locator(".span")
    assert spans.count() == len(failing.tree)
    failed = tree.locator(".span[data-status=error]")
    assert failed.count() == sum(1 for node in failing.tree if node.status_code == 2) > 0
    assert "✕" in failed.first.inner_text()
    tree.screenshot(path=str(ARTIFACTS / "report-trace-tree.png"))
    watched.assert_clean(report.as_uri())


def test_report_prints_without_controls(watched: Watched, report: Path) -> None:
    page = open_report(watched, report)
    page.emulate_media(media="print")
    assert page.locator("#filters").is_hidden()
    assert page.locator(".head .actions").first.is_hidden()
    watched.screenshot("report-print")
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(pdf) > 20_000
    watched.assert_clean(report.as_uri())


def test_report_on_a_narrow_laptop_keeps_tables_scrollable(watched: Watched, report: Path) -> None:
    page = watched.page
    page.set_viewport_size({"width": 1024, "height": 700})
    open_report(watched, report)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"
    watched.screenshot("report-1024")


def test_report_plan_falls_back_to_one_filter_at_a_time_then_to_the_costliest(api: TraceStore) -> None:
    offered = choices(api, Filters())
    assert len(offered.ranges) == 7 and len(offered.projects) == 3 and len(offered.models) == 7
    combined = plan(api, Filters(), offered, 7 * 4 * 8)
    assert combined.combined and not combined.omitted_models
    alone = plan(api, Filters(), offered, 7 * 11)
    assert not alone.combined and not alone.omitted_models
    assert not any(project and model for _, project, model in alone.states)
    trimmed = plan(api, Filters(), offered, 7 * 8)
    assert len(trimmed.ranges) * (1 + len(trimmed.projects) + len(trimmed.models)) <= 7 * 8
    assert trimmed.omitted_models == offered.models[len(trimmed.models):]  # the cheapest go first
    whole_only = plan(api, Filters(), offered, 1)
    assert [r.key for r in whole_only.ranges] == [""] and len(whole_only.states) == 1


def test_report_command_errors_are_one_line(db: Path, tmp_path: Path) -> None:
    bad = cli("report", "--db", str(db), "--since", "yesterday-ish", "-o", str(tmp_path / "x.html"), check=False)
    assert bad.returncode == 2 and bad.stderr.strip().splitlines() == [
        "error: not a time: 'yesterday-ish' (use ISO like 2026-11-01 or relative like 7d)"]
    missing = cli("report", "--db", str(tmp_path / "none.duckdb"), check=False)
    assert missing.returncode == 1 and "no database at" in missing.stderr and "Traceback" not in missing.stderr
    grouping = cli("report", "--db", str(db), "--compare", "colour", "-o", str(tmp_path / "y.html"), check=False)
    assert grouping.returncode == 2 and "unknown dimension 'colour'" in grouping.stderr


def test_report_ingests_first_with_the_ingest_summary(data_dir: Path, api: TraceStore, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    result = cli("report", "--ingest", str(data_dir), "--db", str(tmp_path / "fresh.duckdb"), "-o", str(out))
    spans = totals(api).spans
    assert f"+{spans} spans" in result.stdout  # the ingest command's own summary line
    assert out.stat().st_size > 50_000
    with TraceStore(tmp_path / "fresh.duckdb", read_only=True) as store:
        assert totals(store).spans == spans


def test_report_over_input_with_a_bad_line_is_written_and_exits_loaded_with_problems(tmp_path: Path) -> None:
    generate(tmp_path / "data", seed=3, traces=6)
    bad = tmp_path / "data" / "broken" / "traces.jsonl"
    bad.parent.mkdir()
    bad.write_text('{"resourceSpans": [oops\n')
    out = tmp_path / "r.html"
    result = cli("report", "--ingest", str(tmp_path / "data"), "--db", str(tmp_path / "p.duckdb"), "-o", str(out),
                 check=False)
    assert result.returncode == 3, result  # as `otel-llm ingest`: loaded, with the problems listed
    assert f"bad line {bad}:1" in result.stdout and out.stat().st_size > 10_000
    assert "pricing" not in result.stderr, result.stderr  # the ingest's own defaults, none made up by the caller


HOSTILE = "<!--<script></script><script>window.pwned=1</script><img src=x onerror=window.pwned=2>"


def test_report_shows_app_text_as_text_never_as_markup(watched: Watched, tmp_path: Path) -> None:
    generate(tmp_path / "data", seed=3, traces=12, spans_per_line=8)
    traces = tmp_path / "data" / "traces.jsonl"
    traces.write_text(traces.read_text().replace('"name":"answer_question"', json.dumps({"name": HOSTILE})[1:-1]))
    out = tmp_path / "hostile.html"
    cli("report", "--ingest", str(tmp_path / "data"), "--db", str(tmp_path / "h.duckdb"), "-o", str(out))
    page = open_report(watched, out)
    assert page.evaluate("window.pwned") is None
    assert HOSTILE in page.locator("#view-traces-cost").inner_text()
    watched.assert_clean(out.as_uri())


def test_report_of_an_empty_store_opens_and_says_there_is_no_data(watched: Watched, tmp_path: Path) -> None:
    TraceStore(tmp_path / "empty.duckdb").close()
    out = tmp_path / "empty.html"
    cli("report", "--db", str(tmp_path / "empty.duckdb"), "-o", str(out))
    page = open_report(watched, out)
    assert page_kpis(page)["spans"] == 0
    assert "No LLM calls in this range." in page.locator("#view-trends").inner_text()
    watched.assert_clean(out.as_uri())


def test_a_view_added_to_the_registry_shows_as_a_table_and_an_endpoint(
        watched: Watched, api: TraceStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from fastapi.testclient import TestClient

    from otel_llm_analysis.web.live import LiveStore
    from otel_llm_analysis.web.server import create_app
    from otel_llm_analysis.web.static import build_report, write_report
    from otel_llm_analysis.web.views import VIEWS, Column, Query, View

    def tools(store: Any, query: Query) -> dict[str, Any]:
        return {"rows": [{"key": "search_web", "calls": totals(store, query.filters).llm_calls}]}

    monkeypatch.setitem(VIEWS, "tools", View("tools", "Tools", tools, (Column("calls", "Calls", "int"),),
                                             Column("key", "Tool")))
    out = write_report(tmp_path / "tools.html", build_report(api, Query(), max_states=1))
    page = open_report(watched, out)
    assert table_rows(page, "tools") == {"search_web": {"calls": float(totals(api).llm_calls)}}
    assert page.locator("[data-export='tools.csv']").count() == 1
    watched.assert_clean(out.as_uri())
    served = TestClient(create_app(LiveStore(api), Query())).get("/api/tools", params={"project": "support"})
    support = totals(api, Filters(project="support")).llm_calls
    assert served.json() == {"rows": [{"key": "search_web", "calls": support}]}


def test_report_reads_budgets_yaml_beside_the_database(watched: Watched, db: Path, tmp_path: Path) -> None:
    shutil.copy(db, tmp_path / "copy.duckdb")
    (tmp_path / "budgets.yaml").write_text("monthly: 1.5\nprojects: {support: 0.1}\n")
    out = tmp_path / "b.html"
    cli("report", "--db", str(tmp_path / "copy.duckdb"), "-o", str(out), "--max-views", "1")
    page = open_report(watched, out)
    shown = page.eval_on_selector_all("[data-budget]", "els => els.map(e => [e.dataset.budget, e.dataset.status])")
    assert [name for name, _ in shown] == ["overall", "project=support"]
    watched.assert_clean(out.as_uri())


def test_report_of_a_store_an_interrupted_ingest_left_says_its_figures_can_be_off(
        watched: Watched, tmp_path: Path) -> None:
    db = interrupted_store(tmp_path, "refresh_nesting")
    out = tmp_path / "report.html"
    result = cli("report", "--db", str(db), "-o", str(out))
    assert "note: an ingest into" in result.stderr
    page = open_report(watched, out)
    note = page.locator("#filter-note").inner_text()
    assert note.startswith("Incomplete: an ingest into") and "interrupted" in note and "otel-llm ingest" in note
    watched.assert_clean(out.as_uri())


def test_report_of_a_store_whose_spans_miss_sampled_calls_says_what_its_figures_cover(
        watched: Watched, tmp_path: Path) -> None:
    sampled_runs(tmp_path / "data", kept=1, dropped=1)
    db, out = tmp_path / "sampled.duckdb", tmp_path / "report.html"
    cli("ingest", str(tmp_path / "data"), "--db", str(db))
    result = cli("report", "--db", str(db), "-o", str(out))
    assert "hold 2 of the 4 LLM calls otel-llm's metrics counted" in result.stderr
    page = open_report(watched, out)
    note = page.locator("#filter-note").inner_text()
    assert note.startswith(f"Part of the calls: the spans in {db} hold 2 of the 4 LLM calls"), note
    watched.assert_clean(out.as_uri())


def test_the_pages_csv_marks_text_a_spreadsheet_would_run_as_a_formula(watched: Watched, tmp_path: Path) -> None:
    """A model named ``=HYPERLINK(...)`` downloaded from the page's CSV button opened in a spreadsheet as a
    live formula (the CLI's and the API's CSV already marked it): the page writes the cell as the CLI does."""
    model = '=HYPERLINK("http://example.invalid/?leak","click")'
    generate(tmp_path / "data", seed=3, traces=6, spans_per_line=8)
    traces = tmp_path / "data" / "traces.jsonl"
    text = traces.read_text()
    assert '"gpt-4o-mini"' in text
    traces.write_text(text.replace('"gpt-4o-mini"', json.dumps(model)))
    db, out = tmp_path / "f.duckdb", tmp_path / "f.html"
    cli("report", "--ingest", str(tmp_path / "data"), "--db", str(db), "-o", str(out))
    page = open_report(watched, out)
    keys = {row["key"] for row in read_csv(download(page, "[data-export='models.csv']", tmp_path))}
    from_cli = {row["key"] for row in csv.DictReader(io.StringIO(
        cli("summary", "--by", "model", "--db", str(db), "--format", "csv").stdout))}
    assert "'" + model in keys and model not in keys
    assert keys == from_cli
    watched.assert_clean(out.as_uri())


def test_report_says_unpriced_where_a_cost_is_unknown_never_a_bare_dash(
        watched: Watched, report: Path, api: TraceStore) -> None:
    """A model without a price has no cost: its cells say "unpriced", and the cost cards say how many calls
    their figure leaves out (a total over the priced calls alone must not pass for the whole spend)."""
    page = open_report(watched, report)
    unpriced = [row for row in summary(api, "model") if row.llm_calls and row.cost_usd is None]
    assert unpriced, "the synthetic data has an unpriced model"
    for row in unpriced:
        cells = page.locator("#view-models tbody tr", has=page.get_by_text(str(row.key), exact=True))
        for key in ("cost_usd", "cost_share", "cost_per_call"):
            assert cells.locator(f"td[data-key={key}]").inner_text() == "unpriced", key
    total = totals(api)
    assert total.unpriced_calls > 0
    card = page.locator("[data-kpi=cost_usd]").inner_text()
    assert f"{total.unpriced_calls} unpriced LLM calls not included: {reasons_text(total.unpriced_reasons)}" \
        in " ".join(card.split()), card  # why they have none, as the CLI says it
    card = page.locator("[data-kpi=cost_per_call]").inner_text()
    assert f"per priced call: {total.priced_calls} of {total.llm_calls} LLM calls have a cost" in card, card
    priced_row = next(row for row in summary(api, "model") if row.cost_usd)
    cells = page.locator("#view-models tbody tr", has=page.get_by_text(str(priced_row.key), exact=True))
    assert cells.locator("td[data-key=cost_usd]").inner_text().startswith("$")
    watched.assert_clean(report.as_uri())


def _huge_store(tmp_path: Path) -> Path:
    """Three LLM calls of 11 trillion tokens each, 34 hours long: figures of a big account. Their cost stays
    unknown (above the SDK's $1,000 bound for one call, neither a producer's cost nor the ingest's price is
    taken), so the cards' widest figures are the tokens'."""
    def value(key: str, v: Any) -> dict[str, Any]:
        typed = {"stringValue": v} if isinstance(v, str) else {"doubleValue": v} if isinstance(v, float) \
            else {"intValue": str(v)}
        return {"key": key, "value": typed}

    start = 1_763_510_400_000_000_000  # 2025-11-19
    begins = [start + i * 10**9 for i in range(3)]
    spans = [{"traceId": f"{i + 1:032x}", "spanId": f"{i + 1:016x}", "name": "chat", "kind": 3,
              "startTimeUnixNano": str(begins[i]), "endTimeUnixNano": str(begins[i] + 123_456_789 * 10**6),
              "attributes": [value("gen_ai.operation.name", "chat"), value("gen_ai.request.model", "gpt-4o"),
                             value("gen_ai.usage.input_tokens", 9_876_543_210_000),
                             value("gen_ai.usage.output_tokens", 1_234_567_890_000)]} for i in range(3)]
    files = tmp_path / "huge"
    files.mkdir()
    (files / "traces.jsonl").write_text(json.dumps({"resourceSpans": [{
        "resource": {"attributes": [value("service.name", "big")]},
        "scopeSpans": [{"scope": {"name": "otel_llm"}, "spans": spans}]}]}) + "\n")
    out = tmp_path / "huge.html"
    cli("report", "--ingest", str(files), "--db", str(tmp_path / "huge.duckdb"), "-o", str(out))
    return out


@pytest.mark.parametrize("width", [360, 1366])
def test_report_shows_huge_figures_whole_in_the_cards_and_the_chart_axes(
        watched: Watched, tmp_path: Path, width: int) -> None:
    """A figure too wide for its card or a y-axis label too wide for the chart's margin was cut off
    ("$12,345,67" for $12,345,678,910; "0,000,000" for $10,000,000): every figure must show whole."""
    out = _huge_store(tmp_path)
    watched.page.set_viewport_size({"width": width, "height": 900})
    page = open_report(watched, out)
    cut = page.evaluate("""() => [...document.querySelectorAll('.card')].flatMap(card => {
        const text = document.createRange();
        text.selectNodeContents(card.querySelector('.value'));
        const box = card.getBoundingClientRect(), shown = text.getBoundingClientRect();
        return shown.right > box.right || shown.left < box.left ? [card.dataset.kpi] : [];
    })""")
    assert cut == [], cut
    assert page.locator("[data-kpi=total_tokens] .value").inner_text().replace("\n", "") == "33,333,333,300,000"
    clipped = page.evaluate("""() => [...document.querySelectorAll('[data-chart] svg')].flatMap(chart => {
        const width = chart.viewBox.baseVal.width;
        return [...chart.querySelectorAll('.axis text')].filter(t => {
            const b = t.getBBox();
            return b.x < 0 || b.x + b.width > width;
        }).map(t => chart.parentNode.dataset.chart + ': ' + t.textContent);
    })""")
    assert clipped == [], clipped
    watched.screenshot(f"report-huge-{width}")
    watched.assert_clean(out.as_uri())


def test_report_budgets_say_how_many_unpriced_calls_their_spend_leaves_out(
        watched: Watched, report: Path, api: TraceStore, budgets_file: Path) -> None:
    """A budget's spend sums priced calls: calls of a model without a price in the month are not in it,
    and a budget reading "ok" must say so rather than pass for the whole spend."""
    page = open_report(watched, report)
    month = Filters(since=datetime(2026, 11, 1), until=datetime(2026, 11, 20))
    left_out = totals(api, month).unpriced_calls
    assert left_out > 0, "the synthetic data has unpriced calls in the budgets' month"
    details = page.eval_on_selector_all("[data-budget] .detail", "els => els.map(e => e.textContent)")
    assert len(details) == len(load_budgets(budgets_file))
    for detail in details:
        assert f"{left_out} unpriced LLM calls not in the spend" in detail, detail
    watched.assert_clean(report.as_uri())


def test_report_tables_charts_and_controls_have_names_a_screen_reader_can_say(
        watched: Watched, report: Path, api: TraceStore) -> None:
    """Each table is named by its section, each heading is its title alone (not "Per model CSV JSON"),
    each export button says what it exports, a trace's toggle names its trace and opens from the
    keyboard, a chart is named by its title, a budget bar by its budget."""
    page = open_report(watched, report)
    for title in ("Per project", "Per model", "Log error patterns", "Most expensive traces", "Slowest traces"):
        assert page.get_by_role("heading", name=title, exact=True).count() == 1, title
        assert page.get_by_role("table", name=title, exact=True).count() == 1, title
        for kind in ("CSV", "JSON"):
            assert page.get_by_role("button", name=f"Download {title} as {kind}", exact=True).count() == 1
    assert page.get_by_role("img", name="Cost per day, stacked by model", exact=True).count() == 1
    for name in ("ok", "warning", "critical"):
        assert page.get_by_role("meter", name=f"{name} budget used", exact=True).count() == 1, name
    first = top_traces(api, 10, "cost")[0]
    toggle = page.locator("#view-traces-cost").get_by_role("button", name=f"Span tree of trace {first.trace_id}")
    toggle.focus()
    page.keyboard.press("Enter")
    assert toggle.get_attribute("aria-expanded") == "true"
    tree = page.locator("#view-traces-cost tr.tree").first
    assert tree.is_visible() and tree.locator(".span").count() == len(first.tree)
    watched.assert_clean(report.as_uri())


def test_report_cost_chart_names_the_models_it_cannot_stack_for_lack_of_a_price(
        watched: Watched, report: Path, api: TraceStore) -> None:
    """The cost chart stacks the models with a cost; one without a price is not in it, and its legend says so
    (a model missing from the legend would read as a model that cost nothing)."""
    page = open_report(watched, report)
    unpriced = [str(row.key) for row in summary(api, "model") if row.llm_calls and row.cost_usd is None]
    assert unpriced
    legend = page.locator("[data-chart=cost] .legend").inner_text()
    assert f"not in the chart, no price known: {', '.join(unpriced)}" in legend, legend
    watched.assert_clean(report.as_uri())


def test_report_says_which_tables_a_chosen_model_does_not_filter(watched: Watched, report: Path) -> None:
    """Tool calls, agent invocations, logs, budgets, process metrics, sessions, user messages and the cheaper
    models (which compare every model) carry no model of their own, so a model
    chosen above leaves them as they were: each such section says so while a model is chosen, the others do not."""
    page = open_report(watched, report)
    assert page.locator(".unfiltered").count() == 0
    choose(page, "#f-model", "gpt-4o")
    said = dict(page.eval_on_selector_all(
        ".unfiltered", "els => els.map(e => [e.closest('section').id, e.textContent])"))
    assert set(said) == {"view-tools", "view-agents", "view-logs", "view-budgets", "view-processes", "view-running",
                         "view-sessions", "view-queries", "view-recommend"}, said
    assert all(text == "Not filtered by model gpt-4o: this section shows the same for every model."
               for text in said.values()), said
    choose(page, "#f-model", "")
    assert page.locator(".unfiltered").count() == 0
    watched.assert_clean(report.as_uri())


def test_report_names_the_date_ranges_it_leaves_out_to_stay_small(
        watched: Watched, db: Path, api: TraceStore, tmp_path: Path) -> None:
    """Beyond --max-views, after projects and models, the last date ranges go: the page's note and the
    command name them, as they do the projects and models left out."""
    offered = [r.label for r in choices(api, Filters()).ranges]
    out = tmp_path / "small.html"
    result = cli("report", "--db", str(db), "-o", str(out), "--max-views", "3")
    page = open_report(watched, out)
    kept = page.eval_on_selector_all("#f-range option", "os => os.map(o => o.textContent)")
    left_out = [label for label in offered if label not in kept]
    assert kept == offered[:3] and left_out, (kept, offered)
    note = page.locator("#filter-note").inner_text()
    for label in left_out:
        assert label in note, (label, note)
        assert label in result.stderr, (label, result.stderr)
    watched.assert_clean(out.as_uri())


def test_report_span_tree_shows_a_long_span_name_whole(watched: Watched, tmp_path: Path) -> None:
    """A span's name is cut to what its column holds ('answer_question_for_the_us…'): the tree shows it
    whole, wrapped, and its figures still beside it."""
    generate(tmp_path / "data", seed=3, traces=12, spans_per_line=8)
    long_name = "answer_question_" + "_".join(f"step{i}" for i in range(40))
    traces = tmp_path / "data" / "traces.jsonl"
    traces.write_text(traces.read_text().replace('"name":"answer_question"', f'"name":"{long_name}"'))
    out = tmp_path / "long.html"
    cli("report", "--ingest", str(tmp_path / "data"), "--db", str(tmp_path / "l.duckdb"), "-o", str(out))
    page = open_report(watched, out)
    page.locator("#view-traces-cost button.toggle").first.click()
    root = page.locator("#view-traces-cost tr.tree .span .n").first
    assert root.inner_text() == long_name
    assert root.evaluate("n => n.scrollWidth <= n.clientWidth"), "the name is cut"
    watched.assert_clean(out.as_uri())


@pytest.mark.parametrize("width", [360, 1024])
def test_report_with_long_model_and_project_names_does_not_scroll_sideways(
        watched: Watched, tmp_path: Path, width: int) -> None:
    """A model named by its full resource path grew the Model filter past the screen: the whole page
    scrolled sideways and the figures sat off screen. The filters fit; the names stay whole in the choices."""
    model = ("projects/my-gcp-project-name/locations/europe-west4/publishers/google/models/"
             "gemini-2.5-flash-preview-05-20-tuned-customer-support-v7")
    project = "a-rather-long-project-name-for-the-customer-support-team-in-europe"
    generate(tmp_path / "data", seed=3, traces=6, spans_per_line=8)
    traces = tmp_path / "data" / "traces.jsonl"
    text = traces.read_text()
    for old in ("gpt-4o-mini", "search"):
        assert f'"{old}"' in text, old
    traces.write_text(text.replace('"gpt-4o-mini"', json.dumps(model)).replace('"search"', json.dumps(project)))
    out = tmp_path / "long.html"
    cli("report", "--ingest", str(tmp_path / "data"), "--db", str(tmp_path / "l.duckdb"), "-o", str(out))
    page = watched.page
    page.set_viewport_size({"width": width, "height": 800})
    open_report(watched, out)
    assert model in page.eval_on_selector_all("#f-model option", "os => os.map(o => o.value)")
    assert project in page.eval_on_selector_all("#f-project option", "os => os.map(o => o.value)")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"
    watched.assert_clean(out.as_uri())


def test_report_budget_bar_over_its_budget_gives_assistive_tech_the_true_percentage(
        watched: Watched, db: Path, api: TraceStore, tmp_path: Path) -> None:
    """A budget spent past 100 % had aria-valuenow above aria-valuemax (100), which is invalid ARIA: a screen
    reader may clamp it to 100 %. The meter's range holds its value, and its text says the true percentage."""
    spent = budget_status(api, [Budget(1.0)], MONTH, date.fromisoformat(AS_OF))[0].spent
    over = budget_status(api, [Budget(spent / 2.5)], MONTH, date.fromisoformat(AS_OF))[0]
    assert over.percent_used > 200
    out = tmp_path / "over.html"
    cli("report", "--db", str(db), "-o", str(out), "--max-views", "1", "--monthly", str(spent / 2.5))
    page = open_report(watched, out)
    meter = page.get_by_role("meter", name="overall budget used", exact=True)
    low, now, high = (float(meter.get_attribute(f"aria-value{k}") or "nan") for k in ("min", "now", "max"))
    assert low <= now <= high, (low, now, high)
    assert now == pytest.approx(over.percent_used, abs=0.05)
    assert meter.get_attribute("aria-valuetext") == f"{over.percent_used:.1f}% used"
    watched.assert_clean(out.as_uri())


def test_report_count_charts_have_whole_number_ticks(watched: Watched, tmp_path: Path) -> None:
    """A chart of counts (LLM calls, tokens per period) labelled its y axis 1.3, 2.5, 3.8 when its tallest
    bar was 5: a count axis has whole, distinct, rising ticks, the top one at least the tallest bar."""
    generate(tmp_path / "data", seed=3, traces=6)
    out = tmp_path / "few.html"
    cli("report", "--db", str(tmp_path / "few.duckdb"), "--ingest", str(tmp_path / "data"), "-o", str(out),
        "--max-views", "1")
    page = open_report(watched, out)
    for chart in ("calls", "tokens"):
        ticks = page.eval_on_selector_all(f"[data-chart={chart}] svg .axis text",
                                          "els => els.map(e => e.textContent)")[:5]  # the y axis's, bottom up
        values = [float(t.replace(",", "").rstrip("kM")) * {"k": 1e3, "M": 1e6}.get(t[-1], 1) for t in ticks]
        assert all(v == int(v) for v in values), (chart, ticks)
        assert values == sorted(set(values)) and values[0] == 0, (chart, ticks)
    with TraceStore(tmp_path / "few.duckdb", read_only=True) as store:
        tallest = max(p["calls"] for p in trends_view(store, Query())["points"])  # what the chart draws
    assert 0 < tallest < 10  # small enough that a quarter of the axis is a fraction
    top = int(page.eval_on_selector_all("[data-chart=calls] svg .axis text", "els => els[4].textContent"))
    assert top >= tallest
    watched.assert_clean(out.as_uri())


def test_report_says_a_project_named_empty_cannot_be_picked_apart_from_all_projects(
        watched: Watched, tmp_path: Path) -> None:
    """A project literally named "" was offered as a second option with the value "" of "all projects": two
    options, one value, and choosing either showed every project. It is not offered; the page says so, and
    "all projects" still shows the analysis API's totals (its calls included)."""
    generate(tmp_path / "data", seed=3, traces=12)
    traces = tmp_path / "data" / "traces.jsonl"
    traces.write_text(traces.read_text().replace('"summaries"', '""'))
    out, db = tmp_path / "empty-project.html", tmp_path / "e.duckdb"
    cli("report", "--db", str(db), "--ingest", str(tmp_path / "data"), "-o", str(out))
    with TraceStore(db, read_only=True) as store:
        keys = [row.key for row in summary(store, "project")]
        expected = api_kpis(store, Filters())
    assert "" in keys, keys  # the data holds the project named ""
    page = open_report(watched, out)
    values = page.eval_on_selector_all("#f-project option", "els => els.map(e => e.value)")
    assert len(values) == len(set(values)) and values.count("") == 1, values
    assert sorted(values[1:]) == sorted(k for k in keys if k), values
    assert 'A project named "" (empty) cannot be picked' in page.locator("#filter-note").inner_text()
    assert_same_numbers(page_kpis(page), expected)
    watched.assert_clean(out.as_uri())


def _wide_trace_data(out: Path, children: int) -> str:
    """Synthetic data plus ``children`` copies of one LLM call in its trace (a long agent loop); the trace's id."""
    generate(out, seed=3, traces=6, days=2, spans_per_line=8)
    traces = out / "traces.jsonl"
    for line in traces.read_text().splitlines():
        for resource in json.loads(line)["resourceSpans"]:
            for scope in resource["scopeSpans"]:
                calls = [s for s in scope["spans"] if s.get("parentSpanId") and {"key": "otel_llm.kind", "value": {
                    "stringValue": "llm_call"}} in s["attributes"]]
                if calls:
                    call = calls[0]
                    copies = [{**call, "spanId": f"{0xabc000000000 + i:016x}"} for i in range(children)]
                    batch = {"resourceSpans": [{"resource": resource["resource"],
                                                "scopeSpans": [{"scope": scope["scope"], "spans": copies}]}]}
                    with traces.open("a") as file:
                        file.write(json.dumps(batch) + "\n")
                    return str(call["traceId"])
    raise AssertionError("no LLM call in the synthetic data")


def test_report_embeds_a_bounded_span_tree_of_a_huge_trace_and_says_what_it_leaves_out(
        watched: Watched, tmp_path: Path) -> None:
    """A trace of thousands of spans (an agent loop) was embedded whole in the report, for each ranking it
    topped: 40,000 spans made a 4 MB file that took 12 s to open, and the dashboard's /api/traces sent them
    all on every load. The tree is cut to its first TREE_MAX spans in pre-order; the page says how many the
    trace has and where the whole tree is, and the file no longer grows with the trace."""
    from otel_llm_analysis.web.views import TREE_MAX

    sizes, trace_id = {}, ""
    for children in (1500, 4500):
        data = tmp_path / f"data-{children}"
        trace_id = _wide_trace_data(data, children)
        db, out = tmp_path / f"wide-{children}.duckdb", tmp_path / f"wide-{children}.html"
        cli("report", "--ingest", str(data), "--db", str(db), "-o", str(out), "--max-views", "4")
        sizes[children] = out.stat().st_size
    assert sizes[4500] - sizes[1500] < 3000 * 10, sizes  # an embedded span takes ~100 bytes
    with TraceStore(db, read_only=True) as store:
        total = len(span_trees(store, [trace_id])[trace_id])
        assert total > 4500
        client = TestClient(create_app(LiveStore(store), Query()))
        served = client.get("/api/traces").json()
        assert len(served["trees"][trace_id]) == TREE_MAX and served["tree_spans"][trace_id] == total
        whole = client.get(f"/api/traces/{trace_id}", params={"limit": total}).json()  # the whole tree, by id
        assert len(whole["spans"]) == whole["total_spans"] == total
    page = open_report(watched, out)
    page.locator(f"button[aria-label='Span tree of trace {trace_id}']").first.click()
    tree = page.locator("tr.tree:not([hidden])")
    assert tree.locator(".span").count() == TREE_MAX
    assert f"the first {TREE_MAX:,} of its {total:,} spans" in tree.inner_text()
    watched.assert_clean(out.as_uri())


def test_report_date_presets_name_the_days_they_cover_not_a_time_before_now(
        watched: Watched, report: Path, api: TraceStore) -> None:
    """"last 24 hours" on the page was the data's last calendar day (2026-11-19, twelve days before the
    report was made) while ``otel-llm summary --since 24h`` counts back from now: the same words, other
    figures. Each preset names the days it covers (the data's last ones) and equals the CLI's
    ``--since FIRST --until DAY-AFTER-LAST``."""
    page = open_report(watched, report)
    labels = dict(page.eval_on_selector_all("#f-range option", "els => els.map(e => [e.value, e.textContent])"))
    expected = {"24h": "last day of the data: 2026-11-19", "7d": "last 7 days of the data: 2026-11-13 – 2026-11-19",
                "30d": "last 30 days of the data: 2026-10-21 – 2026-11-19"}
    assert {key: labels[key] for key in expected} == expected
    choose(page, "#f-range", "7d")
    assert_same_numbers(page_kpis(page), api_kpis(api, Filters.of("2026-11-13", "2026-11-20")))
    watched.assert_clean(report.as_uri())


def test_report_time_columns_say_their_times_are_utc(watched: Watched, report: Path, api: TraceStore) -> None:
    """A trace's start and a log pattern's first and last seen read "2026-11-19 14:03:22" with no zone, in a
    page whose date filters are UTC days: a reader east or west of UTC took them for local time. The
    headers say UTC, and the times are the API's."""
    page = open_report(watched, report)
    for view, labels in (("traces-cost", ["Start (UTC)"]), ("logs", ["First seen (UTC)", "Last seen (UTC)"])):
        headers = page.eval_on_selector_all(f"#view-{view} th", "els => els.map(e => e.textContent)")
        for label in labels:
            assert label in headers, (view, headers)
    first = top_traces(api, 1)[0]
    cell = page.locator("#view-traces-cost tbody tr").first.locator("td[data-key=start_time]").inner_text()
    assert cell == first.start_time.strftime("%Y-%m-%d %H:%M:%S"), (cell, first.start_time)
    watched.assert_clean(report.as_uri())


def test_report_trends_figures_are_a_table_too_for_the_keyboard_and_the_csv(
        watched: Watched, report: Path, api: TraceStore, tmp_path: Path) -> None:
    """The trend charts' figures (calls, failures, cost, tokens, p95 per period) could only be read by
    hovering a mouse over a bar: not with the keyboard, not by a screen reader, not downloaded. They are a
    table as well (behind a keyboard-reachable disclosure) with CSV and JSON buttons, equal to the API's
    series."""
    page = open_report(watched, report)
    window = page.evaluate("JSON.parse(document.getElementById('otel-llm-data').textContent).meta.choices.ranges")
    whole = next(r for r in window if r["key"] == "")
    assert whole["since"] is None  # the whole window: the views close it with the data's days
    points = {p.period.strftime("%Y-%m-%d"): p for p in trend_series(api, "day", Filters())}
    summary_toggle = page.locator("#view-trends details summary")
    summary_toggle.focus()
    page.keyboard.press("Enter")
    rows = page.eval_on_selector_all(
        "#view-trends details tbody tr",
        "trs => trs.map(tr => [tr.cells[0].textContent, Object.fromEntries([...tr.querySelectorAll('td[data-key]')]"
        ".map(td => [td.dataset.key, td.dataset.value]))])")
    assert page.locator("#view-trends details tbody tr").first.is_visible()
    shown = {day: values for day, values in rows if int(values["calls"] or 0)}
    assert set(shown) == {day for day, p in points.items() if p.calls}
    for day, values in shown.items():
        point = points[day]
        assert int(values["calls"]) == point.calls and int(values["errors"]) == point.errors
        if point.cost_usd is None:  # a day whose calls all lack a price: unknown, shown empty, never $0
            assert values["cost_usd"] in ("", None)
        else:
            assert float(values["cost_usd"]) == pytest.approx(point.cost_usd, rel=1e-9)
        assert int(values["input_tokens"]) == point.input_tokens
    exported = read_csv(download(page, "[data-export='trends.csv']", tmp_path))
    assert sum(int(r["calls"]) for r in exported) == totals(api).llm_calls
    watched.assert_clean(report.as_uri())


def test_report_follows_a_dark_colour_scheme_and_stays_readable(watched: Watched, report: Path) -> None:
    """A browser set to dark mode (prefers-color-scheme: dark) got the white page; the report now turns dark
    with the system, its text, tables, budget bars and charts (axes, series, legend) still readable
    (WCAG AA contrast), and light mode keeps the light page."""
    page = watched.page
    page.emulate_media(color_scheme="dark")
    page = open_report(watched, report)
    page.locator("details.figures summary").first.click()  # the trends' table too
    found = contrasts(page)
    assert found["background"] < 0.05, found["background"]
    assert len([i for i in found["items"] if i[0] == "mark"]) > 20
    assert_readable(page)
    watched.screenshot("report-dark")
    page.emulate_media(color_scheme="light")
    assert contrasts(page)["background"] > 0.9
    watched.assert_clean(report.as_uri())


def test_report_shows_bidi_and_control_characters_in_names_as_escapes(watched: Watched, tmp_path: Path) -> None:
    """A name from the app holding U+202E (RIGHT-TO-LEFT OVERRIDE) reversed the text after it on the page:
    the cost chart's legend and the cheaper-models note read backwards ("...:elbat eht ni ecirp on"). Such
    characters (bidi controls, C0/C1 controls) show as escapes, as the terminal's tables show them; the
    filter still takes the name as it is, and Arabic text shows as it is."""
    name = "my-finetune\u202eevil\u0007 عربي"
    generate(tmp_path / "data", seed=3, traces=12, spans_per_line=8)
    traces = tmp_path / "data" / "traces.jsonl"
    traces.write_text(traces.read_text().replace('"my-finetune-v2"', json.dumps(name)))
    out = tmp_path / "bidi.html"
    cli("report", "--ingest", str(tmp_path / "data"), "--db", str(tmp_path / "b.duckdb"), "-o", str(out),
        "--max-views", "100")
    page = open_report(watched, out)
    shown = page.evaluate("document.body.innerText")
    assert "\u202e" not in shown and "\u0007" not in shown
    assert "my-finetune\\u202eevil\\u0007 عربي" in page.locator("#view-models").inner_text()
    assert "my-finetune\\u202eevil\\u0007 عربي" in page.locator("[data-chart=cost] .legend").inner_text()
    before = page.evaluate("window.otelLlmRenders")
    picked = page.evaluate("""name => { const s = document.getElementById('f-model');
      const o = [...s.options].find(o => o.value === name); if (!o) return false;
      s.value = o.value; s.dispatchEvent(new Event('change')); return true; }""", name)
    assert picked, "the option's value is the name itself"
    wait_render(page, before)
    assert page_kpis(page)["llm_calls"]  # the filter finds the model's calls
    watched.assert_clean(out.as_uri())


def test_report_command_names_left_out_models_as_text_not_markup(tmp_path: Path) -> None:
    """The report command named the models it left out through Rich markup: a model named "[/evil]" crashed
    it (a closing tag with nothing open) and a U+202E in a name reversed the terminal line. Names are printed
    as text, their bidi and control characters as escapes (``terminal.visible``)."""
    name = "[/evil]\u202ex"
    generate(tmp_path / "data", seed=3, traces=12, spans_per_line=8)
    traces = tmp_path / "data" / "traces.jsonl"
    traces.write_text(traces.read_text().replace('"my-finetune-v2"', json.dumps(name)))
    done = cli("report", "--ingest", str(tmp_path / "data"), "--db", str(tmp_path / "m.duckdb"),
               "-o", str(tmp_path / "m.html"), "--max-views", "2", check=False)
    assert done.returncode == 0, done.stderr
    assert "[/evil]\\u202ex" in done.stderr and "\u202e" not in done.stderr, done.stderr
