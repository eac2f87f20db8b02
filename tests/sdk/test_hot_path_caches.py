"""What the hot path remembers between calls never outlives what it was learnt from.

A decorated llm_call remembers, per class, where a response keeps its usage
(``_usage``: declared fields, plans, shapes) and, per PriceBook, each model's
resolved rates (``pricing``). These tests change what was learnt — prices
registered after a first call, a new response class with another layout, a
class that is not a pydantic model — and check the next call reads the new truth.
"""

from __future__ import annotations

from typing import Any

import pytest
from anthropic.types import Message
from openai.types.chat import ChatCompletion
from openai.types.completion_usage import CompletionUsage
from opentelemetry import trace
from opentelemetry.context import Context, attach, create_key, detach, get_value, set_value
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import INVALID_SPAN, NonRecordingSpan, SpanContext, TraceFlags
from pydantic import BaseModel, ConfigDict

import otel_llm
from otel_llm import _core, _metrics, _runtime, _usage
from otel_llm import semconv as sc
from otel_llm._usage import Usage, extract_usage
from otel_llm.pricing import PriceBook
from otel_llm.testing import Capture
from tests.sdk.test_pricing import TABLE as PRICE_TABLE
from tests.sdk.test_pricing import USER as PRICE_USER


def _llm_span(cap: Capture, n: int = -1) -> Any:
    return [s for s in cap.spans() if s.attributes.get(sc.OTEL_LLM_KIND) == sc.KIND_LLM_CALL][n]


def _chat_completion(model: str, prompt: int = 1000, completion: int = 100) -> ChatCompletion:
    return ChatCompletion.model_validate({
        "id": "c", "object": "chat.completion", "created": 1, "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "x"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion},
    })


# --- prices -----------------------------------------------------------------------------------


def test_a_price_registered_after_a_first_call_prices_the_next_call(capsys: pytest.CaptureFixture[str]) -> None:
    model = "house-model-registered-late"

    @otel_llm.llm_call(model=model, provider="openai")
    def ask() -> ChatCompletion:
        return _chat_completion(model)

    with Capture(project="p") as cap:
        ask()
        ask()  # the unknown model is remembered as unpriced...
        assert sc.GEN_AI_USAGE_COST not in _llm_span(cap).attributes
        assert "no price for model" in capsys.readouterr().err
        # ... until the app registers a price: the next call uses it.
        _runtime.configure(tracer_provider=cap.tracer_provider, meter_provider=cap.meter_provider,
                           exporter="none", pricing={model: {"input": 2.0, "output": 10.0}})
        ask()
        span = _llm_span(cap)
        assert span.attributes[sc.GEN_AI_USAGE_COST] == pytest.approx(1000 * 2e-6 + 100 * 10e-6)
        assert span.attributes[sc.OTEL_LLM_COST_SOURCE] == "user"
        # An override of a bundled price wins over the rate the earlier calls used.
        _runtime.configure(tracer_provider=cap.tracer_provider, meter_provider=cap.meter_provider,
                           exporter="none", pricing={model: {"input": 4.0, "output": 10.0}})
        ask()
        assert _llm_span(cap).attributes[sc.GEN_AI_USAGE_COST] == pytest.approx(1000 * 4e-6 + 100 * 10e-6)


def test_cost_from_the_cache_equals_the_first_resolution() -> None:
    book = PriceBook.load({"m": {"input": 1.0, "output": 2.0, "cache_read": 0.5}})
    usage = Usage(input_tokens=1000, output_tokens=10, cache_read_tokens=400)
    first, again = book.cost("m", usage, "openai"), book.cost("m", usage, "openai")
    assert first == again == (600e-6 + 400 * 0.5e-6 + 20e-6, "user", None)
    assert book.cost("unknown-model-for-cache", usage) is None
    assert book.cost("unknown-model-for-cache", usage) is None  # remembered as unknown, still None


# --- response classes -------------------------------------------------------------------------


class _AnthropicLikeUsage(BaseModel):
    input_tokens: int
    output_tokens: int
    cache_read_input_tokens: int | None = None


class _HouseResponse(BaseModel):
    """A provider class otel-llm has never seen: Anthropic's usage layout under ``usage``."""

    id: str
    model: str
    usage: _AnthropicLikeUsage
    stop_reason: str | None = None


class _HouseDetails(BaseModel):
    model_config = ConfigDict(extra="allow")


class _ExtraUsage(BaseModel):
    """OpenAI's field names, but the cached count only as an extra field of the details object."""

    prompt_tokens: int
    completion_tokens: int
    prompt_tokens_details: _HouseDetails | None = None


class _ExtraResponse(BaseModel):
    id: str
    model: str
    usage: _ExtraUsage


