"""Faults of our own in pricing and usage extraction go through the one guard.

In our suite (``OTEL_LLM_RAISE_INTERNAL_ERRORS=1``) they raise, so a bug there
fails a test; in production they are logged once as an internal error and
the call goes on without a cost or usage. The app's own faults (a hostile
``__getattr__`` on a response object, a bad price file) are not ours: they
never raise, in either mode.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from otel_llm import _guard, _usage, pricing
from otel_llm._usage import Usage, extract_usage


class OurBug(Exception):
    pass


def _bug(*args: Any, **kwargs: Any) -> Any:
    raise OurBug("otel-llm bug")


def _internal_errors(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if "internal error" in r.getMessage()]


def test_a_bug_in_usage_extraction_fails_our_tests(monkeypatch):
    monkeypatch.setattr(_usage, "_finish_reasons", _bug)
    with pytest.raises(OurBug):
        extract_usage({"usage": {"prompt_tokens": 1}})


def test_a_bug_in_usage_extraction_is_one_internal_error_in_production(monkeypatch, caplog):
    monkeypatch.setattr(_usage, "_finish_reasons", _bug)
    with _guard.swallowing(), caplog.at_level(logging.WARNING):
        assert extract_usage({"usage": {"prompt_tokens": 1}}) is None
        assert extract_usage({"usage": {"prompt_tokens": 1}}) is None
    assert len(_internal_errors(caplog)) == 1


def test_a_hostile_response_object_is_not_our_fault_in_either_mode():
    class Hostile:
        @property
        def usage(self) -> Any:
            raise RuntimeError("the app's property")

        prompt_tokens = 3

    assert extract_usage(Hostile()) == Usage(input_tokens=3)


def test_a_bug_in_price_arithmetic_fails_our_tests(monkeypatch):
    monkeypatch.setattr(pricing.ModelRates, "price", _bug)
    monkeypatch.setattr(pricing, "_flat_price", _bug)  # the arithmetic of untiered rates, cached per model
    book = pricing.PriceBook.load({"m": {"input": 1.0}})
    with pytest.raises(OurBug):
        book.cost("m", Usage(input_tokens=1))


def test_a_bug_in_price_arithmetic_is_one_internal_error_in_production(monkeypatch, caplog):
    monkeypatch.setattr(pricing.ModelRates, "price", _bug)
    monkeypatch.setattr(pricing, "_flat_price", _bug)  # the arithmetic of untiered rates, cached per model
    book = pricing.PriceBook.load({"m": {"input": 1.0}})
    with _guard.swallowing(), caplog.at_level(logging.WARNING):
        assert book.cost("m", Usage(input_tokens=1)) is None
        assert book.cost("m", Usage(input_tokens=1)) is None
    assert len(_internal_errors(caplog)) == 1


def test_an_unexpected_failure_of_the_genai_prices_lookup_fails_our_tests(monkeypatch):
    from genai_prices import data_snapshot

    snapshot = data_snapshot.get_snapshot()
    monkeypatch.setattr(type(snapshot), "find_provider_model", _bug)
    with pytest.raises(OurBug):
        pricing.PriceBook().cost("gpt-4o", Usage(input_tokens=1), "openai")


def test_an_unknown_model_is_not_an_error(caplog):
    with caplog.at_level(logging.WARNING):
        assert pricing.PriceBook().cost("no-such-model-xyz", Usage(input_tokens=1), "nobody") is None
    assert _internal_errors(caplog) == []


def test_a_bad_yaml_price_file_is_reported_not_raised(tmp_path, caplog, capsys):
    path = tmp_path / "prices.yaml"
    path.write_text("m: [unclosed\n")
    with caplog.at_level(logging.WARNING):
        book = pricing.PriceBook.load(path)
    assert book.rates("m") is None
    assert "not valid YAML" in capsys.readouterr().err
    assert _internal_errors(caplog) == []  # the user's file: a notice, not otel-llm's fault
