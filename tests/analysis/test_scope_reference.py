"""The derived tables the scopes refresh keeps hold exactly the rows of the macros they were first made with.

``_scope_reference.sql`` holds the agents, tools, retries and quality macros
before the refresh was made cheaper (a walk over every span's full row, calls
joined by ids), renamed ``reference_*``. Over the whole store, they make the
rows each derived table must hold - after one ingest, and after data arriving
over several ingests (traces growing, worked out again alone). Tables are
compared as multisets of rows, every column; floating-point sums are compared
to 12 decimals (DuckDB adds them in no fixed order, so two runs of the same
macro may differ in the last bit).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from otel_llm import semconv
from otel_llm_analysis import TraceStore
from otel_llm_analysis._producers import cost_rank_sql
from otel_llm_analysis._scope_index import DERIVED, QA
from otel_llm_analysis._scopes import view_parameters
from tests.support.synthetic import generate

REFERENCE = Path(__file__).with_name("_scope_reference.sql")


def _reference_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Create the reference macros as temporary macros of ``con`` (the store keeps none of them)."""
    sql = REFERENCE.read_text(encoding="utf-8").format(
        llm_call=semconv.KIND_LLM_CALL, evaluation_event=semconv.EVENT_EVALUATION_RESULT,
        outer_cost_rank=cost_rank_sql("w.cost_source"), inner_cost_rank=cost_rank_sql("c.cost_source"),
        **view_parameters())
    con.execute(sql.replace("CREATE OR REPLACE MACRO", "CREATE OR REPLACE TEMP MACRO"))


def _differences(con: duckdb.DuckDBPyConnection, table: str, macro: str) -> tuple[int, int, int]:
    """(rows, rows only in ``table``, rows only in the reference macro's result over the whole store)."""
    columns = con.execute("SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ? "
                          "AND schema_name = 'main' ORDER BY column_index", [table]).fetchall()
    con.execute(f"CREATE OR REPLACE TEMP TABLE ref_rows AS SELECT * FROM reference_{macro}('ref_spans', "
                f"'ref_scopes', 'ref_calls'{', ' + repr('ref_events') if table == QA else ''})")
    reference = con.execute("SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = 'ref_rows' "
                            "ORDER BY column_index").fetchall()
    assert columns == reference, table
    cells = ", ".join(f"round({name}, 12)" if kind == "DOUBLE" else name for name, kind in columns)
    ((rows,),) = con.execute(f"SELECT count(*) FROM {table}").fetchall()
    ((only_stored,),) = con.execute(
        f"SELECT count(*) FROM (SELECT {cells} FROM {table} EXCEPT ALL SELECT {cells} FROM ref_rows)").fetchall()
    ((only_reference,),) = con.execute(
        f"SELECT count(*) FROM (SELECT {cells} FROM ref_rows EXCEPT ALL SELECT {cells} FROM {table})").fetchall()
    return rows, only_stored, only_reference


def _assert_as_reference(store: TraceStore) -> dict[str, int]:
    """Every derived table of ``store`` holds the reference rows; returns each table's row count."""
    con = store.connection
    _reference_macros(con)
    con.execute("CREATE OR REPLACE TEMP TABLE ref_spans AS SELECT rowid AS r, * FROM span_rows")
    con.execute("CREATE OR REPLACE TEMP TABLE ref_calls AS SELECT * FROM llm_calls")
    con.execute("CREATE OR REPLACE TEMP TABLE ref_scopes AS SELECT * FROM reference_span_scope_walk('ref_spans')")
    con.execute("CREATE OR REPLACE TEMP TABLE ref_events AS SELECT * FROM qa_evaluations_of(span_events)")
    counts = {}
    for table, macro, _ in DERIVED:
        rows, only_stored, only_reference = _differences(con, table, macro)
        assert (only_stored, only_reference) == (0, 0), f"{table}: {only_stored} rows not in the reference's " \
                                                        f"{rows}, {only_reference} reference rows missing"
        counts[table] = rows
    return counts


@pytest.mark.parametrize("producer, peer_spans", [("otel_llm", False), ("openinference", True)])
def test_one_ingest_makes_the_reference_rows(tmp_path: Path, producer: str, peer_spans: bool) -> None:
    data = tmp_path / "data"
    generate(data, seed=5, traces=900, agents=producer, peer_spans=peer_spans,
                    keep_records=False)
    with TraceStore(tmp_path / "store.duckdb") as store:
        store.ingest([data / "traces.jsonl", data / "logs.jsonl"])
        counts = _assert_as_reference(store)
    # the data has what every table is made from (a table left empty would compare equal to nothing)
    assert all(counts[table] > 0 for table, *_ in DERIVED), counts


def test_data_over_several_ingests_makes_the_reference_rows(tmp_path: Path) -> None:
    """Traces split over three ingests (every third line each): the touched traces are worked out again."""
    data = tmp_path / "data"
    generate(data, seed=6, traces=900, agents="otel_llm", spans_per_line=16,
                    keep_records=False)
    lines = (data / "traces.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    with TraceStore(tmp_path / "store.duckdb") as store:
        for part in range(3):
            path = tmp_path / f"part{part}.jsonl"
            path.write_text("".join(lines[part::3]), encoding="utf-8")
            store.ingest([path])
        store.ingest([data / "logs.jsonl"])
        counts = _assert_as_reference(store)
    assert all(counts[table] > 0 for table, *_ in DERIVED), counts


def test_a_store_without_agents_tools_or_retries_makes_the_reference_rows(tmp_path: Path) -> None:
    """The tables made from agents, tools and tries stay empty, as the reference makes them."""
    data = tmp_path / "data"
    generate(data, seed=7, traces=400, keep_records=False)
    with TraceStore(tmp_path / "store.duckdb") as store:
        store.ingest([data / "traces.jsonl"])
        counts = _assert_as_reference(store)
    assert counts["tool_call_rows"] == counts["agent_invocation_rows"] == 0
    assert counts["turn_rows"] > 0 and counts["span_scope_index"] > 0
