"""``@tool`` and ``@agent``: semconv spans, tool-call linkage, roll-ups, metrics.

Every callable shape and way of stopping is covered for both in
test_callable_kinds; every decoration form in test_decorator_forms. Retries
are in test_attempts, a real LangGraph agent in test_langgraph_agent.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from openai.types.chat import ChatCompletion
from opentelemetry.trace import SpanKind, StatusCode

import otel_llm
from otel_llm import _toolcalls, _usage
from otel_llm import semconv as sc
from otel_llm._kinds import _MAX_TOOL_NAMES
from otel_llm._toolcalls import ToolCallRef


def _completion(*calls: tuple[str, str, dict[str, Any]], input_tokens: int = 10, output_tokens: int = 5) -> ChatCompletion:
    """A real OpenAI ChatCompletion asking for the given (id, tool, arguments) tool calls."""
    return ChatCompletion.model_validate(
        {
            "id": "resp-1",
            "object": "chat.completion",
            "created": 1,
            "model": "test-model",
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "tool_calls" if calls else "stop",
                    "message": {
                        "role": "assistant",
                        "content": None if calls else "done",
                        "tool_calls": [
                            {"id": i, "type": "function", "function": {"name": n, "arguments": json.dumps(a)}}
                            for i, n, a in calls
                        ]
                        or None,
                    },
                }
            ],
            "usage": {"prompt_tokens": input_tokens, "completion_tokens": output_tokens, "total_tokens": 0},
        }
    )


# --- the tool span -------------------------------------------------------------------


def test_tool_span_name_kind_and_semconv_attributes(cap):
    @otel_llm.tool("search_web", type="function", description="Search the web")
    def search(query: str) -> list[str]:
        return [query]

    assert search("otel") == ["otel"]
    span = cap.span("execute_tool search_web")
    assert span.kind is SpanKind.INTERNAL
    # No arguments or result (capture is off), no call id (no tool call was passed in).
    assert dict(span.attributes) == {
        sc.OTEL_LLM_KIND: sc.KIND_TOOL,
        sc.OTEL_LLM_PROJECT: "alpha",
        sc.GEN_AI_OPERATION_NAME: "execute_tool",
        sc.GEN_AI_TOOL_NAME: "search_web",
        sc.GEN_AI_TOOL_TYPE: "function",
        sc.GEN_AI_TOOL_DESCRIPTION: "Search the web",
    }


def test_bare_tool_is_named_after_the_function(cap):
    @otel_llm.tool
    def lookup_order(order_id: int) -> int:
        return order_id

    lookup_order(7)
    span = cap.span("execute_tool lookup_order")
    assert span.attributes[sc.GEN_AI_TOOL_NAME] == "lookup_order"
    assert span.attributes[sc.GEN_AI_TOOL_TYPE] == "function"


def test_arguments_and_result_are_captured_redacted_and_bounded(cap_content):
    @otel_llm.tool("search_web")
    def search(self_like: str, query: str, limit: int = 3) -> str:
        return f"the secret answer to {query}" + "x" * 10_000

    search("a", "secret plans", limit=2)
    attrs = cap_content.span("execute_tool search_web").attributes
    assert json.loads(attrs[sc.GEN_AI_TOOL_CALL_ARGUMENTS]) == {
        "self_like": "a", "query": "[REDACTED] plans", "limit": 2,
    }
    result = attrs[sc.GEN_AI_TOOL_CALL_RESULT]
    assert result.startswith("the [REDACTED] answer to [REDACTED] plans")
    # The length of the result as the app returned it: only the recorded part (and a margin) is redacted.
    assert result.endswith("…[truncated from 10033 chars]")
    assert "secret" not in result


def test_a_methods_self_is_not_a_tool_argument(cap_content):
    class Tools:
        @otel_llm.tool
        def add(self, a: int, b: int) -> int:
            return a + b

    assert Tools().add(1, 2) == 3
    attrs = cap_content.span("execute_tool add").attributes
    assert json.loads(attrs[sc.GEN_AI_TOOL_CALL_ARGUMENTS]) == {"a": 1, "b": 2}
    assert attrs[sc.GEN_AI_TOOL_CALL_RESULT] == "3"


def test_streamed_tool_result_is_captured_whole(cap_content):
    @otel_llm.tool("stream_rows")
    def rows(n: int):
        for i in range(n):
            yield f"row{i};"

    assert list(rows(3)) == ["row0;", "row1;", "row2;"]
    assert cap_content.span("execute_tool stream_rows").attributes[sc.GEN_AI_TOOL_CALL_RESULT] == "row0;row1;row2;"


def test_failing_tool_records_the_error_and_the_metric_outcome(cap):
    @otel_llm.tool("flaky")
    def flaky() -> None:
        raise TimeoutError("slow backend")

    @otel_llm.tool("steady")
    def steady() -> str:
        return "ok"

    with pytest.raises(TimeoutError):
        flaky()
    steady()
    steady()
    span = cap.span("execute_tool flaky")
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes[sc.ERROR_TYPE] == "TimeoutError"

    metrics = cap.metrics()
    calls = {
        (dict(p.attributes)[sc.GEN_AI_TOOL_NAME], dict(p.attributes).get(sc.ERROR_TYPE)): p.value
        for p in metrics[sc.METRIC_TOOL_CALLS]
    }
    assert calls == {("flaky", "TimeoutError"): 1, ("steady", None): 2}
    durations = {dict(p.attributes)[sc.GEN_AI_TOOL_NAME]: p.count for p in metrics[sc.METRIC_TOOL_DURATION]}
    assert durations == {"flaky": 1, "steady": 2}
    for point in [*metrics[sc.METRIC_TOOL_CALLS], *metrics[sc.METRIC_TOOL_DURATION]]:
        assert set(point.attributes) <= {sc.GEN_AI_OPERATION_NAME, sc.GEN_AI_TOOL_NAME, sc.ERROR_TYPE}


# --- the tool call id and the link to the model call -----------------------------------


def test_tool_call_id_from_a_parameter_named_tool_call_id(cap):
    """LangChain's InjectedToolCallId passes the id as ``tool_call_id``."""

    @otel_llm.tool("search_web")
    def search(query: str, tool_call_id: str) -> str:
        return query

    search("q", tool_call_id="call_42")
    assert cap.spans()[0].attributes[sc.GEN_AI_TOOL_CALL_ID] == "call_42"


