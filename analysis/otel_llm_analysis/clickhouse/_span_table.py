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
complete; an interrupted backfill is finished by the next store that opens. A
release that derives the columns differently uses a new table (its name carries a
digest of the derivation); the older ones are dropped once the new one is complete.
Two stores opening one database for the first time at the same moment may both
backfill and so store some spans twice.
"""

from __future__ import annotations

import re
from typing import Any

from otel_llm_analysis.clickhouse._ddl import TRACES_TABLE
from otel_llm_analysis.clickhouse._views import SPAN_TABLE_PREFIX, span_table_name, span_table_select

__all__ = ["COMPLETE", "ensure_span_table", "span_table_statements"]

#: The span table's comment once every span stored before its materialized view existed is in it.
COMPLETE = "otel-llm: complete"
_TTL = re.compile(r"\bTTL\s+(.+?)(?:\s+SETTINGS\b|$)")


def _mv_name(table: str) -> str:
    return f"{table}_mv"


def span_table_statements(database: str, ttl: str = "") -> list[str]:
    """CREATE TABLE (typed by the derivation's own SELECT) and its materialized view over ``otel_traces``,
    both ``IF NOT EXISTS``. ``ttl``: the exporter table's TTL expression on ``Timestamp``, which the span
    table keeps on ``start_time`` (so derived rows leave with their spans)."""
    table = span_table_name()
    select = span_table_select(database)
    keep = " TTL " + re.sub(r"\bTimestamp\b", "start_time", ttl) if ttl else ""
    return [
        f"CREATE TABLE IF NOT EXISTS `{database}`.`{table}` ENGINE = MergeTree "
        f"PARTITION BY toDate(start_time) ORDER BY start_time{keep} "
        f"SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1 EMPTY AS {select}",
        f"CREATE MATERIALIZED VIEW IF NOT EXISTS `{database}`.`{_mv_name(table)}` TO `{database}`.`{table}` "
        f"AS {select}",
    ]


def backfill_statement(database: str) -> str:
    """Copy the stored spans the span table lacks (by trace and span id) into it."""
    table = span_table_name()
    return (f"INSERT INTO `{database}`.`{table}` {span_table_select(database)} "
            f"WHERE (TraceId, SpanId) NOT IN (SELECT trace_id, span_id FROM `{database}`.`{table}`)")


def ensure_span_table(client: Any, database: str) -> str:
    """Make the span table and its materialized view in ``database`` if missing, backfill it once, drop
    the tables of other derivations; returns the table's name. ``client``: clickhouse-connect's
    (``command``, ``query(…).result_rows``) or anything with those two methods."""
    table = span_table_name()
    tables = {name: (engine, comment) for name, engine, comment in client.query(
        f"SELECT name, engine_full, comment FROM system.tables WHERE database = '{database}'").result_rows}
    if tables.get(table, (None, None))[1] == COMPLETE and _mv_name(table) in tables:
        return table
    ttl = _TTL.search(tables.get(TRACES_TABLE, ("", ""))[0] or "")
    for statement in span_table_statements(database, ttl.group(1).strip() if ttl else ""):
        client.command(statement)
    client.command(backfill_statement(database))
    client.command(f"ALTER TABLE `{database}`.`{table}` MODIFY COMMENT '{COMPLETE}'")
    for name in tables:
        if name.startswith(SPAN_TABLE_PREFIX) and name not in (table, _mv_name(table)) and not name.endswith("_mv"):
            client.command(f"DROP VIEW IF EXISTS `{database}`.`{_mv_name(name)}`")
            client.command(f"DROP TABLE IF EXISTS `{database}`.`{name}`")
    return table
