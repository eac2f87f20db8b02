"""`otel-llm check --min-pass-rate`: alert when the evaluations' pass rate falls below a floor.

The Stage 11 analytics planned QA failure notifications and the LoreChat plan automated
alerts; the pass rate is recomputed here from the evaluation events as written.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from otel_llm_analysis._filters import Filters
from otel_llm_analysis.alerts import Thresholds, any_breached, check

from _ground_truth import store_fixture

loaded = store_fixture(seed=44, traces=80, days=10)


def _pass_rate(data) -> float:
    labels = [e.eval_label for e in data.events if e.eval_label]
    return labels.count("pass") / len(labels)


def _row(rows, name):
    return next(row for row in rows if row.check == name)


def test_a_pass_rate_below_the_floor_is_a_breach(loaded):
    store, data = loaded
    rate = _pass_rate(data)
    assert 0 < rate < 1
    below = _row(check(store, Thresholds(None, None, None, None, None, min_pass_rate=rate + 1e-6)), "pass_rate")
    assert below.observed == pytest.approx(rate) and below.status == "breached"
    at = check(store, Thresholds(None, None, None, None, None, min_pass_rate=rate - 1e-6))
    assert _row(at, "pass_rate").status == "ok" and not any_breached(at)


def test_no_evaluation_is_no_data_and_the_command_exits_1_below_the_floor(loaded, tmp_path):
    import typer

    from otel_llm_analysis.cli import register

    store, data = loaded
    empty = check(store, Thresholds(None, None, None, None, None, min_pass_rate=0.9),
                  Filters.of(since="2000-01-01", until="2000-01-02"))
    assert _row(empty, "pass_rate").status == "no data"
    db = store.path
    store.close()
    app = typer.Typer()
    register(app)
    base = ["check", "--db", db, "--max-p95-ms", "1e9", "--max-error-rate", "1", "--format", "json"]
    failing = CliRunner().invoke(app, [*base, "--min-pass-rate", str(_pass_rate(data) + 0.01)])
    assert failing.exit_code == 1, failing.output
    assert _row_dict(json.loads(failing.stdout)["rows"])["status"] == "breached"
    passing = CliRunner().invoke(app, [*base, "--min-pass-rate", "0"])
    assert passing.exit_code == 0, passing.output


def _row_dict(rows):
    return next(row for row in rows if row["check"] == "pass_rate")
