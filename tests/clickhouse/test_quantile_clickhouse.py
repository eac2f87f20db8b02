"""Percentiles on ClickHouse are DuckDB's ``quantile_cont``, bit for bit.

ClickHouse's exact quantile interpolates between the same two values as DuckDB's
but rounds differently (a p95 of 1688.4847885000001 against 1688.4847885), so a
latency figure moved in its last digits with the engine. The transpiled
``quantile_cont`` redoes DuckDB's arithmetic (``_quantile``); every value here is
compared with ``==``, not to a tolerance.
"""

from __future__ import annotations

import random
from typing import Any, Iterator

import pytest

from otel_llm_analysis import summaries
from otel_llm_analysis.clickhouse.store import ClickHouseStore, _Connection
from otel_llm_analysis.store import TraceStore
from tests.support.clickhouse_http import ChdbHttpServer

from ._two_tables import two_tables

GROUPS = 300


def _samples() -> list[tuple[int, float | None, int, bool]]:
    """(group, value, integer value, flag): groups of 1 to 60 values of several magnitudes, a NULL among them."""
    rng = random.Random(7)
    rows = []
    for group in range(GROUPS):
        scale = rng.choice([1e-3, 1.0, 1e3, 1e6])
        for _ in range(rng.randint(1, 60)):
            value = None if rng.random() < 0.05 else rng.uniform(0, 5000) * scale
            rows.append((group, value, rng.randint(0, 10**6), rng.random() < 0.5))
    return rows


@pytest.fixture(scope="module")
def engines(clickhouse_http: ChdbHttpServer) -> Iterator[tuple[Any, _Connection]]:
    columns = {"g": ("INTEGER", "Int32"), "x": ("DOUBLE", "Nullable(Float64)"), "i": ("BIGINT", "Int64"),
               "c": ("BOOLEAN", "Bool")}
    duck, clickhouse = two_tables(clickhouse_http, "otel_quantiles", columns, _samples())
    yield duck, clickhouse
    duck.close()


QUERIES = {
    "one fraction": "SELECT g, quantile_cont(x, 0.95) AS p95, quantile_cont(x, 0.5) AS p50 FROM t GROUP BY g",
    "several fractions": "SELECT g, quantile_cont(x, [0.5, 0.9, 0.95, 0.99, 0.123456789]) AS q FROM t GROUP BY g",
    "with FILTER": "SELECT g, quantile_cont(x, 0.99) FILTER (WHERE c) AS one, "
                   "quantile_cont(x, [0.25, 0.75]) FILTER (WHERE c) AS q FROM t GROUP BY g",
    "integers": "SELECT g, quantile_cont(i, 0.95) AS p95 FROM t GROUP BY g",
    "the whole table": "SELECT quantile_cont(x, [0.5, 0.95, 0.99]) AS q FROM t",
}


@pytest.mark.parametrize("name", list(QUERIES))
def test_every_percentile_is_duckdbs_to_the_last_bit(engines: tuple[Any, _Connection], name: str) -> None:
    duck, clickhouse = engines
    sql = f"SELECT * FROM ({QUERIES[name]}) ORDER BY ALL"
    expected = duck.execute(sql).fetchall()
    got = clickhouse.execute(sql).fetchall()
    # several fractions over no values (a FILTER matching none): [] on ClickHouse, NULL on DuckDB (test_dialect)
    assert [tuple(v if v != [] else None for v in row) for row in got] == expected


def test_the_summarys_percentiles_are_the_same_numbers(tmp_path_factory: pytest.TempPathFactory,
                                                       clickhouse_http: ChdbHttpServer) -> None:
    """The latency figures of ``summary`` by model and of the ``daily_usage`` view: equal, not within 1e-9."""
    from tests.clickhouse.test_differential import both_stores
    from tests.support.synthetic import generate

    root = tmp_path_factory.mktemp("quantiles")
    generate(root / "otel_llm", traces=80, seed=11)
    url = f"clickhouse://default@127.0.0.1:{clickhouse_http.port}/otel_quantile_summary"
    stores: tuple[TraceStore, ClickHouseStore]
    for stores in both_stores(root, url):
        duck, ch = ([(r.key, r.p50_ms, r.p95_ms, r.p99_ms) for r in summaries.summary(store, by)]
                    for store in stores for by in ["model"])
        assert duck and duck == ch
        daily = "SELECT day, project, model, p95_ms FROM daily_usage ORDER BY day, project, model"
        duck, ch = (store.query(daily) for store in stores)
        assert duck and duck == ch
