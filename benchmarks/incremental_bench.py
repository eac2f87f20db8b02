"""Incremental ingest: does its cost depend on the new data or on the store?

    .venv/bin/python benchmarks/incremental_bench.py [--data /tmp/otel-llm-incremental-bench]
                                                     [--new 300000] [--small 300000] [--big 10000000] [--runs 3]

The same new data (``--new`` spans of collector-format JSON: traces, their logs
and metric points, the day after the history) is ingested into two stores, in
fresh child processes, interleaved:

* ``small``: a store holding ``--small`` spans of history (``tests/support/synthetic.py``
  data, ingested as ``otel-llm ingest`` does);
* ``big``: a store holding ``--big`` spans: the same history ingested, then its rows
  (spans, events, links, logs, metric points) copied ``big / small - 1`` times
  with new trace ids and times shifted 60 days back per copy, oldest first - the
  shape of a store that grew by ingests over years, built in a minute instead of
  ingesting ~10 GB of JSON. Rows are copied table to table, so they are stored
  exactly as ingest stores them (same columns, same compression, row groups in
  time order as they arrive).

Both stores are built once (``--data``, e.g. under ``/work/cache/bench``) and
copied before each run, so every run ingests into the same state. Each is first
brought up to date with the agents' ingest-time tables of this otel-llm (a copy
``store-N.scopes-DIGEST.duckdb`` opened for writing once, outside the timing:
``_scope_index`` works a store made by other definitions out in full). A run
times ``TraceStore(db).ingest(new)`` and ``close()`` (the final checkpoint), wall
and CPU time of all the process's threads, with the parts: loading the files,
pricing, the nesting refresh, the agents' scopes refresh.

Target: the big store's median within +-15 % of the small store's.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import shutil
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

HISTORY_END = datetime(2026, 11, 20)
SHIFT_DAYS = 60
TARGET = 0.15
#: Tables copied into the big store, with the time columns a copy shifts.
_TIMES = {
    "span_rows": ("start_time", "end_time"),
    "span_events": ("time",),
    "span_links": (),
    "logs": ("time", "observed_time"),
    "metric_points": ("time", "start_time"),
    "metric_exemplars": ("time",),
}
_IDS = {"span_rows": ("trace_id",), "span_events": ("trace_id",), "span_links": ("trace_id", "linked_trace_id"),
        "logs": ("trace_id",), "metric_points": (), "metric_exemplars": ("trace_id",)}
_KEYS = {"logs": "row_key", "metric_points": "row_key", "metric_exemplars": "point_key"}


def _generate(out: Path, spans: int, seed: int, days: int, end: datetime) -> Path:
    marker = out / "done"
    if not marker.exists():
        from tests.support.synthetic import generate

        started = time.perf_counter()
        data = generate(out, seed=seed, traces=int(spans / 5.07) + 1, days=days, end=end, spans_per_line=512,
                        keep_records=False)
        marker.write_text(str(data.span_count))
        print(f"generated {data.span_count:,} spans ({time.perf_counter() - started:.0f}s) -> {out}", flush=True)
    return out


def _small_store(data: Path, spans: int) -> Path:
    db = data / f"store-{spans}.duckdb"
    if not db.exists():
        from otel_llm_analysis import TraceStore

        history = _generate(data / "history", spans, seed=42, days=SHIFT_DAYS, end=HISTORY_END)
        tmp = db.with_suffix(".tmp")
        tmp.unlink(missing_ok=True)
        with TraceStore(tmp) as store:
            report = store.ingest(history)
        assert not report.bad_lines, report.bad_lines[:3]
        tmp.rename(db)
    return db


def _shifted(table: str, columns: list[str], copy: int) -> str:
    """SELECT list of ``table``'s columns for copy number ``copy`` (0: the rows as they are)."""
    out = []
    for c in columns:
        if copy and c in _TIMES[table]:
            out.append(f"{c} - INTERVAL {copy * SHIFT_DAYS} DAY AS {c}")
        elif copy and c in _IDS[table]:
            out.append(f"CASE WHEN {c} IS NULL THEN NULL ELSE printf('%04x', {copy}) || substr({c}, 5) END AS {c}")
        elif copy and c == _KEYS.get(table):
            out.append(f"hash({c}, {copy}) AS {c}")
        else:
            out.append(c)
    return ", ".join(out)


def _big_store(data: Path, small: Path, small_spans: int, spans: int) -> Path:
    db = data / f"store-{spans}.duckdb"
    if db.exists():
        return db
    import duckdb

    from otel_llm_analysis import TraceStore

    copies = max(1, round(spans / small_spans))
    tmp = db.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    TraceStore(tmp).close()  # the schema
    started = time.perf_counter()
    con = duckdb.connect(str(tmp))
    con.execute(f"ATTACH '{small}' AS src (READ_ONLY)")
    con.execute("SET preserve_insertion_order = true")
    for copy in range(copies - 1, -1, -1):  # oldest first, as a store grows
        for table in _TIMES:
            columns = [r[0] for r in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE database_name = 'src' AND table_name = ?",
                [table]).fetchall()]
            con.execute(f"INSERT INTO {table} ({', '.join(columns)}) "
                        f"SELECT {_shifted(table, columns, copy)} FROM src.{table}")
        con.execute("CHECKPOINT")
    # every copy's spans name the same resources by the same numbers
    con.execute("INSERT INTO resources SELECT * FROM src.resources")
    con.execute("INSERT INTO ingested_files SELECT * FROM src.ingested_files")
    # what the history's ingest derived over its whole store holds for every copy too
    con.execute("INSERT INTO ingest_state SELECT * FROM src.ingest_state")
    con.execute("DETACH src")
    (n,) = con.execute("SELECT count(*) FROM span_rows").fetchone()
    con.close()
    tmp.rename(db)
    print(f"built a store of {n:,} spans ({copies} copies of the history, {time.perf_counter() - started:.0f}s, "
          f"{db.stat().st_size / 1e9:.1f} GB) -> {db}", flush=True)
    return db


