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


def test_the_trace_endpoint_sends_a_huge_trace_a_page_at_a_time_and_says_what_it_leaves_out(tmp_path: Path) -> None:
    """``/api/traces/{id}`` answered a trace of 20,000 spans with all of them (the dashboard's "whole tree"
    link, 100,000 spans: hundreds of MB of JSON for one click). It answers one page (``offset``, ``limit``,
    at most TRACE_PAGE_MAX spans) in pre-order, and counts the spans before and after the page; the pages
    put together are the whole tree, in the order ``span_trees`` gives it."""
    from fastapi.testclient import TestClient

    from otel_llm_analysis.traces import span_trees
    from otel_llm_analysis.web.live import LiveStore
    from otel_llm_analysis.web.server import create_app
    from otel_llm_analysis.web.views import TRACE_PAGE, TRACE_PAGE_MAX

    trace_id = _wide_trace_data(tmp_path / "data", SPANS)
    with TraceStore(tmp_path / "s.duckdb") as store:
        store.ingest(tmp_path / "data")
        whole = [node.span_id for node in span_trees(store, [trace_id])[trace_id]]
        depths = [node.depth for node in span_trees(store, [trace_id])[trace_id]]
        client = TestClient(create_app(LiveStore(store), Query()))
        first = client.get(f"/api/traces/{trace_id}").json()
        assert (first["total_spans"], first["offset"], first["limit"]) == (len(whole), 0, TRACE_PAGE)
        assert [n["span_id"] for n in first["spans"]] == whole[:TRACE_PAGE]
        assert first["not_shown"] == {"before": 0, "after": len(whole) - TRACE_PAGE}
        seen, offset = [], 0
        while offset < len(whole):
            page = client.get(f"/api/traces/{trace_id}", params={"offset": offset, "limit": TRACE_PAGE_MAX}).json()
            assert len(page["spans"]) <= TRACE_PAGE_MAX
            assert page["not_shown"] == {"before": offset, "after": len(whole) - offset - len(page["spans"])}
            seen += [(n["span_id"], n["depth"]) for n in page["spans"]]
            offset += TRACE_PAGE_MAX
        assert seen == list(zip(whole, depths))
        past = client.get(f"/api/traces/{trace_id}", params={"offset": len(whole) + 5}).json()
        assert past["spans"] == [] and past["not_shown"] == {"before": len(whole), "after": 0}
        too_many = client.get(f"/api/traces/{trace_id}", params={"limit": TRACE_PAGE_MAX + 1})
        assert too_many.status_code == 400 and "limit" in too_many.json()["detail"]
