"""The search for calls only in GenAI metric points (``_unrecorded.unheld_calls``, hour by hour, and
``uncounted_days``) runs once for a command's rows and its window note, and not at all over a window holding no
GenAI metric point.

``summary --by`` searched twice on the same window (the rows' marks, then the window's note), and every summary,
comparison and trend searched a store without a single metric point: on a 1M-span store each search costs
6-9 ms, mostly DuckDB binding its plan, for an answer that one narrow look gives.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from otel_llm_analysis import Filters, TraceStore, compare, summary, totals
from otel_llm_analysis import _unrecorded
from otel_llm_analysis.cli import register
from tests.analysis._exports import calls_of, write_spans
from tests.support.synthetic import SERVICES, generate

MODEL, SERVICE, LOST_DAY = "gpt-4o", "support-bot", datetime(2026, 11, 19)


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """``lost``: two days of spans and metric points, the spans of ``MODEL``'s calls on ``SERVICE`` on the
    second day lost; ``spans``: the same spans, no metric point; and the metric points' file."""
    root = tmp_path_factory.mktemp("search_once")
    data = generate(root / "days", seed=11, traces=120, days=2, end=datetime(2026, 11, 20))
    gone = {c.span_id for c in calls_of(data.spans)
            if c.model == MODEL and c.service_name == SERVICE and c.start_time >= LOST_DAY}
    assert gone
    write_spans([s for s in data.spans if s.span_id not in gone], root / "traces.jsonl")
    paths = {"lost": str(root / "lost.duckdb"), "spans": str(root / "spans.duckdb"),
             "traces": root / "traces.jsonl", "metrics": root / "days" / "metrics.jsonl"}
    with TraceStore(paths["lost"]) as store:
        store.ingest([paths["traces"], paths["metrics"]])
    with TraceStore(paths["spans"]) as store:
        store.ingest([paths["traces"]])
    return paths


