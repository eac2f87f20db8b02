"""The record of an ingest that stored rows and has not worked out what depends on them yet.

Why: ingest commits span rows batch by batch (to bound memory), and only then
prices calls without a cost, pairs nested LLM spans (one call traced twice counts
once) and refreshes the agents' tables - each for the spans this run read. An
ingest stopped in between (Ctrl-C, a killed job, a failure) leaves rows whose
calls count twice or carry no price, and the next ingest reads only new data, so
it would never come back to them. Before an ingest commits anything, the highest
span rowid is kept in ``ingest_state`` under :data:`NAME`; the store removes it
once prices and pairs are worked out. While it is there, the spans above it are
what the next ingest must finish. The agents' tables keep their own watermark
(``span_scope_state``), which every writable open catches up; a store opened
meanwhile reports the spans above the lower of the two. Rowids only grow here:
ingest only appends span rows, and checkpoints keep them; a prune (``retention``),
which rewrites the table and so renumbers them, refuses to run while this mark
is set and clears the agents' watermark, so nothing relies on the old numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from otel_llm_analysis import _ingest_state as ingest_state
from otel_llm_analysis._scope_index import walked_to

__all__ = ["NAME", "Window", "another_version", "begin", "discard_if_empty", "done", "left", "message", "stored_since",
           "window"]

#: The ``ingest_state`` row: value = the highest span rowid before the unfinished ingest (-1: none).
NAME = "unfinished_ingest"


def _marker(con: duckdb.DuckDBPyConnection) -> int | None:
    value = ingest_state.get(con, NAME)
    return None if value is None else int(value)


def stored_since(con: duckdb.DuckDBPyConnection) -> int:
    """How many span rows an unfinished ingest left without what depends on them (0: none)."""
    bounds = [rowid for rowid in (_marker(con), walked_to(con)) if rowid is not None]
    if not bounds:
        return 0
    ((spans,),) = con.execute("SELECT count(*) FROM span_rows WHERE rowid > ?", [min(bounds)]).fetchall()
    return int(spans)


def message(path: str, spans: int) -> str:
    """One line for the user: what is incomplete and how to finish it."""
    return (f"an ingest into {path} was interrupted after storing {spans} span(s): their prices, the pairing of "
            "calls traced twice and the agents' tables are not worked out, so calls and costs can be off until "
            "the next ingest finishes them (run `otel-llm ingest` again)")


def left(con: duckdb.DuckDBPyConnection, path: str) -> str | None:
    """After a failed ingest: :func:`message` when it left span rows to finish, else None. Best effort (a
    connection the failure left unusable says nothing: the next open counts them)."""
    try:
        spans = stored_since(con)
    except duckdb.Error:
        return None
    return message(path, spans) if spans else None


def another_version(path: str) -> str:
    """One line for a store last set up by another otel-llm, opened read-only (which cannot set it up)."""
    return (f"{path} was last set up by another version of otel-llm: its views and the agents' tables follow "
            "that version's definitions, so figures can differ until the next ingest sets it up again "
            "(run `otel-llm ingest` again)")


@dataclass(frozen=True, slots=True)
class Window:
    """Where the rows to finish begin: a rowid, and whether an earlier ingest left them."""

    rowid: int
    earlier: bool


def begin(con: duckdb.DuckDBPyConnection) -> Window:
    """Record an ingest about to commit rows (keeping an earlier unfinished one's, which reaches further back)."""
    marker = _marker(con)
    if marker is not None:
        return Window(marker, earlier=True)
    ((top,),) = con.execute("SELECT coalesce(max(rowid), -1) FROM span_rows").fetchall()
    ingest_state.put(con, NAME, str(top))
    return Window(int(top), earlier=False)


def discard_if_empty(con: duckdb.DuckDBPyConnection, begun: Window) -> None:
    """After a failed ingest: forget the record when it stored no span (nothing to finish). Best effort."""
    try:
        if not begun.earlier and not con.execute("SELECT EXISTS (SELECT 1 FROM span_rows WHERE rowid > ?)",
                                                 [begun.rowid]).fetchone()[0]:
            done(con)
    except duckdb.Error:
        pass


def window(con: duckdb.DuckDBPyConnection, begun: Window, first_start_ns: int | None,
           undated: bool) -> tuple[int | None, bool, int]:
    """The start window to work out (earliest start in ns, any span without one) and how many spans an
    earlier, interrupted ingest left: this run's own window when none did."""
    if not begun.earlier:
        return first_start_ns, undated, 0
    ((first, none_dated, spans),) = con.execute(
        "SELECT min(epoch_ns(start_time)), coalesce(bool_or(start_time IS NULL), FALSE), count(*) "
        "FROM span_rows WHERE rowid > ?", [begun.rowid]).fetchall()
    if first_start_ns is not None and (first is None or first_start_ns < first):
        first = first_start_ns
    return first, bool(none_dated) or undated, int(spans)


def done(con: duckdb.DuckDBPyConnection) -> None:
    """The ingest's rows are priced and paired (the agents' tables keep their own watermark)."""
    ingest_state.remove(con, NAME)
