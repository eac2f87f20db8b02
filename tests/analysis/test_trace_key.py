"""A group's distinct traces are counted over ``span_rows.trace_key``, the trace id as a UUID (the same 128 bits).

The count must stay the count of distinct trace ids on every store: one this version made, one an older
version made (no such column: it is added and filled when the store is opened for writing), one an older
version wrote rows into since (the column left NULL: filled at the next open for writing), and an older
store opened read-only (counted over ``trace_id``).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from otel_llm_analysis import TraceStore, summary, totals
from otel_llm_analysis._filters import Filters
from tests.support.synthetic import generate

BY = (None, "node", "model")


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return generate(tmp_path_factory.mktemp("trace-key"), seed=5, traces=40, days=3, peer_spans=True,
                    keep_records=False).files


def _store(tmp: Path, files: list[Path]) -> str:
    db = str(tmp / "s.duckdb")
    with TraceStore(db) as store:
        for f in files:
            store.ingest(f)
    return db


def _expected(db: str) -> dict[str | None, dict[object, int]]:
    """Each grouping's distinct trace ids, counted from the stored ids themselves."""
    with duckdb.connect(db, read_only=True) as con:
        return {by: dict(con.execute(f"SELECT {column}, count(DISTINCT trace_id) FROM span_rows GROUP BY 1"
                                     ).fetchall())
                for by, column in ((None, "NULL"), ("node", "graph_node"), ("model", "model"))}


def _counted(store: TraceStore) -> dict[str | None, dict[object, int]]:
    return {by: {row.key: row.traces for row in summary(store, by=by)} for by in BY}


def test_trace_key_is_the_trace_id_as_a_uuid(tmp_path: Path, data: list[Path]) -> None:
    db = _store(tmp_path, data)
    with duckdb.connect(db, read_only=True) as con:
        ((spans, keyed, same),) = con.execute(
            "SELECT count(*), count(trace_key), "
            "count(*) FILTER (WHERE replace(trace_key::VARCHAR, '-', '') = trace_id) FROM span_rows").fetchall()
    assert spans > 0 and keyed == spans and same == spans


def test_traces_are_counted_alike_on_every_store(tmp_path: Path, data: list[Path]) -> None:
    db = _store(tmp_path, data)
    expected = _expected(db)
    assert all(expected.values())
    with TraceStore(db, read_only=True) as store:
        assert _counted(store) == expected
        calls_only = summary(store, by="model", filters=Filters(calls_only=True))
        assert {row.key: row.traces for row in calls_only} == dict(
            store.query("SELECT model, count(DISTINCT trace_id) FROM llm_calls GROUP BY 1"))

    with duckdb.connect(db) as con:  # what an older version leaves: no such column
        con.execute("ALTER TABLE span_rows DROP COLUMN trace_key")
    with TraceStore(db, read_only=True) as old:
        assert _counted(old) == expected
    with TraceStore(db) as upgraded:  # opened for writing: added and filled
        assert upgraded.query("SELECT count(*) FROM span_rows WHERE trace_key IS NULL") == [(0,)]
        assert _counted(upgraded) == expected

    with duckdb.connect(db) as con:  # an older version wrote rows since: by name, the column left NULL
        con.execute("UPDATE span_rows SET trace_key = NULL WHERE graph_node IS NOT NULL")
    with TraceStore(db) as store:
        assert store.query("SELECT count(*) FROM span_rows WHERE trace_key IS NULL") == [(0,)]
        assert _counted(store) == expected
        assert totals(store).traces == sum(expected[None].values())
