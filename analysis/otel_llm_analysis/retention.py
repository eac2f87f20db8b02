"""Retention: remove the data older than a cutoff from a DuckDB store, and say what was removed.

Why: a store grows with every ingest, and the systems otel-llm replaces kept raw
events for a number of days (``retention_days``) and cleaned up older runs. Here
:func:`prune` removes, in one transaction:

* whole traces whose every dated span started before the cutoff (a trace that
  straddles it is kept whole, so no span tree is cut in two), with their span
  events and links; traces with no dated span are kept (their age is unknown);
* metric points, and their exemplars, whose time is before the cutoff;
* log records whose time is before the cutoff.

The derived tables (agents, tools, retries, turns, quality subjects) are made
again from the spans left, after the commit (the rows copied back get their
rowids then). So their refresh state is cleared in the same transaction, and
:data:`UNFINISHED` set until they are made again: a prune stopped in between
(killed, a failure) leaves a store whose next writable open works them out
again, and until then :func:`unfinished` tells a read-only open what is off and
how to finish it. Why the span and span-event tables are
rewritten (their kept rows copied back in order) rather than deleted from:
the derived tables and their refresh watermarks refer to those rows by rowid,
and DuckDB renumbers rowids when a later checkpoint (an ingest's) compacts row
groups that lost some rows; row groups that lost all their rows move nothing.
So a prune costs a copy of the kept spans: minutes on tens of millions.

What ingest has read (``ingested_files``) is kept, so files still on disk are
not read again and the removed data does not come back from them; the cutoff is
kept in ``ingest_state`` under :data:`PRUNED_BEFORE` (the latest one).
``dry_run`` counts what would go and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb

from otel_llm_analysis import _ingest_state as ingest_state
from otel_llm_analysis._scope_index import refresh_scopes

__all__ = ["PRUNED_BEFORE", "UNFINISHED", "PruneReport", "StoreBusy", "prune", "pruned_before", "unfinished"]

#: The ``ingest_state`` row keeping the latest cutoff pruned (ISO, naive UTC).
PRUNED_BEFORE = "pruned_before"

#: The ``ingest_state`` row kept, from the prune's commit until the derived tables are made again, with the
#: cutoff: what :func:`unfinished` reads.
UNFINISHED = "prune_unfinished"

#: The temporary table of the traces to remove.
_OLD_TRACES = "_otel_llm_prune_traces"

#: The temporary table of a rewritten table's kept rows.
_KEPT = "_otel_llm_prune_kept"

#: (table, what it holds, the SQL predicate of its rows to remove, whether it is rewritten: its rowids are
#: kept elsewhere); spans' tables go by trace, after :data:`_OLD_TRACES` is made; exemplars before their
#: points (they are found through them).
_TARGETS = (
    ("span_rows", "spans", f"trace_id IN (SELECT trace_id FROM {_OLD_TRACES})", True),
    ("span_events", "span events", f"trace_id IN (SELECT trace_id FROM {_OLD_TRACES})", True),
    ("span_links", "span links", f"trace_id IN (SELECT trace_id FROM {_OLD_TRACES})", False),
    ("metric_exemplars", "metric exemplars",
     "point_key IN (SELECT row_key FROM metric_points WHERE time < $cutoff)", False),
    ("metric_points", "metric points", "time < $cutoff", False),
    ("logs", "log records", "time < $cutoff", False),
)


class StoreBusy(Exception):
    """The store cannot be pruned now (an interrupted ingest left rows to finish first)."""


@dataclass(slots=True)
class PruneRow:
    """What one table lost (or would lose) and keeps."""

    table: str
    holds: str
    removed: int
    kept: int


@dataclass(slots=True)
class PruneReport:
    """What :func:`prune` removed (or, ``dry_run``, would remove) from each table."""

    cutoff: datetime
    dry_run: bool
    traces: int
    rows: list[PruneRow]
    #: the cutoff of an earlier prune that had stopped before making the derived tables again (None: none
    #: had), whose tables the store's writable open, before this prune, made from what it left
    finished: datetime | None = None

    @property
    def removed(self) -> int:
        """Rows removed over every table."""
        return sum(row.removed for row in self.rows)


def pruned_before(con: duckdb.DuckDBPyConnection) -> datetime | None:
    """The latest cutoff a prune removed data before (None: never pruned)."""
    value = ingest_state.get(con, PRUNED_BEFORE)
    return None if value is None else datetime.fromisoformat(value)


def unfinished(con: duckdb.DuckDBPyConnection) -> str | None:
    """One line when a prune committed its deletes and stopped before the derived tables were made again
    from what it left (the tables still count its removed traces), else None: no prune stopped, or a
    writable open has made them since (which works out the tables of a store without refresh state)."""
    cutoff = ingest_state.get(con, UNFINISHED)
    if cutoff is None or con.execute("SELECT count(*) FROM span_scope_state").fetchone()[0]:
        return None
    return (f"a prune before {datetime.fromisoformat(cutoff).isoformat(sep=' ')} stopped after removing its traces "
            "and before the agents', tools' and retries' tables were made again from what it left: agents, tools, "
            "retries, turns and quality can still count the removed traces until the store is opened for writing "
            f"(run `otel-llm prune --before {cutoff}` again to finish it)")


def prune(store: Any, cutoff: datetime, *, dry_run: bool = False) -> PruneReport:
    """Remove the traces, metric points and log records older than ``cutoff`` (naive UTC).

    ``store`` is a :class:`~otel_llm_analysis.store.TraceStore`, opened for
    writing unless ``dry_run``. Raises :class:`StoreBusy` while an interrupted
    ingest left rows to finish (its derived figures would be made twice).
    """
    con = store.connection
    if store.unfinished and not dry_run:
        raise StoreBusy(f"{store.unfinished}; prune after that ingest has finished")
    stopped = ingest_state.get(con, UNFINISHED)  # its tables were made again when the store opened for writing
    cursor = con.cursor()  # its own temporary table, gone when it closes
    try:
        if not dry_run:
            cursor.execute("BEGIN TRANSACTION")
        try:
            report = _remove(cursor, cutoff, dry_run)
            if not dry_run:
                ingest_state.remove(cursor, UNFINISHED)
                if report.traces:  # made again from the rows left, below: until then, said by unfinished()
                    cursor.execute("DELETE FROM span_scope_state")
                    ingest_state.put(cursor, UNFINISHED, cutoff.isoformat())
                previous = pruned_before(cursor)
                if previous is None or previous < cutoff:
                    ingest_state.put(cursor, PRUNED_BEFORE, cutoff.isoformat())
                cursor.execute("COMMIT")
        except BaseException:
            if not dry_run:
                cursor.execute("ROLLBACK")
            raise
    finally:
        cursor.close()
    if not dry_run and report.removed:
        _compact(con)
        if report.traces:
            refresh_scopes(con)
            ingest_state.remove(con, UNFINISHED)
    if stopped is not None and not dry_run:
        report.finished = datetime.fromisoformat(stopped)
    return report


def _remove(con: duckdb.DuckDBPyConnection, cutoff: datetime, dry_run: bool) -> PruneReport:
    """Count, and unless ``dry_run`` delete, each table's rows older than ``cutoff``."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_OLD_TRACES} AS SELECT trace_id FROM span_rows "
                "GROUP BY trace_id HAVING max(start_time) < $cutoff", {"cutoff": cutoff})
    ((traces,),) = con.execute(f"SELECT count(*) FROM {_OLD_TRACES}").fetchall()
    rows = []
    for table, holds, predicate, rewrite in _TARGETS:
        params = {"cutoff": cutoff} if "$cutoff" in predicate else {}
        ((total, old),) = con.execute(
            f"SELECT count(*), count(*) FILTER (WHERE {predicate}) FROM {table}", params).fetchall()
        if old and not dry_run and rewrite:
            con.execute(f"CREATE OR REPLACE TEMP TABLE {_KEPT} AS SELECT * FROM {table} "
                        f"WHERE NOT ({predicate}) ORDER BY rowid", params)
            con.execute(f"DELETE FROM {table}")
            con.execute(f"INSERT INTO {table} SELECT * FROM {_KEPT}")
            con.execute(f"DROP TABLE {_KEPT}")
        elif old and not dry_run:
            con.execute(f"DELETE FROM {table} WHERE {predicate}", params)
        rows.append(PruneRow(table, holds, int(old), int(total - old)))
    con.execute(f"DROP TABLE {_OLD_TRACES}")
    return PruneReport(cutoff, dry_run, int(traces), rows)


def _compact(con: duckdb.DuckDBPyConnection) -> None:
    """Write the prune into the database file (freeing the removed rows' space for new data)."""
    con.execute("CHECKPOINT")
