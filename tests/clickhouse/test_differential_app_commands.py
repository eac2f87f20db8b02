"""The commands over what only a running SDK writes, on DuckDB and on ClickHouse: the same output.

``running`` (the ``otel_llm.active`` metric), ``sessions`` (process memory while each
conversation ran), ``check --max-cpu`` (process CPU), ``queries`` (captured user
messages), ``recommend`` (each model's calls at other models' prices) and ``logs
--grep`` read data a real app writes: one app, run in its own interpreter with
metrics every 100 ms, captured content and two calls left in flight when it is
killed, plus generated logs. Its files are ingested into a DuckDB store and loaded
(``otel-llm load``) into ClickHouse; each command prints the same on both, as a
table and as JSON.
"""

from __future__ import annotations

import json
from typing import Any, Iterator

import pytest
from typer.testing import CliRunner

from otel_llm.cli import app
from tests.support.app_store import run_app
from tests.support.clickhouse_http import ChdbHttpServer
from tests.support.synthetic import generate

from .test_differential import same

APP = """
import os, threading, time
import otel_llm
otel_llm.configure(service_name="helpdesk", process_metrics=True, metric_export_interval_ms=100,
                   capture_content=True)
release = threading.Event()

@otel_llm.llm_call(model="gpt-4o", provider="openai")
def ask(n):
    time.sleep(0.05)
    return {"model": "gpt-4o", "usage": {"prompt_tokens": 100 + n, "completion_tokens": 20 + n}}

@otel_llm.llm_call(model="gpt-4o-mini", provider="openai")
def ask_small(n):
    return {"model": "gpt-4o-mini", "usage": {"prompt_tokens": 50 + n, "completion_tokens": 10}}

@otel_llm.chat
def answer(question: str, thread_id: str) -> str:
    ask(len(question))
    ask_small(len(thread_id))
    time.sleep(0.25)
    return "ok"

@otel_llm.llm_call(model="gpt-4o", provider="openai")
def stuck():
    release.wait(60)

for i, question in enumerate(["What is my balance?", "what is my  balance?", "Reset my password",
                              "Ünïcode ünd 日本語?"] * 2):
    answer(question, thread_id=f"t{i % 3}")
threads = [threading.Thread(target=stuck, daemon=True) for _ in range(2)]
for thread in threads:
    thread.start()
time.sleep(0.3)
otel_llm.flush()
os._exit(0)  # killed with two calls in flight
"""


def run(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "240"})


@pytest.fixture(scope="module")
def dbs(tmp_path_factory: pytest.TempPathFactory, clickhouse_http: ChdbHttpServer) -> Iterator[tuple[str, str]]:
    root = tmp_path_factory.mktemp("app_commands")
    files = [str(run_app(root, APP)), str(root / "generated")]
    generate(root / "generated", traces=60, seed=41, days=10, error_rate=0.3)
    duck = str(root / "otel.duckdb")
    assert run("ingest", *files, "--db", duck).exit_code == 0
    url = f"clickhouse://default@127.0.0.1:{clickhouse_http.port}/otel_app_commands"
    loaded = run("load", *files, "--to", url)
    assert loaded.exit_code == 0, loaded.output
    yield duck, url


COMMANDS = {
    "running": ["running"],
    "running until later": ["running", "--until", "2099-01-01"],
    # the app's conversations (the generated ones run across services: which one a row names is any of them)
    "sessions": ["sessions", "--since", "2026-11-21"],
    "check --max-cpu": ["check", "--max-cpu", "0.01"],
    "queries": ["queries"],
    "recommend": ["recommend", "--candidate", "gpt-4o-mini"],
    "logs --grep": ["logs", "--grep", r"timed out after \d+ seconds$"],
    "logs --grep -i": ["logs", "--grep", "rate LIMIT reached", "-i", "--limit", "1000"],
    "logs --patterns --grep": ["logs", "--patterns", "--grep", "time"],
}


@pytest.mark.parametrize("fmt", ["table", "json"])
@pytest.mark.parametrize("name", list(COMMANDS))
def test_the_command_prints_the_same_on_both_engines(dbs: tuple[str, str], name: str, fmt: str) -> None:
    duck, url = dbs
    on_duck, on_clickhouse = (run(*COMMANDS[name], "-f", fmt, "--db", db) for db in (duck, url))
    assert on_duck.exit_code == on_clickhouse.exit_code, on_clickhouse.output
    assert on_duck.stdout.count("\n") > 3, on_duck.output  # rows to compare, not two empty answers
    if fmt == "json":  # every digit: sums and interpolations to 1e-9 relative (their last bit may differ)
        same(json.loads(on_duck.stdout), json.loads(on_clickhouse.stdout))
    else:
        assert on_clickhouse.stdout == on_duck.stdout
