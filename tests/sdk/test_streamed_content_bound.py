"""Captured streamed text is bounded while it arrives, not only when the stream ends.

With content capture on, an llm_call keeps its stream's completion text, a chat
turn its reply and a tool its streamed result, to record them when the stream
ends — truncated to ``max_content_chars``. A long stream once kept every piece
until then (memory growing with the stream); now the pieces are kept only up to
the bound (plus a margin the redact hook sees a secret across the cut in), the
length counted, and what is recorded is what it was.
"""

from __future__ import annotations

import tracemalloc
from typing import Any, Callable

import pytest

import otel_llm
from otel_llm import semconv as sc
from otel_llm.testing import capture

PIECE = 2_000  # chars per streamed piece
PIECES = 5_000  # 10 million chars in all
LIMIT = 100


def _openai_chunk(text: str) -> dict[str, Any]:
    return {"choices": [{"index": 0, "delta": {"content": text}}]}


def _drain_measuring(stream: Any) -> int:
    """Read all of ``stream``; the bytes otel-llm still holds after reading the last but one piece."""
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        held = 0
        for i, _ in enumerate(stream):
            if i == PIECES - 2:
                held = tracemalloc.get_traced_memory()[0] - start
        return held
    finally:
        tracemalloc.stop()


def _pieces(wrap: Callable[[str], Any]) -> Any:
    for i in range(PIECES):
        yield wrap(chr(ord("a") + i % 26) * PIECE)  # a new string each time: kept only if otel-llm keeps it


CASES = {
    "llm_call": (lambda: otel_llm.llm_call(model="m"), _openai_chunk, "chat m", sc.EVENT_LLM_RESPONSE, sc.EVENT_ATTR_CONTENT),
    "chat": (lambda: otel_llm.chat, str, "chat_turn reply", sc.EVENT_CHAT_MESSAGE, sc.EVENT_ATTR_CONTENT),
    "tool": (lambda: otel_llm.tool("reply"), str, "execute_tool reply", None, sc.GEN_AI_TOOL_CALL_RESULT),
}


@pytest.mark.parametrize("make, wrap, span_name, event, key", list(CASES.values()), ids=list(CASES))
def test_a_long_captured_stream_is_kept_bounded_and_recorded_truncated(make, wrap, span_name, event, key) -> None:
    with capture(capture_content=True, max_content_chars=LIMIT) as cap:

        def reply() -> Any:
            yield from _pieces(wrap)

        held = _drain_measuring(make()(reply)())
    assert held < 200_000  # was: every piece, over 10 MB
    span = cap.span(span_name)
    if event is None:
        text = span.attributes[key]
    else:
        (found,) = [e for e in span.events if e.name == event and key in e.attributes]
        text = found.attributes[key]
    assert text == "a" * LIMIT + f"…[truncated from {PIECE * PIECES} chars]"


def test_a_chat_reply_without_capture_keeps_only_its_length() -> None:
    with capture() as cap:

        @otel_llm.chat
        def reply() -> Any:
            yield from _pieces(str)

        held = _drain_measuring(reply())
    assert held < 200_000
    (message,) = [e for e in cap.span("chat_turn reply").events if e.attributes.get(sc.EVENT_ATTR_ROLE) == "assistant"]
    assert message.attributes[sc.EVENT_ATTR_LENGTH] == PIECE * PIECES
    assert sc.EVENT_ATTR_CONTENT not in message.attributes


def test_a_secret_across_the_bound_is_still_redacted() -> None:
    """The redact hook sees a margin past the bound: a secret the cut would split is still whole to it."""
    with capture(capture_content=True, max_content_chars=LIMIT, redact=lambda t: t.replace("sk-SECRETKEY", "***")) as cap:

        @otel_llm.llm_call(model="m")
        def ask() -> Any:
            yield _openai_chunk("x" * (LIMIT - 4))
            yield _openai_chunk("sk-SECRETKEY and more")

        list(ask())
    (event,) = [e for e in cap.span("chat m").events if e.name == sc.EVENT_LLM_RESPONSE]
    assert "sk-S" not in event.attributes[sc.EVENT_ATTR_CONTENT]


def test_a_short_captured_stream_is_recorded_whole() -> None:
    with capture(capture_content=True) as cap:

        @otel_llm.llm_call(model="m")
        def ask() -> Any:
            yield _openai_chunk("hello ")
            yield _openai_chunk("world")

        list(ask())
    (event,) = [e for e in cap.span("chat m").events if e.name == sc.EVENT_LLM_RESPONSE]
    assert event.attributes[sc.EVENT_ATTR_CONTENT] == "hello world"
