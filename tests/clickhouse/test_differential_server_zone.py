"""A ClickHouse server whose time zone is not UTC gives the same answers as DuckDB.

The exporter's time columns carry no zone, so ClickHouse reads them (and parses
time literals, and starts days and hours) in the server's zone, where DuckDB's
store is naive UTC. A server set to New York (``timezone`` in its config, which
the collector's users do not choose for otel-llm) must not move a window, a
day's calls or an exported day's file.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Callable, Iterator

import chdb.session
import pytest

from otel_llm_analysis import budgets, summaries, trends
from otel_llm_analysis._filters import Filters
from otel_llm_analysis.export import export_spans
from otel_llm_analysis.clickhouse import load
from otel_llm_analysis.clickhouse.store import ClickHouseStore
from otel_llm_analysis.store import TraceStore
from tests.clickhouse.test_differential import same_on_both
from tests.support.clickhouse_http import ChdbHttpServer
from tests.support.synthetic import generate

WINDOW = Filters.of("2026-10-10T03:00:00", "2026-10-20")


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory, chdb_session: chdb.session.Session,
           clickhouse_http: ChdbHttpServer) -> Iterator[tuple[TraceStore, ClickHouseStore]]:
    root = tmp_path_factory.mktemp("server_zone")
    generate(root / "files", traces=60, seed=5)
    duck = TraceStore(":memory:")
    duck.ingest([root / "files"])
    url = f"clickhouse://default@127.0.0.1:{clickhouse_http.port}/otel_server_zone"
    zone = chdb_session.query("SELECT timezone()", "TSVRaw").bytes().decode().strip()
    chdb_session.query("SET session_timezone = 'America/New_York'")  # the server's zone, for every client
    try:
        load([root / "files"], url)
        with ClickHouseStore(url) as ch:
            yield duck, ch
    finally:
        chdb_session.query(f"SET session_timezone = '{zone}'")
        duck.close()


ANALYSES: dict[str, Callable[[Any], Any]] = {
    "totals in a window": lambda s: summaries.totals(s, WINDOW),
    "trends by day in a window": lambda s: trends.series(s, "day", WINDOW),
    "trends by week": lambda s: trends.series(s, "week"),
    "summary by day": lambda s: summaries.summary(s, "day"),
    "summary by hour in a window": lambda s: summaries.summary(s, "hour", WINDOW),
    "forecast": lambda s: trends.forecast_month_end(s, "2026-10", as_of=date(2026, 10, 20)),
    "budget": lambda s: budgets.budget_status(s, budgets.parse_budgets({"budgets": [{"name": "all", "monthly": 1}]}),
                                              month="2026-10", as_of=date(2026, 10, 20)),
}


@pytest.mark.parametrize("name", list(ANALYSES))
def test_the_analysis_is_the_same_on_a_server_in_another_zone(stores: tuple[TraceStore, ClickHouseStore],
                                                              name: str) -> None:
    same_on_both(stores, name, ANALYSES[name])


def test_the_export_puts_each_span_in_its_utc_day(stores: tuple[TraceStore, ClickHouseStore],
                                                  tmp_path: Path) -> None:
    duck, ch = stores
    export_spans(duck, tmp_path / "duck")
    export_spans(ch, tmp_path / "ch")
    days = [sorted(p.name for p in (tmp_path / side).iterdir()) for side in ("duck", "ch")]
    assert days[0] and days[0] == days[1]
    query = "SELECT day, span_id, start_time FROM read_parquet('{}/*/*.parquet', hive_partitioning = 1) ORDER BY 2"
    import duckdb

    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        same = [con.execute(query.format(tmp_path / side)).fetchall() for side in ("duck", "ch")]
    assert same[0] == same[1]