def test_tool_call_id_from_call_id_arg_holding_a_tool_call_object(cap_content):
    call = _completion(("call_7", "get_weather", {"city": "Paris"})).choices[0].message.tool_calls[0]

    @otel_llm.tool("get_weather", call_id_arg="request")
    def weather(request: Any, units: str = "C") -> str:
        return "sunny"

    weather(call)
    attrs = cap_content.spans()[0].attributes
    assert attrs[sc.GEN_AI_TOOL_CALL_ID] == "call_7"
    assert attrs[sc.GEN_AI_TOOL_CALL_ARGUMENTS] == '{"city": "Paris"}'  # the model's arguments


def test_a_dispatcher_receiving_an_openai_tool_call_is_named_after_the_called_tool(cap):
    calls = _completion(("call_1", "get_weather", {"city": "Paris"}), ("call_2", "get_time", {})).choices[0]

    @otel_llm.tool
    def run_tool(call: Any) -> str:
        return call.function.name

    assert [run_tool(c) for c in calls.message.tool_calls] == ["get_weather", "get_time"]
    weather, time = cap.span("execute_tool get_weather"), cap.span("execute_tool get_time")
    assert weather.attributes[sc.GEN_AI_TOOL_NAME] == "get_weather"
    assert weather.attributes[sc.GEN_AI_TOOL_CALL_ID] == "call_1"
    assert time.attributes[sc.GEN_AI_TOOL_CALL_ID] == "call_2"
    names = {dict(p.attributes)[sc.GEN_AI_TOOL_NAME] for p in cap.metrics()[sc.METRIC_TOOL_CALLS]}
    assert names == {"get_weather", "get_time"}


