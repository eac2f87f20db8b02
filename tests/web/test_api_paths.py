"""What the dashboard's API answers to a path it does not serve and to a query it cannot read, as the README says."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
from fastapi.testclient import TestClient

from otel_llm_analysis import TraceStore
from otel_llm_analysis.web.live import LiveStore
from otel_llm_analysis.web.server import create_app
from otel_llm_analysis.web.views import VIEWS, Query
from tests.support.synthetic import generate

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    tmp = tmp_path_factory.mktemp("api-paths")
    generate(tmp / "data", seed=3, traces=8, spans_per_line=8)
    with TraceStore(tmp / "s.duckdb") as store:
        store.ingest(tmp / "data")
    with TraceStore(tmp / "s.duckdb", read_only=True) as store:
        yield TestClient(create_app(LiveStore(store), Query()))


@pytest.mark.parametrize("path", ["/api/nosuch", "/api/sumary", "/api/export/nosuch.csv", "/api/traces/x/y"])
def test_an_unknown_api_path_is_a_404_naming_the_endpoints(client: TestClient, path: str) -> None:
    """``/api/sumary`` (a typo) answered 404 ``Not Found`` and nothing else: not which paths exist. It is a 404
    whose message names the endpoints, as the README says."""
    answer = client.get(path)
    assert answer.status_code == 404, answer.text
    detail = answer.json()["detail"]
    assert path in detail and "/api/summary" in detail and "/api/export/{view}.csv|json" in detail, detail
    assert all(f"/api/{name}" in detail for name in VIEWS), detail
    readme = " ".join(README.read_text("utf-8").split())
    assert "An unknown path under `/api/` is a 404 naming the endpoints" in readme


@pytest.mark.parametrize("params", [[("since", "7d"), ("since", "30d")], [("model", "gpt-4o"), ("model", "o4-mini")],
                                    [("top", "3"), ("top", "5")]])
def test_a_parameter_given_twice_is_a_400_not_one_of_them_picked_in_silence(
        client: TestClient, params: list[tuple[str, str]]) -> None:
    """``?model=gpt-4o&model=o4-mini`` answered 200 with o4-mini's figures alone (the last one given): a page
    built for two models showed one, said nowhere. It is a 400 naming the parameter, as the README says of an
    unknown parameter."""
    answer = client.get("/api/traces" if params[0][0] == "top" else "/api/summary", params=params)
    assert answer.status_code == 400, answer.text
    assert f"{params[0][0]} given 2 times" in answer.json()["detail"]
    readme = " ".join(README.read_text("utf-8").split())
    assert "A bad date, an unknown grouping, an unknown parameter or one given twice is a 400" in readme


def test_the_readme_lists_every_endpoint_the_dashboard_serves() -> None:
    """The README's list of JSON endpoints lacked the running, sessions, queries and recommend views
    when they were added to the dashboard."""
    readme = " ".join(README.read_text("utf-8").split())
    missing = [name for name in VIEWS if f"`/api/{name}`" not in readme]
    assert missing == [], missing
    assert "`/api/traces/{trace_id}` (a page of the trace's span tree: `offset`, `limit`" in readme
