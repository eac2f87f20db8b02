"""The search for calls only GenAI metric points record (``_unrecorded.unheld_calls``), on points as an SDK exports them.

    .venv/bin/python benchmarks/metric_search_bench.py --store STORE.duckdb [--rounds 7] [--work DIR]

``report_bench.py``'s large store (``--data``'s ``report-1000000.duckdb``) holds one duration-histogram
point per series per day: ``tests/support/synthetic.py`` collects its metrics once a day. An SDK's
metric reader exports every minute, so a store of its data holds a stretch of points per series per
hour, and the search matches every stretch with the span minutes in its reach. This copies STORE (which
is only read) into ``--work`` once and gives the copy hourly cumulative points in place of each daily one
(the day's growth spread evenly over its hours), then, round by round, times on both stores one
``summary()`` (the in-run baseline) and ``unheld_calls`` over the whole store, its middle 30 days and its
most used model. Prints the medians of CPU (the process's, all threads) and wall time, the rows found and
the ratio of each search's wall time to the baseline's.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import duckdb  # noqa: E402

from otel_llm import semconv  # noqa: E402
from otel_llm_analysis import Filters, TraceStore, summary  # noqa: E402
from otel_llm_analysis._unrecorded import unheld_calls  # noqa: E402
from report_bench import cpu_timed  # noqa: E402  (this script's directory is on the path)

#: Each daily point of the duration histogram as 24 hourly ones: the series' cumulative count grown evenly.
_HOURLY = f"""
CREATE TEMP TABLE hourly AS
WITH daily AS (
    SELECT *, coalesce(lag(count) OVER (PARTITION BY metric_name, resource_attributes, attributes, start_time
                                        ORDER BY time), 0) AS before
    FROM metric_points WHERE metric_name = '{semconv.METRIC_OPERATION_DURATION}'
)
SELECT d.* EXCLUDE (time, count, before, row_key),
       date_trunc('day', d.time) + to_hours(h) + INTERVAL 3599 SECOND AS time,
       (before + (d.count - before) * (h + 1) // 24)::BIGINT AS count, hash(d.row_key, h) AS row_key
FROM daily d, range(24) r(h);
DELETE FROM metric_points WHERE metric_name = '{semconv.METRIC_OPERATION_DURATION}';
INSERT INTO metric_points BY NAME SELECT * FROM hourly;
CHECKPOINT;
"""


def hourly_copy(store: Path, work: Path) -> Path:
    """``store`` copied into ``work`` with hourly duration-histogram points (made once, then reused)."""
    copy = work / f"{store.stem}.hourly.duckdb"
    if not copy.exists() or copy.stat().st_mtime < store.stat().st_mtime:
        work.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(store, work / "making.duckdb")
        with duckdb.connect(str(work / "making.duckdb")) as con:
            con.execute(_HOURLY)
        (work / "making.duckdb").rename(copy)
    return copy


def windows(store: TraceStore) -> dict[str, Filters]:
    """The searches timed: the whole store, its middle 30 days, its most used model."""
    ((first, last, model),) = store.query("SELECT min(start_time), max(start_time), mode(model) FROM llm_calls")
    middle = first + (last - first) / 2
    return {"whole store": Filters(),
            "30 days": Filters(since=middle - timedelta(days=15), until=middle + timedelta(days=15)),
            f"model {model}": Filters(model=model)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--work", type=Path, default=Path("/tmp/otel-llm-metric-search-bench"))
    args = parser.parse_args()
    stores = {"daily points": args.store, "hourly points": hourly_copy(args.store, args.work)}
    for name, path in stores.items():
        with TraceStore(path, read_only=True) as store:
            searches = windows(store)
            times: dict[str, list[tuple[float, float]]] = {"summary()": [], **{w: [] for w in searches}}
            rows = {w: len(unheld_calls(store, f)) for w, f in searches.items()}  # warm, and what each finds
            summary(store)
            for _ in range(args.rounds):
                times["summary()"].append(cpu_timed(lambda: summary(store))[:2])
                for label, filters in searches.items():
                    times[label].append(cpu_timed(lambda: unheld_calls(store, filters))[:2])
            (points,) = store.query("SELECT count(*) FROM metric_points WHERE metric_name = $name",
                                    {"name": semconv.METRIC_OPERATION_DURATION})[0]
            base = statistics.median(wall for wall, _ in times["summary()"])
            print(f"{name} ({points:,} duration points), medians of {args.rounds}:")
            for label, measured in times.items():
                wall = statistics.median(w for w, _ in measured)
                cpu = statistics.median(c for _, c in measured)
                found = f"  {rows[label]:,} stretches found" if label in rows else ""
                print(f"  {label:28s} {wall * 1000:8.1f} ms wall {cpu * 1000:8.1f} ms CPU  "
                      f"{wall / base:6.2f}x summary(){found}")


if __name__ == "__main__":
    main()