def test_tool_names_the_model_makes_up_cannot_grow_memory_or_metric_series(cap):
    """The model names the tool a dispatcher runs: a model inventing names (or a prompt injection
    asking for them) must not grow otel-llm's attribute sets and metric series without bound. The
    first names of a dispatcher get series of their own; later ones count under the dispatcher's
    name (their spans still name them)."""
    from otel_llm import _metrics

    @otel_llm.tool
    def run_tool(call: dict) -> str:
        return call["name"]

    for i in range(_MAX_TOOL_NAMES + 40):
        run_tool({"type": "tool_call", "id": f"c{i}", "name": f"made_up_{i}"})
    sets_before = len(_metrics._attribute_sets.values)
    for i in range(200):
        run_tool({"type": "tool_call", "id": f"d{i}", "name": f"another_{i}"})
    assert len(_metrics._attribute_sets.values) == sets_before
    names = {dict(p.attributes)[sc.GEN_AI_TOOL_NAME]: p.value for p in cap.metrics()[sc.METRIC_TOOL_CALLS]}
    assert len(names) == _MAX_TOOL_NAMES + 1
    assert names["run_tool"] == 240
    assert sum(names.values()) == _MAX_TOOL_NAMES + 240
    assert cap.spans()[-1].name == "execute_tool another_199"


@pytest.mark.parametrize(
    "value, expected",
    [
        ({"type": "tool_call", "id": "lc_1", "name": "search", "args": {"q": 1}}, ToolCallRef("lc_1", "search", {"q": 1})),
        ({"type": "tool_use", "id": "toolu_1", "name": "search", "input": {"q": 1}}, ToolCallRef("toolu_1", "search", {"q": 1})),
        ({"type": "function_call", "id": "fc_item", "call_id": "call_9", "name": "search", "arguments": "{}"},
         ToolCallRef("call_9", "search", "{}")),
        ({"type": "function", "id": "call_3", "function": {"name": "search", "arguments": "{}"}},
         ToolCallRef("call_3", "search", "{}")),
        ({"type": "custom", "id": "call_4", "custom": {"name": "grep", "input": "x"}}, ToolCallRef("call_4", "grep", "x")),
        ({"type": "tool_call", "id": "", "name": "search"}, None),
        ({"type": "message", "id": "m"}, None),
        ("call_1", None),
        (None, None),
    ],
    ids=repr,
)
def test_tool_call_shapes_a_tool_can_receive(value, expected):
    assert _toolcalls.received(value) == expected


class _Column:
    """A data frame column as pandas and numpy have it: ``==`` compares element-wise, its truth is ambiguous."""

    __hash__ = None  # type: ignore[assignment]

    def __eq__(self, other: object) -> "_Column":  # type: ignore[override]
        return _Column()

    def __bool__(self) -> bool:
        raise ValueError("The truth value of a Series is ambiguous")


class _Frame:
    """A table with a column named ``type``: ``frame.type`` is that column, not a tool-call marker."""

    type = _Column()

    def __len__(self) -> int:
        return 2


def test_a_tool_argument_whose_type_attribute_is_a_column_is_not_a_tool_call(cap):
    """A data frame with a ``type`` column passed to a tool: the tool span still covers the call and counts."""

    @otel_llm.tool
    def summarize(frame: _Frame) -> int:
        return len(frame)

    @otel_llm.agent("analyst")
    def analyse() -> int:
        return summarize(_Frame())

    assert _toolcalls.received(_Frame()) is None
    assert analyse() == 2
    assert cap.span("invoke_agent analyst").attributes[sc.OTEL_LLM_AGENT_TOOL_CALLS] == 1
    assert sc.GEN_AI_TOOL_CALL_ID not in cap.span("execute_tool summarize").attributes


