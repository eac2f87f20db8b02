"""A model name is bounded wherever otel-llm copies it: span name, ``gen_ai.request.model`` /
``gen_ai.response.model``, metric point attributes and the price lookup.

A model name comes from the app's arguments or the provider's response; one of a
megabyte (an id concatenated with a payload, a user's text passed as the model)
was copied whole into every span and every metric point of its call site, and
matched against every price in the table on the app's call (seconds per call).
Control characters (a newline, a terminal escape) in a name are kept visible as
escapes rather than written raw into span names. Ordinary names are untouched.
"""

from __future__ import annotations

from typing import Any

import pytest

import otel_llm
from otel_llm import _names, pricing
from otel_llm import semconv as sc
from otel_llm._names import MAX_NAME_CHARS
from otel_llm.testing import Capture

HUGE = "m" * 1_000_000
CUT = "m" * MAX_NAME_CHARS + "…[truncated from 1000000 chars]"


@pytest.fixture(autouse=True)
def _fresh_notices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_names, "_said", set())


def _llm_span(cap: Capture) -> Any:
    return [s for s in cap.spans() if s.attributes.get(sc.OTEL_LLM_KIND) == sc.KIND_LLM_CALL][-1]


def _point_models(cap: Capture) -> set[str]:
    return {str(p.attributes.get(sc.GEN_AI_REQUEST_MODEL)) for points in cap.metrics().values() for p in points
            if sc.GEN_AI_REQUEST_MODEL in p.attributes}


