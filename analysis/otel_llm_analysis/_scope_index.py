"""The agents, tools and retries rows, worked out once per trace at ingest rather than in every query.

Why at ingest: tool calls, agent invocations, retry tries and loops, and turns
all need what each span runs inside (its turn, agents, tries, graph node) - a
walk down each trace's span tree - and then per-turn and per-agent sums over
it. Done in every query that cost seconds on a million spans, while a trace's
rows only change when spans of that trace arrive (or one of its calls is priced).
So after each ingest :func:`refresh_scopes` works out again only the traces
that received spans: ``views.sql``'s ``*_walk(spans, scopes, calls)`` macros
over all of each such trace's spans, stored or new, replace those traces' rows
of ``span_scope_index`` (the walk), ``tool_call_rows``, ``retry_attempt_rows``,
``retry_loop_rows``, ``agent_invocation_rows``, ``turn_rows`` and
``qa_subject_rows`` (quality's: the model each evaluation rates, each turn's
answer), which the views and ``*_in(since, until)`` macros read. A trace whose
spans arrive over several runs, children before parents, is worked out whole
each time it grows, so it ends up as if read at once.

What changed since the last refresh is told by ``span_rows``' rowids: ingest
only appends (a prune, ``retention``, rewrites the table and clears
``span_scope_state`` in the same transaction: all is worked out again), so the spans above the last refresh's highest rowid
(``span_scope_state``) are the new ones; so are the ``span_events`` rows above
its events watermark (an event is stored with its span), which with the
evaluations ``qa_subject_rows`` keeps are a touched trace's evaluations. The
whole store is worked out again when that cannot be trusted - the rows at or
below a watermark are no longer as many as then (a store rewritten by other
means) - or when the macros are not the ones that made the tables (another
otel-llm version; the digest in the state row).

Why the refresh reads so little: a trace's stored spans start between the first
and last start its last refresh saw (``span_scope_traces``), and every row made
from them starts there too. So the touched traces' spans, their calls and their
old rows are read through constant time ranges (and, for the walk, rowid
ranges), which DuckDB checks against each row group's min/max: a refresh reads
the new data's period and the periods of older traces it grew, not the store.
The derived tables are kept in the order of those columns so the ranges skip
their row groups too. One scan remains, of ``span_scope_traces``'s integer trace
hashes (a row per trace and refresh), to find the touched traces' periods.

Why it computes little: every span of a first ingest passes through the walk,
so the walk's rows are narrow (rowids, kind, status, scopes; ids and times for
tries only) and the tables made from it join it, and the calls, by rowid; and a
table made from tool spans, agent spans or tries is not worked out at all when
the spans being worked out hold none (:data:`MADE_FROM`).
"""

from __future__ import annotations

import hashlib
import threading
from concurrent.futures import ThreadPoolExecutor
from importlib import resources

import duckdb

from otel_llm import semconv
from otel_llm_analysis import _call_context as call_context
from otel_llm_analysis._instrumentation_failures import CANDIDATE
from otel_llm_analysis._rows import window

__all__ = ["DERIVED", "TRACES", "definition", "drop_stale", "made_by_another_version", "refresh_scopes", "walked_to"]

#: (table, the macro that makes its rows, the column its rows are kept in order of), in the order they are made
DERIVED = (
    ("span_scope_index", "span_scope_index_walk", "r"),
    ("tool_call_rows", "tool_calls_walk", "start_time"),
    ("retry_attempt_rows", "retry_attempts_walk", "start_time"),
    ("retry_loop_rows", "retry_loops_walk", "start_time"),
    ("agent_invocation_rows", "agent_invocations_walk", "start_time"),
    ("turn_rows", "turns_walk", "start_time"),
    ("qa_subject_rows", "qa_subjects_walk", "start_time"),
)
#: What each of these tables' rows need, which most traces lack: without one among the spans worked
#: out, its macro makes no rows (a tool span; an agent span; a try: a walked span with an attempt number)
MADE_FROM = {
    "tool_call_rows": "tools",
    "agent_invocation_rows": "agents",
    "retry_attempt_rows": "tries",
    "retry_loop_rows": "tries",
}
#: The derived table made from evaluations too: its macro reads them from a fourth table
QA = "qa_subject_rows"
#: When the spans of each trace worked out so far start: where a later refresh finds them
TRACES = "span_scope_traces"
#: At most this many ranges bound a refresh's reads (the closest ones are merged beyond it)
MAX_RANGES = 16
# temporary, while refreshing: the touched traces, their span rows, LLM calls, walk and evaluations, new events,
# and when those spans hold an instrumentation's own failure, the events it is told by, their ids and the span rows
# as the tables read them
_TRACES, _SPANS, _CALLS, _WALK, _EVALS, _EVENTS, _FAILED_EVENTS, _FAILED, _READ = (
    "_otel_llm_scope_traces", "_otel_llm_scope_spans", "_otel_llm_scope_calls", "_otel_llm_scope_walk",
    "_otel_llm_scope_evaluations", "_otel_llm_scope_events", "_otel_llm_scope_failed_events",
    "_otel_llm_scope_failed", "_otel_llm_scope_read")
