"""`otel-llm logs` narrowed to one service, one logger (the log source) or one trace.

Two real processes (services ``scraper`` and ``processor``) log through Python's
``logging`` with otel-llm's bridge, from two loggers each, one record inside a traced
call; what each filter keeps is recomputed from their ``logs.jsonl``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

APP = """
import logging, sys
import otel_llm
service = sys.argv[1]
otel_llm.configure(service_name=service)
main, http = logging.getLogger(service), logging.getLogger(service + ".http")

@otel_llm.llm_call(model="gpt-4o", provider="openai")
def call():
    main.error("call failed for job 7")
    return {"usage": {"prompt_tokens": 3, "completion_tokens": 1}}

for job in range(3):
    main.warning("processed job %d", job)
    http.error("GET /page/%d timed out after 30 s", job)
call()
otel_llm.shutdown()
"""


def _app():
    import typer

    from otel_llm_analysis.cli import register

    app = typer.Typer()
    register(app)
    return app


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, list[dict]]:
    """The store's path and every record written: body, service, logger (scope) and trace id."""
    root = tmp_path_factory.mktemp("logs")
    out = root / "otel-data"
    for service in ("scraper", "processor"):
        done = subprocess.run([sys.executable, "-c", APP, service], cwd=root, capture_output=True, text=True,
                              timeout=120, env={**os.environ, "OTEL_LLM_OUTPUT_DIR": str(out)})
        assert done.returncode == 0, done.stderr
    records = []
    for line in (out / "logs.jsonl").read_text().splitlines():
        for rl in json.loads(line)["resourceLogs"]:
            service = next(a["value"]["stringValue"] for a in rl["resource"]["attributes"] if a["key"] == "service.name")
            for sl in rl["scopeLogs"]:
                for record in sl["logRecords"]:
                    records.append({"body": record["body"]["stringValue"], "service": service,
                                    "logger": sl["scope"]["name"], "trace_id": record.get("traceId") or None})
    db = str(root / "store.duckdb")
    ingested = CliRunner().invoke(_app(), ["ingest", str(out), "--db", db])
    assert ingested.exit_code == 0, ingested.output
    return db, records


def _logs(db: str, *args: str) -> list[dict]:
    result = CliRunner().invoke(_app(), ["logs", "--db", db, "--format", "json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["rows"]


def test_one_service_one_logger_one_trace(written):
    db, records = written
    assert len(records) == 14
    for service in ("scraper", "processor"):
        rows = _logs(db, "--service", service)
        assert sorted(r["body"] for r in rows) == sorted(r["body"] for r in records if r["service"] == service)
        assert {r["service_name"] for r in rows} == {service}
    rows = _logs(db, "--logger", "scraper.http")
    assert sorted(r["body"] for r in rows) == sorted(r["body"] for r in records if r["logger"] == "scraper.http")
    assert {r["logger"] for r in rows} == {"scraper.http"}
    traced = next(r for r in records if r["trace_id"] and r["service"] == "processor")
    rows = _logs(db, "--trace", traced["trace_id"])
    assert [r["body"] for r in rows] == ["call failed for job 7"]
    unknown = CliRunner().invoke(_app(), ["logs", "--db", db, "--service", "nosuch"])  # refused, not "no data"
    assert unknown.exit_code == 2 and "no log records for service nosuch" in unknown.output, unknown.output


def test_patterns_of_one_logger(written):
    db, records = written
    rows = _logs(db, "--patterns", "--logger", "processor.http")
    assert [(r["pattern"], r["count"]) for r in rows] == [("GET /page/<num> timed out after <num> s", 3)]
    everything = _logs(db, "--patterns")
    assert sum(r["count"] for r in everything) == sum(1 for r in records if "failed" in r["body"] or "GET" in r["body"])


def test_the_table_names_each_records_service_and_logger(written):
    db, _ = written
    result = CliRunner(env={"COLUMNS": "200"}).invoke(_app(), ["logs", "--db", db, "--service", "scraper"])
    assert result.exit_code == 0, result.output
    line = next(line for line in result.output.splitlines() if "GET /page/0" in line)
    assert {"scraper", "scraper.http"} <= set(line.split()), line
