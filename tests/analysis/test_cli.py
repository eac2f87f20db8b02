"""The analysis commands end to end: real files, a real DuckDB file, exit codes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
import typer
from typer.testing import CliRunner

from tests.support import synthetic
from otel_llm_analysis.cli import register

from _ground_truth import is_llm


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


@pytest.fixture()
def ingested(tmp_path):
    """Files ingested through the CLI itself into a fresh database."""
    data = synthetic.generate(tmp_path / "otel-data", seed=53, traces=80, days=20)
    db = str(tmp_path / "cli.duckdb")
    result = CliRunner().invoke(_app(), ["ingest", *map(str, data.files), "--db", db])
    assert result.exit_code == 0, result.output
    return db, data


def run(*args: str):
    return CliRunner().invoke(_app(), list(args))


def test_ingest_reports_counts_and_rejects_missing_files(ingested, tmp_path):
    db, data = ingested
    with duckdb.connect(db, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM spans").fetchone()[0] == len(data.spans)
    missing = run("ingest", str(tmp_path / "nope.jsonl"), "--db", db)
    assert missing.exit_code == 1
    said = missing.output.strip().splitlines()  # one line: the path, then what writes data files
    assert len(said) == 1 and said[0].startswith(f"error: no such file or directory: {tmp_path / 'nope.jsonl'}; ")


def test_ingest_lists_bad_lines_and_exits_3_loaded_with_problems(tmp_path):
    bad = tmp_path / "traces-bad.jsonl"
    bad.write_text('{"resourceSpans": []}\nnot json at all\n{"resourceSpans": 7}\n')
    data = synthetic.generate(tmp_path / "data", seed=5, traces=3)
    good = next(f for f in data.files if f.name == "traces.jsonl")
    db = str(tmp_path / "bad.duckdb")
    result = run("ingest", str(bad), str(good), "--db", db)
    assert result.exit_code == 3, result.output
    assert f"{bad}:2" in result.output and f"{bad}:3" in result.output
    with duckdb.connect(db, read_only=True) as con:  # everything readable is in
        assert con.execute("SELECT count(*) FROM spans").fetchone()[0] == len(data.spans)
    assert run("ingest", str(good), "--db", db).exit_code == 0  # nothing new, no problem
    not_a_database = tmp_path / "other.duckdb"
    not_a_database.write_bytes(b"not a database" * 100)
    unusable = run("ingest", str(good), "--db", str(not_a_database))
    assert unusable.exit_code == 1 and unusable.output.startswith("error: cannot open database")


def test_summary_json_equals_the_records(ingested):
    db, data = ingested
    result = run("summary", "--by", "model", "--format", "json", "--db", db)
    assert result.exit_code == 0, result.output
    rows = {r["key"]: r for r in json.loads(result.stdout)["rows"]}
    calls = [s for s in data.spans if is_llm(s)]
    for model in {s.request_model for s in calls}:
        assert rows[model]["llm_calls"] == sum(s.request_model == model for s in calls)
    totals = json.loads(run("summary", "--format", "json", "--db", db).stdout)["rows"][0]
    assert totals["llm_calls"] == len(calls)
    assert totals["cost_usd"] == pytest.approx(sum(s.cost_usd or 0 for s in calls))


def test_database_from_the_environment(ingested):
    db, data = ingested
    result = CliRunner().invoke(_app(), ["sql", "SELECT count(*) AS n FROM spans", "-f", "csv"],
                                env={"OTEL_LLM_DB": db})
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1] == str(len(data.spans))


def test_table_output_and_bad_dimension(ingested):
    db, _ = ingested
    table = run("summary", "--by", "project", "--db", db)
    assert table.exit_code == 0 and "support" in table.output
    bad = run("summary", "--by", "colour", "--db", db)
    assert bad.exit_code == 2 and "unknown dimension" in bad.output
    for command in (["trends"], ["trends", "--period", "week", "--metric", "cost"], ["compare"],
                    ["compare", "--by", "run_config.temperature"], ["quality", "--by", "day"],
                    ["logs", "--severity", "ERROR"], ["logs", "--patterns"], ["traces", "--top", "3", "--tree"]):
        result = run(*command, "--db", db)
        assert result.exit_code == 0, (command, result.output)


def test_budget_exit_code_gates_ci(ingested, tmp_path):
    db, data = ingested
    november = sum(s.cost_usd or 0 for s in data.spans if is_llm(s) and s.start_time.month == 11)
    args = ["budget", "--month", "2026-11", "--as-of", "2026-11-20", "--db", db]
    ok = run(*args, "--monthly", str(november * 10))
    assert ok.exit_code == 0 and "ok" in ok.output
    critical = run(*args, "--monthly", str(november * 1.05), "--format", "json")
    assert critical.exit_code == 1
    assert json.loads(critical.stdout)["rows"][0]["status"] == "critical"
    budgets = tmp_path / "budgets.yaml"
    budgets.write_text(f"monthly: {november * 10}\nprojects:\n  support: 0.000001\n")
    assert run(*args, "--file", str(budgets)).exit_code == 1
    assert run(*args).exit_code == 2  # no budget given
    assert "Exit codes" in run("budget", "--help").output


def test_sql_is_read_only(ingested):
    db, data = ingested
    result = run("sql", "SELECT count(*) AS n FROM spans", "--format", "csv", "--db", db)
    assert result.exit_code == 0
    assert result.output.splitlines() == ["n", str(len(data.spans))]
    for statement in ("DELETE FROM logs", "CREATE TABLE scratch AS SELECT 1 AS x"):  # logs: a base table
        write = run("sql", statement, "--db", db)
        assert write.exit_code == 1 and "read-only" in write.output.lower(), write.output


def test_a_mistyped_column_in_sql_keeps_duckdbs_suggestion(ingested):
    """`otel-llm sql "select modl from llm_calls"` said only that "modl" was not found: the line
    naming the columns it could have meant was cut off with the rest of DuckDB's message."""
    db, _ = ingested
    result = run("sql", "SELECT modl FROM llm_calls", "--db", db)
    assert result.exit_code == 1
    (line,) = [line for line in result.output.splitlines() if "modl" in line]
    assert 'Referenced column "modl" not found' in line and 'Candidate bindings: "model"' in line, result.output
    assert "LINE 1" not in result.output  # the echo of the statement stays out: one line


