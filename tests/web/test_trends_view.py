"""The trends view's cost stacked by model, where a period's calls of a model may all lack a price.

A period whose calls all lack a price has an unknown cost (``None``, never a $0 that reads as
free): summing the stacked models' costs then raised ``TypeError`` and the whole trends view
(dashboard and report) failed on stores with more than five priced models.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from otel_llm_analysis import TraceStore
from otel_llm_analysis.web.views import STACKED_MODELS, Query, trends_view
from tests.support.synthetic import generate


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> TraceStore:
    root = tmp_path_factory.mktemp("trends_view")
    data = generate(root / "data", seed=5, traces=150, days=20)
    store = TraceStore(str(root / "s.duckdb"))
    store.ingest([str(p) for p in data.files])
    return store


@pytest.mark.parametrize("period", ["day", "hour", "week"])
def test_the_other_models_are_the_total_less_the_stacked_ones_unknown_where_the_total_is(store, period):
    view = trends_view(store, Query(period=period))
    stacked, *other = view["cost_by_model"][:STACKED_MODELS], *view["cost_by_model"][STACKED_MODELS:]
    assert other, "the data has more priced models than are stacked"
    (rest,) = other
    if period != "week":  # the case that raised: a stacked model's period of unpriced calls only
        assert any(cost is None for series in stacked for cost in series["cost_usd"])
    for i, point in enumerate(view["points"]["cost_usd"] if isinstance(view["points"], dict)
                              else [p["cost_usd"] for p in view["points"]]):
        top = sum(series["cost_usd"][i] or 0.0 for series in stacked)
        assert rest["cost_usd"][i] == (None if point is None else pytest.approx(max(0.0, point - top)))
