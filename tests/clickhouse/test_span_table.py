"""The derived span table beside the exporter's otel_traces: filled at insert, backfilled once.

A database the collector filled before otel-llm first opened it gets the derived
rows of its stored spans; later spans arrive through the materialized view, once
each; an interrupted backfill is finished without repeats; the exporter's own
tables are left exactly as its DDL made them.
"""

from __future__ import annotations

import chdb.session
import pytest

from otel_llm.collector import exporter_sql_dir
from otel_llm_analysis.clickhouse import TRACES_TABLE, ExporterSchema
from otel_llm_analysis.clickhouse._span_table import COMPLETE, ensure_span_table, span_table_statements
from otel_llm_analysis.clickhouse._views import span_table_name
from tests.support.chdb_client import SessionClient


def create(session: chdb.session.Session, database: str, ttl_seconds: int = 0) -> SessionClient:
    for statement in ExporterSchema(database=database, ttl_seconds=ttl_seconds).statements(exporter_sql_dir()):
        session.query(statement)
    return SessionClient(session)


def insert(session: chdb.session.Session, database: str, span_ids: list[str]) -> None:
    values = ", ".join(f"('2026-11-30 12:00:00', 't', '{span_id}', 'op', 'Client', 'svc', "
                       f"map('gen_ai.request.model', 'gpt-4o', 'gen_ai.usage.input_tokens', '7'), 1000, 'Ok')"
                       for span_id in span_ids)
    session.query(f"INSERT INTO `{database}`.{TRACES_TABLE} (Timestamp, TraceId, SpanId, SpanName, SpanKind, "
                  f"ServiceName, SpanAttributes, Duration, StatusCode) VALUES {values}")


def derived(session: chdb.session.Session, database: str) -> list[tuple[str, str | None, int | None]]:
    client = SessionClient(session)
    return sorted(client.query(f"SELECT span_id, model, input_tokens FROM `{database}`.`{span_table_name()}`")
                  .result_rows)


def table_ddl(session: chdb.session.Session, database: str) -> dict[str, str]:
    rows = SessionClient(session).query(f"SELECT name, create_table_query FROM system.tables "
                                        f"WHERE database = '{database}' AND name LIKE 'otel\\\\_%'").result_rows
    return {name: ddl for name, ddl in rows if not name.startswith("otel_llm_")}


def test_spans_stored_before_the_table_are_backfilled_and_later_ones_arrive_once(
        chdb_session: chdb.session.Session, database: str) -> None:
    client = create(chdb_session, database)
    exporters = table_ddl(chdb_session, database)
    insert(chdb_session, database, ["a", "b"])  # the collector wrote these before otel-llm looked
    assert ensure_span_table(client, database) == span_table_name()
    assert derived(chdb_session, database) == [("a", "gpt-4o", 7), ("b", "gpt-4o", 7)]
    ensure_span_table(client, database)  # the next store that opens: nothing copied again
    insert(chdb_session, database, ["c"])  # the exporter's next insert, through the materialized view
    assert [row[0] for row in derived(chdb_session, database)] == ["a", "b", "c"]
    assert table_ddl(chdb_session, database) == exporters  # the exporter's tables as its DDL made them


def test_an_interrupted_backfill_is_finished_without_repeats(chdb_session: chdb.session.Session,
                                                             database: str) -> None:
    client = create(chdb_session, database)
    insert(chdb_session, database, ["a", "b"])
    for statement in span_table_statements(database):  # table and view made, backfill never ran
        chdb_session.query(statement)
    insert(chdb_session, database, ["c"])
    assert [row[0] for row in derived(chdb_session, database)] == ["c"]
    ensure_span_table(client, database)
    assert [row[0] for row in derived(chdb_session, database)] == ["a", "b", "c"]
    comment = client.query(f"SELECT comment FROM system.tables WHERE database = '{database}' "
                           f"AND name = '{span_table_name()}'").result_rows
    assert comment == [(COMPLETE,)]


def test_the_table_of_another_derivation_is_dropped(chdb_session: chdb.session.Session, database: str) -> None:
    client = create(chdb_session, database)
    old = "otel_llm_spans_v0000000000"
    chdb_session.query(f"CREATE TABLE `{database}`.{old} (span_id String) ENGINE = MergeTree ORDER BY span_id")
    chdb_session.query(f"CREATE MATERIALIZED VIEW `{database}`.{old}_mv TO `{database}`.{old} "
                       f"AS SELECT SpanId AS span_id FROM `{database}`.{TRACES_TABLE}")
    ensure_span_table(client, database)
    names = {row[0] for row in client.query(f"SELECT name FROM system.tables WHERE database = '{database}'")
             .result_rows}
    assert old not in names and f"{old}_mv" not in names
    assert {span_table_name(), f"{span_table_name()}_mv"} <= names


@pytest.mark.parametrize(("ttl_seconds", "expected"), [(3 * 86400, "TTL toDateTime(start_time) + toIntervalDay(3)"),
                                                        (0, None)])
def test_the_span_table_keeps_the_exporters_ttl(chdb_session: chdb.session.Session, database: str,
                                                ttl_seconds: int, expected: str | None) -> None:
    client = create(chdb_session, database, ttl_seconds)
    ensure_span_table(client, database)
    (engine,), = client.query(f"SELECT engine_full FROM system.tables WHERE database = '{database}' "
                              f"AND name = '{span_table_name()}'").result_rows
    if expected is None:
        assert "TTL" not in engine, engine
    else:
        assert expected in engine, engine
