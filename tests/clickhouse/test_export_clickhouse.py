"""``otel-llm export --db clickhouse://…`` writes the files a DuckDB store's export writes for the same data.

The same generated files (with a peer instrumentor's span nested in every LLM
call, so the nesting columns are filled) are ingested into DuckDB and loaded
into chdb behind ClickHouse's HTTP interface; ``export`` runs on both, as a
user runs it, in each format. Compared: the day folders and file names, the
columns with their types, and every row - but the values the exporter keeps
differently by construction (docs/clickhouse.md): attribute text and order
(``AsString``, keys sorted), and what it does not store (trace flags, dropped
counts, the source file), which are NULL.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import duckdb
import pytest
from typer.testing import CliRunner

from otel_llm.cli import app
from tests.support.clickhouse_http import ChdbHttpServer
from tests.support.synthetic import generate

#: Columns whose values differ by construction (see the module's docstring).
DIFFERENT = {"attributes", "resource_attributes", "attr_keys", "attr_values", "source_file", "flags",
             "dropped_attributes_count", "dropped_events_count", "dropped_links_count"}
READERS = {"parquet": "read_parquet", "csv": "read_csv", "json": "read_json"}
#: A span whose name and project a spreadsheet would run as formulas: both stores' CSV mark them as text.
FORMULA_SPAN = (
    '{"resourceSpans": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "svc"}}]}, '
    '"scopeSpans": [{"spans": [{"traceId": "fa000000000000000000000000000001", "spanId": "fa00000000000001", '
    '"name": "=HYPERLINK(\\"http://x\\")", "kind": 3, "startTimeUnixNano": "1764590400000000000", '
    '"endTimeUnixNano": "1764590401000000000", "attributes": [{"key": "otel_llm.project", '
    '"value": {"stringValue": "+cmd"}}]}]}]}]}')


def run(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})


@pytest.fixture(scope="module")
def dbs(tmp_path_factory: pytest.TempPathFactory, clickhouse_http: ChdbHttpServer) -> Iterator[tuple[str, str]]:
    root = tmp_path_factory.mktemp("export")
    generate(root / "files", traces=30, peer_spans=True, seed=11, days=5)
    (root / "files" / "traces-formula.jsonl").write_text(FORMULA_SPAN + "\n")
    duck = str(root / "otel.duckdb")
    assert run("ingest", str(root / "files"), "--db", duck).exit_code == 0
    url = f"clickhouse://default@127.0.0.1:{clickhouse_http.port}/otel_export"
    assert run("load", str(root / "files"), "--to", url).exit_code == 0
    yield duck, url


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


@pytest.mark.parametrize("fmt", ["parquet", "csv", "json"])
def test_export_writes_what_duckdb_writes(dbs: tuple[str, str], tmp_path: Path, fmt: str) -> None:
    duck, url = dbs
    results = {name: run("export", "spans", "--db", db, "--out", str(tmp_path / name), "--format", fmt)
               for name, db in (("duckdb", duck), ("clickhouse", url))}
    for name, result in results.items():
        assert result.exit_code == 0, (name, result.output)
        assert result.output == f"wrote spans as {fmt} to {tmp_path / name}/day=*/\n"
    assert _files(tmp_path / "clickhouse") == _files(tmp_path / "duckdb")
    assert len(_files(tmp_path / "duckdb")) >= 5  # a folder per day

    with duckdb.connect() as con:
        def read(name: str) -> tuple[list[tuple[str, str]], list[tuple[Any, ...]]]:
            source = f"{READERS[fmt]}('{tmp_path / name}/**/*.{fmt}', hive_partitioning = true)"
            columns = [(c, t) for c, t, *_ in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()]
            kept = ", ".join(f'"{c}"' for c, _ in columns if c not in DIFFERENT)
            return columns, con.execute(f"SELECT {kept} FROM {source} ORDER BY trace_id, span_id").fetchall()

        (duck_columns, duck_rows), (ch_columns, ch_rows) = read("duckdb"), read("clickhouse")
        # the same names; the same types, but where a text format leaves them to guessing (a column NULL
        # throughout reads back as text from the one, as a number from the other)
        assert [c for c, _ in ch_columns] == [c for c, _ in duck_columns]
        assert [t for c, t in ch_columns if fmt == "parquet" or c not in DIFFERENT] == \
            [t for c, t in duck_columns if fmt == "parquet" or c not in DIFFERENT]
        assert ch_rows == duck_rows
        if fmt == "csv":
            marked = con.execute(f"SELECT name, project FROM read_csv('{tmp_path / 'clickhouse'}/**/*.csv') "
                                 "WHERE span_id = 'fa00000000000001'").fetchall()
            assert marked == [("'=HYPERLINK(\"http://x\")", "'+cmd")]
        nested = con.execute(f"SELECT count(*) FROM {READERS[fmt]}('{tmp_path / 'clickhouse'}/**/*.{fmt}') "
                             "WHERE wrapper_span_id IS NOT NULL").fetchone()
        assert nested[0] > 0  # the nesting columns are filled, not left NULL
    for name in DIFFERENT - {"source_file", "flags", "dropped_attributes_count", "dropped_events_count",
                             "dropped_links_count"}:
        assert any(c == name for c, _ in ch_columns)



def _text_rows(root: Path, fmt: str) -> list[dict[str, Any]]:
    """Every exported row as the file's text gives it (CSV cells, JSON values), ordered by span."""
    import csv
    import json

    rows: list[dict[str, Any]] = []
    for path in sorted(root.rglob(f"*.{fmt}")):
        text = path.read_text("utf-8")
        rows += (list(csv.DictReader(text.splitlines())) if fmt == "csv"
                 else [json.loads(line) for line in text.splitlines() if line.strip()])
    return sorted(rows, key=lambda r: (r["trace_id"], r["span_id"]))


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_exported_times_carry_the_utc_offset_as_text_on_both_engines(dbs: tuple[str, str], tmp_path: Path,
                                                                    fmt: str) -> None:
    """A span's start and end written without an offset are read as local time by a spreadsheet or
    pandas: both engines write them as the other exports do (``2026-12-02T14:34:44.312396+00:00``,
    :func:`otel_llm_analysis.export.to_csv`), and the same text for the same span."""
    from datetime import datetime, timezone

    duck, url = dbs
    for name, db in (("duckdb", duck), ("clickhouse", url)):
        assert run("export", "spans", "--db", db, "--out", str(tmp_path / name), "--format", fmt).exit_code == 0
    duck_rows, ch_rows = _text_rows(tmp_path / "duckdb", fmt), _text_rows(tmp_path / "clickhouse", fmt)
    assert len(duck_rows) == len(ch_rows) > 100
    with duckdb.connect(duck, read_only=True) as con:
        stored = {(t, s): (start, end) for t, s, start, end in con.execute(
            "SELECT trace_id, span_id, start_time, end_time FROM spans").fetchall()}
    for duck_row, ch_row in zip(duck_rows, ch_rows):
        key = (duck_row["trace_id"], duck_row["span_id"])
        expected = [t.replace(tzinfo=timezone.utc).isoformat() for t in stored[key]]
        assert [duck_row["start_time"], duck_row["end_time"]] == expected, key
        assert [ch_row["start_time"], ch_row["end_time"]] == expected, key
        assert datetime.fromisoformat(ch_row["start_time"]).utcoffset() is not None
