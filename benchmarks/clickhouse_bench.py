"""The public analyses on ClickHouse (chdb) and DuckDB over the same spans, and ``load`` against ``ingest``.

    .venv/bin/python benchmarks/clickhouse_bench.py                     # 120k traces (~1M spans)
    .venv/bin/python benchmarks/clickhouse_bench.py --traces 20000 --rounds 3   # a quick look
    .venv/bin/python benchmarks/clickhouse_bench.py --planning --rounds 3      # the views kept as tables, or not

One generated data set (``tests/support/synthetic.py``) is ingested into a DuckDB
store and loaded (``otel-llm load``) into ClickHouse — chdb, the ClickHouse engine
in process, behind its HTTP interface (``tests/support/clickhouse_http.py``), read
through ``ClickHouseStore`` and clickhouse-connect as a server would be. Then each
analysis runs on both engines, interleaved, ``--rounds`` times; the table gives the
medians and the ratio ClickHouse / DuckDB. Load and ingest are timed once each, on
the same files. Both engines share the machine with this Python process (and chdb
answers through a one-threaded HTTP stand-in), so the ClickHouse figures are an
upper bound for a server; ratios measured in one run are what to compare. The
"engine" column runs the ClickHouse statements each analysis sent, in the same
rounds, straight in chdb (no HTTP, no client, no transpiling): what of the time is
the engine's, and what the stand-in's and the client's.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any, Callable
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from otel_llm_analysis import agents, alerts, compare, logs, retries, summaries, tools, traces, trends  # noqa: E402
from otel_llm_analysis._filters import Filters  # noqa: E402
from otel_llm_analysis.clickhouse import load  # noqa: E402
from otel_llm_analysis.clickhouse._kept_views import PREFIX as KEPT_PREFIX, KeptViews  # noqa: E402
from otel_llm_analysis.clickhouse.store import ClickHouseStore  # noqa: E402
from otel_llm_analysis.store import TraceStore  # noqa: E402
from tests.support.clickhouse_http import ChdbHttpServer  # noqa: E402
from tests.support.synthetic import generate  # noqa: E402

#: The generated data ends on 2026-11-20: its last week, about a ninth of the 60 days' spans.
LAST_WEEK = Filters.of("2026-11-13", "2026-11-20")

ANALYSES: dict[str, Callable[[Any], Any]] = {
    "summary": lambda s: summaries.summary(s, None),
    "summary --by model": lambda s: summaries.summary(s, "model"),
    "summary --by day (a month)": lambda s: summaries.summary(s, "day", Filters.of("2026-10-01", "2026-11-01")),
    "trends --period day": lambda s: trends.series(s, "day"),
    "budget forecast": lambda s: trends.forecast_month_end(s, "2026-11", as_of=date(2026, 11, 20)),
    "check": lambda s: alerts.check(s),
    "traces --top 10": lambda s: traces.top_traces(s, 10, "cost"),
    "logs --patterns": lambda s: logs.log_patterns(s, "ERROR", None, None, None, 50),
    "tools (last 7 days)": lambda s: tools(s, LAST_WEEK),
    "agents (last 7 days)": lambda s: agents(s, LAST_WEEK),
    "retries (last 7 days)": lambda s: retries(s, None, LAST_WEEK),
    "agents (whole store)": lambda s: agents(s),
}


#: ``--planning``: the analyses that read the agents' views (and the calls), on the store of
#: tests/clickhouse/test_cli_clickhouse.py, where ClickHouse's planning, not the data, is the time.
PLANNED: dict[str, Callable[[Any], Any]] = {
    "compare --by model (turns)": lambda s: compare(s, "model"),
    "agents": lambda s: agents(s),
    "tools": lambda s: tools(s),
    "retries": lambda s: retries(s, None),
    "summary --by model": lambda s: summaries.summary(s, "model"),
}


def _forget_kept(store: ClickHouseStore) -> None:
    """Drop the kept tables (``_kept_views``), so the next read makes them again, as after an insert."""
    client, database = store.connection.client, store.url.database
    for (name,) in client.query(f"SELECT name FROM system.tables WHERE database = '{database}' "
                                f"AND startsWith(name, '{KEPT_PREFIX}')").result_rows:
        client.command(f"DROP TABLE `{database}`.`{name}`")
    if store.connection.kept is not None:
        store.connection.kept.forget()


def _report_seconds(url: str, out: Path) -> float:
    """``otel-llm report --max-views 1`` on ``url``, as test_report_and_the_environment_variable runs it."""
    from typer.testing import CliRunner

    from otel_llm.cli import app

    started = time.perf_counter()
    result = CliRunner().invoke(app, ["report", "--max-views", "1", "--out", str(out), "--db", url],
                                env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return time.perf_counter() - started


def planning(rounds: int, report_rounds: int) -> None:
    """Each analysis of :data:`PLANNED` and the report with the views kept as tables (made in the round:
    "first", then read again: "again") and with the views planned at each reference ("views"), in the same
    rounds; medians."""
    with tempfile.TemporaryDirectory(prefix="ch-planning-") as tmp, ChdbHttpServer() as server:
        generate(Path(tmp) / "files", traces=40, peer_spans=True, seed=5, agents="otel_llm")
        url = f"clickhouse://default@127.0.0.1:{server.port}/planning"
        load([Path(tmp) / "files"], url)
        print(f"the tests' small store (40 turns); load average {os.getloadavg()[0]:.2f}")
        modes = ("views", "first", "again")
        times: dict[str, dict[str, list[float]]] = {name: {m: [] for m in modes} for name in [*PLANNED, "report"]}
        with ClickHouseStore(url) as store:
            kept = store.connection.kept
            for _ in range(rounds):
                for name, run in PLANNED.items():
                    store.connection.kept = None
                    times[name]["views"].append(_timed(run, store))
                    store.connection.kept = kept
                    _forget_kept(store)
                    times[name]["first"].append(_timed(run, store))
                    times[name]["again"].append(_timed(run, store))
            for n in range(report_rounds):
                with mock.patch.object(KeptViews, "rewrite", lambda self, tree, version: tree):
                    times["report"]["views"].append(_report_seconds(url, Path(tmp) / f"views{n}.html"))
                _forget_kept(store)
                times["report"]["first"].append(_report_seconds(url, Path(tmp) / f"first{n}.html"))
                times["report"]["again"].append(_report_seconds(url, Path(tmp) / f"again{n}.html"))
        print(f"\n{'analysis':28} {'views s':>8} {'first s':>8} {'again s':>8}   (medians; views: planned at each "
              "reference; first: the kept tables made; again: read)")
        for name, by_mode in times.items():
            print(f"{name:28} " + " ".join(f"{statistics.median(by_mode[m]):8.2f}" for m in modes))
        print(f"\nload average {os.getloadavg()[0]:.2f}")


def _timed(run: Callable[[Any], Any], store: Any) -> float:
    started = time.perf_counter()
    run(store)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--traces", type=int, default=120_000,
                        help="chat turns (~8.5 spans each: half end with an agent step, for tools/agents/retries)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--planning", action="store_true",
                        help="the analyses over the agents' views on the tests' small store, the views kept as tables "
                             "or not (PLANNED)")
    parser.add_argument("--report-rounds", type=int, default=1, help="with --planning: reports per mode")
    args = parser.parse_args()
    if args.planning:
        planning(args.rounds, args.report_rounds)
        return
    with tempfile.TemporaryDirectory(prefix="ch-bench-") as tmp:
        files = Path(tmp) / "files"
        data = generate(files, traces=args.traces, keep_records=False, agents="otel_llm")
        print(f"{data.span_count:,} spans in {len(data.files)} files; load average {os.getloadavg()[0]:.2f}")
        duck_path = Path(tmp) / "bench.duckdb"
        started = time.perf_counter()
        with TraceStore(duck_path) as store:
            store.ingest([files])
        ingest_s = time.perf_counter() - started
        with ChdbHttpServer() as server:
            url = f"clickhouse://default@127.0.0.1:{server.port}/bench"
            started = time.perf_counter()
            report = load([files], url)
            load_s = time.perf_counter() - started
            assert report.spans_added == data.span_count, report.summary()
            print(f"DuckDB ingest {ingest_s:.1f} s, ClickHouse load {load_s:.1f} s "
                  f"(load / ingest {load_s / ingest_s:.2f})")
            duck, ch = TraceStore(duck_path, read_only=True), ClickHouseStore(url)
            engines = ("duckdb", "clickhouse", "engine")
            times: dict[str, dict[str, list[float]]] = {name: {e: [] for e in engines} for name in ANALYSES}
            for _ in range(args.rounds):
                for name, run in ANALYSES.items():
                    for engine, store in (("duckdb", duck), ("clickhouse", ch)):
                        ran = len(ch.connection.statements)
                        started = time.perf_counter()
                        run(store)
                        times[name][engine].append(time.perf_counter() - started)
                    started = time.perf_counter()
                    for statement in ch.connection.statements[ran:]:
                        server.run(statement, None, "Null", "bench")
                    times[name]["engine"].append(time.perf_counter() - started)
            print(f"\n{'analysis':30} {'DuckDB ms':>10} {'chdb ms':>10} {'ratio':>7} {'engine ms':>10}"
                  f"   (medians of {args.rounds}; engine: the same statements straight in chdb)")
            for name, by_engine in times.items():
                d, c, e = (statistics.median(by_engine[engine]) * 1e3 for engine in engines)
                print(f"{name:30} {d:10.1f} {c:10.1f} {c / d:7.2f} {e:10.1f}")
            print(f"\nload average {os.getloadavg()[0]:.2f}")
            duck.close()
            ch.close()


if __name__ == "__main__":
    main()
