"""Budget status, thresholds, projections and the budgets file."""

from __future__ import annotations

import json
import math
from datetime import date, timedelta

import pytest

from otel_llm_analysis.budgets import (
    Budget,
    any_critical,
    budget_status,
    load_budgets,
    parse_budgets,
    status_for,
)

from _ground_truth import is_llm, store_fixture

MONTH = "2026-11"
AS_OF = date(2026, 11, 12)


loaded = store_fixture(seed=21, traces=150, days=40)


def _spent(data, project=None, model=None, until=AS_OF):
    return sum(
        s.cost_usd or 0.0
        for s in data.spans
        if is_llm(s)
        and date(2026, 11, 1) <= s.start_time.date() <= until
        and (project is None or s.project == project)
        and (model is None or model in (s.model, s.response_model))
    )


@pytest.mark.parametrize(
    ("percent", "status"),
    [(0.0, "ok"), (69.99, "ok"), (70.0, "warning"), (89.99, "warning"), (90.0, "critical"), (140.0, "critical")],
)
def test_status_thresholds(percent, status):
    assert status_for(percent) == status


@pytest.mark.parametrize(("fraction", "status"), [(0.6999, "ok"), (0.70, "warning"), (0.8999, "warning"), (0.90, "critical")])
def test_thresholds_end_to_end_with_budgets_sized_to_the_spend(loaded, fraction, status):
    store, data = loaded
    spent = _spent(data)
    (result,) = budget_status(store, [Budget(spent / fraction)], MONTH, AS_OF)
    assert fraction * 100 - 0.1 < result.percent_used <= fraction * 100 + 1e-9  # cut to the tenth shown
    assert result.status == status
    assert any_critical([result]) == (status == "critical")


def test_spent_remaining_and_projection(loaded):
    store, data = loaded
    project = data.spans[0].project
    budgets = [Budget(100.0), Budget(0.5, project=project), Budget(0.2, model="gpt-4o-2024-08-06"),
               Budget(0.2, model="gpt-4o")]
    overall, per_project, per_snapshot, per_model = budget_status(store, budgets, MONTH, AS_OF)
    for result, spent in (
        (overall, _spent(data)),
        (per_project, _spent(data, project=project)),
        (per_snapshot, _spent(data, model="gpt-4o-2024-08-06")),
        (per_model, _spent(data, model="gpt-4o")),  # the requested name covers its dated snapshot
    ):
        assert spent > 0
        assert result.spent == pytest.approx(spent)
        assert result.remaining == pytest.approx(result.monthly_usd - spent)
        assert result.burn_rate_per_day == pytest.approx(spent / 12)
        assert result.projected_month_end == pytest.approx(spent / 12 * 30)
        assert (result.month, result.as_of) == (MONTH, AS_OF)
    assert (overall.budget, per_project.budget) == ("overall", f"project={project}")


def test_run_out_day_in_the_future_past_and_never(loaded):
    store, data = loaded
    spent = _spent(data)
    burn = spent / 12
    # runs out later this month: the first day whose projected cumulative reaches it
    limit = spent + burn * 5.5
    (future,) = budget_status(store, [Budget(limit)], MONTH, AS_OF)
    assert future.runs_out_on == AS_OF + timedelta(days=math.ceil((limit - spent) / burn)) == date(2026, 11, 18)
    # already spent: the day the cumulative spend crossed it
    limit = spent / 2
    (past,) = budget_status(store, [Budget(limit)], MONTH, AS_OF)
    cumulative, crossed = 0.0, None
    for day in range(1, 13):
        cumulative += _spent(data, until=date(2026, 11, day)) - _spent(data, until=date(2026, 11, day) - timedelta(1))
        if crossed is None and cumulative >= limit:
            crossed = date(2026, 11, day)
    assert past.runs_out_on == crossed
    assert past.status == "critical"
    # never this month
    (never,) = budget_status(store, [Budget(spent / 12 * 30 * 2)], MONTH, AS_OF)
    assert never.runs_out_on is None


