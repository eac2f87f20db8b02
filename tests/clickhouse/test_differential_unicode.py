"""Text beyond ASCII reads the same on DuckDB and on ClickHouse.

DuckDB's ``lower``/``upper`` map every letter (``É`` -> ``é``, ``Т`` -> ``т``);
ClickHouse's map ASCII letters only (``lowerUTF8``/``upperUTF8`` map the rest). A log
search is case-insensitive (``logs._where``: ``contains(lower(body), lower($text))``) and a
provider's name is lower-cased at ingest (``_producers.provider_sql``): were ClickHouse to
keep ``É``, a search for ``échec`` would miss ``Échec`` there, and ``MÍSTRAL`` would be
another provider than on DuckDB.
"""

from __future__ import annotations

from typing import Any, Iterator

import orjson
import pytest

from otel_llm_analysis import logs, summaries
from otel_llm_analysis.clickhouse.store import ClickHouseStore
from otel_llm_analysis.store import TraceStore
from tests.clickhouse.test_differential import both_stores, same
from tests.support.clickhouse_http import ChdbHttpServer
from tests.support.synthetic import key_values

T0 = 1_790_000_000_000_000_000
BODIES = ["Échec de connexion", "échec répété", "ОШИБКА: таймаут", "Straße gesperrt", "plain ascii FAIL", "ǅungla"]
PROVIDERS = ["MÍSTRAL", "místral", "Ünïcorn AI", " OpenAI "]


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory, clickhouse_http: ChdbHttpServer
           ) -> Iterator[tuple[TraceStore, ClickHouseStore]]:
    root = tmp_path_factory.mktemp("differential_unicode")
    records = [{"timeUnixNano": str(T0 + i * 10**9), "severityNumber": 17, "severityText": "ERROR",
                "body": {"stringValue": body}, "attributes": []} for i, body in enumerate(BODIES)]
    (root / "logs.jsonl").write_bytes(orjson.dumps({"resourceLogs": [{
        "resource": {"attributes": key_values({"service.name": "s"})},
        "scopeLogs": [{"scope": {"name": "app"}, "logRecords": records}]}]}) + b"\n")
    spans: list[dict[str, Any]] = [
        {"traceId": f"{i + 1:032x}", "spanId": f"{i + 1:016x}", "name": "chat", "kind": 3,
         "startTimeUnixNano": str(T0 + i * 10**9), "endTimeUnixNano": str(T0 + i * 10**9 + 10**8),
         "attributes": key_values({"otel_llm.kind": "llm_call", "gen_ai.system": provider,
                                   "gen_ai.request.model": "m", "gen_ai.usage.input_tokens": 1,
                                   "gen_ai.usage.output_tokens": 1})}
        for i, provider in enumerate(PROVIDERS)]
    (root / "traces.jsonl").write_bytes(orjson.dumps({"resourceSpans": [{
        "resource": {"attributes": key_values({"service.name": "s"})},
        "scopeSpans": [{"scope": {"name": "p"}, "spans": spans}]}]}) + b"\n")
    yield from both_stores(root, f"clickhouse://default@127.0.0.1:{clickhouse_http.port}/otel_unicode")


@pytest.mark.parametrize("text", ["échec", "ÉCHEC", "таймаут", "ТАЙМАУТ", "straße", "fail", "ǆ"])
def test_a_log_search_finds_the_same_records_on_both_engines(stores: tuple[TraceStore, ClickHouseStore],
                                                             text: str) -> None:
    duck, ch = ([row.body for row in logs.search_logs(store, text, None, None, None, 100)] for store in stores)
    assert duck, f"DuckDB finds {text!r}"
    same(duck, ch)


def test_providers_are_named_the_same_on_both_engines(stores: tuple[TraceStore, ClickHouseStore]) -> None:
    duck, ch = ({row.key: row.llm_calls for row in summaries.summary(store, "provider")} for store in stores)
    assert duck == {"místral": 2, "ünïcorn ai": 1, "openai": 1}
    same(duck, ch)
