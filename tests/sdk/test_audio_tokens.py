"""OpenAI's audio tokens (``prompt_tokens_details.audio_tokens``, ``completion_tokens_details.audio_tokens``).

They are part of the input and output counts and billed at the model's audio
rates (genai-prices' ``input_audio_mtok`` / ``output_audio_mtok``). A model
without an audio rate prices them at its text rate and the span says so in
``otel_llm.cost.note``. A plain call (no audio, or audio counts of 0) has no
billing facts: its read stays on the fast path.
"""

from __future__ import annotations

from typing import Any

import pytest
from openai.types.chat import ChatCompletion

import otel_llm
from otel_llm import semconv as sc
from otel_llm._usage import Billing, Usage, extract_usage
from otel_llm.pricing import PriceBook
from otel_llm.testing import Capture
from tests.sdk.test_gateway_usage import chat, forms

AUDIO_USAGE = {"prompt_tokens": 1000, "completion_tokens": 1000, "total_tokens": 2000,
               "prompt_tokens_details": {"audio_tokens": 600, "cached_tokens": 0},
               "completion_tokens_details": {"audio_tokens": 800, "reasoning_tokens": 0}}


@pytest.mark.parametrize("value", forms(chat(AUDIO_USAGE, model="gpt-audio")),
                         ids=["dict", "object", "openai-first", "openai-planned"])
def test_audio_tokens_are_read(value: Any) -> None:
    usage = extract_usage(value)
    assert usage is not None and (usage.input_tokens, usage.output_tokens) == (1000, 1000)
    assert usage.billing == Billing(audio_input_tokens=600, audio_output_tokens=800)


def test_zero_audio_counts_are_no_billing_fact() -> None:
    plain = {**AUDIO_USAGE, "prompt_tokens_details": {"audio_tokens": 0, "cached_tokens": 0},
             "completion_tokens_details": {"audio_tokens": 0, "reasoning_tokens": 0}}
    for value in forms(chat(plain, model="gpt-4o")):
        usage = extract_usage(value)
        assert usage is not None and usage.billing is None


def test_audio_tokens_are_priced_at_the_audio_rate() -> None:
    usage = extract_usage(chat(AUDIO_USAGE, model="gpt-audio"))
    assert usage is not None
    cost = PriceBook.load(None).cost("gpt-audio", usage, "openai")
    # gpt-audio (genai-prices snapshot): text $2.5 in / $10 out, audio $32 in / $64 out per 1M tokens.
    assert cost is not None and cost.note is None
    assert cost.usd == pytest.approx((400 * 2.5 + 600 * 32 + 200 * 10 + 800 * 64) / 1e6)


def test_the_brief_example_is_priced_at_the_text_rate_and_said() -> None:
    usage = extract_usage({"usage": {"prompt_tokens": 1000, "completion_tokens": 1000,
                                     "prompt_tokens_details": {"audio_tokens": 1000}}})
    assert usage is not None and usage.billing == Billing(audio_input_tokens=1000)
    cost = PriceBook.load(None).cost("gpt-4o-audio-preview", usage, "openai")
    # genai-prices lists no audio rate for gpt-4o-audio-preview: text rates, and the note says so.
    assert cost is not None and cost.usd == pytest.approx((1000 * 2.5 + 1000 * 10) / 1e6)
    assert cost.note is not None and "audio input tokens" in cost.note


def test_a_user_price_can_give_audio_rates() -> None:
    book = PriceBook.load({"m": {"input": 1.0, "output": 2.0, "input_audio": 10.0, "output_audio": 20.0}})
    cost = book.cost("m", Usage(1000, 1000, billing=Billing(audio_input_tokens=100, audio_output_tokens=100)))
    assert cost is not None and cost.note is None
    assert cost.usd == pytest.approx((900 * 1.0 + 100 * 10.0 + 900 * 2.0 + 100 * 20.0) / 1e6)


def test_the_span_counts_audio_and_prices_it() -> None:
    @otel_llm.llm_call(provider="openai")
    def ask() -> ChatCompletion:
        return ChatCompletion.model_validate(chat(AUDIO_USAGE, model="gpt-audio"))

    with Capture(project="p") as cap:
        ask()
    attrs = [s for s in cap.spans() if s.attributes.get(sc.OTEL_LLM_KIND) == sc.KIND_LLM_CALL][-1].attributes
    assert attrs[sc.OTEL_LLM_USAGE_AUDIO_INPUT_TOKENS] == 600
    assert attrs[sc.OTEL_LLM_USAGE_AUDIO_OUTPUT_TOKENS] == 800
    assert attrs[sc.GEN_AI_USAGE_COST] == pytest.approx((400 * 2.5 + 600 * 32 + 200 * 10 + 800 * 64) / 1e6)
    assert sc.OTEL_LLM_COST_NOTE not in attrs
