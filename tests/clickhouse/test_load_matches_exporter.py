"""``otel-llm load`` writes what the collector's ClickHouse exporter writes, row for row.

One collector exports an app's telemetry twice: to ClickHouse (chdb behind its
HTTP interface; the real exporter) and to its files. Loading those files into a
second database must give the same rows in every column the exporter fills from
data the files hold (the first database's tables made as ``otel-llm load`` makes
them before the collector starts, metric times at ns: the exporter writes into
them, at ns) — attribute values in ``AsString`` form, kinds, statuses,
durations, events, links, service names — and loading them into the first
database (where the exporter already delivered them) must add no span. And
``otel-llm summary --db clickhouse://…`` on the exporter's own rows prints the
table ``otel-llm summary`` prints for a DuckDB store of the collector's files.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from otel_llm.cli import app as otel_llm_cli
from otel_llm_analysis.clickhouse import LOGS_TABLE, METRICS_TABLES, TRACES_TABLE, ExporterSchema
from otel_llm_analysis.clickhouse._load import load
from tests.collector.conftest import collector_binary, collector_factory, run_app  # noqa: F401 - fixtures
from tests.support.clickhouse_http import ChdbHttpServer

#: Columns the decoder does not stage (schema URLs, the scope's dropped count): written empty, counted as not kept.
_NOT_STAGED = {"ResourceSchemaUrl", "ScopeSchemaUrl", "ScopeDroppedAttrCount"}


def _rows(server: ChdbHttpServer, database: str, table: str) -> list[str]:
    columns = [json.loads(line)["name"] for line in server.query(f"DESCRIBE TABLE `{database}`.`{table}`").splitlines()]
    kept = ", ".join(f"`{c}`" for c in columns if c not in _NOT_STAGED)
    text = server.query(f"SELECT {kept} FROM `{database}`.`{table}`", "JSONEachRow")
    return sorted(text.splitlines())


def _wait(server: ChdbHttpServer, sql: str, expected: int) -> int:
    deadline = time.monotonic() + 120
    while True:
        n = int(json.loads(server.query(sql).splitlines()[0])["n"])
        if n >= expected or time.monotonic() > deadline:
            return n
        time.sleep(0.5)


def test_loaded_files_equal_what_the_exporter_wrote(collector_factory: Any, clickhouse_http: ChdbHttpServer,  # noqa: F811
                                                    database: str, tmp_path: Path) -> None:
    server, live, loaded = clickhouse_http, f"{database}_live", f"{database}_loaded"
    for statement in ExporterSchema(database=live, subsecond_metrics=True, nullable_sums=True).statements():
        server.query(statement)  # the exporter's create_schema (IF NOT EXISTS) then uses these tables
    collector = collector_factory(clickhouse=f"{server.url}/{live}", env={"OTEL_LLM_CLICKHOUSE_COMPRESS": "none"})
    collector.start()
    truth_file = tmp_path / "truth.json"
    app = run_app(tmp_path, collector, "--turns", "6", "--truth", str(truth_file))
    assert app.returncode == 0, app.stdout + app.stderr
    spans = len(json.loads(truth_file.read_text()))
    assert _wait(server, f"SELECT count() AS n FROM {live}.{TRACES_TABLE}", spans) == spans
    _wait(server, f"SELECT count() AS n FROM {live}.{LOGS_TABLE}", 6)
    collector.stop()  # flushes the files and the last exporter batches

    url = server.url.replace("http://", "clickhouse://")
    report = load([str(collector.data_dir)], f"{url}/{loaded}")
    assert report.bad_lines == []
    assert report.spans_added == spans

    for table in (TRACES_TABLE, LOGS_TABLE, *METRICS_TABLES.values()):
        assert _rows(server, loaded, table) == _rows(server, live, table), table
    assert _rows(server, live, LOGS_TABLE), "the app logs: the comparison covered log rows"
    assert _rows(server, live, METRICS_TABLES["sum"]), "and records metrics: it covered metric rows"
    assert json.loads(server.query(f"SELECT countIf(toUnixTimestamp64Nano(TimeUnix) % 1000000000 != 0) AS n "
                                   f"FROM {live}.{METRICS_TABLES['sum']}"))["n"], "the exporter kept sub-seconds"

    again = load([str(collector.data_dir)], f"{url}/{live}")  # the exporter already delivered them
    assert again.spans_added == 0 and again.logs_added == 0 and again.metric_points_added == 0

    # the "done when": summary on what the exporter wrote is the table DuckDB gives for the files
    duck = str(tmp_path / "otel.duckdb")
    assert CliRunner().invoke(otel_llm_cli, ["ingest", str(collector.data_dir), "--db", duck]).exit_code == 0
    for command in (["summary"], ["summary", "--by", "model"]):
        on_duck = CliRunner().invoke(otel_llm_cli, [*command, "--db", duck], env={"COLUMNS": "200"})
        on_exporters = CliRunner().invoke(otel_llm_cli, [*command, "--db", f"{url}/{live}"], env={"COLUMNS": "200"})
        assert on_duck.exit_code == on_exporters.exit_code == 0, on_exporters.output
        assert on_exporters.output == on_duck.output
