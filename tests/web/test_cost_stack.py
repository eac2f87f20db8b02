"""The cost chart's stacked series add up to the cost series: no call counted twice, none left out."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from fastapi.testclient import TestClient

from otel_llm_analysis import TraceStore, summary
from otel_llm_analysis.web.live import LiveStore
from otel_llm_analysis.web.server import create_app
from otel_llm_analysis.web.views import Query
from tests.support.synthetic import generate


def test_calls_without_a_model_stack_once_in_the_cost_chart(tmp_path: Path) -> None:
    """Calls that carry a cost but no model (a producer's cost attribute, record_usage) group under the
    model None; the chart drew that group's series with the model filter None, that is every call's
    cost, so the stack showed nearly twice the spend and "other models" nothing. The calls without a
    model stack with the other models' remainder, and each period's stack equals its cost."""
    generate(tmp_path / "data", seed=3, traces=60, days=3, end=datetime(2026, 11, 20))
    out = tmp_path / "nomodel"
    out.mkdir()
    text = (tmp_path / "data" / "traces.jsonl").read_text()
    text = text.replace('{"key":"gen_ai.request.model","value":{"stringValue":"claude-haiku-4-5"}}',
                        '{"key":"app.model","value":{"stringValue":"claude-haiku-4-5"}}')
    text = re.sub(r'\{"key":"gen_ai.response.model","value":\{"stringValue":"claude-haiku-4-5[^"]*"\}\}',
                  '{"key":"app.response","value":{"stringValue":"h"}}', text)
    (out / "traces.jsonl").write_text(text)
    with TraceStore(tmp_path / "store.duckdb") as store:
        store.ingest(out)
        unnamed = [row for row in summary(store, "model") if row.key is None]
        assert unnamed and unnamed[0].cost_usd, "calls without a model, with a cost"
        trends = TestClient(create_app(LiveStore(store), Query())).get("/api/trends").json()
    assert None not in [series["model"] for series in trends["cost_by_model"]], trends["cost_by_model"]
    for index, point in enumerate(trends["points"]):
        stacked = sum(series["cost_usd"][index] or 0.0 for series in trends["cost_by_model"])
        assert abs(stacked - (point["cost_usd"] or 0.0)) < 1e-9, (point, stacked)
