"""`otel-llm sql` with several statements shows the last one's result, and says so."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from otel_llm.cli import app
from otel_llm_analysis.store import TraceStore
from tests.support import synthetic


def test_several_statements_say_that_only_the_last_result_is_shown(tmp_path: Path):
    data = synthetic.generate(tmp_path / "data", seed=3, traces=4, days=1)
    db = str(tmp_path / "s.duckdb")
    with TraceStore(db) as store:
        store.ingest([str(p) for p in data.files])
    result = CliRunner().invoke(app, ["sql", "SELECT count(*) AS spans FROM spans; SELECT 7 AS seven", "--db", db],
                                env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    assert "seven" in result.output and "spans" not in result.output.replace("seven", "")
    assert "2 statements: only the last one's result is shown" in result.output
    one = CliRunner().invoke(app, ["sql", "SELECT 7 AS seven;", "--db", db], env={"COLUMNS": "120"})
    assert one.exit_code == 0 and "statements" not in one.output