@pytest.fixture
def searches(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The searches run: ``unheld`` for each hour-by-hour search, ``uncounted`` for each look at the days
    whose points count no call."""
    ran: list[str] = []
    for name, said in (("unheld_calls", "unheld"), ("uncounted_days", "uncounted")):
        real = getattr(_unrecorded, name)
        monkeypatch.setattr(_unrecorded, name, lambda *args, real=real, said=said: ran.append(said) or real(*args))
    return ran


def run(*args: str):
    app = typer.Typer()
    register(app)
    return CliRunner().invoke(app, list(args))


def test_summary_by_searches_once_for_its_rows_and_its_window_note(stores: dict, searches: list[str]) -> None:
    result = run("summary", "--by", "model", "--db", stores["lost"], "--format", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    marked = {row["key"]: row["only_in_metrics"] for row in document["rows"] if row["only_in_metrics"]}
    assert list(marked) == [MODEL], marked
    assert any(note.startswith("partial: ") for note in document["notes"]), document["notes"]  # the window's
    assert searches == ["unheld", "uncounted"], searches  # was searched twice: rows, then the window's note


def test_a_window_without_metric_points_is_not_searched(stores: dict, searches: list[str]) -> None:
    with TraceStore(stores["spans"], read_only=True) as store:
        assert totals(store).only_in_metrics is None
        assert all(row.only_in_metrics is None for row in summary(store, "model", partial=True))
        assert all(row.only_in_metrics is None for row in compare(store, "model"))
    assert searches == [], searches


def test_the_answer_kept_is_the_searched_one_and_a_writable_store_searches_again(stores: dict, tmp_path: Path,
                                                                                searches: list[str]) -> None:
    """A read-only store keeps its last search (its data cannot change while it is open): the marks of each
    window are those a fresh search gives. A writable store searches each time: metric points ingested
    between two summaries are seen."""
    project = SERVICES[SERVICE][0]  # the project's window searches the store's: points carry no project
    windows = [Filters(), Filters(project=project), Filters(since=LOST_DAY), Filters(since=LOST_DAY)]
    with TraceStore(stores["lost"], read_only=True) as store:
        kept = [totals(store, window).only_in_metrics for window in windows]
    fresh = []
    for window in windows:
        with TraceStore(stores["lost"], read_only=True) as store:
            fresh.append(totals(store, window).only_in_metrics)
    assert kept == fresh and kept[0] is not None and kept[1] is not None and kept[2] is not None, kept
    assert searches.count("unheld") == 2 + 4, searches  # each window the one before it searched: kept
    with TraceStore(str(tmp_path / "grows.duckdb")) as store:
        store.ingest([stores["traces"]])
        assert totals(store).only_in_metrics is None
        store.ingest([stores["metrics"]])
        assert totals(store).only_in_metrics == fresh[0]


def test_totals_without_partial_marks_is_the_same_row_unsearched(stores: dict, searches: list[str]) -> None:
    with TraceStore(stores["lost"]) as store:
        unmarked = totals(store, partial=False)
        assert searches == [] and unmarked.only_in_metrics is None, searches
        marked = totals(store)
    assert searches == ["unheld", "uncounted"] and marked.only_in_metrics is not None, searches
    assert replace(marked, only_in_metrics=None) == unmarked


def test_the_dashboard_searches_only_the_window_whose_marks_it_shows(stores: dict, searches: list[str]) -> None:
    """``/api/status``, which the page polls every 2 s, read its span count off ``totals``, which searched the
    whole store for calls only in metric points each time (a writable store, as the dashboard's, keeps no
    search); the key figures searched the previous period too, and the budgets each budget's month, whose marks
    they do not show. Only the key figures' own window is searched now; the figures are the same."""
    from fastapi.testclient import TestClient

    from otel_llm_analysis import Budget
    from otel_llm_analysis.web.live import LiveStore
    from otel_llm_analysis.web.server import create_app
    from otel_llm_analysis.web.views import Query

    with TraceStore(stores["lost"]) as store:
        whole = summary(store, None)[0]
        day = summary(store, None, Filters(since=LOST_DAY - timedelta(days=1), until=LOST_DAY))[0]
        client = TestClient(create_app(LiveStore(store), Query(budgets=(Budget(100.0),))))
        assert client.get("/api/status").json()["spans"] == whole.spans
        assert searches == [], searches
        budget = client.get("/api/budgets").json()["rows"]
        assert [row["unpriced_calls"] for row in budget] == [whole.unpriced_calls], budget
        assert searches == [], searches
        cards = client.get("/api/summary", params={"since": LOST_DAY.isoformat()}).json()
        assert cards["only_in_metrics"] is not None and cards["previous_window"][1] == LOST_DAY.isoformat(), cards
        previous = {card["key"]: card["previous"] for card in cards["cards"]}
        assert (previous["spans"], previous["llm_calls"]) == (day.spans, day.llm_calls), previous
        assert searches == ["unheld", "uncounted"], searches  # the window's; the previous day's was searched too


def test_the_terminal_reports_budget_is_not_searched(stores: dict, searches: list[str]) -> None:
    """``print_report`` counted a budget month's unpriced calls with ``totals``, which searched that month for
    calls only in metric points it does not show: only the store's window (its figures' marks) is searched."""
    import io

    from rich.console import Console

    from otel_llm_analysis.report import print_report

    with TraceStore(stores["lost"], read_only=True) as store:
        unpriced = summary(store, None)[0].unpriced_calls  # the data's days are all in 2026-11
        out = io.StringIO()
        print_report(store, Console(file=out, width=200), monthly_budget=1.0)
    said = " ".join(out.getvalue().split())
    assert unpriced and "budget $1.0000 for 2026-11" in said and f"{unpriced} unpriced LLM calls not" in said, said
    assert searches == ["unheld", "uncounted"], searches


def test_a_project_window_without_calls_in_spans_does_not_search_the_whole_window(stores: dict,
                                                                                 searches: list[str]) -> None:
    """Whether a project's window without calls has an unknown cost asked ``totals`` of the window without the
    project for its calls, which searched it for calls only in metric points: its call count is enough."""
    with TraceStore(stores["lost"], read_only=True) as store:
        total = totals(store, Filters(project="nosuch"))
    assert (total.llm_calls, total.cost_usd, total.cost_unknown, total.only_in_metrics) == (0, 0.0, None, None)
    assert searches == [], searches