def test_convenience_views_agree_with_the_records(ingested):
    db, data = ingested
    result = run("sql", "SELECT sum(calls) AS calls, sum(cost_usd) AS cost FROM daily_usage", "--format", "json",
                 "--db", db)
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)["rows"]
    calls = [s for s in data.spans if is_llm(s)]
    assert row["calls"] == len(calls)
    assert row["cost"] == pytest.approx(sum(s.cost_usd or 0 for s in calls))
    traces = json.loads(run("sql", "SELECT count(*) AS n, sum(spans) AS spans FROM trace_summary",
                            "--format", "json", "--db", db).stdout)["rows"][0]
    assert (traces["n"], traces["spans"]) == (len({s.trace_id for s in data.spans}), len(data.spans))


def test_results_written_with_out_and_spans_exported(ingested, tmp_path):
    db, data = ingested
    out = tmp_path / "compare.csv"
    result = run("compare", "--out", str(out), "--db", db)  # the format comes from the suffix
    assert result.exit_code == 0, result.output
    assert out.read_text().startswith("key,calls,")
    parquet = tmp_path / "summary.parquet"
    assert run("summary", "--by", "model", "--format", "parquet", "--out", str(parquet), "--db", db).exit_code == 0
    with duckdb.connect() as con:
        assert con.execute(f"SELECT sum(llm_calls) FROM '{parquet}'").fetchone()[0] == sum(map(is_llm, data.spans))
    spans_dir = tmp_path / "spans"
    assert run("export", "spans", "--format", "parquet", "--out", str(spans_dir), "--db", db).exit_code == 0
    with duckdb.connect() as con:
        n = con.execute(f"SELECT count(*) FROM read_parquet('{spans_dir}/**/*.parquet')").fetchone()[0]
    assert n == len(data.spans)


