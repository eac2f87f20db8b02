"""Analysis results shared by the views of one report build, so no analysis runs twice for the same question.

Why: the static report computes every view for each embedded filter combination
(date range x project x model). Many of those calls repeat - the month-end
forecast is the same for every range ending in that month, the KPI cards'
daily window is looked up again by the trends chart - and the costliest part,
walking the span trees to find each turn and its retry loops (``turns_in`` in
``views.sql``), depends only on the date range, while the project and model
filters merely pick some of the turns. :class:`Shared` remembers each API call's
result by its arguments, and keeps the turns of each date range in a temporary
table, which every combination of that range reads with its own project and
model filter through the ``retries`` analysis's own grouping query.

The store does not change during a build (the report reads a snapshot), so a
remembered result is the result. The live dashboard keeps one :class:`Shared` per
version of its data (``live.LiveStore.sharing``) and starts a new one when an
ingest adds rows.
"""

from __future__ import annotations

from contextlib import ExitStack
from datetime import datetime
from typing import Any, Callable, Sequence, TypeVar

from otel_llm_analysis import Filters
from otel_llm_analysis import retry_outcomes
from otel_llm_analysis._filters import dimension_sql
from otel_llm_analysis._scopes import materialized

T = TypeVar("T")


class Shared:
    """Results of one build's analysis calls, and the turns of each date range (see the module doc)."""

    def __init__(self) -> None:
        self._results: dict[tuple[Any, ...], Any] = {}
        self._turns: dict[tuple[datetime | None, datetime | None], str] = {}
        self._tables = ExitStack()

    def call(self, function: Callable[..., T], store: Any, *args: Any) -> T:
        """``function(store, *args)``, computed once per distinct ``args`` (which must be hashable)."""
        key = (function, *args)
        if key not in self._results:
            self._results[key] = function(store, *args)
        return self._results[key]  # type: ignore[no-any-return]

    def retries_by(self, store: Any, bys: Sequence[str | None], filters: Filters
                   ) -> dict[str | None, list[retry_outcomes.RetryRow]]:
        """What ``retry_outcomes.retries_by(store, bys, filters)`` returns, each grouping computed once.

        The turns of ``filters``' date range are walked once for the whole
        build; ``filters`` (date range included, as ``retries_by`` applies it
        over the walk's rows too) then select the combination's turns.
        """
        return {by: self.call(_grouped, store, self._range_turns(store, filters), by, filters) for by in bys}

    def _range_turns(self, store: Any, filters: Filters) -> str:
        window = (filters.since, filters.until)
        if window not in self._turns:
            table = self._tables.enter_context(materialized(
                store, "SELECT * FROM turns_in($since, $until)", {"since": filters.since, "until": filters.until}))
            self._turns[window] = table
        return self._turns[window]

    @property
    def windows(self) -> int:
        """Date windows whose turns are kept (one temporary table each)."""
        return len(self._turns)

    @property
    def results(self) -> int:
        """Analysis results kept."""
        return len(self._results)

    def close(self) -> None:
        """Drop the temporary tables and forget every result."""
        self._tables.close()
        self._turns.clear()
        self._results.clear()

    def __enter__(self) -> "Shared":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _grouped(store: Any, table: str, by: str | None, filters: Filters) -> list[retry_outcomes.RetryRow]:
    """``retries(store, by, filters)`` over turns already walked into ``table`` (the analysis's own query)."""
    where, params = filters.where()
    return retry_outcomes._grouped(store, dimension_sql(by), table, where, params)


__all__ = ["Shared"]
