"""QA view: evaluation outcomes, pass rate and "not run" per group, from the records."""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest

from otel_llm_analysis._filters import Filters
from otel_llm_analysis.qa import quality

from _ground_truth import is_llm, run_config, store_fixture
from tests.support.graded_trace import GRADED, trace_file


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
    """A store holding :data:`GRADED` with a passing evaluation on ``event_on``."""
    from otel_llm_analysis import TraceStore

    store = TraceStore(":memory:")
    store.ingest(trace_file(tmp_path / "traces.jsonl", GRADED, event_on=event_on, event_attrs=event_attrs))
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


# --- worked out at ingest: one stored row per evaluation and per turn ---------------------

def _subjects(store):
    return sorted(store.query("SELECT trace_id, span_id, is_evaluation, eval_name, eval_label, credited_model "
                              "FROM qa_subjects"), key=repr)


def test_each_evaluation_and_turn_is_stored_with_the_model_it_rates(tmp_path):
    store = _grader_trace(tmp_path, event_on="grade")
    trace, (chat, grade) = "5" * 32, (GRADED["chat"][0], GRADED["grade"][0])
    assert _subjects(store) == [
        (trace, chat, False, None, None, "gpt-4o-mini"),  # the turn's answer: its last call (here the judge's)
        (trace, grade, True, "relevance", "pass", "gpt-4o"),  # the grade step rates the call before it
    ]
    store.close()


def test_a_later_ingest_adding_calls_and_evaluations_to_stored_turns_moves_their_answers(tmp_path):
    """Trace 5 is rated on its turn, trace 6 not yet; a later ingest adds a call to both turns (and a
    grade step with its evaluation to trace 6): the stored rows are worked out again, as one read gives."""
    from otel_llm_analysis import TraceStore
    from otel_llm_analysis._scope_index import refresh_scopes

    first = {name: GRADED[name] for name in ("chat", "generate", "answer")}
    late = {"late": ("0000000000000006", GRADED["chat"][0], 60, 70, {
        "otel_llm.kind": "llm_call", "gen_ai.request.model": "o4-mini"})}
    files = [trace_file(tmp_path / "1a.jsonl", first, trace="5", event_on="chat"),
             trace_file(tmp_path / "1b.jsonl", first, trace="6")]
    later = [trace_file(tmp_path / "2a.jsonl", late, trace="5"),
             trace_file(tmp_path / "2b.jsonl", {**late, "grade": GRADED["grade"]}, trace="6", event_on="grade")]
    with TraceStore(str(tmp_path / "parts.duckdb")) as store, TraceStore(":memory:") as once:
        store.ingest(files)
        assert [(r.key, r.passed, r.not_run) for r in quality(store, "model")] == [("gpt-4o", 1, 1)]
        store.ingest(later)
        # trace 5's turn now answers with the later call (it ended before the evaluation); trace 6's
        # grade step rates the call that ended before it started, and its turn is no longer "not run"
        assert [(r.key, r.passed, r.not_run) for r in quality(store, "model")] == [("gpt-4o", 1, 0),
                                                                                    ("o4-mini", 1, 0)]
        once.ingest([*files, *later])
        assert _subjects(store) == _subjects(once)
        assert [r for r in quality(store, "model")] == [r for r in quality(once, "model")]
        assert refresh_scopes(store.connection) == 0


def test_a_store_from_before_the_stored_rows_says_how_to_add_them(tmp_path):
    """A store last written by an older otel-llm, opened read-only, lacks qa_subjects: one line, then fixed."""
    import duckdb
    from otel_llm_analysis import StoreError, TraceStore

    path = tmp_path / "old.duckdb"
    with TraceStore(str(path)) as store:
        store.ingest(trace_file(tmp_path / "t.jsonl", GRADED, event_on="chat"))
    with duckdb.connect(str(path)) as con:
        con.execute("DROP VIEW qa_subjects")
    with TraceStore(str(path), read_only=True) as old, pytest.raises(StoreError, match="otel-llm ingest"):
        quality(old, "model")
    TraceStore(str(path)).close()  # opened for writing: the view is back
    with TraceStore(str(path), read_only=True) as upgraded:
        assert [(r.key, r.passed) for r in quality(upgraded, "model")] == [("gpt-4o-mini", 1)]
