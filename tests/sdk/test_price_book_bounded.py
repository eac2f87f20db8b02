"""A PriceBook's caches stay bounded however many distinct model names an app sends.

Apps put ids in model names (a fine-tune per customer, a deployment per
request): each distinct name was cached, and said, for the life of the
process. The caches keep a bounded number of names, those in use among them,
and a lookup after an eviction is resolved again to the same rates.
"""

from __future__ import annotations

from typing import Any

import pytest

from otel_llm import pricing
from otel_llm._usage import Billing, Usage
from otel_llm.pricing import PriceBook

USAGE = Usage(input_tokens=10, output_tokens=5)
PRICES = {"test-model": {"input": 1.0, "output": 2.0}}


def _sizes(book: PriceBook) -> dict[str, int]:
    return {name: len(getattr(book, name)) for name in ("_cache", "_flat_cache", "_tiers", "_said")}


def _user_book() -> PriceBook:
    """The user's prices alone: an unknown name is resolved in microseconds (genai-prices' scan takes a millisecond)."""
    return PriceBook(pricing._user_rates(PRICES), use_genai_prices=False, notify_unknown=False)


def test_distinct_model_names_leave_the_caches_bounded() -> None:
    book = _user_book()
    book._user.update({f"ft:test-model:customer-{i}": book._user["test-model"] for i in range(0, 2000, 2)})
    for i in range(2000):
        book.cost(f"ft:test-model:customer-{i}", USAGE, "openai")  # unknown: no cost
        book.cost(f"ft:test-model:customer-{i}", Usage(input_tokens=1, cache_read_tokens=5), "openai")
        book.cost(f"ft:test-model:customer-{i}", USAGE, "openai")
        book.cost("test-model", Usage(input_tokens=10, output_tokens=5, billing=Billing(service_tier=f"t{i}")))
    bound = 2 * pricing.CACHED_MODELS
    assert all(size <= bound for size in _sizes(book).values()), _sizes(book)


def test_lookups_stay_right_and_a_model_in_use_stays_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    book = _user_book()
    resolved: list[str] = []
    resolve = book._resolve

    def counting(model: str, provider: Any) -> Any:
        resolved.append(model)
        return resolve(model, provider)

    monkeypatch.setattr(book, "_resolve", counting)
    first = book.cost("test-model", USAGE)
    assert first is not None and first.usd == pytest.approx(20e-6)
    for i in range(10 * pricing.CACHED_MODELS):
        assert book.cost(f"other-{i}", USAGE) is None
        assert book.cost("test-model", USAGE) == first  # in use: kept
    assert resolved.count("test-model") == 1
    assert book.cost("other-0", USAGE) is None and resolved.count("other-0") == 2  # evicted, resolved again alike
    assert book.rates("test-model") is not None


def test_refusals_of_many_models_are_said_within_a_bound(capsys: pytest.CaptureFixture[str]) -> None:
    book = PriceBook.load({f"m-{i}": {"input": 1.0, "output": 2.0} for i in range(300)})
    for i in range(300):
        assert book.cost(f"m-{i}", Usage(input_tokens=1, cache_read_tokens=5)) is None
    said = [line for line in capsys.readouterr().err.splitlines() if line.startswith("otel-llm: ")]
    assert len(said) <= pricing.CACHED_MODELS + 1
    assert len(book._said) <= 2 * pricing.CACHED_MODELS
