"""``otel-llm running``: the calls real processes had in flight at their last metric export.

Each app writes its files with the SDK's own exporter (the collector's file
format); one is stopped (``os._exit``) while calls run, as a killed worker is;
another finishes its calls. The store is built by ``otel-llm ingest``.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.support.app_store import cli as run, ingest, run_app

APP = """
import os, sys, threading
import otel_llm
otel_llm.configure(service_name=sys.argv[1], metric_export_interval_ms=60_000)
release = threading.Event()

@otel_llm.llm_call(model="m-1", provider="openai")
def ask():
    release.wait(60)
    return {"model": "m-1", "usage": {"prompt_tokens": 1, "completion_tokens": 1}}

@otel_llm.agent(name="writer")
def write():
    return ask()

calls = int(sys.argv[2])
threads = [threading.Thread(target=write, daemon=True) for _ in range(calls)]
for t in threads:
    t.start()
while sum(1 for t in threads if t.is_alive()) < calls:
    pass
if sys.argv[3] == "killed":
    import time; time.sleep(0.2)
    otel_llm.flush()
    os._exit(0)  # stopped mid-call: no later export
release.set()
for t in threads:
    t.join()
otel_llm.shutdown()
"""


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    root = tmp_path_factory.mktemp("running")
    for service, calls, how in (("killed-worker", 3, "killed"), ("finished-worker", 2, "finished")):
        out = run_app(root, APP, service, str(calls), how)
    return ingest(root, out)


def _rows(*args: str) -> list[dict[str, Any]]:
    result = run("running", "-f", "json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["rows"]


def test_the_calls_in_flight_at_the_last_export_are_shown_per_process(store: str) -> None:
    rows = _rows("--db", store, "--stale-after", "1h")
    assert {(r["service"], r["kind"], r["name"], r["running"], r["stale"]) for r in rows} == {
        ("killed-worker", "agent", "invoke_agent writer", 3, False),
        ("killed-worker", "llm_call", "chat m-1", 3, False),
    }
    assert len({r["instance"] for r in rows}) == 1 and rows[0]["instance"]


def test_a_process_silent_longer_than_stale_after_is_marked_stale(store: str) -> None:
    (as_of,) = {r["as_of"] for r in _rows("--db", store, "--stale-after", "1h")}
    later = datetime.fromisoformat(as_of) + timedelta(hours=2)
    rows = _rows("--db", store, "--until", later.isoformat(), "--stale-after", "1h")
    assert rows and all(r["stale"] for r in rows)
    table = run("running", "--db", store, "--until", later.isoformat(), "--stale-after", "1h")
    assert "may have stopped with these in flight" in table.output


def test_before_any_export_nothing_is_running_and_bad_durations_are_usage_errors(store: str) -> None:
    (as_of,) = {r["as_of"] for r in _rows("--db", store, "--stale-after", "1h")}
    assert _rows("--db", store, "--until", as_of) == []  # --until is exclusive: before the only export
    assert run("running", "--db", store, "--stale-after", "soon").exit_code == 2
    assert run("running", "--db", store, "--stale-after", "5").exit_code == 2
    assert run("running", "--db", store, "--stale-after", "").exit_code == 2


def test_a_store_without_the_metric_says_where_it_comes_from(tmp_path: Path) -> None:
    from tests.support import synthetic

    synthetic.generate(tmp_path / "data", seed=3, traces=5)
    db = str(tmp_path / "s.duckdb")
    assert run("ingest", str(tmp_path / "data"), "--db", db).exit_code == 0
    result = run("running", "--db", db)
    assert result.exit_code == 0
    assert "no process here reports otel_llm.active" in result.output
