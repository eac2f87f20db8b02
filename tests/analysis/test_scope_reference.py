"""The derived tables the scopes refresh keeps hold exactly the rows of the macros they were first made with.

``_scope_reference.sql`` holds the agents, tools, retries and quality macros
before the refresh was made cheaper (a walk over every span's full row, calls
joined by ids), renamed ``reference_*``. Over the whole store, they make the
rows each derived table must hold - after one ingest, after data arriving over
several ingests (traces growing, worked out again alone), and for odd trees
(cycles, orphans, runs without a chat span, loops under a missing parent). Tables are
compared as multisets of rows, every column; floating-point sums are compared
to 12 decimals (DuckDB adds them in no fixed order, so two runs of the same
macro may differ in the last bit).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import orjson
import pytest

from otel_llm import semconv
from otel_llm_analysis import TraceStore
from otel_llm_analysis._filters import TOTAL_ONLY_TOKENS
from otel_llm_analysis._producers import cost_rank_sql
from otel_llm_analysis._scope_index import DERIVED, QA
from otel_llm_analysis._scopes import view_parameters
from tests.support import synthetic
from tests.support.synthetic import generate

REFERENCE = Path(__file__).with_name("_scope_reference.sql")


def _reference_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Create the reference macros as temporary macros of ``con`` (the store keeps none of them)."""
    sql = REFERENCE.read_text(encoding="utf-8").format(
        llm_call=semconv.KIND_LLM_CALL, evaluation_event=semconv.EVENT_EVALUATION_RESULT,
        outer_cost_rank=cost_rank_sql("w.cost_source"), inner_cost_rank=cost_rank_sql("c.cost_source"),
        total_only_tokens=TOTAL_ONLY_TOKENS, **view_parameters())
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


def _span(span_id: str, parent: str | None, kind: str, start_ms: int, end_ms: int, trace: str = "a",
          status: int = 0, **attributes: Any) -> synthetic.SpanRecord:
    """A span as otel-llm's SDK writes it, times in ms after a fixed start."""
    t0 = 1_790_000_000 * 10**9
    return synthetic.SpanRecord(
        trace_id=trace * 32, span_id=span_id, parent_span_id=parent, name=f"{kind} {span_id[:2]}",
        span_kind="INTERNAL", service_name="svc", project="p", otel_kind=kind, start_ns=t0 + start_ms * 10**6,
        end_ns=t0 + end_ms * 10**6, status_code=status, request_model="m" if kind == "llm_call" else None,
        response_model="m" if kind == "llm_call" else None, attributes={"otel_llm.kind": kind, **attributes})


def test_odd_trees_make_the_reference_rows(tmp_path: Path) -> None:
    """Cycles, a span its own parent, orphans, a run without a chat span, loops under a missing parent,
    nested agents with retried tools and calls, a trace with no LLM work: the same rows as the reference."""
    tool, agent, attempt = {"gen_ai.tool.name": "t"}, {"gen_ai.agent.name": "a"}, "otel_llm.attempt"
    spans = [
        # a turn: an agent in an agent, a tool tried three times (the last fails), a call tried twice
        _span("a1" * 8, None, "chat", 0, 100),
        _span("a2" * 8, "a1" * 8, "agent", 1, 90, **agent),
        _span("a3" * 8, "a2" * 8, "agent", 2, 80, **{"gen_ai.agent.name": "inner"}),
        *(_span(f"b{i}" * 8, "a3" * 8, "tool", 3 + i, 4 + i, status=2 if i == 3 else 0,
                **{**tool, attempt: str(i), "gen_ai.tool.call.id": "c1"}) for i in (1, 2, 3)),
        *(_span(f"c{i}" * 8, "a3" * 8, "llm_call", 10 + i, 11 + i, **{attempt: str(i)}) for i in (1, 2)),
        _span("d1" * 8, "a1" * 8, "llm_call", 95, 99),
        # parents in a cycle, a span its own parent
        _span("e1" * 8, "e2" * 8, "agent", 0, 10, trace="b", **agent),
        _span("e2" * 8, "e1" * 8, "tool", 1, 2, trace="b", **tool),
        _span("e3" * 8, "e3" * 8, "tool", 3, 4, trace="b", **{**tool, attempt: "1"}),
        # a run without a chat span, an orphan whose parent never arrived, tries under a missing parent
        _span("f1" * 8, None, "agent", 0, 50, trace="c", **agent),
        _span("f2" * 8, "f1" * 8, "llm_call", 1, 5, trace="c"),
        _span("f3" * 8, "99" * 8, "tool", 6, 7, trace="c", **tool),
        *(_span(f"f{3 + i}" * 8, "98" * 8, "tool", 8 + i, 9 + i, trace="c", **{**tool, attempt: str(i)})
          for i in (1, 2)),
        # no LLM work: no turn
        _span("0a" * 8, None, "vector_op", 0, 9, trace="d"),
    ]
    path = tmp_path / "odd.jsonl"
    path.write_bytes(b"".join(orjson.dumps(synthetic.spans_request([s])) + b"\n" for s in spans))
    with TraceStore(tmp_path / "store.duckdb") as store:
        store.ingest([path])
        counts = _assert_as_reference(store)
    # 15 walked spans (3 in a cycle are not), two turns (the chat, the run's root), 3 loops, 4 agents
    assert (counts["span_scope_index"], counts["turn_rows"], counts["retry_loop_rows"],
            counts["agent_invocation_rows"]) == (15, 2, 3, 4), counts
