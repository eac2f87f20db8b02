"""An ingest's rows are written into the database file beside the scopes refresh, not when the store closes.

``_scope_index.refresh_scopes`` checkpoints what the ingest committed on a
second cursor while its own transaction walks the traces, then writes its own
tables: the close has nothing left to write, and a checkpoint DuckDB refuses
(another transaction created a table) costs nothing but the overlap.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest

from otel_llm_analysis import TraceStore
from otel_llm_analysis._scope_index import refresh_scopes
from tests.support import synthetic


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> synthetic.SyntheticData:
    return synthetic.generate(tmp_path_factory.mktemp("checkpoint"), seed=11, traces=60, days=2, agents="otel_llm")


def _wal(path: Path) -> int:
    wal = Path(f"{path}.wal")
    return wal.stat().st_size if wal.exists() else 0


def test_an_ingest_leaves_nothing_for_the_close_to_write(tmp_path: Path, data: synthetic.SyntheticData) -> None:
    path = tmp_path / "store.duckdb"
    with TraceStore(str(path)) as store:
        ((vacuum_tasks,),) = store.query("SELECT current_setting('max_vacuum_tasks')")
        report = store.ingest([str(p) for p in data.files])
        assert report.spans_added == len(data.spans)
        assert _wal(path) == 0  # the ingest's rows and the refresh's tables are in the file already
        assert store.query("SELECT current_setting('max_vacuum_tasks')") == [(vacuum_tasks,)]
        walked = store.query("SELECT count(*) FROM span_scope_index")
    with TraceStore(str(path), read_only=True) as reopened:
        assert reopened.query("SELECT count(*) FROM span_rows") == [(len(data.spans),)]
        assert reopened.query("SELECT count(*) FROM span_scope_index") == walked


class _Recording:
    """A connection whose statements, and those of the cursors it hands out, are logged in order."""

    def __init__(self, con: duckdb.DuckDBPyConnection, log: list[tuple[str, str]], who: str = "refresh") -> None:
        self._con, self._log, self._who = con, log, who
        self._lock = threading.Lock()

    def execute(self, sql: str, *args: Any) -> Any:
        statement = " ".join(sql.split())
        if (self._who, statement) == ("refresh", "BEGIN TRANSACTION"):
            # the race the refresh can lose on a busy machine (DuckDB then refuses the checkpoint, and the
            # full one runs after the commit) is kept out of this test: the checkpoint gets a head start
            for _ in range(500):
                if ("cursor", "CHECKPOINT") in self._log:
                    break
                time.sleep(0.01)
            time.sleep(0.2)
        with self._lock:
            self._log.append((self._who, statement))
        return self._con.execute(sql, *args)

    def cursor(self) -> _Recording:
        return _Recording(self._con.cursor(), self._log, "cursor")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def test_the_ingests_rows_are_checkpointed_while_the_refresh_walks(tmp_path: Path, data: synthetic.SyntheticData) -> None:
    with TraceStore(str(tmp_path / "store.duckdb")) as store:
        con = store.connection
        ((vacuum_tasks,),) = con.execute("SELECT current_setting('max_vacuum_tasks')").fetchall()
        store.ingest([str(p) for p in data.files])
        con.execute("DELETE FROM span_scope_state")  # everything to be worked out again, as after an ingest
        log: list[tuple[str, str]] = []
        assert refresh_scopes(_Recording(con, log)) > 0
        commit = log.index(("refresh", "COMMIT"))
        # a second cursor checkpoints what is committed, issued before the refresh commits ...
        assert ("cursor", "CHECKPOINT") in log[:commit]
        # ... and the refresh's own tables are written after its commit, without merging row groups again
        assert log[commit + 1:] == [("refresh", "SELECT current_setting('max_vacuum_tasks')"),
                                    ("refresh", "SET max_vacuum_tasks = 0"), ("refresh", "CHECKPOINT"),
                                    ("refresh", f"SET max_vacuum_tasks = {vacuum_tasks}")]


def test_the_walk_is_not_held_back_by_a_write_that_changes_nothing(tmp_path: Path,
                                                                   data: synthetic.SyntheticData) -> None:
    """A whole-store refresh of a store where no call has a context (``_call_context``) does not UPDATE
    ``span_rows`` to clear them: that write, changing nothing, waited for the whole checkpoint beside the
    refresh, and the walk ran only after it."""
    with TraceStore(str(tmp_path / "store.duckdb")) as store:
        con = store.connection
        store.ingest([str(p) for p in data.files])
        assert con.execute("SELECT count(*) FROM span_rows WHERE context_span_id IS NOT NULL").fetchall() == [(0,)]
        con.execute("DELETE FROM span_scope_state")  # everything to be worked out again, as after a first ingest
        log: list[tuple[str, str]] = []
        assert refresh_scopes(_Recording(con, log)) > 0
        statements = [statement for who, statement in log if who == "refresh"]
        walk = next(i for i, statement in enumerate(statements) if "span_scope_walk(" in statement)
        assert not [statement for statement in statements[:walk] if statement.startswith("UPDATE span_rows")]


def test_a_checkpoint_refused_leaves_the_ingest_whole(tmp_path: Path, data: synthetic.SyntheticData) -> None:
    path = tmp_path / "store.duckdb"
    with TraceStore(str(path)) as store:
        other = store.connection.cursor()
        other.execute("BEGIN TRANSACTION")
        other.execute("CREATE TABLE elsewhere (a INTEGER)")  # DuckDB refuses a checkpoint while this is open
        report = store.ingest([str(p) for p in data.files])
        assert report.spans_added == len(data.spans) and not report.problems
        assert store.query("SELECT count(*) FROM span_scope_index") == [(len(data.spans),)]
        assert _wal(path) > 0  # nothing could be written yet: the close writes it
        other.execute("ROLLBACK")
        other.close()
    with TraceStore(str(path), read_only=True) as reopened:
        assert reopened.query("SELECT count(*) FROM span_rows") == [(len(data.spans),)]
        assert reopened.query("SELECT count(*) FROM span_scope_index") == [(len(data.spans),)]


def test_a_checkpoint_that_fails_to_start_is_raised_after_the_refresh(tmp_path: Path, data: synthetic.SyntheticData,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from otel_llm_analysis import _scope_index

    def broken(con: Any, merge: bool = True, issued: threading.Event | None = None) -> bool:
        raise RuntimeError("no checkpoint")  # before the refresh is told it was handed to DuckDB

    with TraceStore(str(tmp_path / "store.duckdb")) as store:
        store.ingest([str(p) for p in data.files])
        store.connection.execute("DELETE FROM span_scope_state")
        monkeypatch.setattr(_scope_index, "_checkpoint", broken)
        with pytest.raises(RuntimeError, match="no checkpoint"):  # the refresh neither waits for it forever ...
            refresh_scopes(store.connection)
        # ... nor loses its own work
        assert store.query("SELECT count(*) FROM span_scope_index") == [(len(data.spans),)]
        assert refresh_scopes(store.connection) == 0


def test_a_checkpoint_refused_beside_the_refresh_runs_whole_after_it(tmp_path: Path, data: synthetic.SyntheticData,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from otel_llm_analysis import _scope_index

    real = _scope_index._checkpoint
    calls: list[bool] = []

    def refused_beside(con: Any, merge: bool = True, issued: threading.Event | None = None) -> bool:
        calls.append(merge)
        if issued is not None:  # the one beside the refresh: DuckDB refused it (the refresh created a table first)
            issued.set()
            return False
        return real(con, merge=merge)

    path = tmp_path / "store.duckdb"
    monkeypatch.setattr(_scope_index, "_checkpoint", refused_beside)
    with TraceStore(str(path)) as store:
        store.ingest([str(p) for p in data.files])
        assert calls == [True, True]  # beside (refused), then the whole checkpoint, row-group merge included
        assert _wal(path) == 0


def test_a_closed_store_is_one_file_after_a_small_ingest(tmp_path: Path, data: synthetic.SyntheticData) -> None:
    """Users copy and serve the .duckdb file alone: nothing an ingest committed may stay behind in its WAL."""
    path = tmp_path / "store.duckdb"
    with TraceStore(str(path)) as store:
        store.ingest([str(p) for p in data.files[:1]])  # one file: a small ingest, as a cron job's
        spans = store.query("SELECT count(*) FROM span_rows")
    assert _wal(path) == 0
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(path.read_bytes())
    with TraceStore(str(copy), read_only=True) as copied:
        assert copied.query("SELECT count(*) FROM span_rows") == spans != [(0,)]
