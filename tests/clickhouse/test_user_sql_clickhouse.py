"""``otel-llm sql --db clickhouse://…``: the README's DuckDB SQL answers as on DuckDB; ClickHouse's own SQL too.

The README's table contract is written in DuckDB's SQL (``TRY_CAST(attributes[…] AS
DOUBLE)``, ``quantile_cont``, ``strftime``, ``::``). ClickHouse has none of these
functions: such a query is read as DuckDB SQL and translated as the analyses' own
queries are. Ids are the same lowercase hex text on both engines, so a trace id
copied from one answers on the other.
"""

from __future__ import annotations

import json
from typing import Any, Iterator

import pytest
from typer.testing import CliRunner

from otel_llm.cli import app
from tests.support.clickhouse_http import ChdbHttpServer
from tests.support.synthetic import generate

from .test_differential import same


def run(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})


@pytest.fixture(scope="module")
def dbs(tmp_path_factory: pytest.TempPathFactory, clickhouse_http: ChdbHttpServer) -> Iterator[tuple[str, str]]:
    root = tmp_path_factory.mktemp("user_sql")
    generate(root / "files", traces=30, seed=8, days=40)
    duck = str(root / "otel.duckdb")
    assert run("ingest", str(root / "files"), "--db", duck).exit_code == 0
    url = f"clickhouse://default@127.0.0.1:{clickhouse_http.port}/otel_user_sql"
    assert run("load", str(root / "files"), "--to", url).exit_code == 0
    yield duck, url


def rows(db: str, query: str) -> list[list[Any]]:
    result = run("sql", query, "--db", db, "--format", "json")
    assert result.exit_code == 0, result.output
    return [list(row.values()) for row in json.loads(result.stdout)["rows"]]


DUCKDB_SQL = {
    "TRY_CAST of an attribute": "SELECT TRY_CAST(attributes['gen_ai.usage.input_tokens'] AS DOUBLE) AS tokens, "
                                "TRY_CAST(attributes['no.such.key'] AS DOUBLE) AS absent FROM spans "
                                "WHERE otel_kind = 'llm_call' ORDER BY start_time, span_id LIMIT 20",
    "quantile_cont": "SELECT model, quantile_cont(duration_ms, 0.95) AS p95 FROM llm_calls GROUP BY ALL ORDER BY model",
    "strftime by month": "SELECT strftime(start_time, '%Y-%m') AS month, count(*) AS calls FROM llm_calls "
                         "GROUP BY ALL ORDER BY month",
    "a :: cast": "SELECT start_time::DATE AS day, sum(cost_usd) AS usd FROM llm_calls GROUP BY ALL ORDER BY day",
    "the README's": "SELECT model, count(*) AS calls, sum(cost_usd) AS usd FROM llm_calls GROUP BY ALL "
                    "ORDER BY usd DESC",
    "a trace by its hex id": "SELECT name, span_id FROM spans WHERE trace_id = "
                             "(SELECT max(trace_id) FROM spans) ORDER BY start_time, span_id",
}


@pytest.mark.parametrize("name", list(DUCKDB_SQL))
def test_duckdb_sql_answers_the_same_on_clickhouse(dbs: tuple[str, str], name: str) -> None:
    duck, url = dbs
    expected = rows(duck, DUCKDB_SQL[name])
    assert expected and any(value is not None for row in expected for value in row)
    same(expected, rows(url, DUCKDB_SQL[name]))


def test_clickhouse_sql_still_runs_as_clickhouse_reads_it(dbs: tuple[str, str]) -> None:
    duck, url = dbs
    same(rows(duck, "SELECT CAST(date_trunc('month', start_time) AS DATE)::VARCHAR, quantile_cont(duration_ms, 0.95) "
                    "FROM llm_calls GROUP BY 1 ORDER BY 1"),
         rows(url, "SELECT toStartOfMonth(start_time) AS month, quantileExactInclusive(0.95)(duration_ms) AS p95 "
                   "FROM llm_calls GROUP BY month ORDER BY month"))


def test_sql_neither_engine_reads_says_both_reasons_and_writes_stay_refused(dbs: tuple[str, str]) -> None:
    _, url = dbs
    wrong = run("sql", "SELECT no_such_function(1)", "--db", url)
    assert wrong.exit_code == 1 and "no_such_function" in wrong.output and "read as DuckDB SQL" in wrong.output
    for write in ("DROP TABLE otel_traces", "INSERT INTO otel_traces SELECT * FROM otel_traces",
                  "CREATE TABLE x AS SELECT 1", "SELECT 1; DROP TABLE otel_traces"):
        refused = run("sql", write, "--db", url)
        assert refused.exit_code == 1 and ("refused: only queries" in refused.output
                                           or "exactly one query" in refused.output), (write, refused.output)
    assert rows(url, "SELECT count() FROM otel_traces")[0][0] > 0
