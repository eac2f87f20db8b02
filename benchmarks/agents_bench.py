"""Speed of the tools, agents and retries analyses against the call analyses, measured in the same run.

    .venv/bin/python benchmarks/agents_bench.py [--spans 1000000] [--rounds 5] [--data /tmp/otel-llm-agents-bench]

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
ingest side is timed too (once, unless ``--no-refresh``): working out every trace
of the store again, what a first ingest of all this data adds to the ingest.
"""

from __future__ import annotations

import argparse
import json
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


def _store(data_dir: Path, spans: int) -> Path:
    """A store holding >= ``spans`` generated spans (made once, then reused)."""
    from otel_llm_analysis import TraceStore

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


def _time_refresh(db: Path) -> None:
    """Time working out every trace of the store again (as after a first ingest of all of it)."""
    from otel_llm_analysis import TraceStore
    from otel_llm_analysis._scope_index import refresh_scopes

    with TraceStore(db) as store:
        (spans,) = store.query("SELECT count(*) FROM span_rows")[0]
        store.query("UPDATE span_scope_state SET definition = NULL")  # as if made by another version: all again
        started = time.perf_counter()
        traces = refresh_scopes(store.connection)
        seconds = time.perf_counter() - started
    print(f"refresh_scopes, all {traces:,} traces ({spans:,} spans): {seconds:.1f} s "
          f"({seconds / spans * 1e6:.1f} us per span)", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spans", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--data", type=Path, default=Path("/tmp/otel-llm-agents-bench"))
    parser.add_argument("--no-refresh", action="store_true", help="skip timing the ingest-side refresh")
    args = parser.parse_args(argv)
    args.data.mkdir(parents=True, exist_ok=True)
    db = _store(args.data, args.spans)
    from otel_llm_analysis import TraceStore
    if not args.no_refresh:
        _time_refresh(db)

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
