"""A call whose token count was unreadable is not priced at ingest from the counts that were left.

Pricing ``input_tokens = -5, output_tokens = 10`` as 10 output tokens gave a cost
below the call's, marked ``ingest`` like any other: an understated figure no
analysis could tell apart. Such a call keeps no cost, and the ingest's pricing
line says why (the unreadable value itself is a located problem of the ingest).
"""

from __future__ import annotations

from pathlib import Path

import orjson

from otel_llm import semconv
from otel_llm_analysis import TraceStore
from tests.support.synthetic import key_values

T0 = 1_767_225_600_000_000_000


def _call(span: str, attributes: dict) -> dict:
    return {"traceId": "a" * 32, "spanId": span, "name": "chat gpt-4o", "kind": 3,
            "startTimeUnixNano": str(T0), "endTimeUnixNano": str(T0 + 10**9), "status": {"code": 0},
            "attributes": key_values({semconv.GEN_AI_OPERATION_NAME: "chat", semconv.GEN_AI_PROVIDER_NAME: "openai",
                                      semconv.GEN_AI_REQUEST_MODEL: "gpt-4o", **attributes})}


def test_a_call_with_an_unreadable_token_count_is_left_unpriced_and_said(tmp_path: Path) -> None:
    spans = [_call("1" * 16, {semconv.GEN_AI_USAGE_INPUT_TOKENS: -5, semconv.GEN_AI_USAGE_OUTPUT_TOKENS: 10}),
             _call("2" * 16, {semconv.GEN_AI_USAGE_INPUT_TOKENS: 7, semconv.GEN_AI_USAGE_OUTPUT_TOKENS: 10,
                              semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: "lots"}),
             _call("3" * 16, {semconv.GEN_AI_USAGE_INPUT_TOKENS: 7, semconv.GEN_AI_USAGE_OUTPUT_TOKENS: 10})]
    path = tmp_path / "traces.jsonl"
    path.write_bytes(orjson.dumps({"resourceSpans": [{"resource": {}, "scopeSpans": [{"spans": spans}]}]}) + b"\n")
    with TraceStore(str(tmp_path / "s.duckdb")) as store:
        report = store.ingest(path)
        costs = dict(store.query("SELECT span_id, cost_source FROM llm_calls"))
        assert costs == {"1" * 16: None, "2" * 16: None, "3" * 16: "ingest"}
        assert report.pricing.priced == 1
        assert report.pricing.refused == {"a token count was unreadable": 2}
        assert report.pricing.unpriced == {}
        assert "2 call(s) not priced, their cost unknown rather than a part of it: a token count was unreadable (2)" \
            in report.pricing.summary()


def test_ingest_prices_by_the_sdks_rules_a_dropped_count_or_contradicting_counts_get_no_cost(tmp_path: Path) -> None:
    """The SDK leaves a call unpriced when it dropped a priced count (``otel_llm.usage.dropped``) or its counts
    contradict each other (more cached tokens than input): ingest priced the first from the output alone and
    the second as given; it now leaves both unpriced, as the SDK did, and says why."""
    spans = [_call("1" * 16, {semconv.GEN_AI_USAGE_OUTPUT_TOKENS: 1000,
                              semconv.OTEL_LLM_USAGE_DROPPED: ["input_tokens"]}),
             _call("2" * 16, {semconv.GEN_AI_USAGE_INPUT_TOKENS: 100, semconv.GEN_AI_USAGE_OUTPUT_TOKENS: 10,
                              semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: 500}),
             _call("3" * 16, {semconv.GEN_AI_USAGE_INPUT_TOKENS: 7, semconv.GEN_AI_USAGE_OUTPUT_TOKENS: 10,
                              semconv.OTEL_LLM_USAGE_DROPPED: ["billed_cost"]})]
    path = tmp_path / "traces.jsonl"
    path.write_bytes(orjson.dumps({"resourceSpans": [{"resource": {}, "scopeSpans": [{"spans": spans}]}]}) + b"\n")
    with TraceStore(str(tmp_path / "s.duckdb")) as store:
        report = store.ingest(path)
        assert dict(store.query("SELECT span_id, cost_source FROM llm_calls")) == {
            "1" * 16: None, "2" * 16: None, "3" * 16: "ingest"}  # a dropped bill alone: priced from its tokens
        assert report.pricing.refused == {"a token count was dropped as invalid": 1,
                                          "token counts contradict each other": 1}
        assert report.pricing.unpriced == {} and report.pricing.priced == 1
