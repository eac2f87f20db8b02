"""Every analysis on DuckDB and on ClickHouse over the same data gives the same answer.

The same generated files (otel-llm's spans, a peer instrumentor's span nested in
every LLM call, errors, streams, evaluations, logs, metrics) are ingested into a
DuckDB store and loaded (``otel-llm load``) into ClickHouse — chdb behind its HTTP
interface, read by :class:`ClickHouseStore` through clickhouse-connect, the code
that talks to a server. Each public analysis then runs on both; results must be
equal: counts, ids, keys and times exactly; percentiles by both engines' exact
linear-interpolation quantiles, and sums, to 1e-9 relative (the engines round
the interpolation's last bit and add in their own orders).
"""

from __future__ import annotations

import dataclasses
import math
from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from otel_llm_analysis import alerts, budgets, comparisons, logs, qa, summaries, traces, trends
from otel_llm_analysis._filters import Filters
from otel_llm_analysis.clickhouse import load
from otel_llm_analysis.clickhouse.store import ClickHouseStore
from otel_llm_analysis.store import TraceStore
from tests.support.clickhouse_http import ChdbHttpServer
from tests.support.synthetic import generate

WINDOW = Filters.of("2026-10-01", "2026-11-01")


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory, clickhouse_http: ChdbHttpServer
           ) -> Iterator[tuple[TraceStore, ClickHouseStore]]:
    root = tmp_path_factory.mktemp("differential")
    generate(root / "otel_llm", traces=150, peer_spans=True, seed=3)
    yield from both_stores(root, f"clickhouse://default@127.0.0.1:{clickhouse_http.port}/otel_differential")


def both_stores(root: Path, url: str, *later: Path, bad_lines_allowed: bool = False
                ) -> Iterator[tuple[TraceStore, ClickHouseStore]]:
    """The files under ``root`` ingested into an in-memory DuckDB store and loaded into ClickHouse at ``url``;
    then those under each of ``later``, in turn (one more ingest and load each). DuckDB's ingest must find
    nothing to report unless ``bad_lines_allowed`` (data made of values it cannot read)."""
    duck = TraceStore(":memory:")
    for folder in (root, *later):
        report = duck.ingest([folder])
        assert bad_lines_allowed or report.bad_lines == []
        assert load([folder], url).spans_added == report.spans_added
    with ClickHouseStore(url) as ch:
        yield duck, ch
    duck.close()


def same(a: Any, b: Any, path: str = "result") -> None:
    """``a == b`` with floats to 1e-9 relative; the assertion names the first place they differ."""
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        assert type(a) is type(b), path
        for f in dataclasses.fields(a):
            same(getattr(a, f.name), getattr(b, f.name), f"{path}.{f.name}")
    elif isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), path
        for key in a:
            same(a[key], b[key], f"{path}[{key!r}]")
    elif isinstance(a, (list, tuple)):
        assert isinstance(b, (list, tuple)) and len(a) == len(b), f"{path}: {len(a)} rows vs {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and isinstance(b, (int, float)) and not isinstance(b, bool):
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12), f"{path}: {a!r} vs {b!r}"
    else:
        assert a == b, f"{path}: {a!r} (DuckDB) vs {b!r} (ClickHouse)"


