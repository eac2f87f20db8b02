"""A response whose usage is only a total token count (no input/output split).

Some gateways and OpenAI-compatible servers answer ``usage: {total_tokens: N}``
alone. Such a call did use tokens: its span carries the total as
``gen_ai.usage.total_tokens`` (the spelling the analysis reads a total-only call
by, ``otel_llm_analysis._spellings.TOTAL_TOKENS``), it is neither split nor
priced, and the roll-ups count it among the calls their cost leaves out — as
the analysis counts it (``total_only_calls`` among the unpriced ones).
"""

from __future__ import annotations

from types import SimpleNamespace as NS
from typing import Any

import pytest

import otel_llm
from otel_llm import semconv as sc
from otel_llm._usage import extract_usage
from otel_llm_analysis._spellings import TOTAL_TOKENS


@pytest.mark.parametrize(
    "response",
    [
        {"model": "m", "usage": {"total_tokens": 42}},  # an OpenAI-compatible server's chat completion
        NS(model="m", id="r1", usage=NS(total_tokens=42)),  # the same as objects
        {"usage_metadata": {"total_tokens": 42}},  # a LangChain message's usage_metadata
        {"usageMetadata": {"totalTokenCount": 42}},  # Gemini's REST JSON
        {"usage_metadata": NS(total_token_count=42)},  # google-genai's usage object
        {"usage": {"totalTokens": 42}},  # Bedrock Converse
        {"total_tokens": 42},  # a bare usage dict
    ],
    ids=["openai-dict", "openai-objects", "langchain", "gemini-rest", "gemini", "bedrock", "bare"],
)
def test_a_total_alone_is_read_as_the_total(response: Any) -> None:
    usage = extract_usage(response)
    assert usage is not None
    assert (usage.input_tokens, usage.output_tokens, usage.total_tokens) == (None, None, 42)


def test_a_total_beside_the_split_is_not_kept_twice() -> None:
    usage = extract_usage({"usage": {"prompt_tokens": 30, "completion_tokens": 12, "total_tokens": 42}})
    assert (usage.input_tokens, usage.output_tokens, usage.total_tokens) == (30, 12, None)


def test_a_total_that_is_no_count_is_dropped_and_named() -> None:
    usage = extract_usage({"model": "m", "usage": {"total_tokens": -3}})
    assert usage.total_tokens is None
    assert usage.dropped == ("total_tokens",)


def test_a_total_only_call_carries_its_total_unpriced_and_the_agent_says_it_left_it_out(cap) -> None:
    @otel_llm.llm_call(model="test-model", provider="openai")
    def ask() -> dict[str, Any]:
        return {"model": "test-model", "usage": {"total_tokens": 42}}

    @otel_llm.agent("asker")
    def asker() -> None:
        ask()

    asker()
    span = cap.span("chat test-model").attributes
    assert sc.GEN_AI_USAGE_TOTAL_TOKENS in TOTAL_TOKENS  # the analysis reads the total by this name
    assert span[sc.GEN_AI_USAGE_TOTAL_TOKENS] == 42
    assert sc.GEN_AI_USAGE_INPUT_TOKENS not in span and sc.GEN_AI_USAGE_OUTPUT_TOKENS not in span
    assert sc.GEN_AI_USAGE_COST not in span  # a total cannot be priced: no made-up cost
    agent = cap.span("invoke_agent asker").attributes
    assert agent[sc.OTEL_LLM_AGENT_UNPRICED_CALLS] == 1
    assert agent[sc.OTEL_LLM_AGENT_INPUT_TOKENS] == 0 and agent[sc.OTEL_LLM_AGENT_OUTPUT_TOKENS] == 0


def test_a_split_call_carries_no_total(cap, response) -> None:
    @otel_llm.llm_call(model="test-model", provider="openai")
    def ask() -> dict[str, Any]:
        return response(30, 12)

    ask()
    assert sc.GEN_AI_USAGE_TOTAL_TOKENS not in cap.span("chat test-model").attributes


def test_the_analysis_sums_the_sdks_total_apart_as_an_unpriced_call(cap, tmp_path) -> None:
    """SDK and analysis agree: the total the span carries is the analysis's total-only call."""
    from otel_llm.exporters.file import FileSpanExporter
    from otel_llm_analysis import TraceStore, summary

    @otel_llm.llm_call(model="test-model", provider="openai")
    def ask() -> dict[str, Any]:
        return {"model": "test-model", "usage": {"total_tokens": 42}}

    ask()
    path = tmp_path / "spans.jsonl"
    exporter = FileSpanExporter(path)
    exporter.export(cap.spans())
    exporter.shutdown()
    with TraceStore(str(tmp_path / "store.duckdb")) as store:
        store.ingest(path)
        (row,) = summary(store)
    assert (row.llm_calls, row.total_only_calls, row.total_only_tokens, row.unpriced_calls) == (1, 1, 42, 1)
    assert (row.input_tokens, row.output_tokens) == (0, 0)


def _token_points(cap) -> dict[str | None, list[Any]]:
    """The token-usage histogram's points by their ``gen_ai.token.type``."""
    by_type: dict[str | None, list[Any]] = {}
    for point in cap.metrics().get(sc.METRIC_TOKEN_USAGE, []):
        by_type.setdefault(point.attributes.get(sc.GEN_AI_TOKEN_TYPE), []).append(point)
    return by_type


def test_a_total_only_call_records_its_total_in_the_token_metric_as_the_span_has_it(cap) -> None:
    @otel_llm.llm_call(model="test-model", provider="openai")
    def ask() -> dict[str, Any]:
        return {"model": "test-model", "usage": {"total_tokens": 42}}

    ask()
    span = cap.span("chat test-model").attributes
    by_type = _token_points(cap)
    assert set(by_type) == {sc.TOKEN_TYPE_TOTAL}  # no made-up input/output split
    (point,) = by_type[sc.TOKEN_TYPE_TOTAL]
    assert (point.count, point.sum) == (1, span[sc.GEN_AI_USAGE_TOTAL_TOKENS])
    assert dict(point.attributes) == {
        sc.GEN_AI_OPERATION_NAME: "chat", sc.GEN_AI_PROVIDER_NAME: "openai", sc.GEN_AI_REQUEST_MODEL: "test-model",
        sc.GEN_AI_TOKEN_TYPE: sc.TOKEN_TYPE_TOTAL,
    }


def test_a_streamed_total_only_call_records_its_total_too(cap) -> None:
    @otel_llm.llm_call(model="test-model", provider="openai")
    def ask() -> Any:
        yield {"choices": [{"index": 0, "delta": {"content": "hi"}}]}
        yield {"choices": [], "usage": {"total_tokens": 7}}

    assert len(list(ask())) == 2
    (point,) = _token_points(cap)[sc.TOKEN_TYPE_TOTAL]
    assert point.sum == cap.span("chat test-model").attributes[sc.GEN_AI_USAGE_TOTAL_TOKENS] == 7


def test_a_split_call_records_no_total_point(cap, response) -> None:
    @otel_llm.llm_call(model="test-model", provider="openai")
    def ask() -> dict[str, Any]:
        return response(30, 12)

    ask()
    by_type = _token_points(cap)
    assert set(by_type) == {"input", "output"}
    assert (by_type["input"][0].sum, by_type["output"][0].sum) == (30, 12)
