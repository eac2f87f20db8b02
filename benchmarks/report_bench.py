"""Build time and size of ``otel-llm report``, and the dashboard's response times, for the demo and a large store.

    .venv/bin/python benchmarks/report_bench.py [--spans 1000000] [--max-views 60] [--rounds 3]
                                                [--data /tmp/otel-llm-report-bench] [--skip-demo] [--skip-small]
                                                [--skip-build] [--skip-serve]

* ``demo``: ``otel-llm demo --turns 50`` (no simulated latency) into a fresh
  directory, then the report of what it wrote;
* ``61 spans``: the small store of ``tests/web/test_build_queries.py``
  (``tests/support/synthetic.py``, seed 3, 12 traces), where a build's time is
  DuckDB planning its statements, not reading rows;
* ``N spans``: ``tests/support/synthetic.py`` data (generated and ingested once
  under ``--data``, then reused), then the report with ``--max-views`` filter
  combinations.

For each store, ``--rounds`` times: one ``summary()`` over the whole store (the
in-run baseline: what the cheapest analysis of the same data costs on this machine
right now), then the whole report build (``static.build_report``). Prints the
file's size, the filter combinations embedded, the medians of both times and
their ratio - the ratio travels between machines and loads, the seconds do not -
and the build's median CPU time (the process's, all threads: DuckDB's included),
which the machine's other work sways less than its wall time.

Then, unless ``--skip-serve``, the dashboard's JSON endpoints on the large store:
each ``/api/<view>`` (whole window, no filter) requested in the page's order, as
one page load does, through the real FastAPI app (in process, no socket) of a
dashboard started afresh each of ``--rounds`` rounds, with their median
milliseconds, against the same ``summary()`` baseline.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from otel_llm_analysis import TraceStore, summary  # noqa: E402
from otel_llm_analysis.web.choices import choices  # noqa: E402
from otel_llm_analysis.web.static import build_report, plan  # noqa: E402
from otel_llm_analysis.web.views import VIEWS, Query  # noqa: E402


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def cpu_timed(action: Callable[[], Any]) -> tuple[float, float, Any]:
    """Wall and CPU seconds (the process's, every thread) of ``action()``, and its result."""
    cpu = time.process_time()
    seconds, result = timed(action)
    return seconds, time.process_time() - cpu, result


def measure(label: str, db: Path, max_views: int, rounds: int) -> float:
    """Report build vs one summary(), interleaved; returns the median summary() seconds."""
    builds, cpus, baselines = [], [], []
    with TraceStore(db, read_only=True) as store:
        states = len(plan(store, Query().filters, choices(store, Query().filters), max_views).states)
        for _ in range(rounds):
            baselines.append(timed(lambda: summary(store))[0])
            seconds, cpu, page = cpu_timed(lambda: build_report(store, Query(), max_states=max_views))
            builds.append(seconds)
            cpus.append(cpu)
    build, baseline = statistics.median(builds), statistics.median(baselines)
    size = len(page.encode("utf-8"))
    print(f"{label}: {size / 1024:,.0f} KiB, {states} filter combinations, built in {build:.1f} s (median of "
          f"{rounds}; CPU {statistics.median(cpus):.1f} s); one summary() {baseline * 1000:.0f} ms; "
          f"build / summary() = {build / baseline:.0f}x", flush=True)
    return baseline


def endpoints(db: Path, rounds: int) -> None:
    """Median ms of each ``/api/<view>`` over the whole store, against one summary() in the same rounds."""
    from fastapi.testclient import TestClient

    from otel_llm_analysis.web.live import LiveStore
    from otel_llm_analysis.web.server import create_app

    times: dict[str, list[float]] = {name: [] for name in ["summary()", *VIEWS, "status"]}
    with TraceStore(db, read_only=True) as store:
        for _ in range(rounds):
            # a fresh dashboard each round: its requests share results within a data version, as a page load does
            live = LiveStore(store)
            client = TestClient(create_app(live, Query()))
            times["summary()"].append(timed(lambda: summary(store))[0])
            for name in [*VIEWS, "status"]:
                seconds, response = timed(lambda: client.get(f"/api/{name}"))
                assert response.status_code == 200, (name, response.status_code, response.text[:200])
                times[name].append(seconds)
            live.release()  # its temporary tables, before the next round's dashboard
    baseline = statistics.median(times.pop("summary()"))
    print(f"dashboard endpoints (median of {rounds}; one summary() {baseline * 1000:.0f} ms):", flush=True)
    for name, values in sorted(times.items(), key=lambda item: -statistics.median(item[1])):
        median = statistics.median(values)
        print(f"  /api/{name:<12} {median * 1000:7.0f} ms  ({median / baseline:.1f}x summary())", flush=True)


def demo(work: Path, max_views: int, rounds: int) -> None:
    out = work / "otel-data"
    otel_llm = Path(sys.executable).parent / "otel-llm"
    subprocess.run([str(otel_llm), "demo", "--turns", "50", "--latency-scale", "0", "--output-dir", str(out)],
                   check=True, capture_output=True)
    measure("demo (50 turns)", out / "otel-llm.duckdb", max_views, rounds)


def small(data: Path) -> Path:
    """The 61-span store of ``tests/web/test_build_queries.py`` (made once, then reused)."""
    db = data / "report-small.duckdb"
    if not db.exists():
        from tests.support.synthetic import generate

        generate(data / "files-small", seed=3, traces=12, spans_per_line=8)
        with TraceStore(db) as store:
            store.ingest([data / "files-small"])
    return db


def large(data: Path, spans: int, metrics_every_s: int | None = None) -> Path:
    """The store of ``spans`` generated spans (made once, then reused), its metric points exported every
    ``metrics_every_s`` seconds as an SDK's reader does (``None``: once a day)."""
    name = f"{spans}" if metrics_every_s is None else f"{spans}-metrics-{metrics_every_s}s"
    db = data / f"report-{name}.duckdb"
    if not db.exists():
        from tests.support.synthetic import generate

        generated = generate(data / f"files-{name}", seed=42, traces=int(spans / 5.07) + 1, spans_per_line=512,
                             keep_records=False, metrics_every_s=metrics_every_s)
        with TraceStore(db) as store:
            store.ingest([data / f"files-{name}"])
        print(f"generated and ingested {generated.span_count:,} spans", flush=True)
    else:
        TraceStore(db).close()  # opened for writing once: this version's views and macros
    return db


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=1_000_000)
    parser.add_argument("--max-views", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "otel-llm-report-bench")
    parser.add_argument("--metrics-every", type=int, default=None, metavar="SECONDS",
                        help="the large store's metric points exported every SECONDS, as an SDK's reader does "
                             "(60 is its default); without it, once a day")
    parser.add_argument("--skip-demo", action="store_true")
    parser.add_argument("--skip-small", action="store_true")
    parser.add_argument("--skip-build", action="store_true")
    parser.add_argument("--skip-serve", action="store_true")
    args = parser.parse_args()
    args.data.mkdir(parents=True, exist_ok=True)
    if not args.skip_demo:
        with tempfile.TemporaryDirectory() as work:
            demo(Path(work), args.max_views, args.rounds)
    if not args.skip_small:
        measure("61 spans", small(args.data), args.max_views, args.rounds)
    if args.skip_build and args.skip_serve:
        return
    db = large(args.data, args.spans, args.metrics_every)
    if not args.skip_build:
        measure(f"{args.spans:,} spans", db, args.max_views, args.rounds)
    if not args.skip_serve:
        endpoints(db, args.rounds)


if __name__ == "__main__":
    main()
