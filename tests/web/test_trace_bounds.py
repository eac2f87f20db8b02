"""The page's ranked traces hold a bounded part of a huge trace, and reading them stays bounded too."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from otel_llm_analysis import TraceStore, top_traces
from otel_llm_analysis.export import to_records
from otel_llm_analysis.web.views import TREE_MAX, TRACE_COLUMNS, Query, traces_view
from tests.web.test_report import _wide_trace_data

SPANS = 20_000


def test_the_traces_view_of_a_huge_trace_reads_its_figures_in_sql_not_its_whole_tree(tmp_path: Path) -> None:
    """The page's traces (the report's every view, the dashboard's every load) read each ranked trace's whole
    span tree into Python for the 300 spans it shows: a trace of 100,000 spans took 16 s and 260 MB a load.
    The figures come from SQL and only the ids and parents of the huge trace's spans are read (walked once
    for both rankings): the view's peak memory stays well under the 2.7 kB a span that reading the whole
    tree took (~0.65 kB), and its figures, depth and first TREE_MAX tree lines are top_traces' own."""
    trace_id = _wide_trace_data(tmp_path / "data", SPANS)
    with TraceStore(tmp_path / "s.duckdb") as store:
        store.ingest(tmp_path / "data")
        expected = {by: top_traces(store, 10, by) for by in ("cost", "duration")}  # type: ignore[arg-type]
        tracemalloc.start()
        try:
            view = traces_view(store, Query())
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert peak < SPANS * 1000, f"{peak / 1e6:.1f} MB for a trace of {SPANS} spans"
    for by, rows in expected.items():
        assert trace_id in [row.trace_id for row in rows]
        keys = ["trace_id", *(c.key for c in TRACE_COLUMNS)]
        want = [{k: record[k] for k in keys} for record in to_records(rows)]
        assert [{k: v for k, v in row.items() if k != "cost_usd"} for row in view[by]] == [
            {k: v for k, v in row.items() if k != "cost_usd"} for row in want]
        assert [row["cost_usd"] for row in view[by]] == pytest.approx([row["cost_usd"] for row in want], rel=1e-9)
        for row in rows:
            assert view["trees"][row.trace_id] == to_records(row.tree[:TREE_MAX])
            assert view["tree_spans"].get(row.trace_id) == (len(row.tree) if len(row.tree) > TREE_MAX else None)
    assert view["tree_spans"][trace_id] > SPANS
