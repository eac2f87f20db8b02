"""``summary`` tells estimated figures apart: calls whose usage is their producer's estimate are named
in a note, and the estimated cost column is empty for groups where nothing was estimated.

Ground truth is the calls written below: two OpenLIT streams without usage (OpenLIT writes its own
estimate of their tokens and no cache counts), one OpenLIT call whose usage the API reported, and
one call of otel-llm's SDK that carries its own cost (nothing estimated).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from otel_llm.cli import app
from otel_llm_analysis.cli import SUMMARY_COLUMNS
from otel_llm_analysis.store import TraceStore
from tests.support import synthetic

_START = 1_763_600_000_000_000_000
_OPENLIT = "openlit.instrumentation.openai"
_NOTE = "2 call(s) carry their producer's estimate of usage (OpenLIT stream without stream_options.include_usage)"


def _call(number: int, model: str, **attributes: object) -> synthetic.SpanRecord:
    record = synthetic.SpanRecord(
        trace_id=f"{number:032x}", span_id=f"{number:016x}", parent_span_id=None, name=f"chat {model}",
        span_kind="CLIENT", service_name="svc", project="", otel_kind="", start_ns=_START + number * 10**9,
        end_ns=_START + number * 10**9 + 200_000_000, resource={"service.name": "svc"},
    )
    record.attributes = {"gen_ai.operation.name": "chat", "gen_ai.request.model": model,
                         "gen_ai.usage.input_tokens": 100, "gen_ai.usage.output_tokens": 20, **attributes}
    return record


def _request(spans: list[synthetic.SpanRecord], scope: str) -> bytes:
    request = synthetic.spans_request(spans)
    for resource in request["resourceSpans"]:
        for scoped in resource["scopeSpans"]:
            scoped["scope"]["name"] = scope
    return orjson.dumps(request) + b"\n"


@pytest.fixture
def db(tmp_path: Path) -> str:
    openlit = [_call(1, "gpt-4o", **{"gen_ai.request.stream": True}),
               _call(2, "gpt-4o", **{"gen_ai.request.stream": True}),
               _call(3, "gpt-4o", **{"gen_ai.request.stream": True, "gen_ai.usage.cache_read.input_tokens": 0})]
    sdk = [_call(4, "claude-sonnet-4", **{"gen_ai.usage.cost": 0.5})]
    path = tmp_path / "traces.jsonl"
    path.write_bytes(_request(openlit, _OPENLIT) + _request(sdk, synthetic.SCOPE_NAME))
    database = str(tmp_path / "store.duckdb")
    with TraceStore(database) as store:
        store.ingest([str(path)])
        assert store.query("SELECT count(*) FROM spans WHERE attr_keys @> ['gen_ai.request.stream']")[0][0] == 3
    return database


@pytest.mark.parametrize("by", [[], ["--by", "model"]], ids=["totals", "by model"])
def test_calls_with_a_producers_estimate_of_usage_are_named(db: str, by: list[str]) -> None:
    result = CliRunner().invoke(app, ["summary", *by, "--db", db])
    assert result.exit_code == 0, result.output
    assert _NOTE in " ".join(result.output.split()), result.output
    as_json = CliRunner().invoke(app, ["summary", *by, "--db", db, "--format", "json"])
    assert _NOTE in json.loads(as_json.stdout)["notes"]


def test_no_note_when_no_usage_was_estimated(tmp_path: Path) -> None:
    data = synthetic.generate(tmp_path / "otel-data", seed=3, traces=10, days=2)
    database = str(tmp_path / "store.duckdb")
    with TraceStore(database) as store:
        store.ingest([str(f) for f in data.files])
    result = CliRunner().invoke(app, ["summary", "--db", database])
    assert result.exit_code == 0, result.output
    assert "estimate of usage" not in result.output


def test_a_group_with_nothing_estimated_shows_no_estimated_cost(db: str) -> None:
    result = CliRunner().invoke(app, ["summary", "--by", "model", "--db", db])
    assert result.exit_code == 0, result.output
    column = SUMMARY_COLUMNS.index("estimated_cost_usd")  # model names and figures hold no space
    cells = {line.split()[0]: line.split() for line in result.stdout.splitlines() if line.strip()}
    assert cells["claude-sonnet-4"][column] == "-", result.stdout  # priced by the SDK: nothing estimated
    assert cells["gpt-4o"][column].startswith("$") and cells["gpt-4o"][column] != "$0", result.stdout
    help_text = " ".join(CliRunner().invoke(app, ["summary", "--help"], env={"COLUMNS": "200"}).output.split())
    assert "estimated cost" in help_text and "priced at ingest" in help_text and "estimate" in help_text


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_machine_output_keeps_a_zero_estimated_cost_a_number(db: str, fmt: str) -> None:
    result = CliRunner().invoke(app, ["summary", "--by", "model", "--db", db, "--format", fmt])
    assert result.exit_code == 0, result.output
    if fmt == "json":
        rows = {row["key"]: row for row in json.loads(result.stdout)["rows"]}
        assert rows["claude-sonnet-4"]["estimated_cost_usd"] == 0.0
        assert rows["gpt-4o"]["estimated_cost_usd"] > 0 and rows["gpt-4o"]["estimated_usage_calls"] == 2
    else:
        rows = {row["key"]: row for row in csv.DictReader(io.StringIO(result.stdout))}
        assert float(rows["claude-sonnet-4"]["estimated_cost_usd"]) == 0.0
        assert float(rows["gpt-4o"]["estimated_cost_usd"]) > 0
