"""Figures the store cannot give are said unknown or counted, never shown as $0 or cut off in silence."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from fastapi.testclient import TestClient

from otel_llm_analysis import Budget, TraceStore, search_logs
from otel_llm_analysis._filters import Filters
from otel_llm_analysis.web.live import LiveStore
from otel_llm_analysis.web.server import create_app
from otel_llm_analysis.web.views import Query
from tests.support.synthetic import generate
from tests.web._pages import wait_render
from tests.web.conftest import Watched, cli, serving


def _cards(body: dict) -> dict:
    return {card["key"]: card["value"] for card in body["cards"]}


def test_a_metrics_only_store_says_its_cost_is_unknown_not_zero(tmp_path: Path, watched: Watched) -> None:
    """An app exporting its gen_ai metric points and no spans (spans sampled out, another SDK's traces not
    shipped) made LLM calls that cost money: the spans hold none, so the cost card read "$0", as if free.
    The summary says the cost and tokens are unknown there and why, and the card shows "unknown"."""
    generate(tmp_path / "data", seed=3, traces=30, days=3, end=datetime(2026, 11, 20))
    with TraceStore(tmp_path / "metrics.duckdb") as store:
        store.ingest(tmp_path / "data" / "metrics.jsonl")
        assert store.query("SELECT count(*) FROM spans")[0][0] == 0
        assert store.query("SELECT count(*) FROM metric_points WHERE metric_name = 'otel_llm.cost'")[0][0] > 0
        live = LiveStore(store)
        body = TestClient(create_app(live, Query())).get("/api/summary").json()
        cards = _cards(body)
        assert cards["cost_usd"] is None and cards["cost_per_call"] is None and cards["total_tokens"] is None, cards
        assert "not recorded in spans" in body["cost_unknown"], body
        with serving(live) as url:
            page = watched.page
            page.goto(url + "/")
            wait_render(page, 0)
            card = page.locator("[data-kpi='cost_usd']")
            assert card.locator(".value").inner_text() == "unknown"
            assert "not recorded in spans" in card.inner_text()
            assert "$0" not in card.inner_text()
            watched.assert_clean(url + "/")


def test_a_store_without_llm_metrics_or_calls_still_costs_zero(tmp_path: Path) -> None:
    """Logs alone (no LLM call anywhere): nothing was spent that the store knows of, and $0 stays $0."""
    generate(tmp_path / "data", seed=3, traces=30, days=3, end=datetime(2026, 11, 20))
    with TraceStore(tmp_path / "logs.duckdb") as store:
        store.ingest(tmp_path / "data" / "logs.jsonl")
        body = TestClient(create_app(LiveStore(store), Query())).get("/api/summary").json()
        assert _cards(body)["cost_usd"] == 0 and body["cost_unknown"] is None, body


def test_report_logs_count_the_error_records_and_patterns_it_does_not_list(tmp_path: Path, watched: Watched) -> None:
    """The report listed the newest 20 ERROR records and the 20 commonest patterns of the window and said
    nothing of the others: a window of 100 errors read as 20. The page now says "newest 20 of N" and how many
    records and patterns it leaves out."""
    generate(tmp_path / "data", seed=5, traces=300, days=3, end=datetime(2026, 11, 20), error_rate=0.4)
    db = tmp_path / "store.duckdb"
    with TraceStore(db) as store:
        store.ingest(tmp_path / "data")
        errors = len(search_logs(store, None, "ERROR", limit=100_000))
        patterns = store.query(
            "SELECT count(DISTINCT body) FROM logs WHERE severity_text IN ('ERROR', 'FATAL')")[0][0]
        assert errors > 20, errors
        body = TestClient(create_app(LiveStore(store), Query())).get("/api/logs").json()
        assert body["records_total"] == errors and len(body["records"]) == 20
        assert body["patterns_total"] >= len(body["rows"]) and sum(r["count"] for r in body["rows"]) <= errors
        assert patterns >= body["patterns_total"]
    out = tmp_path / "report.html"
    cli("report", "--db", str(db), "-o", str(out))
    page = watched.page
    page.goto(out.as_uri())
    wait_render(page, 0)
    said = page.locator("#view-log-records").inner_text()
    assert f"Newest 20 of {errors:,} ERROR+ log records" in said, said
    assert f"{errors - 20:,} older" in said, said
    # the records' times are UTC as every time column's: the key column's header says so too
    headers = page.eval_on_selector_all("#view-log-records th", "els => els.map(e => e.textContent)")
    assert headers[0] == "Time (UTC)", headers
    watched.assert_clean(out.as_uri())


def test_a_budget_whose_spend_is_unknown_says_so_on_the_page(tmp_path: Path, watched: Watched) -> None:
    """``budget_status`` gives status "unknown" to a budget whose calls have no cost (a model without a
    price): the page's badge read "undefined" under a bar at "$0 of $10 (0.0% used) · $10 left". And a
    budget over a window whose calls only metric points record read "ok" at $0. Both now show an "unknown"
    badge and say the spend is unknown and why, with no "$0 of"."""
    generate(tmp_path / "data", seed=3, traces=60, days=3, end=datetime(2026, 11, 20))
    budgets = (Budget(10.0, model="my-finetune-v2", name="finetune"), Budget(10.0, name="overall"))
    query = Query(budgets=budgets, budget_month="2026-11", budget_as_of=date(2026, 11, 19))
    with TraceStore(tmp_path / "all.duckdb") as store:
        store.ingest(tmp_path / "data")
        live = LiveStore(store)
        rows = {r["budget"]: r for r in TestClient(create_app(live, query)).get("/api/budgets").json()["rows"]}
        assert rows["finetune"]["status"] == "unknown" and rows["finetune"]["calls"] > 0, rows
        with serving(live, query=query) as url:
            page = watched.page
            page.goto(url + "/")
            wait_render(page, 0)
            said = page.locator("[data-budget='finetune']").inner_text()
            assert "unknown" in said and "undefined" not in said and "$0 of" not in said, said
            watched.assert_clean(url + "/")
    with TraceStore(tmp_path / "metrics.duckdb") as store:
        store.ingest(tmp_path / "data" / "metrics.jsonl")
        row = TestClient(create_app(LiveStore(store), query)).get("/api/budgets").json()["rows"][1]
        assert row["budget"] == "overall" and row["status"] == "unknown", row
        assert "not recorded in spans" in row["cost_unknown"], row


def test_the_terminal_report_of_a_metrics_only_store_says_the_cost_is_unknown(tmp_path: Path) -> None:
    """``print_report`` (the end of ``otel-llm demo``) read "0 tokens · cost $0" and a budget "spent $0 (0.0%)
    · ok" for a store whose calls only metric points record; it says tokens, cost and the spend are unknown."""
    from rich.console import Console

    from otel_llm_analysis.report import print_report

    generate(tmp_path / "data", seed=3, traces=30, days=3, end=datetime(2026, 11, 20))
    with TraceStore(tmp_path / "metrics.duckdb") as store:
        store.ingest(tmp_path / "data" / "metrics.jsonl")
        console = Console(width=200, record=True, file=open("/dev/null", "w"))
        print_report(store, console, monthly_budget=50.0, month="2026-11")
    text = console.export_text()
    assert "cost $0" not in text and "tokens and cost unknown: not recorded in spans" in text, text
    said = " ".join(text[text.index("budget "):].split())
    assert "spent unknown · unknown" in said and "· ok" not in said and "not recorded in spans" in said, said