class _PlainDetails:
    """Not a pydantic model: read by attribute."""

    def __init__(self, cached_tokens: int) -> None:
        self.cached_tokens = cached_tokens


@pytest.mark.parametrize("value, expected", [
    (_HouseResponse(id="h1", model="house", stop_reason="end_turn",
                    usage=_AnthropicLikeUsage(input_tokens=10, output_tokens=3, cache_read_input_tokens=90)),
     Usage(input_tokens=100, output_tokens=3, cache_read_tokens=90, response_model="house", response_id="h1",
           finish_reasons=("end_turn",))),
    (_ExtraResponse(id="e1", model="x", usage=_ExtraUsage(
        prompt_tokens=50, completion_tokens=5, prompt_tokens_details=_HouseDetails(cached_tokens=20))),
     Usage(input_tokens=50, output_tokens=5, cache_read_tokens=20, response_model="x", response_id="e1")),
    ({"id": "d1", "model": "x", "usage": {"prompt_tokens": 7, "completion_tokens": 2,
                                          "prompt_tokens_details": _PlainDetails(4)}},
     Usage(input_tokens=7, output_tokens=2, cache_read_tokens=4, response_model="x", response_id="d1")),
], ids=["anthropic-layout-class", "extra-field-details", "plain-object-details"])
def test_a_new_response_class_is_read_by_its_own_layout(value: Any, expected: Usage) -> None:
    """Each read after an OpenAI response, twice (the second from what the first call learnt)."""
    assert extract_usage(_chat_completion("gpt-4o-mini", 12, 3)).input_tokens == 12
    assert extract_usage(value) == expected
    assert extract_usage(value) == expected


def test_anthropic_message_after_openai_keeps_its_normalisation() -> None:
    message = Message.model_validate({
        "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
        "content": [{"type": "text", "text": "hi"}], "stop_reason": "end_turn", "stop_sequence": None,
        "usage": {"input_tokens": 10, "output_tokens": 4, "cache_read_input_tokens": 100,
                  "cache_creation_input_tokens": 5},
    })
    extract_usage(_chat_completion("gpt-4o-mini"))
    for _ in range(2):
        found = extract_usage(message)
        assert found is not None
        assert (found.input_tokens, found.output_tokens, found.cache_read_tokens, found.cache_write_tokens) == (
            115, 4, 100, 5)
        assert found.finish_reasons == ("end_turn",)


@pytest.mark.parametrize("choices, reasons", [
    ([{"finish_reason": "stop"}], ("stop",)),
    ([{"finish_reason": ""}], ()),
    ([{"finish_reason": None}], ()),
    ([{"finish_reason": "length"}, {"finish_reason": "stop"}], ("length", "stop")),
    ([], ()),
])
def test_finish_reasons_of_one_and_many_choices(choices: list[Any], reasons: tuple[str, ...]) -> None:
    value = {"id": "r", "model": "m", "choices": choices, "usage": {"prompt_tokens": 1, "completion_tokens": 1}}
    found = extract_usage(value)
    assert found is not None and found.finish_reasons == reasons


# --- exemplar ids -----------------------------------------------------------------------------


@pytest.mark.parametrize("flags", [TraceFlags(TraceFlags.SAMPLED), TraceFlags(TraceFlags.DEFAULT), TraceFlags(0x03)])
def test_exemplar_ids_match_the_span_context_properties(flags: TraceFlags) -> None:
    ctx = SpanContext(0xABC << 64 | 7, 0x1234, False, flags)
    expected = ctx.trace_id << 64 | ctx.span_id if ctx.trace_flags.sampled else 0
    assert _metrics.exemplar_ids(ctx) == expected
    span = TracerProvider().get_tracer("t").start_span("s")
    real = span.get_span_context()
    assert _metrics.exemplar_ids(real) == (real.trace_id << 64 | real.span_id)


def test_declared_fields_are_remembered_per_class() -> None:
    value = _HouseResponse(id="h2", model="house",
                           usage=_AnthropicLikeUsage(input_tokens=1, output_tokens=1))
    _usage._get(value, "model")
    assert _usage._FIELDS[_HouseResponse] is _HouseResponse.__pydantic_fields__
    _usage._get(_PlainDetails(1), "cached_tokens")
    assert _usage._FIELDS[_PlainDetails] is None


# --- declared layouts -------------------------------------------------------------------------


def _completion_dict(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "cc", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "x"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1000, "completion_tokens": 100, "total_tokens": 1100},
    }
    base.update(changes)
    return base


def _assigned(value: Any, **fields: Any) -> Any:
    """``value`` with ``fields`` set without validation (an app may build or patch its objects so)."""
    for name, field_value in fields.items():
        setattr(value, name, field_value)
    return value


