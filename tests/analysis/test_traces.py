"""Top traces by cost and by duration, with depth and span trees, from the records."""

from __future__ import annotations

from collections import defaultdict

import pytest

import duckdb

from otel_llm_analysis import TraceStore
from otel_llm_analysis._filters import Filters
from otel_llm_analysis.traces import span_trees, top_traces

from _ground_truth import is_llm, store_fixture


loaded = store_fixture(seed=41, traces=120)


def _traces(data):
    traces = defaultdict(list)
    for span in data.spans:
        traces[span.trace_id].append(span)
    return traces


def _depth(spans):
    by_id = {s.span_id: s for s in spans}

    def depth(span):
        return 1 if span.parent_span_id not in by_id else 1 + depth(by_id[span.parent_span_id])

    return max(depth(s) for s in spans)


@pytest.mark.parametrize("by", ["cost", "duration"])
def test_top_traces_match_the_records(loaded, by):
    store, data = loaded
    traces = _traces(data)

    def measure(spans):
        if by == "cost":
            return sum(s.cost_usd or 0 for s in spans if is_llm(s))
        return (max(s.end_ns for s in spans) // 1000 - min(s.start_ns for s in spans) // 1000) / 1000

    ranked = sorted(traces, key=lambda t: (-measure(traces[t]), t))[:5]
    rows = top_traces(store, 5, by)
    assert [r.trace_id for r in rows] == ranked
    for row in rows:
        spans = traces[row.trace_id]
        root = next(s for s in spans if s.parent_span_id is None)
        assert row.root_name == root.name == "answer_question"
        assert row.spans == len(row.tree) == len(spans)
        assert row.llm_calls == sum(is_llm(s) for s in spans)
        assert row.tokens == sum((s.input_tokens or 0) + (s.output_tokens or 0) for s in spans if is_llm(s))
        priced = [s.cost_usd for s in spans if is_llm(s) and s.cost_usd is not None]
        assert row.cost_usd == (pytest.approx(sum(priced)) if priced else None)  # never a made-up 0
        assert row.priced_calls == len(priced)  # what the cost sums, and what it leaves out
        assert row.unpriced_calls == sum(is_llm(s) and s.cost_usd is None and (s.input_tokens is not None or
                                                                              s.output_tokens is not None)
                                         for s in spans)
        assert row.errors == sum(s.status_code == 2 for s in spans)
        assert row.depth == _depth(spans) == 3
        wall = (max(s.end_ns for s in spans) // 1000 - min(s.start_ns for s in spans) // 1000) / 1000
        assert row.duration_ms == pytest.approx(wall)


def test_span_tree_is_preorder_with_parents_before_children(loaded):
    store, data = loaded
    trace_id = data.spans[0].trace_id
    tree = span_trees(store, [trace_id])[trace_id]
    seen_depth = {}
    for node in tree:
        if node.parent_span_id is None:
            assert node.depth == 1
        else:
            assert seen_depth[node.parent_span_id] == node.depth - 1  # parent already listed
        seen_depth[node.span_id] = node.depth
    assert tree[0].otel_kind == "chat"


def test_orphans_become_roots(tmp_path):
    from otel_llm_analysis.traces import _preorder

    spans = [
        dict(span_id="b", parent_span_id="missing", name="orphan", otel_kind=None, start_time=None,
             duration_ms=1.0, status_code=0, model=None, input_tokens=None, output_tokens=None, cost_usd=None),
        dict(span_id="c", parent_span_id="b", name="child", otel_kind=None, start_time=None,
             duration_ms=1.0, status_code=0, model=None, input_tokens=None, output_tokens=None, cost_usd=None),
        dict(span_id="d", parent_span_id="d", name="self-parent", otel_kind=None, start_time=None,
             duration_ms=1.0, status_code=0, model=None, input_tokens=None, output_tokens=None, cost_usd=None),
    ]
    assert [(n.name, n.depth) for n in _preorder(spans)] == [("orphan", 1), ("child", 2), ("self-parent", 1)]


def test_a_store_an_older_version_set_up_ranks_the_same_when_read_only(loaded, tmp_path):
    """Opened read-only, a store keeps the views its last writer made: without ``trace_summary_of`` (older
    versions), top_traces reads the views instead of failing."""
    store, _ = loaded
    expected = top_traces(store, 6, "cost") + top_traces(store, 6, "duration")
    store.close()
    con = duckdb.connect(str(tmp_path / "analysis.duckdb"))
    for view in ("trace_summary", "trace_spans", "trace_calls"):  # the views as rows, the macros gone
        con.execute(f"CREATE TABLE {view}_kept AS SELECT * FROM {view}")
    for view in ("trace_summary", "trace_spans", "trace_calls"):
        con.execute(f"DROP VIEW {view}")
        con.execute(f"DROP MACRO TABLE {view}_of")
        con.execute(f"CREATE VIEW {view} AS SELECT * FROM {view}_kept")
    con.close()
    with TraceStore(str(tmp_path / "analysis.duckdb"), read_only=True) as old:
        assert top_traces(old, 6, "cost") + top_traces(old, 6, "duration") == expected


def _window_inside(data):
    """A window beginning inside a trace: the trace is ranked (a span of it is in the window), its calls
    before the window are in its row (a trace's figures are the whole trace's), not among the window's calls."""
    traces = _traces(data)
    cut = [sorted(s.start_time for s in spans if is_llm(s)) for spans in traces.values()]
    cut = sorted(calls[-1] for calls in cut if len(calls) > 1)  # a trace's last call, after its others
    return Filters(since=cut[len(cut) // 2])


def _shown_calls(data, rows):
    traces = _traces(data)
    calls = [s for row in rows for s in traces[row.trace_id] if is_llm(s)]
    tokens = [s for s in calls if s.input_tokens is not None or s.output_tokens is not None]
    return {"llm_calls": len(calls), "priced_calls": sum(s.cost_usd is not None for s in calls),
            "unpriced_calls": sum(s.cost_usd is None for s in tokens),
            "no_usage_calls": sum(s.cost_usd is None for s in calls if s not in tokens)}


@pytest.mark.parametrize("top", [3, 1000])
def test_the_calls_a_ranking_leaves_out_are_those_of_the_traces_it_shows(loaded, top):
    """The notes of ``otel-llm traces`` counted the calls under the filters (``summary``'s: calls in the
    window, of the project), while the rows are the top traces, whole: with ``--since`` inside a trace
    or ``--top`` fewer than all, the notes said "4 of 34 calls have no price" beside 20 traces of 22 calls.
    ``calls_of(rows)`` counts the calls of the traces shown, as their rows do."""
    from otel_llm_analysis.summaries import totals
    from otel_llm_analysis.traces import calls_of

    store, data = loaded
    window = _window_inside(data)
    rows = top_traces(store, top, "cost", window)
    counts = calls_of(rows)
    assert {name: getattr(counts, name) for name in _shown_calls(data, rows)} == _shown_calls(data, rows)
    assert counts.llm_calls == sum(row.llm_calls for row in rows)
    assert counts.llm_calls != totals(store, window).llm_calls  # what the notes counted: another set of calls


def test_the_traces_command_notes_count_the_calls_of_the_rows_shown(loaded, tmp_path):
    import json
    import re

    from typer.testing import CliRunner

    from otel_llm.cli import app

    store, data = loaded
    db = store.path
    store.close()
    window = _window_inside(data)
    result = CliRunner().invoke(app, ["traces", "--db", str(db), "--top", "20", "--since", window.since.isoformat(),
                                      "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    shown = sum(row["llm_calls"] for row in document["rows"])
    counted = {int(n) for n in re.findall(r"of (\d+) calls", " ".join(document["notes"]))}
    assert counted <= {shown} and counted, document["notes"]
