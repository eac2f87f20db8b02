"""The whole data flow with real processes: app -> collector -> files -> DuckDB -> answers.

The same spans are written twice, by the collector (OTLP in, fileexporter out)
and by the SDK's embedded file exporter; ingested into two DuckDB stores they
must give identical tables, and the analyses must agree with what the app
recorded in memory.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from otel_llm_analysis import TraceStore, summary

from .conftest import Collector, run_app

SPAN_COLUMNS = (
    "trace_id, span_id, parent_span_id, name, span_kind, service_name, project, otel_kind, "
    "start_time, end_time, duration_ms, status_code, status_message, operation, provider, model, "
    "input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, cost_usd, "
    "conversation_id, user_id, graph_node, db_system, db_operation, db_collection"
)


def _ingest(directory: Path, db: Path) -> TraceStore:
    store = TraceStore(db)
    report = store.ingest([directory])
    assert report.bad_lines == [], report.bad_lines
    return store


def _rows(store: TraceStore) -> list[tuple[Any, ...]]:
    return store.query(f"SELECT {SPAN_COLUMNS} FROM spans ORDER BY trace_id, span_id")


def test_collector_files_and_sdk_files_give_identical_tables(collector: Collector, tmp_path: Path) -> None:
    truth_file = tmp_path / "truth.json"
    sdk_dir = tmp_path / "sdk-files"
    sdk_dir.mkdir()
    app = run_app(tmp_path, collector, "--turns", "3", "--demo-turns", "8",
                  "--sdk-file-dir", str(sdk_dir), "--truth", str(truth_file))
    assert app.returncode == 0, app.stdout + app.stderr
    collector.stop()
    truth = json.loads(truth_file.read_text())

    via_collector = _ingest(collector.data_dir, tmp_path / "collector.duckdb")
    via_sdk = _ingest(sdk_dir, tmp_path / "sdk.duckdb")
    rows = _rows(via_collector)
    assert len(rows) == len(truth)
    assert rows == _rows(via_sdk)

    # The analysis agrees with what the app's in-memory exporter saw.
    calls = [t["attributes"] for t in truth if t["attributes"].get("otel_llm.kind") == "llm_call"]
    totals = {row.key: row for row in summary(via_collector, by="kind")}
    assert totals["llm_call"].llm_calls == len(calls)
    assert totals["llm_call"].input_tokens == sum(a.get("gen_ai.usage.input_tokens", 0) for a in calls)
    assert totals["llm_call"].output_tokens == sum(a.get("gen_ai.usage.output_tokens", 0) for a in calls)
    expected_cost = sum(a["gen_ai.usage.cost"] for a in calls if "gen_ai.usage.cost" in a)
    assert math.isclose(totals["llm_call"].cost_usd, expected_cost, rel_tol=1e-9)

    # Cost per graph node: each LLM call counts for the node it ran in.
    per_node = {row.key: row for row in summary(via_collector, by="node")}
    nodes = {a.get("otel_llm.graph.node") for a in calls}
    assert {"classify", "generate", "grade"} <= nodes
    for node in nodes - {None}:
        in_node = [a for a in calls if a.get("otel_llm.graph.node") == node]
        assert per_node[node].llm_calls == len(in_node)
        assert per_node[node].input_tokens == sum(a.get("gen_ai.usage.input_tokens", 0) for a in in_node)


def test_reingesting_the_collector_files_adds_nothing(collector: Collector, tmp_path: Path) -> None:
    app = run_app(tmp_path, collector, "--turns", "5")
    assert app.returncode == 0, app.stdout + app.stderr
    collector.stop()
    store = _ingest(collector.data_dir, tmp_path / "a.duckdb")
    before = store.query("SELECT count(*) FROM spans")[0][0]
    assert before == 5 * 4
    again = store.ingest([collector.data_dir])
    assert again.spans_added == 0
    assert store.query("SELECT count(*) FROM spans")[0][0] == before
