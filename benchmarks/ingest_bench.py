"""Ingest speed against the orjson parse-only baseline, measured in the same run.

    .venv/bin/python benchmarks/ingest_bench.py [--spans 1000000] [--runs 3] [--data /tmp/otel-llm-bench]
                                                [--files 4000] [--files-spans 200000]

Generates (once, then reuses) >= ``--spans`` spans of collector-format JSON, 512
spans per line, with :mod:`tests/support/synthetic.py`. Each measurement runs in
a fresh child process so its peak RSS is its own:

* ``parse-only``: read the file line by line and ``orjson.loads`` each line,
  with the garbage collector off (with it on, its pauses slow the baseline down
  and flatter the ratio);
* ``chdb`` (when ``chdb`` is installed): ClickHouse's engine in process flattening
  the same file into a MergeTree table of fewer columns (ids, name, times,
  status, span and resource attribute lists; no events), ``INSERT ... SELECT``
  from the file, as a peer column store would load it;
* ``ingest``: ``TraceStore(<fresh file>).ingest(traces file)``, as ``otel-llm
  ingest`` does (everything: decode, maps, typed columns, de-duplication,
  bookkeeping, pricing, the agents' scopes refresh, the final checkpoint); the
  scopes refresh is also timed on its own, and the ingest shown without it (the refresh's time
  includes the checkpoint of the ingest's rows that runs beside it, on DuckDB's threads);
* ``store-only``: the rows that ingest stored (spans, their events, resources), read
  back into Arrow untimed, then inserted into a fresh store and checkpointed:
  what DuckDB needs to store this table shape from ready-made columns,
  whatever parses the file - the floor under any ingest into these tables (its
  peak RSS holds the Arrow copy of every row: not comparable with the others');
* summary-style queries on a file store holding the same spans;
* many small files: ``--files-spans`` spans (16 per line) ingested from one file
  and from the same lines split over ``--files`` files (as the SDK's size
  rotation leaves them), interleaved: per-file overhead as the ratio of the two.

They run interleaved, round by round. Prints medians of ``--runs`` runs
(wall time, and CPU time of all the process's threads), peak RSS, and the
ratios ingest / parse-only, ingest / chdb, store-only / parse-only and many
files / one file. Targets:
ingest <= 1.3x parse-only (goal <= 1.0x, and at or below chdb), peak RSS
< 1.5 GB, analyses < 100 ms; the same spans over 4,000 files <= 2.0x one file.
"""

from __future__ import annotations

import argparse
import gc
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
TARGET_PARSE = 1.3  # ingest / orjson parse-only (GC off)
TARGET_MS = 100  # each analysis on the benchmark store
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


def _load() -> str:
    with open("/proc/loadavg") as fh:
        return " ".join(fh.read().split()[:3])


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


#: (wall s, CPU s of all threads, peak RSS MB, spans or lines, {part: (wall s, CPU s)} timed inside it)
Result = tuple[float, float, float, int, dict[str, tuple[float, float]]]


def _parse_only(path: str, out: "mp.Queue[Result]") -> None:
    import orjson

    gc.disable()
    started, cpu = time.perf_counter(), time.process_time()
    n = 0
    with open(path, "rb") as fh:
        for line in fh:
            orjson.loads(line)
            n += 1
    out.put((time.perf_counter() - started, time.process_time() - cpu, _peak_rss_mb(), n, {}))


#: The chdb peer: span rows with ids, name, times, status and attribute lists, flattened in SQL.
_CHDB_TABLE = """CREATE TABLE b.spans (trace_id String, span_id String, parent_span_id String, name String,
    start_ns UInt64, end_ns UInt64, status_code Int32, attr_keys Array(String), attr_values Array(String),
    resource_keys Array(String), resource_values Array(String)) ENGINE = MergeTree ORDER BY (trace_id, span_id)"""
