"""Exports: JSON/CSV/Parquet round trips of a result and the day-partitioned spans table."""

from __future__ import annotations

import csv
from pathlib import Path
import io
from collections import Counter
from datetime import date, datetime

import duckdb
import orjson
import pytest
from rich.console import Console

from otel_llm_analysis.export import export_rows, export_spans, to_csv
from otel_llm_analysis.terminal import table
from otel_llm_analysis.summaries import summary
from otel_llm_analysis.traces import top_traces

from _ground_truth import store_fixture


loaded = store_fixture(seed=47, traces=60, days=10)


def test_json_csv_parquet_round_trip(loaded, tmp_path):
    store, _ = loaded
    rows = summary(store, "model")
    by_key = {r.key: r for r in rows}

    as_json = orjson.loads(export_rows(rows, "json", tmp_path / "s.json").read_bytes())
    assert [r["key"] for r in as_json] == [r.key for r in rows]
    assert all(r["cost_usd"] == pytest.approx(by_key[r["key"]].cost_usd) for r in as_json)

    as_csv = list(csv.DictReader(io.StringIO(export_rows(rows, "csv", tmp_path / "s.csv").read_text())))
    assert len(as_csv) == len(rows)
    assert all(int(r["llm_calls"]) == by_key[r["key"] or None].llm_calls for r in as_csv)

    path = export_rows(rows, "parquet", tmp_path / "out" / "s.parquet")
    with duckdb.connect() as con:
        back = con.execute(f"SELECT key, llm_calls, cost_usd FROM read_parquet('{path}')").fetchall()
        types = {name: kind for name, kind, *_ in
                 con.execute(f"DESCRIBE SELECT * FROM read_parquet('{path}')").fetchall()}
    assert {(k, n) for k, n, _ in back} == {(r.key, r.llm_calls) for r in rows}
    assert types["llm_calls"] in ("BIGINT", "HUGEINT", "INTEGER")  # numbers stay numbers
    assert types["cost_usd"] == "DOUBLE"


def test_nested_trees_stay_in_json_and_leave_flat_formats(loaded, tmp_path):
    store, _ = loaded
    rows = top_traces(store, 2)
    as_json = orjson.loads(export_rows(rows, "json", tmp_path / "t.json").read_bytes())
    assert len(as_json[0]["tree"]) == rows[0].spans
    header = to_csv(rows).splitlines()[0].split(",")
    assert "tree" not in header and "trace_id" in header


def test_spans_partitioned_by_day(loaded, tmp_path):
    store, data = loaded
    out = export_spans(store, tmp_path / "spans")
    per_day = Counter(s.start_time.date() for s in data.spans)
    days = sorted(p.name for p in out.iterdir())
    assert days == [f"day={d.isoformat()}" for d in sorted(per_day)]
    with duckdb.connect() as con:
        counts = dict(con.execute(
            f"SELECT day, count(*) FROM read_parquet('{out}/**/*.parquet', hive_partitioning = true) GROUP BY day"
        ).fetchall())
    assert {str(k): v for k, v in counts.items()} == {d.isoformat(): n for d, n in per_day.items()}


def test_rich_table_formats_money_rates_and_missing_values(loaded):
    store, _ = loaded
    rows = summary(store, "model")
    console = Console(width=200, record=True)
    table(rows, "models", ["key", "cost_usd", "cost_share", "p95_ms"]).print(console)
    text = console.export_text()
    assert "$" in text and "%" in text and rows[0].key in text


def test_arrow_table_of_a_result(loaded):
    from otel_llm_analysis.export import to_arrow

    store, _ = loaded
    rows = summary(store, "project")
    table = to_arrow(rows)
    assert table.num_rows == len(rows)
    assert table.column("llm_calls").to_pylist() == [r.llm_calls for r in rows]


def test_empty_result_cannot_be_written_as_parquet(tmp_path):
    with pytest.raises(ValueError, match="no rows"):
        export_rows([], "parquet", tmp_path / "x.parquet")