def test_the_tool_span_links_to_the_model_call_that_asked_for_it(cap):
    @otel_llm.llm_call(model="test-model", provider="openai")
    def plan() -> ChatCompletion:
        return _completion(("call_a", "get_weather", {"city": "Oslo"}), ("call_b", "get_weather", {"city": "Rome"}))

    @otel_llm.tool
    def run_tool(call: Any) -> str:
        return "ok"

    @otel_llm.tool("get_weather")
    def orphan(tool_call_id: str) -> str:
        return "ok"

    for call in plan().choices[0].message.tool_calls:
        run_tool(call)
    orphan(tool_call_id="call_from_elsewhere")

    model = cap.span("chat test-model")
    assert model.attributes[sc.OTEL_LLM_RESPONSE_TOOL_CALL_IDS] == ("call_a", "call_b")
    tools = [s for s in cap.spans() if s.attributes.get(sc.OTEL_LLM_KIND) == sc.KIND_TOOL]
    linked = {s.attributes[sc.GEN_AI_TOOL_CALL_ID]: s.links for s in tools}
    for call_id in ("call_a", "call_b"):
        (link,) = linked[call_id]
        assert link.context.span_id == model.context.span_id
        assert link.context.trace_id == model.context.trace_id
        assert link.attributes[sc.GEN_AI_TOOL_CALL_ID] == call_id
    assert linked["call_from_elsewhere"] == ()


def test_the_tool_span_links_to_the_model_call_not_to_a_wrapper_around_it(cap):
    """A logging or retrying ``@llm_call`` around the model call returns the same response: the
    tool links to the model call that asked for it (both spans list the ids)."""

    @otel_llm.llm_call(model="test-model", provider="openai")
    def call_api() -> ChatCompletion:
        return _completion(("call_w", "get_weather", {"city": "Oslo"}))

    @otel_llm.llm_call(model="test-model", provider="openai")
    def ask() -> ChatCompletion:
        return call_api()

    @otel_llm.tool
    def run_tool(call: Any) -> str:
        return "ok"

    run_tool(ask().choices[0].message.tool_calls[0])
    model = next(s for s in cap.spans() if s.name == "chat test-model" and s.parent is not None)
    wrapper = next(s for s in cap.spans() if s.name == "chat test-model" and s.parent is None)
    assert model.parent.span_id == wrapper.context.span_id
    assert model.attributes[sc.OTEL_LLM_RESPONSE_TOOL_CALL_IDS] == wrapper.attributes[sc.OTEL_LLM_RESPONSE_TOOL_CALL_IDS]
    (link,) = cap.span("execute_tool get_weather").links
    assert link.context.span_id == model.context.span_id


@pytest.mark.parametrize(
    "response, ids",
    [
        ({"content": [{"type": "text", "text": "x"}, {"type": "tool_use", "id": "toolu_1", "name": "s", "input": {}}]},
         ["toolu_1"]),
        ({"output": [{"type": "message", "id": "m"},
                     {"type": "function_call", "id": "fc", "call_id": "call_r", "name": "s", "arguments": "{}"}]},
         ["call_r"]),
        ({"tool_calls": [{"name": "s", "args": {}, "id": "lc_1", "type": "tool_call"}, {"name": "t", "args": {}, "id": "lc_2"}],
          "content": [{"type": "tool_use", "id": "lc_1", "name": "s", "input": {}}]},
         ["lc_1", "lc_2"]),
        ({"choices": [{"message": {"content": "plain answer"}}]}, []),
        ("text", []),
    ],
    ids=["anthropic", "openai-responses", "langchain", "no-tool-calls", "scalar"],
)
def test_requested_tool_calls_of_other_response_shapes(response, ids):
    assert [r.id for r in _toolcalls.requested(response)] == ids


