"""README, Tables (the contract for your SQL): every table and view it lists exists in a store, with every
column it names - the views included (``tests/analysis/test_ingest_content.py`` checks the stored tables).

The store is the one ``otel-llm demo`` leaves; its columns are read as a user reads them, through DuckDB.
"""

from __future__ import annotations

import re
from typing import Iterator

import duckdb
import pytest

from tests.readme._demo import demo_home
from tests.readme.test_examples import ROOT

#: Words in backticks in the columns cell that are values or prose, not column names.
VALUES = {"OpenAI", "openai", "chat", "graph_node", "vector_op", "llm_call", "tool", "agent", "sdk", "producer",
          "ingest", "genai-prices@<version>", "user", "gauge", "sum", "histogram", "exponential_histogram",
          "summary", "{quantile", "value}", "metric_points.row_key", "gen_ai.evaluation.result", "@llm_call",
          "spans", "otel-llm", "traces", "succeeded", "gave_up"}


def _contract() -> list[tuple[list[str], list[str], set[str]]]:
    """(tables, tables named beside them in the first cell, columns named) per row of the README's table."""
    readme = (ROOT / "README.md").read_text("utf-8")
    contract = readme[readme.index("### Tables (the contract for your SQL)"):readme.index("**Ingest guarantees.**")]
    rows = []
    for row in contract.splitlines():
        head = re.match(r"\| ((?:`\w+`(?:, )?)+)([^|]*)\|", row)
        if not head:
            continue
        columns = {n for group in re.findall(r"`([^`]+)`", row.split(" | ")[-1])
                   for n in re.split(r"[,/ ]+", group) if n} - VALUES
        rows.append((re.findall(r"`(\w+)`", head.group(1)), re.findall(r"`(\w+)`", head.group(2)), columns))
    return rows


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    home = demo_home(tmp_path_factory, "tables", 3)
    connection = duckdb.connect(str(home / "otel-data" / "otel-llm.duckdb"), read_only=True)
    yield connection
    connection.close()


def test_every_table_and_view_the_readme_lists_has_the_columns_it_names(store: duckdb.DuckDBPyConnection) -> None:
    rows = _contract()
    assert {"spans", "llm_calls", "daily_usage", "trace_summary", "turns", "tool_calls"} <= {
        t for tables, _, _ in rows for t in tables}
    missing = []
    for tables, beside, named in rows:
        columns = set()
        for table in [*tables, *beside]:
            try:
                columns |= {column for (column, *_) in store.execute(f"DESCRIBE {table}").fetchall()}
            except duckdb.Error as error:
                missing.append(f"{table}: {error}")
        missing += [f"{', '.join(tables)}: {name}" for name in sorted(named - columns)]
    assert not missing, "the README's table contract names what the store lacks:\n" + "\n".join(missing)


def test_the_window_macros_the_readme_names_return_the_views_rows(store: duckdb.DuckDBPyConnection) -> None:
    """"the agents, tools and retries views are also table macros for a time window, ``tool_calls_in(since,
    until)`` and so on"."""
    whole = store.execute("SELECT count(*) FROM tool_calls").fetchone()[0]
    window = store.execute("SELECT count(*) FROM tool_calls_in(TIMESTAMP '2000-01-01', TIMESTAMP '2100-01-01')")
    assert whole > 0 and window.fetchone()[0] == whole
    empty = store.execute("SELECT count(*) FROM tool_calls_in(TIMESTAMP '2000-01-01', TIMESTAMP '2000-01-02')")
    assert empty.fetchone()[0] == 0
