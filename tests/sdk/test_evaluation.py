"""record_evaluation, and content capture at the event level (off: no text anywhere)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any
from unittest.mock import MagicMock

import numpy as np
import pytest

import otel_llm
from otel_llm import semconv as sc


def _app(response: Any) -> Any:
    """A turn with a prompt, a completion and an evaluation carrying an explanation."""

    @otel_llm.llm_call(model="test-model", provider="openai")
    def ask(prompt: str) -> dict:
        return response()

    @otel_llm.chat
    def answer(question: str) -> str:
        ask(f"context + {question}")
        otel_llm.record_evaluation(
            "groundedness", score=0.25, label="fail", explanation="the secret answer is unsupported"
        )
        return "my secret answer"

    return answer


def _evaluations(span) -> list[dict[str, Any]]:
    return [dict(e.attributes) for e in span.events if e.name == sc.EVENT_EVALUATION_RESULT]


def _all_attribute_maps(spans) -> list[dict[str, Any]]:
    maps = []
    for span in spans:
        maps.append(dict(span.attributes))
        maps.extend(dict(e.attributes) for e in span.events)
    return maps


def test_record_evaluation_event_on_current_span(cap):
    @otel_llm.graph_node("grade")
    def grade() -> None:
        otel_llm.record_evaluation("relevance", score=1, label="pass")
        otel_llm.record_evaluation("tone", label="warning")

    grade()
    assert _evaluations(cap.span("grade")) == [
        {sc.GEN_AI_EVALUATION_NAME: "relevance", sc.GEN_AI_EVALUATION_SCORE_VALUE: 1.0, sc.GEN_AI_EVALUATION_SCORE_LABEL: "pass"},
        {sc.GEN_AI_EVALUATION_NAME: "tone", sc.GEN_AI_EVALUATION_SCORE_LABEL: "warning"},
    ]


def test_record_evaluation_outside_any_span_is_a_noop(cap):
    assert otel_llm.record_evaluation("orphan", score=0.5) is None
    assert cap.spans() == []


def test_content_off_no_text_anywhere(cap, response):
    answer = _app(response)
    assert answer("what is the secret?") == "my secret answer"
    spans = cap.spans()
    assert len(spans) == 2
    for attrs in _all_attribute_maps(spans):
        assert not set(attrs) & set(sc.CONTENT_ATTRIBUTES)
        assert not any(isinstance(v, str) and "secret" in v for v in attrs.values())
    evaluation = _evaluations(cap.span("chat_turn answer"))[0]
    assert evaluation == {
        sc.GEN_AI_EVALUATION_NAME: "groundedness",
        sc.GEN_AI_EVALUATION_SCORE_VALUE: 0.25,
        sc.GEN_AI_EVALUATION_SCORE_LABEL: "fail",
    }
    # lengths are still recorded: they carry no text
    lengths = [e.attributes[sc.EVENT_ATTR_LENGTH] for e in cap.span("chat_turn answer").events if e.name == sc.EVENT_CHAT_MESSAGE]
    assert lengths == [len("what is the secret?"), len("my secret answer")]


def test_content_on_text_captured_and_redacted(cap_content, response):
    answer = _app(response)
    answer("what is the secret?")
    turn = cap_content.span("chat_turn answer")
    messages = [dict(e.attributes) for e in turn.events if e.name == sc.EVENT_CHAT_MESSAGE]
    assert [m[sc.EVENT_ATTR_CONTENT] for m in messages] == ["what is the [REDACTED]?", "my [REDACTED] answer"]
    assert _evaluations(turn)[0][sc.GEN_AI_EVALUATION_EXPLANATION] == "the [REDACTED] answer is unsupported"
    llm = cap_content.span("chat test-model")
    request = next(e for e in llm.events if e.name == sc.EVENT_LLM_REQUEST)
    assert request.attributes[sc.EVENT_ATTR_CONTENT] == "context + what is the [REDACTED]?"
    reply = next(e for e in llm.events if e.name == sc.EVENT_LLM_RESPONSE)
    assert reply.attributes[sc.EVENT_ATTR_CONTENT] == "hi there"  # choices[0].message.content
    assert reply.attributes[sc.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    for attrs in _all_attribute_maps(cap_content.spans()):
        assert not any(isinstance(v, str) and "secret" in v for v in attrs.values())


@pytest.mark.parametrize("chars", [100])
def test_content_on_is_truncated_with_a_marker(response, chars):
    from otel_llm.testing import capture

    @otel_llm.chat
    def answer(question: str) -> str:
        return "ok"

    with capture(capture_content=True, max_content_chars=chars) as cap:
        answer("y" * 5000)
    (user, _) = [e for e in cap.span("chat_turn answer").events if e.name == sc.EVENT_CHAT_MESSAGE]
    text = user.attributes[sc.EVENT_ATTR_CONTENT]
    assert text.startswith("y" * 10) and "5000" in text
    assert len(text) < 200
    assert user.attributes[sc.EVENT_ATTR_LENGTH] == 5000


@pytest.mark.parametrize(
    ("score", "recorded"),
    [(np.float32(0.75), 0.75), (np.int64(3), 3.0), (Decimal("0.5"), 0.5), (Fraction(1, 4), 0.25)],
    ids=["numpy-float32", "numpy-int64", "decimal", "fraction"],
)
def test_a_score_of_any_real_number_type_is_recorded(cap, score: Any, recorded: float) -> None:
    """A cosine similarity of float32 embeddings is a ``numpy.float32``, no ``float``: it was dropped as
    "not a number" (while ``record_usage`` reads the same types)."""

    @otel_llm.graph_node("grade")
    def grade() -> None:
        otel_llm.record_evaluation("relevance", score=score)

    grade()
    assert _evaluations(cap.span("grade")) == [
        {sc.GEN_AI_EVALUATION_NAME: "relevance", sc.GEN_AI_EVALUATION_SCORE_VALUE: recorded}]


def test_a_score_too_big_for_a_float_is_dropped_and_the_evaluation_kept(cap) -> None:
    """``10**400`` made the float conversion raise: the whole evaluation was lost, as an otel-llm fault."""

    @otel_llm.graph_node("grade")
    def grade() -> None:
        otel_llm.record_evaluation("relevance", score=10**400, label="good")

    grade()
    assert _evaluations(cap.span("grade")) == [
        {sc.GEN_AI_EVALUATION_NAME: "relevance", sc.GEN_AI_EVALUATION_SCORE_LABEL: "good"}]


def test_a_mock_score_is_no_number(cap) -> None:
    """A ``MagicMock`` converts to ``1.0`` (its ``__float__``): not a score the app gave."""

    @otel_llm.graph_node("grade")
    def grade() -> None:
        otel_llm.record_evaluation("relevance", score=MagicMock())

    grade()
    assert _evaluations(cap.span("grade")) == [{sc.GEN_AI_EVALUATION_NAME: "relevance"}]
