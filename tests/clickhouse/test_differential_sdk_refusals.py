"""A call the SDK refused a price names the SDK's reason (``otel_llm.cost.refused``) on ClickHouse too.

DuckDB's summary moves an unpriced call whose span says why the SDK refused it a price from the reason
the rules guess ("no price": add it with --pricing FILE) to the SDK's own (``_unpriced.refusals``); the
budget and compare notes read the summary's reasons. The same files loaded into ClickHouse must give the
same reasons, or the advice on one engine is to add a price the model already has.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Callable, Iterator

import orjson
import pytest

from otel_llm import semconv
from otel_llm_analysis import Filters, budgets, comparisons, summaries
from otel_llm_analysis.clickhouse import load
from otel_llm_analysis.clickhouse.store import ClickHouseStore
from otel_llm_analysis.store import TraceStore
from tests.clickhouse.test_differential import both_stores, same_on_both
from tests.support.clickhouse_http import ChdbHttpServer
from tests.support.synthetic import key_values

T0 = 1_790_000_000_000_000_000  # 2026-09-21
ABSURD = "its cost is outside 0..1000 USD for one call"
NO_OUTPUT_RATE = "its price has no output rate"
CALLS = [  # (model, input, output, the SDK's refusal)
    ("house-model", 10, 5, NO_OUTPUT_RATE),  # a user price our tables lack: "no price" by the rules
    ("house-model", 20, 5, None),  # no price, no refusal
    ("gpt-4o", 10**12, 1, ABSURD),  # beyond one call's bound on every engine
    ("gpt-4o", 100, 10, None),  # priced
]


def _write(folder: Path, calls: list[tuple[str, int, int, str | None]], first: int = 1) -> Path:
    """``calls`` (as :data:`CALLS`) as one export request of otel-llm's spans under ``folder``, the span ids
    counted from ``first``."""
    folder.mkdir(parents=True, exist_ok=True)
    spans = [{"traceId": f"{i:032x}", "spanId": f"{i:016x}", "name": f"chat {model}", "kind": 3,
              "startTimeUnixNano": str(T0 + i * 10**9), "endTimeUnixNano": str(T0 + i * 10**9 + 10**8),
              "attributes": key_values({semconv.GEN_AI_REQUEST_MODEL: model, semconv.GEN_AI_PROVIDER_NAME: "openai",
                                        semconv.GEN_AI_OPERATION_NAME: "chat",
                                        semconv.OTEL_LLM_KIND: semconv.KIND_LLM_CALL,
                                        semconv.GEN_AI_USAGE_INPUT_TOKENS: tokens_in,
                                        semconv.GEN_AI_USAGE_OUTPUT_TOKENS: tokens_out,
                                        **({semconv.OTEL_LLM_COST_REFUSED: refused} if refused else {})})}
             for i, (model, tokens_in, tokens_out, refused) in enumerate(calls, first)]
    request = {"resourceSpans": [{"resource": {"attributes": key_values({"service.name": "s"})},
                                  "scopeSpans": [{"scope": {"name": semconv.INSTRUMENTATION_SCOPE},
                                                  "spans": spans}]}]}
    (folder / "calls.jsonl").write_bytes(orjson.dumps(request) + b"\n")
    return folder


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory, clickhouse_http: ChdbHttpServer
           ) -> Iterator[tuple[TraceStore, ClickHouseStore]]:
    root = _write(tmp_path_factory.mktemp("sdk_refusals"), CALLS)
    yield from both_stores(root, f"clickhouse://default@127.0.0.1:{clickhouse_http.port}/otel_sdk_refusals")


def test_duckdb_names_the_sdks_reasons(stores: tuple[TraceStore, ClickHouseStore]) -> None:
    (row,) = summaries.summary(stores[0], None)
    assert row.unpriced_reasons == {f"refused: {ABSURD}": 1, f"refused: {NO_OUTPUT_RATE}": 1, "no_price": 1}


ANALYSES: dict[str, Callable[[Any], Any]] = {
    "summary": lambda s: [row.unpriced_reasons for row in summaries.summary(s, None)],
    "summary by model": lambda s: [(row.key, row.unpriced_reasons) for row in summaries.summary(s, "model")],
    "summary in a window": lambda s: [row.unpriced_reasons for row in summaries.summary(
        s, None, Filters.of("2026-09-21 00:00", "2026-09-22 00:00"))],
    "budget": lambda s: [(b.budget, b.unpriced_calls, b.unpriced_reasons) for b in budgets.budget_status(
        s, budgets.parse_budgets({"budgets": [{"name": "all", "monthly": 5},
                                              {"name": "house", "monthly": 1, "model": "house-model"}]}),
        month="2026-09", as_of=date(2026, 9, 30))],
    "compare": lambda s: [(row.key, row.unpriced_reasons) for row in comparisons.compare(s, "model", turns=[])],
}


@pytest.mark.parametrize("name", list(ANALYSES))
def test_the_reasons_are_the_same_on_both_engines(stores: tuple[TraceStore, ClickHouseStore], name: str) -> None:
    same_on_both(stores, name, ANALYSES[name])


def _asked(store: ClickHouseStore) -> int:
    """How many statements ``store`` ran asking whether any LLM span says the SDK refused it a price
    (``_unpriced.may_hold_refused``)."""
    return sum(1 for statement in store.connection.statements
               if semconv.OTEL_LLM_COST_REFUSED in statement and "EXISTS" in statement.upper())


def test_whether_a_refusal_is_held_is_asked_once_per_version_of_the_spans(tmp_path: Path, clickhouse_url: str) -> None:
    """Every analysis that names reasons asks whether any span holds the SDK's refusal, a read of every span's
    kind and attribute names: asked once while the spans stay as they are, and again once more arrive (the
    answer then changes), so the reasons stay those of the data, as on DuckDB."""
    duck = TraceStore(":memory:")
    before, later = _write(tmp_path / "before", CALLS[1:2]), _write(tmp_path / "later", CALLS[2:3], first=2)
    duck.ingest([before])
    load([before], clickhouse_url)
    reasons = ANALYSES["summary"]
    with ClickHouseStore(clickhouse_url) as ch:
        assert reasons(ch) == reasons(duck) == [{"no_price": 1}]
        assert reasons(ch) == [{"no_price": 1}] and _asked(ch) == 1
        duck.ingest([later])
        load([later], clickhouse_url)
        assert reasons(ch) == reasons(duck) == [{f"refused: {ABSURD}": 1, "no_price": 1}]
        assert reasons(ch) == reasons(duck) and _asked(ch) == 2
    duck.close()
