"""Evaluations sent as log records (the GenAI semconv's event form) count like span events, once.

OpenLIT's ``record_evaluation_score`` adds a ``gen_ai.evaluation.result`` span
event when the rated span is still recording and always emits the same
evaluation as a log record (``event_name`` = ``gen_ai.evaluation.result``, the
rated span's trace and span ids); scoring a span that has ended (user feedback,
a later judge) sends the log record alone. Ground truth: the generator's
records plus the log records written here.
"""

from __future__ import annotations

from collections import Counter, defaultdict

import orjson

from otel_llm_analysis.qa import quality
from tests.support import synthetic

from _ground_truth import is_llm, store_fixture

loaded = store_fixture(seed=29, traces=120)

_EVENT = "gen_ai.evaluation.result"


def _log_record(span: synthetic.SpanRecord, name: str, label: str, score: float) -> dict:
    """One evaluation as OpenLIT's score API emits it through the logs API."""
    attributes = {"gen_ai.evaluation.name": name, "gen_ai.evaluation.score.label": label,
                  "gen_ai.evaluation.score.value": score}
    return {"timeUnixNano": str(span.end_ns + 2_000_000_000), "observedTimeUnixNano": str(span.end_ns + 2_000_000_000),
            "eventName": _EVENT, "body": {"stringValue": ""}, "attributes": synthetic.key_values(attributes),
            "traceId": span.trace_id, "spanId": span.span_id}


def test_evaluations_in_logs_are_rated_and_an_evaluation_sent_both_ways_counts_once(loaded, tmp_path):
    store, data = loaded
    traces = defaultdict(list)
    for span in data.spans:
        traces[span.trace_id].append(span)
    unrated = [t for t in traces.values() if any(is_llm(s) for s in t)
               and not any(e.name == _EVENT for s in t for e in s.events)]
    rated = [t for t in traces.values() if any(e.name == _EVENT for s in t for e in s.events)]
    assert len(unrated) >= 4 and rated
    before, = quality(store)
    before_by_model = {row.key: row.rated for row in quality(store, "model")}
    # scored after the turn ended: log records only, on the turn span
    records, labels = [], Counter()
    for trace, label in zip(unrated[:4], ("pass", "fail", "pass", "warning")):
        turn = next(s for s in trace if s.otel_kind == "chat")
        records.append(_log_record(turn, "user_feedback", label, 1.0))
        labels[label] += 1
    # scored while the span recorded: the span event the store holds, and its twin log record
    twin_span = next(s for s in rated[0] if any(e.name == _EVENT for e in s.events))
    twin = next(e for e in twin_span.events if e.name == _EVENT)
    record = _log_record(twin_span, twin.eval_name, twin.eval_label, twin.eval_score)
    record["timeUnixNano"] = str(twin.time_ns)
    records.append(record)
    path = tmp_path / "logs.jsonl"
    path.write_bytes(orjson.dumps({"resourceLogs": [{"resource": {"attributes": synthetic.key_values(
        {"service.name": "svc"})}, "scopeLogs": [{"scope": {"name": "openlit.score"}, "logRecords": records}]}]})
        + b"\n")
    report = store.ingest([str(path)])
    assert report.logs_added == len(records) and not report.bad_lines
    after, = quality(store)
    assert (after.passed, after.failed, after.warning) == (
        before.passed + labels["pass"], before.failed + labels["fail"], before.warning + labels["warning"])
    assert after.not_run == before.not_run - 4
    # the model a turn's evaluation rates: the turn's last call that ended before the evaluation
    credited = Counter()
    for trace in unrated[:4]:
        turn = next(s for s in trace if s.otel_kind == "chat")
        calls = [s for s in trace if is_llm(s) and s.model and s.start_ns >= turn.start_ns
                 and s.end_ns <= turn.end_ns + 2_000_000_000]
        credited[max(calls, key=lambda s: s.end_ns).model] += 1
    after_by_model = {row.key: row.rated for row in quality(store, "model")}
    assert {k: v - before_by_model.get(k, 0) for k, v in after_by_model.items()
            if v != before_by_model.get(k, 0)} == dict(credited)


def test_an_evaluation_of_a_span_the_store_lacks_is_rated_in_the_totals(loaded, tmp_path):
    """Its span (and so its turn and model) is unknown: it counts where no span is needed, in no group."""
    store, data = loaded
    before, = quality(store)
    before_unnamed = {row.key: row.failed for row in quality(store, "model")}.get(None, 0)
    missing = synthetic.SpanRecord(trace_id="f" * 32, span_id="e" * 16, parent_span_id=None, name="chat",
                                   span_kind="INTERNAL", service_name="svc", project="", otel_kind="",
                                   start_ns=data.spans[0].start_ns, end_ns=data.spans[0].end_ns)
    path = tmp_path / "logs.jsonl"
    path.write_bytes(orjson.dumps({"resourceLogs": [{"resource": {"attributes": synthetic.key_values(
        {"service.name": "svc"})}, "scopeLogs": [{"scope": {"name": "openlit.score"}, "logRecords": [
            _log_record(missing, "user_feedback", "fail", 0.0)]}]}]}) + b"\n")
    assert store.ingest([str(path)]).logs_added == 1
    after, = quality(store)
    assert (after.failed, after.passed, after.not_run) == (before.failed + 1, before.passed, before.not_run)
    assert {row.key: row.failed for row in quality(store, "model")}[None] == before_unnamed + 1


