"""A name filter naming nothing the store holds is refused (exit 2, the names it holds), never answered
with zeros or an empty table as if the name had no data yet."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from otel_llm_analysis import TraceStore
from otel_llm_analysis.cli import register
from tests.support import synthetic


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    root = tmp_path_factory.mktemp("names")
    data = synthetic.generate(root / "data", seed=3, traces=40, days=3)
    path = str(root / "store.duckdb")
    with TraceStore(path) as store:
        store.ingest([str(f) for f in data.files])
    return path


def run(*args: str):
    app = typer.Typer()
    register(app)
    return CliRunner().invoke(app, list(args))


def test_quality_of_an_evaluation_the_store_lacks_is_refused_naming_those_it_holds(db: str) -> None:
    """``quality --evaluation nosuch`` exited 0 with a row of zeros (0 passed, every turn "not run"), as if
    the evaluation existed and had never passed."""
    refused = run("quality", "--evaluation", "nosuch", "--db", db)
    assert refused.exit_code == 2, refused.output
    assert "error: no data for evaluation nosuch (the store has evaluations: faithfulness, relevance)" \
        in refused.output, refused.output
    held = run("quality", "--evaluation", "relevance", "--format", "json", "--db", db)
    assert held.exit_code == 0, held.output


@pytest.mark.parametrize("option", ["--service", "--logger"])
@pytest.mark.parametrize("patterns", [[], ["--patterns"]])
def test_logs_of_a_service_or_logger_the_logs_lack_are_refused(db: str, option: str, patterns: list[str]) -> None:
    """``logs --service nosuch`` (or ``--logger``) printed "logs: no data" and exited 0: a misspelt name read
    as a quiet service."""
    refused = run("logs", *patterns, option, "nosuch", "--db", db)
    assert refused.exit_code == 2, refused.output
    kind = option[2:]
    assert f"error: no log records for {kind} nosuch (the store has log records of {kind}s: " in refused.output
    held = {"--service": "rag-api", "--logger": "otel_llm"}[option]
    assert held in refused.output, refused.output
    assert run("logs", *patterns, option, held, "--severity", "DEBUG", "--db", db).exit_code == 0
