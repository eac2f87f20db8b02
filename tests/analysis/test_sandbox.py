"""`otel-llm sql` / TraceStore.sql: queries over the store keep working, nothing else gets through."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from otel_llm.cli import app
from otel_llm_analysis import TraceStore
from otel_llm_analysis.store import StoreError


@pytest.fixture(scope="module")
def db(dataset, tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("sandbox") / "store.duckdb"
    with TraceStore(str(path)) as store:
        store.ingest(dataset.files)
    return str(path)


SECRET = "secret-line-of-a-file-outside-the-store"


@pytest.fixture
def secret(tmp_path) -> Path:
    path = tmp_path / "secret.csv"
    path.write_text(f"a\n{SECRET}\n")
    return path


ALLOWED = [
    "SELECT count(*) FROM spans",
    "WITH c AS (SELECT * FROM llm_calls) SELECT count(*) FROM c",
    "FROM daily_usage LIMIT 1",
    "DESCRIBE spans",
    "SUMMARIZE SELECT duration_ms FROM spans",
    "EXPLAIN SELECT * FROM trace_summary",
    "SHOW TABLES",
    "PRAGMA table_info('span_rows')",
    "SELECT 1; SELECT 2 AS two",
]


@pytest.mark.parametrize("query", ALLOWED)
def test_queries_over_the_store_work(db, query):
    with TraceStore(db, read_only=True) as store:
        names, rows = store.sql(query)
        assert names and rows
        assert store.query("SELECT count(*) FROM spans")[0][0] > 0  # the store's own connection is back


def _refusals(tmp_path: Path, secret: Path) -> list[tuple[str, str]]:
    out = tmp_path / "out.csv"
    return [
        (f"COPY spans TO '{out}'", "refused COPY"),
        (f"COPY (SELECT 1) TO '{out}' (FORMAT csv)", "refused COPY"),
        (f"EXPORT DATABASE '{tmp_path / 'exported'}'", "refused EXPORT"),
        (f"SELECT * FROM read_text('{secret}')", "refused file, network or extension access"),
        (f"SELECT * FROM read_csv('{secret}')", "refused file, network or extension access"),
        (f"SELECT * FROM '{secret}'", "refused file, network or extension access"),
        ("SELECT * FROM read_text('/etc/passwd')", "refused file, network or extension access"),
        ("SET threads = 1", "refused SET"),
        ("RESET threads", "refused RESET"),
        ("PRAGMA threads = 1", "refused PRAGMA"),
        (f"ATTACH '{tmp_path / 'other.duckdb'}' AS other", "refused ATTACH"),
        ("LOAD httpfs", "refused LOAD"),
        ("INSTALL httpfs", "refused INSTALL"),
        (f"IMPORT DATABASE '{tmp_path}'", "refused IMPORT"),
        ("CREATE TEMP TABLE scratch AS SELECT 1", "refused CREATE"),
        ("DELETE FROM logs", "refused DELETE"),
        ("SELECT 1; COPY spans TO 'x.csv'", "refused COPY"),
        ("CHECKPOINT", "refused CHECKPOINT"),
        ("SELECT * FROM read_parquet('https://example.invalid/x.parquet')", "refused"),
    ]


def test_everything_else_is_refused_with_one_line_naming_it(db, tmp_path, secret):
    with TraceStore(db, read_only=True) as store:
        for query, refusal in _refusals(tmp_path, secret):
            with pytest.raises(StoreError) as caught:
                store.sql(query)
            message = str(caught.value)
            assert message.startswith(refusal), (query, message)
            assert "\n" not in message and SECRET not in message
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "exported").exists()
    assert not (tmp_path / "other.duckdb").exists()


def test_the_cli_command_refuses_too(db, tmp_path, secret):
    runner = CliRunner()
    ok = runner.invoke(app, ["sql", "SELECT count(*) AS n FROM llm_calls", "--format", "csv", "--db", db])
    assert ok.exit_code == 0 and ok.output.splitlines()[0] == "n"
    for query in (f"COPY spans TO '{tmp_path / 'x.csv'}'", f"SELECT * FROM read_text('{secret}')", "SET threads=1"):
        result = runner.invoke(app, ["sql", query, "--db", db])
        assert result.exit_code == 1, result.output
        assert result.output.startswith("error: refused") and len(result.output.strip().splitlines()) == 1
        assert SECRET not in result.output
    assert not (tmp_path / "x.csv").exists()


def test_a_writable_store_keeps_working_after_user_sql(db, tmp_path, dataset):
    path = tmp_path / "rw.duckdb"
    with TraceStore(str(path)) as store:
        store.ingest(dataset.files[:1])
        assert store.sql("SELECT count(*) FROM spans")[1][0][0] > 0
        store.ingest(dataset.files)  # still writable
        store.query("SET threads = 1")  # its own connection is not locked


def test_an_in_memory_store_has_no_sandbox(store):
    with pytest.raises(StoreError, match="needs a database file"):
        store.sql("SELECT 1")


def test_the_readme_sql_examples_run_and_agree_with_summary(db):
    """README's `otel-llm sql` lines, as written, give summary --by model's calls and cost."""
    import json
    import re

    from otel_llm_analysis import summary

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    queries = re.findall(r'^otel-llm sql "([^"]+)"', readme, re.MULTILINE)
    assert len(queries) >= 2
    with TraceStore(db, read_only=True) as store:
        by_model = {r.key: r for r in summary(store, by="model") if r.llm_calls}
    for query in queries:
        result = CliRunner().invoke(app, ["sql", query, "--format", "json", "--db", db])
        assert result.exit_code == 0, result.output
        rows = json.loads(result.stdout)["rows"]
        assert {r["model"] for r in rows} == set(by_model)
        for r in rows:
            cost = r.get("usd", r.get("sum(cost_usd)"))
            assert cost == (None if by_model[r["model"]].cost_usd is None
                            else pytest.approx(by_model[r["model"]].cost_usd))
