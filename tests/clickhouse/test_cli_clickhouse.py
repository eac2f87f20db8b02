"""``otel-llm <analysis> --db clickhouse://…``: the same table as on DuckDB, and one line for what cannot run.

The data has agent steps (tools, nested agents, retry loops), so ``tools``, ``agents``,
``retries`` and compare's turn table print real rows on both engines.

The commands run as a user runs them (the Typer app), against chdb behind
ClickHouse's HTTP interface, over data loaded by ``otel-llm load`` from the same
files a DuckDB store ingested.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest
from typer.testing import CliRunner

from otel_llm.cli import app
from tests.support.clickhouse_http import ChdbHttpServer
from tests.support.synthetic import generate


def run(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})


@pytest.fixture(scope="module")
def dbs(tmp_path_factory: pytest.TempPathFactory, clickhouse_http: ChdbHttpServer) -> Iterator[tuple[str, str]]:
    root = tmp_path_factory.mktemp("cli")
    generate(root / "files", traces=40, peer_spans=True, seed=5, agents="otel_llm")
    duck = str(root / "otel.duckdb")
    assert run("ingest", str(root / "files"), "--db", duck).exit_code == 0
    url = f"clickhouse://default@127.0.0.1:{clickhouse_http.port}/otel_cli"
    assert run("load", str(root / "files"), "--to", url).exit_code == 0
    yield duck, url


@pytest.mark.parametrize("command", [
    ["summary"], ["summary", "--by", "model"], ["summary", "--by", "day", "--since", "2026-10-01"],
    ["check", "--max-error-rate", "0.5"], ["budget", "--monthly", "100", "--month", "2026-11"],
    ["logs", "--search", "timeout"], ["logs", "--patterns"], ["traces", "--top", "3", "--tree"],
    ["quality"], ["trends", "--period", "week"],
    ["tools"], ["tools", "--order", "errors"], ["agents"], ["retries"], ["retries", "--by", "run_config.max_retries"],
    ["compare"], ["compare", "--by", "run_config.max_retries"],
    # names the store does not hold: refused alike, naming those it holds
    ["compare", "--by", "run_config.nosuch"], ["summary", "--by", "run_config.nosuch"],
    ["quality", "--evaluation", "nosuch"], ["logs", "--service", "nosuch"],
])
def test_the_command_prints_the_same_on_clickhouse(dbs: tuple[str, str], command: list[str]) -> None:
    duck, url = dbs
    on_duck, on_clickhouse = run(*command, "--db", duck), run(*command, "--db", url)
    assert on_duck.exit_code == on_clickhouse.exit_code, on_clickhouse.output
    assert on_clickhouse.output == on_duck.output


def test_sql_is_read_only_on_clickhouse(dbs: tuple[str, str]) -> None:
    _, url = dbs
    counted = run("sql", "SELECT count() AS n FROM llm_calls", "--db", url, "--format", "json")
    assert counted.exit_code == 0 and '"n"' in counted.output
    refused = run("sql", "DROP TABLE otel_traces", "--db", url)
    assert refused.exit_code == 1 and "refused: only queries run here" in refused.output
    assert run("sql", "SELECT count() AS n FROM otel_traces", "--db", url).exit_code == 0  # still there


def test_what_cannot_run_says_so_in_one_line(dbs: tuple[str, str], tmp_path: Path) -> None:
    _, url = dbs
    generate(tmp_path / "files", traces=1)
    ingest = run("ingest", str(tmp_path / "files"), "--db", url)
    assert ingest.exit_code == 2 and "otel-llm load FILES --to URL" in ingest.output
    compared = run("compare", "--db", url)  # the call figures and the turns' table
    assert compared.exit_code == 0 and "compare by model" in compared.output and "turns by" in compared.output
    for prune in (["--older-than", "30d"], ["--before", "2026-11-01", "--dry-run"]):  # data goes by TTL there
        pruned = run("prune", *prune, "--db", url)
        assert pruned.exit_code == 2 and "a ClickHouse store keeps data by its tables' TTL" in pruned.output
    unreachable = run("summary", "--db", "clickhouse://default@127.0.0.1:9/otel")
    assert unreachable.exit_code == 1 and "cannot reach ClickHouse" in unreachable.output


def test_report_and_the_environment_variable(dbs: tuple[str, str], tmp_path: Path) -> None:
    duck, url = dbs
    on_duck = run("report", "--db", duck, "--max-views", "1", "--out", str(tmp_path / "duck.html"))
    on_clickhouse = CliRunner().invoke(app, ["report", "--max-views", "1", "--out", str(tmp_path / "ch.html")],
                                       env={"COLUMNS": "200", "OTEL_LLM_DB": url})
    assert on_duck.exit_code == 0 and on_clickhouse.exit_code == 0, on_clickhouse.output
    page = (tmp_path / "ch.html").read_text()
    assert "Needs a DuckDB store" not in page and "search_web" in page  # the tools table has its rows
    budget = CliRunner().invoke(app, ["budget", "--monthly", "500", "--month", "2026-11"],
                                env={"COLUMNS": "200", "OTEL_LLM_DB": url})
    assert budget.output == run("budget", "--monthly", "500", "--month", "2026-11", "--db", duck).output


def test_serve_answers_from_clickhouse(dbs: tuple[str, str], tmp_path: Path) -> None:
    import subprocess
    import sys

    import httpx

    from otel_llm_analysis import Filters, tool_usage, totals
    from otel_llm_analysis.store import TraceStore
    from tests.collector.conftest import free_port
    from tests.web.conftest import wait_until_serving

    duck, url = dbs
    port = free_port()
    log = tmp_path / "serve.log"
    process = subprocess.Popen([str(Path(sys.executable).parent / "otel-llm"), "serve", "--db", url, "--port", str(port)],
                               stdout=log.open("wb"), stderr=subprocess.STDOUT)
    try:
        wait_until_serving(process, f"http://127.0.0.1:{port}")
        with TraceStore(duck, read_only=True) as store:
            spans = totals(store, Filters()).spans
            names = sorted(row.tool for row in tool_usage.tools(store))
        assert httpx.get(f"http://127.0.0.1:{port}/api/status", timeout=60).json()["spans"] == spans
        summary = httpx.get(f"http://127.0.0.1:{port}/api/summary", timeout=120)
        assert summary.status_code == 200, summary.text
        served = httpx.get(f"http://127.0.0.1:{port}/api/tools", timeout=120).json()
        assert sorted(row["tool"] for row in served["rows"]) == names and names
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.parametrize("module", ["clickhouse_connect", "sqlglot"])
@pytest.mark.parametrize("args", [["summary", "--db", "clickhouse://default@127.0.0.1:9/otel"],
                                  ["load", ".", "--to", "clickhouse://default@127.0.0.1:9/otel"]])
def test_without_the_clickhouse_extra_each_command_says_the_one_install_line(
        tmp_path: Path, module: str, args: list[str]) -> None:
    """``pip install otel-llm[analysis]`` then ``--db``/``--to clickhouse://``: the same line (exit 2) as any
    other command's missing extra (``otel_llm._extras``), never "otel-llm failed" nor a wording of its own."""
    from otel_llm._extras import missing_extra_message

    script = (f"import sys; sys.modules[{module!r}] = None\n"
              "from otel_llm.cli import run\n"
              f"sys.exit(run({args!r}))\n")
    env = {k: v for k, v in os.environ.items() if k != "OTEL_LLM_RAISE_INTERNAL_ERRORS"}
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert (proc.returncode, proc.stderr.strip().splitlines()) == (
        2, [f"error: {missing_extra_message('clickhouse', module)}"]), proc.stderr


