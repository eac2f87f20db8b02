"""The collector's ClickHouse exporter writing into ClickHouse (chdb behind its HTTP interface).

``tests/support/clickhouse_http.py`` serves ClickHouse's HTTP protocol from chdb,
so the real exporter (clickhouse-go over HTTP) creates its tables and inserts its
rows into the ClickHouse engine: the schema we render from the templates is
compared with the one the exporter creates itself, an outage with a collector
restart in the middle must still deliver every span, and the ``spans`` view must
read the exporter's rows of a real otel-llm app as the app recorded them.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from otel_llm_analysis.clickhouse import LOGS_TABLE, METRICS_TABLES, TRACES_TABLE, ExporterSchema
from otel_llm_analysis.clickhouse.store import ClickHouseStore
from tests.support.clickhouse_http import ChdbHttpServer

from .conftest import Collector, run_app
from .test_files import post_spans

_databases = itertools.count()
TABLES = (TRACES_TABLE, f"{TRACES_TABLE}_trace_id_ts", f"{TRACES_TABLE}_trace_id_ts_mv", LOGS_TABLE,
          *METRICS_TABLES.values())


@pytest.fixture(scope="module")
def clickhouse() -> Iterator[ChdbHttpServer]:
    with ChdbHttpServer() as server:
        yield server


@pytest.fixture
def database(clickhouse: ChdbHttpServer) -> str:
    clickhouse.up()  # a test that ended mid-outage must not leave the next one without a server
    return f"otel_e2e_{next(_databases)}"


def to_clickhouse(collector_factory: Any, clickhouse: ChdbHttpServer, database: str, **env: str) -> Collector:
    """A collector exporting to the chdb server (uncompressed: the stand-in speaks no lz4 framing)."""
    return collector_factory(clickhouse=f"{clickhouse.url}/{database}",
                             env={"OTEL_LLM_CLICKHOUSE_COMPRESS": "none", **env})


def rows(clickhouse: ChdbHttpServer, sql: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in clickhouse.query(sql).splitlines()]


def wait_for(clickhouse: ChdbHttpServer, sql: str, expected: int, timeout_s: float = 120) -> int:
    """Poll a count until it reaches ``expected`` (the exporter's queue flushes and retries on its own clock)."""
    deadline = time.monotonic() + timeout_s
    while True:
        count = int(rows(clickhouse, sql)[0]["n"])
        if count >= expected or time.monotonic() > deadline:
            return count
        time.sleep(0.5)


def test_the_exporter_creates_exactly_the_schema_rendered_from_its_templates(
        collector_factory, clickhouse: ChdbHttpServer, database: str) -> None:  # type: ignore[no-untyped-def]
    to_clickhouse(collector_factory, clickhouse, database).start().stop()  # create_schema runs at start
    ours = f"{database}_rendered"
    for statement in ExporterSchema(database=ours).statements():
        clickhouse.query(statement)

    def ddl(db: str, table: str) -> str:
        text = rows(clickhouse, f"SELECT create_table_query AS q FROM system.tables "
                                f"WHERE database = '{db}' AND name = '{table}'")[0]["q"]
        return text.replace(f"{db}.", "<db>.").replace(f"`{db}`.", "<db>.")

    for table in TABLES:
        assert ddl(ours, table) == ddl(database, table), table


def test_an_outage_with_a_collector_restart_still_delivers_every_span(
        collector_factory, clickhouse: ChdbHttpServer, database: str) -> None:  # type: ignore[no-untyped-def]
    collector = to_clickhouse(collector_factory, clickhouse, database).start()
    clickhouse.down()
    sent = set()
    for batch in range(3):
        sent |= post_spans(collector, 200, start=batch * 200)  # acknowledged: queued on disk
    collector.stop()  # mid-outage: the queue stays on disk
    collector.env["OTEL_LLM_CLICKHOUSE_CREATE_SCHEMA"] = "false"  # the tables exist; start without ClickHouse
    collector.start()
    sent |= post_spans(collector, 200, start=600)
    clickhouse.up()

    count_sql = f"SELECT count() AS n FROM `{database}`.{TRACES_TABLE}"
    assert wait_for(clickhouse, count_sql, len(sent)) == len(sent)
    stored = rows(clickhouse, f"SELECT TraceId, SpanId FROM `{database}`.{TRACES_TABLE}")
    assert {(r["TraceId"], r["SpanId"]) for r in stored} == sent
    collector.stop()


def test_the_spans_view_reads_an_apps_spans_as_the_app_recorded_them(
        collector_factory, clickhouse: ChdbHttpServer, database: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    collector = to_clickhouse(collector_factory, clickhouse, database).start()
    truth_file = tmp_path / "truth.json"
    app = run_app(tmp_path, collector, "--turns", "5", "--truth", str(truth_file))
    assert app.returncode == 0, app.stdout + app.stderr
    truth = json.loads(truth_file.read_text())
    assert wait_for(clickhouse, f"SELECT count() AS n FROM `{database}`.{TRACES_TABLE}", len(truth)) == len(truth)
    collector.stop()

    # opening the store derives the span table from the rows the exporter wrote (a backfill) and makes the views
    ClickHouseStore(f"clickhouse://default@127.0.0.1:{clickhouse.port}/{database}").close()
    view = {(r["trace_id"], r["span_id"]): r for r in rows(
        clickhouse, f"SELECT trace_id, span_id, parent_span_id, name, otel_kind, request_model, input_tokens, "
                    f"output_tokens, cost_usd, graph_node, db_system FROM `{database}`.spans")}
    assert set(view) == {(t["trace_id"], t["span_id"]) for t in truth}
    for span in truth:
        row, attributes = view[(span["trace_id"], span["span_id"])], span["attributes"]
        assert row["name"] == span["name"] and row["parent_span_id"] == span["parent_span_id"]
        expected = {
            "otel_kind": attributes.get("otel_llm.kind"),
            "request_model": attributes.get("gen_ai.request.model"),
            "input_tokens": attributes.get("gen_ai.usage.input_tokens"),
            "output_tokens": attributes.get("gen_ai.usage.output_tokens"),
            "cost_usd": attributes.get("gen_ai.usage.cost"),
            "graph_node": attributes.get("otel_llm.graph.node"),
            "db_system": attributes.get("db.system.name"),
        }
        assert {k: row[k] for k in expected} == expected, span["name"]
    assert any(r["input_tokens"] for r in view.values()), "the app's LLM calls carry usage"
    logs = wait_for(clickhouse, f"SELECT count() AS n FROM `{database}`.{LOGS_TABLE}", 5)
    assert logs >= 5  # the app logs one record per turn
