"""Fixtures for the SDK core tests: a private in-memory capture per test.

Every test gets fresh providers (no global provider), so spans and metric
points never leak between tests. Prices come from a user table with round
numbers so costs can be computed by hand.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from otel_llm.testing import Capture

# USD per 1M tokens: 1 token of input costs 1e-6, of output 2e-6.
PRICING = {"test-model": {"input": 1.0, "output": 2.0, "cache_read": 0.5, "cache_write": 1.5}}


def _openai_response(
    input_tokens: int = 10, output_tokens: int = 5, model: str = "test-model", finish: str = "stop"
) -> dict[str, Any]:
    """A plain-dict OpenAI chat completion (the shape ``_usage`` understands)."""
    return {
        "id": "resp-1",
        "model": model,
        "choices": [{"index": 0, "finish_reason": finish, "message": {"role": "assistant", "content": "hi there"}}],
        "usage": {"prompt_tokens": input_tokens, "completion_tokens": output_tokens},
    }


@pytest.fixture
def response() -> Any:
    """Factory of OpenAI-shaped responses: ``response(input_tokens, output_tokens, model)``."""
    return _openai_response


@pytest.fixture
def cap() -> Iterator[Capture]:
    capture = Capture(project="alpha", pricing=PRICING).start()
    try:
        yield capture
    finally:
        capture.stop()


@pytest.fixture
def cap_content() -> Iterator[Capture]:
    """Content capture on, with a redaction hook that masks the word 'secret'."""
    capture = Capture(
        project="alpha",
        pricing=PRICING,
        capture_content=True,
        redact=lambda text: text.replace("secret", "[REDACTED]"),
    ).start()
    try:
        yield capture
    finally:
        capture.stop()