_CHDB_INSERT = """INSERT INTO b.spans
SELECT JSONExtractString(s, 'traceId'), JSONExtractString(s, 'spanId'), JSONExtractString(s, 'parentSpanId'),
       JSONExtractString(s, 'name'), toUInt64OrZero(JSONExtractString(s, 'startTimeUnixNano')),
       toUInt64OrZero(JSONExtractString(s, 'endTimeUnixNano')), JSONExtractInt(s, 'status', 'code'),
       arrayMap(a -> JSONExtractString(a, 'key'), JSONExtractArrayRaw(s, 'attributes')),
       arrayMap(a -> JSONExtractRaw(a, 'value'), JSONExtractArrayRaw(s, 'attributes')),
       arrayMap(a -> JSONExtractString(a, 'key'), JSONExtractArrayRaw(rs, 'resource', 'attributes')),
       arrayMap(a -> JSONExtractRaw(a, 'value'), JSONExtractArrayRaw(rs, 'resource', 'attributes'))
FROM file('{path}', 'JSONAsString')
ARRAY JOIN JSONExtractArrayRaw(json, 'resourceSpans') AS rs
ARRAY JOIN JSONExtractArrayRaw(rs, 'scopeSpans') AS ss
ARRAY JOIN JSONExtractArrayRaw(ss, 'spans') AS s"""


def _chdb(path: str, db: str, out: "mp.Queue[Result]") -> None:
    from chdb import session

    shutil.rmtree(db, ignore_errors=True)
    s = session.Session(db)
    s.query("CREATE DATABASE IF NOT EXISTS b")
    s.query(_CHDB_TABLE)
    started, cpu = time.perf_counter(), time.process_time()
    s.query(_CHDB_INSERT.format(path=path))
    elapsed, used = time.perf_counter() - started, time.process_time() - cpu
    spans = int(str(s.query("SELECT count() FROM b.spans", "CSV")).strip())
    s.close()
    shutil.rmtree(db, ignore_errors=True)
    out.put((elapsed, used, _peak_rss_mb(), spans, {}))


def _ingest(path: str, db: str, out: "mp.Queue[Result]") -> None:
    from otel_llm_analysis import TraceStore, store as store_module

    parts: dict[str, tuple[float, float]] = {}
    refresh = store_module.refresh_scopes

    def timed_refresh(*args: Any, **kwargs: Any) -> Any:  # runs alone on the calling thread
        started, cpu = time.perf_counter(), time.process_time()
        try:
            return refresh(*args, **kwargs)
        finally:
            wall, used = parts.get("scopes refresh", (0.0, 0.0))
            parts["scopes refresh"] = (wall + time.perf_counter() - started, used + time.process_time() - cpu)

    store_module.refresh_scopes = timed_refresh
    store = TraceStore(db)
    started, cpu = time.perf_counter(), time.process_time()
    report = store.ingest(path)
    store.close()
    elapsed, used = time.perf_counter() - started, time.process_time() - cpu
    assert not report.bad_lines, report.bad_lines[:3]
    out.put((elapsed, used, _peak_rss_mb(), report.spans_added, parts))


def _store_only(source_db: str, db: str, out: "mp.Queue[Result]") -> None:
    """Insert the rows an ingest stored, from Arrow columns, into a fresh store: the storage floor."""
    import duckdb

    from otel_llm_analysis._rows import EVENTS, RESOURCES, SPANS, create_tables

    with duckdb.connect(source_db, read_only=True) as source:
        tables = {t.name: source.sql(f"SELECT * FROM {t.name}").to_arrow_table() for t in (SPANS, EVENTS, RESOURCES)}
    Path(db).unlink(missing_ok=True)
    con = duckdb.connect(db)
    create_tables(con)
    con.execute("SET preserve_insertion_order = false")  # as ingest sets it
    started, cpu = time.perf_counter(), time.process_time()
    for name, table in tables.items():
        con.register("_rows", table)
        con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM _rows")
        con.unregister("_rows")
    con.execute("CHECKPOINT")
    elapsed, used = time.perf_counter() - started, time.process_time() - cpu
    con.close()
    Path(db).unlink(missing_ok=True)
    out.put((elapsed, used, _peak_rss_mb(), tables[SPANS.name].num_rows, {}))


