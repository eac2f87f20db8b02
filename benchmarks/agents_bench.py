"""Speed of the tools, agents and retries analyses against the call analyses, measured in the same run.

    .venv/bin/python benchmarks/agents_bench.py [--spans 1000000] [--rounds 5] [--data /tmp/otel-llm-agents-bench]
                                               [--refresh-only | --no-refresh] [--traces FILE]

Generates (once, then reuses) >= ``--spans`` spans of collector-format JSON with
agent steps (``synthetic.generate(agents="otel_llm")``: half the turns run an
agent with retried tools; every answer is a numbered retry loop) and ingests
them into a store. Then, ``--rounds`` times and in a shuffled order each round,
every analysis runs over the whole store and over its last 7 days. Prints the
median of each and its ratio to the baseline measured in the same rounds:
``summary(by=model)``, and for ``compare`` (whose turn figures are new) the
summary of the calls it compares (what ``compare`` cost before).

The walk of each trace's span tree these analyses need is done at ingest, per
trace (``_scope_index.refresh_scopes``); the analyses read its tables. Targets:
each under 1 s on ~1M spans, ``compare`` at most ~2x the calls' summary. The
ingest side is timed first (unless ``--no-refresh``; ``--refresh-only`` for it
alone): ``refresh_scopes`` working out every trace of the store (what a first
ingest of all this data adds to it) and the traces of the last 5 % of its spans
(a later ingest), against orjson parse-only of the same file with GC off (the
baseline ingest is held to), in interleaved rounds. ``--traces FILE`` makes the
store from a collector-format file of your own instead (e.g. the ingest
benchmark's, whose traces have no agents).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable

# The repository root, for the shared test-data generator in tests/support.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SPANS_PER_TRACE = 8.4  # spans per generated turn with agents="otel_llm"


def _store(data_dir: Path, spans: int, traces: Path | None = None) -> Path:
    """A store holding >= ``spans`` generated spans, or the spans of ``traces`` (made once, then reused)."""
    from otel_llm_analysis import TraceStore

    if traces is not None:
        db = data_dir / f"{traces.stem}.duckdb"
        if not db.exists():
            with TraceStore(db) as store:
                store.ingest([traces])
        TraceStore(db).close()  # opened for writing: this version's views
        return db
    marker, db = data_dir / "dataset.json", data_dir / "bench.duckdb"
    if marker.exists() and db.exists() and json.loads(marker.read_text()).get("requested", 0) >= spans:
        TraceStore(db).close()  # opened for writing: this version's views
        return db
    from tests.support.synthetic import generate

    started = time.perf_counter()
    data = generate(data_dir / "data", seed=1, traces=int(spans / SPANS_PER_TRACE) + 1, spans_per_line=512,
                    keep_records=False, agents="otel_llm")
    db.unlink(missing_ok=True)
    with TraceStore(db) as store:
        store.ingest([data_dir / "data" / "traces.jsonl"])
    marker.write_text(json.dumps({"requested": spans, "spans": data.span_count}))
    print(f"generated and ingested {data.span_count:,} spans ({time.perf_counter() - started:.0f}s) -> {db}",
          flush=True)
    return db


def _cases(store: Any) -> dict[str, Callable[[], Any]]:
    import otel_llm_analysis as a

    (last,) = store.query("SELECT max(start_time) FROM spans")[0]
    week = a.Filters(since=last - timedelta(days=7))
    cases: dict[str, Callable[[], Any]] = {}
    for label, filters in (("all", a.Filters()), ("7d", week)):
        cases.update({
            f"summary(by=model) {label}": lambda f=filters: a.summary(store, "model", f),
            f"calls of compare {label}": lambda f=filters: a.summary(store, "run_config.max_retries",
                                                                     replace(f, calls_only=True)),
            f"compare(max_retries) {label}": lambda f=filters: a.compare(store, "run_config.max_retries", f),
            f"tools() {label}": lambda f=filters: a.tools(store, f),
            f"agents() {label}": lambda f=filters: a.agents(store, f),
            f"retries(by=max_retries) {label}": lambda f=filters: a.retries(store, "run_config.max_retries", f),
        })
    return cases


def _parse_only(path: Path) -> float:
    """CPU seconds to read ``path`` and ``orjson.loads`` every line, GC off: the baseline ingest is held to."""
    import gc

    import orjson

    gc.disable()
    try:
        started = time.process_time()
        with path.open("rb") as f:
            for line in f:
                orjson.loads(line)
        return time.process_time() - started
    finally:
        gc.enable()


def _refresh_once(store: Any, touched: float | None) -> tuple[float, float, int]:
    """(CPU s, wall s, traces) of one ``refresh_scopes``: every trace again (``touched`` None), or as after an
    ingest that added the last ``touched`` share of the stored spans (the watermarks set back to just below them)."""
    from otel_llm_analysis._scope_index import refresh_scopes

    con = store.connection
    if touched is None:
        con.execute("UPDATE span_scope_state SET definition = NULL")  # as if made by another version: all again
    else:
        ((rows, events),) = con.execute(
            "SELECT (SELECT count(*) FROM span_rows), (SELECT count(*) FROM span_events)").fetchall()
        keep, keep_events = int(rows * (1 - touched)), int(events * (1 - touched))
        ((mark,), (events_mark,)) = con.execute(
            f"(SELECT max(rowid) FROM (SELECT rowid FROM span_rows ORDER BY rowid LIMIT {keep})) UNION ALL "
            f"(SELECT max(rowid) FROM (SELECT rowid FROM span_events ORDER BY rowid LIMIT {keep_events}))"
        ).fetchall()
        con.execute("UPDATE span_scope_state SET watermark = ?, spans = ?, events_watermark = ?, events = ?",
                    [mark, keep, events_mark, keep_events])
    con.execute("CHECKPOINT")  # what an ingest left to write is not the refresh's
    cpu, wall = time.process_time(), time.perf_counter()
    traces = refresh_scopes(con)
    return time.process_time() - cpu, time.perf_counter() - wall, traces


def _time_refresh(db: Path, data: Path, rounds: int) -> None:
    """The ingest side: ``refresh_scopes`` working out every trace (a first ingest) and the traces of the last
    5 % of the spans (a later one), against orjson parse-only of the data file, in interleaved rounds (CPU medians)."""
    from otel_llm_analysis import TraceStore

    runs: dict[str, list[tuple[float, float]]] = {"parse-only": [], "all traces": [], "last 5 %": []}
    traces: dict[str, int] = {}
    with TraceStore(db) as store:
        (spans,) = store.query("SELECT count(*) FROM span_rows")[0]
        for i in range(rounds):
            order = ["parse-only", "all traces", "last 5 %"]
            for name in order if i % 2 == 0 else order[::-1]:
                if name == "parse-only":
                    started = time.perf_counter()
                    runs[name].append((_parse_only(data), time.perf_counter() - started))
                    continue
                cpu, wall, traces[name] = _refresh_once(store, None if name == "all traces" else 0.05)
                runs[name].append((cpu, wall))
    base = statistics.median(cpu for cpu, _ in runs["parse-only"])
    print(f"refresh_scopes on {spans:,} spans, medians of {rounds} interleaved rounds (CPU of all threads; "
          f"load {os.getloadavg()[0]:.1f})")
    for name, values in runs.items():
        cpu, wall = statistics.median(c for c, _ in values), statistics.median(w for _, w in values)
        what = "" if name == "parse-only" else f", {traces[name]:,} traces ({cpu / spans * 1e6:.2f} us CPU per stored span)"
        print(f"  {name:<12} CPU {cpu:6.2f} s  wall {wall:6.2f} s   x{cpu / base:.2f} parse-only CPU{what}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spans", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--data", type=Path, default=Path("/tmp/otel-llm-agents-bench"))
    parser.add_argument("--no-refresh", action="store_true", help="skip timing the ingest-side refresh")
    parser.add_argument("--refresh-only", action="store_true", help="time the ingest-side refresh only")
    parser.add_argument("--traces", type=Path, help="make the store from this collector-format file instead")
    args = parser.parse_args(argv)
    args.data.mkdir(parents=True, exist_ok=True)
    db = _store(args.data, args.spans, args.traces)
    from otel_llm_analysis import TraceStore
    if not args.no_refresh:
        _time_refresh(db, args.traces or args.data / "data" / "traces.jsonl", args.rounds)
    if args.refresh_only:
        return 0

    with TraceStore(db, read_only=True) as store:
        (spans,) = store.query("SELECT count(*) FROM spans")[0]
        cases = _cases(store)
        times: dict[str, list[float]] = {name: [] for name in cases}
        order = list(cases)
        rng = random.Random(0)
        for fn in cases.values():
            fn()  # warm
        for _ in range(args.rounds):
            rng.shuffle(order)
            for name in order:
                started = time.perf_counter()
                cases[name]()
                times[name].append((time.perf_counter() - started) * 1000)
    medians = {name: statistics.median(values) for name, values in times.items()}
    print(f"{spans:,} spans, medians of {args.rounds} interleaved rounds (ms; ratio to the baseline of the same window)")
    for name, ms in medians.items():
        label = name.rsplit(" ", 1)[1]
        base = "calls of compare" if name.startswith("compare") else "summary(by=model)"
        ratio = ms / medians[f"{base} {label}"]
        print(f"  {name:<32} {ms:>9.1f}   x{ratio:.2f} {base}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
