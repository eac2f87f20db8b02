"""What each decorator puts on its span: names, kinds, attributes, events, roll-ups."""

from __future__ import annotations

import inspect

import pytest
from opentelemetry.trace import SpanKind, StatusCode

import otel_llm
from otel_llm import _runtime
from otel_llm import semconv as sc


def _events(span, name):
    return [dict(e.attributes) for e in span.events if e.name == name]


# --- llm_call ------------------------------------------------------------------


def test_llm_call_span_name_kind_request_and_usage_attributes(cap, response):
    @otel_llm.llm_call(model="test-model", provider="openai", temperature=0.2, max_tokens=256, seed=7)
    def ask(prompt: str) -> dict:
        return response(input_tokens=1000, output_tokens=500, model="test-model-2026")

    ask("hello")
    span = cap.span("chat test-model")
    assert span.kind is SpanKind.CLIENT
    attrs = dict(span.attributes)
    assert attrs[sc.OTEL_LLM_KIND] == sc.KIND_LLM_CALL
    assert attrs[sc.OTEL_LLM_PROJECT] == "alpha"
    assert attrs[sc.GEN_AI_OPERATION_NAME] == "chat"
    assert attrs[sc.GEN_AI_PROVIDER_NAME] == "openai"
    assert attrs[sc.GEN_AI_REQUEST_MODEL] == "test-model"
    assert attrs[sc.GEN_AI_REQUEST_TEMPERATURE] == 0.2
    assert attrs[sc.GEN_AI_REQUEST_MAX_TOKENS] == 256
    assert attrs[sc.GEN_AI_REQUEST_SEED] == 7
    assert attrs[sc.GEN_AI_USAGE_INPUT_TOKENS] == 1000
    assert attrs[sc.GEN_AI_USAGE_OUTPUT_TOKENS] == 500
    assert attrs[sc.GEN_AI_RESPONSE_MODEL] == "test-model-2026"
    assert attrs[sc.GEN_AI_RESPONSE_ID] == "resp-1"
    assert attrs[sc.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    assert span.status.status_code is StatusCode.UNSET


def test_llm_call_cost_from_user_price_table(cap, response):
    @otel_llm.llm_call(model="test-model", provider="openai")
    def ask() -> dict:
        return response(input_tokens=1_000_000, output_tokens=500_000)

    ask()
    attrs = cap.span("chat test-model").attributes
    # 1M input at $1/M + 0.5M output at $2/M
    assert attrs[sc.GEN_AI_USAGE_COST] == pytest.approx(2.0)
    assert isinstance(attrs[sc.GEN_AI_USAGE_COST], float)
    assert attrs[sc.OTEL_LLM_COST_SOURCE] == "user"


def test_llm_call_cost_from_genai_prices_is_labelled_with_its_version(cap, response):
    @otel_llm.llm_call(model="gpt-4o", provider="openai")
    def ask() -> dict:
        return response(model="gpt-4o-2024-08-06")

    ask()
    attrs = cap.span("chat gpt-4o").attributes
    assert attrs[sc.GEN_AI_USAGE_COST] > 0
    assert attrs[sc.OTEL_LLM_COST_SOURCE].startswith("genai-prices@")


def test_unknown_model_gets_no_cost_attribute_never_zero(cap, response):
    @otel_llm.llm_call(model="no-such-model-xyz", provider="nobody")
    def ask() -> dict:
        return response(model="no-such-model-xyz")

    ask()
    attrs = cap.span("chat no-such-model-xyz").attributes
    assert attrs[sc.GEN_AI_USAGE_INPUT_TOKENS] == 10
    assert sc.GEN_AI_USAGE_COST not in attrs
    assert sc.OTEL_LLM_COST_SOURCE not in attrs


@pytest.mark.parametrize(
    ("capture", "events"),
    [
        ("cap", {}),  # model and finish reasons are attributes: nothing to repeat in an event
        ("cap_content", {
            sc.EVENT_LLM_REQUEST: {sc.GEN_AI_REQUEST_MODEL: "test-model", sc.EVENT_ATTR_CONTENT: "hi"},
            sc.EVENT_LLM_RESPONSE: {sc.EVENT_ATTR_CONTENT: "hi there", sc.GEN_AI_RESPONSE_FINISH_REASONS: ("length",)},
        }),
    ],
)
def test_llm_call_events_only_carry_the_captured_prompt_and_completion(request, response, capture, events):
    cap = request.getfixturevalue(capture)

    @otel_llm.llm_call(model="test-model", provider="openai")
    def ask(prompt: str) -> dict:
        return response(finish="length")

    ask("hi")
    span = cap.span("chat test-model")
    assert {e.name: dict(e.attributes) for e in span.events} == events
    assert [e.name for e in span.events] == list(events)  # request before response
    assert span.attributes[sc.GEN_AI_REQUEST_MODEL] == "test-model"
    assert span.attributes[sc.GEN_AI_RESPONSE_FINISH_REASONS] == ("length",)


def test_llm_call_failure_records_exception_and_error_type(cap):
    @otel_llm.llm_call(model="test-model", provider="openai")
    def ask() -> dict:
        raise TimeoutError("upstream timed out")

    with pytest.raises(TimeoutError):
        ask()
    span = cap.span("chat test-model")
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes[sc.ERROR_TYPE] == "TimeoutError"
    assert [e.name for e in span.events] == ["exception"]  # the standard event; error.type is on the span
    exc_event = _events(span, "exception")[0]
    assert exc_event["exception.type"] == "TimeoutError"
    assert exc_event["exception.message"] == "upstream timed out"


def test_record_usage_fills_in_when_result_has_none(cap):
    @otel_llm.llm_call(model="test-model", provider="openai")
    def ask() -> str:
        otel_llm.record_usage(input_tokens=2_000_000, output_tokens=1_000_000, cache_read_tokens=1_000_000)
        return "plain text"

    assert ask() == "plain text"
    attrs = cap.span("chat test-model").attributes
    assert attrs[sc.GEN_AI_USAGE_INPUT_TOKENS] == 2_000_000
    assert attrs[sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == 1_000_000
    # 1M uncached input at $1 + 1M cache read at $0.5 + 1M output at $2
    assert attrs[sc.GEN_AI_USAGE_COST] == pytest.approx(3.5)


def test_record_usage_wins_over_the_return_value_and_merges(cap, response):
    @otel_llm.llm_call(model="test-model", provider="openai")
    def ask() -> dict:
        otel_llm.record_usage(output_tokens=99, reasoning_tokens=40)
        return response(input_tokens=10, output_tokens=5)

    ask()
    attrs = cap.span("chat test-model").attributes
    assert attrs[sc.GEN_AI_USAGE_INPUT_TOKENS] == 10  # from the result
    assert attrs[sc.GEN_AI_USAGE_OUTPUT_TOKENS] == 99  # recorded wins
    assert attrs[sc.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] == 40


def test_record_usage_applies_to_innermost_llm_call(cap):
    @otel_llm.llm_call(model="inner-model", provider="openai")
    def inner() -> str:
        otel_llm.record_usage(input_tokens=3, output_tokens=4)
        return "x"

    @otel_llm.llm_call(model="outer-model", provider="openai")
    def outer() -> str:
        inner()
        return "y"

    outer()
    assert cap.span("chat inner-model").attributes[sc.GEN_AI_USAGE_INPUT_TOKENS] == 3
    assert sc.GEN_AI_USAGE_INPUT_TOKENS not in cap.span("chat outer-model").attributes


def test_record_usage_outside_llm_call_is_a_noop(cap):
    @otel_llm.graph_node("plain")
    def node() -> int:
        otel_llm.record_usage(input_tokens=5)
        return 1

    otel_llm.record_usage(input_tokens=5)  # no span at all
    assert node() == 1
    assert sc.GEN_AI_USAGE_INPUT_TOKENS not in cap.span("plain").attributes


def test_record_usage_outside_an_llm_call_says_its_counts_are_not_recorded(cap, capsys, monkeypatch):
    """Tokens reported in an agent's own body (not inside a model call) have no span to go to:
    they are lost, and stderr says so once, rather than a debug line nobody sees."""
    from otel_llm import _record

    monkeypatch.setattr(_record, "_outside_said", False)

    @otel_llm.agent("planner")
    def plan() -> str:
        otel_llm.record_usage(input_tokens=120, output_tokens=8)
        otel_llm.record_usage(input_tokens=30)
        return "ok"

    assert plan() == "ok"
    assert cap.span("invoke_agent planner").attributes[sc.OTEL_LLM_AGENT_INPUT_TOKENS] == 0
    lines = [line for line in capsys.readouterr().err.splitlines() if "record_usage" in line]
    assert len(lines) == 1 and "not recorded" in lines[0] and "@otel_llm.llm_call" in lines[0]


def test_record_usage_model_prices_the_model_that_answered(cap):
    @otel_llm.llm_call(model="router", provider="openai")
    def ask() -> str:
        otel_llm.record_usage(input_tokens=1_000_000, output_tokens=0, model="test-model")
        return "ok"

    ask()
    attrs = cap.span("chat router").attributes
    assert attrs[sc.GEN_AI_RESPONSE_MODEL] == "test-model"
    assert attrs[sc.GEN_AI_USAGE_COST] == pytest.approx(1.0)


# --- vector_op -------------------------------------------------------------------


def test_vector_op_attributes_and_returned_rows(cap):
    @otel_llm.vector_op("search", collection="docs", db_system="chroma", top_k=3)
    def search(query: str) -> list[str]:
        return ["a", "b", "c"]

    assert search("q") == ["a", "b", "c"]
    span = cap.span("search docs")
    assert span.kind is SpanKind.CLIENT
    attrs = dict(span.attributes)
    assert attrs[sc.OTEL_LLM_KIND] == sc.KIND_VECTOR_OP
    assert attrs[sc.DB_SYSTEM_NAME] == "chroma"
    assert attrs[sc.DB_OPERATION_NAME] == "search"
    assert attrs[sc.DB_COLLECTION_NAME] == "docs"
    assert attrs[sc.GEN_AI_REQUEST_TOP_K] == 3
    assert attrs[sc.DB_RESPONSE_RETURNED_ROWS] == 3


CHROMA_QUERY = {  # what chromadb's collection.query(query_texts=[two texts], n_results=3) returns: ids per query
    "ids": [["a", "b", "c"], ["d", "e", "f"]], "distances": [[0.1, 0.2, 0.3], [0.1, 0.2, 0.3]],
    "documents": [["A", "B", "C"], ["D", "E", "F"]], "metadatas": [[{}, {}, {}], [{}, {}, {}]],
    "embeddings": None, "uris": None, "data": None, "included": ["metadatas", "documents", "distances"],
}
CHROMA_GET = {"ids": ["a", "b", "c", "d"], "documents": ["A", "B", "C", "D"], "metadatas": [{}, {}, {}, {}],
              "embeddings": None, "uris": None, "data": None, "included": ["metadatas", "documents"]}


@pytest.mark.parametrize(("result", "rows"), [(CHROMA_QUERY, 6), (CHROMA_GET, 4), ({"status": "ok"}, None)],
                         ids=["chroma-query", "chroma-get", "other-mapping"])
def test_vector_op_rows_of_a_mapping_are_its_ids_not_its_keys(cap, result, rows):
    """A result mapping (Chroma's QueryResult and GetResult are dicts) returns the rows its ``ids`` list."""

    @otel_llm.vector_op("search", collection="docs", db_system="chroma")
    def search() -> dict:
        return result

    assert search() is result
    assert cap.span("search docs").attributes.get(sc.DB_RESPONSE_RETURNED_ROWS) == rows


def test_vector_op_without_length_has_no_rows_and_no_top_k(cap):
    @otel_llm.vector_op("upsert", collection="docs", db_system="qdrant")
    def upsert() -> None:
        return None

    upsert()
    attrs = cap.span("upsert docs").attributes
    assert sc.DB_RESPONSE_RETURNED_ROWS not in attrs
    assert sc.GEN_AI_REQUEST_TOP_K not in attrs


# --- graph_node ------------------------------------------------------------------


def test_graph_node_forms_and_attributes(cap):
    @otel_llm.graph_node
    def classify() -> str:
        return "faq"

    @otel_llm.graph_node("retrieve", graph="rag")
    def fetch() -> dict:
        return {"documents": [1], "query": "q"}

    @otel_llm.graph_node()
    def grade() -> None:
        return None

    classify(), fetch(), grade()
    bare = cap.span("classify")
    assert bare.kind is SpanKind.INTERNAL
    assert bare.attributes[sc.OTEL_LLM_KIND] == sc.KIND_GRAPH_NODE
    assert bare.attributes[sc.OTEL_LLM_GRAPH_NODE] == "classify"
    assert sc.OTEL_LLM_GRAPH_NAME not in bare.attributes
    named = cap.span("retrieve")
    assert named.attributes[sc.OTEL_LLM_GRAPH_NODE] == "retrieve"
    assert named.attributes[sc.OTEL_LLM_GRAPH_NAME] == "rag"
    assert _events(named, sc.EVENT_GRAPH_STATE_UPDATE) == [{sc.EVENT_ATTR_STATE_KEYS: ("documents", "query")}]
    assert cap.span("grade").attributes[sc.OTEL_LLM_GRAPH_NODE] == "grade"
    assert _events(bare, sc.EVENT_GRAPH_STATE_UPDATE) == []


def test_nested_graph_nodes_nest_as_child_spans(cap):
    @otel_llm.graph_node("inner")
    def inner() -> int:
        return 1

    @otel_llm.graph_node("outer")
    def outer() -> int:
        return inner() + 1

    assert outer() == 2
    assert cap.span("inner").parent.span_id == cap.span("outer").context.span_id
    assert cap.span("inner").context.trace_id == cap.span("outer").context.trace_id


def test_spans_inside_a_node_carry_the_innermost_node(cap, response):
    """Cost per graph node needs the node on the LLM calls and vector ops it ran."""

    @otel_llm.llm_call(model="test-model", provider="openai")
    def ask() -> dict:
        return response()

    @otel_llm.vector_op("search", collection="docs")
    def search() -> list:
        return [1]

    @otel_llm.graph_node("grade")
    def grade() -> dict:
        return ask()

    @otel_llm.graph_node("generate", graph="rag")
    def generate() -> dict:
        search()
        ask()
        return grade()

    generate()
    ask()  # outside every node
    calls = [s for s in cap.spans() if s.name == "chat test-model"]
    assert [c.attributes.get(sc.OTEL_LLM_GRAPH_NODE) for c in calls] == ["generate", "grade", None]
    assert [c.attributes.get(sc.OTEL_LLM_GRAPH_NAME) for c in calls] == ["rag", "rag", None]
    assert cap.span("search docs").attributes[sc.OTEL_LLM_GRAPH_NODE] == "generate"
    assert cap.span("grade").attributes[sc.OTEL_LLM_GRAPH_NODE] == "grade"  # a node names itself
    assert cap.span("grade").attributes[sc.OTEL_LLM_GRAPH_NAME] == "rag"  # ...inside its parent's graph


# --- chat ------------------------------------------------------------------------


def test_chat_turn_rolls_up_child_llm_calls(cap, response):
    @otel_llm.llm_call(model="test-model", provider="openai")
    def ask(n_in: int, n_out: int) -> dict:
        return response(input_tokens=n_in, output_tokens=n_out)

    @otel_llm.llm_call(model="no-such-model-xyz", provider="nobody")
    def unpriced() -> dict:
        return response(input_tokens=7, output_tokens=1, model="no-such-model-xyz")

    @otel_llm.graph_node("generate")
    def generate() -> None:
        ask(300_000, 100_000)  # nested one level deeper: still part of the turn

    @otel_llm.chat(thread_id_arg="conversation")
    def answer(question: str, conversation: str) -> str:
        ask(1_000_000, 200_000)
        generate()
        unpriced()
        return "forty-two"

    assert answer("what?", "c-1") == "forty-two"
    turn = cap.span("chat_turn answer")
    llm_spans = [s for s in cap.spans() if s.attributes[sc.OTEL_LLM_KIND] == sc.KIND_LLM_CALL]
    assert len(llm_spans) == 3
    assert turn.attributes[sc.OTEL_LLM_TURN_LLM_CALLS] == 3
    assert turn.attributes[sc.OTEL_LLM_TURN_INPUT_TOKENS] == sum(
        s.attributes[sc.GEN_AI_USAGE_INPUT_TOKENS] for s in llm_spans
    )
    assert turn.attributes[sc.OTEL_LLM_TURN_OUTPUT_TOKENS] == sum(
        s.attributes[sc.GEN_AI_USAGE_OUTPUT_TOKENS] for s in llm_spans
    )
    assert turn.attributes[sc.OTEL_LLM_TURN_COST] == pytest.approx(
        sum(s.attributes.get(sc.GEN_AI_USAGE_COST, 0.0) for s in llm_spans)
    )
    assert turn.attributes[sc.OTEL_LLM_TURN_COST] == pytest.approx(1.4 + 0.5)
    assert turn.attributes[sc.GEN_AI_CONVERSATION_ID] == "c-1"
    assert turn.attributes[sc.OTEL_LLM_KIND] == sc.KIND_CHAT


def test_an_llm_call_around_another_is_one_model_call_in_roll_ups_and_metrics(cap, response):
    """``@llm_call`` around a function that calls another ``@llm_call`` (a retrying or logging
    wrapper): one model call, as the analysis counts it — the turn and the token and cost metrics
    count the inner call once, not its wrapper again."""

    @otel_llm.llm_call(model="test-model", provider="openai")
    def call_api() -> dict:
        return response(input_tokens=10, output_tokens=5)

    @otel_llm.llm_call(model="test-model", provider="openai")
    def ask() -> dict:
        return call_api()

    @otel_llm.chat
    def answer(question: str) -> str:
        ask()
        return "a"

    answer("q")
    turn = cap.span("chat_turn answer").attributes
    assert (turn[sc.OTEL_LLM_TURN_LLM_CALLS], turn[sc.OTEL_LLM_TURN_INPUT_TOKENS]) == (1, 10)
    assert turn[sc.OTEL_LLM_TURN_COST] == pytest.approx((10 * 1.0 + 5 * 2.0) / 1e6)
    metrics = cap.metrics()
    assert sorted(p.sum for p in metrics[sc.METRIC_TOKEN_USAGE]) == [5, 10]
    assert [p.value for p in metrics[sc.METRIC_COST]] == [pytest.approx((10 * 1.0 + 5 * 2.0) / 1e6)]
    for name in ("chat test-model",):  # both spans keep what they saw (the analysis pairs them)
        assert all(s.attributes[sc.GEN_AI_USAGE_INPUT_TOKENS] == 10 for s in cap.spans() if s.name == name)


def test_two_turns_do_not_share_a_roll_up(cap, response):
    @otel_llm.llm_call(model="test-model", provider="openai")
    def ask() -> dict:
        return response(input_tokens=10, output_tokens=1)

    @otel_llm.chat
    def answer(question: str) -> str:
        ask()
        return "a"

    answer("one"), answer("two")
    turns = [s for s in cap.spans() if s.name == "chat_turn answer"]
    assert [t.attributes[sc.OTEL_LLM_TURN_INPUT_TOKENS] for t in turns] == [10, 10]


def test_chat_turn_without_llm_calls_has_zero_roll_up_and_no_cost(cap):
    @otel_llm.chat
    def answer(question: str) -> str:
        return "nothing"

    answer("q")
    attrs = cap.span("chat_turn answer").attributes
    assert attrs[sc.OTEL_LLM_TURN_INPUT_TOKENS] == 0
    assert attrs[sc.OTEL_LLM_TURN_LLM_CALLS] == 0
    assert sc.OTEL_LLM_TURN_COST not in attrs


def test_chat_message_events_carry_role_and_length_only(cap):
    @otel_llm.chat
    def answer(question: str, thread_id: str) -> str:
        return "an answer"

    answer("my secret question", thread_id="t-7")
    span = cap.span("chat_turn answer")
    assert span.attributes[sc.GEN_AI_CONVERSATION_ID] == "t-7"  # default thread_id parameter
    assert _events(span, sc.EVENT_CHAT_MESSAGE) == [
        {sc.EVENT_ATTR_ROLE: "user", sc.EVENT_ATTR_LENGTH: len("my secret question")},
        {sc.EVENT_ATTR_ROLE: "assistant", sc.EVENT_ATTR_LENGTH: len("an answer")},
    ]


# --- every span ------------------------------------------------------------------


def test_session_attributes_on_every_kind(cap, response):
    @otel_llm.llm_call(model="test-model", provider="openai")
    def ask() -> dict:
        return response()

    @otel_llm.vector_op("search", collection="docs", db_system="chroma")
    def search() -> list:
        return []

    @otel_llm.graph_node("node")
    def node() -> None:
        search()
        ask()

    @otel_llm.chat
    def answer(question: str) -> str:
        node()
        return "ok"

    with otel_llm.session(thread_id="t1", user_id="u7", run_config={"temperature": 0.2, "max_retries": 3}):
        answer("q")
    spans = cap.spans()
    assert {s.attributes[sc.OTEL_LLM_KIND] for s in spans} == {
        sc.KIND_CHAT,
        sc.KIND_GRAPH_NODE,
        sc.KIND_VECTOR_OP,
        sc.KIND_LLM_CALL,
    }
    for span in spans:
        assert span.attributes[sc.OTEL_LLM_PROJECT] == "alpha"
        assert span.attributes[sc.GEN_AI_CONVERSATION_ID] == "t1"
        assert span.attributes[sc.USER_ID] == "u7"
        assert span.attributes[sc.OTEL_LLM_RUN_CONFIG_PREFIX + "temperature"] == 0.2
        assert span.attributes[sc.OTEL_LLM_RUN_CONFIG_PREFIX + "max_retries"] == 3


def test_no_project_attribute_when_project_unset(response):
    from otel_llm.testing import capture

    @otel_llm.vector_op("search", collection="docs", db_system="chroma")
    def search() -> list:
        return []

    with capture() as cap:
        search()
    assert sc.OTEL_LLM_PROJECT not in cap.span("search docs").attributes


def test_unknown_llm_call_params_are_ignored_not_fatal(cap, caplog):
    @otel_llm.llm_call(model="test-model", provider="openai", temperature=0.1, bogus_param=1)
    def ask() -> str:
        return "ok"

    assert ask() == "ok"
    assert "bogus_param" in caplog.text
    assert cap.span("chat test-model").attributes[sc.GEN_AI_REQUEST_TEMPERATURE] == 0.1


# --- signature and the unconfigured state ----------------------------------------


def _sync(a: int, b: str = "x", *args: int, c: float, **kw: str) -> str:
    """Sync doc."""
    return b


async def _async(a: int, *, b: int = 2) -> int:
    """Async doc."""
    return a


def _gen(n: int) -> "list[int]":
    """Gen doc."""
    yield from range(n)


async def _agen(n: int, step: int = 1):
    """Agen doc."""
    for i in range(0, n, step):
        yield i


@pytest.mark.parametrize("fn", [_sync, _async, _gen, _agen])
@pytest.mark.parametrize(
    "decorator",
    [
        otel_llm.chat,
        otel_llm.graph_node,
        otel_llm.graph_node("n", graph="g"),
        otel_llm.vector_op("search", collection="docs", db_system="chroma"),
        otel_llm.llm_call(model="m", provider="p"),
    ],
)
def test_signature_name_and_doc_are_preserved(fn, decorator):
    wrapped = decorator(fn)
    assert inspect.signature(wrapped) == inspect.signature(fn)
    assert wrapped.__name__ == fn.__name__
    assert wrapped.__doc__ == fn.__doc__
    assert wrapped.__wrapped__ is fn
    assert inspect.iscoroutinefunction(wrapped) == inspect.iscoroutinefunction(fn)
    assert inspect.isgeneratorfunction(wrapped) == inspect.isgeneratorfunction(fn)
    assert inspect.isasyncgenfunction(wrapped) == inspect.isasyncgenfunction(fn)


def test_decorated_call_before_configure_works_on_the_global_provider(response):
    saved = _runtime._swap(None, None)  # as if configure() was never called
    try:

        @otel_llm.llm_call(model="test-model", provider="openai")
        def ask() -> dict:
            return response()

        @otel_llm.chat
        def answer(q: str) -> str:
            otel_llm.record_evaluation("relevance", score=1.0)
            return str(ask()["id"])

        with otel_llm.session(thread_id="t"):
            assert answer("q") == "resp-1"
    finally:
        _runtime._swap(*saved)


def test_disabled_runtime_calls_the_function_bare(cap):
    """``Runtime.enabled is False`` (nothing would be recorded): no span is even started."""

    class ExplodingTracer:
        def start_span(self, *args, **kwargs):
            raise AssertionError("a disabled runtime must not start spans")

    import types

    saved = _runtime._swap(types.SimpleNamespace(enabled=False, tracer=ExplodingTracer()), None)
    try:

        @otel_llm.llm_call(model="m", provider="p")
        def ask(x: int) -> int:
            return x + 1

        @otel_llm.graph_node("g")
        def gen():
            yield 1

        assert ask(1) == 2
        assert list(gen()) == [1]
    finally:
        _runtime._swap(*saved)
    assert cap.spans() == []


async def test_streamed_chat_reply_is_one_assistant_message(cap):
    @otel_llm.chat
    async def answer(question: str):
        for part in ("Hel", "lo", "!"):
            yield part

    assert "".join([p async for p in answer("hi")]) == "Hello!"
    span = cap.span("chat_turn answer")
    assert _events(span, sc.EVENT_CHAT_MESSAGE) == [
        {sc.EVENT_ATTR_ROLE: "user", sc.EVENT_ATTR_LENGTH: 2},
        {sc.EVENT_ATTR_ROLE: "assistant", sc.EVENT_ATTR_LENGTH: 6},
    ]


def test_chat_called_with_wrong_arguments_raises_the_users_type_error(cap):
    @otel_llm.chat
    def answer(question: str) -> str:
        return question

    with pytest.raises(TypeError, match="argument"):
        answer("a", "b", "c")


def test_spans_inside_a_chat_turn_carry_its_conversation_id(cap):
    """The Quickstart's `summary --by conversation` put the call and its cost under "-": the turn's
    conversation id (from `thread_id_arg`) was on the chat span only, while `session(thread_id=)`
    tags every span inside it."""

    @otel_llm.tool
    def lookup(q: str) -> str:
        return q

    @otel_llm.llm_call(model="gpt-4o", provider="openai")
    def ask(q: str) -> dict:
        return {"usage": {"prompt_tokens": 3, "completion_tokens": 2}}

    @otel_llm.chat(thread_id_arg="thread_id")
    def answer(question: str, thread_id: str) -> str:
        ask(lookup(question))
        return "ok"

    answer("what?", thread_id="t1")
    with otel_llm.session(thread_id="outer", user_id="u"):
        answer("again?", thread_id="t2")  # the turn's own id wins inside it; the session's user stays
        ask("outside any turn")
    spans = cap.spans()
    by_kind = {}
    for s in spans:
        by_kind.setdefault(s.attributes[sc.OTEL_LLM_KIND], []).append(s)
    assert [s.attributes.get(sc.GEN_AI_CONVERSATION_ID) for s in by_kind[sc.KIND_LLM_CALL]] == ["t1", "t2", "outer"]
    assert [s.attributes.get(sc.GEN_AI_CONVERSATION_ID) for s in by_kind[sc.KIND_TOOL]] == ["t1", "t2"]
    assert [s.attributes.get(sc.USER_ID) for s in by_kind[sc.KIND_LLM_CALL]] == [None, "u", "u"]