@pytest.mark.parametrize("fmt", ["parquet", "csv", "json"])
def test_exporting_a_store_without_spans_says_nothing_was_written(tmp_path, fmt):
    from otel_llm_analysis import TraceStore

    db = str(tmp_path / "empty.duckdb")
    TraceStore(db).close()
    result = run("export", "spans", "--format", fmt, "--out", str(tmp_path / "spans"), "--db", db)
    assert result.exit_code == 1 and "nothing to write: the store has no spans" in result.output
    assert "wrote" not in result.output and not list((tmp_path / "spans").rglob("*.*"))


def test_missing_or_unreadable_database_is_one_line(tmp_path):
    result = run("summary", "--db", str(tmp_path / "none.duckdb"))
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1 and "otel-llm ingest" in result.output
    garbage = tmp_path / "garbage.duckdb"
    garbage.write_bytes(b"this is not a database" * 1000)
    for args in (["summary"], ["ingest", str(garbage)]):
        result = run(*args, "--db", str(garbage))
        assert result.exit_code == 1, result.output
        assert result.output.startswith("error: ") and len(result.output.strip().splitlines()) == 1


def test_trends_json_is_one_document(ingested):
    db, data = ingested
    result = run("trends", "--format", "json", "--db", db)
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert set(document) == {"series", "changes", "spikes", "forecast", "notes"}
    assert sum(p["calls"] for p in document["series"]) == sum(is_llm(s) for s in data.spans)


def test_cli_imports_without_duckdb_and_says_what_to_install(tmp_path):
    """Instrumented apps install otel-llm without [analysis]: registering must still work."""
    script = (
        "import sys; sys.modules['duckdb'] = None\n"
        "import importlib.util as u; real = u.find_spec\n"
        "u.find_spec = lambda name, *a: None if name == 'duckdb' else real(name, *a)\n"
        "import typer; from typer.testing import CliRunner\n"
        "from otel_llm_analysis.cli import register\n"
        "app = typer.Typer(); register(app)\n"
        f"r = CliRunner().invoke(app, ['summary', '--db', {str(tmp_path / 'x.duckdb')!r}])\n"
        "print(r.exit_code); print(r.output)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    code, message = out.split("\n", 1)
    assert code == "2" and "pip install 'otel-llm[analysis]'" in message


@pytest.mark.parametrize(("module", "args"), [
    ("msgspec", ["ingest", "data", "--db", "new.duckdb"]),  # DuckDB installed, another module of the extra not: was "otel-llm failed"
    ("orjson", ["report", "--db", "x.duckdb"]),
    ("yaml", ["budget", "--file", "budgets.yaml", "--db", "x.duckdb"]),
])
def test_a_missing_module_of_an_extra_names_the_install_line(tmp_path, module, args):
    """``pip install otel-llm`` then an analysis command: a module of the extra that is not installed
    is the user's install to complete (one line, exit 2), never "otel-llm failed"."""
    synthetic.generate(tmp_path / "data", seed=1, traces=2)
    (tmp_path / "budgets.yaml").write_text("- {monthly_usd: 50}\n")
    assert run("ingest", str(tmp_path / "data"), "--db", str(tmp_path / "x.duckdb")).exit_code == 0
    script = (f"import sys; sys.modules[{module!r}] = None\n"
              "from otel_llm.cli import run\n"
              f"sys.exit(run({args!r}))\n")
    env = {k: v for k, v in os.environ.items() if k != "OTEL_LLM_RAISE_INTERNAL_ERRORS"}
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"error: this command needs otel-llm's analysis extra ({module!r} is not installed): "
        "pip install 'otel-llm[analysis]'"], proc.stderr


