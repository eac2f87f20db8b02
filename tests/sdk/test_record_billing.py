"""``otel_llm.record_usage`` takes what a return value cannot carry: 1-hour cache writes and a billed cost."""

from __future__ import annotations

from typing import Any

import pytest

import otel_llm
from otel_llm import _usage
from otel_llm import semconv as sc
from otel_llm.testing import Capture


def _span(cap: Capture) -> Any:
    return [s for s in cap.spans() if s.attributes.get(sc.OTEL_LLM_KIND) == sc.KIND_LLM_CALL][-1].attributes


def test_recorded_1h_cache_writes_are_priced_at_the_1h_rate() -> None:
    @otel_llm.llm_call(model="claude-sonnet-4-5", provider="anthropic")
    def ask() -> str:
        otel_llm.record_usage(input_tokens=900, output_tokens=40, cache_read_tokens=500, cache_write_tokens=300,
                              cache_write_1h_tokens=200)
        return "text"

    with Capture(project="p") as cap:
        ask()
    attrs = _span(cap)
    assert attrs[sc.OTEL_LLM_USAGE_CACHE_CREATION_1H_INPUT_TOKENS] == 200
    # claude-sonnet-4-5: 100*3 + 500*0.3 + 100*3.75 + 200*6 + 40*15 (USD per 1M tokens)
    assert attrs[sc.GEN_AI_USAGE_COST] == pytest.approx(2625e-6)


def test_a_recorded_cost_is_the_calls_cost() -> None:
    @otel_llm.llm_call(model="gpt-4o", provider="openai")
    def ask() -> str:
        otel_llm.record_usage(input_tokens=1000, output_tokens=10, cost_usd=0.25)
        return "text"

    with Capture(project="p") as cap:
        ask()
    attrs = _span(cap)
    assert attrs[sc.GEN_AI_USAGE_COST] == 0.25 and attrs[sc.OTEL_LLM_COST_SOURCE] == "record_usage"
    assert attrs[sc.GEN_AI_USAGE_INPUT_TOKENS] == 1000


@pytest.mark.parametrize("cost", [-1.0, float("nan"), "0.1", True])
def test_a_recorded_cost_that_is_not_an_amount_is_dropped_and_said(cost: Any, capsys: Any) -> None:
    @otel_llm.llm_call(model="gpt-4o", provider="openai")
    def ask() -> str:
        otel_llm.record_usage(input_tokens=1000, output_tokens=10, cost_usd=cost, cache_write_1h_tokens=-3)
        return "text"

    with Capture(project="p") as cap:
        assert ask() == "text"
    attrs = _span(cap)
    # Not the recorded cost; and with its 1-hour write count dropped, no pricing of the rest either
    # (a billed cost dropped alone leaves it priced from its tokens: test_partial_cost).
    assert sc.GEN_AI_USAGE_COST not in attrs and sc.OTEL_LLM_COST_SOURCE not in attrs
    assert {"billed_cost", "cache_write_1h_tokens"} <= set(attrs[sc.OTEL_LLM_USAGE_DROPPED])


def test_a_recorded_cost_beyond_one_calls_bound_is_dropped_said_and_priced_from_tokens(
        capsys: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """``record_usage(cost_usd=...)`` above ``MAX_CALL_COST_USD`` is refused as a computed price above it is."""
    monkeypatch.setattr(_usage, "_warned", set())
    @otel_llm.llm_call(model="test-model", provider="openai")
    def ask() -> str:
        otel_llm.record_usage(input_tokens=10, output_tokens=5, cost_usd=25_000.0)
        return "text"

    with Capture(project="p", pricing={"test-model": {"input": 1.0, "output": 2.0}}) as cap:
        assert ask() == "text"
        cost_points = cap.metrics()[sc.METRIC_COST]
    attrs = _span(cap)
    assert attrs[sc.OTEL_LLM_USAGE_DROPPED] == ("billed_cost",)
    assert attrs[sc.GEN_AI_USAGE_COST] == pytest.approx(20e-6) and attrs[sc.OTEL_LLM_COST_SOURCE] == "user"
    assert sum(p.value for p in cost_points) == pytest.approx(20e-6)
    assert "1000" in capsys.readouterr().err
