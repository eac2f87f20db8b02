"""The exporter's tables, created in chdb from the exporter's own templates.

The templates come from the Go module the collector build compiled (copied beside
the binary by build.sh). Without them these tests FAIL with the build command:
CI builds the collector before the tests (scripts/test.sh), so a missing copy is a
broken setup, never a reason to skip. The column, key and partition assertions
pin what the ClickHouse analysis relies on (docs/clickhouse.md): an exporter
release that changes them fails here first.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import chdb.session
import pytest

from otel_llm.collector import ExporterSqlMissing, exporter_sql_dir
from otel_llm.collector._binary import COLLECTOR_VERSION
from otel_llm_analysis.clickhouse import LOGS_TABLE, METRICS_TABLES, TRACES_TABLE, ExporterSchema


@pytest.fixture(scope="module")
def sql_dir() -> Path:
    try:
        return exporter_sql_dir()
    except ExporterSqlMissing as exc:
        pytest.fail(str(exc), pytrace=False)


def rows(session: chdb.session.Session, sql: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in session.query(sql, "JSONEachRow").bytes().decode().splitlines()]


def create(session: chdb.session.Session, schema: ExporterSchema, sql_dir: Path) -> None:
    for statement in schema.statements(sql_dir):
        session.query(statement)


def test_templates_come_from_the_exporter_release_the_collector_pins(sql_dir: Path) -> None:
    module = (sql_dir / "MODULE").read_text().strip()
    assert module == f"github.com/open-telemetry/opentelemetry-collector-contrib/exporter/clickhouseexporter@{COLLECTOR_VERSION}"


def test_every_exporter_table_is_created_in_chdb(chdb_session: chdb.session.Session, database: str,
                                                 sql_dir: Path) -> None:
    create(chdb_session, ExporterSchema(database=database), sql_dir)
    tables = rows(chdb_session, f"SELECT name, engine, partition_key, sorting_key FROM system.tables "
                                f"WHERE database = '{database}' ORDER BY name")
    by_name = {t["name"]: t for t in tables}
    assert set(by_name) == {TRACES_TABLE, f"{TRACES_TABLE}_trace_id_ts", f"{TRACES_TABLE}_trace_id_ts_mv",
                            LOGS_TABLE, *METRICS_TABLES.values()}
    # What the views must let ClickHouse use: partitions by day, these ordering keys.
    assert by_name[TRACES_TABLE]["partition_key"] == "toDate(Timestamp)"
    assert by_name[TRACES_TABLE]["sorting_key"] == "ServiceName, SpanName, toDateTime(Timestamp)"
    assert by_name[LOGS_TABLE]["sorting_key"] == "toStartOfFiveMinutes(Timestamp), ServiceName, Timestamp"
    assert {by_name[t]["partition_key"] for t in METRICS_TABLES.values()} == {"toDate(TimeUnix)"}
    assert by_name[f"{TRACES_TABLE}_trace_id_ts_mv"]["engine"] == "MaterializedView"

    columns = {c["name"]: c["type"] for c in rows(
        chdb_session, f"SELECT name, type FROM system.columns WHERE database = '{database}' AND table = '{TRACES_TABLE}'")}
    attributes = "Map(LowCardinality(String), String)"
    assert {name: columns.get(name) for name in (
        "Timestamp", "TraceId", "SpanId", "ParentSpanId", "SpanName", "SpanKind", "ServiceName",
        "ResourceAttributes", "SpanAttributes", "Duration", "StatusCode", "StatusMessage",
        "Events.Timestamp", "Events.Name", "Events.Attributes", "Links.TraceId", "Links.Attributes",
    )} == {
        "Timestamp": "DateTime64(9)", "TraceId": "String", "SpanId": "String", "ParentSpanId": "String",
        "SpanName": "LowCardinality(String)", "SpanKind": "LowCardinality(String)",
        "ServiceName": "LowCardinality(String)", "ResourceAttributes": attributes, "SpanAttributes": attributes,
        "Duration": "UInt64", "StatusCode": "LowCardinality(String)", "StatusMessage": "String",
        "Events.Timestamp": "Array(DateTime64(9))", "Events.Name": "Array(LowCardinality(String))",
        "Events.Attributes": f"Array({attributes})", "Links.TraceId": "Array(String)",
        "Links.Attributes": f"Array({attributes})",
    }


def test_subsecond_metrics_change_only_the_metric_tables_point_times(
        chdb_session: chdb.session.Session, database: str, sql_dir: Path) -> None:
    """The exporter's metric tables keep ``TimeUnix`` in whole seconds; with ``subsecond_metrics`` (what
    ``otel-llm load`` creates) the same DDL but those columns at ns, and a point keeps its time within
    its second."""
    ns = f"{database}_ns"
    create(chdb_session, ExporterSchema(database=database), sql_dir)
    create(chdb_session, ExporterSchema(database=ns, subsecond_metrics=True), sql_dir)
    def described(db: str, table: str) -> dict[str, Any]:
        columns = {c["name"]: c["type"] for c in rows(chdb_session, f"SELECT name, type FROM system.columns "
                                                                   f"WHERE database = '{db}' AND table = '{table}'")}
        (keys,) = rows(chdb_session, f"SELECT partition_key, sorting_key, primary_key FROM system.tables "
                                     f"WHERE database = '{db}' AND name = '{table}'")
        return {"columns": columns, **keys}

    for table in METRICS_TABLES.values():
        seconds, subsecond = described(database, table), described(ns, table)
        times = {name for name in seconds["columns"] if name.endswith("TimeUnix")}
        assert times == ({"StartTimeUnix", "TimeUnix", "Exemplars.TimeUnix"} if "summary" not in table
                         else {"StartTimeUnix", "TimeUnix"})  # the summary table has no exemplars
        assert subsecond == {**seconds, "columns": {**seconds["columns"], **{
            name: seconds["columns"][name].replace("DateTime", "DateTime64(9)") for name in times}}}, table
        assert {seconds["columns"][name] for name in times} <= {"DateTime", "Array(DateTime)"}
    for db in (database, ns):
        chdb_session.query(f"INSERT INTO {db}.otel_metrics_gauge (TimeUnix, MetricName, Value) "
                           "VALUES (fromUnixTimestamp64Nano(1764547199123456789), 'm', 1)")
    assert [rows(chdb_session, f"SELECT toString(TimeUnix) AS t FROM {db}.otel_metrics_gauge")[0]["t"]
            for db in (database, ns)] == ["2025-11-30 23:59:59", "2025-11-30 23:59:59.123456789"]


def test_nullable_sums_change_only_the_sum_columns(chdb_session: chdb.session.Session, database: str,
                                                   sql_dir: Path) -> None:
    """With ``nullable_sums`` (what ``otel-llm load`` creates) the histogram, exponential histogram and summary
    tables' ``Sum`` holds NULL (a point sent without one), the rest of every table as the exporter makes it."""
    nullable = f"{database}_nullable"
    create(chdb_session, ExporterSchema(database=database), sql_dir)
    create(chdb_session, ExporterSchema(database=nullable, nullable_sums=True), sql_dir)

    def described(db: str) -> dict[tuple[str, str], str]:
        return {(c["table"], c["name"]): c["type"] for c in rows(
            chdb_session, f"SELECT table, name, type FROM system.columns WHERE database = '{db}'")}

    exporters, ours = described(database), described(nullable)
    changed = {key: (exporters[key], ours[key]) for key in exporters if exporters[key] != ours[key]}
    assert changed == {(METRICS_TABLES[kind], "Sum"): ("Float64", "Nullable(Float64)")
                       for kind in ("histogram", "exp_histogram", "summary")}


