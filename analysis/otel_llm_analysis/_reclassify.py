"""Stored spans classified again when this version of otel-llm classifies spans differently.

Why: what a span is (``otel_kind``), its provider and its models are worked out
once, at ingest, from the span's attributes (``_rows``), and ingest never reads a
file twice. A version that classifies differently - a producer's calls newly
recognised (``_producers.INFERRED_CALL``), a model read from one more attribute -
would otherwise leave every span stored before it as the older version saw it: a
call newly recognised stays out of every analysis of that store for good.

These columns depend on nothing but the span's stored attributes
(``attr_keys``/``attr_values``), so they can be worked out again in place. The
digest of their SQL is kept in ``ingest_state`` (:data:`STATE`); a writable open
whose rules differ recomputes them in one pass and, when any value changed,
clears what was derived from the old values: the pairing of calls traced twice
(``_nesting``, redone over the whole store), the agents' tables (``_scope_index``,
made again), whether calls with only a total are stored (``_total_only``, looked
at again), and the prices the ingest gave the changed calls - the next ingest
prices every stored call without a cost (``_costs``), as after a change of price
tables. A read-only open cannot; it says the figures wait for the next ingest.
"""

from __future__ import annotations

import hashlib

import duckdb

from otel_llm_analysis import _costs, _nesting, _total_only
from otel_llm_analysis import _ingest_state as ingest_state
from otel_llm_analysis._rows import SPANS

__all__ = ["COLUMNS", "STATE", "catch_up", "definition", "message", "stale"]

#: The span columns that are a function of the span's attributes alone.
COLUMNS: tuple[str, ...] = ("otel_kind", "provider", "request_model", "model")
#: The ``ingest_state`` row holding :func:`definition` of the rules the stored spans follow.
STATE = "classified_by"
#: ``ingest_state`` rows of what is derived from these columns: forgotten, each is worked out again whole
_DERIVED_STATES = (_nesting._STATE, _costs._STATE, _total_only.NAME)


def _expressions() -> dict[str, str]:
    return {c.name: c.expr for c in SPANS.stored if c.name in COLUMNS}


def definition() -> str:
    """A digest of the SQL the columns are worked out with."""
    text = "\n".join(f"{name}={expr}" for name, expr in sorted(_expressions().items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def stale(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether stored spans may follow other rules (a store that holds spans and no or another digest)."""
    if ingest_state.get(con, STATE) == definition():
        return False
    try:
        return bool(con.execute("SELECT EXISTS (SELECT 1 FROM span_rows)").fetchone()[0])
    except duckdb.CatalogException:  # no span table yet: nothing stored
        return False


def catch_up(con: duckdb.DuckDBPyConnection) -> int:
    """Classify the stored spans again under this version's rules when they differ; how many spans changed.

    One transaction. The ingest statement's names are offered over the stored
    rows (``k``/``v`` from the stored attribute lists; ``has_other`` TRUE, which
    makes every spelling be looked up).
    """
    made = definition()
    if ingest_state.get(con, STATE) == made:
        return 0
    expressions = _expressions()
    names = ", ".join(expressions)
    stored = ", ".join(f"{name} AS _stored_{name}" for name in expressions)
    computed = ", ".join(f"{expr} AS {name}" for name, expr in expressions.items())
    differs = " OR ".join(f"_stored_{name} IS DISTINCT FROM {name}" for name in expressions)
    assigned = ", ".join(f"{name} = n.{name}" for name in expressions)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(  # one scan: each row's stored values beside those its attributes give now
            f"CREATE OR REPLACE TEMP TABLE _reclassified AS SELECT r, {names} FROM "
            f"(SELECT *, {computed} FROM (SELECT rowid AS r, {stored}, attr_keys AS k, attr_values AS v, "
            f"TRUE AS has_other FROM span_rows)) WHERE {differs}")
        ((changed,),) = con.execute("SELECT count(*) FROM _reclassified").fetchall()
        if changed:
            con.execute(
                f"UPDATE span_rows SET {assigned}, "
                "cost_usd = CASE WHEN cost_source = 'ingest' THEN NULL ELSE cost_usd END, "
                "cost_table = CASE WHEN cost_source = 'ingest' THEN NULL ELSE cost_table END, "
                "cost_source = CASE WHEN cost_source = 'ingest' THEN NULL ELSE cost_source END "
                "FROM _reclassified n WHERE span_rows.rowid = n.r")
            # the pairs go with _nesting's state: its next refresh clears and pairs the whole store
            for name in _DERIVED_STATES:
                ingest_state.remove(con, name)
            con.execute("DELETE FROM span_scope_state")
        con.execute("DROP TABLE _reclassified")
        ingest_state.put(con, STATE, made)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return int(changed)


def message(path: str, changed: int) -> str:
    """One line for the user: the spans classified again, and the prices that wait for the next ingest."""
    return (f"this version of otel-llm classified {changed} span(s) stored in {path} again (what they are, their "
            "provider or model): their calls count now, and the next ingest prices those without a cost "
            "(run `otel-llm ingest` again)")
