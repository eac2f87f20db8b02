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