def _unset(value: Any, name: str) -> Any:
    """``value`` without its declared field ``name`` (not in its ``__dict__``: reading it raises, as
    pydantic's ``model_construct`` leaves a field it was not given)."""
    del value.__dict__[name]
    return value


def _unset_in_choice(value: Any, name: str) -> Any:
    """``value`` whose first choice lacks its declared field ``name`` (see :func:`_unset`)."""
    _unset(value.choices[0], name)
    return value


class _HouseCompletion(ChatCompletion):
    """A subclass of OpenAI's class (as wrappers define): a class of its own, read by its own layout."""


_TOOL_CALL = {"id": "call_1", "type": "function", "function": {"name": "search", "arguments": "{}"}}
_LAYOUT_CASES: list[tuple[str, Any, bool]] = [
    ("plain", ChatCompletion.model_validate(_completion_dict()), True),
    ("details", ChatCompletion.model_validate(_completion_dict(usage={
        "prompt_tokens": 1000, "completion_tokens": 100, "total_tokens": 1100,
        "prompt_tokens_details": {"cached_tokens": 600}, "completion_tokens_details": {"reasoning_tokens": 40}})), True),
    ("tool-calls", ChatCompletion.model_validate(_completion_dict(choices=[{
        "index": 0, "finish_reason": "tool_calls",
        "message": {"role": "assistant", "content": None, "tool_calls": [_TOOL_CALL]}}])), True),
    ("subclass", _HouseCompletion.model_validate(_completion_dict()), True),
    ("two-choices", ChatCompletion.model_validate(_completion_dict(choices=[
        {"index": 0, "message": {"role": "assistant", "content": "x"}, "finish_reason": "length"},
        {"index": 1, "message": {"role": "assistant", "content": "y", "tool_calls": [_TOOL_CALL]},
         "finish_reason": "tool_calls"}])), False),
    ("no-choices", ChatCompletion.model_validate(_completion_dict(choices=[])), False),
    ("empty-model", ChatCompletion.model_validate(_completion_dict(model="")), False),
    ("no-usage", ChatCompletion.model_validate(_completion_dict(usage=None)), False),
    # Built without validation: unset fields, counts that are not plain ints in range, dicts in place of objects.
    ("unset-count", ChatCompletion.model_construct(**{**_completion_dict(), "usage": CompletionUsage.model_construct(
        prompt_tokens=5)}), False),
    ("negative-count", ChatCompletion.model_construct(**{**_completion_dict(), "usage": CompletionUsage.model_construct(
        prompt_tokens=-5, completion_tokens=2, total_tokens=0)}), False),
    ("float-count", ChatCompletion.model_construct(**{**_completion_dict(), "usage": CompletionUsage.model_construct(
        prompt_tokens=12.0, completion_tokens=2, total_tokens=0)}), False),
    # A declared field of the response or of its choice left unset, as pydantic's model_construct leaves one.
    ("unset-id", _unset(ChatCompletion.model_validate(_completion_dict()), "id"), False),
    ("unset-message", _unset_in_choice(ChatCompletion.model_validate(_completion_dict()), "message"), False),
    ("usage-dict", _assigned(ChatCompletion.model_validate(_completion_dict()), usage={
        "prompt_tokens": 9, "completion_tokens": 2, "prompt_tokens_details": {"cached_tokens": 4}}), False),
    ("details-dict", _assigned(ChatCompletion.model_validate(_completion_dict()), usage=_assigned(
        CompletionUsage(prompt_tokens=9, completion_tokens=2, total_tokens=11), prompt_tokens_details={"cached_tokens": 4})),
     False),
    ("choice-dict", _assigned(ChatCompletion.model_validate(_completion_dict()), choices=[
        {"finish_reason": "stop", "message": {"tool_calls": [_TOOL_CALL]}}]), False),
]


@pytest.mark.parametrize("value, usual", [(v, u) for _, v, u in _LAYOUT_CASES], ids=[c[0] for c in _LAYOUT_CASES])
def test_a_declared_layout_reads_what_the_general_path_reads(value: Any, usual: bool) -> None:
    """The once-per-class layout gives the usage and tool calls the general (and the probing) path gives.

    ``usual``: the object is of the layout, so it is read along it; any other
    object falls through to the general path.
    """
    from otel_llm import _toolcalls

    _usage.read_response(value)  # the first object of its class plans the class
    plan = _usage._PLANS[type(value)]
    assert plan.layout is not None
    assert (_usage._read_layout(value, plan.layout) is not None) == usual
    found, calls = _usage.read_response(value)
    _usage._PLANS[type(value)] = plan._replace(layout=None)  # the general path alone
    try:
        general, general_calls = _usage.read_response(value)
    finally:
        _usage._PLANS[type(value)] = plan
    assert found == general
    probed_calls = _toolcalls.requested(value)
    for these in (calls, general_calls):
        assert (probed_calls if these is None else _toolcalls.refs_among(these)) == probed_calls


