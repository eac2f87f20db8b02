"""QA view: evaluation outcomes, pass rate and "not run" per group, from the records."""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest

from otel_llm_analysis._filters import Filters
from otel_llm_analysis.qa import quality

from _ground_truth import is_llm, run_config, store_fixture


loaded = store_fixture(seed=29, traces=180)


def _last_model(spans):
    calls = sorted((s for s in spans if is_llm(s) and s.request_model), key=lambda s: s.end_ns)
    return calls[-1].request_model if calls else None


def _expected(data, key):
    """{group: Counter(pass/warning/fail/not_run)} from events and turns."""
    traces = defaultdict(list)
    for span in data.spans:
        traces[span.trace_id].append(span)
    out: dict = defaultdict(Counter)
    for trace in traces.values():
        turn = next(s for s in trace if s.otel_kind == "chat")
        group = key(turn, trace)
        labels = [e.eval_label for s in trace for e in s.events if e.name == "gen_ai.evaluation.result"]
        for label in labels:
            out[group][label] += 1
        if not labels and any(is_llm(s) for s in trace):
            out[group]["not_run"] += 1
    return out


@pytest.mark.parametrize(
    ("by", "key"),
    [
        (None, lambda turn, trace: None),
        ("project", lambda turn, trace: turn.project),
        ("model", lambda turn, trace: _last_model(trace)),
        ("run_config.temperature", lambda turn, trace: run_config(turn, "temperature")),
        ("day", lambda turn, trace: turn.start_time.date()),
    ],
)
def test_outcomes_and_pass_rate_per_group(loaded, by, key):
    store, data = loaded
    expected = _expected(data, key)
    rows = {row.key: row for row in quality(store, by)}
    assert set(rows) == set(expected)
    for name, counts in expected.items():
        row = rows[name]
        assert (row.passed, row.warning, row.failed, row.not_run) == (
            counts["pass"], counts["warning"], counts["fail"], counts["not_run"])
        rated = counts["pass"] + counts["warning"] + counts["fail"]
        assert row.pass_rate == (pytest.approx(counts["pass"] / rated) if rated else None)
    if by is None:
        (total,) = rows.values()
        assert total.passed and total.warning and total.failed and total.not_run  # all four planted


def test_evaluation_name_and_time_filters(loaded):
    store, data = loaded
    events = [e for e in data.events if e.name == "gen_ai.evaluation.result" and e.eval_name == "relevance"]
    (row,) = quality(store, None, evaluation="relevance")
    assert row.rated == len(events) > 0
    (all_rows,) = quality(store, None)
    assert all_rows.rated > row.rated
    later = quality(store, None, Filters.of(since="2030-01-01"))
    assert later == []


# --- the evaluated model, not the grader's ------------------------------------------------

def _grader_trace(tmp_path, *, event_on: str, event_attrs: dict | None = None):
    """chat -> generate -> answer call (gpt-4o), then grade -> judge call (gpt-4o-mini) + evaluation."""
    import orjson
    from otel_llm_analysis import TraceStore
    from tests.support.synthetic import key_values

    t0 = 1_764_000_000_000_000_000
    ms = 1_000_000
    spans = {  # name: (span id, parent, start ms, end ms, attributes)
        "chat": ("0000000000000001", "", 0, 100, {"otel_llm.kind": "chat"}),
        "generate": ("0000000000000002", "0000000000000001", 1, 40, {"otel_llm.kind": "graph_node"}),
        "answer": ("0000000000000003", "0000000000000002", 2, 39, {
            "otel_llm.kind": "llm_call", "gen_ai.request.model": "gpt-4o", "gen_ai.response.id": "resp-answer"}),
        "grade": ("0000000000000004", "0000000000000001", 50, 90, {"otel_llm.kind": "graph_node"}),
        "judge": ("0000000000000005", "0000000000000004", 51, 80, {
            "otel_llm.kind": "llm_call", "gen_ai.request.model": "gpt-4o-mini", "gen_ai.response.id": "resp-judge"}),
    }
    out = []
    for name, (sid, parent, start, end, attrs) in spans.items():
        span = {"traceId": "5" * 32, "spanId": sid, "parentSpanId": parent, "name": name, "kind": 1,
                "startTimeUnixNano": str(t0 + start * ms), "endTimeUnixNano": str(t0 + end * ms),
                "attributes": key_values(attrs)}
        if name == event_on:
            span["events"] = [{"timeUnixNano": str(t0 + (end - 1) * ms), "name": "gen_ai.evaluation.result",
                               "attributes": key_values({"gen_ai.evaluation.name": "relevance",
                                                         "gen_ai.evaluation.score.label": "pass",
                                                         **(event_attrs or {})})}]
        out.append(span)
    path = tmp_path / "traces.jsonl"
    path.write_bytes(orjson.dumps({"resourceSpans": [{"resource": {"attributes": key_values({"service.name": "s"})},
                                                      "scopeSpans": [{"scope": {"name": "otel_llm"}, "spans": out}]}]})
                     + b"\n")
    store = TraceStore(":memory:")
    store.ingest(path)
    return store


@pytest.mark.parametrize(
    ("event_on", "event_attrs", "credited"),
    [
        ("grade", None, "gpt-4o"),  # the demo's grade node: its judge call is the grader's
        ("chat", None, "gpt-4o-mini"),  # a turn-level check: the turn's last call before it
        ("chat", {"gen_ai.response.id": "resp-answer"}, "gpt-4o"),  # named by response id
        ("answer", None, "gpt-4o"),  # on the evaluated call itself (the semconv way)
        ("judge", {"gen_ai.response.id": "resp-answer"}, "gpt-4o"),
    ],
)
def test_quality_by_model_credits_the_evaluated_model(tmp_path, event_on, event_attrs, credited):
    store = _grader_trace(tmp_path, event_on=event_on, event_attrs=event_attrs)
    rows = quality(store, "model")
    assert [(r.key, r.passed) for r in rows] == [(credited, 1)]
    store.close()
