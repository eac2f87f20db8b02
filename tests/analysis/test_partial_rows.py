"""A model (or project) whose LLM calls are partly only in GenAI metric points: its own row says so.

The spans of one model's calls on one service are lost for a day (sampled out, not shipped) while the metric
points, which carry the model and the service, still count them. The summary per model, ``compare`` and the
report's table per model gave that model's row the spans' calls as all of its calls - only a note about the whole
window said anything. Now the row itself is partial and counts its calls left out; the other models' rows are
complete and say nothing. Points carry no project: the rows of the projects whose calls ran on that service are
told they may be partial; the others are not."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
import typer
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from otel_llm_analysis import TraceStore
from otel_llm_analysis.cli import register
from otel_llm_analysis.web.live import LiveStore
from otel_llm_analysis.web.server import create_app
from otel_llm_analysis.web.views import Query
from tests.analysis._exports import calls_of, write_spans
from tests.support.synthetic import SERVICES, generate

WINDOW = ("--since", "2026-11-18", "--until", "2026-11-20")
MODEL, SERVICE = "gpt-4o", "support-bot"
LOST_DAY = datetime(2026, 11, 19)


@pytest.fixture(scope="module")
def lost(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """18-19 Nov with every metric point; the spans of ``MODEL``'s calls on ``SERVICE`` on 19 Nov are lost."""
    root = tmp_path_factory.mktemp("partial_rows")
    data = generate(root / "days", seed=11, traces=120, days=2, end=datetime(2026, 11, 20))
    gone = [c for c in calls_of(data.spans)
            if c.model == MODEL and c.service_name == SERVICE and c.start_time >= LOST_DAY]
    dropped = {c.span_id for c in gone}
    write_spans([s for s in data.spans if s.span_id not in dropped], root / "traces.jsonl")
    # held nonetheless: a call of the model that ended within two minutes of the day before's export (its
    # grace) is matched with that export's stretch too (what is left out is a lower bound)
    near = [c for c in calls_of(data.spans) if c.model == MODEL and c.service_name == SERVICE
            and datetime(2026, 11, 18, 23, 57) <= c.start_time < LOST_DAY]
    db = str(root / "store.duckdb")
    with TraceStore(db) as store:
        store.ingest([root / "traces.jsonl", root / "days" / "metrics.jsonl"])
    assert gone
    return {"db": db, "gone": len(gone), "near": len(near)}


def run(*args: str):
    app = typer.Typer()
    register(app)
    return CliRunner().invoke(app, list(args))


def _rows(*args: str) -> tuple[dict, dict]:
    result = run(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    return {row["key"]: row for row in document["rows"]}, document


def test_the_model_row_whose_calls_are_partly_only_in_metric_points_is_partial_and_no_other(lost: dict) -> None:
    rows, document = _rows("summary", "--by", "model", *WINDOW, "--db", lost["db"])
    partial = rows[MODEL]["only_in_metrics"]
    assert partial is not None, rows[MODEL]
    assert lost["gone"] - lost["near"] <= partial["calls"] <= lost["gone"], (partial, lost)
    assert partial["days"] == ["2026-11-19"] and not partial["shared"], partial
    assert all(row["only_in_metrics"] is None for key, row in rows.items() if key != MODEL), rows
    note = next(n for n in document["notes"] if n.startswith(f"{MODEL}: partial: "))
    assert f"{partial['calls']:,} LLM calls on 1 day(s) (2026-11-19)" in note, note
    table = " ".join(run("summary", "--by", "model", *WINDOW, "--db", lost["db"]).stdout.split())
    assert f"{MODEL}: partial: {partial['calls']:,} LLM calls" in table, table


def test_compare_marks_the_same_row(lost: dict) -> None:
    rows, document = _rows("compare", "--by", "model", *WINDOW, "--db", lost["db"])
    summary, _ = _rows("summary", "--by", "model", *WINDOW, "--db", lost["db"])
    assert rows[MODEL]["only_in_metrics"] == summary[MODEL]["only_in_metrics"], rows[MODEL]
    assert all(row["only_in_metrics"] is None for key, row in rows.items() if key != MODEL), rows
    assert any(n.startswith(f"{MODEL}: partial: ") for n in document["notes"]), document["notes"]


def test_project_rows_on_that_service_may_be_partial_the_others_are_not(lost: dict) -> None:
    rows, document = _rows("summary", "--by", "project", *WINDOW, "--db", lost["db"])
    project = SERVICES[SERVICE][0]
    partial = rows[project]["only_in_metrics"]
    assert partial is not None and partial["shared"], rows[project]
    assert partial["calls"] >= lost["gone"] - lost["near"], partial
    assert all(row["only_in_metrics"] is None for key, row in rows.items() if key != project), rows
    note = next(n for n in document["notes"] if n.startswith(f"{project}: partial: up to "))
    assert "services the calls shown ran on" in note, note
    alone = json.loads(run("summary", "--project", project, *WINDOW, "--format", "json", "--db", lost["db"]).stdout)
    assert alone["rows"][0]["only_in_metrics"] == partial, alone  # the project's own window: the same calls
    other = next(p for s, (p, _) in SERVICES.items() if s != SERVICE)
    alone = json.loads(run("summary", "--project", other, *WINDOW, "--format", "json", "--db", lost["db"]).stdout)
    assert alone["rows"][0]["only_in_metrics"] is None, alone


def test_the_report_and_the_dashboard_mark_the_model_row(lost: dict) -> None:
    from rich.console import Console

    from otel_llm_analysis.report import print_report

    with TraceStore(lost["db"], read_only=True) as store:
        console = Console(width=200, record=True, file=open("/dev/null", "w"))
        print_report(store, console)
        said = " ".join(console.export_text().split())
        assert f"{MODEL}: partial: " in said, said
        assert not any(f"{m}: partial" in said for m in ("gpt-4o-mini", "o4-mini", "claude-haiku-4-5")), said
        http = TestClient(create_app(LiveStore(store), Query()))
        params = {"since": "2026-11-18", "until": "2026-11-20"}
        for view, key in (("models", MODEL), ("projects", SERVICES[SERVICE][0])):
            body = http.get(f"/api/{view}", params=params).json()
            marked = {row["key"]: row["only_in_metrics"] for row in body["rows"]}
            assert marked[key] and marked[key]["said"].startswith(f"{key}: partial: "), (view, marked)
            assert all(v is None for k, v in marked.items() if k != key), (view, marked)
            assert any(n.startswith(f"{key}: partial: ") for n in body["notes"]), body["notes"]
        compared = http.get("/api/compare", params={**params, "by": "model"}).json()
        (group,) = compared["groups"]
        marked = {row["key"]: row["only_in_metrics"] for row in group["rows"]}
        assert marked[MODEL] and all(v is None for k, v in marked.items() if k != MODEL), marked