def test_money_prints_the_same_whatever_order_a_sum_was_added_in():
    from otel_llm_analysis.terminal import _money
    one_order, other_order = 0.0443125 / 5, 0.044312500000000005 / 5  # DuckDB's and ClickHouse's day sums
    assert one_order != other_order
    assert _money(one_order) == _money(other_order)


def _span(span_id: str, name: str, project: str) -> dict:
    """One chat span of its own trace whose name and project are spreadsheet formulas."""
    start = 1_764_590_400_000_000_000
    attrs = {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o", "otel_llm.project": project}
    return {"traceId": span_id * 2, "spanId": span_id, "name": name, "kind": 3,
            "startTimeUnixNano": str(start), "endTimeUnixNano": str(start + 10**9),
            "attributes": [{"key": k, "value": {"stringValue": v}} for k, v in attrs.items()]}


FORMULAS = ("=HYPERLINK(\"http://evil.example\",\"x\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)",
            "\t=1+1", "\r=1+1")


def test_csv_cells_a_spreadsheet_would_run_as_formulas_are_quoted(tmp_path):
    """A span or project name from the app starting with = + - @ (or a tab/CR before one) is text in
    every CSV we write - results on stdout, --out files and the exported spans table - not a formula."""
    from typer.testing import CliRunner
    import typer
    from otel_llm_analysis.cli import register

    spans = [_span(f"{i + 1:016x}", name, name) for i, name in enumerate(FORMULAS)]
    request = {"resourceSpans": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "=svc"}}]},
                                  "scopeSpans": [{"scope": {"name": "probe"}, "spans": spans}]}]}
    data = tmp_path / "traces.jsonl"
    data.write_bytes(orjson.dumps(request) + b"\n")
    app = typer.Typer()
    register(app)
    db = str(tmp_path / "s.duckdb")
    assert CliRunner().invoke(app, ["ingest", str(data), "--db", db]).exit_code == 0

    def cells(text: str) -> list[str]:
        return [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row]

    stdout = CliRunner().invoke(app, ["summary", "--by", "project", "--format", "csv", "--db", db])
    out = tmp_path / "projects.csv"
    assert CliRunner().invoke(app, ["summary", "--by", "project", "--out", str(out), "--db", db]).exit_code == 0
    spans_dir = tmp_path / "spans"
    assert CliRunner().invoke(app, ["export", "spans", "--format", "csv", "--out", str(spans_dir),
                                    "--db", db]).exit_code == 0
    exported = "".join(p.read_bytes().decode() for p in sorted(spans_dir.rglob("*.csv")))
    for text in (stdout.output, out.read_bytes().decode(), exported):
        texts = cells(text)
        assert not [c for c in texts if c[:1] in ("=", "+", "-", "@", "\t", "\r")], text
        for name in FORMULAS:  # kept whole, behind the quote a spreadsheet hides
            assert "'" + name in texts
    assert "'=svc" in cells(exported)
    # numbers stay numbers: a negative figure is not text
    assert to_csv([{"delta": -1.5, "name": "-x"}]) == "delta,name\r\n-1.5,'-x\r\n"


def test_ingesting_exported_spans_names_each_line_as_no_otlp_request(loaded, tmp_path):
    """The export is rows of the spans table, not OTLP: ingest given one of its files loads nothing
    from it and says why, line by line."""
    from otel_llm_analysis.store import TraceStore

    store, data = loaded
    out = export_spans(store, tmp_path / "exported", "json")
    files = sorted(out.rglob("*.json"))
    lines = sum(len(f.read_bytes().splitlines()) for f in files)
    assert lines == len(data.spans)
    with TraceStore(str(tmp_path / "again.duckdb")) as again:
        report = again.ingest([str(f) for f in files])
        assert again.query("SELECT count(*) FROM spans")[0][0] == 0
    assert len(report.bad_lines) == lines
    for problem in report.bad_lines:
        assert problem.reason.startswith("not loaded: not an OTLP export request"), problem
        assert "`trace_id`" in problem.reason  # what the line holds instead