_LLM = f"otel_kind = '{semconv.KIND_LLM_CALL}'"


def refresh_scopes(con: duckdb.DuckDBPyConnection, *, repriced: bool = False, priced_since_ns: int | None = None,
                   priced_undated: bool = False) -> int:
    """Bring the derived tables up to date in one transaction; returns how many traces were worked out.

    ``repriced``: calls already stored may have been priced since the last
    refresh (``_costs.price_calls`` priced some), so the traces whose calls'
    ``cost_source`` changed are worked out again too. ``priced_since_ns`` /
    ``priced_undated``: where pricing looked - the calls starting at or after
    it, and those without a time (``None``: anywhere, as after a whole-store pass).
    """
    priced = None
    if repriced:
        priced = ("TRUE" if priced_since_ns is None
                  else window("start_time", priced_since_ns, undated=priced_undated))
    cursor = con.cursor()
    try:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="otel-llm-checkpoint") as pool:
            beside = None
            if _spans_arrived(con):
                issued = threading.Event()
                beside = pool.submit(_checkpoint, cursor, issued=issued)
                # handed to DuckDB before the refresh creates a table, which would make DuckDB refuse it
                while not issued.wait(0.01) and not beside.done():
                    pass
            con.execute("BEGIN TRANSACTION")
            try:
                walked = _refresh(con, priced)
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        if beside is not None:  # refused beside the refresh (a race DuckDB may lose): the full one now, as the close would
            _checkpoint(con, merge=not beside.result())
    finally:
        cursor.close()
    return walked


def walked_to(con: duckdb.DuckDBPyConnection) -> int | None:
    """The highest span rowid the derived tables were worked out to (-1: none yet; None: a store
    older than them, opened read-only)."""
    try:
        ((watermark,),) = con.execute("SELECT coalesce(max(watermark), -1) FROM span_scope_state").fetchall()
    except duckdb.CatalogException:
        return None
    return int(watermark)


