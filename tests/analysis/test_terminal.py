"""Terminal output: no column disappears in silence, failed spans are marked in trees."""

from __future__ import annotations

from rich.console import Console

from otel_llm_analysis.cli import SUMMARY_COLUMNS
from otel_llm_analysis.summaries import summary
from otel_llm_analysis.terminal import header, table
from otel_llm_analysis.traces import top_traces
from otel_llm_analysis import terminal

from _ground_truth import store_fixture

loaded = store_fixture(seed=61, traces=60, days=5)


def _text(renderable_or_table, width: int) -> str:
    console = Console(width=width, record=True, file=open("/dev/null", "w"))
    if isinstance(renderable_or_table, terminal.Table):
        renderable_or_table.print(console)
    else:
        console.print(renderable_or_table)
    return console.export_text()


def test_every_column_is_shown_or_named_as_hidden(loaded):
    store, _ = loaded
    rows = summary(store, "model")
    for width in (40, 60, 80, 100, 200):
        fitted = table(rows, "summary by model", SUMMARY_COLUMNS, width=width)
        text = _text(fitted, width)
        assert all(len(line) <= width for line in text.splitlines()), width
        flat = " ".join(text.split())
        for name in SUMMARY_COLUMNS:
            shown = all(word in flat for word in header(name).split())
            assert shown or header(name) in fitted.hidden, (width, name)
        if fitted.hidden:
            assert f"{len(fitted.hidden)} column" in flat and "--format json" in flat
            assert all(name in flat for name in fitted.hidden)
    assert not table(rows, None, SUMMARY_COLUMNS, width=200).hidden  # wide enough: nothing hidden


def test_numbers_are_never_cut(loaded):
    store, _ = loaded
    rows = summary(store, "model")
    text = _text(table(rows, None, ["key", "cost_usd", "input_tokens"], width=80), 80)
    for row in rows:
        assert f"{row.input_tokens:,}" in text


def test_tree_marks_failed_spans(loaded):
    store, data = loaded
    failing = {s.trace_id for s in data.spans if s.status_code == 2}
    rows = [r for r in top_traces(store, 60, "cost") if r.trace_id in failing]
    assert rows, "the data set has traces with failed spans"
    for row in rows:
        text = _text(terminal.span_tree(row), 200)
        failed = sum(1 for node in row.tree if node.status_code == 2)
        assert text.count("✗ error") == failed >= 1