def test_a_project_without_calls_beside_projects_with_calls_costs_zero_not_unknown(tmp_path: Path) -> None:
    """Metric points carry no project: a project with no LLM call in a window whose other projects' calls
    are in spans read "unknown: not recorded in spans", the service's metric points taken for its own.
    Spans do record calls there, so that project's $0 is known; only a window whose spans hold no call
    of any project has its cost unknown."""
    from otel_llm_analysis import Filters
    from otel_llm_analysis._unrecorded import unrecorded_cost

    generate(tmp_path / "data", seed=3, traces=30, days=3, end=datetime(2026, 11, 20))
    with TraceStore(tmp_path / "all.duckdb") as store:
        store.ingest(tmp_path / "data")
        assert unrecorded_cost(store, Filters(project="no-calls-here"), 0) is None
    with TraceStore(tmp_path / "metrics.duckdb") as store:
        store.ingest(tmp_path / "data" / "metrics.jsonl")
        assert "not recorded in spans" in unrecorded_cost(store, Filters(project="no-calls-here"), 0)


def test_an_idle_window_whose_cumulative_points_repeat_costs_zero_not_unknown(tmp_path: Path) -> None:
    """A cumulative series is exported again and again with the same count while its process is idle:
    a window holding only such repeats had no call, yet read "cost unknown: not recorded in spans". Only
    points that grew in the window (a delta's, a cumulative series' growth or its start) mean calls."""
    import re

    from otel_llm_analysis import Filters
    from otel_llm_analysis._unrecorded import unrecorded_cost

    generate(tmp_path / "data", seed=3, traces=30, days=3, end=datetime(2026, 11, 20))
    metrics = tmp_path / "data" / "metrics.jsonl"
    last = metrics.read_text().splitlines()[-1]
    day = 86_400 * 10**9
    repeat = re.sub(r'"timeUnixNano":"(\d+)"', lambda m: f'"timeUnixNano":"{int(m.group(1)) + day}"', last)
    assert repeat != last
    metrics.write_text(metrics.read_text() + repeat + "\n")  # the same counts a day later: no call made
    with TraceStore(tmp_path / "metrics.duckdb") as store:
        store.ingest(metrics)
        idle = Filters(since=datetime(2026, 11, 20), until=datetime(2026, 11, 21))
        assert store.query("SELECT count(*) FROM metric_points WHERE time >= ? AND time < ?",
                           [idle.since, idle.until])[0][0] > 0
        assert unrecorded_cost(store, idle, 0) is None
        for since in (datetime(2026, 11, 17), datetime(2026, 11, 19)):  # a day's one point per series grew too
            busy = Filters(since=since, until=datetime(2026, 11, 20))
            assert "not recorded in spans" in unrecorded_cost(store, busy, 0), busy


