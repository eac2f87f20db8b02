"""Ingests that only read their own data's period still de-duplicate, pair and price like one big ingest.

An ingest de-duplicates, pairs nested LLM spans and prices calls over the stored
rows of the times it read (``_rows.window``), not the whole store. These tests
feed the same records in ways that break a window keyed on arrival: re-sends
that arrive after much newer data, parents and children of one call in
different ingests in both orders, a pricing file that changes between ingests,
and records without a time. Each result is checked against the records and
against one ingest of everything.
"""

from __future__ import annotations

import random
from datetime import datetime
from pathlib import Path

import orjson
import pytest

from otel_llm_analysis import TraceStore
from tests.support.synthetic import generate, key_values

OLD = dict(seed=81, traces=60, days=5, end=datetime(2026, 1, 10))
NEW = dict(seed=82, traces=60, days=5, end=datetime(2026, 11, 20))  # ten months later


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def _spans_in(lines: list[bytes]) -> int:
    return sum(line.count(b'"spanId"') for line in lines)


def _write(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"".join(lines))
    return path


def _span_line(trace: str, span_id: str, start_ns: int, end_ns: int, attrs: dict, parent: str = "") -> bytes:
    """One export-request line holding one span."""
    span = {"traceId": trace * 16, "spanId": span_id, "parentSpanId": parent, "name": "s", "kind": 3,
            "startTimeUnixNano": str(start_ns), "endTimeUnixNano": str(end_ns), "attributes": key_values(attrs)}
    return orjson.dumps({"resourceSpans": [{"resource": {"attributes": []},
                                            "scopeSpans": [{"scope": {"name": "x"}, "spans": [span]}]}]}) + b"\n"


def test_a_resend_months_after_the_original_is_dropped_and_counted(store: TraceStore, tmp_path: Path) -> None:
    old = generate(tmp_path / "old", spans_per_line=8, **OLD)
    new = generate(tmp_path / "new", spans_per_line=8, **NEW)
    store.ingest(old.files[0].parent)
    store.ingest(new.files[0].parent)  # the store now reaches ten months past the old data
    old_lines = {p.name: _lines(p) for p in old.files}
    resend = tmp_path / "resend"
    resend.mkdir()
    # old records re-sent in new files, alone and mixed into a batch of new records
    _write(resend / "traces-old.jsonl", old_lines["traces.jsonl"][::3])
    _write(resend / "traces-mixed.jsonl", _lines(new.files[0].parent / "traces.jsonl")[:4]
           + old_lines["traces.jsonl"][1::3])
    _write(resend / "logs.jsonl", old_lines["logs.jsonl"][::2])
    _write(resend / "metrics.jsonl", old_lines["metrics.jsonl"])
    stored = store.query("SELECT (SELECT count(*) FROM span_rows), (SELECT count(*) FROM logs), "
                         "(SELECT count(*) FROM metric_points)")[0]
    report = store.ingest(resend)
    assert (report.spans_added, report.logs_added, report.metric_points_added) == (0, 0, 0)
    resent_spans = _spans_in(old_lines["traces.jsonl"][::3] + old_lines["traces.jsonl"][1::3]) + _spans_in(
        _lines(new.files[0].parent / "traces.jsonl")[:4])
    assert report.duplicates_skipped >= resent_spans
    assert store.query("SELECT (SELECT count(*) FROM span_rows), (SELECT count(*) FROM logs), "
                       "(SELECT count(*) FROM metric_points)")[0] == stored
    assert stored[0] == len(old.spans) + len(new.spans)
    assert store.query("SELECT count(DISTINCT (trace_id, span_id)) FROM span_rows") == [(stored[0],)]


def test_a_resent_span_without_a_start_time_is_dropped_next_to_dated_ones(store: TraceStore, tmp_path: Path) -> None:
    def line(span_id: str, start: int) -> bytes:
        return _span_line("ab", span_id, start, start, {"otel_llm.kind": "chat"})

    undated = line("00000000000000a1", 0)
    store.ingest(_write(tmp_path / "a.jsonl", [undated, line("00000000000000a2", 1_764_000_000 * 10**9)]))
    report = store.ingest(_write(tmp_path / "b.jsonl", [line("00000000000000a3", 1_764_000_000 * 10**9), undated]))
    assert (report.spans_added, report.duplicates_skipped) == (1, 1)
    assert store.query("SELECT count(*), count(start_time) FROM span_rows") == [(3, 2)]


def _nesting(store: TraceStore) -> list[tuple]:
    return store.query("SELECT span_id, wrapper_span_id, wrapped_calls FROM span_rows "
                       "WHERE wrapper_span_id IS NOT NULL OR wrapped_calls IS NOT NULL ORDER BY span_id")


