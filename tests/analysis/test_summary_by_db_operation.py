"""`summary --by db_operation`: vector store operations (search, insert, ...) counted and timed apart.

The demo's RAG app searches and inserts into its vector collection; the expected
counts and failures come from its ``traces.jsonl``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

from otel_llm import semconv
from otel_llm_analysis.store import TraceStore
from otel_llm_analysis.summaries import summary


def test_vector_operations_group_by_their_db_operation(tmp_path: Path):
    out = tmp_path / "otel-data"
    done = subprocess.run([sys.executable, "-m", "otel_llm", "demo", "--turns", "6", "--output-dir", str(out)],
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    spans, failed = Counter(), Counter()
    for line in (out / "traces.jsonl").read_text().splitlines():
        for rs in json.loads(line)["resourceSpans"]:
            for ss in rs["scopeSpans"]:
                for span in ss["spans"]:
                    attributes = {a["key"]: a["value"] for a in span.get("attributes", [])}
                    if semconv.DB_OPERATION_NAME in attributes:
                        operation = attributes[semconv.DB_OPERATION_NAME]["stringValue"]
                        spans[operation] += 1
                        failed[operation] += span.get("status", {}).get("code") == 2
    assert len(spans) >= 2, f"the demo runs more than one kind of vector operation: {spans}"
    with TraceStore(tmp_path / "s.duckdb") as store:
        store.ingest([out])
        rows = {row.key: row for row in summary(store, "db_operation")}
    for operation, count in spans.items():
        assert rows[operation].spans == count
        assert rows[operation].error_rate == failed[operation] / count
        assert rows[operation].p95_ms is not None, "a vector operation's latency is its spans'"
