"""A cost the provider billed and put in its response is the call's cost, not a re-pricing of its tokens.

OpenRouter (``usage.cost``, in credits = USD; with your own provider key,
``is_byok``, that is its fee and ``cost_details.upstream_inference_cost`` the
provider's bill) answers in OpenAI's shape, through the openai SDK as extras.
"""

from __future__ import annotations

from typing import Any

import pytest
from openai.types.chat import ChatCompletion, ChatCompletionChunk

import otel_llm
from otel_llm import _usage
from otel_llm import semconv as sc
from otel_llm._usage import Billing, extract_usage
from otel_llm.testing import Capture
from tests.sdk.test_gateway_usage import chat, forms

OPENROUTER_USAGE = {"prompt_tokens": 194, "completion_tokens": 2, "total_tokens": 196,
                    "prompt_tokens_details": {"cached_tokens": 0}, "cost": 0.00095,
                    "cost_details": {"upstream_inference_cost": None}, "is_byok": False}
OPENROUTER = chat(OPENROUTER_USAGE, model="openai/gpt-4o")


@pytest.mark.parametrize("value", forms(OPENROUTER), ids=["dict", "object", "openai-first", "openai-planned"])
def test_openrouter_cost_is_read(value: Any) -> None:
    usage = extract_usage(value)
    assert usage is not None
    assert usage.input_tokens == 194 and usage.billing == Billing(cost_usd=0.00095, cost_source="response:usage.cost")


def test_byok_cost_adds_the_upstream_bill() -> None:
    usage = extract_usage({"usage": {**OPENROUTER_USAGE, "cost": 0.0001, "is_byok": True,
                                     "cost_details": {"upstream_inference_cost": 0.002}}})
    assert usage is not None and usage.billing is not None
    assert usage.billing.cost_usd == pytest.approx(0.0021)
    assert usage.billing.cost_source == "response:usage.cost+cost_details.upstream_inference_cost"


@pytest.mark.parametrize("cost", [-1.0, float("nan"), True, "0.1"])
def test_a_cost_that_is_not_an_amount_is_dropped_and_said(cost: Any) -> None:
    usage = extract_usage({"usage": {"prompt_tokens": 1, "completion_tokens": 1, "cost": cost}})
    assert usage is not None and usage.billing is None and "billed_cost" in usage.dropped


def _span(cap: Capture) -> Any:
    return [s for s in cap.spans() if s.attributes.get(sc.OTEL_LLM_KIND) == sc.KIND_LLM_CALL][-1]


def test_the_span_cost_is_the_billed_cost_with_its_source() -> None:
    @otel_llm.llm_call(provider="openrouter")
    def ask() -> ChatCompletion:
        return ChatCompletion.model_validate(OPENROUTER)

    with Capture(project="p") as cap:
        ask()
    attrs = _span(cap).attributes
    assert attrs[sc.GEN_AI_USAGE_COST] == 0.00095  # not 194 * 2.5e-6 + 2 * 10e-6 from gpt-4o's price
    assert attrs[sc.OTEL_LLM_COST_SOURCE] == "response:usage.cost"


def test_a_streamed_call_costs_what_its_last_chunk_billed() -> None:
    def chunk(**fields: Any) -> ChatCompletionChunk:
        return ChatCompletionChunk.model_validate({"id": "c", "object": "chat.completion.chunk", "created": 1,
                                                   "model": "openai/gpt-4o", **fields})

    @otel_llm.llm_call(provider="openrouter")
    def ask() -> Any:
        yield chunk(choices=[{"index": 0, "delta": {"content": "x"}, "finish_reason": "stop"}])
        yield chunk(choices=[], usage=OPENROUTER_USAGE)

    with Capture(project="p") as cap:
        assert len(list(ask())) == 2
    attrs = _span(cap).attributes
    assert (attrs[sc.GEN_AI_USAGE_COST], attrs[sc.OTEL_LLM_COST_SOURCE]) == (0.00095, "response:usage.cost")


def test_a_call_with_tokens_and_no_model_anywhere_says_why_it_has_no_cost(capsys: pytest.CaptureFixture[str]) -> None:
    """Cohere v2 answers without a model name: a bare ``@llm_call`` has tokens and no model to price."""
    @otel_llm.llm_call
    def ask() -> dict[str, Any]:
        return {"id": "co-1", "finish_reason": "COMPLETE",
                "usage": {"billed_units": {"input_tokens": 17.0, "output_tokens": 5.0}}}

    with Capture(project="p") as cap:
        ask()
        ask()
    assert sc.GEN_AI_USAGE_COST not in _span(cap).attributes
    said = [line for line in capsys.readouterr().err.splitlines() if "no model" in line]
    assert len(said) == 1 and "llm_call(model=" in said[0]