def test_the_terminal_report_prints_service_names_as_text_not_markup(tmp_path: Path) -> None:
    """The "cost unknown" sentence names the services whose metric points count the calls; print_report
    prints through Rich markup, so a service named "[/bold]api" stopped the report with a MarkupError."""
    from rich.console import Console

    from otel_llm_analysis.report import print_report

    generate(tmp_path / "data", seed=3, traces=30, days=3, end=datetime(2026, 11, 20))
    metrics = tmp_path / "data" / "metrics.jsonl"
    metrics.write_text(metrics.read_text().replace('"stringValue":"rag-api"', '"stringValue":"[/bold]rag-api"'))
    with TraceStore(tmp_path / "metrics.duckdb") as store:
        store.ingest(metrics)
        console = Console(width=200, record=True, file=open("/dev/null", "w"))
        print_report(store, console, monthly_budget=50.0, month="2026-11")
    text = " ".join(console.export_text().split())
    assert "[/bold]rag-api" in text, text


def test_a_budget_and_forecast_of_a_month_partly_recorded_in_metric_points_say_at_least(
        tmp_path: Path, watched: Watched) -> None:
    """Spans on 18-20 Nov, only metric points on 23-24 Nov: the page read "$x of $1,000 (0.0% used) · ok ·
    projected month-end $y", the forecast "Month-end forecast $y", and the terminal report "spent $x · ok",
    as if the two days cost $0. Now the spend is "at least", the status unknown, the forecast unknown."""
    from rich.console import Console

    from otel_llm_analysis.report import print_report

    generate(tmp_path / "both", seed=3, traces=30, days=3, end=datetime(2026, 11, 20))
    generate(tmp_path / "later", seed=9, traces=20, days=2, end=datetime(2026, 11, 25))
    query = Query(budgets=(Budget(1000.0, name="overall"),), budget_month="2026-11",
                  budget_as_of=date(2026, 11, 26),  # a range through the 25th: the forecast's as-of day
                  filters=Filters(since=datetime(2026, 11, 17), until=datetime(2026, 11, 26)))
    with TraceStore(tmp_path / "partly.duckdb") as store:
        store.ingest(tmp_path / "both")
        store.ingest(tmp_path / "later" / "metrics.jsonl")
        live = LiveStore(store)
        (row,) = TestClient(create_app(live, query)).get("/api/budgets").json()["rows"]
        assert row["status"] == "unknown" and row["unrecorded_days"] == ["2026-11-23", "2026-11-24"], row
        with serving(live, query=query) as url:
            page = watched.page
            page.goto(url + "/")
            wait_render(page, 0)
            said = page.locator("[data-budget='overall']").inner_text()
            assert "at least $" in said and "unknown" in said and "projected month-end" not in said, said
            forecast = page.locator("p.note", has_text="Month-end forecast").first.inner_text()
            assert forecast.startswith("Month-end forecast unknown: spend at least $"), forecast
            watched.assert_clean(url + "/")
        console = Console(width=300, record=True, file=open("/dev/null", "w"))
        print_report(store, console, monthly_budget=1000.0, month="2026-11")
    said = " ".join(console.export_text().split())
    assert "spent at least $" in said and "· ok" not in said and "month-end" not in said, said