@pytest.mark.parametrize("order", ["shuffled", "children first", "parents first"])
def test_calls_and_their_wrappers_in_different_ingests_pair_as_in_one(tmp_path: Path, order: str) -> None:
    data = generate(tmp_path / "nested", spans_per_line=1, peer_spans=True, **OLD)
    lines = _lines(data.files[0].parent / "traces.jsonl")
    nested = {s.span_id for s in data.spans if s.nested}
    if order == "shuffled":
        random.Random(5).shuffle(lines)
    else:
        inner_first = order == "children first"
        lines.sort(key=lambda ln: any(f'"spanId":"{sid}"'.encode() in ln for sid in nested) != inner_first)
    whole = TraceStore(":memory:")
    whole.ingest(data.files[0].parent / "traces.jsonl")
    expected = _nesting(whole)
    whole.close()
    assert len(expected) == 2 * len(nested)  # each peer span, and the call around it
    later = generate(tmp_path / "later", spans_per_line=8, peer_spans=True, **NEW)
    with TraceStore(":memory:") as store:
        chunks = [lines[k::7] for k in range(7)]
        for k, chunk in enumerate(chunks):
            store.ingest(_write(tmp_path / f"part-{k}.jsonl", chunk))
            if k == 3:  # newer data in between: the store's end moves ten months on
                store.ingest(later.files[0].parent / "traces.jsonl")
        store.ingest(_write(tmp_path / "again.jsonl", lines[::5]))  # a re-send counts no call twice
        got = _nesting(store)
        assert [r for r in got if r[0] in {s.span_id for s in data.spans}] == expected
        assert store.query("SELECT count(*) FROM span_rows WHERE wrapped_calls > 1") == [(0,)]


def _call_line(span_id: str, start_ns: int, model: str) -> bytes:
    return _span_line("cd", span_id, start_ns, start_ns + 10**9,
                      {"otel_llm.kind": "llm_call", "gen_ai.request.model": model,
                       "gen_ai.usage.input_tokens": 10**6, "gen_ai.usage.output_tokens": 0})


def test_a_new_pricing_file_prices_old_calls_and_the_same_one_only_new_calls(store: TraceStore,
                                                                              tmp_path: Path) -> None:
    day = 86_400 * 10**9
    first = store.ingest(_write(tmp_path / "a.jsonl", [_call_line("00000000000000b1", 1_764_000_000 * 10**9,
                                                                  "my-private-model")]))
    assert first.pricing.unpriced == {"my-private-model": 1}
    prices = tmp_path / "prices.yaml"
    prices.write_text("my-private-model: {input: 2.0, output: 8.0}\n")
    # a file of calls 200 days later, with a pricing file that knows the old call's model
    later = store.ingest(_write(tmp_path / "b.jsonl", [_call_line("00000000000000b2", 1_764_000_000 * 10**9 + 200 * day,
                                                                  "my-private-model")]), pricing=prices)
    assert later.pricing.priced == 2 and later.pricing.unpriced == {}
    again = store.ingest(_write(tmp_path / "c.jsonl", [_call_line("00000000000000b3", 1_764_000_000 * 10**9 + 201 * day,
                                                                  "unknown-model-x")]), pricing=prices)
    assert (again.pricing.priced, again.pricing.unpriced, again.pricing.whole_store) == (
        0, {"unknown-model-x": 1}, False)
    assert store.query("SELECT span_id, cost_usd, cost_source FROM spans ORDER BY 1") == [
        ("00000000000000b1", 2.0, "ingest"), ("00000000000000b2", 2.0, "ingest"), ("00000000000000b3", None, None)]


def _nested_line(span_id: str, parent: str, start_ns: int, end_ns: int, peer: bool) -> bytes:
    attrs = ({"openinference.span.kind": "LLM", "llm.model_name": "gpt-4o-mini", "llm.token_count.prompt": 5}
             if peer else {"otel_llm.kind": "llm_call", "gen_ai.request.model": "gpt-4o-mini"})
    return _span_line("ef", span_id, start_ns, end_ns, attrs, parent)


@pytest.mark.parametrize("missing", ["wrapper end", "wrapper start", "call start"])
def test_a_call_and_its_wrapper_pair_across_ingests_when_one_lacks_a_time(tmp_path: Path, missing: str) -> None:
    t = 1_764_000_000 * 10**9
    wrapper = _nested_line("00000000000000c1", "", 0 if missing == "wrapper start" else t,
                           0 if missing == "wrapper end" else t + 10**9, peer=False)
    call = _nested_line("00000000000000c2", "00000000000000c1", 0 if missing == "call start" else t + 1000,
                        t + 10**9 - 1000, peer=True)
    for first, second in ((wrapper, call), (call, wrapper)):
        with TraceStore(":memory:") as store:
            store.ingest(_write(tmp_path / "first.jsonl", [first]))
            store.ingest(_write(tmp_path / "later.jsonl", [_call_line("00000000000000c3", t + 90 * 86_400 * 10**9,
                                                                      "gpt-4o-mini")]))
            store.ingest(_write(tmp_path / "second.jsonl", [second]))
            assert _nesting(store) == [("00000000000000c1", None, 1), ("00000000000000c2", "00000000000000c1", None)]
            assert store.query("SELECT count(*) FROM llm_calls WHERE trace_id = ?", ["ef" * 16]) == [(1,)]


def test_ingests_with_nothing_new_in_between_leave_the_store_usable(store: TraceStore, tmp_path: Path) -> None:
    first = _write(tmp_path / "a.jsonl", [_call_line("00000000000000d1", 1_764_000_000 * 10**9, "gpt-4o-mini")])
    store.ingest(first)
    assert store.ingest(first).spans_added == 0  # nothing new: no pricing, no pairing to do
    report = store.ingest(_write(tmp_path / "b.jsonl", [_call_line("00000000000000d2", 1_764_000_001 * 10**9,
                                                                    "gpt-4o-mini")]))
    assert report.spans_added == 1
    assert store.query("SELECT count(*) FROM spans") == [(2,)]