def test_month_without_spend(loaded):
    store, _ = loaded
    (result,) = budget_status(store, [Budget(10.0)], "2025-02", date(2025, 2, 10))
    assert (result.spent, result.status, result.runs_out_on, result.projected_month_end) == (0.0, "ok", None, 0.0)
    with pytest.raises(ValueError):
        budget_status(store, [Budget(0.0)], MONTH, AS_OF)


def test_budgets_file_yaml_and_json(tmp_path):
    yaml_file = tmp_path / "budgets.yaml"
    yaml_file.write_text(
        "monthly: 50\nprojects:\n  support: 20\nmodels:\n  gpt-4o: 10\n"
        "budgets:\n  - {name: rag on 4o, monthly: 5, project: search, model: gpt-4o}\n"
    )
    assert load_budgets(yaml_file) == [
        Budget(50.0),
        Budget(20.0, project="support"),
        Budget(10.0, model="gpt-4o"),
        Budget(5.0, project="search", model="gpt-4o", name="rag on 4o"),
    ]
    json_file = tmp_path / "budgets.json"
    json_file.write_text(json.dumps([{"monthly": 7, "project": "support"}]))
    assert load_budgets(json_file) == [Budget(7.0, project="support")]
    with pytest.raises(ValueError, match="unknown"):
        parse_budgets({"monthly": 5, "montly": 6})
    with pytest.raises(ValueError, match="monthly"):
        parse_budgets([{"project": "x"}])


def test_a_tiny_burn_rate_runs_out_after_the_month_not_after_the_calendar() -> None:
    """$0.0003 spent of $50: the money would last millions of years (``date`` cannot hold that)."""
    from datetime import date

    from otel_llm_analysis.budgets import _runs_out_on

    assert _runs_out_on([0.0003], 50.0, date(2026, 11, 1), date(2026, 11, 1), date(2026, 12, 1), 1e-9) is None


def test_a_store_that_starts_within_the_month_projects_from_its_first_day(tmp_path):
    """Data from the 21st on: the 20 days before are not $0 days of this app (the store did not
    hold them), so the burn rate is the spend over the days since the data began, and both the
    budget's projection and the trends forecast say from which day. It was spend / 29 x 30 here."""
    from datetime import datetime

    from otel_llm_analysis.trends import forecast_month_end, forecast_total, linear_fit

    from _ground_truth import load

    store, data = load(tmp_path, seed=5, traces=80, days=9, end=datetime(2026, 11, 30))
    try:
        as_of = date(2026, 11, 29)
        calls = [s for s in data.spans if is_llm(s)]
        began = min(s.start_time for s in data.spans).date()
        assert began > date(2026, 11, 15)
        spent = sum(s.cost_usd or 0.0 for s in calls if s.start_time.date() <= as_of)
        days = (as_of - began).days + 1
        (result,) = budget_status(store, [Budget(1000.0)], MONTH, as_of)
        assert result.spent == pytest.approx(spent)
        assert result.data_since == began
        assert result.burn_rate_per_day == pytest.approx(spent / days)
        assert result.projected_month_end == pytest.approx(spent / days * (days + 1))
        forecast = forecast_month_end(store, MONTH, as_of)
        assert (forecast.data_since, forecast.days_elapsed, forecast.spent) == (began, days, pytest.approx(spent))
        daily = [sum(s.cost_usd or 0.0 for s in calls if s.start_time.date() == began + timedelta(days=i))
                 for i in range(days)]
        assert forecast.projected_month_end == pytest.approx(forecast_total(daily, days + 1))
        intercept, slope = linear_fit(daily)  # over days 1.. from `began`; the forecast's line is per day of month
        assert (forecast.intercept, forecast.slope) == (pytest.approx(intercept - slope * (began.day - 1)),
                                                        pytest.approx(slope))
    finally:
        store.close()
    from typer.testing import CliRunner

    from test_cli import _app

    db = str(tmp_path / "analysis.duckdb")
    shown = CliRunner().invoke(_app(), ["budget", "--db", db, "--monthly", "1000", "--month", MONTH,
                                        "--as-of", str(as_of)], env={"COLUMNS": "300"})
    assert shown.exit_code == 0, shown.output
    assert f"data begins on {began}" in shown.output


