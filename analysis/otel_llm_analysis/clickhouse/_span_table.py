"""The derived span columns as a table beside the exporter's ``otel_traces``, filled at insert.

Deriving the ``spans`` contract's columns (model, provider, tokens, cost, kind, …)
in a plain view means every analysis re-reads the attribute maps of every span and
re-runs the spelling lookups: on a million spans that is most of an analysis's time.
So the derivation runs once per span, when the span arrives: a ClickHouse
materialized view over ``otel_traces`` writes the typed columns into a MergeTree
table (:func:`._views.span_table_select`), partitioned by day and ordered by
``start_time`` like the exporter's table, so time filters prune partitions and use
the ordering key, and analyses read narrow typed columns. The exporter inserts
into ``otel_traces`` directly, so this holds for a collector's live data and for
``otel-llm load`` alike. The ``spans`` view (pricing, attribute lists) reads this
table.

The exporter's own tables stay exactly as its DDL makes them; the table and the
materialized view are ours, beside them (``IF NOT EXISTS``). A database the
collector filled before otel-llm first looked at it gets the rows of the spans
already stored (a backfill, once): the materialized view is created first, then
every stored span the table lacks is copied, then the table's comment marks it
complete; an interrupted backfill is finished by the next store that opens. The backfill
goes one day's partition at a time and says how far it got (a rebuild of a big store takes minutes). A
release that derives the columns differently uses a new table (its name carries a
digest of the derivation); the older ones are dropped once the new one is complete.
Two stores opening one database for the first time at the same moment may both
backfill and so store some spans twice.

Beside it, the trace times table (:data:`._views.TRACE_TIMES_TABLE`): each
trace's first and last span start, kept by a second materialized view over
``otel_traces`` (an ``AggregatingMergeTree`` ordered by trace id; a span arriving
late only widens its trace's times). An analysis of a time window reads the traces
with a span in it and then all their spans, some of which may start outside it;
their times bound that read on the span table's ordering key, so it touches the
window's granules and those of the traces straddling it, not the whole store.
Min and max do not mind a row counted twice, so its backfill may overlap the
materialized view's first inserts.

And the peer calls table (:func:`._views.peer_calls_table_name`): the trace and start
of each span of another producer's LLM call under a parent (:data:`._views.PEER_CALL`),
written by a materialized view over the span table (so at the same insert, from the
collector's exporter or ``otel-llm load``). ``llm_calls`` walks such calls' traces up to
the otel-llm span they run in; a store whose table is empty (an app traced by
otel-llm's SDK alone) reads no span for it. Filled from the span table when missing
(a span table older than it, or just built); it is read as a set of traces, so a row
the backfill and the materialized view both write does no harm. It belongs to its
span table (named after it) and is dropped with it.

And the instrumentation failures table (:func:`._views.instrumentation_failures_table_name`): the spans
that failed in their instrumentation's own code (DuckDB's ``instrumentation_failures`` view: OpenLIT's ERROR
span whose every exception is raised inside openlit), written by a materialized view over ``otel_traces``, whose
span events the span table does not keep. ``llm_calls`` counts those calls as succeeded; a store holding none
reads an empty table for it instead of every span's events. Filled from ``otel_traces`` when missing (one read
of the stored spans, the exception events only of OpenLIT's ERROR LLM spans); its view lists each span once,
so a row the backfill and the materialized view both write does no harm. Named after its span table and
dropped with it, or when the rule changes (its name carries a digest of its derivation too).
"""

from __future__ import annotations

import re
from typing import Any, Callable, Optional

from otel_llm_analysis.clickhouse._ddl import TRACES_TABLE
from otel_llm_analysis.clickhouse._views import (PEER_CALL, SPAN_TABLE_PREFIX, TRACE_TIMES_TABLE,
                                                 instrumentation_failures_select, instrumentation_failures_table_name,
                                                 peer_calls_table_name, span_table_name, span_table_select)

__all__ = ["COMPLETE", "ensure_span_table", "instrumentation_failures_statements", "peer_calls_statements",
           "span_table_statements", "trace_times_statements"]

#: The span table's comment once every span stored before its materialized view existed is in it.
COMPLETE = "otel-llm: complete"
_TTL = re.compile(r"\bTTL\s+(.+?)(?:\s+SETTINGS\b|$)")


def _mv_name(table: str) -> str:
    return f"{table}_mv"


def _ttl_on(ttl: str, column: str) -> str:
    """The clause keeping the exporter table's TTL expression ``ttl`` (on ``Timestamp``) on ``column`` of a
    table of ours, so its rows leave with their spans; '' when the exporter's table has none."""
    return " TTL " + re.sub(r"\bTimestamp\b", column, ttl) if ttl else ""


