"""An instrumented app sends OTLP to the real collector; the collector's files hold everything.

The app runs in a subprocess (its global providers and atexit hooks must not
leak into pytest) and writes what its in-memory exporter saw as ground truth.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from otel_llm.exporters._spool_segments import segment_files

from . import _otlp
from .conftest import Collector, run_app

TURNS = 20
SPANS_PER_TURN = 4  # chat -> graph_node -> vector_op, llm_call


def _truth(path: Path) -> list[dict[str, Any]]:
    return json.loads(path.read_text())


def _by_id(spans: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(s["traceId"], s["spanId"]): s for s in spans}


@pytest.mark.parametrize("protocol", ["http/protobuf", "grpc"])
def test_every_span_metric_and_log_reaches_the_collector_files(
    collector: Collector, tmp_path: Path, protocol: str
) -> None:
    truth_file = tmp_path / "truth.json"
    app = run_app(tmp_path, collector, "--turns", str(TURNS), "--truth", str(truth_file), protocol=protocol)
    assert app.returncode == 0, app.stdout + app.stderr
    collector.stop()

    truth = _truth(truth_file)
    assert len(truth) == TURNS * SPANS_PER_TURN
    written = _otlp.spans(_otlp.messages(collector.data_dir, "traces"))
    assert len(written) == len(truth), "every span exactly once when nothing failed"
    by_id = _by_id(written)
    for expected in truth:
        span = by_id[(expected["trace_id"], expected["span_id"])]
        assert span["name"] == expected["name"]
        assert span.get("parentSpanId", "") == (expected["parent_span_id"] or "")
        assert _otlp.attributes(span.get("attributes", [])) == expected["attributes"]
        assert [e["name"] for e in span.get("events", [])] == expected["events"]

    names = _otlp.metric_names(_otlp.messages(collector.data_dir, "metrics"))
    assert {"gen_ai.client.token.usage", "gen_ai.client.operation.duration", "otel_llm.cost"} <= names

    records = _otlp.log_records(_otlp.messages(collector.data_dir, "logs"))
    turn_logs = {r["body"]["stringValue"]: r for r in records if r.get("body", {}).get("stringValue", "").startswith("turn ")}
    assert set(turn_logs) == {f"turn {i}" for i in range(TURNS)}
    chat_trace_ids = {t["trace_id"] for t in truth if t["attributes"].get("otel_llm.kind") == "chat"}
    assert {r["traceId"] for r in turn_logs.values()} == chat_trace_ids  # logged inside the turn's span

    assert segment_files(tmp_path / "spool") == [], "nothing should be spooled while the collector is up"


def test_sdk_file_exporter_and_collector_write_the_same_structure(collector: Collector, tmp_path: Path) -> None:
    """Same spans, two writers: the SDK's embedded file exporter and the collector's file exporter.

    Compared per span as (resource, scope, span) objects, exactly. Only the
    grouping of spans into lines may differ (the SDK writes one line per
    export batch, the collector one per request it received).
    """
    sdk_dir = tmp_path / "sdk-files"
    sdk_dir.mkdir()
    app = run_app(tmp_path, collector, "--turns", "5", "--sdk-file-dir", str(sdk_dir))
    assert app.returncode == 0, app.stdout + app.stderr
    collector.stop()

    def flattened(directory: Path) -> dict[tuple[str, str], tuple[Any, Any, Any]]:
        out = {}
        for m in _otlp.messages(directory, "traces"):
            for rs in m["resourceSpans"]:
                for ss in rs["scopeSpans"]:
                    for span in ss["spans"]:
                        out[(span["traceId"], span["spanId"])] = (rs["resource"], ss["scope"], span)
        return out

    from_sdk, from_collector = flattened(sdk_dir), flattened(collector.data_dir)
    assert len(from_sdk) == 5 * SPANS_PER_TURN
    assert from_collector == from_sdk


def test_the_demo_app_through_the_collector(collector: Collector, tmp_path: Path) -> None:
    """`otel-llm demo`'s RAG app (streams, a failing call with retry, nesting) with exporter="otlp"."""
    truth_file = tmp_path / "truth.json"
    app = run_app(tmp_path, collector, "--turns", "0", "--demo-turns", "10", "--truth", str(truth_file))
    assert app.returncode == 0, app.stdout + app.stderr
    collector.stop()

    truth = _truth(truth_file)
    kinds = {t["attributes"].get("otel_llm.kind") for t in truth}
    assert {"chat", "graph_node", "vector_op", "llm_call"} <= kinds
    by_id = _by_id(_otlp.spans(_otlp.messages(collector.data_dir, "traces")))
    for expected in truth:
        span = by_id[(expected["trace_id"], expected["span_id"])]
        assert _otlp.attributes(span.get("attributes", [])) == expected["attributes"]
        assert [e["name"] for e in span.get("events", [])] == expected["events"]
    assert any("gen_ai.usage.cost" in t["attributes"] for t in truth), "costs travel too"
    names = _otlp.metric_names(_otlp.messages(collector.data_dir, "metrics"))
    assert {"gen_ai.client.token.usage", "gen_ai.client.operation.duration", "otel_llm.cost"} <= names