@pytest.mark.parametrize("fraction", [0.69996, 0.89951, 0.8999999, 0.99996, 0.70, 0.90, 1.00004])
def test_the_percent_shown_never_contradicts_the_status(loaded, fraction):
    """The status is decided on the exact share used, and every view printed ``percent_used`` to one decimal:
    89.96 % used read "90.0%" beside ``warning``, 99.996 % read "100.0%" with money remaining. The percent
    given is the exact one cut (never rounded up) to the tenth the views print, so it reads the status's side
    of every threshold, and 100 % only once the budget is spent."""
    from otel_llm_analysis.terminal import format_value

    store, data = loaded
    spent = _spent(data)
    (result,) = budget_status(store, [Budget(spent / fraction)], MONTH, AS_OF)
    exact = spent / result.monthly_usd * 100
    assert result.status == status_for(exact)  # decided on the exact value
    shown = format_value("percent_used", result.percent_used)
    assert shown == f"{result.percent_used:.1f}%"
    assert status_for(float(shown.rstrip("%"))) == result.status
    assert (float(shown.rstrip("%")) >= 100) == (result.remaining <= 0)
    assert exact - 0.1 < result.percent_used <= exact + 1e-9


@pytest.mark.parametrize("percent", [1e300, 2e28, float("inf")])
def test_a_percent_beyond_what_tenths_can_hold_is_shown_as_it_is(percent):
    """shown_percent quantized 1e300 to tenths: decimal.InvalidOperation out of budget_status (a store
    with an absurd cost against a small budget); such a percent is shown as it is, never cut or raised."""
    from otel_llm_analysis.budgets import shown_percent

    assert shown_percent(percent) == percent


def test_the_metric_points_growth_is_read_once_per_budget(tmp_path):
    """A month whose calls only GenAI metric points record: ``budget_status`` read the points' growth twice, per
    day for the days of unknown spend (``series``) and over the month for the reason (``unrecorded_cost``): the
    same window function over every point of the month, run twice. Once now, with the same figures as each
    asked alone."""
    from datetime import datetime

    from otel_llm_analysis import Filters, TraceStore
    from otel_llm_analysis._filters import connection
    from otel_llm_analysis._unrecorded import unrecorded_cost
    from otel_llm_analysis.trends import daily_points
    from tests.support.synthetic import generate

    generate(tmp_path / "data", seed=11, traces=60, days=40, end=datetime(2026, 11, 20))
    with TraceStore(tmp_path / "store.duckdb") as store:
        store.ingest([tmp_path / "data" / "metrics.jsonl"])  # the spans lost: the points alone
        con = connection(store)
        con.execute("CALL enable_logging('QueryLog')")
        (status,) = budget_status(store, [Budget(10.0)], MONTH, AS_OF)
        ran = [q for (q,) in con.execute("SELECT message FROM duckdb_logs_parsed('QueryLog') "
                                         "WHERE message LIKE '%AS grew%'").fetchall()]
        con.execute("CALL disable_logging()")
        window = Filters(since=datetime(2026, 11, 1), until=datetime(2026, 11, 13))
        assert status.status == "unknown" and status.unrecorded_days, status
        assert status.cost_unknown == unrecorded_cost(store, window, 0)
        assert status.unrecorded_days == [p.period.date() for p in daily_points(store, date(2026, 11, 1), AS_OF)
                                          if p.unrecorded_points]
    assert len(ran) == 1, ran