def _spans_arrived(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether span rows were stored since the last refresh (or the store has spans and no refresh state)."""
    ((arrived,),) = con.execute("SELECT EXISTS (SELECT 1 FROM span_rows WHERE rowid > ?)",
                                [walked_to(con)]).fetchall()
    return bool(arrived)


def _checkpoint(con: duckdb.DuckDBPyConnection, merge: bool = True, issued: threading.Event | None = None) -> bool:
    """Write what is committed into the database file; False when DuckDB cannot checkpoint now.

    Why beside the refresh: what an ingest committed - with it one step of
    merging the partly filled row groups each insert transaction leaves,
    several hundred thousand span rows rewritten on a million (about a
    second) - would otherwise be written when the store closes, on the
    caller's thread after the refresh. On a second cursor it takes the other
    core while the refresh walks the traces: DuckDB lets a checkpoint run beside
    a transaction that reads and inserts, holds the refresh's first new table
    back until it is done, and keeps every rowid (row groups are merged in
    order, nothing is deleted), so the rowids the walk stores stay right. The
    refresh's own tables are then written with ``merge=False``: merging is
    left, as before, to the next checkpoint, so a run merges no more than it
    did when the close wrote everything. A checkpoint cannot start while another
    transaction has created or dropped a table (the refresh's, when it gets
    there first on a busy machine): then ``refresh_scopes`` runs the whole
    checkpoint, merge included, after its commit, and if another connection's
    transaction still holds one, the close writes it. ``issued`` is set as the
    checkpoint is handed to DuckDB.
    """
    if not merge:
        ((tasks,),) = con.execute("SELECT current_setting('max_vacuum_tasks')").fetchall()
        con.execute("SET max_vacuum_tasks = 0")
    try:
        if issued is not None:
            issued.set()
        con.execute("CHECKPOINT")
    except duckdb.TransactionException:
        return False
    finally:
        if not merge:
            con.execute(f"SET max_vacuum_tasks = {int(tasks)}")
    return True


def drop_stale(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the derived tables when another ``views.sql`` made them (before it runs: their columns may differ).

    ``views.sql`` creates them again, empty, and :func:`refresh_scopes` fills them.
    """
    columns = {name for (name,) in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = 'span_scope_state' "
        "AND database_name = current_database() AND schema_name = 'main'").fetchall()}
    if not columns:
        return
    state = con.execute("SELECT definition FROM span_scope_state").fetchone() if "definition" in columns else None
    if state is None or state[0] != definition():
        for table, *_ in DERIVED:
            con.execute(f"DROP TABLE IF EXISTS {table}")
        con.execute(f"DROP TABLE IF EXISTS {TRACES}")
        con.execute("DROP TABLE span_scope_state")


