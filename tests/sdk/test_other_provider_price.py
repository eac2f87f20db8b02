"""A model id its call's provider does not list, priced where the price table does list it, and said.

Groq's models called through the openai client (``provider="openai"``): the
only provider listing ``llama-3.1-8b-instant`` is Groq, so its calls are priced
at Groq's price and ``otel_llm.cost.note`` names it. An id listed by several
providers, none of them the call's, gets no price (and the unknown-model notice).
"""

from __future__ import annotations

from typing import Any

import otel_llm
from otel_llm import semconv as sc
from otel_llm._usage import Usage
from otel_llm.pricing import PriceBook
from otel_llm.testing import Capture

U = Usage(1_000_000, 1_000_000)


def test_a_model_listed_by_one_other_provider_is_priced_there_and_said() -> None:
    book = PriceBook.load(None)
    groq = book.cost("llama-3.1-8b-instant", U, "groq")
    assert groq is not None and groq.note is None
    cost = book.cost("llama-3.1-8b-instant", U, "openai")
    assert cost is not None and cost.usd == groq.usd
    assert cost.note is not None and "groq" in cost.note and "'openai'" in cost.note
    assert book.cost("llama-3.1-8b-instant", U, "openai") == cost  # the same from the cache


def test_a_model_priced_by_its_makers_provider_is_said_too() -> None:
    cost = PriceBook.load(None).cost("claude-sonnet-4-5", U, "openai")
    assert cost is not None and cost.note is not None and "anthropic" in cost.note


def test_an_id_listed_by_several_other_providers_gets_no_price(monkeypatch: Any, capsys: Any) -> None:
    from genai_prices import data_snapshot

    snapshot = data_snapshot.get_snapshot()
    groq = next(p for p in snapshot.providers if p.id == "groq")
    twin = next(m for m in groq.models if m.id == "llama-3.1-8b-instant")
    other = next(p for p in snapshot.providers if p.id == "deepseek")
    monkeypatch.setattr(other, "models", [*other.models, twin])  # a second provider lists it
    assert PriceBook.load(None).cost("llama-3.1-8b-instant", U, "openai") is None
    assert "no price for model 'llama-3.1-8b-instant'" in capsys.readouterr().err


def test_the_span_names_the_provider_that_priced_it() -> None:
    @otel_llm.llm_call(provider="openai")
    def ask() -> dict[str, Any]:
        return {"model": "llama-3.1-8b-instant", "usage": {"prompt_tokens": 1000, "completion_tokens": 10}}

    with Capture(project="p") as cap:
        ask()
    attrs = [s for s in cap.spans() if s.attributes.get(sc.OTEL_LLM_KIND) == sc.KIND_LLM_CALL][-1].attributes
    assert sc.GEN_AI_USAGE_COST in attrs and "groq" in attrs[sc.OTEL_LLM_COST_NOTE]
