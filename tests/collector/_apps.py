"""Pieces of the small apps the end-to-end tests run in a subprocess."""

from __future__ import annotations

#: After ``otel_llm.configure(...)``: one LLM call (a span and its metric points), flushed, shut down.
ONE_CALL = """
@otel_llm.llm_call(model="gpt-4o", provider="openai")
def call():
    return {"usage": {"prompt_tokens": 3, "completion_tokens": 2}}

call()
otel_llm.flush(10)
otel_llm.shutdown()
"""