def span_table_statements(database: str, ttl: str = "") -> list[str]:
    """CREATE TABLE (typed by the derivation's own SELECT) and its materialized view over ``otel_traces``,
    both ``IF NOT EXISTS``. ``ttl``: the exporter table's TTL expression on ``Timestamp``, which the span
    table keeps on ``start_time`` (so derived rows leave with their spans)."""
    table = span_table_name()
    select = span_table_select(database)
    return [
        f"CREATE TABLE IF NOT EXISTS `{database}`.`{table}` ENGINE = MergeTree "
        f"PARTITION BY toDate(start_time) ORDER BY start_time{_ttl_on(ttl, 'start_time')} "
        f"SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1 EMPTY AS {select}",
        f"CREATE MATERIALIZED VIEW IF NOT EXISTS `{database}`.`{_mv_name(table)}` TO `{database}`.`{table}` "
        f"AS {select}",
    ]


def _trace_times_select(database: str) -> str:
    return (f"SELECT TraceId AS trace_id, min(Timestamp) AS first_start, max(Timestamp) AS last_start "
            f"FROM `{database}`.`{TRACES_TABLE}` GROUP BY TraceId")  # one line: an INSERT … SELECT of it too


def trace_times_statements(database: str, ttl: str = "") -> list[str]:
    """CREATE TABLE of each trace's first and last span start, and its materialized view over
    ``otel_traces``, both ``IF NOT EXISTS``; ``ttl`` as in :func:`span_table_statements`, on the last start.
    Partitioned by day like the span table, whole days dropped by the TTL: a row leaves with the day
    of its last span, so no stored span loses its trace's times."""
    return [
        f"CREATE TABLE IF NOT EXISTS `{database}`.`{TRACE_TIMES_TABLE}` (trace_id String, "
        "first_start SimpleAggregateFunction(min, DateTime64(9)), "
        "last_start SimpleAggregateFunction(max, DateTime64(9))) "
        f"ENGINE = AggregatingMergeTree PARTITION BY toDate(last_start) ORDER BY trace_id{_ttl_on(ttl, 'last_start')} "
        "SETTINGS ttl_only_drop_parts = 1",
        f"CREATE MATERIALIZED VIEW IF NOT EXISTS `{database}`.`{_mv_name(TRACE_TIMES_TABLE)}` "
        f"TO `{database}`.`{TRACE_TIMES_TABLE}` AS {_trace_times_select(database)}",
    ]


def _peer_calls_select(database: str) -> str:
    return f"SELECT trace_id, start_time FROM `{database}`.`{span_table_name()}` WHERE {PEER_CALL}"


def peer_calls_statements(database: str, ttl: str = "") -> list[str]:
    """CREATE TABLE of the peer calls (trace, start) and its materialized view over the span table, both
    ``IF NOT EXISTS``; ``ttl`` as in :func:`span_table_statements`, so rows leave with their spans."""
    table = peer_calls_table_name()
    return [
        f"CREATE TABLE IF NOT EXISTS `{database}`.`{table}` ENGINE = MergeTree PARTITION BY toDate(start_time) "
        f"ORDER BY (trace_id, start_time){_ttl_on(ttl, 'start_time')} SETTINGS ttl_only_drop_parts = 1 "
        f"EMPTY AS {_peer_calls_select(database)}",
        f"CREATE MATERIALIZED VIEW IF NOT EXISTS `{database}`.`{_mv_name(table)}` TO `{database}`.`{table}` "
        f"AS {_peer_calls_select(database)}",
    ]


def instrumentation_failures_statements(database: str, ttl: str = "") -> list[str]:
    """CREATE TABLE of the instrumentation failures and its materialized view over ``otel_traces``, both
    ``IF NOT EXISTS``; ``ttl`` as in :func:`span_table_statements`, so rows leave with their spans."""
    table, select = instrumentation_failures_table_name(), instrumentation_failures_select(database)
    return [
        f"CREATE TABLE IF NOT EXISTS `{database}`.`{table}` ENGINE = MergeTree PARTITION BY toDate(start_time) "
        f"ORDER BY (trace_id, span_id){_ttl_on(ttl, 'start_time')} SETTINGS ttl_only_drop_parts = 1 "
        f"EMPTY AS {select}",
        f"CREATE MATERIALIZED VIEW IF NOT EXISTS `{database}`.`{_mv_name(table)}` TO `{database}`.`{table}` "
        f"AS {select}",
    ]