def test_a_missing_module_of_otel_llm_itself_is_still_its_own_fault(tmp_path):
    """Only modules of the commands' extras are the user's install to complete; any other is a bug."""
    synthetic.generate(tmp_path / "data", seed=1, traces=2)
    assert run("ingest", str(tmp_path / "data"), "--db", str(tmp_path / "x.duckdb")).exit_code == 0
    script = ("import sys; sys.modules['otel_llm_analysis.summaries'] = None\n"
              "from otel_llm.cli import run\n"
              "sys.exit(run(['summary', '--db', 'x.duckdb']))\n")
    env = {k: v for k, v in os.environ.items() if k != "OTEL_LLM_RAISE_INTERNAL_ERRORS"}
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert proc.returncode == 1 and "error: otel-llm failed (ModuleNotFoundError" in proc.stderr, proc.stderr
    assert "extra" not in proc.stderr, proc.stderr


def test_the_extras_are_read_from_the_package_metadata():
    """Import names of the commands' extras (pyproject.toml), not of the test-only ones (dev, peers)."""
    from otel_llm._extras import extra_providing

    assert [extra_providing(m) for m in ("duckdb", "yaml", "pyarrow.compute", "fastapi", "clickhouse_connect")] == [
        "analysis", "analysis", "analysis", "web", "clickhouse"]
    assert [extra_providing(m) for m in ("openai", "pytest", "otel_llm_analysis", None)] == [None] * 4


def test_print_report(ingested):
    from rich.console import Console

    from otel_llm_analysis.report import print_report
    from otel_llm_analysis.store import TraceStore

    db, _ = ingested
    store = TraceStore(db)
    console = Console(width=160, record=True)
    print_report(store, console, monthly_budget=1000.0)
    text = console.export_text()
    store.close()
    assert "cost by model" in text and "budget" in text and "ok" in text
    assert "QA pass rate" in text
    assert Path(db).exists()


def test_every_analysis_command_takes_db_and_format(tmp_path):
    """The README's sentence: --db and --format table|json|csv on every analysis command, ingest included."""
    data = synthetic.generate(tmp_path / "d", seed=5, traces=10, days=2)
    db = str(tmp_path / "f.duckdb")
    ingested = run("ingest", *map(str, data.files), "--db", db, "--format", "json")
    assert ingested.exit_code == 0, ingested.output
    (report,) = json.loads(ingested.stdout)["rows"]
    assert report["spans_added"] == len(data.spans)
    app = typer.main.get_command(_app())
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text("utf-8")
    listed = re.search(r"The analysis commands \(([^)]*)\)\s+all take", readme)
    assert listed, "the README lists the analysis commands"
    names = re.findall(r"`([a-z]+)`", listed.group(1))
    assert {"ingest", "summary", "processes", "tools", "sql"} <= set(names), names
    for name in names:
        options = {opt for param in app.commands[name].params for opt in getattr(param, "opts", [])}
        assert {"--db", "--format", "--out"} <= options, name
    for fmt in ("csv", "json"):
        assert run("summary", "--by", "model", "--format", fmt, "--db", db).exit_code == 0
    refused = run("export", "spans", "--format", "table", "--out", str(tmp_path / "x"), "--db", db)
    assert refused.exit_code == 2 and "table" in refused.output


def test_print_report_names_unpriced_models_whatever_their_brackets(tmp_path):
    """Model names are the producer's text: ``acme[/v2]`` stopped the report with a markup error,
    ``acme [beta] x`` lost its ``[beta]``."""
    import orjson
    from rich.console import Console

    from otel_llm_analysis.report import print_report
    from otel_llm_analysis.store import TraceStore

    models = ["acme[/v2]", "acme [beta] x"]
    start = 1_764_590_400_000_000_000
    spans = [{"traceId": f"{i + 1:032x}", "spanId": f"{i + 1:016x}", "name": "chat", "kind": 3,
              "startTimeUnixNano": str(start), "endTimeUnixNano": str(start + 10**9),
              "attributes": [{"key": k, "value": v} for k, v in (
                  ("gen_ai.operation.name", {"stringValue": "chat"}), ("gen_ai.request.model", {"stringValue": model}),
                  ("gen_ai.usage.input_tokens", {"intValue": "10"}), ("gen_ai.usage.output_tokens", {"intValue": "5"}))]}
             for i, model in enumerate(models)]
    path = tmp_path / "traces.jsonl"
    path.write_bytes(orjson.dumps({"resourceSpans": [{"resource": {}, "scopeSpans": [{"spans": spans}]}]}) + b"\n")
    with TraceStore(str(tmp_path / "s.duckdb")) as store:
        store.ingest(path)
        console = Console(width=160, record=True, file=open("/dev/null", "w"))
        print_report(store, console)
    text = console.export_text()
    (line,) = [line for line in text.splitlines() if "no price known" in line]
    assert set(line.split(": no price known")[0].split(", ")) == set(models)


