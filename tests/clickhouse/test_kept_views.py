"""The turns, agents, tools and retries an analysis reads on ClickHouse are tables, made once per spans' version.

ClickHouse plans a view anew at each reference; the scope views, built on each other,
took seconds to plan per reference (a report over 40 turns: over two minutes). Now
an analysis statement reads tables holding the views' rows (``_kept_views``): its plan
reads those tables and never the span table, the tables are made once while the spans
stay as they are, and made again, with the new rows, when more spans arrive. The
answers stay DuckDB's.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator

import pytest

from otel_llm_analysis import agents
from otel_llm_analysis.clickhouse import load
from otel_llm_analysis.clickhouse._kept_views import PREFIX
from otel_llm_analysis.clickhouse._views import span_table_name
from otel_llm_analysis.clickhouse.store import ClickHouseStore
from otel_llm_analysis.store import TraceStore
from tests.clickhouse._kept import kept_reads
from tests.clickhouse.test_differential import same
from tests.support.synthetic import generate

TURNS = ("SELECT count(*) AS turns, sum(llm_calls) AS calls, sum(tool_calls) AS tools, sum(retries) AS retries, "
         "count(*) FILTER (WHERE first_time_right) AS right_first FROM turns")


@pytest.fixture
def stores(tmp_path: Path, clickhouse_url: str) -> Iterator[tuple[TraceStore, ClickHouseStore, Path]]:
    """A DuckDB store and a ClickHouse store of the same agent traces, and a folder of more of them."""
    generate(tmp_path / "first", traces=12, agents="otel_llm", seed=7)
    generate(tmp_path / "more", traces=6, agents="otel_llm", seed=8, days=3)
    load([tmp_path / "first"], clickhouse_url)
    duck = TraceStore(":memory:")
    duck.ingest([tmp_path / "first"])
    with ClickHouseStore(clickhouse_url) as ch:
        yield duck, ch, tmp_path / "more"
    duck.close()


def _reads(ch: ClickHouseStore, statement: str) -> list[str]:
    """The tables each read of ``EXPLAIN PLAN statement`` reads, one per read."""
    plan = "\n".join(row[0] for row in ch.connection.client.query(f"EXPLAIN PLAN {statement}").result_rows)
    return [table.split(".")[-1] for table in re.findall(r"ReadFromMergeTree \(([^)]+)\)", plan)]


def _kept_tables(ch: ClickHouseStore) -> set[str]:
    database = ch.url.database
    return {name for (name,) in ch.connection.client.query(
        f"SELECT name FROM system.tables WHERE database = '{database}' AND startsWith(name, '{PREFIX}')").result_rows}


def test_a_turns_query_reads_one_stored_table_not_the_span_tree(
        stores: tuple[TraceStore, ClickHouseStore, Path]) -> None:
    """The plan of a query over ``turns`` is one read of a table of turn rows; it was 25 reads of the span
    table (the walk, the calls and the retry loops, each planned at every reference)."""
    duck, ch, _ = stores
    assert ch.query(TURNS) == duck.query(TURNS)
    statement = ch.connection.statements[-1]
    assert "turns_in(" not in statement and len(kept_reads(statement)) == 1
    assert _reads(ch, statement) == [*kept_reads(statement)]


def test_an_agents_analysis_reads_its_invocations_from_one_stored_table(
        stores: tuple[TraceStore, ClickHouseStore, Path]) -> None:
    """``agents`` reads its invocations four times (queries/agents.sql): four reads of one table, none
    of the span table."""
    duck, ch, _ = stores
    same(agents(duck), agents(ch))
    reads = _reads(ch, ch.connection.statements[-1])
    assert len(set(reads)) == 1 and reads[0].startswith(PREFIX) and span_table_name() not in reads


def test_the_tables_are_made_once_per_version_of_the_spans(
        stores: tuple[TraceStore, ClickHouseStore, Path], clickhouse_url: str) -> None:
    """Read again, the same tables answer (nothing is made); once more spans arrive, the next read makes
    new tables with them (DuckDB's answer after its ingest of the same files) and drops the old ones."""
    duck, ch, more = stores
    ch.query(TURNS)
    before, made = _kept_tables(ch), _creates(ch)
    assert before and ch.query(TURNS) == duck.query(TURNS) and _creates(ch) == made
    duck.ingest([more])
    load([more], clickhouse_url)
    after = ch.query(TURNS)
    assert after == duck.query(TURNS) and after[0][0] > 0 and _creates(ch) > made
    assert _kept_tables(ch).isdisjoint(before)


def _creates(ch: ClickHouseStore) -> int:
    return sum(1 for statement in ch.connection.statements if statement.startswith("CREATE TABLE"))


def test_a_table_another_process_dropped_is_made_again(stores: tuple[TraceStore, ClickHouseStore, Path]) -> None:
    """Another store (a newer version of the spans, in another process) drops the tables this one read:
    its next read, which still takes them for made, fails on the missing table, makes them and answers."""
    duck, ch, _ = stores
    assert ch.query(TURNS) == duck.query(TURNS)
    database = ch.url.database
    for name in _kept_tables(ch):
        ch.connection.client.command(f"DROP TABLE `{database}`.`{name}`")
    made = _creates(ch)
    assert ch.query(TURNS) == duck.query(TURNS) and _creates(ch) > made and _kept_tables(ch)


def test_a_user_who_may_not_create_tables_reads_the_views(
        stores: tuple[TraceStore, ClickHouseStore, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """A read-only user: the server refuses the kept table (``Code: 164. ... READONLY``); the analysis then
    reads the views as they are, with the same answer, and asks no more kept tables of the server."""
    from clickhouse_connect.driver.exceptions import DatabaseError

    duck, ch, _ = stores
    client = ch.connection.client
    command, refused = client.command, []

    def readonly(statement: str, *args: object, **kwargs: object) -> object:
        if statement.startswith("CREATE TABLE") and PREFIX in statement:
            refused.append(statement)
            raise DatabaseError("Code: 164. DB::Exception: alice: Cannot execute query in readonly mode. (READONLY)")
        return command(statement, *args, **kwargs)

    monkeypatch.setattr(client, "command", readonly)
    assert ch.query(TURNS) == duck.query(TURNS)
    same(agents(duck), agents(ch))
    assert len(refused) == 1 and not _kept_tables(ch)
    read = [s for s in ch.connection.statements if s.startswith(("SELECT", "WITH"))]
    assert read and not any(PREFIX in s for s in read)  # the views, as they are
