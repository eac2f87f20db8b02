"""App values that misbehave — a ``__str__`` or ``__len__`` that raises, a run config that is no
mapping, a score that is no number, a data frame as a response — never break the app's call or
``session()`` block, and are no internal error of otel-llm's (in this suite internal errors raise).

What otel-llm records of such a value: its text when it has one, else ``[unrenderable Type]``;
a count it cannot take is left out; a value it cannot use at all is dropped with a notice.
"""

from __future__ import annotations

from typing import Any

import pytest

import otel_llm
from otel_llm import semconv as sc
from otel_llm.testing import capture


class NoText:
    """An object whose ``__str__`` (and ``__repr__``) raises."""

    def __str__(self) -> str:
        raise RuntimeError("no text")

    __repr__ = __str__


class NoLength:
    def __len__(self) -> int:
        raise RuntimeError("no length")


class Unreadable(dict):  # type: ignore[type-arg]
    """A mapping whose reads raise."""

    def __getitem__(self, key: Any) -> Any:
        raise RuntimeError("no read")

    def keys(self) -> Any:
        raise RuntimeError("no keys")

    def __iter__(self) -> Any:
        raise RuntimeError("no iteration")


UNRENDERABLE = "[unrenderable NoText]"


def _attributes(cap) -> dict[str, Any]:
    return {k: v for span in cap.spans() for k, v in span.attributes.items()}


@pytest.mark.parametrize(
    "kwargs, attribute, expected",
    [
        ({"thread_id": NoText()}, sc.GEN_AI_CONVERSATION_ID, UNRENDERABLE),
        ({"user_id": NoText()}, sc.USER_ID, UNRENDERABLE),
        ({"run_config": {"temperature": NoText()}}, sc.OTEL_LLM_RUN_CONFIG_PREFIX + "temperature", UNRENDERABLE),
        ({"run_config": {NoText(): 1}}, sc.OTEL_LLM_RUN_CONFIG_PREFIX + UNRENDERABLE, 1),
        ({"run_config": [("a", 1), "b"]}, None, None),  # no mapping: ignored, with a warning
        ({"run_config": 5}, None, None),
        ({"run_config": Unreadable(a=1)}, None, None),
    ],
    ids=["thread", "user", "config-value", "config-key", "config-list", "config-int", "config-unreadable"],
)
def test_a_session_of_misbehaving_values_never_breaks_the_block(kwargs, attribute, expected, caplog) -> None:
    with capture() as cap:
        with otel_llm.session(**kwargs):
            otel_llm.graph_node("n")(lambda: None)()
    attributes = _attributes(cap)
    if attribute is None:
        assert not [k for k in attributes if k.startswith(sc.OTEL_LLM_RUN_CONFIG_PREFIX)]
        assert any("run_config" in r.getMessage() for r in caplog.records)
    else:
        assert attributes[attribute] == expected


def test_a_chat_thread_id_without_text_is_recorded_unrenderable() -> None:
    with capture() as cap:

        @otel_llm.chat
        def turn(thread_id: Any) -> str:
            return "ok"

        assert turn(NoText()) == "ok"
    assert cap.span("chat_turn turn").attributes[sc.GEN_AI_CONVERSATION_ID] == UNRENDERABLE


def test_graph_state_keys_without_text_are_recorded_unrenderable() -> None:
    with capture() as cap:
        state = {NoText(): 1, "b": 2}
        assert otel_llm.graph_node("n")(lambda: state)() is state
    (event,) = cap.span("n").events
    assert sorted(event.attributes[sc.EVENT_ATTR_STATE_KEYS]) == [UNRENDERABLE, "b"]


def test_a_vector_result_whose_len_raises_has_no_row_count() -> None:
    with capture() as cap:
        result = NoLength()
        assert otel_llm.vector_op("q")(lambda: result)() is result
    assert sc.DB_RESPONSE_RETURNED_ROWS not in cap.span("q").attributes


