"""A resource whose ``service.name`` is the empty string is the service ``''`` on both engines.

DuckDB keeps the resource's ``service.name`` as sent, ``''`` included (``_rows``:
a span's is the resource's, else the span's; a log record's and a metric point's
the resource's). The collector's exporter writes ``ServiceName``
as ``''`` both when the resource has none and when it is empty; the resource
attributes it also stores tell the two apart. A service named ``''`` must not
become "no service" (NULL) on ClickHouse only, nor take a span's service name.
"""

from __future__ import annotations

from typing import Any, Iterator

import orjson
import pytest

from otel_llm_analysis import summaries
from otel_llm_analysis.clickhouse.store import ClickHouseStore
from otel_llm_analysis.store import TraceStore
from tests.clickhouse.test_differential import both_stores, same
from tests.support.clickhouse_http import ChdbHttpServer
from tests.support.synthetic import key_values

T0 = 1_790_000_000_000_000_000
CALL = {"otel_llm.kind": "llm_call", "gen_ai.request.model": "m", "gen_ai.usage.input_tokens": 3}


def _request(n: int, resource: dict[str, Any], span_attributes: dict[str, Any]) -> bytes:
    span = {"traceId": f"{n + 1:032x}", "spanId": f"{n + 1:016x}", "name": "chat", "kind": 3,
            "startTimeUnixNano": str(T0 + n * 10**9), "endTimeUnixNano": str(T0 + n * 10**9 + 10**8),
            "attributes": key_values({**CALL, **span_attributes})}
    return orjson.dumps({"resourceSpans": [{"resource": {"attributes": key_values(resource)},
                                            "scopeSpans": [{"scope": {"name": "p"}, "spans": [span]}]}]}) + b"\n"


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory, clickhouse_http: ChdbHttpServer
           ) -> Iterator[tuple[TraceStore, ClickHouseStore]]:
    root = tmp_path_factory.mktemp("differential_empty_service")
    (root / "traces.jsonl").write_bytes(b"".join([
        _request(0, {"service.name": ""}, {}),  # an empty service name
        _request(1, {"service.name": ""}, {"service.name": "from-span"}),  # the resource's, empty, wins
        _request(2, {}, {"service.name": "from-span"}),  # no resource name: the span's
        _request(3, {}, {}),  # none at all
        _request(4, {"service.name": "api"}, {}),
    ]))
    (root / "logs.jsonl").write_bytes(orjson.dumps({"resourceLogs": [{
        "resource": {"attributes": key_values({"service.name": ""})}, "scopeLogs": [{"scope": {"name": "app"},
        "logRecords": [{"timeUnixNano": str(T0), "severityNumber": 17, "body": {"stringValue": "x"}}]}]}]}) + b"\n")
    (root / "metrics.jsonl").write_bytes(orjson.dumps({"resourceMetrics": [{
        "resource": {"attributes": key_values({"service.name": ""})}, "scopeMetrics": [{"scope": {"name": "otel_llm"},
        "metrics": [{"name": "m", "gauge": {"dataPoints": [{"timeUnixNano": str(T0), "asDouble": 1.0}]}}]}]}]}) + b"\n")
    yield from both_stores(root, f"clickhouse://default@127.0.0.1:{clickhouse_http.port}/otel_empty_service")


def test_an_empty_service_name_is_kept_on_both_engines(stores: tuple[TraceStore, ClickHouseStore]) -> None:
    duck, ch = (sorted(store.query("SELECT span_id, service_name FROM spans")) for store in stores)
    assert [name for _, name in duck] == ["", "", "from-span", None, "api"]
    same(duck, ch)


def test_summary_by_service_is_the_same(stores: tuple[TraceStore, ClickHouseStore]) -> None:
    duck, ch = (summaries.summary(store, "service") for store in stores)
    same(duck, ch)


@pytest.mark.parametrize("table", ["logs", "metric_points"])
def test_a_log_record_and_a_metric_point_of_an_empty_service_name_are_of_service_empty(
        stores: tuple[TraceStore, ClickHouseStore], table: str) -> None:
    duck, ch = (store.query(f"SELECT service_name FROM {table}") for store in stores)
    assert duck == [("",)]
    same(duck, ch)