def test_the_first_analysis_after_an_upgrade_says_it_rebuilds_the_span_table(
        clickhouse_url: str, tmp_path: Path) -> None:
    """A release that derives the span columns differently rebuilds the span table from every stored span
    on its first open (minutes on a big store): the command says so on stderr as it goes, its output is
    the same, and the next command says nothing."""
    from otel_llm_analysis.clickhouse._views import span_table_name

    generate(tmp_path / "files", traces=3)
    assert run("load", str(tmp_path / "files"), "--to", clickhouse_url).exit_code == 0
    before = run("summary", "--db", clickhouse_url)
    database, table = clickhouse_url.rsplit("/", 1)[1], span_table_name()
    assert run("sql", f"SELECT count() FROM {table}", "--db", clickhouse_url).exit_code == 0
    from otel_llm_analysis.clickhouse.store import ClickHouseStore

    with ClickHouseStore(clickhouse_url) as store:  # as the release before left it: another derivation's table
        store.connection.client.command(f"RENAME TABLE `{database}`.`{table}` TO `{database}`.otel_llm_spans_v0")
        store.connection.client.command(f"DROP VIEW `{database}`.`{table}_mv`")
    after = run("summary", "--db", clickhouse_url)
    assert after.exit_code == 0 and after.stdout == before.stdout
    notes = after.stderr.splitlines()
    assert notes[0].startswith(f"note: building otel-llm's span table ({table}) from the ") and len(notes) >= 2
    assert notes[-1].startswith("note: span table: ") and notes[-1].endswith(", done"), notes
    assert run("summary", "--db", clickhouse_url).stderr == ""
