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
from otel_llm_analysis.clickhouse._span_table import (COMPLETE, ensure_span_table, span_table_statements,
                                                      trace_times_statements)
from otel_llm_analysis.clickhouse._views import TRACE_TIMES_TABLE, span_table_name
from tests.support.chdb_client import SessionClient


def create(session: chdb.session.Session, database: str, ttl_seconds: int = 0) -> SessionClient:
    for statement in ExporterSchema(database=database, ttl_seconds=ttl_seconds).statements(exporter_sql_dir()):
        session.query(statement)
    return SessionClient(session)


def insert(session: chdb.session.Session, database: str, span_ids: list[str], at: str = "2026-11-30 12:00:00",
           trace: str = "t") -> None:
    values = ", ".join(f"('{at}', '{trace}', '{span_id}', 'op', 'Client', 'svc', "
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


def trace_times(session: chdb.session.Session, database: str) -> list[tuple[str, str, str]]:
    return sorted((trace, str(first), str(last)) for trace, first, last in SessionClient(session).query(
        f"SELECT trace_id, toString(toDateTime(min(first_start))), toString(toDateTime(max(last_start))) "
        f"FROM `{database}`.{TRACE_TIMES_TABLE} "
        "GROUP BY trace_id").result_rows)


def test_each_traces_first_and_last_start_are_kept_as_its_spans_arrive(chdb_session: chdb.session.Session,
                                                                      database: str) -> None:
    client = create(chdb_session, database)
    insert(chdb_session, database, ["a"], at="2026-11-30 12:00:00")  # stored before otel-llm looked
    insert(chdb_session, database, ["x"], at="2026-11-02 08:00:00", trace="u")
    for statement in trace_times_statements(database):  # table and view made, backfill never ran
        chdb_session.query(statement)
    insert(chdb_session, database, ["b"], at="2026-11-29 23:00:00")  # counted by the view, and again below
    ensure_span_table(client, database)
    assert trace_times(chdb_session, database) == [("t", "2026-11-29 23:00:00", "2026-11-30 12:00:00"),
                                                   ("u", "2026-11-02 08:00:00", "2026-11-02 08:00:00")]
    insert(chdb_session, database, ["c"], at="2026-12-01 01:00:00")  # a late span widens its trace's times
    insert(chdb_session, database, ["d"], at="2026-11-28 00:00:00")
    assert trace_times(chdb_session, database)[0] == ("t", "2026-11-28 00:00:00", "2026-12-01 01:00:00")


@pytest.mark.parametrize(("ttl_seconds", "expected"), [(3 * 86400, "TTL toDateTime({time}) + toIntervalDay(3)"),
                                                        (0, None)])
def test_the_span_and_trace_times_tables_keep_the_exporters_ttl(chdb_session: chdb.session.Session, database: str,
                                                                ttl_seconds: int, expected: str | None) -> None:
    client = create(chdb_session, database, ttl_seconds)
    ensure_span_table(client, database)
    for table, time in ((span_table_name(), "start_time"), (TRACE_TIMES_TABLE, "last_start")):
        (engine,), = client.query(f"SELECT engine_full FROM system.tables WHERE database = '{database}' "
                                  f"AND name = '{table}'").result_rows
        if expected is None:
            assert "TTL" not in engine, engine
        else:
            assert expected.format(time=time) in engine, engine
            assert f"PARTITION BY toDate({time})" in engine and "ttl_only_drop_parts = 1" in engine, engine


def test_a_rebuild_after_an_upgrade_says_what_it_does_as_it_goes(chdb_session: chdb.session.Session,
                                                                 database: str) -> None:
    """A release that derives the columns differently rebuilds the span table from every stored span: on a
    big store that takes minutes (200k spans: about 5 s with chdb on 2 shared cores), so the store says so
    first and then how far it got, day by day, and says nothing when there is nothing to build."""
    client = create(chdb_session, database)
    insert(chdb_session, database, ["a", "b"], at="2026-11-28 12:00:00")
    insert(chdb_session, database, ["c"], at="2026-11-29 12:00:00")
    insert(chdb_session, database, ["d"], at="2026-11-30 12:00:00")
    old = "otel_llm_spans_v0000000000"  # the table of the release before
    chdb_session.query(f"CREATE TABLE `{database}`.{old} (span_id String) ENGINE = MergeTree ORDER BY span_id")
    said: list[str] = []
    ensure_span_table(client, database, progress=said.append)
    assert said[0] == (f"building otel-llm's span table ({span_table_name()}) from the 4 spans stored in "
                       f"{database} (once, after an upgrade or on the first look; analyses wait for it)")
    assert said[1:] == ["span table: 2 of 4 spans (2026-11-28)", "span table: 3 of 4 spans (2026-11-29)",
                        "span table: 4 of 4 spans (2026-11-30), done"]
    assert [row[0] for row in derived(chdb_session, database)] == ["a", "b", "c", "d"]
    said.clear()
    ensure_span_table(client, database, progress=said.append)
    assert said == []


def test_a_first_look_at_an_empty_database_builds_in_silence(chdb_session: chdb.session.Session,
                                                             database: str) -> None:
    said: list[str] = []
    ensure_span_table(create(chdb_session, database), database, progress=said.append)
    assert said == [] and derived(chdb_session, database) == []


class _Recording(SessionClient):
    """A client that keeps the statements it ran, and the tables there were at each progress line."""

    def __init__(self, session: chdb.session.Session, database: str) -> None:
        super().__init__(session)
        self.database, self.commands, self.tables_at_line = database, [], []

    def command(self, sql: str) -> None:
        self.commands.append(sql)
        super().command(sql)

    def heard(self, line: str) -> None:
        self.tables_at_line.append({name for (name,) in self.query(
            f"SELECT name FROM system.tables WHERE database = '{self.database}'").result_rows})


def test_a_rebuild_reads_each_stored_day_once_and_keeps_the_older_table_until_it_is_done(
        chdb_session: chdb.session.Session, database: str) -> None:
    """docs/clickhouse.md ("After an upgrade"): one INSERT … SELECT per stored day, at most 12 lines on stderr
    whatever the number of days (the first, one per tenth of the spans, the last), and the older release's
    table kept (its disk too) until the new one is complete."""
    create(chdb_session, database)
    days = [f"2026-10-{day:02d}" for day in range(25, 32)] + [f"2026-11-{day:02d}" for day in range(1, 9)]
    for day in days:
        insert(chdb_session, database, [f"{day}-a", f"{day}-b"], at=f"{day} 23:59:59", trace=day)
    old = "otel_llm_spans_v0000000000"
    chdb_session.query(f"CREATE TABLE `{database}`.{old} (span_id String) ENGINE = MergeTree ORDER BY span_id")
    client = _Recording(chdb_session, database)
    ensure_span_table(client, database, progress=client.heard)
    backfills = [sql for sql in client.commands if sql.startswith(f"INSERT INTO `{database}`.`{span_table_name()}`")]
    assert len(backfills) == len(days)
    assert 2 <= len(client.tables_at_line) <= 12
    assert all(old in tables for tables in client.tables_at_line)
    assert old not in {name for (name,) in client.query(
        f"SELECT name FROM system.tables WHERE database = '{database}'").result_rows}
    assert len(derived(chdb_session, database)) == 2 * len(days)
