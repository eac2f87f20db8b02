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
        assert (report.pricing.priced, report.pricing.unreadable) == (1, 2)
        assert report.pricing.unpriced == {}
        assert "2 call(s) not priced: a token count unreadable" in report.pricing.summary()
