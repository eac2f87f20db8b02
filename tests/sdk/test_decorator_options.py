"""Decorator options of the wrong type still instrument the function, with a warning.

A decorator's options become span names, attributes and (hashable) metric
attribute sets. ``model=["m"]`` or ``graph=["g"]`` once made decoration fail
inside otel-llm, and the function was handed back uninstrumented — logged once
for the first such function, then silently. Now every option is checked at
decoration (``_options``): a name is recorded as its text, a request setting
that is no attribute value is left out, an argument name that is no string is
ignored — each said in one warning — and the function is instrumented.
"""

from __future__ import annotations

import logging
import numbers
from fractions import Fraction
from typing import Any, Callable

import pytest

import otel_llm
from otel_llm import semconv as sc
from otel_llm._guard import swallowing

USAGE = {"usage": {"prompt_tokens": 1, "completion_tokens": 1}}

# (decorator, the span it makes, an attribute it carries: value) per case.
CASES: dict[str, tuple[Callable[[], Any], str, dict[str, Any]]] = {
    "llm-model-list": (lambda: otel_llm.llm_call(model=["m"]), "chat ['m']", {sc.GEN_AI_REQUEST_MODEL: "['m']"}),
    "llm-provider-dict": (
        lambda: otel_llm.llm_call(model="m", provider={"p": 1}), "chat m", {sc.GEN_AI_PROVIDER_NAME: "{'p': 1}"}),
    "llm-temperature-dict": (lambda: otel_llm.llm_call(model="m", temperature={"t": 1}), "chat m", {}),
    "llm-stop-mixed-list": (lambda: otel_llm.llm_call(model="m", stop_sequences=["a", 1]), "chat m", {}),
    "graph-list": (lambda: otel_llm.graph_node("n", graph=["g"]), "n", {sc.OTEL_LLM_GRAPH_NAME: "['g']"}),
    "node-name-list": (lambda: otel_llm.graph_node(["n"]), "['n']", {sc.OTEL_LLM_GRAPH_NODE: "['n']"}),
    "collection-dict": (
        lambda: otel_llm.vector_op("s", collection={"c": 1}), "s {'c': 1}", {sc.DB_COLLECTION_NAME: "{'c': 1}"}),
    "top-k-dict": (lambda: otel_llm.vector_op("s", top_k={"k": 1}), "s", {}),
    "tool-type-list": (lambda: otel_llm.tool("t", type=["function"]), "execute_tool t", {sc.GEN_AI_TOOL_TYPE: "['function']"}),
    "tool-call-id-arg-list": (lambda: otel_llm.tool("t", call_id_arg=["x"]), "execute_tool t", {}),
    "agent-id-set": (lambda: otel_llm.agent("a", id={"i"}), "invoke_agent a", {sc.GEN_AI_AGENT_ID: "{'i'}"}),
    "chat-thread-arg-list": (lambda: otel_llm.chat(thread_id_arg=["x"]), "chat_turn f", {}),
}


@pytest.mark.parametrize("make, span_name, attributes", list(CASES.values()), ids=list(CASES))
def test_a_wrong_type_option_still_instruments_and_warns(make, span_name: str, attributes: dict, caplog) -> None:
    with otel_llm.testing.capture() as cap, caplog.at_level(logging.WARNING, logger="otel_llm"):

        def f(x: str = "q") -> dict:
            return USAGE

        decorated = make()(f)
        assert decorated is not f
        assert decorated() is USAGE
    span = cap.span(span_name)
    for key, value in attributes.items():
        assert span.attributes[key] == value
    assert any("otel_llm." in r.getMessage() and "=" in r.getMessage() for r in caplog.records)


def test_wrong_type_options_instrument_every_function_in_production(caplog) -> None:
    """Not only the first: each function decorated with a bad option is instrumented."""
    with swallowing(), otel_llm.testing.capture() as cap:
        fns = []
        for i in range(3):
            def f() -> dict:
                return USAGE

            fns.append(otel_llm.llm_call(model=[f"m{i}"], provider={"p": i})(f))
        for fn in fns:
            fn()
    assert sorted(s.name for s in cap.spans()) == ["chat ['m0']", "chat ['m1']", "chat ['m2']"]


class Count:
    """An integer type of a library's own (as numpy's ``int64`` is), registered as ``numbers.Integral``."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __int__(self) -> int:
        return self.n


numbers.Integral.register(Count)


def test_numbers_of_other_types_are_recorded_as_numbers(caplog) -> None:
    with otel_llm.testing.capture() as cap, caplog.at_level(logging.WARNING, logger="otel_llm"):
        otel_llm.llm_call(model="m", max_tokens=Count(100), temperature=Fraction(1, 2))(lambda: None)()
    attributes = cap.span("chat m").attributes
    assert (attributes[sc.GEN_AI_REQUEST_MAX_TOKENS], attributes[sc.GEN_AI_REQUEST_TEMPERATURE]) == (100, 0.5)
    assert caplog.records == []


def test_valid_options_give_no_warning(caplog) -> None:
    with otel_llm.testing.capture() as cap, caplog.at_level(logging.WARNING, logger="otel_llm"):
        otel_llm.llm_call(model="m", provider="p", temperature=0.2, stop_sequences=["a", "b"])(lambda: None)()
        otel_llm.llm_call(model="m2", operation=None)(lambda: None)()  # not given: the default operation
        otel_llm.graph_node("n", graph="g")(lambda: None)()
    assert caplog.records == []
    assert cap.span("chat m").attributes[sc.GEN_AI_REQUEST_STOP_SEQUENCES] == ("a", "b")
    assert cap.span("chat m2").attributes[sc.GEN_AI_OPERATION_NAME] == "chat"