def _without(result: Result, part: str) -> Result:
    """``result`` less the wall and CPU time of one of its timed parts."""
    wall, used = result[4].get(part, (0.0, 0.0))
    return (result[0] - wall, result[1] - used, result[2], result[3], {})


def _in_child(target, *args) -> Result:  # type: ignore[no-untyped-def]
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

    try:
        import chdb  # noqa: F401 - a peer baseline when installed
        peers = {"parse-only": (_parse_only, (str(path),)), "chdb": (_chdb, (str(path), str(args.data / "chdb")))}
    except ImportError:
        peers = {"parse-only": (_parse_only, (str(path),))}
        print("chdb not installed: no chdb baseline")
    results: dict[str, list[Result]] = {name: [] for name in (*peers, "ingest", "ingest w/o scopes", "store-only")}
    for run in range(args.runs):  # interleaved, so machine load affects all alike
        for name, (target, target_args) in peers.items():
            results[name].append(_in_child(target, *target_args))
        db.unlink(missing_ok=True)
        ingested = _in_child(_ingest, str(path), str(db))
        results["ingest"].append(ingested)
        results["ingest w/o scopes"].append(_without(ingested, "scopes refresh"))
        results["store-only"].append(_in_child(_store_only, str(db), str(args.data / "store-only.duckdb")))
        print(f"  run {run + 1}: " + "  ".join(f"{name} {rs[-1][0]:.2f}s" for name, rs in results.items())
              + f"   load average {_load()}", flush=True)
    wall = {name: statistics.median(r[0] for r in rs) for name, rs in results.items()}
    cpu = {name: statistics.median(r[1] for r in rs) for name, rs in results.items()}
    spans = results["ingest"][-1][3]
    for name, rs in results.items():
        print(f"{name + ':':18s} median {wall[name]:6.2f}s wall ({size_mb / wall[name]:,.0f} MB/s), "
              f"{cpu[name]:6.2f}s CPU, peak RSS {max(r[2] for r in rs):,.0f} MB  ({rs[-1][3]:,} "
              f"{'lines' if name == 'parse-only' else 'spans'})")
    for name in ("ingest", "ingest w/o scopes", "store-only"):
        ratio = wall[name] / wall["parse-only"]
        verdict = f"   (target <= {TARGET_PARSE}x: {'met' if ratio <= TARGET_PARSE else 'MISSED'}; goal <= 1.0x)"
        print(f"ratio {name} / parse-only (GC off): {ratio:.2f}x wall, {cpu[name] / cpu['parse-only']:.2f}x CPU"
              + (verdict if name == "ingest" else ""))
    if "chdb" in wall:
        print(f"ratio ingest / chdb flatten-and-insert: {wall['ingest'] / wall['chdb']:.2f}x wall, "
              f"{cpu['ingest'] / cpu['chdb']:.2f}x CPU   (goal <= 1.0x)")
    print(f"ingest: {spans / wall['ingest']:,.0f} spans/s")
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

    TraceStore(db).close()  # a store an older version left is set up with this one's views, as an ingest would
    with TraceStore(db, read_only=True) as store:
        for name, sql in QUERIES.items():
            print(f"query {name:20s} median {_median_ms(lambda: store.query(sql)):7.1f} ms")
        for name, analysis in _analyses().items():
            ms = _median_ms(lambda: analysis(store))
            print(f"api   {name:20s} median {ms:7.1f} ms   (target < {TARGET_MS} ms: "
                  f"{'met' if ms < TARGET_MS else 'MISSED'})")
        print(f"load average {_load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
