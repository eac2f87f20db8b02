"""A small incremental ingest (a few hundred spans) into a small and a big store: does it cost the store?

    .venv/bin/python benchmarks/small_ingest_bench.py --store SMALL.duckdb --store BIG.duckdb --new NEW.jsonl
                                                      [--large LARGE.jsonl] [--settle OTHER.jsonl] [--runs 5]
                                                      [--work DIR]

Each ``--store`` is a store already up to date (``otel-llm ingest`` of its data
by this version; it is only read, and copied into ``--work`` before each run);
``--new`` holds spans it has not read (one collector line of 512 spans, say),
``--large`` optionally thousands of spans. A run is a fresh child process, as
a cron job's ``otel-llm ingest`` is: it opens the copy (not timed), then times
``ingest(new)`` and ``close()`` - CPU of all the process's threads and wall -
and then a read-only open of what the close left. Each run is done twice,
interleaved: as the store does it (the ingest's refresh checkpoints beside its
walk, the close writes whatever is left: the file holds everything) and the
alternative measured against it, ``wal``: no checkpoint in the refresh nor on
close (``PRAGMA disable_checkpoint_on_shutdown``), the rows left in DuckDB's
WAL beside the file. The figures are medians of ``--runs``, with the ratios
wal / as stored and big store / small store of the same run.

``--settle FILE`` first ingests ``FILE`` (other small spans) into each copy in
a process of its own, untimed: the store as the next cron job finds it. Why:
a store written by a large ingest holds partly filled row groups (DuckDB's
parallel insert leaves them); the first checkpoint that changes ``span_rows``
afterwards merges them, rewriting up to about two row groups (~250k rows,
~0.5-1 s). That is paid once after each large ingest, whatever the store's
size, and a benchmark that copies such a store for each run pays it every run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

_CHILD = """
import json, os, sys, time
import duckdb
from otel_llm_analysis import TraceStore, _scope_index
db, new, wal = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
if wal:
    def _left(con, merge=True, issued=None):
        if issued is not None:
            issued.set()
        return True
    _scope_index._checkpoint = _left
store = TraceStore(db)
wall, cpu = time.perf_counter(), time.process_time()
added = store.ingest(new).spans_added
if wal:
    store.connection.execute("PRAGMA disable_checkpoint_on_shutdown")
store.close()
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
left = os.path.getsize(db + ".wal") if os.path.exists(db + ".wal") else 0
open_wall, open_cpu = time.perf_counter(), time.process_time()
con = duckdb.connect(db, read_only=True)
con.execute("SELECT count(*) FROM span_rows").fetchall()
con.close()
print(json.dumps({"cpu": cpu, "wall": wall, "wal": left, "added": added,
                  "open_cpu": time.process_time() - open_cpu, "open_wall": time.perf_counter() - open_wall}))
"""


_SETTLE = """
import sys
from otel_llm_analysis import TraceStore
with TraceStore(sys.argv[1]) as store:
    store.ingest(sys.argv[2])
"""


def _run(store: Path, new: Path, work: Path, wal: bool, settle: Path | None) -> dict[str, float]:
    db = work / f"run-{store.stem}.duckdb"
    for stale in (db, Path(f"{db}.wal")):
        stale.unlink(missing_ok=True)
    shutil.copy(store, db)
    if settle is not None:  # the cron job before this one, untimed
        subprocess.run([sys.executable, "-c", _SETTLE, str(db), str(settle)], capture_output=True, check=True)
    done = subprocess.run([sys.executable, "-c", _CHILD, str(db), str(new), "1" if wal else "0"],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _median(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, action="append", required=True, help="an up-to-date store (twice)")
    parser.add_argument("--new", type=Path, required=True, help="a small file of spans the stores lack")
    parser.add_argument("--large", type=Path, help="a larger file of spans the stores lack")
    parser.add_argument("--settle", type=Path, help="spans ingested (untimed, in a process of its own) before each "
                                                    "run: the stores as a cron job finds them after an ingest like it")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--work", type=Path, default=Path("/tmp/otel-llm-small-ingest-bench"))
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    print(f"load average {os.getloadavg()[0]:.1f}" + (f"; each store settled by {args.settle.name} first"
                                                        if args.settle else ""), flush=True)
    results: dict[tuple[str, str, bool], list[dict[str, float]]] = {}
    for batch in [args.new] + ([args.large] if args.large else []):
        for round_ in range(args.runs):
            for store in args.store:
                for wal in (False, True):
                    run = _run(store, batch, args.work, wal, args.settle)
                    results.setdefault((batch.name, store.name, wal), []).append(run)
                    print(f"  {batch.name} -> {store.name} {'wal' if wal else 'as stored'} "
                          f"round {round_ + 1}: cpu {run['cpu']:.3f} s wall {run['wall']:.3f} s "
                          f"WAL left {run['wal'] / 1e6:.2f} MB", flush=True)
    print(f"load average {os.getloadavg()[0]:.1f}")
    print("\nmedians of", args.runs, "runs: ingest + close (CPU / wall, s), WAL left, read-only open after (CPU, s)")
    for batch in [args.new] + ([args.large] if args.large else []):
        for store in args.store:
            stored, wal = results[(batch.name, store.name, False)], results[(batch.name, store.name, True)]
            print(f"{batch.name} ({int(stored[0]['added'])} spans) -> {store.name}: "
                  f"as stored {_median(stored, 'cpu'):.3f} / {_median(stored, 'wall'):.3f}, "
                  f"wal {_median(wal, 'cpu'):.3f} / {_median(wal, 'wall'):.3f} "
                  f"= {_median(wal, 'cpu') / _median(stored, 'cpu'):.2f}x CPU; "
                  f"WAL left {_median(wal, 'wal') / 1e6:.2f} vs {_median(stored, 'wal') / 1e6:.2f} MB; "
                  f"read-only open {_median(wal, 'open_cpu'):.3f} vs {_median(stored, 'open_cpu'):.3f}")
        if len(args.store) == 2:
            for wal, name in ((False, "as stored"), (True, "wal")):
                small, big = (results[(batch.name, s.name, wal)] for s in args.store)
                print(f"{batch.name}: big / small store, {name}: {_median(big, 'cpu') / _median(small, 'cpu'):.2f}x CPU")


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"({time.perf_counter() - started:.0f} s)")