def made_by_another_version(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the derived tables (and the views beside them) were last made from another ``views.sql``.

    A writable open makes them again (:func:`drop_stale`); a read-only one reads them as they are.
    """
    try:
        rows = con.execute("SELECT definition FROM span_scope_state").fetchall()
    except duckdb.CatalogException:  # older than the derived tables: nothing of them to read
        return False
    return bool(rows) and rows[0][0] != definition()


def _refresh(con: duckdb.DuckDBPyConnection, priced: str | None) -> int:
    """Work out the traces that received spans (or had calls priced where ``priced`` says), or all of them."""
    made_by = definition()
    state = con.execute(
        "SELECT watermark, spans, definition, events_watermark, events FROM span_scope_state").fetchone()
    watermark = state[0] if state and state[2] == made_by else None
    events_watermark = -1 if watermark is None or state[3] is None else int(state[3])
    # the rows at or below the watermarks: all rows but those above them (rowid bounds skip the older row groups)
    spans, highest = _counted(con, "span_rows", -1 if watermark is None else int(watermark), state, 1)
    events, events_highest = _counted(con, "span_events", events_watermark, state, 4)
    if spans is None or events is None:
        watermark = None
    if watermark is None:
        traces = _make_all(con)
        spans, highest = _counted(con, "span_rows", -1, None, 1)
        events, events_highest = _counted(con, "span_events", -1, None, 4)
    else:
        traces = _make_touched(con, watermark, events_watermark, priced)
        highest = watermark if highest is None else highest
        events_highest = events_watermark if events_highest is None else events_highest
    con.execute("DELETE FROM span_scope_state")
    con.execute("INSERT INTO span_scope_state VALUES (?, ?, ?, ?, ?)",
                [highest, spans, made_by, events_highest, events])
    return traces


def _counted(con: duckdb.DuckDBPyConnection, table: str, watermark: int, state: tuple | None,
             field: int) -> tuple[int | None, int | None]:
    """``table``'s row count and highest rowid above ``watermark``; the count is ``None`` when the rows at or
    below the watermark are no longer as many as ``state[field]`` says (``state`` None: not checked)."""
    ((rows, above, highest),) = con.execute(
        f"SELECT (SELECT count(*) FROM {table}), count(*), max(rowid) FROM {table} WHERE rowid > {watermark}"
    ).fetchall()
    if state is not None and rows - above != state[field]:
        return None, highest
    return rows, highest


def _make_all(con: duckdb.DuckDBPyConnection) -> int:
    """All made again (the macros' columns may have changed): every span, every call."""
    con.execute(f"CREATE OR REPLACE TEMP VIEW {_SPANS} AS SELECT rowid AS r, * FROM span_rows")
    call_context.derive(con, _SPANS, everywhere=True)
    spans = _read(con)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_WALK} AS SELECT * FROM span_scope_walk('{spans}')")
    con.execute(f"CREATE OR REPLACE TEMP VIEW {_EVALS} AS SELECT * FROM qa_evaluations_of(span_events)")
    present = _present(con)
    for table, macro, order in DERIVED:
        rows = f"ORDER BY {order}" if present.get(MADE_FROM.get(table), True) else "LIMIT 0"
        con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM {macro}({_arguments(table, spans)}) {rows}")
    con.execute(f"CREATE OR REPLACE TABLE {TRACES} AS SELECT hash(trace_id) AS trace_hash, min(start_time) AS "
                "first_start, max(start_time) AS last_start FROM span_rows GROUP BY trace_id ORDER BY first_start")
    ((traces,),) = con.execute(f"SELECT count(*) FROM {TRACES}").fetchall()
    con.execute(f"DROP TABLE {_WALK}")
    con.execute(f"DROP VIEW {_EVALS}")
    con.execute(f"DROP VIEW {_CALLS}")
    _drop_read(con, spans)
    con.execute(f"DROP VIEW {_SPANS}")
    return traces


def _arguments(table: str, spans: str) -> str:
    """The tables the macro making ``table``'s rows reads (the evaluations too, for :data:`QA`): ``spans``
    (:func:`_read`), the walk and the calls."""
    return f"'{spans}', '{_WALK}', '{_CALLS}'" + (f", '{_EVALS}'" if table == QA else "")


def _read(con: duckdb.DuckDBPyConnection, watermark: int = -1, events_watermark: int = -1) -> str:
    """Make the calls' view; return the table the walk and the tables made from it read the spans being
    worked out from: those spans, or, when some failed in their instrumentation's own code (``views.sql``'
    ``instrumentation_failures``, the rule of ``_instrumentation_failures``), a view of them where those
    spans' status is unset and their error type NULL, and calls read alike - as ``llm_calls`` reads such a
    call (a wrapper's status does not make it a failure again), so a turn, an agent and a retry loop count
    it succeeded as the summary does (an OpenLIT-only trace's turn is its root call). A narrow scan of
    :data:`~otel_llm_analysis._instrumentation_failures.CANDIDATE` over those spans first: the events are
    read only for the candidates, which almost no store holds.

    The rule runs over the spans being worked out (``instrumentation_failures_of``: they hold every span of
    their traces) and, when every span holding a candidate's ids is above ``watermark`` (stored since the
    last refresh), over the span events above ``events_watermark`` only: an event is stored with its span, so
    those spans' events are all there. Otherwise (a candidate stored before, in a trace that grew) over all
    the span events, as the view reads them. So the rows are the view's for those candidates, and an ingest
    holding a new candidate reads its own rows, not the store's."""
    ((found, older),) = con.execute(
        f"SELECT EXISTS (SELECT 1 FROM {_SPANS} WHERE {CANDIDATE}), EXISTS (SELECT 1 FROM {_SPANS} s "
        f"JOIN (SELECT trace_id, span_id FROM {_SPANS} WHERE {CANDIDATE}) c USING (trace_id, span_id) "
        f"WHERE s.r <= {int(watermark)})").fetchall()
    spans = _SPANS
    if found:
        con.execute(f"CREATE OR REPLACE TEMP VIEW {_FAILED_EVENTS} AS SELECT * FROM span_events "
                    f"WHERE rowid > {-1 if older else int(events_watermark)}")
        con.execute(f"CREATE OR REPLACE TEMP TABLE {_FAILED} AS SELECT f.trace_id, f.span_id FROM "
                    f"(SELECT trace_id, span_id FROM {_SPANS} WHERE {CANDIDATE}) c "
                    f"JOIN instrumentation_failures_of('{_SPANS}', '{_FAILED_EVENTS}') f "
                    "ON f.trace_id = c.trace_id AND f.span_id = c.span_id")
        con.execute(f"DROP VIEW {_FAILED_EVENTS}")
        con.execute(f"CREATE OR REPLACE TEMP VIEW {_READ} AS {_succeeded(_SPANS)}")
        spans = _READ
    calls = f"SELECT * FROM llm_calls_of('{spans}')"
    # a view: each macro reads the few columns of the calls it needs (with their rowid r, as the walk's rows)
    con.execute(f"CREATE OR REPLACE TEMP VIEW {_CALLS} AS {_succeeded(f'({calls})') if found else calls}")
    return spans


def _succeeded(rows: str) -> str:
    """A SELECT of ``rows`` (span rows or calls) where those listed in the temporary failures table
    (:func:`_read`) read as succeeded: status unset, no error type."""
    failed = f"status_code = 2 AND (trace_id, span_id) IN (SELECT trace_id, span_id FROM {_FAILED})"
    return (f"SELECT * REPLACE (CASE WHEN {failed} THEN 0 ELSE status_code END AS status_code, "
            f"CASE WHEN {failed} THEN NULL ELSE error_type END AS error_type) FROM {rows}")


def _drop_read(con: duckdb.DuckDBPyConnection, spans: str) -> None:
    """Drop what :func:`_read` made (nothing when it returned the spans themselves)."""
    if spans == _READ:
        con.execute(f"DROP VIEW {_READ}")
        con.execute(f"DROP TABLE {_FAILED}")


def _make_touched(con: duckdb.DuckDBPyConnection, watermark: int, events_watermark: int, priced: str | None) -> int:
    """Work out again the traces with spans above ``watermark`` or, with ``priced``, a call priced since their walk.

    Each such trace's spans are found within its period (its new spans', and
    the stored ones' from ``span_scope_traces``), and its old rows with them;
    its evaluations are the events above ``events_watermark`` (an event is
    stored with its span, so in a touched trace) and those its rows kept.
    """
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_TRACES} AS SELECT trace_id, min(start_time) AS first_start, "
                f"max(start_time) AS last_start FROM span_rows WHERE rowid > {int(watermark)} GROUP BY trace_id")
    if priced is not None:
        # the walk keeps each call's cost_source: the stored calls where pricing looked whose source changed since
        calls = f"SELECT rowid AS k, trace_id, cost_source FROM span_rows WHERE {priced} AND {_LLM} " \
                f"AND rowid <= {int(watermark)}"
        ((low, high),) = con.execute(f"SELECT min(k), max(k) FROM ({calls})").fetchall()
        if low is not None:
            con.execute(f"INSERT INTO {_TRACES} SELECT DISTINCT s.trace_id, NULL, NULL "
                        f"FROM span_scope_index x JOIN ({calls}) s ON s.k = x.r "
                        f"WHERE x.r BETWEEN {low} AND {high} AND x.cost_source IS DISTINCT FROM s.cost_source "
                        f"AND s.trace_id NOT IN (SELECT trace_id FROM {_TRACES})")
    ((traces,),) = con.execute(f"SELECT count(*) FROM {_TRACES}").fetchall()
    if traces:
        _walk_touched(con, watermark, events_watermark)
    con.execute(f"DROP TABLE {_TRACES}")
    return traces