def test_a_class_without_a_declared_layout_has_none() -> None:
    """Usage under an undeclared shape (a bare pydantic class, no choices declared) is read without a layout."""
    _usage.read_response(_HouseResponse(id="h3", model="house", usage=_AnthropicLikeUsage(input_tokens=1, output_tokens=1)))
    assert _usage._PLANS[_HouseResponse].layout is None


@pytest.mark.parametrize(("model", "provider", "usage"), [
    *((row[0], row[1], row[2]) for row in PRICE_TABLE),
    ("gpt-4o", "openai", Usage(100, 10, 100)),  # all input cached: the uncached part is 0 (more: test_hostile_prices)
    ("gpt-4o", "openai", Usage(input_tokens=10)),  # no output count: none (output-only: test_partial_cost)
])
def test_the_flat_rate_cache_prices_every_call_as_its_rates_do(model: str, provider: str | None, usage: Usage) -> None:
    """A model without tiers is priced from ``_flat_cache`` after its first call: to the bit what its rates say."""
    book = PriceBook.load(PRICE_USER)
    first, again = book.cost(model, usage, provider), book.cost(model, usage, provider)
    rates = book.rates(model, provider)
    assert rates is not None and first is not None
    assert first == again == (rates.price(usage), rates.source, None)
    tiered = any(r is not None and r.tiers for r in (rates.input, rates.output, rates.cache_read, rates.cache_write))
    assert ((provider, model) in book._flat_cache) is not tiered


# --- the context a call runs in ---------------------------------------------------------------


def test_the_learnt_span_key_is_where_opentelemetry_keeps_the_current_span() -> None:
    span = NonRecordingSpan(SpanContext(1, 2, False))
    assert _core.SPAN_KEY is not None
    assert trace.set_span_in_context(span, Context()) == Context({_core.SPAN_KEY: span})


@pytest.mark.parametrize("span_key", ["learnt", "unknown"])
def test_a_call_runs_in_its_span_with_its_kinds_values_and_everything_outside(
    span_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One context per call, built from the parent, the span and the kind's values (with the span key
    learnt, or through ``set_span_in_context`` when OpenTelemetry keeps the span some other way)."""
    if span_key == "unknown":
        monkeypatch.setattr(_core, "SPAN_KEY", None)
    outside = create_key("app.value")
    seen: dict[str, Any] = {}

    @otel_llm.llm_call(model="test-model", provider="openai")
    def ask() -> str:
        seen["llm span"] = trace.get_current_span().get_span_context().span_id
        seen["app value"] = get_value(outside)
        otel_llm.record_usage(input_tokens=7, output_tokens=3)  # finds this call's usage sink
        return "plain text"

    @otel_llm.agent("planner")
    def plan() -> str:
        seen["agent span"] = trace.get_current_span().get_span_context().span_id
        return ask()

    @otel_llm.graph_node("decide", graph="g")
    def decide() -> str:
        return plan()

    with Capture(project="p", pricing={"test-model": {"input": 1.0, "output": 2.0}}) as cap:
        token = attach(set_value(outside, "kept"))
        try:
            with otel_llm.session(thread_id="t-1"):
                decide()
            assert get_value(outside) == "kept"  # the app's context is back as it was
            assert trace.get_current_span() is INVALID_SPAN
        finally:
            detach(token)
        llm, agent, node = _llm_span(cap), cap.span("invoke_agent planner"), cap.span("decide")
    assert seen == {"llm span": llm.context.span_id, "agent span": agent.context.span_id, "app value": "kept"}
    assert llm.parent.span_id == agent.context.span_id and agent.parent.span_id == node.context.span_id
    assert llm.attributes[sc.GEN_AI_USAGE_INPUT_TOKENS] == 7
    assert llm.attributes[sc.OTEL_LLM_GRAPH_NODE] == "decide" and llm.attributes[sc.GEN_AI_AGENT_NAME] == "planner"
    assert llm.attributes[sc.GEN_AI_CONVERSATION_ID] == "t-1"
    assert agent.attributes[sc.OTEL_LLM_AGENT_LLM_CALLS] == 1 and agent.attributes[sc.OTEL_LLM_AGENT_INPUT_TOKENS] == 7
    assert agent.attributes[sc.OTEL_LLM_GRAPH_NODE] == "decide"