RESPONSES_USAGE = {"input_tokens": 100, "output_tokens": 20, "total_tokens": 120,
                   "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
                   "output_tokens_details": {"reasoning_tokens": 0},
                   "cost": 0.0007}


def test_openrouter_cost_on_a_responses_api_response_is_read() -> None:
    from openai.types.responses import Response

    from tests.sdk.test_stream_usage import response

    body = {**response("completed", RESPONSES_USAGE), "model": "openai/gpt-4o"}
    for value in (body, Response.model_validate(body), Response.model_validate(body)):
        usage = extract_usage(value)
        assert usage is not None and usage.input_tokens == 100
        assert usage.billing == Billing(cost_usd=0.0007, cost_source="response:usage.cost")


# --- a bill in the response that is no amount ---------------------------------------------------


def _said(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if line.startswith("otel-llm: ")]


@pytest.mark.parametrize("cost", [-0.5, float("nan"), float("inf"), "0.1", "lots", True, False],
                         ids=["negative", "nan", "inf", "numeric-text", "text", "true", "false"])
def test_a_billed_cost_that_is_no_amount_is_said_once_and_the_call_priced_from_its_tokens(
        cost: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_usage, "_warned", set())

    @otel_llm.llm_call(model="test-model", provider="openrouter")
    def ask() -> dict[str, Any]:
        return {"model": "test-model", "usage": {"prompt_tokens": 10, "completion_tokens": 5, "cost": cost}}

    with Capture(project="p", pricing={"test-model": {"input": 1.0, "output": 2.0}}) as cap:
        ask()
        ask()
    attrs = _span(cap).attributes
    assert attrs[sc.OTEL_LLM_USAGE_DROPPED] == ("billed_cost",)
    assert attrs[sc.GEN_AI_USAGE_COST] == pytest.approx(10e-6 + 10e-6)
    assert attrs[sc.OTEL_LLM_COST_SOURCE] == "user"
    (said,) = _said(capsys)
    assert "usage.cost" in said and "priced from its tokens" in said


@pytest.mark.parametrize("upstream", [None, -1.0, "x", float("nan")], ids=["absent", "negative", "text", "nan"])
def test_a_byok_fee_without_a_readable_upstream_bill_is_not_the_calls_cost(
        upstream: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """With the user's own key OpenRouter's ``cost`` is its fee alone: without the provider's bill beside it,
    it is a part of the call's cost. It is dropped (said once) and the call priced from its tokens."""
    monkeypatch.setattr(_usage, "_warned", set())
    usage = extract_usage({"usage": {"prompt_tokens": 10, "completion_tokens": 5, "cost": 0.0001, "is_byok": True,
                                     "cost_details": {"upstream_inference_cost": upstream}}})
    assert usage is not None and usage.billing is None and usage.dropped == ("billed_cost",)
    (said,) = _said(capsys)
    assert "upstream_inference_cost" in said


# --- a bill beyond any one call's cost ------------------------------------------------------------


@pytest.mark.parametrize("usage", [
    {"cost": 5000.0},
    {"cost": 0.5, "is_byok": True, "cost_details": {"upstream_inference_cost": 1e9}},
], ids=["cost", "byok-upstream"])
def test_a_billed_cost_beyond_one_calls_bound_is_refused_as_a_computed_one(
        usage: dict[str, Any], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """A bill above ``MAX_CALL_COST_USD`` is a wrong unit or a corrupt response, as a computed price above it
    is: not the span's cost nor in the cost metric; dropped as ``billed_cost`` (said once), the call priced
    from its tokens."""
    monkeypatch.setattr(_usage, "_warned", set())

    @otel_llm.llm_call(model="test-model", provider="openrouter")
    def ask() -> dict[str, Any]:
        return {"model": "test-model", "usage": {"prompt_tokens": 10, "completion_tokens": 5, **usage}}

    with Capture(project="p", pricing={"test-model": {"input": 1.0, "output": 2.0}}) as cap:
        ask()
        ask()
        cost_points = cap.metrics()[sc.METRIC_COST]
    attrs = _span(cap).attributes
    assert attrs[sc.OTEL_LLM_USAGE_DROPPED] == ("billed_cost",)
    assert attrs[sc.GEN_AI_USAGE_COST] == pytest.approx(10e-6 + 10e-6)
    assert attrs[sc.OTEL_LLM_COST_SOURCE] == "user"
    assert sum(p.value for p in cost_points) == pytest.approx(2 * 20e-6)
    (said,) = _said(capsys)
    assert "1000" in said and "priced from its tokens" in said


def test_a_billed_cost_at_the_bound_is_the_calls_cost() -> None:
    usage = extract_usage({"usage": {"prompt_tokens": 1, "completion_tokens": 1, "cost": 1000.0}})
    assert usage is not None and usage.billing == Billing(cost_usd=1000.0, cost_source="response:usage.cost")