@pytest.mark.parametrize("score", ["high", [1], NoText()], ids=["str", "list", "no-text"])
def test_an_evaluation_score_that_is_no_number_is_dropped_with_a_notice(score, capsys) -> None:
    with capture() as cap:

        @otel_llm.llm_call(model="m")
        def ask() -> None:
            otel_llm.record_evaluation("relevance", score=score, label="good")

        ask()
    (event,) = [e for e in cap.span("chat m").events if e.name == sc.EVENT_EVALUATION_RESULT]
    assert sc.GEN_AI_EVALUATION_SCORE_VALUE not in event.attributes
    assert event.attributes[sc.GEN_AI_EVALUATION_SCORE_LABEL] == "good"


def test_an_evaluation_named_by_a_value_without_text_is_recorded_unrenderable() -> None:
    with capture() as cap:
        otel_llm.llm_call(model="m")(lambda: otel_llm.record_evaluation(NoText(), score=0.5))()
    (event,) = [e for e in cap.span("chat m").events if e.name == sc.EVENT_EVALUATION_RESULT]
    assert event.attributes[sc.GEN_AI_EVALUATION_NAME] == UNRENDERABLE
    assert event.attributes[sc.GEN_AI_EVALUATION_SCORE_VALUE] == 0.5


def test_a_response_whose_truth_value_raises_is_returned_with_capture_on() -> None:
    class Frame:
        """Like a pandas DataFrame or numpy array: ``bool()`` of a column raises ValueError."""

        class Column:
            def __bool__(self) -> bool:
                raise ValueError("The truth value of a Series is ambiguous")

        choices = Column()

    with capture(capture_content=True) as cap:
        frame = Frame()
        assert otel_llm.llm_call(model="m")(lambda: frame)() is frame
    assert cap.span("chat m")


def test_a_stream_chunk_whose_property_raises_is_read_as_no_usage() -> None:
    class Chunk:
        @property
        def choices(self) -> Any:
            raise RuntimeError("the app's property")

    chunks = [Chunk(), Chunk()]
    with capture() as cap:

        @otel_llm.llm_call(model="m")
        def ask() -> Any:
            yield from chunks

        assert list(ask()) == chunks
    assert cap.span("chat m").attributes[sc.OTEL_LLM_STREAM_COMPLETE] is True


class Measureless(str):
    """A string type whose ``len()`` raises (a lazy or proxied text type)."""

    def __len__(self) -> int:
        raise RuntimeError("no length")


def test_a_chat_message_whose_len_raises_is_recorded_by_its_text_length() -> None:
    """The user's message opens the turn's span: its ``len()`` raising was otel-llm's internal error
    there (the span lost, the function run bare); its length is its text's."""
    message = Measureless("hello")
    with capture() as cap:
        assert otel_llm.chat(lambda text: text)(message) is message
    events = [e for e in cap.span("chat_turn <lambda>").events if e.name == sc.EVENT_CHAT_MESSAGE]
    assert [e.attributes[sc.EVENT_ATTR_LENGTH] for e in events] == [5, 5]


class RaisingInt(int):
    """A count of the app's number type whose conversion raises (an int subclass with a broken ``__int__``)."""

    def __int__(self) -> int:
        raise RuntimeError("no int")

    __index__ = __int__


class RaisingFloat(float):
    """An amount whose comparison and conversion raise."""

    def __eq__(self, other: object) -> bool:
        raise RuntimeError("no comparison")

    __hash__ = float.__hash__

    def __float__(self) -> float:
        raise RuntimeError("no float")


@pytest.mark.parametrize("bad", [RaisingInt(5), RaisingFloat(5.0)], ids=["int", "float"])
def test_a_count_whose_conversion_raises_is_dropped_and_the_other_counts_kept(bad: Any) -> None:
    """Not an internal error (logged with a traceback, the whole usage lost): an invalid count, as -5 is."""
    from otel_llm._usage import extract_usage

    usage = extract_usage({"usage": {"prompt_tokens": bad, "completion_tokens": 2}})
    assert usage is not None and usage.input_tokens is None and usage.output_tokens == 2
    assert usage.dropped == ("input_tokens",)


def test_a_billed_cost_whose_conversion_raises_is_dropped_and_the_counts_kept() -> None:
    from otel_llm._usage import extract_usage

    usage = extract_usage({"usage": {"prompt_tokens": 1, "completion_tokens": 2, "cost": RaisingFloat(0.5)}})
    assert usage is not None and (usage.input_tokens, usage.output_tokens) == (1, 2)
    assert usage.billing is None and usage.dropped == ("billed_cost",)
