"""An analysis read through the dashboard's snapshot reads that snapshot only, every query of it.

``summary`` by a span dimension (graph node, vector collection, ...) runs its span-latency
query beside the summary on a second cursor, for speed. A cursor is a connection of its own,
outside the dashboard reader's transaction: during a watched ingest, the "Per graph node"
table read the latency of spans the snapshot does not hold (half an ingest, beside figures
from before it).
"""

from __future__ import annotations

from pathlib import Path

import orjson

from otel_llm_analysis import TraceStore, summary
from otel_llm_analysis.web.live import Reader
from tests.support.synthetic import key_values


def _write(path: Path, trace: int, millis: int) -> Path:
    """One trace: a graph node span of ``millis`` ms (no call inside: its latency is its spans')."""
    span = {"traceId": f"{trace:032x}", "spanId": f"{trace:016x}", "name": "retrieve", "kind": 1,
            "startTimeUnixNano": str(1_764_000_000_000_000_000 + trace * 10**9),
            "endTimeUnixNano": str(1_764_000_000_000_000_000 + trace * 10**9 + millis * 10**6),
            "attributes": key_values({"otel_llm.kind": "graph_node", "otel_llm.graph.node": "retrieve"})}
    path.write_bytes(orjson.dumps({"resourceSpans": [{"resource": {"attributes": key_values({"service.name": "s"})},
                                                      "scopeSpans": [{"scope": {"name": "x"}, "spans": [span]}]}]})
                     + b"\n")
    return path


def test_a_summary_by_node_through_a_snapshot_reads_only_that_snapshot(tmp_path: Path) -> None:
    with TraceStore(tmp_path / "s.duckdb") as store:
        store.ingest(_write(tmp_path / "a.jsonl", 1, 100))
        reader = Reader(store)
        reader.take(1, None)
        before = summary(reader, "node")
        for trace in range(2, 12):  # committed after the snapshot was taken: not in it
            store.ingest(_write(tmp_path / f"b{trace}.jsonl", trace, 9_000))
        during = summary(reader, "node")
        reader.close()
    assert [(r.key, r.spans, r.p95_ms) for r in during] == [(r.key, r.spans, r.p95_ms) for r in before]
    assert before[0].p95_ms == 100.0