def _score_records(scores: list[tuple[str, object]]) -> bytes:
    """OpenLIT ``record_evaluation_score(name, value)`` log records of a span the store lacks, one per
    ``(name, value)``: a bool is sent as the score 1.0 / 0.0 with the label "true" / "false"
    (``openlit.score._normalize_score_value``), a number as a score alone."""
    span = synthetic.SpanRecord(trace_id="a" * 32, span_id="b" * 16, parent_span_id=None, name="chat",
                                span_kind="INTERNAL", service_name="svc", project="", otel_kind="",
                                start_ns=1_764_590_400_000_000_000, end_ns=1_764_590_401_000_000_000)
    records = []
    for i, (name, value) in enumerate(scores):
        record = _log_record(span, name, "", 0.0)
        record["timeUnixNano"] = str(span.end_ns + i)  # each its own record (same time and text: a resend)
        attributes = {"gen_ai.evaluation.name": name}
        if isinstance(value, bool):
            attributes |= {"gen_ai.evaluation.score.value": 1.0 if value else 0.0,
                           "gen_ai.evaluation.score.label": "true" if value else "false"}
        else:
            attributes["gen_ai.evaluation.score.value"] = value
        record["attributes"] = synthetic.key_values(attributes)
        records.append(record)
    return orjson.dumps({"resourceLogs": [{"resource": {"attributes": synthetic.key_values({"service.name": "svc"})},
                                           "scopeLogs": [{"scope": {"name": "openlit.score"},
                                                          "logRecords": records}]}]}) + b"\n"


def test_openlit_boolean_scores_are_rated_true_as_pass_and_false_as_fail(store, tmp_path):
    """``record_evaluation_score("helpful", True)`` is a verdict, not an unknown label: it was
    counted as "other" and left out of the pass rate."""
    path = tmp_path / "logs.jsonl"
    path.write_bytes(_score_records([("helpful", True), ("helpful", True), ("correct", False)]))
    assert store.ingest([str(path)]).logs_added == 3
    row, = quality(store)
    assert (row.passed, row.failed, row.other) == (2, 1, 0)
    assert row.pass_rate == 2 / 3


def test_the_quality_table_shows_the_evaluations_it_cannot_rate(tmp_path):
    """Scores sent without a label (OpenLIT's ``record_evaluation_score(name, 0.8)``) are counted as
    "other": the table showed every other count and not that one, so 3 evaluations read as none."""
    from typer.testing import CliRunner

    from test_cli import _app

    path = tmp_path / "logs.jsonl"
    path.write_bytes(_score_records([("relevance", 0.8), ("relevance", 0.2), ("helpful", True)]))
    db = str(tmp_path / "q.duckdb")
    runner = CliRunner()
    assert runner.invoke(_app(), ["ingest", "--db", db, str(path)]).exit_code == 0
    shown = runner.invoke(_app(), ["quality", "--db", db], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    header = " ".join(line for line in lines[:lines.index(next(x for x in lines if x.startswith("─")))])
    assert "other" in header.split(), shown.output
    row = lines[-1].split()
    assert row[0] == "-" and row[1] == "1" and "2" in row[2:], shown.output  # 1 passed, 2 others


def test_a_time_window_keeps_the_evaluations_of_spans_the_store_lacks(loaded, tmp_path):
    """They count in the totals, and in a window holding their time too: any --since/--until joined
    the rated spans, so the window dropped every one of them (quality said "no data" on a store of
    log-record scores alone)."""
    from datetime import datetime, timedelta

    from otel_llm_analysis._filters import Filters

    store, _ = loaded
    at = datetime(2025, 12, 1, 12)  # _score_records' span: 2025-12-01 12:00 UTC
    windows = (Filters.of(since=at - timedelta(days=1)), Filters.of(until=at + timedelta(days=1)),
               Filters.of(since=at - timedelta(hours=1), until=at + timedelta(hours=1)))
    before = [{(r.passed, r.failed) for r in quality(store, None, window)} or {(0, 0)} for window in windows]
    path = tmp_path / "logs.jsonl"
    path.write_bytes(_score_records([("helpful", True), ("helpful", False)]))  # a span the store lacks
    assert store.ingest([str(path)]).logs_added == 2
    for window, ((passed, failed),) in zip(windows, before):
        row, = quality(store, None, window)
        assert (row.passed, row.failed) == (passed + 1, failed + 1), window
    assert quality(store, None, Filters.of(since=at + timedelta(hours=1), until=at + timedelta(hours=2))) == []
