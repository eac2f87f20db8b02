"""What an ``@agent`` on a method is called: the agent a user recognises, not the method.

``@agent`` without a name on ``run(self)`` names each invocation after the
instance it runs on: its ``name`` attribute when that is a non-empty string
(``Agent(name="researcher")``), else its class (``ResearchAgent``, a subclass's
own name for an inherited method); on a classmethod after the class, on a
staticmethod after the class it is defined in. ``@agent("planner")`` is always
``planner``. (OpenLLMetry and OpenInference name such a span ``Class.method``;
``gen_ai.agent.name`` is the agent's name, so the method is left out.)
"""

from __future__ import annotations

import functools
from typing import Any

import pytest

import otel_llm
from otel_llm import semconv as sc


class ResearchAgent:
    @otel_llm.agent
    def run(self, question: str) -> str:
        return self.search(question)

    @otel_llm.tool
    def search(self, question: str) -> str:
        return question

    @otel_llm.agent()
    async def arun(self, question: str) -> str:
        return question

    @otel_llm.agent
    @classmethod
    def build(cls) -> str:
        return cls.__name__

    @otel_llm.agent
    @staticmethod
    def helper() -> str:
        return "h"

    @otel_llm.agent("planner")
    def plan(self) -> str:
        return "p"


class DeepResearchAgent(ResearchAgent):
    """Inherits ``run``: its invocations are the subclass's."""


class NamedAgent:
    def __init__(self, name: Any) -> None:
        self.name = name

    @otel_llm.agent
    def run(self) -> str:
        return "ok"


def _names(cap) -> list[str]:
    return [s.attributes[sc.GEN_AI_AGENT_NAME] for s in cap.spans() if s.attributes[sc.OTEL_LLM_KIND] == sc.KIND_AGENT]


def test_a_method_agent_is_named_after_its_class_and_spans_inside_say_so(cap):
    assert ResearchAgent().run("q") == "q"
    span = cap.span("invoke_agent ResearchAgent")
    assert span.attributes[sc.GEN_AI_AGENT_NAME] == "ResearchAgent"
    assert cap.span("execute_tool search").attributes[sc.GEN_AI_AGENT_NAME] == "ResearchAgent"


async def test_an_async_method_agent(cap):
    assert await ResearchAgent().arun("q") == "q"
    assert _names(cap) == ["ResearchAgent"]


def test_an_inherited_method_is_named_after_the_subclass(cap):
    DeepResearchAgent().run("q")
    assert cap.span("invoke_agent DeepResearchAgent").attributes[sc.GEN_AI_AGENT_NAME] == "DeepResearchAgent"
    assert cap.span("execute_tool search").attributes[sc.GEN_AI_AGENT_NAME] == "DeepResearchAgent"


def test_classmethod_staticmethod_and_bound_method_agents(cap):
    assert ResearchAgent.build() == "ResearchAgent"
    assert DeepResearchAgent.build() == "DeepResearchAgent"
    assert ResearchAgent.helper() == "h"
    bound = ResearchAgent().search
    otel_llm.agent(bound)("x")
    otel_llm.agent(functools.partial(ResearchAgent.search, DeepResearchAgent()))("y")
    assert _names(cap) == ["ResearchAgent", "DeepResearchAgent", "ResearchAgent", "ResearchAgent",
                           "DeepResearchAgent"]


@pytest.mark.parametrize("name, expected", [("researcher", "researcher"), ("", "NamedAgent"), (None, "NamedAgent"),
                                            (42, "NamedAgent")])
def test_an_instance_with_a_name_attribute_is_named_by_it(cap, name, expected):
    NamedAgent(name).run()
    assert _names(cap) == [expected]
    assert cap.spans()[0].name == f"invoke_agent {expected}"


def test_a_given_name_wins(cap):
    DeepResearchAgent().plan()
    assert _names(cap) == ["planner"]


def test_a_plain_function_keeps_its_name(cap):
    @otel_llm.agent
    def triage() -> None:
        return None

    triage()
    assert _names(cap) == ["triage"]


class CallableAgent:
    def __init__(self, name: str | None = None) -> None:
        if name is not None:
            self.name = name

    def __call__(self, question: str) -> str:
        return question


def test_a_callable_object_agent_is_named_as_a_method_agent_is(cap):
    otel_llm.agent(CallableAgent("triage"))("q")
    otel_llm.agent(CallableAgent())("q")
    assert _names(cap) == ["triage", "CallableAgent"]


# --- per instance, read once, named from the start ------------------------------------------------
# Each call reads ``self.name`` once and starts its span under that name: a sampler or span
# processor sees the agent it is, and the running-calls metric (``otel_llm.active``) counts it there.


class CountingAgent:
    reads = 0

    def __init__(self, name: str) -> None:
        self._name = name

    @property
    def name(self) -> str:
        CountingAgent.reads += 1
        return self._name

    @otel_llm.agent
    def run(self) -> str:
        return "ok"


def test_two_instances_are_two_agents_named_as_their_spans_start_and_each_name_read_once(cap):
    from opentelemetry.sdk.trace import SpanProcessor

    started: list[tuple[str, Any]] = []

    class Starts(SpanProcessor):
        def on_start(self, span, parent_context=None) -> None:
            started.append((span.name, span.attributes.get(sc.GEN_AI_AGENT_NAME)))

    cap.tracer_provider.add_span_processor(Starts())
    alice, bob = CountingAgent("alice"), CountingAgent("bob")
    CountingAgent.reads = 0
    alice.run(), bob.run(), alice.run()
    assert _names(cap) == ["alice", "bob", "alice"]
    assert started == [("invoke_agent alice", "alice"), ("invoke_agent bob", "bob"), ("invoke_agent alice", "alice")]
    assert CountingAgent.reads == 3  # once per call


def test_a_running_method_agent_is_counted_under_its_own_name(cap):
    class Watcher:
        def __init__(self, name: str) -> None:
            self.name = name

        @otel_llm.agent
        def run(self) -> dict[str, int]:
            points = cap.metrics()[sc.METRIC_ACTIVE]
            return {p.attributes[sc.OTEL_LLM_SPAN_NAME]: p.value for p in points if p.value}

    assert Watcher("alice").run() == {"invoke_agent alice": 1}


def test_agents_named_by_many_instances_are_each_named_and_keep_the_running_count_bounded(cap):
    from otel_llm import _active

    names = [f"spawned-{i}" for i in range(100)]  # an agent per user or task: names without bound
    assert [NamedAgent(n).run() for n in names] == ["ok"] * len(names)
    assert _names(cap) == names
    assert [s.name for s in cap.spans()] == [f"invoke_agent {n}" for n in names]
    counted = [name for _, name in list(_active._running) if name.startswith("invoke_agent spawned-")]
    assert len(counted) <= 64