def _current(template: Path) -> Path:
    """A copy of ``template`` whose agents' tables are this otel-llm's (made once, kept beside it)."""
    from otel_llm_analysis import TraceStore
    from otel_llm_analysis._scope_index import definition

    db = template.with_name(f"{template.stem}.scopes-{definition()}.duckdb")
    if not db.exists():
        tmp = db.with_suffix(".tmp")
        tmp.unlink(missing_ok=True)
        subprocess.run(["cp", str(template), str(tmp)], check=True)
        started = time.perf_counter()
        TraceStore(tmp).close()  # opened for writing: the agents' tables worked out over the whole store
        tmp.rename(db)
        print(f"brought {template.name} up to date ({time.perf_counter() - started:.0f}s) -> {db}", flush=True)
    return db


def _run(template: str, work: str, new: str, out: "mp.Queue[dict[str, Any]]") -> None:
    from otel_llm_analysis import TraceStore, store as store_module

    parts: dict[str, float] = {}

    def timed(name: str, fn: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                parts[name] = parts.get(name, 0.0) + time.perf_counter() - started
        return wrapper

    store_module.ingest = timed("load", store_module.ingest)
    store_module.price_calls = timed("pricing", store_module.price_calls)
    store_module.refresh_nesting = timed("nesting", store_module.refresh_nesting)
    store_module.refresh_scopes = timed("scopes", store_module.refresh_scopes)
    started, cpu = time.perf_counter(), time.process_time()
    store = TraceStore(work)
    report = store.ingest(new)
    closing = time.perf_counter()
    store.close()
    ended = time.perf_counter()
    assert not report.bad_lines, report.bad_lines[:3]
    out.put({"total": ended - started, "cpu": time.process_time() - cpu, "close": ended - closing, **parts,
             "spans": report.spans_added})


def _measure(template: Path, work: Path, new: Path) -> dict[str, Any]:
    work.unlink(missing_ok=True)
    Path(f"{work}.wal").unlink(missing_ok=True)
    subprocess.run(["cp", str(template), str(work)], check=True)
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_run, args=(str(template), str(work), str(new), queue))
    proc.start()
    result = queue.get()
    proc.join()
    work.unlink(missing_ok=True)
    return result


def _load() -> str:
    with open("/proc/loadavg") as fh:
        return " ".join(fh.read().split()[:3])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("/tmp/otel-llm-incremental-bench"))
    parser.add_argument("--new", type=int, default=300_000, help="spans ingested in each run")
    parser.add_argument("--small", type=int, default=300_000, help="spans in the small store")
    parser.add_argument("--big", type=int, default=10_000_000, help="spans in the big store")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    args.data.mkdir(parents=True, exist_ok=True)
    new = _generate(args.data / "new", args.new, seed=43, days=1, end=HISTORY_END + timedelta(days=1))
    small = _small_store(args.data, args.small)
    # copied from the small store in this otel-llm's table shape (an older cached one is converted first)
    big = _big_store(args.data, _current(small), args.small, args.big)
    stores = {"small": _current(small), "big": _current(big)}
    work = args.data / f"work-{os.getpid()}.duckdb"  # several people may run this on one --data
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in stores}
    for run in range(args.runs):
        for name, template in stores.items():  # interleaved: load changes affect both alike
            r = _measure(template, work, new)
            results[name].append(r)
            parts = "  ".join(f"{k} {r[k]:.2f}" for k in ("load", "pricing", "nesting", "scopes", "close"))
            print(f"  run {run + 1} {name:5s}: {r['total']:.2f}s, {r['cpu']:.2f}s CPU ({parts}; +{r['spans']:,} spans)  "
                  f"load average {_load()}", flush=True)
    medians, cpu = {}, {}
    for name, template in stores.items():
        import duckdb

        con = duckdb.connect(str(template), read_only=True)
        (held,) = con.execute("SELECT count(*) FROM span_rows").fetchone()
        con.close()
        rs = results[name]
        medians[name] = statistics.median(r["total"] for r in rs)
        cpu[name] = statistics.median(r["cpu"] for r in rs)
        parts = "  ".join(f"{k} {statistics.median(r[k] for r in rs):.2f}" for k in ("load", "pricing", "nesting",
                                                                                      "scopes", "close"))
        print(f"{name:5s} store ({held:>12,} spans): median {medians[name]:.2f}s, {cpu[name]:.2f}s CPU  ({parts})")
    ratio = medians["big"] / medians["small"]
    met = abs(ratio - 1) <= TARGET
    print(f"ratio big / small: {ratio:.2f}x wall, {cpu['big'] / cpu['small']:.2f}x CPU   "
          f"(target within +-{TARGET:.0%}: {'met' if met else 'MISSED'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