@pytest.mark.parametrize("fmt", ["json", "csv", "parquet"])
def test_an_export_inside_the_data_directory_is_skipped_and_named_once(loaded, tmp_path, fmt):
    """``otel-llm export --out ./otel-data/exports``, then the usual ``otel-llm ingest ./otel-data``:
    the export's JSON rows were read as data and each printed a bad line (one per exported span,
    exit 3). The export is the store's own rows: the walk leaves it, and the report names it once;
    the collector's files beside it load as before."""
    from typer.testing import CliRunner

    from otel_llm_analysis.store import TraceStore
    from test_cli import _app

    store, data = loaded
    source = tmp_path / "otel-data"  # the collector's files the store was loaded from
    export_spans(store, source / "exports", fmt)
    with TraceStore(str(tmp_path / f"walk-{fmt}.duckdb")) as again:
        report = again.ingest([str(source)])
        assert again.query("SELECT count(*) FROM spans")[0][0] == len(data.spans)
    assert report.bad_lines == []
    assert report.skipped_exports == [str(source / "exports")]
    assert "skipped `otel-llm export` output (rows of a store, not OTLP): " + str(source / "exports") \
        in report.summary()
    done = CliRunner().invoke(_app(), ["ingest", "--db", str(tmp_path / f"cli-{fmt}.duckdb"), str(source)])
    assert done.exit_code == 0, done.output
    assert done.output.count(str(source / "exports")) == 1, done.output


@pytest.mark.parametrize("fmt", ["json", "csv", "parquet"])
def test_ingest_of_an_export_says_it_is_one_and_loads_nothing(loaded, tmp_path, fmt):
    """``otel-llm export`` writes rows of the spans table, not OTLP: ingesting them again printed a bad
    line per span (json) or "no trace, metric or log files here" (csv, parquet), never that the
    directory is an export. It is said once, with what to do instead, before the store is touched."""
    from typer.testing import CliRunner

    from test_cli import _app

    store, _ = loaded
    out = export_spans(store, tmp_path / "exported", fmt)
    day = next(out.glob("day=*"))
    runner = CliRunner()
    for path in (out, day, next(day.glob("data_*"))):
        db = tmp_path / f"again-{fmt}.duckdb"
        done = runner.invoke(_app(), ["ingest", "--db", str(db), str(path)])
        assert done.exit_code == 1, done.output
        assert "written by `otel-llm export`" in done.output and "cannot be ingested" in done.output, done.output
        assert len(done.output.strip().splitlines()) == 1, done.output
        assert not db.exists()


def test_exported_spans_are_spans_and_the_documented_calls_file_adds_up_to_summary(tmp_path):
    """A call two producers traced (one span inside the other) is two rows of the export and one
    call of every analysis: summing the export's LLM spans counts it twice, and nothing said so.
    The docs say it, and name the command whose file adds up to summary's figures."""
    from typer.testing import CliRunner

    from otel_llm_analysis.summaries import totals
    from test_cli import _app

    from _ground_truth import load

    store, data = load(tmp_path, seed=11, traces=40, days=4, peer_spans=True)
    try:
        kpis = totals(store)
        out = export_spans(store, tmp_path / "spans")
    finally:
        store.close()
    with duckdb.connect() as con:
        llm_spans = con.execute(
            f"SELECT count(*) FROM read_parquet('{out}/**/*.parquet') WHERE otel_kind = 'llm_call'").fetchone()[0]
    assert llm_spans > kpis.llm_calls  # the peers' spans are there too
    docs = " ".join((Path(__file__).resolve().parents[2] / "docs" / "analyses.md").read_text().split())
    command = 'otel-llm sql "SELECT * FROM llm_calls" --out calls.parquet'
    assert command in docs and "It holds spans, not calls" in docs
    calls = tmp_path / "calls.parquet"
    done = CliRunner().invoke(_app(), ["sql", "SELECT * FROM llm_calls", "--out", str(calls),
                                       "--db", str(tmp_path / "analysis.duckdb")])
    assert done.exit_code == 0, done.output
    with duckdb.connect() as con:
        count, cost, tokens = con.execute(
            f"SELECT count(*), sum(cost_usd), sum(input_tokens) FROM read_parquet('{calls}')").fetchone()
    assert (count, tokens) == (kpis.llm_calls, kpis.input_tokens)
    assert cost == pytest.approx(kpis.cost_usd)


