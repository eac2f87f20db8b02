"""A real LangGraph prebuilt agent with otel-llm decorated tools (a fake chat model, no network).

Both builders are run: ``langchain.agents.create_agent`` (current) and
``langgraph.prebuilt.create_react_agent`` (deprecated in LangGraph 1.0, still
widely used). The agent's model is a LangChain fake chat model whose
``invoke``/``ainvoke`` are decorated with ``@llm_call``; its first answer asks
for two tool calls, its second answers. A tool that declares
``tool_call_id: Annotated[str, InjectedToolCallId]`` receives the model's id,
so its span carries it and links to the model call that asked for it.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Annotated, Any

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.tools import InjectedToolCallId, tool
from opentelemetry.trace import StatusCode

import otel_llm
from otel_llm import semconv as sc


class FakeModel(GenericFakeChatModel):
    """A chat model that "supports" tools and is traced like a real one would be."""

    def bind_tools(self, tools: Any, **kwargs: Any) -> "FakeModel":
        return self

    invoke = otel_llm.llm_call(model="fake-model", provider="langchain")(GenericFakeChatModel.invoke)
    ainvoke = otel_llm.llm_call(model="fake-model", provider="langchain")(GenericFakeChatModel.ainvoke)


def _answers() -> list[AIMessage]:
    return [
        AIMessage(
            content="",
            tool_calls=[
                {"name": "search_web", "args": {"query": "otel"}, "id": "call_search", "type": "tool_call"},
                {"name": "word_count", "args": {"text": "a b c"}, "id": "call_count", "type": "tool_call"},
            ],
            usage_metadata={"input_tokens": 40, "output_tokens": 8, "total_tokens": 48},
        ),
        AIMessage(content="3 words; found it", usage_metadata={"input_tokens": 60, "output_tokens": 6, "total_tokens": 66}),
    ]


@otel_llm.tool(type="function")  # above LangChain's tool: named as the model calls it, not `search`
@tool("search_web", description="Search the web")
def search(query: str, tool_call_id: Annotated[str, InjectedToolCallId]) -> str:
    """Search the web."""
    return f"results for {query}"


@tool("word_count")
@otel_llm.tool
def word_count(text: str, tool_call_id: Annotated[str, InjectedToolCallId]) -> int:
    """Count the words of a text."""
    return len(text.split())


@tool("word_count")
@otel_llm.tool("word_count")
async def word_count_async(text: str, tool_call_id: Annotated[str, InjectedToolCallId]) -> int:
    """Count the words of a text (a coroutine: LangChain runs it only in async agents)."""
    return len(text.split())


def _create_agent() -> Callable[..., Any]:
    from langchain.agents import create_agent

    return lambda model, tools: create_agent(model, tools)


def _create_react_agent() -> Callable[..., Any]:
    from langgraph.prebuilt import create_react_agent

    def build(model: Any, tools: Any) -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # deprecated in favour of create_agent
            return create_react_agent(model, tools)

    return build


BUILDERS = {"langchain.create_agent": _create_agent, "langgraph.create_react_agent": _create_react_agent}


def _check(cap: Any, messages: list[Any]) -> None:
    tool_messages = [m for m in messages if isinstance(m, ToolMessage)]
    assert {m.tool_call_id: m.content for m in tool_messages} == {
        "call_search": "results for otel", "call_count": "3",
    }
    assert messages[-1].content == "3 words; found it"

    agent = cap.span("invoke_agent researcher")
    models = sorted((s for s in cap.spans() if s.name == "chat fake-model"), key=lambda s: s.start_time)
    assert len(models) == 2
    assert [s.attributes[sc.GEN_AI_USAGE_INPUT_TOKENS] for s in models] == [40, 60]
    assert models[0].attributes[sc.OTEL_LLM_RESPONSE_TOOL_CALL_IDS] == ("call_search", "call_count")

    for name, call_id in (("search_web", "call_search"), ("word_count", "call_count")):
        span = cap.span(f"execute_tool {name}")
        assert span.status.status_code is StatusCode.UNSET
        assert span.attributes[sc.GEN_AI_TOOL_CALL_ID] == call_id
        assert span.attributes[sc.GEN_AI_AGENT_NAME] == "researcher"
        assert span.context.trace_id == agent.context.trace_id
        (link,) = span.links
        assert link.context.span_id == models[0].context.span_id  # the model call that asked for it
    assert cap.span("execute_tool search_web").attributes[sc.GEN_AI_TOOL_DESCRIPTION] == "Search the web"

    assert agent.attributes[sc.OTEL_LLM_AGENT_LLM_CALLS] == 2
    assert agent.attributes[sc.OTEL_LLM_AGENT_TOOL_CALLS] == 2
    assert agent.attributes[sc.OTEL_LLM_AGENT_INPUT_TOKENS] == 100
    assert agent.attributes[sc.OTEL_LLM_AGENT_OUTPUT_TOKENS] == 14
    tool_counts = {dict(p.attributes)[sc.GEN_AI_TOOL_NAME]: p.value for p in cap.metrics()[sc.METRIC_TOOL_CALLS]}
    assert tool_counts == {"search_web": 1, "word_count": 1}


@pytest.mark.parametrize("builder", BUILDERS.values(), ids=BUILDERS.keys())
def test_sync_prebuilt_agent_with_decorated_tools(cap, builder):
    graph = builder()(FakeModel(messages=iter(_answers())), [search, word_count])

    @otel_llm.agent("researcher")
    def research(question: str) -> list[Any]:
        return graph.invoke({"messages": [HumanMessage(question)]})["messages"]

    _check(cap, research("find otel and count words"))


@pytest.mark.parametrize("builder", BUILDERS.values(), ids=BUILDERS.keys())
async def test_async_prebuilt_agent_with_decorated_tools(cap, builder):
    graph = builder()(FakeModel(messages=iter(_answers())), [search, word_count_async])

    @otel_llm.agent("researcher")
    async def research(question: str) -> list[Any]:
        return (await graph.ainvoke({"messages": [HumanMessage(question)]}))["messages"]

    _check(cap, await research("find otel and count words"))
