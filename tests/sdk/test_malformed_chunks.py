"""Stream chunks of a known shape whose fields hold the wrong types carry no usage: quietly.

A stream is recognised on its first chunk (``_stream_usage.reader_for``); a later
chunk (or the first) may still be malformed — ``{"choices": 1}``, an unhashable
choice index, a ``usage_metadata`` that is no mapping, an event ``type`` that is a
list. Such a chunk is "no usage in this chunk": the app's stream passes through
unchanged, the span ends complete, and otel-llm logs no internal error (in our
suite, where internal errors raise, the iteration would fail).
"""

from __future__ import annotations

import logging
from types import SimpleNamespace as NS
from typing import Any

import pytest

import otel_llm
from otel_llm import semconv as sc
from otel_llm._guard import swallowing

class _Raising(NS):
    """A chunk whose named properties raise what an app's lazy field may raise (not AttributeError)."""

    def __init__(self, raising: tuple[str, ...], **fields: Any) -> None:
        super().__init__(**fields)
        self.__dict__["_raising"] = raising

    def __getattribute__(self, name: str) -> Any:
        if name in object.__getattribute__(self, "__dict__").get("_raising", ()):
            raise ValueError(f"{name} is not loaded")
        return object.__getattribute__(self, name)


CHUNKS = {
    "later-usage-raises": [NS(choices=[]), _Raising(("usage",), choices=[]), NS(choices=[], usage=None)],
    "later-choices-raise": [NS(choices=[], usage=None), _Raising(("choices",), usage=None)],
    "later-finish-reason-raises": [NS(choices=[], usage=None),
                                   NS(choices=[_Raising(("finish_reason",), index=0)], usage=None)],
    "later-langchain-usage-raises": [NS(usage_metadata={"input_tokens": 1}, response_metadata={}),
                                     _Raising(("usage_metadata", "response_metadata"))],
    "later-event-type-raises": [NS(type="response.created"), _Raising(("type",))],
    "later-wrapped-data-raises": [NS(data=NS(choices=[], usage=None)), _Raising(("data",))],
    "later-gemini-usage-raises": [NS(usage_metadata=None, candidates=[]), _Raising(("usage_metadata",))],

    "choices-int": [{"choices": 1}],
    "choices-int-later": [{"choices": []}, {"choices": 1}, {"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 2}}],
    "choices-object-int": [NS(choices=5)],
    "choice-index-list": [{"choices": [{"index": [0], "finish_reason": "stop"}]}],
    "choice-index-dict-object": [NS(choices=[NS(index={}, finish_reason="stop")])],
    "finish-reason-list": [{"choices": [{"index": 0, "finish_reason": ["stop"]}]}],
    "langchain-int-usage": [NS(usage_metadata={"input_tokens": 1}, response_metadata={}), NS(usage_metadata=5, response_metadata=7)],
    "langchain-list-usage": [NS(usage_metadata=[1, 2], response_metadata=[3])],
    "responses-type-list": [{"type": "response.created"}, {"type": ["response.completed"]}],
    "anthropic-wrong-types": [{"type": "message_start", "message": 3}, {"type": "message_delta", "usage": "x", "delta": 5}],
    "bedrock-wrong-types": [{"messageStart": 1}, {"messageStop": 5}, {"metadata": 7}],
    "wrapped-choices-int": [NS(data=NS(choices=[])), NS(data=NS(choices=3))],
    "gemini-wrong-types": [NS(usage_metadata=4, candidates=9)],
    "mixed-dict-then-object": [{"choices": []}, NS(choices=2), "text", None, 5],
}


@pytest.mark.parametrize("capture_content", [False, True], ids=["no-capture", "capture"])
@pytest.mark.parametrize("chunks", list(CHUNKS.values()), ids=list(CHUNKS))
def test_malformed_chunks_pass_through_and_carry_no_usage(chunks: list[Any], capture_content: bool, caplog) -> None:
    with otel_llm.testing.capture(capture_content=capture_content) as cap:

        @otel_llm.llm_call(model="m", provider="openai")
        def ask() -> Any:
            return (chunk for chunk in chunks)  # a generator: a stream

        got = list(ask())
    assert got == chunks and all(a is b for a, b in zip(got, chunks))
    span = cap.span("chat m")
    assert span.attributes[sc.OTEL_LLM_STREAM_COMPLETE] is True
    assert span.attributes[sc.OTEL_LLM_STREAM_CHUNKS] == len(chunks)


@pytest.mark.parametrize("chunks", list(CHUNKS.values()), ids=list(CHUNKS))
def test_malformed_chunks_are_no_internal_error_in_production(chunks: list[Any], caplog) -> None:
    with swallowing(), caplog.at_level(logging.WARNING, logger="otel_llm"), otel_llm.testing.capture() as cap:

        @otel_llm.llm_call(model="m", provider="openai")
        def ask() -> Any:
            yield from chunks

        assert list(ask()) == chunks
    assert [r.getMessage() for r in caplog.records if "internal error" in r.getMessage()] == []
    assert cap.span("chat m").attributes[sc.OTEL_LLM_STREAM_COMPLETE] is True


def test_a_good_usage_chunk_after_a_malformed_one_is_still_read() -> None:
    with otel_llm.testing.capture() as cap:

        @otel_llm.llm_call(model="m", provider="openai")
        def ask() -> Any:
            return (chunk for chunk in CHUNKS["choices-int-later"])

        list(ask())
    span = cap.span("chat m").attributes
    assert (span[sc.GEN_AI_USAGE_INPUT_TOKENS], span[sc.GEN_AI_USAGE_OUTPUT_TOKENS]) == (3, 2)
