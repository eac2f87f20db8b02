"""Contrived results of a decorated call are returned as they are and read as "no usage", quietly.

A class whose metaclass makes it unhashable, a metaclass ``__getattr__`` that
raises, dict subclasses whose ``get`` or iteration raise: otel-llm cannot read
such a result, and that is the app's data, not otel-llm's fault. The result
comes back unchanged, the span ends with no token counts, and no internal error
is raised (in this suite internal errors raise) or logged.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

import otel_llm
from otel_llm import semconv as sc
from otel_llm._guard import swallowing


class _UnhashableMeta(type):
    __hash__ = None  # type: ignore[assignment]

    def __eq__(cls, other: object) -> bool:
        return cls is other


class Unhashable(metaclass=_UnhashableMeta):
    """Its class cannot be a dict key or a set member."""


class _RaisingMeta(type):
    def __getattr__(cls, name: str) -> Any:
        raise RuntimeError(f"no class attribute {name}")


class ClassAttributesRaise(metaclass=_RaisingMeta):
    """Every class attribute it lacks raises RuntimeError, not AttributeError."""


class GetRaises(dict):  # type: ignore[type-arg]
    def get(self, *args: Any) -> Any:
        raise RuntimeError("no get")

    def __getitem__(self, key: Any) -> Any:
        raise RuntimeError("no item")


class IterationRaises(dict):  # type: ignore[type-arg]
    def __iter__(self) -> Any:
        raise RuntimeError("no iteration")

    def items(self) -> Any:
        raise RuntimeError("no items")

    def keys(self) -> Any:
        raise RuntimeError("no keys")


RESULTS = {
    "unhashable-class": lambda: Unhashable(),
    "metaclass-getattr-raises": lambda: ClassAttributesRaise(),
    "dict-get-raises": lambda: GetRaises(usage={"prompt_tokens": 1}),
    "dict-iteration-raises": lambda: IterationRaises(usage={"prompt_tokens": 1}),
}


@pytest.mark.parametrize("capture_content", [False, True], ids=["no-capture", "capture"])
@pytest.mark.parametrize("kind", ["llm_call", "chat", "graph_node"])
@pytest.mark.parametrize("make", list(RESULTS.values()), ids=list(RESULTS))
def test_a_contrived_result_is_returned_and_is_no_internal_error(make: Any, kind: str, capture_content: bool,
                                                                 caplog) -> None:
    result = make()
    decorate = {"llm_call": otel_llm.llm_call(model="m", provider="openai"), "chat": otel_llm.chat,
                "graph_node": otel_llm.graph_node("n")}[kind]
    with caplog.at_level(logging.WARNING, logger="otel_llm"), otel_llm.testing.capture(capture_content=capture_content) as cap:
        got = decorate(lambda: result)()
        with swallowing():
            assert decorate(lambda: result)() is result
    assert got is result
    spans = cap.spans()
    assert len(spans) == 2 and all(span.end_time is not None for span in spans)
    # What can be read is read (``dict.get`` of a dict whose iteration raises); nothing else is made up.
    assert {span.attributes.get(sc.GEN_AI_USAGE_INPUT_TOKENS) for span in spans} <= {None, 1}
    assert not [r for r in caplog.records if "internal error" in r.getMessage()], caplog.text


class CompletionRaises(Exception):
    """An app's exception whose ``completion`` (read for a billed-then-refused answer's usage) raises."""

    @property
    def completion(self) -> Any:
        raise ValueError("no completion")


@pytest.mark.parametrize("capture_content", [False, True], ids=["no-capture", "capture"])
@pytest.mark.parametrize("kind", ["llm_call", "chat", "graph_node"])
@pytest.mark.parametrize("error", [CompletionRaises], ids=["completion-raises"])
def test_a_contrived_exception_propagates_unchanged_and_is_no_internal_error(
        error: type[Exception], kind: str, capture_content: bool, caplog) -> None:
    decorate = {"llm_call": otel_llm.llm_call(model="m", provider="openai"), "chat": otel_llm.chat,
                "graph_node": otel_llm.graph_node("n")}[kind]
    raised = error("boom")

    def fails() -> None:
        raise raised

    with caplog.at_level(logging.WARNING, logger="otel_llm"), \
            otel_llm.testing.capture(capture_content=capture_content) as cap:
        with pytest.raises(error) as caught:
            decorate(fails)()
    assert caught.value is raised
    assert len(cap.spans()) == 1 and cap.spans()[0].end_time is not None
    assert not [r for r in caplog.records if "internal error" in r.getMessage()], caplog.text
