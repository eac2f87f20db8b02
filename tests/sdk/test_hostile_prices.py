"""Prices and counts a user can hand the pricing path that would price a call wrong.

A price entry that is no finite amount (``True``, infinity) is refused when the
table loads, with one notice naming the entry, so its model's calls are unpriced
rather than priced at 1 USD per 1M tokens or dropped call by call.
"""

from __future__ import annotations

from typing import Any

import pytest

from otel_llm._usage import Usage
from otel_llm.pricing import PriceBook

WHOLE = Usage(input_tokens=1000, output_tokens=1000)


def _said(capsys: Any) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if line.startswith("otel-llm: ")]


@pytest.mark.parametrize("price", [True, False, float("inf"), "inf", "-inf", "1e400"], ids=repr)
def test_a_price_that_is_no_finite_amount_is_refused_at_load_with_one_notice(capsys, price):
    book = PriceBook.load({"m": {"input": price, "output": 1}, "n": {"input": 1, "output": 1}})
    (said,) = _said(capsys)
    assert "ignoring pricing entry 'm'" in said
    assert book.cost("n", WHOLE).usd == pytest.approx(2e-3)  # the rest loads
    assert book.rates("m") is None or book.rates("m").source != "user"


def test_a_price_that_is_no_finite_amount_stops_a_strict_load():
    with pytest.raises(ValueError, match="entry 'm'"):
        PriceBook.load({"m": {"input": 1, "output": float("inf")}}, strict=True)
