"""Each override of the SQLGlot dialect: the same DuckDB text gives the same values on both engines.

The text is run by DuckDB as written and, transpiled by ``_dialect``, by chdb
through the store's connection (clickhouse-connect over the HTTP stand-in), over
the same small table. Without the override each of these fails on ClickHouse or,
worse, answers differently (docs/clickhouse.md lists what SQLGlot writes alone).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterator

import pytest

from otel_llm_analysis.clickhouse._dialect import transpile
from otel_llm_analysis.clickhouse.store import _Connection
from tests.support.clickhouse_http import ChdbHttpServer

from ._two_tables import two_tables
from .test_differential import same

ROWS = [(1.0, True, "a-1 b-22", ["k", "x"], datetime(2026, 11, 3, 10, 15, 7, 123456), [3, 1, 2]),
        (2.0, False, "c-333", ["x"], datetime(2026, 11, 4, 23, 59, 59, 999999), [5]),
        (10.0, True, "d", [], datetime(2026, 11, 9, 0, 0, 0), []),
        (None, True, "e-4", ["k"], datetime(2026, 11, 10, 12, 0, 0), [4, -4])]


@pytest.fixture(scope="module")
def engines(clickhouse_http: ChdbHttpServer) -> Iterator[tuple[Any, _Connection]]:
    columns = {"x": ("DOUBLE", "Nullable(Float64)"), "c": ("BOOLEAN", "Bool"), "s": ("VARCHAR", "String"),
               "l": ("VARCHAR[]", "Array(String)"), "ts": ("TIMESTAMP", "DateTime64(6)"),
               "n": ("BIGINT[]", "Array(Int64)")}
    duck, clickhouse = two_tables(clickhouse_http, "otel_dialect", columns, ROWS)
    yield duck, clickhouse
    duck.close()


CASES = {
    "exact quantiles": "SELECT quantile_cont(x, [0.25, 0.5, 0.9]) AS q, quantile_cont(x, 0.95) AS one FROM t",
    "quantiles with FILTER": "SELECT quantile_cont(x, [0.5, 0.9]) FILTER (WHERE c) AS q FROM t",
    "regexp_replace all / first": "SELECT regexp_replace(s, '[0-9]+', '<n>', 'g') AS every, "
                                  "regexp_replace(s, '[0-9]+', '<n>') AS first FROM t ORDER BY s",
    "regexp_extract_all: a group, the whole match": "SELECT regexp_extract_all(s, '([a-z])-([0-9]+)', 2) AS n, "
                                                     "regexp_extract_all(s, '[0-9]+') AS whole, "
                                                     "coalesce(regexp_extract_all(s, '-([0-9]+)', 1)[-1], '') "
                                                     "AS last FROM t ORDER BY s",
    "list_position: NULL when absent": "SELECT list_position(l, 'k') AS i, l[list_position(l, 'k')] AS v "
                                       "FROM t ORDER BY s",
    "range of times": "SELECT range AS period FROM range(TIMESTAMP '2026-11-01 00:00:00', "
                      "TIMESTAMP '2026-11-05 00:00:00', INTERVAL 1 day) ORDER BY period",
    "range by hours, end excluded": "SELECT count(*) AS n FROM range(TIMESTAMP '2026-11-01 00:00:00', "
                                    "TIMESTAMP '2026-11-02 00:00:00', INTERVAL 1 hour)",
    "date_trunc stays a time": "SELECT date_trunc('week', ts) AS w, date_trunc('day', ts) AS d, "
                               "date_trunc('hour', ts) AS h FROM t ORDER BY ts",
    "TIMESTAMP keeps microseconds": "SELECT CAST('2026-11-03 10:15:07.123456' AS TIMESTAMP) AS t1, "
                                    "count(*) FILTER (WHERE ts >= '2026-11-03 10:15:07.123456'::TIMESTAMP) AS n "
                                    "FROM t",
    "min and max over no rows are NULL": "SELECT min(ts) AS first, max(x) AS most, "
                                         "max(ts) FILTER (WHERE c) AS last_c FROM t WHERE x > 100",
    "min and max with FILTER": "SELECT min(ts) FILTER (WHERE c) AS first_c, max(x) FILTER (WHERE NOT c) AS most FROM t",
    "list aggregates": "SELECT list_sort(list_distinct(list(s))) AS names, "
                       "list_sort(list_distinct(flatten(list(l)))) AS keys FROM t",
    "list_sum: NULL over no values": "SELECT s, list_sum(n) AS total, list_sum(list_filter(n, lambda v: v > 2)) "
                                     "AS big FROM t ORDER BY s",
    "list_transform and list_filter with the index": "SELECT s, list_transform(n, lambda v, i: v * i) AS weighted, "
                                                     "list_filter(n, lambda v, i: i > 1) AS rest, "
                                                     "list_transform(n, lambda v: v + 1) AS plain FROM t ORDER BY s",
    "the index read within a lambda inside": "SELECT s, list_transform(n, lambda v, i: list_sum(list_transform("
                                             "[10, 20], lambda w: w * i + v))) AS nested FROM t ORDER BY s",
    "a list of lists summed by index": "SELECT list_transform([1, 2, 3], lambda b, i: list_sum(list_transform("
                                       "lists, lambda one: one[i]))) AS sums FROM (SELECT list(n) AS lists FROM t "
                                       "WHERE array_length(n) = 3 OR array_length(n) = 1)",
    "a materialized CTE read twice": "WITH m AS MATERIALIZED (SELECT x, c FROM t WHERE x IS NOT NULL) "
                                     "SELECT (SELECT count(*) FROM m WHERE c) AS n, (SELECT max(x) FROM m) AS most",
}


@pytest.mark.parametrize("name", list(CASES))
def test_the_override_gives_duckdbs_answer(engines: tuple[Any, _Connection], name: str) -> None:
    duck, clickhouse = engines
    expected = duck.execute(CASES[name]).fetchall()
    got = clickhouse.execute(CASES[name]).fetchall()
    # the same interpolation; the engines may round its last bit differently (8.4 / 8.399999999999999)
    same([tuple(r) for r in expected], [tuple(r) for r in got], transpile(CASES[name])[0])


def test_a_condition_selected_as_a_column_is_a_bool_as_in_duckdb(engines: tuple[Any, _Connection]) -> None:
    """ClickHouse answers ``x < 2`` as 0/1 (UInt8): the analyses would print ``1`` where DuckDB's ``True``
    prints ``✓`` (``same`` cannot tell, ``1 == True``: the types are compared here)."""
    duck, clickhouse = engines
    sql = ("SELECT s, x < 2 AS small, x IS NULL AS missing, c AND x > 1 AS both, NOT c AS off, count(*) AS n "
           "FROM t GROUP BY ALL ORDER BY s")
    expected, got = duck.execute(sql).fetchall(), clickhouse.execute(sql).fetchall()
    assert got == expected
    assert [[type(v).__name__ for v in row] for row in got] == [[type(v).__name__ for v in row] for row in expected]


def test_quantiles_over_no_values_are_null_not_nan(engines: tuple[Any, _Connection]) -> None:
    duck, clickhouse = engines
    sql = "SELECT quantile_cont(x, 0.5) AS one, quantile_cont(x, [0.5]) AS q FROM t WHERE x > 100"
    assert duck.execute(sql).fetchall() == [(None, None)]
    # several quantiles: [] (a ClickHouse array cannot be NULL); the analyses read both as "none"
    assert clickhouse.execute(sql).fetchall() == [(None, [])]


def test_parameters_are_bound_as_quoted_literals(engines: tuple[Any, _Connection]) -> None:
    duck, clickhouse = engines
    sql = ("SELECT count(*) AS n FROM t WHERE ts >= $since AND s <> $text AND list_contains($names, s) "
           "AND x < $limit")
    params = {"since": datetime(2026, 11, 3, 10, 15, 7, 123456), "text": "it's -- not ' sql",
              "names": ["a-1 b-22", "c-333", "x'y"], "limit": 5.5}
    assert clickhouse.execute(sql, params).fetchall() == duck.execute(sql, params).fetchall() == [(2,)]
    assert "'it''s -- not '' sql'" in transpile(sql, params)[0]


def test_one_attribute_from_the_aligned_lists_is_a_map_lookup() -> None:
    sql = "SELECT s.attr_values[list_position(s.attr_keys, 'otel_llm.run_config.x')] AS v FROM spans AS s"
    assert transpile(sql) == ["SELECT multiIf(mapContains(s.attributes, 'otel_llm.run_config.x'), "
                              "s.attributes['otel_llm.run_config.x'], NULL) AS v FROM spans AS s"]


def test_a_materialized_cte_is_written_without_the_hint() -> None:
    """``summary.sql`` reads ``llm_calls`` once through ``AS MATERIALIZED``: DuckDB's hint, which a ClickHouse
    server of the 24.x LTS cannot parse (chdb's newer engine reads it: the case above answers alike)."""
    assert transpile("WITH m AS MATERIALIZED (SELECT x FROM t) SELECT count(*) AS n FROM m") == [
        "WITH m AS (SELECT x FROM t) SELECT COUNT(*) AS n FROM m"]
