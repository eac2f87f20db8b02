"""Size and build time of ``otel-llm report`` for the demo and for a large store.

    .venv/bin/python benchmarks/report_bench.py [--spans 1000000] [--max-views 60] [--data /tmp/otel-llm-report-bench]

* ``demo``: ``otel-llm demo --turns 50`` (no simulated latency) into a fresh
  directory, then the report of what it wrote;
* ``N spans``: :mod:`tests/support/synthetic.py` data (generated and ingested once,
  then reused), then the report with ``--max-views`` filter combinations.

For each: the file's size, the filter combinations embedded, the seconds to build
it, and as the in-run baseline the seconds to compute one combination's views
(``views.compute_all`` over the whole window) — the ratio says how much the
offline filters cost. Issue 10 asks for the sizes to be stated (small enough to mail).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from otel_llm_analysis import TraceStore  # noqa: E402
from otel_llm_analysis.web.choices import choices  # noqa: E402
from otel_llm_analysis.web.static import build_report, plan  # noqa: E402
from otel_llm_analysis.web.views import Query, compute_all  # noqa: E402


def measure(label: str, db: Path, max_views: int) -> None:
    with TraceStore(db, read_only=True) as store:
        started = time.perf_counter()
        compute_all(store, Query())
        one = time.perf_counter() - started
        states = len(plan(store, Query().filters, choices(store, Query().filters), max_views).states)
        started = time.perf_counter()
        page = build_report(store, Query(), max_states=max_views)
        whole = time.perf_counter() - started
    size = len(page.encode("utf-8"))
    print(f"{label}: {size / 1024:,.0f} KiB, {states} filter combinations, built in {whole:.1f} s; "
          f"one combination's views {one:.2f} s (ratio {whole / one:.1f}x)", flush=True)


def demo(work: Path, max_views: int) -> None:
    out = work / "otel-data"
    otel_llm = Path(sys.executable).parent / "otel-llm"
    subprocess.run([str(otel_llm), "demo", "--turns", "50", "--latency-scale", "0", "--output-dir", str(out)],
                   check=True, capture_output=True)
    measure("demo (50 turns)", out / "otel-llm.duckdb", max_views)


def large(data: Path, spans: int, max_views: int) -> None:
    db = data / f"report-{spans}.duckdb"
    if not db.exists():
        from tests.support.synthetic import generate

        generated = generate(data / f"files-{spans}", seed=42, traces=int(spans / 5.07) + 1, spans_per_line=512,
                             keep_records=False)
        with TraceStore(db) as store:
            store.ingest([data / f"files-{spans}"])
        print(f"generated and ingested {generated.span_count:,} spans", flush=True)
    measure(f"{spans:,} spans", db, max_views)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=1_000_000)
    parser.add_argument("--max-views", type=int, default=60)
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "otel-llm-report-bench")
    args = parser.parse_args()
    args.data.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        demo(Path(work), args.max_views)
    large(args.data, args.spans, args.max_views)


if __name__ == "__main__":
    main()