def test_ingest_lists_bad_lines_whose_text_looks_like_markup(tmp_path):
    """A reported value is the producer's text: ``[/oops]`` ended the ingest command with exit 1 and
    a markup error instead of its list of bad lines (after the rows were stored)."""
    import orjson

    start = 1_764_590_400_000_000_000
    span = {"traceId": "a" * 32, "spanId": "1" * 16, "name": "chat", "kind": 3,
            "startTimeUnixNano": str(start), "endTimeUnixNano": str(start + 10**9),
            "attributes": [{"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
                           {"key": "gen_ai.usage.cost", "value": {"stringValue": "[/oops] [bold]"}}]}
    path = tmp_path / "traces.jsonl"
    path.write_bytes(orjson.dumps({"resourceSpans": [{"resource": {}, "scopeSpans": [{"spans": [span]}]}]}) + b"\n")
    result = run("ingest", str(path), "--db", str(tmp_path / "s.duckdb"))
    assert result.exit_code == 3, result.output
    assert f"bad line {path}:1" in result.output and "'[/oops] [bold]' is not a finite number" in result.output


def test_a_store_another_process_is_writing_says_so_and_when_to_retry(ingested):
    """DuckDB lets one process write a file and none read it meanwhile: an analysis run while a
    scheduled ingest (or ``serve --watch``) writes the store says which process holds it and what to do."""
    from tests.support.app_store import held_by_another_process

    db, data = ingested
    with held_by_another_process(db) as pid:
        reading = run("summary", "--db", db)
        assert reading.exit_code == 1, reading.output
        assert reading.output.strip().splitlines() == [
            f"error: {db} is being written by another process (PID {pid}: an `otel-llm ingest` or "
            "`serve --watch`?), and DuckDB lets no other process open a store meanwhile: run this again once "
            "it is done"]
        writing = run("ingest", str(data.files[0]), "--db", db)
        assert writing.exit_code == 1, writing.output
        assert writing.output.strip().splitlines() == [
            f"error: {db} is open in another process (PID {pid}), and DuckDB lets a process write a store "
            "only while no other has it open: run this again once that one is done"]
        # the Python API: a StoreError of its own kind, naming the process (the demo tells it from others by it)
        from otel_llm_analysis import StoreInUse, TraceStore

        for read_only in (True, False):
            with pytest.raises(StoreInUse) as held:
                TraceStore(db, read_only=read_only)
            assert held.value.pid == str(pid)


def _ingest_with_file_size_limit(args: list[str], limit: int) -> subprocess.CompletedProcess[str]:
    """``otel-llm ingest`` in a process that cannot write files past ``limit`` bytes (as on a full
    disk: writes fail with EFBIG instead of ENOSPC, and no mount is needed)."""
    import resource
    import signal

    def limited() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a failed write, not a killed process
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    env = {k: v for k, v in os.environ.items() if k != "OTEL_LLM_RAISE_INTERNAL_ERRORS"}  # as users run it
    return subprocess.run([sys.executable, "-m", "otel_llm", "ingest", *args], capture_output=True, text=True,
                          preexec_fn=limited, env=env, timeout=300)


def test_a_store_that_cannot_be_written_says_why_and_the_next_ingest_finishes(tmp_path):
    """A full disk mid-ingest: DuckDB's first error (the write that failed) is what the user reads, not
    the 'database has been invalidated' that every later statement raises; what was committed is kept
    and the next ingest, with room, loads the rest - no span twice, none lost."""
    data = synthetic.generate(tmp_path / "otel-data", seed=11, traces=3000, spans_per_line=64)
    traces = next(f for f in data.files if f.name == "traces.jsonl")
    db = tmp_path / "full.duckdb"
    failed = _ingest_with_file_size_limit([str(traces), "--db", str(db)], 2 << 20)
    assert failed.returncode == 1, failed
    assert failed.stderr.strip().splitlines() == [
        f"error: cannot write {db}: File too large - what this ingest committed before is kept, and the "
        "next `otel-llm ingest` (with room to write) finishes it and loads the rest; nothing is read twice"]
    again = run("ingest", str(traces), "--db", str(db))
    assert again.exit_code == 0, again.output
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*), count(DISTINCT (trace_id, span_id)) FROM spans").fetchone() == (
            len(data.spans), len(data.spans))