@pytest.mark.parametrize("calls", [(("call_a", "s", {}), ("call_b", "t", {"q": 1})), ()], ids=["tool-calls", "none"])
def test_a_chat_completion_class_is_read_along_its_plan_as_probing_reads_it(calls):
    """The once-per-class plan (``choices`` declared) gives what probing the object gives."""
    value = _completion(*calls)
    assert _usage._plan(type(value)).choices
    planned = _toolcalls.requested(value)
    saved = dict(_usage._PLANS)
    _usage._PLANS[type(value)] = None  # no plan for the class: the probing path
    try:
        probed = _toolcalls.requested(value)
    finally:
        _usage._PLANS.clear()
        _usage._PLANS.update(saved)
    assert planned == probed
    assert [(r.id, r.name) for r in planned] == [(i, n) for i, n, _ in calls]


def test_the_origin_registry_is_bounded():
    origins = _toolcalls._Origins(capacity=2)
    ctx = object()
    origins.remember(["a", "b", "c"], ctx)  # type: ignore[arg-type]
    assert origins.origin("a") is None and origins.origin("c") is ctx


# --- the agent span ----------------------------------------------------------------------


def test_agent_span_attributes(cap):
    @otel_llm.agent("planner", id="planner-v2", description="Plans the trip")
    def plan(goal: str) -> str:
        return goal

    plan("x")
    span = cap.span("invoke_agent planner")
    assert span.kind is SpanKind.INTERNAL
    assert dict(span.attributes) == {
        sc.OTEL_LLM_KIND: sc.KIND_AGENT,
        sc.OTEL_LLM_PROJECT: "alpha",
        sc.GEN_AI_OPERATION_NAME: "invoke_agent",
        sc.GEN_AI_AGENT_NAME: "planner",
        sc.GEN_AI_AGENT_ID: "planner-v2",
        sc.GEN_AI_AGENT_DESCRIPTION: "Plans the trip",
        sc.OTEL_LLM_AGENT_INPUT_TOKENS: 0,
        sc.OTEL_LLM_AGENT_OUTPUT_TOKENS: 0,
        sc.OTEL_LLM_AGENT_LLM_CALLS: 0,
        sc.OTEL_LLM_AGENT_TOOL_CALLS: 0,
    }


def test_agent_rolls_up_model_and_tool_calls_and_the_turn_rolls_up_the_agent(cap):
    @otel_llm.llm_call(model="test-model", provider="openai")
    def think(n: int) -> ChatCompletion:
        return _completion(input_tokens=100 * n, output_tokens=10 * n)

    @otel_llm.tool("search_web")
    def search(q: str) -> str:
        think(1)  # a model call inside a tool still belongs to the agent
        return q

    @otel_llm.tool("flaky")
    def flaky() -> None:
        raise TimeoutError

    @otel_llm.agent("researcher")
    def research() -> str:
        search("a")
        with pytest.raises(TimeoutError):
            flaky()
        return "found"

    @otel_llm.agent("planner")
    def plan() -> str:
        think(2)
        return research()

    @otel_llm.chat
    def answer(question: str) -> str:
        think(3)
        return plan()

    assert answer("go") == "found"
    research_span, plan_span = cap.span("invoke_agent researcher"), cap.span("invoke_agent planner")
    turn = cap.span("chat_turn answer")
    assert {k: research_span.attributes[k] for k in (
        sc.OTEL_LLM_AGENT_LLM_CALLS, sc.OTEL_LLM_AGENT_TOOL_CALLS, sc.OTEL_LLM_AGENT_INPUT_TOKENS,
        sc.OTEL_LLM_AGENT_OUTPUT_TOKENS)} == {
        sc.OTEL_LLM_AGENT_LLM_CALLS: 1, sc.OTEL_LLM_AGENT_TOOL_CALLS: 2,
        sc.OTEL_LLM_AGENT_INPUT_TOKENS: 100, sc.OTEL_LLM_AGENT_OUTPUT_TOKENS: 10,
    }
    assert plan_span.attributes[sc.OTEL_LLM_AGENT_LLM_CALLS] == 2  # its own and the nested agent's
    assert plan_span.attributes[sc.OTEL_LLM_AGENT_TOOL_CALLS] == 2
    assert plan_span.attributes[sc.OTEL_LLM_AGENT_INPUT_TOKENS] == 300
    assert plan_span.attributes[sc.OTEL_LLM_AGENT_COST] == pytest.approx((300 * 1 + 30 * 2) * 1e-6)
    assert turn.attributes[sc.OTEL_LLM_TURN_LLM_CALLS] == 3
    assert turn.attributes[sc.OTEL_LLM_TURN_TOOL_CALLS] == 2
    assert turn.attributes[sc.OTEL_LLM_TURN_INPUT_TOKENS] == 600

    # Spans inside an agent name the innermost agent; the agents name themselves.
    by_name = {s.name: s for s in cap.spans()}
    assert by_name["execute_tool search_web"].attributes[sc.GEN_AI_AGENT_NAME] == "researcher"
    assert by_name["execute_tool flaky"].attributes[sc.GEN_AI_AGENT_NAME] == "researcher"
    models = [s for s in cap.spans() if s.name == "chat test-model"]
    assert sorted(s.attributes.get(sc.GEN_AI_AGENT_NAME, "-") for s in models) == ["-", "planner", "researcher"]
    assert plan_span.attributes[sc.GEN_AI_AGENT_NAME] == "planner"
    assert sc.GEN_AI_AGENT_NAME not in turn.attributes


