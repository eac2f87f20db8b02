"""Retries: how many turns get it right first time, how many attempts loops take, what retrying costs.

Definitions (``docs/analyses.md`` repeats them; the SQL is ``views.sql``'s
``retry_loops`` and ``turns``, and ``queries/retries.sql``):

* **try**: a model call, tool call or agent invocation started inside
  ``otel_llm.attempt(n)`` (``otel_llm.attempt = n``); **retry**: a try numbered
  2 or more. A **retry loop** is the tries of one thing under one parent
  (attempt numbers going up); it **gave up** when its last try failed, else it
  **succeeded**; its **attempts** are its last try's number.
* **turn**: a chat span (or, in a trace without one, its root span). A turn
  **succeeded** when its span did not fail and no retry loop inside it gave up
  (an app that catches a loop's failure and answers anyway still went without
  what the loop was for); it is **first-time-right** when it succeeded and
  nothing in it was retried.
* **attempts** distribution: the group's retry loops by the attempts each
  took, as ``attempts:loops`` pairs (``1:40 2:5 3:1``); ``mean_attempts`` is
  their mean.
* **cost of retries**: the LLM calls made in tries before a loop's last try
  (``retry_cost_usd``) and its share of the turns' cost; **time of retries**:
  per loop, from its first try's start to its last try's start (the failed
  tries and the waits between them), summed (``retry_ms``) and as a share of the
  turns' time. ``retry_calls_without_cost`` counts the calls of retried tries
  whose cost is unknown (no price, or no usage observed), which
  ``retry_cost_usd`` leaves out: with any, ``retry_cost_usd`` is never a
  made-up 0 (None on ClickHouse, whose turns do not count them yet).

``retries(store, by="run_config.max_retries")`` answers "how many retries are
worth it": success rate against attempts and duration, per setting.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Sequence

import duckdb

from otel_llm_analysis._filter_sets import IN_SET, SETS, ask_together, per_set, set_rows, shared_filters
from otel_llm_analysis._filters import Filters, as_rows, connection, dimension_sql, load_query, ratio, remembered
from otel_llm_analysis._scopes import fetch, macro_call

__all__ = ["RetryRow", "retries", "retries_by"]


@dataclass(slots=True)
class RetryRow:
    """The turns of one group (``key`` is ``None`` for all turns, or the group without the dimension)."""

    key: Any
    turns: int
    succeeded: int
    success_rate: float
    first_time_right: int
    first_time_right_rate: float
    retried_turns: int
    retries: int
    loops: int
    gave_up: int
    mean_attempts: float | None
    max_attempts: int | None
    #: loops by the attempts they took, ``attempts:loops`` (tables and CSV; JSON also has ``attempt_counts``)
    attempts: str | None
    retry_cost_usd: float | None
    #: calls of retried tries that ``retry_cost_usd`` leaves out: no price, or no usage observed
    retry_calls_without_cost: int | None
    retry_cost_share: float | None
    retry_ms: float
    retry_time_share: float | None
    mean_turn_ms: float | None
    p50_turn_ms: float | None
    p95_turn_ms: float | None
    cost_usd: float | None
    attempt_counts: dict[int, int] = field(default_factory=dict)


def retries(store: Any, by: str | None = None, filters: Filters | None = None) -> list[RetryRow]:
    """Retry figures of the turns ``filters`` keep, grouped by ``by`` (see ``_filters.DIMENSIONS``).

    A turn is grouped by its own value of the dimension, else by its first LLM
    call's (``model``, ``provider``). Rows are ordered by key, numbers as numbers
    (``run_config.max_retries`` 1, 3, 10), the group without a value last.
    """
    return retries_by(store, [by], filters)[by]


def retries_by(store: Any, bys: Sequence[str | None], filters: Filters | None = None
               ) -> dict[str | None, list[RetryRow]]:
    """:func:`retries` for several groupings of the same turns (each a query of ``turn_rows``)."""
    filters = filters or Filters()
    keys = {by: dimension_sql(by) for by in dict.fromkeys(bys)}  # an unknown dimension fails before any work
    return {by: _grouped(store, key, filters) for by, key in keys.items()}


#: ``retries.sql``'s set placeholders for one filter set, and for many (:func:`_grouped_sets`)
_ONE_SET = dict(sets="", set_id="", and_set="")
_MANY_SETS = dict(sets=f", {SETS}", set_id="set_id, ", and_set=" AND a.set_id = g.set_id")


def _statement(store: Any, key: str, filters: Filters, sets: dict[str, str] = _ONE_SET) -> tuple[str, dict[str, Any]]:
    """The retries statement of the turns ``filters`` keep grouped by ``key``, and its parameters; with
    ``_MANY_SETS``, of the turns of each set of ``$sets`` (:data:`_filter_sets.IN_SET`) besides."""
    source, where, params = macro_call("turns_in", filters)
    if sets is not _ONE_SET:
        where = f"{where} AND {IN_SET}"
    return load_query("retries").format(key=key, source=source, where=where, **sets,
                                        retry_unknown_cost_calls=_unknown_cost_column(store)), params


def _grouped_sets(store: Any, key: str, filter_sets: list[Filters]) -> list[list[dict[str, Any]]]:
    """For each of ``filter_sets`` (of one window), the rows its own statement answers, all read in one: the
    turns of the window walked once (``_filter_sets``)."""
    first = filter_sets[0]
    shared = replace(shared_filters(filter_sets, _window), since=first.since, until=first.until)
    sql, params = _statement(store, key, shared, _MANY_SETS)
    return per_set(fetch(store, sql, {**params, "sets": set_rows(filter_sets)}), len(filter_sets))


def _window(filters: Filters) -> tuple[Any, Any]:
    """What the sets one retries statement reads share: the window the turns are walked for."""
    return filters.since, filters.until


def _grouped(store: Any, key: str, filters: Filters) -> list[RetryRow]:
    rows = []
    ask_together(store, filters, lambda asked: _statement(store, key, asked),
                 lambda sets: _grouped_sets(store, key, sets), _window)
    sql, params = _statement(store, key, filters)
    for d in fetch(store, sql, params):
        d["p50_turn_ms"], d["p95_turn_ms"] = d.pop("latency") or (None, None)
        if d["cost_usd"] is not None and d["retry_cost_usd"] is None and d["retry_calls_without_cost"] == 0:
            # retried tries made no call with a cost, and none whose cost is unknown
            d["retry_cost_usd"] = 0.0
        counts = dict(zip(d.pop("attempt_values") or [], d.pop("attempt_loops") or []))
        loops = sum(counts.values())
        d.update(
            success_rate=d["succeeded"] / d["turns"],
            first_time_right_rate=d["first_time_right"] / d["turns"],
            attempt_counts=counts,
            attempts=" ".join(f"{n}:{k}" for n, k in counts.items()) or None,
            mean_attempts=ratio(sum(n * k for n, k in counts.items()), loops),
            max_attempts=max(counts, default=None),
            retry_cost_share=ratio(d["retry_cost_usd"], d["cost_usd"]),
            retry_time_share=ratio(d["retry_ms"], d.pop("turn_ms")),
        )
        rows.extend(as_rows(RetryRow, [d]))
    return sorted(rows, key=_key_order)


def _unknown_cost_column(store: Any) -> str:
    """The turns' count of retried calls of unknown cost, or NULL (not counted: None) where the turns lack
    it - a DuckDB store another version made, opened read-only (its tables as they are); ClickHouse's turns
    view has it. Asked once per report build (``_filters.remembered``): only an ingest changes the tables."""
    con = connection(store)
    if not isinstance(con, duckdb.DuckDBPyConnection):
        return "retry_unknown_cost_calls"
    return "retry_unknown_cost_calls" if remembered(con, "turns count unknown cost", _counts_unknown_cost) else "NULL"


def _counts_unknown_cost(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the store's ``turn_rows`` has the column ``retry_unknown_cost_calls``."""
    ((present,),) = con.execute("SELECT count(*) FROM duckdb_columns() WHERE table_name = 'turn_rows' "
                                "AND column_name = 'retry_unknown_cost_calls'").fetchall()
    return bool(present)


def _key_order(row: RetryRow) -> tuple[Any, ...]:
    """None last; keys that read as numbers by value, before the others by text."""
    if row.key is None:
        return (2, 0.0, "")
    try:
        number = float(row.key)
    except (TypeError, ValueError):
        return (1, 0.0, str(row.key))
    return (0, number if math.isfinite(number) else math.inf, str(row.key))
