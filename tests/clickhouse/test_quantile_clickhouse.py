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


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory, clickhouse_http: ChdbHttpServer
           ) -> Iterator[tuple[TraceStore, ClickHouseStore]]:
    from tests.clickhouse.test_differential import both_stores
    from tests.support.synthetic import generate

    root = tmp_path_factory.mktemp("quantiles")
    generate(root / "otel_llm", traces=80, seed=11)
    yield from both_stores(root, f"clickhouse://default@127.0.0.1:{clickhouse_http.port}/otel_quantile_summary")


def test_the_summarys_percentiles_are_the_same_numbers(stores: tuple[TraceStore, ClickHouseStore]) -> None:
    """The latency figures of ``summary`` by model and of the ``daily_usage`` view: equal, not within 1e-9."""
    duck, ch = ([(r.key, r.p50_ms, r.p95_ms, r.p99_ms) for r in summaries.summary(store, "model")]
                for store in stores)
    assert duck and duck == ch
    daily = "SELECT day, project, model, p95_ms FROM daily_usage ORDER BY day, project, model"
    duck, ch = (store.query(daily) for store in stores)
    assert duck and duck == ch


def test_summed_costs_agree_at_the_printed_precision_only(stores: tuple[TraceStore, ClickHouseStore]) -> None:
    """The known limitation: a sum of costs is added in each engine's row order (DuckDB's ``sum`` of DOUBLE
    is plain, in its scan order), so its last bits may differ; both agree at the 12 significant digits the
    terminal prints (``terminal._money``). The analyses' SQL is DuckDB's (not ClickHouse's) to change: an
    order-free sum on both engines would make these equal; then assert ``==`` here."""
    sums = [[(by, r.key, r.cost_usd) for by in ("model", "project", "user", "day")
             for r in summaries.summary(store, by)] for store in stores]
    duck, ch = ([(by, key, cost if cost is None else float(f"{cost:.12g}")) for by, key, cost in rows]
                for rows in sums)
    assert duck and duck == ch
    assert sums[0] != sums[1], "the sums agree bit for bit now: compare them with == above"