def test_the_trace_id_lookup_view_fills_from_inserted_spans(chdb_session: chdb.session.Session, database: str,
                                                            sql_dir: Path) -> None:
    """The view's seven template arguments land in the right places: a span inserted into
    otel_traces appears in otel_traces_trace_id_ts with its start time."""
    create(chdb_session, ExporterSchema(database=database), sql_dir)
    chdb_session.query(
        f"INSERT INTO {database}.{TRACES_TABLE} (Timestamp, TraceId, SpanId, SpanName, ServiceName, SpanAttributes, Duration) "
        "VALUES ('2026-11-30 12:00:00.123456789', 'abc', 's1', 'chat', 'svc', map('gen_ai.request.model', 'gpt-4o'), 1500)"
    )
    assert rows(chdb_session, f"SELECT TraceId, toString(Start) AS Start FROM {database}.{TRACES_TABLE}_trace_id_ts") == [
        {"TraceId": "abc", "Start": "2026-11-30 12:00:00"}
    ]
    assert rows(chdb_session, f"SELECT SpanAttributes['gen_ai.request.model'] AS model FROM {database}.{TRACES_TABLE}") == [
        {"model": "gpt-4o"}
    ]


@pytest.mark.parametrize(("ttl_seconds", "expected"), [
    (30 * 86400, "TTL toDateTime(Timestamp) + toIntervalDay(30)"),
    (36 * 3600, "TTL toDateTime(Timestamp) + toIntervalHour(36)"),
    (90 * 60, "TTL toDateTime(Timestamp) + toIntervalMinute(90)"),
    (61, "TTL toDateTime(Timestamp) + toIntervalSecond(61)"),
])
def test_ttl_is_rendered_as_the_exporter_renders_it(chdb_session: chdb.session.Session, database: str, sql_dir: Path,
                                                    ttl_seconds: int, expected: str) -> None:
    create(chdb_session, ExporterSchema(database=database, ttl_seconds=ttl_seconds), sql_dir)
    for table in (TRACES_TABLE, LOGS_TABLE):
        ddl = rows(chdb_session, f"SELECT create_table_query AS q FROM system.tables "
                                 f"WHERE database = '{database}' AND name = '{table}'")[0]["q"]
        assert expected in ddl, ddl


@pytest.mark.parametrize(("server_version", "index_types"), [
    ((26, 9), {"text"}), ((25, 8), {"bloom_filter", "tokenbf_v1"}),
])
def test_logs_indexes_follow_the_server_version_as_in_the_exporter(
        chdb_session: chdb.session.Session, database: str, sql_dir: Path,
        server_version: tuple[int, int], index_types: set[str]) -> None:
    create(chdb_session, ExporterSchema(database=database, server_version=server_version), sql_dir)
    types = {i["type"] for i in rows(chdb_session, f"SELECT type FROM system.data_skipping_indices "
                                                   f"WHERE database = '{database}' AND table = '{LOGS_TABLE}'")}
    assert types == index_types


def test_missing_templates_are_a_clear_error_naming_the_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_LLM_CACHE_DIR", str(tmp_path / "empty-cache"))
    monkeypatch.delenv("OTEL_LLM_COLLECTOR_BINARY", raising=False)
    with pytest.raises(ExporterSqlMissing, match="otel-llm collector build"):
        ExporterSchema().statements()


def test_a_database_name_that_is_not_a_plain_identifier_is_refused() -> None:
    with pytest.raises(ValueError, match="letters, digits and _"):
        ExporterSchema(database='otel"; DROP')
