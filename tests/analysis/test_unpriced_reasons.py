"""Each unpriced call is counted under its real reason, wherever the count is shown.

The ingest refuses to price a call whose usage is unusable (a count unreadable,
dropped as invalid by the SDK, or contradicting another) and cannot price one
whose usage is only a total; these calls have tokens and no cost, as a call of a
model without a price has. The analyses counted them all as "unpriced" and the
ingest's pricing line put a total-only call under its model as "no price (add
them with --pricing FILE)": advice that prices none of them.
"""

from __future__ import annotations

from pathlib import Path

import orjson
from typer.testing import CliRunner

from otel_llm import semconv
from otel_llm_analysis import TraceStore
from otel_llm_analysis.budgets import Budget, budget_status
from otel_llm_analysis.summaries import summary, totals
from tests.support.synthetic import key_values

T0 = 1_767_225_600_000_000_000  # 2026-01-01
MONTH = "2026-01"


def _call(span: str, model: str, attributes: dict) -> dict:
    return {"traceId": "a" * 32, "spanId": span, "name": f"chat {model}", "kind": 3,
            "startTimeUnixNano": str(T0), "endTimeUnixNano": str(T0 + 10**9), "status": {"code": 0},
            "attributes": key_values({semconv.GEN_AI_OPERATION_NAME: "chat", semconv.GEN_AI_PROVIDER_NAME: "openai",
                                      semconv.GEN_AI_REQUEST_MODEL: model, **attributes})}


SPANS = [
    _call("1" * 16, "gpt-4o", {semconv.GEN_AI_USAGE_OUTPUT_TOKENS: 1000, semconv.OTEL_LLM_USAGE_DROPPED: ["input_tokens"]}),
    _call("2" * 16, "gpt-4o", {semconv.GEN_AI_USAGE_INPUT_TOKENS: 100, semconv.GEN_AI_USAGE_OUTPUT_TOKENS: 10,
                               semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: 500}),
    _call("3" * 16, "gpt-4o", {semconv.GEN_AI_USAGE_INPUT_TOKENS: -5, semconv.GEN_AI_USAGE_OUTPUT_TOKENS: 10}),
    _call("4" * 16, "gpt-4o", {"llm.usage.total_tokens": 42}),
    _call("5" * 16, "no-such-model-x", {semconv.GEN_AI_USAGE_INPUT_TOKENS: 7, semconv.GEN_AI_USAGE_OUTPUT_TOKENS: 3}),
    _call("6" * 16, "no-such-model-x", {semconv.GEN_AI_USAGE_INPUT_TOKENS: 7, semconv.GEN_AI_USAGE_OUTPUT_TOKENS: 3}),
    _call("7" * 16, "gpt-4o", {semconv.GEN_AI_USAGE_INPUT_TOKENS: 7, semconv.GEN_AI_USAGE_OUTPUT_TOKENS: 3}),
    _call("8" * 16, "gpt-4o", {semconv.GEN_AI_USAGE_OUTPUT_TOKENS: 30}),  # output beside no input count: a part
]
REASONS = {"no_price": 2, "total_only": 1, "unreadable": 1, "dropped": 1, "contradicting": 1, "no_input": 1}


def _ingest(tmp_path: Path) -> tuple[str, object]:
    path = tmp_path / "traces.jsonl"
    path.write_bytes(orjson.dumps({"resourceSpans": [{"resource": {}, "scopeSpans": [{"spans": SPANS}]}]}) + b"\n")
    db = str(tmp_path / "s.duckdb")
    with TraceStore(db) as store:
        report = store.ingest(path)
    return db, report


def test_the_summary_and_the_budget_count_each_unpriced_call_under_its_reason(tmp_path: Path) -> None:
    db, report = _ingest(tmp_path)
    assert report.pricing.unpriced == {"no-such-model-x": 2}  # the total-only gpt-4o call is no missing price
    assert report.pricing.refused == {"usage only a total": 1, "a token count was unreadable": 1,
                                      "a token count was dropped as invalid": 1,
                                      "token counts contradict each other": 1, "no input token count": 1}
    with TraceStore(db, read_only=True) as store:
        total = totals(store)
        assert total.unpriced_calls == 7 and total.unpriced_reasons == REASONS
        by_model = {row.key: row.unpriced_reasons for row in summary(store, "model")}
        assert by_model == {"gpt-4o": {"total_only": 1, "unreadable": 1, "dropped": 1, "contradicting": 1, "no_input": 1},
                            "no-such-model-x": {"no_price": 2}}
        (status,) = budget_status(store, [Budget(10.0)], MONTH, None)
        assert status.unpriced_calls == 7 and status.unpriced_reasons == REASONS


def test_the_cli_notes_name_each_reason_and_its_count(tmp_path: Path) -> None:
    from test_cli import _app

    db, _ = _ingest(tmp_path)
    for command in (["summary"], ["summary", "--by", "model"], ["budget", "--monthly", "10", "--month", MONTH]):
        shown = CliRunner().invoke(_app(), [*command, "--db", db], env={"COLUMNS": "400"})
        text = " ".join(shown.output.split())
        assert shown.exit_code in (0, 3), shown.output
        if command == ["summary", "--by", "model"]:
            assert "no-such-model-x: 2 of 2 calls have no cost: 2 whose model has no price" in text
            assert "gpt-4o: 5 of 6 calls have no cost: 1 whose usage is only a total" in text
        else:
            assert "7 of 8 calls have no cost: 2 whose model has no price" in text, text
        assert "1 with a token count dropped as invalid by the SDK" in text
        assert "1 with a token count unreadable at ingest" in text
        assert "1 whose token counts contradict each other" in text
        assert "1 with output tokens and no input count" in text


def test_a_call_with_only_cache_tokens_is_unpriced_not_a_call_without_usage(tmp_path: Path) -> None:
    """A call whose usage is only a cache count (no input or output count) has tokens, which the cached-token
    sum shows, and no cost (its cache counts exceed an input of none: the SDK's rules price nothing). It was
    counted among the calls with no usage recorded ("failed before an answer, ..."), beside its 500 tokens."""
    spans = [_call("1" * 16, "gpt-4o", {semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: 500}),
             _call("2" * 16, "gpt-4o", {semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: 0}),
             _call("3" * 16, "gpt-4o", {})]
    path = tmp_path / "traces.jsonl"
    path.write_bytes(orjson.dumps({"resourceSpans": [{"resource": {}, "scopeSpans": [{"spans": spans}]}]}) + b"\n")
    with TraceStore(str(tmp_path / "s.duckdb")) as store:
        store.ingest(path)
        total = totals(store)
        assert total.cache_read_tokens == 500
        assert (total.unpriced_calls, total.unpriced_reasons) == (1, {"contradicting": 1})
        assert (total.no_usage_calls, total.token_calls, total.priced_calls) == (2, 0, 0)  # no input or output count
