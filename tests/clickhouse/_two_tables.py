"""One table ``t`` of the same rows in DuckDB and in ClickHouse, for tests of one SQL text on both engines."""

from __future__ import annotations

from typing import Any, Sequence

import duckdb

from otel_llm_analysis.clickhouse._client import connect
from otel_llm_analysis.clickhouse.store import _Connection
from tests.support.clickhouse_http import ChdbHttpServer


def two_tables(clickhouse_http: ChdbHttpServer, database: str, columns: dict[str, tuple[str, str]],
               rows: Sequence[Sequence[Any]]) -> tuple[duckdb.DuckDBPyConnection, _Connection]:
    """``rows`` in a DuckDB table ``t`` and in ``database.t`` on ClickHouse (read through the store's
    connection, which transpiles DuckDB SQL); ``columns``: name -> (DuckDB type, ClickHouse type)."""
    duck = duckdb.connect()
    duck.execute(f"CREATE TABLE t ({', '.join(f'{name} {types[0]}' for name, types in columns.items())})")
    duck.executemany(f"INSERT INTO t VALUES ({', '.join('?' for _ in columns)})", rows)
    client = connect(f"clickhouse://default@127.0.0.1:{clickhouse_http.port}/default", select=False)
    client.command(f"CREATE DATABASE IF NOT EXISTS {database}")
    client.database = database
    client.command(f"CREATE OR REPLACE TABLE t ({', '.join(f'{name} {types[1]}' for name, types in columns.items())}) "
                   "ENGINE = MergeTree ORDER BY tuple()")
    client.insert("t", [list(r) for r in rows], column_names=list(columns))
    return duck, _Connection(client)