def _walk_touched(con: duckdb.DuckDBPyConnection, watermark: int, events_watermark: int) -> None:
    """Replace the rows of the traces in the temporary table of touched traces, reading their periods only."""
    periods = con.execute(
        f"SELECT epoch_us(least(t.first_start, e.first_start)), epoch_us(greatest(t.last_start, e.last_start)) "
        f"FROM {_TRACES} t LEFT JOIN (SELECT trace_hash, min(first_start) AS first_start, "
        f"max(last_start) AS last_start FROM {TRACES} WHERE trace_hash IN (SELECT hash(trace_id) FROM {_TRACES}) "
        "GROUP BY trace_hash) e "
        "ON e.trace_hash = hash(t.trace_id)"
    ).fetchall()
    when = _within("start_time", [(lo, hi) for lo, hi in periods if lo is not None], "make_timestamp({})",
                   undated=True)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_SPANS} AS SELECT rowid AS r, * FROM span_rows "
                f"WHERE {when} AND trace_id IN (SELECT trace_id FROM {_TRACES})")
    call_context.derive(con, _SPANS)
    spans = _read(con, watermark, events_watermark)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_WALK} AS SELECT * FROM span_scope_walk('{spans}')")
    rows = _within("r", con.execute(f"SELECT min(r), max(r) FROM {_SPANS} GROUP BY trace_id").fetchall(), "{}")
    # the evaluations of those traces: the new ones, and those their stored rows keep (before these go)
    con.execute(f"CREATE OR REPLACE TEMP VIEW {_EVENTS} AS SELECT * FROM span_events WHERE rowid > {events_watermark}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_EVALS} AS SELECT * FROM qa_evaluations_of('{_EVENTS}') "
                f"UNION ALL BY NAME SELECT trace_id, span_id, time, eval_name, eval_label, response_id FROM {QA} "
                f"WHERE {when} AND is_evaluation AND trace_id IN (SELECT trace_id FROM {_TRACES})")
    con.execute(f"DROP VIEW {_EVENTS}")
    present = _present(con)
    for table, macro, order in DERIVED:
        if order == "r":  # keyed by row: the rows of the spans of those traces
            con.execute(f"DELETE FROM {table} WHERE {rows} AND r IN (SELECT r FROM {_SPANS})")
        else:
            con.execute(f"DELETE FROM {table} WHERE {when} AND trace_id IN (SELECT trace_id FROM {_TRACES})")
        if present.get(MADE_FROM.get(table), True):
            con.execute(f"INSERT INTO {table} SELECT * FROM {macro}({_arguments(table, spans)}) ORDER BY {order}")
    con.execute(f"INSERT INTO {TRACES} SELECT hash(trace_id), min(start_time), max(start_time) FROM {_SPANS} "
                "GROUP BY trace_id ORDER BY 2")
    con.execute(f"DROP VIEW {_CALLS}")
    con.execute(f"DROP TABLE {_EVALS}")
    con.execute(f"DROP TABLE {_WALK}")
    _drop_read(con, spans)
    con.execute(f"DROP TABLE {_SPANS}")