def test_csv_spans_keep_attribute_maps_and_lists_readable_as_json(tmp_path):
    """The spans table's maps and lists (attributes, resource attributes, finish reasons) were written to
    CSV as DuckDB prints them - ``{k=v, k2=v2}`` - which no reader can split when a value holds ", " or
    "=" (a tool argument, a prompt). They are JSON text now: each cell reads back to the same values."""
    tricky = {"tool.args": "a=1, b={2}", "note": "x, y=z", "gen_ai.request.model": "gpt-4o"}
    span = _span("00000000000000a1", "chat", "p")
    span["attributes"] += [{"key": k, "value": {"stringValue": v}} for k, v in tricky.items() if k != "gen_ai.request.model"]
    span["attributes"].append({"key": "gen_ai.response.finish_reasons",
                               "value": {"arrayValue": {"values": [{"stringValue": "stop, really"}]}}})
    request = {"resourceSpans": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "s=1, t"}}]},
                                  "scopeSpans": [{"scope": {"name": "probe"}, "spans": [span]}]}]}
    data = tmp_path / "traces.jsonl"
    data.write_bytes(orjson.dumps(request) + b"\n")
    from otel_llm_analysis import TraceStore

    with TraceStore(str(tmp_path / "s.duckdb")) as store:
        store.ingest([str(data)])
        export_spans(store, tmp_path / "spans", "csv")
        expected = store.query("SELECT attributes, resource_attributes, finish_reasons FROM spans")[0]
    (row,) = [r for p in (tmp_path / "spans").rglob("*.csv") for r in csv.DictReader(io.StringIO(p.read_text()))]
    assert orjson.loads(row["attributes"]) == expected[0]
    assert orjson.loads(row["resource_attributes"]) == expected[1]
    assert orjson.loads(row["finish_reasons"]) == expected[2] == ["stop, really"]
    assert {k: orjson.loads(row["attributes"])[k] for k in ("tool.args", "note")} == {
        k: tricky[k] for k in ("tool.args", "note")}


def test_csv_times_carry_the_utc_offset_json_gives_them(loaded, tmp_path):
    """A CSV time without an offset is read as local time by a spreadsheet or pandas: the store's
    UTC times are written as JSON writes them (``+00:00``), every other cell unchanged."""
    store, _ = loaded
    rows = top_traces(store, 5)
    as_json = orjson.loads(export_rows(rows, "json", tmp_path / "t.json").read_bytes())
    path = export_rows(rows, "csv", tmp_path / "t.csv")
    as_csv = list(csv.DictReader(io.StringIO(path.read_text("utf-8"), newline="")))
    assert [r["start_time"] for r in as_csv] == [r["start_time"] for r in as_json]
    assert all(r["start_time"].endswith("+00:00") for r in as_csv), as_csv[0]["start_time"]
    for row, back in zip(rows, as_csv):  # the other columns as they were
        assert back["trace_id"] == row.trace_id and back["root_name"] == (row.root_name or "")
    assert to_csv([{"at": datetime(2026, 12, 2, 14, 34, 44, 312396), "day": date(2026, 12, 2), "n": 1}]) == (
        "at,day,n\r\n2026-12-02T14:34:44.312396+00:00,2026-12-02,1\r\n")
    import pandas  # installed with chdb, a test dependency: a missing one fails here rather than skipping
    frame = pandas.read_csv(path, parse_dates=["start_time"])
    assert str(frame["start_time"].dt.tz) == "UTC"
    assert [t.to_pydatetime().replace(tzinfo=None) for t in frame["start_time"]] == [r.start_time for r in rows]