ANALYSES: dict[str, Callable[[Any], Any]] = {
    "summary": lambda s: summaries.summary(s, None),
    "summary in a window": lambda s: summaries.summary(s, None, WINDOW),
    **{f"summary by {by}": (lambda s, by=by: summaries.summary(s, by))
       for by in ("model", "response_model", "project", "service", "provider", "operation", "kind", "node",
                  "collection", "db_operation", "user", "day", "week", "hour", "run_config.max_retries")},
    "summary of a project and model": lambda s: summaries.summary(s, "model", Filters(project="support",
                                                                                      model="gpt-4o")),
    # ordered by streams only: ties come in either order, so compare by key
    "time to first token by model": lambda s: sorted(summaries.time_to_first_token(s, "model"),
                                                     key=lambda r: (-r.streams, str(r.key))),
    "trends by day": lambda s: trends.series(s, "day", WINDOW),
    "trends by week": lambda s: trends.series(s, "week"),
    "forecast": lambda s: trends.forecast_month_end(s, "2026-11", as_of=date(2026, 11, 20)),
    "budget": lambda s: budgets.budget_status(s, budgets.parse_budgets(
        {"budgets": [{"name": "all", "monthly": 5}, {"name": "gpt", "monthly": 1, "model": "gpt-4o"}]}),
        month="2026-11", as_of=date(2026, 11, 20)),
    "check": lambda s: alerts.check(s, alerts.Thresholds(p95_latency_ms=100, error_rate=0.01, p95_time_to_first_token_ms=10, peak_memory_mb=1, cost_usd=0.01, min_pass_rate=0.5), WINDOW),
    "compare (call figures)": lambda s: comparisons.compare(s, "model", turns=[]),
    "compare by run_config": lambda s: comparisons.compare(s, "run_config.max_retries", turns=[]),
    "quality": lambda s: qa.quality(s, None),
    "quality by model": lambda s: qa.quality(s, "model"),
    "logs": lambda s: logs.search_logs(s, None, None, None, None, 1000),
    "logs search": lambda s: logs.search_logs(s, "timeout", "WARN", datetime(2026, 10, 1), None, 1000),
    "log patterns": lambda s: logs.log_patterns(s, "ERROR", None, None, None, 100),
    "top traces by cost": lambda s: traces.top_traces(s, 20, "cost"),
    "top traces by duration": lambda s: traces.top_traces(s, 20, "duration", WINDOW),

}


def same_on_both(stores: tuple[TraceStore, ClickHouseStore], name: str, analysis: Callable[[Any], Any]) -> None:
    """``analysis`` gives something on DuckDB, and the same on ClickHouse."""
    duck, ch = stores
    expected = analysis(duck)
    assert expected, f"{name}: the data must give the analysis something to compute"
    same(expected, analysis(ch))


@pytest.mark.parametrize("name", list(ANALYSES))
def test_the_analysis_is_the_same_on_both_engines(stores: tuple[TraceStore, ClickHouseStore], name: str) -> None:
    same_on_both(stores, name, ANALYSES[name])


def test_time_filters_reach_the_span_tables_partitions_and_ordering_key(
        stores: tuple[TraceStore, ClickHouseStore]) -> None:
    _, ch = stores
    before = len(ch.connection.statements)
    summaries.summary(ch, "model", WINDOW)
    ran = "\n".join(ch.connection.statements[before:])  # the summary's statements
    window = ("start_time >= CAST('2026-10-01 00:00:00' AS Nullable(DateTime64(6, 'UTC'))) AND start_time < "
              "CAST('2026-11-01 00:00:00' AS Nullable(DateTime64(6, 'UTC')))")
    assert window in ran
    plan = "\n".join(row[0] for row in ch.connection.client.query(
        f"EXPLAIN indexes = 1 SELECT sum(duration_ms) FROM spans WHERE {window}").result_rows)
    assert "(toDate(start_time) in " in plan, plan  # the partition key takes the time filter
    assert "PrimaryKey" in plan and "Condition: and((start_time in " in plan, plan  # and so does the ordering key
    assert "Parts: 26/51" in plan, plan  # the month's parts of the two months' data are read, no others
    assert "JSONExtract" not in ran and "SpanAttributes" not in ran  # typed columns, no attribute parsing



def test_every_analysis_of_an_empty_store_is_the_same_on_both_engines(clickhouse_http: ChdbHttpServer,
                                                                      database: str) -> None:
    """No data (the exporter's tables only, as a collector leaves them before the first span): the answers
    are DuckDB's, where ClickHouse's min/max over no rows (1970-01-01) gave trends a zero row dated 1970."""
    from otel_llm.collector import exporter_sql_dir
    from otel_llm_analysis.clickhouse import ExporterSchema

    for statement in ExporterSchema(database=database).statements(exporter_sql_dir()):
        clickhouse_http.query(statement)
    with TraceStore(":memory:") as duck, ClickHouseStore(
            f"clickhouse://default@127.0.0.1:{clickhouse_http.port}/{database}") as ch:
        for name, analysis in ANALYSES.items():
            same(analysis(duck), analysis(ch), name)
        assert trends.series(ch, "week") == []
