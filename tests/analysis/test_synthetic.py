"""The generator: deterministic, shaped like the SDK's output, and its records match its files."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import orjson

from otel_llm import semconv
from tests.support.synthetic import SyntheticData, generate


def _file_spans(paths: list[Path]) -> list[dict]:
    return [span for path in paths if path.name.startswith("traces") for line in path.read_bytes().splitlines()
            for rs in orjson.loads(line)["resourceSpans"] for ss in rs["scopeSpans"] for span in ss["spans"]]


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    a = generate(tmp_path / "a", seed=3, traces=20)
    b = generate(tmp_path / "b", seed=3, traces=20)
    c = generate(tmp_path / "c", seed=4, traces=20)
    for fa, fb, fc in zip(a.files, b.files, c.files):
        assert fa.read_bytes() == fb.read_bytes()
        assert fa.name == fc.name
    assert a.files[0].read_bytes() != c.files[0].read_bytes()


def test_records_are_what_the_files_hold(dataset: SyntheticData) -> None:
    written = _file_spans(dataset.files)
    assert len(written) == len(dataset.spans) == dataset.span_count
    by_id = {(s["traceId"], s["spanId"]): s for s in written}
    for record in dataset.spans:
        span = by_id[(record.trace_id, record.span_id)]
        assert span["name"] == record.name
        assert int(span["endTimeUnixNano"]) - int(span["startTimeUnixNano"]) == record.end_ns - record.start_ns
        assert {kv["key"] for kv in span["attributes"]} == set(record.attributes)


def test_shape_covers_what_the_analyses_need(dataset: SyntheticData) -> None:
    spans = dataset.spans
    kinds = Counter(s.otel_kind for s in spans)
    assert set(kinds) == {"chat", "graph_node", "vector_op", "llm_call"}
    assert len({s.project for s in spans}) >= 3
    assert len({s.model for s in spans if s.model}) >= 4
    assert len({s.provider for s in spans if s.provider}) >= 3
    assert len({s.user_id for s in spans}) >= 10
    assert any(s.status_code == 2 for s in spans)
    assert any(s.stream_ttft_ms for s in spans)
    days = {s.start_time.date() for s in spans}
    assert (max(days) - min(days)).days >= 50
    # nesting: every parent exists in the same trace; roots are chat turns
    ids = {(s.trace_id, s.span_id): s for s in spans}
    for s in spans:
        if s.parent_span_id is None:
            assert s.otel_kind == "chat"
        else:
            assert ids[(s.trace_id, s.parent_span_id)].start_ns <= s.start_ns
    temps = {s.attributes[semconv.OTEL_LLM_RUN_CONFIG_PREFIX + "temperature"] for s in spans}
    assert len(temps) >= 3
    labels = Counter(e.eval_label for e in dataset.events if e.name == semconv.EVENT_EVALUATION_RESULT)
    assert set(labels) == {"pass", "warning", "fail"}


def test_rotation_and_counts_only_mode(tmp_path: Path) -> None:
    data = generate(tmp_path, seed=1, traces=40, spans_per_line=8, rotate_lines=4, keep_records=False)
    traces = [p for p in data.files if p.name.startswith("traces")]
    assert len(traces) > 2 and traces[-1].name == "traces.jsonl"
    assert all(p.name.startswith("traces-") for p in traces[:-1])
    assert data.spans == [] and data.span_count == len(_file_spans(data.files))


def test_spikes_plant_busy_days(tmp_path: Path) -> None:
    data = generate(tmp_path, seed=2, traces=600, days=30, spikes={10: 8.0})
    per_day = Counter(s.start_time.date() for s in data.spans if s.otel_kind == "chat")
    busiest, count = per_day.most_common(1)[0]
    first = min(per_day)
    assert (busiest - first).days == 10
    assert count > 3 * sorted(per_day.values())[len(per_day) // 2]
