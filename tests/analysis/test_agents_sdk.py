"""Agents, tools and retries of spans the SDK really records, through its file exporter and ingest.

Each test runs decorated functions under a private capture, writes the spans
with otel-llm's ``FileSpanExporter``, ingests the file and compares the
analyses with what the functions did (calls, tokens and dollars counted once,
under the agent or tool that made them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
import typer
from typer.testing import CliRunner

import otel_llm
from otel_llm.exporters.file import FileSpanExporter
from otel_llm.testing import Capture
from otel_llm_analysis import Filters, TraceStore, agents
from otel_llm_analysis.cli import register

# USD per 1M tokens: 1 input token costs 1e-6, 1 output token 2e-6.
PRICING = {"test-model": {"input": 1.0, "output": 2.0}}


def _response(input_tokens: int = 10, output_tokens: int = 5) -> dict[str, Any]:
    """A plain-dict OpenAI chat completion the SDK reads usage from."""
    return {
        "id": "resp-1", "model": "test-model",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "hi"}}],
        "usage": {"prompt_tokens": input_tokens, "completion_tokens": output_tokens},
    }


@otel_llm.llm_call(provider="openai", model="test-model")
def _ask(input_tokens: int = 10, output_tokens: int = 5) -> dict[str, Any]:
    return _response(input_tokens, output_tokens)


@pytest.fixture
def cap() -> Any:
    capture = Capture(project="alpha", pricing=PRICING).start()
    try:
        yield capture
    finally:
        capture.stop()


def _ingest(cap: Capture, tmp_path: Path) -> TraceStore:
    """Write what ``cap`` recorded with the SDK's file exporter and ingest the file into a fresh store."""
    path = tmp_path / "spans.jsonl"
    exporter = FileSpanExporter(path)
    exporter.export(cap.spans())
    exporter.shutdown()
    store = TraceStore(str(tmp_path / "store.duckdb"))
    report = store.ingest(path)
    assert report.bad_lines == []
    return store


def _cli() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def _by_name(rows: list[Any], key: str) -> dict[str, Any]:
    return {getattr(r, key): r for r in rows}


def test_a_recursive_agent_counts_each_call_once(cap: Capture, tmp_path: Path) -> None:
    """rec(2) -> rec(1) -> rec(0), one model call each: the agent made 3 calls, 30 tokens in, not 6 and 60."""

    @otel_llm.agent("rec")
    def rec(n: int) -> None:
        _ask()
        if n:
            rec(n - 1)

    rec(2)
    store = _ingest(cap, tmp_path)
    (row,) = agents(store)
    assert (row.agent, row.invocations) == ("rec", 3)
    assert (row.llm_calls, row.input_tokens, row.output_tokens, row.priced_calls) == (3, 30, 15, 3)
    assert row.cost_usd == pytest.approx(3 * (10e-6 + 5 * 2e-6))
    assert row.llm_calls_per_invocation == pytest.approx(1.0)
    store.close()


def test_an_agent_called_back_through_another_counts_each_call_once(cap: Capture, tmp_path: Path) -> None:
    """planner -> helper -> planner, one call each: planner made 3 calls in its 2 invocations, helper 2 in 1.

    A window that starts after the outer planner keeps the inner invocations:
    their calls count there, once.
    """

    @otel_llm.agent("helper")
    def helper() -> None:
        _ask()
        planner(False)

    @otel_llm.agent("planner")
    def planner(outer: bool) -> None:
        _ask(input_tokens=100 if outer else 10)
        if outer:
            helper()

    planner(True)
    store = _ingest(cap, tmp_path)
    rows = _by_name(agents(store), "agent")
    assert {n: (r.invocations, r.llm_calls, r.input_tokens) for n, r in rows.items()} == {
        "planner": (2, 3, 120), "helper": (1, 2, 20)}
    (outer_start,) = store.query("SELECT max(start_time) FROM agent_invocations WHERE agent_name = 'helper'")[0]
    inner = _by_name(agents(store, Filters.of(outer_start, None)), "agent")
    assert {n: (r.invocations, r.llm_calls, r.input_tokens) for n, r in inner.items()} == {
        "planner": (1, 1, 10), "helper": (1, 2, 20)}
    store.close()


def test_calls_without_observed_usage_or_price_are_counted_apart(cap: Capture, tmp_path: Path) -> None:
    """An agent's call read as raw HTTP lines (usage unobserved) and one of a model without a price are said.

    The agent made 3 calls: one priced, one unpriced (tokens, no price), one whose
    usage the SDK could not see (``otel_llm.usage.unobserved``) - its tokens and
    cost are not 0, they are unknown, and ``agents`` says so per agent.
    """
    client = openai.OpenAI(api_key="k", base_url="http://llm.test/v1", max_retries=0,
                           http_client=httpx.Client(transport=httpx.MockTransport(
                               lambda request: httpx.Response(200, json=_response(120, 2)))))

    @otel_llm.llm_call(provider="openai", model="test-model")
    def ask_raw() -> Any:
        return client.chat.completions.with_streaming_response.create(model="test-model", messages=[])

    @otel_llm.llm_call(provider="openai", model="no-price-model")
    def ask_unpriced() -> dict[str, Any]:
        return {**_response(7, 1), "model": "no-price-model"}

    @otel_llm.tool("fetch")
    def fetch() -> None:
        with ask_raw() as response:
            "".join(response.iter_lines())  # the app reads the body itself: no usage for the SDK

    @otel_llm.agent("reader")
    def reader() -> None:
        fetch()
        _ask()
        ask_unpriced()

    reader()
    store = _ingest(cap, tmp_path)
    (row,) = agents(store)
    assert (row.llm_calls, row.priced_calls, row.unpriced_calls, row.unobserved_calls) == (3, 1, 1, 1)
    assert (row.input_tokens, row.output_tokens) == (17, 6)
    store.close()
    result = CliRunner().invoke(_cli(), ["agents", "--db", store.path], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "reader: 1 of 3 calls have no price" in text
    assert "reader: 1 of 3 calls have no usage observed" in text