def backfill_statement(database: str, day: str) -> str:
    """Copy the spans stored on ``day`` (``YYYY-MM-DD``) that the span table lacks (by trace and span id)
    into it; one day's partition at a time, so each statement reads and checks one day."""
    table = span_table_name()
    return (f"INSERT INTO `{database}`.`{table}` {span_table_select(database)} "
            f"WHERE toDate(Timestamp) = toDate('{day}') AND (TraceId, SpanId) NOT IN (SELECT trace_id, span_id "
            f"FROM `{database}`.`{table}` WHERE toDate(start_time) = toDate('{day}'))")


def _backfill(client: Any, database: str, progress: Optional[Callable[[str], None]]) -> None:
    """Fill the span table from the spans stored before its materialized view, day by day. A rebuild reads
    every stored span (minutes on a big store), so ``progress`` hears a first line saying so, then the
    spans done after each day that adds a tenth of them or more, and after the last; nothing for an
    empty database."""
    days = [(str(day), int(count)) for day, count in client.query(
        f"SELECT toString(toDate(Timestamp)) AS day, count() FROM `{database}`.`{TRACES_TABLE}` "
        "GROUP BY day ORDER BY day").result_rows]
    total = sum(count for _, count in days)
    say = progress if progress is not None and total else (lambda _line: None)
    say(f"building otel-llm's span table ({span_table_name()}) from the {total} spans stored in {database} "
        "(once, after an upgrade or on the first look; analyses wait for it)")
    done = reported = 0
    for i, (day, count) in enumerate(days):
        client.command(backfill_statement(database, day))
        done += count
        if i == len(days) - 1:
            say(f"span table: {done} of {total} spans ({day}), done")
        elif (done - reported) * 10 >= total:
            say(f"span table: {done} of {total} spans ({day})")
            reported = done


def _complete(tables: dict[str, tuple[str, str]], table: str) -> bool:
    return tables.get(table, ("", ""))[1] == COMPLETE and _mv_name(table) in tables


def _fill(client: Any, database: str, table: str, statements: list[str], select: str) -> None:
    """Create ``table`` and its materialized view (``statements``), copy the stored rows (``select``) into it,
    then mark it complete."""
    for statement in statements:
        client.command(statement)
    client.command(f"INSERT INTO `{database}`.`{table}` {select}")
    client.command(f"ALTER TABLE `{database}`.`{table}` MODIFY COMMENT '{COMPLETE}'")


def _drop(client: Any, database: str, table: str) -> None:
    """Drop a table of ours and its materialized view."""
    client.command(f"DROP VIEW IF EXISTS `{database}`.`{_mv_name(table)}`")
    client.command(f"DROP TABLE IF EXISTS `{database}`.`{table}`")


def ensure_span_table(client: Any, database: str, progress: Optional[Callable[[str], None]] = None) -> str:
    """Make the span table, the trace times table, the peer calls table and the instrumentation failures table
    with their materialized views in ``database`` if missing, backfill each once, drop the tables of other
    derivations; returns the span table's name.
    ``client``: clickhouse-connect's (``command``, ``query(…).result_rows``) or anything with those two
    methods; ``progress``: told how a backfill goes, one line at a time (:func:`_backfill`)."""
    table = span_table_name()
    tables = {name: (engine, comment) for name, engine, comment in client.query(
        f"SELECT name, engine_full, comment FROM system.tables WHERE database = '{database}'").result_rows}
    found = _TTL.search(tables.get(TRACES_TABLE, ("", ""))[0] or "")
    ttl = found.group(1).strip() if found else ""
    if not _complete(tables, TRACE_TIMES_TABLE):
        _fill(client, database, TRACE_TIMES_TABLE, trace_times_statements(database, ttl), _trace_times_select(database))
    if not _complete(tables, table):
        for statement in span_table_statements(database, ttl):
            client.command(statement)
        _backfill(client, database, progress)
        client.command(f"ALTER TABLE `{database}`.`{table}` MODIFY COMMENT '{COMPLETE}'")
        for name in tables:  # another derivation's span table, and its peer calls table
            if name.startswith(SPAN_TABLE_PREFIX) and not name.startswith(table) and not name.endswith("_mv"):
                _drop(client, database, name)
    peers = peer_calls_table_name()
    if not _complete(tables, peers):
        _fill(client, database, peers, peer_calls_statements(database, ttl), _peer_calls_select(database))
    failures = instrumentation_failures_table_name()
    if not _complete(tables, failures):
        _fill(client, database, failures, instrumentation_failures_statements(database, ttl),
              instrumentation_failures_select(database))
        for name in tables:  # the table of an earlier rule
            if name.startswith(f"{table}_failures_") and name != failures and not name.endswith("_mv"):
                _drop(client, database, name)
    return table
