"""On ClickHouse too, spans that hold fewer of otel-llm's LLM calls than its metrics counted are said.

At scale traces are sampled, and ClickHouse is where such data goes: the same
sampled runs loaded with ``otel-llm load`` give the note DuckDB gives (the
store's name aside), and a fully traced load gives none.
"""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from otel_llm.cli import app
from otel_llm_analysis.clickhouse.store import ClickHouseStore
from tests.support.sampled import sampled_runs


def run(*args: str):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})


def test_sampled_calls_are_said_on_clickhouse(tmp_path: Path, clickhouse_url: str) -> None:
    sampled_runs(tmp_path / "files", kept=2, dropped=1)
    assert run("load", str(tmp_path / "files"), "--to", clickhouse_url).exit_code == 0
    store = ClickHouseStore(clickhouse_url)
    try:
        assert store.span_coverage == (
            f"the spans in {store.path} hold 4 of the 6 LLM calls otel-llm's metrics counted (traces sampled, "
            "trace files not ingested, or spans lost): calls, tokens and cost here cover those 4 only")
    finally:
        store.close()
    shown = run("summary", "--db", clickhouse_url)
    assert shown.exit_code == 0 and "note: the spans in" in shown.output and "hold 4 of the 6" in shown.output


def test_every_call_traced_says_nothing_on_clickhouse(tmp_path: Path, clickhouse_url: str) -> None:
    sampled_runs(tmp_path / "files", kept=2, dropped=0)
    assert run("load", str(tmp_path / "files"), "--to", clickhouse_url).exit_code == 0
    store = ClickHouseStore(clickhouse_url)
    try:
        assert store.span_coverage is None
    finally:
        store.close()
    assert "note:" not in run("summary", "--db", clickhouse_url).output
