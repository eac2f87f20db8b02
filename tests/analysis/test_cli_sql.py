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


def test_map_and_list_columns_are_kept_in_every_format(tmp_path: Path):
    """`sql "SELECT span_id, attributes FROM spans" --format csv` (or --out x.parquet, or the table) left
    the attributes column out without a word: maps and lists were dropped from flat formats. A list
    in the first row and NULL in a later one even failed the CSV writer. They are JSON text now."""
    import csv
    import io
    import json

    import duckdb

    data = synthetic.generate(tmp_path / "data", seed=3, traces=4, days=1)
    db = str(tmp_path / "s.duckdb")
    with TraceStore(db) as store:
        store.ingest([str(p) for p in data.files])
        expected = {span_id: (attributes, reasons) for span_id, attributes, reasons in store.query(
            "SELECT span_id, attributes, finish_reasons FROM spans")}
    query = ("SELECT span_id, attributes, finish_reasons FROM spans "
             "ORDER BY finish_reasons IS NULL, span_id")  # a list first, then NULLs
    assert any(reasons for _, reasons in expected.values()) and any(r is None for _, r in expected.values())
    result = CliRunner().invoke(app, ["sql", query, "--db", db, "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == len(expected)
    for row in rows:
        attributes, reasons = expected[row["span_id"]]
        assert json.loads(row["attributes"]) == attributes
        assert (json.loads(row["finish_reasons"]) if row["finish_reasons"] else None) == reasons
    out = tmp_path / "spans.parquet"
    assert CliRunner().invoke(app, ["sql", query, "--db", db, "--out", str(out)]).exit_code == 0
    with duckdb.connect() as con:
        back = dict(con.execute(f"SELECT span_id, attributes FROM read_parquet('{out}')").fetchall())
    assert {k: json.loads(v) for k, v in back.items()} == {k: a for k, (a, _) in expected.items()}
    table = CliRunner().invoke(app, ["sql", "SELECT attributes FROM spans LIMIT 1", "--db", db],
                               env={"COLUMNS": "400"})
    assert "attributes" in table.output, table.output