@pytest.mark.parametrize("text, name, reason", [
    ('{"my-model": {"input": "abc", "output": 2}}', "prices.json", "entry 'my-model': could not convert string to float: 'abc'"),
    ('{"my-model": {"inptu": 1}}', "prices.json", "entry 'my-model': unknown price keys ['inptu']"),
    ("my-model: [1, 2", "prices.yaml", "not valid YAML (line 1, column 16: expected ',' or ']', but got '<stream end>')"),
    ("[1, 2]", "prices.json", "expected a mapping of model -> prices"),
])
def test_an_unusable_pricing_file_stops_the_ingest_before_anything_is_priced(tmp_path, text, name, reason):
    """The SDK skips what it cannot read in a pricing file (it must never stop the app); an ingest told
    to price with a file stops with one line instead, before storing anything: costs computed without
    the prices the user asked for would be silently wrong."""
    data = synthetic.generate(tmp_path / "otel-data", seed=3, traces=5)
    prices = tmp_path / name
    prices.write_text(text)
    db = tmp_path / "priced.duckdb"
    result = run("ingest", str(data.files[0]), "--db", str(db), "--pricing", str(prices))
    assert result.exit_code == 1, result.output
    assert result.output.strip().splitlines() == [f"error: cannot use pricing file {prices}: {reason}"]
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM spans").fetchone() == (0,)


