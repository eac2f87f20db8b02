"""A call's span ends when the function returned, not after otel-llm priced it.

The first call of a model resolves its price (genai-prices' table loads then: about
0.2 s); that work ran before the span ended, so the first call of each model in every
process showed that time as its own latency (`p95`, `check`, the slowest traces).
"""

from __future__ import annotations

import time

import pytest

from otel_llm import _runtime, llm_call
from otel_llm.testing import capture


def test_pricing_time_is_not_the_calls_latency(monkeypatch):
    with capture(pricing={"slow-priced": {"input": 1.0, "output": 2.0}}) as cap:
        prices = _runtime.current().prices
        real = prices.cost

        def slow_cost(*args, **kwargs):
            time.sleep(0.3)  # as the first price lookup of a model, loading the table
            return real(*args, **kwargs)

        monkeypatch.setattr(prices, "cost", slow_cost)

        @llm_call(model="slow-priced", provider="openai")
        def ask() -> dict:
            return {"usage": {"prompt_tokens": 10, "completion_tokens": 5}}

        ask()
    span = cap.span("chat slow-priced")
    assert span.attributes["gen_ai.usage.cost"] == pytest.approx((10 * 1.0 + 5 * 2.0) / 1e6), "still priced"
    assert (span.end_time - span.start_time) / 1e6 < 100, "the span's duration is the call's, not its pricing"
    duration = cap.metrics()["gen_ai.client.operation.duration"]
    assert duration, "the duration metric is recorded"