async def test_agent_roll_up_across_tasks(cap):
    import asyncio

    @otel_llm.tool("fetch")
    async def fetch(i: int) -> int:
        await asyncio.sleep(0)
        return i

    @otel_llm.agent("fanout")
    async def fan_out() -> list[int]:
        return list(await asyncio.gather(*(fetch(i) for i in range(5))))

    assert await fan_out() == [0, 1, 2, 3, 4]
    assert cap.span("invoke_agent fanout").attributes[sc.OTEL_LLM_AGENT_TOOL_CALLS] == 5


def test_an_agent_without_an_id_inside_one_with_an_id_does_not_take_the_outer_id(cap):
    """Spans inside an agent carry that agent's identity: name *and* id, never the outer agent's id."""

    @otel_llm.tool("search_web")
    def search(q: str) -> str:
        return q

    @otel_llm.agent("researcher")
    def research() -> str:
        return search("a")

    @otel_llm.agent("planner", id="planner-v2")
    def plan() -> str:
        search("b")
        return research()

    plan()
    research_span, plan_span = cap.span("invoke_agent researcher"), cap.span("invoke_agent planner")
    assert plan_span.attributes[sc.GEN_AI_AGENT_ID] == "planner-v2"
    assert sc.GEN_AI_AGENT_ID not in research_span.attributes
    tools = {s.parent.span_id: s for s in cap.spans() if s.name == "execute_tool search_web"}
    inner_tool, outer_tool = tools[research_span.context.span_id], tools[plan_span.context.span_id]
    assert (inner_tool.attributes[sc.GEN_AI_AGENT_NAME], inner_tool.attributes.get(sc.GEN_AI_AGENT_ID)) == ("researcher", None)
    assert (outer_tool.attributes[sc.GEN_AI_AGENT_NAME], outer_tool.attributes[sc.GEN_AI_AGENT_ID]) == ("planner", "planner-v2")


async def test_an_async_generator_tool_left_by_break_counts_in_its_agent(cap):
    """``break`` out of an async generator leaves it to the event loop to close, after the agent
    returned: the tool call still ran inside the agent and counts there (as the analysis counts it)."""
    import asyncio

    @otel_llm.tool("pages")
    async def pages():
        for page in range(3):
            await asyncio.sleep(0)
            yield page

    @otel_llm.agent("reader")
    async def read_first() -> int:
        async for page in pages():
            return page
        return -1

    assert await read_first() == 0
    await asyncio.sleep(0.01)  # the loop closes the abandoned generator
    assert cap.span("execute_tool pages").attributes[sc.OTEL_LLM_STREAM_COMPLETE] is False
    assert cap.span("invoke_agent reader").attributes[sc.OTEL_LLM_AGENT_TOOL_CALLS] == 1


