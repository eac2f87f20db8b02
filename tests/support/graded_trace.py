"""A graded chat turn as the demo records it, written as collector-format JSON: the evaluated model's
call, then a grade step running the grader's own call, and an evaluation where a test puts it."""

from __future__ import annotations

from pathlib import Path

import orjson

from tests.support.synthetic import key_values

__all__ = ["GRADED", "trace_file"]

T0 = 1_764_000_000_000_000_000
MS = 1_000_000
#: chat -> generate -> answer call (gpt-4o), then grade -> judge call (gpt-4o-mini): name -> (span id, parent,
#: start ms, end ms, attributes)
GRADED = {
    "chat": ("0000000000000001", "", 0, 100, {"otel_llm.kind": "chat"}),
    "generate": ("0000000000000002", "0000000000000001", 1, 40, {"otel_llm.kind": "graph_node"}),
    "answer": ("0000000000000003", "0000000000000002", 2, 39, {
        "otel_llm.kind": "llm_call", "gen_ai.request.model": "gpt-4o", "gen_ai.response.id": "resp-answer"}),
    "grade": ("0000000000000004", "0000000000000001", 50, 90, {"otel_llm.kind": "graph_node"}),
    "judge": ("0000000000000005", "0000000000000004", 51, 80, {
        "otel_llm.kind": "llm_call", "gen_ai.request.model": "gpt-4o-mini", "gen_ai.response.id": "resp-judge"}),
}


def trace_file(path: Path, spans: dict, *, trace: str = "5", event_on: str | None = None,
               event_attrs: dict | None = None) -> Path:
    """``spans`` (as :data:`GRADED`) of trace ``trace * 32`` as one collector-format line; a passing
    evaluation on ``event_on``, 1 ms before it ends."""
    out = []
    for name, (sid, parent, start, end, attrs) in spans.items():
        span = {"traceId": trace * 32, "spanId": sid, "parentSpanId": parent, "name": name, "kind": 1,
                "startTimeUnixNano": str(T0 + start * MS), "endTimeUnixNano": str(T0 + end * MS),
                "attributes": key_values(attrs)}
        if name == event_on:
            span["events"] = [{"timeUnixNano": str(T0 + (end - 1) * MS), "name": "gen_ai.evaluation.result",
                               "attributes": key_values({"gen_ai.evaluation.name": "relevance",
                                                         "gen_ai.evaluation.score.label": "pass",
                                                         **(event_attrs or {})})}]
        out.append(span)
    path.write_bytes(orjson.dumps({"resourceSpans": [{"resource": {"attributes": key_values({"service.name": "s"})},
                                                      "scopeSpans": [{"scope": {"name": "otel_llm"}, "spans": out}]}]})
                     + b"\n")
    return path
