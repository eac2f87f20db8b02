"""Shared analysis results equal the public API's: the report's for every embedded combination, the dashboard's per data version.

The static report computes its filter combinations with shared results
(``web.shared.Shared``: each repeated call once). Here every combination's embedded views
are compared with the same views computed afresh through the analysis API.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import orjson

from otel_llm_analysis import Filters, TraceStore, load_budgets, quality
from otel_llm_analysis.web.choices import choices, range_filters
from otel_llm_analysis.web.live import LiveStore
from otel_llm_analysis.web.static import collect, columnar, plan, state_key
from otel_llm_analysis.web.views import QUALITY_COLUMNS, VIEWS, Query, with_window
from tests.support.synthetic import generate
from tests.web.conftest import AS_OF, MONTH


def _plain(value: Any) -> Any:
    """A view as the page receives it (JSON), trees left out (they are embedded apart)."""
    if isinstance(value, dict):
        value = {k: v for k, v in value.items() if k != "trees"}
    return orjson.loads(orjson.dumps(columnar(value), option=orjson.OPT_NAIVE_UTC | orjson.OPT_NON_STR_KEYS, default=str))


def _same(embedded: Any, expected: Any, where: str) -> None:
    """Equal, floats to 1e-9 relative (sums over differently ordered rows differ in the last bits)."""
    if isinstance(expected, float) and isinstance(embedded, (int, float)):
        assert math.isclose(embedded, expected, rel_tol=1e-9, abs_tol=1e-12), (where, embedded, expected)
    elif isinstance(expected, dict):
        assert isinstance(embedded, dict) and embedded.keys() == expected.keys(), (where, embedded, expected)
        for key in expected:
            _same(embedded[key], expected[key], f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(embedded, list) and len(embedded) == len(expected), (where, embedded, expected)
        for index, (a, b) in enumerate(zip(embedded, expected)):
            _same(a, b, f"{where}[{index}]")
    else:
        assert embedded == expected, (where, embedded, expected)


#: the views whose results a build shares or derives (the others call the API exactly as the dashboard does)
SHARING_VIEWS = ("summary", "trends", "evaluations", "compare", "retries")


def _assert_every_combination_equals_the_api(store: TraceStore, query: Query, max_states: int) -> int:
    lattice = plan(store, query.filters, choices(store, query.filters), max_states)
    data = collect(store, query, lattice)
    pool = orjson.loads(orjson.dumps(data["pool"]))
    for choice, project, model in lattice.states:
        fresh = with_window(store, replace(query, filters=range_filters(query.filters, choice, project or None,
                                                                        model or None)))
        slots = data["states"][state_key(choice.key, project, model)]
        for name in SHARING_VIEWS:
            _same(pool[slots[name]], _plain(VIEWS[name].compute(store, fresh)), f"{choice.key}/{project}/{model}/{name}")
        # the evaluations' overall row, added up from the models' rows, is quality()'s own overall row
        overall = [row for row in VIEWS["evaluations"].compute(store, fresh)["rows"] if row["key"] == "all models"]
        expected = [{"key": "all models", **{c.key: getattr(r, c.key) for c in QUALITY_COLUMNS}}
                    for r in quality(store, None, fresh.filters)]
        assert overall == expected, (choice.key, project, model, overall, expected)
    return len(lattice.states)


def test_every_embedded_view_equals_the_api_for_every_combination(api: TraceStore, budgets_file: Any) -> None:
    query = Query(budgets=tuple(load_budgets(budgets_file)), budget_month=MONTH, budget_as_of=date.fromisoformat(AS_OF))
    # one filter at a time over the whole window: every date range, each project alone, each model alone
    assert _assert_every_combination_equals_the_api(api, query, 60) > 20


def test_combined_project_and_model_views_equal_the_api(api: TraceStore) -> None:
    week = Query(filters=Filters.of("2026-11-13", "2026-11-20", project="support"))  # one project: fewer combinations
    lattice = plan(api, week.filters, choices(api, week.filters), 80)
    assert lattice.combined and any(project and model for _, project, model in lattice.states)
    assert _assert_every_combination_equals_the_api(api, week, 80) == len(lattice.states)


def test_dashboard_requests_share_results_until_an_ingest_adds_data(tmp_path: Path) -> None:
    """Requests of one data version share results; after an ingest adds spans, the views show the new data."""
    watch = tmp_path / "watch"
    generate(watch / "first", seed=11, traces=30, spans_per_line=16, agents="otel_llm")
    live = LiveStore(TraceStore(tmp_path / "live.duckdb"), [str(watch)])
    try:
        live.ingest_once()
        with live.sharing() as (store, shared):
            before = VIEWS["retries"].compute(store, Query(shared=shared))
            cards = VIEWS["summary"].compute(store, Query(shared=shared))  # its statements' answers are kept
        with live.sharing() as (store, again):
            assert again is shared and shared.windows == 1  # one version's results serve both requests
            assert VIEWS["compare"].compute(store, Query(shared=again))["groups"]
            assert shared.windows == 1
        generate(tmp_path / "second", seed=12, traces=30, spans_per_line=16, agents="otel_llm")
        (tmp_path / "second").rename(watch / "second")
        live.ingest_once()
        with live.sharing() as (store, fresh):
            assert fresh is not shared
            after = VIEWS["retries"].compute(store, Query(shared=fresh))
            _same(_plain(after), _plain(VIEWS["retries"].compute(store, Query())), "retries after the ingest")
            # the statements answered before the ingest are asked again: the cards show the new spans
            cards_after = VIEWS["summary"].compute(store, Query(shared=fresh))
            _same(_plain(cards_after), _plain(VIEWS["summary"].compute(store, Query())), "cards after the ingest")
        assert after != before
        assert cards_after["cards"][0]["value"] > cards["cards"][0]["value"]  # spans
    finally:
        live.stop()
