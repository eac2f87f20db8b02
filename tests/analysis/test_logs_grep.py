"""``otel-llm logs --grep PATTERN [-i]``: a regular expression over log bodies, on a store built by ``ingest``.

The expected records are found with Python's ``re`` over the generator's records
(the patterns used mean the same in Python and RE2).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.support.app_store import cli as run
from tests.support import synthetic


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, synthetic.SyntheticData]:
    root = tmp_path_factory.mktemp("grep")
    data = synthetic.generate(root / "otel-data", seed=41, traces=150, days=10, error_rate=0.3)
    db = str(root / "store.duckdb")
    assert run("ingest", str(root / "otel-data"), "--db", db).exit_code == 0
    return db, data


def _bodies(db: str, *args: str) -> list[str]:
    result = run("logs", "--db", db, "-f", "json", "--limit", "100000", *args)
    assert result.exit_code == 0, result.output
    return sorted(row["body"] for row in json.loads(result.stdout)["rows"])


@pytest.mark.parametrize("pattern", [r"Rate limit reached for [a-z0-9.-]+ in organization org-[0-9a-f]+",
                                     r"timed out after \d+ seconds$", r"^LLM call failed: (APITimeout|BadRequest)"])
def test_grep_finds_the_bodies_the_regular_expression_matches(ingested: Any, pattern: str) -> None:
    db, data = ingested
    expected = sorted(r.body for r in data.logs if re.search(pattern, r.body))
    assert _bodies(db, "--grep", pattern) == expected
    assert expected


def test_grep_is_case_sensitive_unless_ignore_case(ingested: Any) -> None:
    db, data = ingested
    expected = sorted(r.body for r in data.logs if re.search(r"llm call FAILED: \w+Error", r.body, re.I))
    assert expected and _bodies(db, "--grep", r"llm call FAILED: \w+Error") == []
    assert _bodies(db, "--grep", r"llm call FAILED: \w+Error", "--ignore-case") == expected
    assert _bodies(db, "--grep", r"llm call FAILED: \w+Error", "-i") == expected


def test_grep_narrows_the_other_filters_and_the_patterns(ingested: Any) -> None:
    db, data = ingested
    pattern = r"RateLimitError|timed out"
    errors = [r for r in data.logs if r.severity_number >= 17 and re.search(pattern, r.body)]
    assert _bodies(db, "--grep", pattern, "--severity", "ERROR") == sorted(r.body for r in errors)
    result = run("logs", "--db", db, "-f", "json", "--patterns", "--grep", "timed out")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["rows"]
    assert [row["pattern"] for row in rows] == [
        "LLM call failed: APITimeoutError: Request timed out after <num> seconds"]
    assert rows[0]["count"] == sum(r.severity_number >= 17 and "timed out" in r.body for r in data.logs)


def test_a_bad_expression_or_ignore_case_alone_is_a_usage_error(ingested: Any) -> None:
    db, _ = ingested
    bad = run("logs", "--db", db, "--grep", "failed: (")
    assert bad.exit_code == 2, bad.output
    assert "not a regular expression: 'failed: ('" in bad.output
    alone = run("logs", "--db", db, "-i")
    assert alone.exit_code == 2, alone.output
    assert "--ignore-case applies to --grep" in alone.output
