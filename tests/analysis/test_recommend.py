"""``otel-llm recommend``: cheaper models, on a store built by ``otel-llm ingest`` from generated files.

The expected savings are worked out from the generator's records, each call
priced with the same price table (``PriceBook``) in plain Python.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from otel_llm._usage import Usage
from tests.support.app_store import cli as run
from otel_llm_analysis.store import price_book
from tests.support import synthetic

from _ground_truth import is_llm


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, synthetic.SyntheticData, Path]:
    root = tmp_path_factory.mktemp("recommend")
    data = synthetic.generate(root / "otel-data", seed=21, traces=150, days=10)
    prices = root / "prices.yaml"
    prices.write_text("tiny-model: {input: 0.01, output: 0.02}\n")
    db = str(root / "store.duckdb")
    assert run("ingest", str(root / "otel-data"), "--db", db).exit_code in (0, 3)
    return db, data, prices


def _expected(data: synthetic.SyntheticData, book: Any, candidates: list[str], per_model: int) -> list[tuple]:
    calls = [s for s in data.spans if is_llm(s) and s.model]
    used = defaultdict(list)
    for s in calls:
        if s.input_tokens is not None or s.output_tokens is not None:
            used[s.model].append(Usage(s.input_tokens, s.output_tokens, s.cache_read_tokens, s.cache_write_tokens))
    provider = {s.model: s.provider for s in calls}
    success = {m: sum(s.status_code != 2 for s in calls if s.model == m) / sum(s.model == m for s in calls)
               for m in provider}
    rates = {m: book.rates(m, provider.get(m)) for m in [*provider, *candidates]}
    rows = []
    for model, usages in used.items():
        if rates[model] is None:
            continue
        cost = sum(rates[model].price(u) for u in usages)
        found = [(model, other, cost - sum(r.price(u) for u in usages), success[model], success.get(other))
                 for other, r in rates.items() if other != model and r is not None
                 and sum(r.price(u) for u in usages) < cost]
        rows += sorted(found, key=lambda row: -row[2])[:per_model]
    return sorted(rows, key=lambda row: -row[2])


def test_each_model_against_the_cheaper_models_in_use(ingested: Any) -> None:
    db, data, _ = ingested
    result = run("recommend", "--db", db, "-f", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["rows"]
    expected = _expected(data, price_book(None), [], 3)
    assert expected
    assert [(r["model"], r["alternative"]) for r in rows] == [(m, a) for m, a, *_ in expected]
    for row, (_, _, savings, success, other_success) in zip(rows, expected):
        assert row["savings_usd"] == pytest.approx(savings)
        assert row["savings_usd"] == pytest.approx(row["cost_usd"] - row["alternative_cost_usd"])
        assert row["success_rate"] == pytest.approx(success)
        assert row["alternative_success_rate"] == pytest.approx(other_success)


def test_a_candidate_from_your_prices_and_the_models_without_a_price(ingested: Any) -> None:
    db, data, prices = ingested
    result = run("recommend", "--db", db, "-f", "json", "--pricing", str(prices), "--candidate", "tiny-model",
                 "--per-model", "1")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["rows"]
    expected = _expected(data, price_book(str(prices)), ["tiny-model"], 1)
    assert [(r["model"], r["alternative"]) for r in rows] == [(m, a) for m, a, *_ in expected]
    assert {r["alternative"] for r in rows} == {"tiny-model"}
    assert all(r["alternative_success_rate"] is None for r in rows)  # no calls of it here
    assert run("recommend", "--db", db, "--candidate", " ").exit_code == 2
    table = run("recommend", "--db", db)
    unpriced = {s.model for s in data.spans if is_llm(s) and s.model} - {
        m for m in {s.model for s in data.spans if is_llm(s) and s.model} if price_book(None).rates(m) is not None}
    assert unpriced
    for model in unpriced:
        assert f"{model}: no price in the table, so not compared" in table.output


def _call(number: int, model: str, provider: str, tokens: tuple[int, int, int, int]) -> synthetic.SpanRecord:
    record = synthetic.SpanRecord(
        trace_id=f"{number:032x}", span_id=f"{number:016x}", parent_span_id=None, name=f"chat {model}",
        span_kind="CLIENT", service_name="svc", project="", otel_kind="", start_ns=1_763_600_000 * 10**9 + number,
        end_ns=1_763_600_001 * 10**9 + number, resource={"service.name": "svc"})
    inputs, outputs, read, write = tokens
    record.attributes = {"gen_ai.operation.name": "chat", "gen_ai.request.model": model,
                         "gen_ai.provider.name": provider, "gen_ai.usage.input_tokens": inputs,
                         "gen_ai.usage.output_tokens": outputs, "gen_ai.usage.cache_read.input_tokens": read,
                         "gen_ai.usage.cache_creation.input_tokens": write}
    return record


def test_calls_either_side_of_a_tier_start_are_priced_at_their_own_tier(tmp_path: Path) -> None:
    """Claude Sonnet 4.5 and Gemini 2.5 Pro price a call above 200k input tokens at their long-context rates;
    the calls' summed counts are priced per tier, and come to what pricing each call on its own comes to."""
    calls = [("claude-sonnet-4-5", "anthropic", (150_000, 2_000, 40_000, 10_000)),
             ("claude-sonnet-4-5", "anthropic", (200_000, 1_000, 0, 0)),  # at the start: still the base tier
             ("claude-sonnet-4-5", "anthropic", (200_001, 1_000, 0, 0)),
             ("claude-sonnet-4-5", "anthropic", (300_000, 5_000, 60_000, 20_000)),
             ("gemini-2.5-pro", "gcp.gemini", (120_000, 3_000, 0, 0)),
             ("gemini-2.5-pro", "gcp.gemini", (250_000, 3_000, 50_000, 0)),
             ("gpt-4o", "openai", (180_000, 4_000, 100_000, 0)),
             ("gpt-4o", "openai", (220_000, 4_000, 0, 0)),
             ("gpt-4o-mini", "openai", (260_000, 9_000, 0, 0))]
    path = tmp_path / "traces.jsonl"
    path.write_bytes(json.dumps(synthetic.spans_request(
        [_call(n, *call) for n, call in enumerate(calls, 1)])).encode() + b"\n")
    db = str(tmp_path / "store.duckdb")
    assert run("ingest", str(path), "--db", db).exit_code == 0
    result = run("recommend", "--db", db, "-f", "json", "--per-model", "5", "--candidate", "gpt-4.1")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["rows"]
    book = price_book(None)
    providers = {model: provider for model, provider, _ in calls}

    def cost(at: str, of: str) -> float:
        rates = book.rates(at, providers.get(at))
        return sum(rates.price(Usage(*tokens)) for model, _, tokens in calls if model == of)

    assert {r["alternative"] for r in rows} >= {"gpt-4o-mini", "gpt-4.1"}
    assert {r["model"] for r in rows} >= {"claude-sonnet-4-5", "gemini-2.5-pro", "gpt-4o"}
    for row in rows:
        assert row["cost_usd"] == pytest.approx(cost(row["model"], row["model"]), rel=1e-12)
        assert row["alternative_cost_usd"] == pytest.approx(cost(row["alternative"], row["model"]), rel=1e-12)
    savings = [row["savings_usd"] for row in rows]
    assert savings == sorted(savings, reverse=True)