def test_a_roll_up_says_how_many_of_its_calls_it_could_not_price(cap):
    """An agent whose model calls are priced only in part: its cost is that part, and says so."""

    @otel_llm.llm_call(model="test-model", provider="openai")
    def priced() -> ChatCompletion:
        return _completion(input_tokens=100, output_tokens=10)

    @otel_llm.llm_call(model="no-such-model-anywhere", provider="openai")
    def unpriced() -> dict[str, Any]:
        return {"usage": {"prompt_tokens": 50, "completion_tokens": 5}}

    @otel_llm.llm_call(model="test-model", provider="openai")
    def failed() -> None:
        raise TimeoutError  # no tokens: nothing to price, not an unpriced call

    @otel_llm.agent("mixed")
    def mixed() -> None:
        priced()
        unpriced()
        with pytest.raises(TimeoutError):
            failed()

    @otel_llm.chat
    def turn(question: str) -> None:
        mixed()
        priced()

    turn("go")
    agent, chat = cap.span("invoke_agent mixed").attributes, cap.span("chat_turn turn").attributes
    assert agent[sc.OTEL_LLM_AGENT_LLM_CALLS] == 3
    assert agent[sc.OTEL_LLM_AGENT_COST] == pytest.approx((100 + 10 * 2) * 1e-6)
    assert agent[sc.OTEL_LLM_AGENT_UNPRICED_CALLS] == 1
    assert chat[sc.OTEL_LLM_TURN_UNPRICED_CALLS] == 1

    cap.exporter.clear()
    priced_only = otel_llm.agent("priced_only")(priced)
    priced_only()
    assert sc.OTEL_LLM_AGENT_UNPRICED_CALLS not in cap.span("invoke_agent priced_only").attributes


async def test_a_streamed_model_call_left_by_break_counts_in_its_agent(cap):
    """A model call streamed by an async generator the agent leaves by ``break``: the event loop
    ends it after the agent returned; it was still made by the agent and counts there."""
    import asyncio

    @otel_llm.llm_call(model="test-model", provider="openai")
    async def stream_answer():
        for piece in ("Hel", "lo", "STOP", "never read"):
            await asyncio.sleep(0)
            yield piece

    @otel_llm.agent("writer")
    async def write() -> str:
        text = ""
        async for piece in stream_answer():
            if piece == "STOP":
                break
            text += piece
        return text

    assert await write() == "Hello"
    await asyncio.sleep(0.01)  # the loop closes the abandoned generator
    assert cap.span("chat test-model").attributes[sc.OTEL_LLM_STREAM_COMPLETE] is False
    agent = cap.span("invoke_agent writer").attributes
    assert agent[sc.OTEL_LLM_AGENT_LLM_CALLS] == 1
    assert agent[sc.OTEL_LLM_AGENT_UNFINISHED_CALLS] == 1  # it ended after the agent: not in its totals


def test_a_retrying_wrapper_counts_each_model_call_it_made(cap):
    """``@llm_call`` around a loop that calls the model twice: two model calls, not three, not one."""
    attempts = iter([TimeoutError(), None])

    @otel_llm.llm_call(model="test-model", provider="openai")
    def call_api() -> ChatCompletion:
        failure = next(attempts)
        if failure is not None:
            raise failure
        return _completion(input_tokens=10, output_tokens=5)

    @otel_llm.llm_call(model="test-model", provider="openai")
    def ask() -> ChatCompletion:
        try:
            return call_api()
        except TimeoutError:
            return call_api()

    otel_llm.agent("retrier")(ask)()
    agent = cap.span("invoke_agent retrier").attributes
    assert (agent[sc.OTEL_LLM_AGENT_LLM_CALLS], agent[sc.OTEL_LLM_AGENT_INPUT_TOKENS]) == (2, 10)