def _present(con: duckdb.DuckDBPyConnection) -> dict[str, bool]:
    """Whether the spans being worked out hold what each :data:`MADE_FROM` table's rows are made from.

    Two narrow scans (kinds of the spans, attempts of the walk) spare the
    macros that would make no rows - most stores have no agents or retries.
    """
    ((tools, agents),) = con.execute(
        f"SELECT coalesce(bool_or(otel_kind = '{semconv.KIND_TOOL}'), FALSE), "
        f"coalesce(bool_or(otel_kind = '{semconv.KIND_AGENT}'), FALSE) FROM {_SPANS}").fetchall()
    ((tries,),) = con.execute(f"SELECT count(*) > 0 FROM {_WALK} WHERE attempt >= 1").fetchall()
    return {"tools": tools, "agents": agents, "tries": tries}


def _within(column: str, ranges: list[tuple[int, int]], literal: str, undated: bool = False) -> str:
    """SQL predicate: ``column`` lies in one of ``ranges`` (inclusive; merged to at most :data:`MAX_RANGES`).

    ``literal`` formats a bound as SQL; ``undated``: NULL counts too. The bounds
    are constants, so DuckDB skips the row groups whose min/max rule them all out.
    """
    merged: list[list[int]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    while len(merged) > MAX_RANGES:  # close the smallest gaps first
        gaps = sorted(range(len(merged) - 1), key=lambda i: merged[i + 1][0] - merged[i][1])[:len(merged) - MAX_RANGES]
        for i in sorted(gaps, reverse=True):
            merged[i][1] = merged[i + 1][1]
            del merged[i + 1]
    parts = [f"{column} BETWEEN {literal.format(lo)} AND {literal.format(hi)}" for lo, hi in merged]
    if undated:
        parts.append(f"{column} IS NULL")
    return "(" + " OR ".join(parts) + ")" if parts else "FALSE"


#: What the refresh reads beside ``views.sql``'s macros, part of the derived tables' definition: a store whose
#: tables were made reading otherwise is worked out again when it opens
READS = "span rows and calls, an instrumentation's own failure read as succeeded (_read)"


def definition() -> str:
    """A digest of ``views.sql``, the names filled into it and :data:`READS`: the definitions the derived
    tables come from."""
    from otel_llm_analysis._scopes import view_parameters

    text = resources.files("otel_llm_analysis").joinpath("views.sql").read_text(encoding="utf-8")
    return hashlib.sha256((text + repr(sorted(view_parameters().items())) + READS).encode()).hexdigest()[:16]
