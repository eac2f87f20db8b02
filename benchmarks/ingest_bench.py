"""Ingest speed against the orjson parse-only baseline, measured in the same run.

    .venv/bin/python benchmarks/ingest_bench.py [--spans 1000000] [--runs 3] [--data /tmp/otel-llm-bench]
                                                [--files 4000] [--files-spans 200000]

Generates (once, then reuses) >= ``--spans`` spans of collector-format JSON, 512
spans per line, with :mod:`tests/support/synthetic.py`. Each measurement runs in
a fresh child process so its peak RSS is its own:

* ``parse-only``: read the file line by line and ``orjson.loads`` each line;
* ``ingest``: ``TraceStore(<fresh file>).ingest(traces file)``, as ``otel-llm
  ingest`` does (everything: decode, maps, typed columns, de-duplication,
  bookkeeping, the final checkpoint);
* summary-style queries on a file store holding the same spans;
* many small files: ``--files-spans`` spans (16 per line) ingested from one file
  and from the same lines split over ``--files`` files (as the SDK's size
  rotation leaves them), interleaved: per-file overhead as the ratio of the two.

Prints medians of ``--runs`` runs and the ratios ingest / parse-only and
many files / one file. Targets: ingest <= 2.0x parse-only (goal <= 1.0), peak
RSS < 1.5 GB, queries < 100 ms; the same spans over 4,000 files <= 2.0x one file.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# The repository root, for the shared test-data generator in tests/support.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SPANS_PER_LINE = 512
QUERIES = {
    "totals": "SELECT count(*), count(DISTINCT trace_id), sum(input_tokens), sum(output_tokens), sum(cost_usd),"
              " avg(CASE WHEN status_code = 2 THEN 1 ELSE 0 END) FROM spans",
    "by_model": "SELECT model, count(*), sum(cost_usd), quantile_cont(duration_ms, [0.5, 0.95, 0.99])"
                " FROM spans WHERE otel_kind = 'llm_call' GROUP BY model ORDER BY 3 DESC",
    "daily_cost": "SELECT CAST(start_time AS DATE) d, sum(cost_usd), count(*) FILTER (WHERE status_code = 2)"
                  " FROM spans GROUP BY d ORDER BY d",
    "by_project_user": "SELECT project, user_id, count(*), sum(input_tokens + output_tokens) FROM spans"
                       " GROUP BY ALL ORDER BY 4 DESC LIMIT 20",
    "run_config_map": "SELECT attributes['otel_llm.run_config.temperature'] t, count(*), avg(cost_usd) FROM spans"
                      " WHERE otel_kind = 'llm_call' GROUP BY t",
    "run_config_lists": "SELECT attr_values[list_position(attr_keys, 'otel_llm.run_config.temperature')] t,"
                        " count(*), avg(cost_usd) FROM spans WHERE otel_kind = 'llm_call' GROUP BY t",
}


def _analyses() -> dict[str, Callable[[Any], Any]]:
    """The public analysis functions, as the CLI calls them (what users wait for)."""
    import otel_llm_analysis as a

    return {
        "totals()": a.totals,
        "summary(by=model)": lambda s: a.summary(s, by="model"),
        "summary(by=node)": lambda s: a.summary(s, by="node"),
        "series(day)": lambda s: a.series(s, period="day"),
        "compare(run_config)": lambda s: a.compare(s, by="run_config.temperature"),
        "quality(by=model)": lambda s: a.quality(s, by="model"),
        "budget_status": lambda s: a.budget_status(s, [a.Budget(monthly_usd=50.0)]),
        "top_traces(cost)": lambda s: a.top_traces(s, top=10),
    }


def _median_ms(fn: Callable[[], Any], repeats: int = 5) -> float:
    fn()  # warm
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def _dataset(data_dir: Path, spans: int) -> Path:
    marker = data_dir / "dataset.json"
    if marker.exists() and json.loads(marker.read_text()).get("requested", 0) >= spans:
        return data_dir / "traces.jsonl"
    from tests.support.synthetic import generate

    started = time.perf_counter()
    traces = int(spans / 5.07) + 1  # ~5.07 spans per generated chat turn
    data = generate(data_dir, seed=42, traces=traces, spans_per_line=SPANS_PER_LINE, keep_records=False)
    marker.write_text(json.dumps({"requested": spans, "spans": data.span_count, "lines": data.line_count}))
    print(f"generated {data.span_count:,} spans in {data.line_count:,} lines "
          f"({time.perf_counter() - started:.0f}s) -> {data_dir}", flush=True)
    return data_dir / "traces.jsonl"


def _split_dataset(data_dir: Path, spans: int, files: int) -> tuple[Path, Path]:
    """(one file, a directory of ``files`` files) holding the same lines of ``spans`` spans."""
    one = data_dir / "one" / "traces.jsonl"
    many = data_dir / f"many-{files}"
    marker = data_dir / "split.json"
    wanted = {"spans": spans, "files": files}
    if marker.exists() and json.loads(marker.read_text()) == wanted and one.exists() and many.is_dir():
        return one, many
    from tests.support.synthetic import generate

    source = data_dir / "small-lines"
    generate(source, seed=43, traces=int(spans / 5.07) + 1, spans_per_line=16, keep_records=False)
    lines = (source / "traces.jsonl").read_bytes().splitlines(keepends=True)
    one.parent.mkdir(parents=True, exist_ok=True)
    one.write_bytes(b"".join(lines))
    shutil.rmtree(many, ignore_errors=True)
    many.mkdir()
    if len(lines) < files:
        raise SystemExit(f"{len(lines)} lines cannot fill {files} files: raise --files-spans")
    for k in range(files):  # contiguous, as rotation cuts them; every file gets 1+ lines
        part = lines[k * len(lines) // files:(k + 1) * len(lines) // files]
        (many / f"traces-{k:05d}-size.jsonl").write_bytes(b"".join(part))
    marker.write_text(json.dumps(wanted))
    print(f"split {len(lines):,} lines over {files:,} files -> {many}", flush=True)
    return one, many


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _parse_only(path: str, out: "mp.Queue[tuple[float, float, int]]") -> None:
    import orjson

    started = time.perf_counter()
    n = 0
    with open(path, "rb") as fh:
        for line in fh:
            orjson.loads(line)
            n += 1
    out.put((time.perf_counter() - started, _peak_rss_mb(), n))


def _ingest(path: str, db: str, out: "mp.Queue[tuple[float, float, int]]") -> None:
    from otel_llm_analysis import TraceStore

    store = TraceStore(db)
    started = time.perf_counter()
    report = store.ingest(path)
    elapsed = time.perf_counter() - started
    store.close()
    assert not report.bad_lines, report.bad_lines[:3]
    out.put((elapsed, _peak_rss_mb(), report.spans_added))


def _in_child(target, *args) -> tuple[float, float, int]:  # type: ignore[no-untyped-def]
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=target, args=(*args, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spans", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--data", type=Path, default=Path("/tmp/otel-llm-bench"))
    parser.add_argument("--queries-only", action="store_true",
                        help="only time the queries, on the store a previous run left in --data")
    parser.add_argument("--files", type=int, default=4000, help="small files for the per-file overhead (0: skip)")
    parser.add_argument("--files-spans", type=int, default=200_000, help="spans split over --files files")
    args = parser.parse_args(argv)
    db = args.data / "bench.duckdb"  # the last run's store is kept for the queries below
    if args.queries_only:
        return _time_queries(db)
    path = _dataset(args.data, args.spans)
    size_mb = path.stat().st_size / 1e6
    print(f"file: {path} ({size_mb:,.0f} MB)")

    parse, ingest, rss_parse, rss_ingest = [], [], [], []
    spans = 0
    for run in range(args.runs):  # interleaved, so machine load affects both alike
        t, rss, _ = _in_child(_parse_only, str(path))
        parse.append(t)
        rss_parse.append(rss)
        db.unlink(missing_ok=True)
        t, rss, spans = _in_child(_ingest, str(path), str(db))
        ingest.append(t)
        rss_ingest.append(rss)
        print(f"  run {run + 1}: parse-only {parse[-1]:.2f}s  ingest {ingest[-1]:.2f}s", flush=True)
    p, i = statistics.median(parse), statistics.median(ingest)
    print(f"parse-only (orjson): median {p:.2f}s  ({size_mb / p:,.0f} MB/s), peak RSS {max(rss_parse):,.0f} MB")
    print(f"ingest:              median {i:.2f}s  ({spans / i:,.0f} spans/s), peak RSS {max(rss_ingest):,.0f} MB")
    print(f"ratio ingest / parse-only: {i / p:.2f}x   (target <= 2.0x, goal <= 1.0x)")
    if args.files:
        _many_files(args.data / "files", args.files_spans, args.files, args.runs)
    return _time_queries(db)


def _many_files(data_dir: Path, spans: int, files: int, runs: int) -> None:
    """The same spans from one file and from ``files`` files, interleaved: the per-file overhead."""
    one, many = _split_dataset(data_dir, spans, files)
    db = data_dir / "files.duckdb"
    single, split = [], []
    for run in range(runs):
        for target, times in ((one, single), (many, split)):
            db.unlink(missing_ok=True)
            times.append(_in_child(_ingest, str(target), str(db))[0])
        print(f"  run {run + 1}: one file {single[-1]:.2f}s  {files:,} files {split[-1]:.2f}s", flush=True)
    s, m = statistics.median(single), statistics.median(split)
    print(f"one file:        median {s:.2f}s  ({spans:,} spans)")
    print(f"{files:,} files:     median {m:.2f}s  ({(m - s) / files * 1000:.2f} ms per file over one file)")
    print(f"ratio {files:,} files / one file: {m / s:.2f}x   (target <= 2.0x)")


def _time_queries(db: Path) -> int:
    """Median times of plain SQL and of the public analyses on the benchmark store."""
    from otel_llm_analysis import TraceStore

    with TraceStore(db, read_only=True) as store:
        for name, sql in QUERIES.items():
            print(f"query {name:20s} median {_median_ms(lambda: store.query(sql)):7.1f} ms")
        for name, analysis in _analyses().items():
            print(f"api   {name:20s} median {_median_ms(lambda: analysis(store)):7.1f} ms   (target < 100 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
