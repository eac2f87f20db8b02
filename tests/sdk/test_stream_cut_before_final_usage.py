"""A stream that stops before its provider's final usage has no output count and no cost, not the count so far.

Anthropic's ``message_start`` carries ``output_tokens: 1`` (the count so far;
the call's count comes on ``message_delta``), and each Gemini chunk carries the
running counts (the totals on the last, with its finish reason). A consumer that
``break``s early, or a stream that fails part way, left the span with the count
so far as the call's output and a cost priced from it: a part taken for the
whole. The input count, final from the first event, is kept; the output count is
unknown, named in ``otel_llm.usage.dropped``, and said once.
"""

from __future__ import annotations

from typing import Any

import pytest

import otel_llm
from otel_llm import _stream_usage
from otel_llm import semconv as sc
from otel_llm.testing import Capture
from tests.sdk.test_stream_usage import anthropic_events
from tests.sdk.test_streams import ProviderStream

PRICING = {"claude-sonnet-4-5": {"input": 1.0, "output": 2.0, "cache_read": 0.5, "cache_write": 1.5},
           "gemini-2.5-flash": {"input": 1.0, "output": 2.0}}


def _gemini_chunk(candidates: int, finish: str | None = None) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": [{"text": "x"}]}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    return {"candidates": [candidate], "modelVersion": "gemini-2.5-flash", "responseId": "g-1",
            "usageMetadata": {"promptTokenCount": 1200, "candidatesTokenCount": candidates}}


GEMINI = [_gemini_chunk(1), _gemini_chunk(2), _gemini_chunk(40, "STOP")]


def _llm_attrs(cap: Capture) -> Any:
    (span,) = [s for s in cap.spans() if s.attributes.get(sc.OTEL_LLM_KIND) == sc.KIND_LLM_CALL]
    return span.attributes


@pytest.fixture(autouse=True)
def _fresh_notice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_stream_usage, "_so_far_said", False)


@pytest.mark.parametrize("events, model, provider, taken, inp", [
    (anthropic_events(), "claude-sonnet-4-5", "anthropic", 1, 135),
    (anthropic_events(), "claude-sonnet-4-5", "anthropic", 3, 135),
    (GEMINI, "gemini-2.5-flash", "gcp.gemini", 2, 1200),
], ids=["anthropic-after-start", "anthropic-mid-text", "gemini-mid-stream"])
def test_a_stream_left_before_its_final_usage_has_no_output_count_nor_cost(
        events: list[Any], model: str, provider: str, taken: int, inp: int,
        capsys: pytest.CaptureFixture[str]) -> None:
    @otel_llm.llm_call(model=model, provider=provider)
    def ask() -> ProviderStream:
        return ProviderStream(events)

    with Capture(project="p", pricing=PRICING) as cap:
        for _ in range(2):
            for n, _event in enumerate(ask(), 1):
                if n == taken:
                    break
        spans = [s.attributes for s in cap.spans() if s.attributes.get(sc.OTEL_LLM_KIND) == sc.KIND_LLM_CALL]
    assert len(spans) == 2
    for attrs in spans:
        assert attrs[sc.OTEL_LLM_STREAM_COMPLETE] is False
        assert attrs[sc.GEN_AI_USAGE_INPUT_TOKENS] == inp  # final from the first event
        assert sc.GEN_AI_USAGE_OUTPUT_TOKENS not in attrs
        assert "output_tokens" in attrs[sc.OTEL_LLM_USAGE_DROPPED]
        assert sc.GEN_AI_USAGE_COST not in attrs
    said = [line for line in capsys.readouterr().err.splitlines() if "before its final usage" in line]
    assert len(said) == 1


@pytest.mark.parametrize("events, model, provider, taken, out", [
    (anthropic_events(), "claude-sonnet-4-5", "anthropic", 4, 15),  # after message_delta, before message_stop
    (GEMINI, "gemini-2.5-flash", "gcp.gemini", 3, 40),
], ids=["anthropic", "gemini"])
def test_a_stream_left_after_its_final_usage_keeps_its_counts_and_cost(
        events: list[Any], model: str, provider: str, taken: int, out: int) -> None:
    @otel_llm.llm_call(model=model, provider=provider)
    def ask() -> ProviderStream:
        return ProviderStream(events)

    with Capture(project="p", pricing=PRICING) as cap:
        for n, _event in enumerate(ask(), 1):
            if n == taken:
                break
        attrs = _llm_attrs(cap)
    assert attrs[sc.GEN_AI_USAGE_OUTPUT_TOKENS] == out
    assert sc.OTEL_LLM_USAGE_DROPPED not in attrs
    assert attrs[sc.GEN_AI_USAGE_COST] > 0


def _langchain_chunks() -> list[Any]:
    """langchain-anthropic's stream: the input on the first chunk, the output (added) and stop reason on the last."""
    from langchain_core.messages import AIMessageChunk

    return [
        AIMessageChunk(content="", usage_metadata={"input_tokens": 135, "output_tokens": 1, "total_tokens": 136},
                       response_metadata={"model_name": "claude-sonnet-4-5"}),
        AIMessageChunk(content="Hel"),
        AIMessageChunk(content="", usage_metadata={"input_tokens": 0, "output_tokens": 14, "total_tokens": 14},
                       response_metadata={"stop_reason": "end_turn"}),
    ]


def test_a_langchain_stream_left_before_its_last_chunk_has_no_output_count_nor_cost() -> None:
    @otel_llm.llm_call(model="claude-sonnet-4-5", provider="anthropic")
    def ask() -> Any:
        yield from _langchain_chunks()

    with Capture(project="p", pricing=PRICING) as cap:
        for n, _chunk in enumerate(ask(), 1):
            if n == 2:
                break
        attrs = _llm_attrs(cap)
    assert attrs[sc.GEN_AI_USAGE_INPUT_TOKENS] == 135
    assert sc.GEN_AI_USAGE_OUTPUT_TOKENS not in attrs and "output_tokens" in attrs[sc.OTEL_LLM_USAGE_DROPPED]
    assert sc.GEN_AI_USAGE_COST not in attrs


def test_a_langchain_stream_read_to_its_end_keeps_its_counts_without_a_finish_reason() -> None:
    """Integrations that put no finish reason in ``response_metadata``: a stream read to its end is whole."""
    chunks = _langchain_chunks()
    chunks[-1].response_metadata = {}

    @otel_llm.llm_call(model="claude-sonnet-4-5", provider="anthropic")
    def ask() -> Any:
        yield from chunks

    with Capture(project="p", pricing=PRICING) as cap:
        assert len(list(ask())) == 3
        attrs = _llm_attrs(cap)
    assert (attrs[sc.GEN_AI_USAGE_INPUT_TOKENS], attrs[sc.GEN_AI_USAGE_OUTPUT_TOKENS]) == (135, 15)
    assert attrs[sc.GEN_AI_USAGE_COST] == pytest.approx((135 + 15 * 2.0) / 1e6)