def test_ingest_into_a_log_file_writes_its_report_and_nothing_else(tmp_path):
    """Run from cron or CI, stdout is a file: no progress bar's leftovers (a blank first line) in it."""
    data = synthetic.generate(tmp_path / "otel-data", seed=2, traces=3)
    env = {k: v for k, v in os.environ.items() if k != "OTEL_LLM_RAISE_INTERNAL_ERRORS"}
    done = subprocess.run([sys.executable, "-m", "otel_llm", "ingest", str(tmp_path / "otel-data"), "--db",
                           str(tmp_path / "log.duckdb")], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done
    assert done.stdout.splitlines()[0].startswith(f"{tmp_path / 'otel-data'}: {len(data.files)} file(s)"), done.stdout


def test_model_filter_takes_the_dated_response_model_as_its_help_says(ingested):
    """``--model`` is "the requested, or the dated response model": the dated name was refused with
    "no data for model" (the list of known models held only the requested names), in every command
    and in ``budget --model``, though the API and ``summary --by response_model`` count its calls."""
    db, data = ingested
    calls = [s for s in data.spans if is_llm(s) and s.response_model and s.response_model != s.model]
    dated = sorted({s.response_model for s in calls})[0]
    expected = sum(1 for s in data.spans if is_llm(s) and dated in (s.model, s.response_model))
    done = run("summary", "--db", db, "--model", dated, "--format", "json")
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["rows"][0]["llm_calls"] == expected
    done = run("budget", "--db", db, "--model", dated, "--monthly", "50", "--month", "2026-11", "--format", "json")
    assert done.exit_code in (0, 1), done.output
    assert json.loads(done.stdout)["rows"][0]["calls"] == sum(
        1 for s in data.spans if is_llm(s) and dated in (s.model, s.response_model)
        and s.start_time.strftime("%Y-%m") == "2026-11")


def test_trends_forecasts_the_month_its_until_ends_in(ingested):
    """``trends --until`` in a past month forecast the current month all the same ("spent $0 in 1
    days" of a month the window leaves out): the forecast is now of the month holding the
    window's last day, as of that day."""
    db, data = ingested
    calls = [s for s in data.spans if is_llm(s)]
    last = max(s.start_time for s in calls).date()
    until = last.isoformat()  # exclusive: the window's last day is the day before
    result = run("trends", "--format", "json", "--db", db, "--until", until)
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    forecast = document["forecast"]
    day = date.fromisoformat(until) - timedelta(days=1)
    assert (forecast["month"], forecast["as_of"]) == (day.strftime("%Y-%m"), day.isoformat())
    spent = sum(s.cost_usd or 0.0 for s in calls if s.start_time.date().replace(day=1) == day.replace(day=1)
                and s.start_time.date() <= day)
    assert forecast["spent"] == pytest.approx(spent)


def test_trends_on_a_store_without_calls_says_no_data_like_every_command(tmp_path):
    """It printed the bare headers of an empty table, where summary --by, compare, traces ... say
    "<title>: no data"."""
    db = str(tmp_path / "empty.duckdb")
    from otel_llm_analysis import TraceStore

    TraceStore(db).close()
    for command in (["trends"], ["summary", "--by", "model"]):
        result = run(*command, "--db", db)
        assert result.exit_code == 0, result.output
        assert "no data" in result.output.splitlines()[0], result.output


def test_ingest_of_an_empty_path_is_refused_not_read_as_the_current_directory(tmp_path, monkeypatch):
    """``otel-llm ingest "$DATA_DIR"`` with the variable unset ingested whatever data files the
    current directory held, and said it had read ``""``."""
    data = synthetic.generate(tmp_path / "cwd", seed=5, traces=3)
    monkeypatch.chdir(data.files[0].parent)
    db = tmp_path / "empty-path.duckdb"
    result = run("ingest", "", "--db", str(db))
    assert result.exit_code == 1, result.output
    assert result.output.strip().splitlines() == ["error: an empty path: give a file, directory or glob"]
    assert not db.exists()


def test_a_note_reaches_json_and_stderr_as_plain_text():
    """Notes are Rich markup on a terminal; a program reads their text (app text escaped for the terminal
    comes out as written, and text that is not markup is kept, never an error)."""
    from rich.markup import escape

    from otel_llm_analysis._command import plain

    assert plain("[red]spike[/red] 2026-11-12") == "spike 2026-11-12"
    assert plain(escape("agent [/x]") + ": 2 of 3 calls") == "agent [/x]: 2 of 3 calls"
    assert plain("a [/nope] b") == "a [/nope] b"


def test_every_commands_line_in_the_root_help_is_one_line():
    """``otel-llm --help`` lists each command with the first paragraph of its help: on a terminal wide enough
    for it, that is one line (a hard line break in the paragraph broke it in the middle of the table)."""
    from otel_llm.cli import app

    group = typer.main.get_command(app)
    for name, command in group.commands.items():
        first = (command.help or "").strip().split("\n\n")[0]
        assert "\n" not in first, f"{name}: the first paragraph of its help has a line break: {first!r}"
    shown = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "300", "TERM": "xterm"}, terminal_width=300)
    assert shown.exit_code == 0, shown.output
    rows = [line for line in shown.output.splitlines()[shown.output.splitlines().index(
        next(line for line in shown.output.splitlines() if "Commands" in line)) + 1:] if line.startswith("│")]
    named = [row.split()[1] for row in rows if row.split()[1] in group.commands]
    assert sorted(named) == sorted(group.commands) and len(rows) == len(group.commands), "\n".join(rows)