def _priced_models(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    asked: list[Any] = []
    cost = pricing.PriceBook.cost

    def spy(self: pricing.PriceBook, model: Any, *args: Any, **kwargs: Any) -> Any:
        asked.append(model)
        return cost(self, model, *args, **kwargs)

    monkeypatch.setattr(pricing.PriceBook, "cost", spy)
    return asked


def test_a_huge_model_argument_is_cut_with_a_marker_everywhere_and_said_once(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    asked = _priced_models(monkeypatch)

    @otel_llm.llm_call
    def ask(model: str) -> dict[str, Any]:
        return {"usage": {"prompt_tokens": 3, "completion_tokens": 2}}

    with Capture(project="p", pricing={"test-model": {"input": 1.0, "output": 2.0}}) as cap:
        ask(model=HUGE)
        ask(model=HUGE)
        span = _llm_span(cap)
        assert span.name == f"chat {CUT}"
        assert span.attributes[sc.GEN_AI_REQUEST_MODEL] == CUT
        assert _point_models(cap) == {CUT}
    assert asked == [CUT, CUT]
    said = [line for line in capsys.readouterr().err.splitlines() if "truncated from" in line]
    assert len(said) == 1 and "1000000" in said[0] and str(MAX_NAME_CHARS) in said[0]


def test_a_huge_model_given_to_the_decorator_is_cut() -> None:
    @otel_llm.llm_call(model=HUGE, provider="openai")
    def ask() -> dict[str, Any]:
        return {"usage": {"prompt_tokens": 3, "completion_tokens": 2}}

    with Capture(project="p") as cap:
        ask()
        span = _llm_span(cap)
        assert span.name == f"chat {CUT}" and span.attributes[sc.GEN_AI_REQUEST_MODEL] == CUT
        assert _point_models(cap) == {CUT}
        active = cap.metrics()[sc.METRIC_ACTIVE]
        names = {p.attributes[sc.OTEL_LLM_SPAN_NAME] for p in active}  # (other tests' call sites too)
        assert f"chat {CUT}" in names and max(map(len, names)) == len(f"chat {CUT}")


def test_a_huge_response_model_is_cut_on_the_span_and_in_the_price_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    asked = _priced_models(monkeypatch)

    @otel_llm.llm_call(model="test-model")
    def ask() -> dict[str, Any]:
        return {"model": HUGE, "usage": {"prompt_tokens": 3, "completion_tokens": 2}}

    with Capture(project="p", pricing={"test-model": {"input": 1.0, "output": 2.0}}) as cap:
        ask()
        attrs = _llm_span(cap).attributes
    assert attrs[sc.GEN_AI_RESPONSE_MODEL] == CUT
    assert asked == [CUT]


def test_record_usage_model_is_cut() -> None:
    @otel_llm.llm_call(model="test-model")
    def ask() -> str:
        otel_llm.record_usage(input_tokens=3, output_tokens=2, model=HUGE)
        return "x"

    with Capture(project="p") as cap:
        ask()
    assert _llm_span(cap).attributes[sc.GEN_AI_RESPONSE_MODEL] == CUT


def test_control_characters_in_a_model_name_are_escaped_and_said_once(capsys: pytest.CaptureFixture[str]) -> None:
    @otel_llm.llm_call
    def ask(model: str) -> dict[str, Any]:
        return {"model": "gpt-4o\r", "usage": {"prompt_tokens": 3, "completion_tokens": 2}}

    with Capture(project="p") as cap:
        ask(model="gpt-4o\n\x1b[31m\x00")
        ask(model="gpt-4o\t")
        span = _llm_span(cap)
        first = [s for s in cap.spans() if s.attributes.get(sc.OTEL_LLM_KIND) == sc.KIND_LLM_CALL][0]
    assert first.name == "chat gpt-4o\\x0a\\x1b[31m\\x00"
    assert first.attributes[sc.GEN_AI_REQUEST_MODEL] == "gpt-4o\\x0a\\x1b[31m\\x00"
    assert span.name == "chat gpt-4o"  # a line's end trimmed, as the price lookup trims it
    assert span.attributes[sc.GEN_AI_RESPONSE_MODEL] == "gpt-4o"
    said = [line for line in capsys.readouterr().err.splitlines() if "control character" in line]
    assert len(said) == 1


def test_a_model_name_ending_a_line_is_trimmed_and_still_priced() -> None:
    """A model read from a file or an environment variable with its line's end: recorded without it, priced
    as the price lookup (which trims names) always priced it."""
    @otel_llm.llm_call(provider="openai")
    def ask(model: str) -> dict[str, Any]:
        return {"model": model, "usage": {"prompt_tokens": 3, "completion_tokens": 2}}

    with Capture(project="p", pricing={"test-model": {"input": 1.0, "output": 2.0}}) as cap:
        ask(model="test-model\r\n")
        attrs = _llm_span(cap).attributes
    assert (attrs[sc.GEN_AI_REQUEST_MODEL], attrs[sc.GEN_AI_RESPONSE_MODEL]) == ("test-model", "test-model")
    assert attrs[sc.GEN_AI_USAGE_COST] == pytest.approx(3e-6 + 4e-6)


@pytest.mark.parametrize("name", [
    "gpt-4o", "anthropic/claude-sonnet-4.5", "modèle-été-测试",
    "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/" + "a" * 300,
    "x" * MAX_NAME_CHARS,
], ids=["plain", "vendor", "unicode", "long-arn", "at-bound"])
def test_ordinary_model_names_are_untouched(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    @otel_llm.llm_call
    def ask(model: str) -> dict[str, Any]:
        return {"model": model, "usage": {"prompt_tokens": 3, "completion_tokens": 2}}

    with Capture(project="p") as cap:
        ask(model=name)
        span = _llm_span(cap)
        assert span.name == f"chat {name}"
        assert (span.attributes[sc.GEN_AI_REQUEST_MODEL], span.attributes[sc.GEN_AI_RESPONSE_MODEL]) == (name, name)
        assert _point_models(cap) == {name}
    assert "truncated" not in capsys.readouterr().err


def test_one_character_past_the_bound_is_cut() -> None:
    name = "y" * (MAX_NAME_CHARS + 1)
    assert _names.model_name(name) == "y" * MAX_NAME_CHARS + f"…[truncated from {MAX_NAME_CHARS + 1} chars]"


# --- tool names and tool call ids, from the model's tool calls ------------------------------------


def _tool_call(call_id: str, name: str) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": "{}"}}


def test_a_huge_tool_name_and_call_id_from_the_model_are_cut_and_still_linked(
        capsys: pytest.CaptureFixture[str]) -> None:
    """A tool dispatcher named after the tool the model called: the model's name and id are cut as a model
    name is; the tool span still links to the model call that asked for it (both sides cut alike)."""
    call = _tool_call("call_" + "i" * 1_000_000, HUGE)

    @otel_llm.llm_call(model="test-model")
    def ask() -> dict[str, Any]:
        return {"choices": [{"index": 0, "finish_reason": "tool_calls",
                             "message": {"role": "assistant", "tool_calls": [call]}}],
                "usage": {"prompt_tokens": 3, "completion_tokens": 2}}

    @otel_llm.tool
    def dispatch(tool_call: dict[str, Any]) -> str:
        return "ok"

    with Capture(project="p") as cap:
        ask()
        dispatch(call)
        tool = cap.spans()[-1]
        durations = cap.metrics()[sc.METRIC_TOOL_DURATION]
    cut_id = "call_" + "i" * (MAX_NAME_CHARS - 5) + "…[truncated from 1000005 chars]"
    assert tool.name == f"execute_tool {CUT}"
    assert tool.attributes[sc.GEN_AI_TOOL_NAME] == CUT and tool.attributes[sc.GEN_AI_TOOL_CALL_ID] == cut_id
    assert {p.attributes[sc.GEN_AI_TOOL_NAME] for p in durations} == {CUT}
    model_call = _llm_span(cap)
    assert model_call.attributes[sc.OTEL_LLM_RESPONSE_TOOL_CALL_IDS] == (cut_id,)
    assert [link.context.span_id for link in tool.links] == [model_call.context.span_id]
    said = [line for line in capsys.readouterr().err.splitlines() if "truncated from" in line]
    assert len(said) == 2 and any("tool name" in line for line in said) and any("tool call id" in line for line in said)


def test_a_huge_tool_call_id_passed_as_an_argument_is_cut_as_the_models_is() -> None:
    """``tool_call_id=`` (LangChain's InjectedToolCallId): the id the model call remembered, cut alike."""
    call_id = "call_" + "j" * 1_000_000

    @otel_llm.llm_call(model="test-model")
    def ask() -> dict[str, Any]:
        return {"choices": [{"index": 0, "finish_reason": "tool_calls",
                             "message": {"role": "assistant", "tool_calls": [_tool_call(call_id, "lookup")]}}]}

    @otel_llm.tool("lookup")
    def lookup(tool_call_id: str) -> str:
        return "ok"

    with Capture(project="p") as cap:
        ask()
        lookup(tool_call_id=call_id)
        tool = cap.spans()[-1]
    assert len(tool.attributes[sc.GEN_AI_TOOL_CALL_ID]) < MAX_NAME_CHARS + 40
    assert [link.context.span_id for link in tool.links] == [_llm_span(cap).context.span_id]


def test_a_huge_response_id_is_cut() -> None:
    @otel_llm.llm_call(model="test-model")
    def ask() -> dict[str, Any]:
        return {"id": HUGE, "model": "test-model", "usage": {"prompt_tokens": 3, "completion_tokens": 2}}

    with Capture(project="p") as cap:
        ask()
    assert _llm_span(cap).attributes[sc.GEN_AI_RESPONSE_ID] == CUT


def test_huge_graph_vector_and_agent_names_the_app_gives_are_cut_everywhere_they_are_copied() -> None:
    """A node, graph, vector operation, collection, agent name or agent id of a megabyte was copied whole
    into its span name and attributes, every span inside it (node and agent names are inherited) and the
    attributes of its metric points."""
    @otel_llm.llm_call(model="gpt-4o", provider="openai")
    def ask() -> dict[str, Any]:
        return {"usage": {"prompt_tokens": 3, "completion_tokens": 2}}

    @otel_llm.vector_op(HUGE, collection=HUGE)
    def search() -> list[str]:
        return ["doc"]

    @otel_llm.graph_node(HUGE, graph=HUGE)
    def node() -> None:
        search()
        ask()

    @otel_llm.agent(HUGE, id=HUGE)
    def run() -> None:
        node()

    with Capture(project="p") as cap:
        run()
        spans = cap.spans()
        # (the vector operation's span name is its two names: each cut)
        assert max(len(s.name) for s in spans) <= len(f"{CUT} {CUT}"), [len(s.name) for s in spans]
        for span in spans:
            for key in (sc.OTEL_LLM_GRAPH_NODE, sc.OTEL_LLM_GRAPH_NAME, sc.GEN_AI_AGENT_NAME, sc.GEN_AI_AGENT_ID,
                        sc.DB_OPERATION_NAME, sc.DB_COLLECTION_NAME):
                if key in span.attributes:
                    assert span.attributes[key] == CUT, (span.name[:40], key)
        assert _llm_span(cap).attributes[sc.OTEL_LLM_GRAPH_NODE] == CUT  # inherited, cut
        longest = max(len(str(v)) for points in cap.metrics().values() for p in points for v in p.attributes.values())
        assert longest <= len(f"{CUT} {CUT}")  # (the running-calls metric names each span)


def test_an_agent_named_by_its_objects_huge_name_attribute_is_cut() -> None:
    class Researcher:
        name = HUGE

        @otel_llm.agent
        def run(self) -> None:
            pass

    with Capture(project="p") as cap:
        Researcher().run()
        (span,) = cap.spans()
        assert span.name == f"invoke_agent {CUT}" and span.attributes[sc.GEN_AI_AGENT_NAME] == CUT


def test_an_agent_id_given_as_a_number_is_recorded_not_refused() -> None:
    @otel_llm.agent("planner", id=7)  # type: ignore[arg-type]  # an app's id may be a number
    def run() -> int:
        return 1

    with Capture(project="p") as cap:
        assert run() == 1
        (span,) = cap.spans()
        assert span.attributes[sc.GEN_AI_AGENT_ID] == "7"


def _response(reasons: list[Any]) -> dict[str, Any]:
    return {"model": "gpt-4o", "usage": {"prompt_tokens": 3, "completion_tokens": 2},
            "choices": [{"index": i, "finish_reason": r, "message": {"content": "x"}} for i, r in enumerate(reasons)]}


def test_huge_finish_reasons_from_the_response_are_cut_each_and_said_once(capsys: pytest.CaptureFixture[str]) -> None:
    @otel_llm.llm_call(model="gpt-4o", provider="openai")
    def ask() -> dict[str, Any]:
        return _response([HUGE, "stop"])

    with Capture(project="p", capture_content=True) as cap:
        ask()
        ask()
        span = _llm_span(cap)
        assert span.attributes[sc.GEN_AI_RESPONSE_FINISH_REASONS] == (CUT, "stop")
        (event,) = [e for e in span.events if e.name == sc.EVENT_LLM_RESPONSE]
        assert event.attributes[sc.GEN_AI_RESPONSE_FINISH_REASONS] == (CUT, "stop")
    said = [line for line in capsys.readouterr().err.splitlines() if "finish reason" in line]
    assert len(said) == 1 and "1000000" in said[0]


def test_a_response_with_more_finish_reasons_than_the_bound_keeps_the_first_and_says_how_many(
        capsys: pytest.CaptureFixture[str]) -> None:
    many = [f"r{i}" for i in range(100_000)]

    @otel_llm.llm_call(model="gpt-4o", provider="openai")
    def ask() -> dict[str, Any]:
        return _response(many)

    with Capture(project="p") as cap:
        ask()
        ask()
        reasons = _llm_span(cap).attributes[sc.GEN_AI_RESPONSE_FINISH_REASONS]
    assert len(reasons) == _names.MAX_FINISH_REASONS
    assert list(reasons[:-1]) == many[: _names.MAX_FINISH_REASONS - 1]
    assert reasons[-1] == "…[truncated from 100000 finish reasons]"
    said = [line for line in capsys.readouterr().err.splitlines() if "finish reasons" in line]
    assert len(said) == 1 and "100000" in said[0]


@pytest.mark.parametrize("reasons", [["stop"], ["length", "tool_calls"], ["content_filter"] * 128])
def test_ordinary_finish_reasons_are_untouched(reasons: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    @otel_llm.llm_call(model="gpt-4o", provider="openai")
    def ask() -> dict[str, Any]:
        return _response(reasons)

    with Capture(project="p") as cap:
        ask()
        assert _llm_span(cap).attributes[sc.GEN_AI_RESPONSE_FINISH_REASONS] == tuple(reasons)
    assert "finish reason" not in capsys.readouterr().err


def test_a_response_with_more_tool_calls_than_the_bound_lists_the_first_ids_and_says_how_many(
        capsys: pytest.CaptureFixture[str]) -> None:
    """Each tool call id is bounded, but their count was not: a response asking for 100,000 tool calls put
    100,000 ids on its span. The span lists the first ones and a marker saying how many there were (said
    once on stderr); the tool spans still find the call that asked for theirs."""
    calls = [{"id": f"call_{i}", "type": "function", "function": {"name": "f", "arguments": "{}"}}
             for i in range(100_000)]

    @otel_llm.llm_call(model="gpt-4o", provider="openai")
    def ask() -> dict[str, Any]:
        return {"model": "gpt-4o", "usage": {"prompt_tokens": 3, "completion_tokens": 2},
                "choices": [{"index": 0, "finish_reason": "tool_calls",
                             "message": {"role": "assistant", "tool_calls": calls}}]}

    @otel_llm.tool(name="f")
    def run_tool(tool_call_id: str) -> str:
        return "done"

    with Capture(project="p") as cap:
        ask()
        ask()
        run_tool(tool_call_id="call_99999")
        ids = _llm_span(cap).attributes[sc.OTEL_LLM_RESPONSE_TOOL_CALL_IDS]
        (tool,) = [s for s in cap.spans() if s.attributes.get(sc.OTEL_LLM_KIND) == sc.KIND_TOOL]
    assert len(ids) == _names.MAX_TOOL_CALL_IDS
    assert list(ids[:-1]) == [f"call_{i}" for i in range(_names.MAX_TOOL_CALL_IDS - 1)]
    assert ids[-1] == "…[truncated from 100000 tool call ids]"
    said = [line for line in capsys.readouterr().err.splitlines() if "tool call ids" in line]
    assert len(said) == 1 and "100000" in said[0]
    assert [link.context.span_id for link in tool.links] == [_llm_span(cap).context.span_id]
