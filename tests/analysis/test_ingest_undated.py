"""A record without a time is kept and named: no time window (trends, budgets, --since) can find it.

A span whose startTimeUnixNano is 0, a metric point whose timeUnixNano is 0, a log
record with neither a time nor an observed time: each is stored as sent, counted by
the analyses without a window, and missing from every one with a window, so the
ingest says where each one is.
"""

from __future__ import annotations

from pathlib import Path

import orjson

from otel_llm_analysis.store import TraceStore
from otel_llm_analysis.summaries import totals
from otel_llm_analysis.trends import series

_T = 1_763_600_000_000_000_000
_RESOURCE = {"attributes": [{"key": "service.name", "value": {"stringValue": "svc"}}]}


def _span(number: int, start: int) -> dict:
    attributes = {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o"}
    return {"traceId": f"{number:032x}", "spanId": f"{number:016x}", "name": "chat", "kind": 3,
            "startTimeUnixNano": str(start), "endTimeUnixNano": str(start + 10**8 if start else 0),
            "attributes": [{"key": k, "value": {"stringValue": v}} for k, v in attributes.items()]}


def test_records_without_a_time_are_kept_and_named(tmp_path: Path):
    lines = [
        {"resourceSpans": [{"resource": _RESOURCE, "scopeSpans": [{"scope": {}, "spans": [
            _span(1, _T), _span(2, 0), _span(3, _T + 10**9)]}]}]},
        {"resourceMetrics": [{"resource": _RESOURCE, "scopeMetrics": [{"scope": {}, "metrics": [
            {"name": "process.memory.usage", "unit": "By", "gauge": {"dataPoints": [
                {"timeUnixNano": str(_T), "asInt": "100"}, {"asInt": "900"}]}}]}]}]},
        {"resourceLogs": [{"resource": _RESOURCE, "scopeLogs": [{"scope": {}, "logRecords": [
            {"timeUnixNano": str(_T), "body": {"stringValue": "timed"}},
            {"observedTimeUnixNano": str(_T), "body": {"stringValue": "observed only: dated by it"}},
            {"body": {"stringValue": "no time at all"}}]}]}]},
    ]
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(line) for line in lines) + b"\n")
    with TraceStore(str(tmp_path / "s.duckdb")) as store:
        report = store.ingest([str(path)])
        assert totals(store).llm_calls == 3  # kept
        assert sum(p.calls for p in series(store, "day")) == 2  # and outside every window
        assert store.query("SELECT count(*) FROM metric_points")[0][0] == 2
        assert store.query("SELECT count(*) FROM logs")[0][0] == 3
    problems = sorted((p.line, p.where, p.reason) for p in report.bad_lines)
    assert problems == [
        (1, "$.resourceSpans[0].scopeSpans[0].spans[1]",
         "kept, but undated: startTimeUnixNano is 0, so no time window (trends, budgets, --since) finds it"),
        (2, "$.resourceMetrics[0].scopeMetrics[0].metrics[0].gauge.dataPoints[1]",
         "kept, but undated: timeUnixNano is 0, so no time window (check, --since) finds it"),
        (3, "$.resourceLogs[0].scopeLogs[0].logRecords[2]",
         "kept, but undated: neither timeUnixNano nor observedTimeUnixNano is set, so no time window (--since) "
         "finds it"),
    ]
