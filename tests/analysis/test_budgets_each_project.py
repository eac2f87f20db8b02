"""A default budget for every project (``each_project: 100`` / ``--monthly 100 --each-project``).

The systems otel-llm replaces gave each project a default monthly limit ($100) and
showed each project's budget bar without listing the projects; a project's own
budget wins over the default.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from typer.testing import CliRunner

from otel_llm_analysis.budgets import Budget, budget_status, parse_budgets

from _ground_truth import is_llm, store_fixture

MONTH = "2026-11"
AS_OF = date(2026, 11, 12)

loaded = store_fixture(seed=21, traces=150, days=40)


def _projects_with_calls(data) -> set[str]:
    return {s.project for s in data.spans
            if is_llm(s) and s.project and date(2026, 11, 1) <= s.start_time.date() <= AS_OF}


def _spent(data, project):
    return sum(s.cost_usd or 0.0 for s in data.spans
               if is_llm(s) and s.project == project and date(2026, 11, 1) <= s.start_time.date() <= AS_OF)


def test_each_project_gets_the_default_unless_it_has_its_own(loaded):
    store, data = loaded
    projects = sorted(_projects_with_calls(data))
    assert len(projects) >= 2, "the data set has several projects in the month"
    own = projects[0]
    plan = parse_budgets({"monthly": 50, "each_project": 100, "projects": {own: 5}})
    statuses = budget_status(store, plan, MONTH, AS_OF)
    by_label = {s.budget: s for s in statuses}
    assert set(by_label) == {"overall", *(f"project={p}" for p in projects)}
    assert by_label[f"project={own}"].monthly_usd == 5
    for project in projects[1:]:
        status = by_label[f"project={project}"]
        assert (status.project, status.monthly_usd) == (project, 100)
        assert status.spent == pytest.approx(_spent(data, project))
    explicit = budget_status(store, [Budget(100, project=p) for p in projects[1:]], MONTH, AS_OF)
    assert [s for s in statuses if s.project in projects[1:]] == explicit


def test_a_month_without_calls_has_no_project_to_budget(loaded):
    store, _ = loaded
    assert budget_status(store, [Budget(100, each_project=True)], "2025-01", date(2025, 1, 31)) == []


def test_the_command_budgets_each_project(loaded, tmp_path):
    import typer

    from otel_llm_analysis.cli import register

    store, data = loaded
    db = store.path
    store.close()
    app = typer.Typer()
    register(app)
    result = CliRunner().invoke(app, ["budget", "--monthly", "100", "--each-project", "--month", MONTH,
                                      "--as-of", str(AS_OF), "--db", str(db), "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["rows"]
    assert {row["project"] for row in rows} == _projects_with_calls(data)
    assert {row["monthly_usd"] for row in rows} == {100}
    empty = CliRunner().invoke(app, ["budget", "--monthly", "100", "--each-project", "--month", "2025-01",
                                     "--db", str(db)])
    assert empty.exit_code == 0 and "no project to budget" in empty.output, empty.output
    both = CliRunner().invoke(app, ["budget", "--monthly", "100", "--each-project", "--project", "x", "--db", str(db)])
    assert both.exit_code == 2 and "--each-project" in both.output
