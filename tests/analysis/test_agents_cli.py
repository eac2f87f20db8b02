"""``otel-llm tools``, ``agents``, ``retries`` and compare's turns table: real files, a real DuckDB file."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Any

import pytest
import typer
from rich.text import Text
from typer.testing import CliRunner

from otel_llm_analysis.cli import register
from tests.analysis import _agent_truth as truth
from tests.support import synthetic


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def run(*args: str, width: int = 200) -> Any:
    return CliRunner().invoke(_app(), list(args), env={"COLUMNS": str(width)})


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, truth.Tree]:
    root = tmp_path_factory.mktemp("agents-cli")
    data = synthetic.generate(root / "otel-data", seed=31, traces=120, days=10, agents="otel_llm")
    db = str(root / "cli.duckdb")
    result = run("ingest", *map(str, data.files), "--db", db)
    assert result.exit_code == 0, result.output
    return db, truth.Tree(data.spans)


def test_tools_json_is_the_ground_truth(ingested) -> None:
    db, tree = ingested
    result = run("tools", "--format", "json", "--db", db)
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["rows"]
    expected = truth.tools(tree)
    assert [r["tool"] for r in rows] == sorted(expected, key=lambda t: -expected[t]["p95_ms"])
    for row in rows:
        assert row["calls"] == expected[row["tool"]]["calls"]
        assert math.isclose(row["time_share"], expected[row["tool"]]["time_share"])
        assert row["agents"] == expected[row["tool"]]["agents"]
    by_errors = json.loads(run("tools", "--sort", "errors", "--format", "json", "--db", db).stdout)["rows"]
    assert [r["error_rate"] for r in by_errors] == sorted((r["error_rate"] for r in rows), reverse=True)


def test_agents_csv_and_table(ingested) -> None:
    db, tree = ingested
    result = run("agents", "--format", "csv", "--db", db)
    assert result.exit_code == 0, result.output
    rows = {r["agent"]: r for r in csv.DictReader(io.StringIO(result.stdout))}
    for name, want in truth.agents(tree).items():
        assert int(rows[name]["invocations"]) == want["invocations"]
        assert math.isclose(float(rows[name]["success_rate"]), want["success_rate"])
    table = run("agents", "--db", db).output
    assert "planner" in table and "researcher" in table and "success" in table


def test_retries_by_max_retries_table_fits_80_columns(ingested) -> None:
    db, tree = ingested
    result = run("retries", "--by", "run_config.max_retries", "--db", db, width=80)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert all(Text(line).cell_len <= 80 for line in lines), result.output
    header = " ".join(lines[1:3])
    for word in ("max_retries", "turns", "success", "first-time", "attempts", "turn ms"):
        assert word in header, word
    expected = truth.retries(tree, "max_retries")
    for key, want in expected.items():
        row = next(line for line in lines if line.startswith(f"{key} "))
        assert f"{want['success_rate'] * 100:.1f}%" in row
    overall = json.loads(run("retries", "--format", "json", "--db", db).stdout)["rows"]
    assert len(overall) == 1 and overall[0]["key"] is None
    assert overall[0]["attempt_counts"] == {str(k): v for k, v in truth.retries(tree)[None]["attempt_counts"].items()}


def test_compare_shows_the_turns_beneath_the_calls(ingested) -> None:
    db, tree = ingested
    result = run("compare", "--by", "run_config.max_retries", "--db", db, width=80)
    assert result.exit_code == 0, result.output
    text = result.output
    assert "compare by run_config.max_retries" in text and "turns by run_config.max_retries" in text
    assert "hidden" not in text  # both tables fit 80 columns whole
    turns_table = text[text.index("turns by"):]
    for key, want in truth.retries(tree, "max_retries").items():
        row = next(line for line in turns_table.splitlines() if line.startswith(f"{key} "))
        assert f"{want['success_rate'] * 100:.1f}%" in row and f"{want['first_time_right_rate'] * 100:.1f}%" in row
    rows = json.loads(run("compare", "--by", "run_config.max_retries", "--format", "json", "--db", db).stdout)["rows"]
    assert {r["key"]: r["turns"] for r in rows} == {k: v["turns"] for k, v in truth.retries(tree, "max_retries").items()}


def test_tools_and_agents_write_files(ingested, tmp_path: Path) -> None:
    db, _ = ingested
    for command in ("tools", "agents", "retries"):
        out = tmp_path / f"{command}.parquet"
        result = run(command, "--out", str(out), "--db", db)
        assert result.exit_code == 0, result.output
        assert out.stat().st_size > 0


def test_empty_store_says_no_data(tmp_path: Path) -> None:
    db = str(tmp_path / "empty.duckdb")
    (tmp_path / "t.jsonl").write_text('{"resourceSpans": []}\n')
    assert run("ingest", str(tmp_path / "t.jsonl"), "--db", db).exit_code == 0
    for command in ("tools", "agents", "retries"):
        result = run(command, "--db", db)
        assert result.exit_code == 0 and "no data" in result.output, (command, result.output)


def test_unknown_project_is_an_error(ingested) -> None:
    db, _ = ingested
    for command in ("tools", "agents", "retries"):
        result = run(command, "--project", "nosuch", "--db", db)
        assert result.exit_code == 2 and "nosuch" in result.output, (command, result.output)


def test_the_views_answer_your_own_sql(ingested) -> None:
    """`otel-llm sql` (read-only sandbox) reads the views and the windowed macros."""
    db, tree = ingested
    result = run("sql", "SELECT tool_name, count(*) AS n FROM tool_calls GROUP BY ALL", "-f", "json", "--db", db)
    assert result.exit_code == 0, result.output
    assert {r["tool_name"]: r["n"] for r in json.loads(result.stdout)["rows"]} == {
        name: t["calls"] for name, t in truth.tools(tree).items()}
    result = run("sql", "SELECT count(*) AS n FROM turns_in(NULL, NULL) WHERE first_time_right", "-f", "json",
                 "--db", db)
    assert json.loads(result.stdout)["rows"][0]["n"] == truth.retries(tree)[None]["first_time_right"]
