"""Analysis results shared by the views of one report build, so no analysis runs twice for the same question.

Why: the static report computes every view for each embedded filter combination
(date range x project x model). Many of those calls repeat - the month-end
forecast is the same for every range ending in that month, the KPI cards'
daily window is looked up again by the trends chart, compare and retries group
the same turns. :class:`Shared` remembers each API call's result by its
arguments, and counts the date windows it has answered for, so the live
dashboard can bound what it keeps.

The store does not change during a build (the report reads a snapshot), so a
remembered result is the result. The live dashboard keeps one :class:`Shared` per
version of its data (``live.LiveStore.sharing``) and starts a new one when an
ingest adds rows.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Callable, Sequence, TypeVar

from otel_llm_analysis import Filters
from otel_llm_analysis import retry_outcomes
from otel_llm_analysis._filters import remembering

T = TypeVar("T")


class Shared:
    """Results of one build's analysis calls (see the module doc)."""

    def __init__(self) -> None:
        self._results: dict[tuple[Any, ...], Any] = {}
        self._windows: set[tuple[datetime | None, datetime | None]] = set()
        #: the statements' answers (``_filters.remembering``): the same query of two views is run once
        self._rows: dict[tuple[int, str, str], Any] = {}
        self._remembering: list[AbstractContextManager[None]] = []

    def remembering(self) -> AbstractContextManager[None]:
        """A block in which the analyses' statements asked before with the same parameters are answered from
        this build's (this data version's) answers (``_filters.remembering``)."""
        return remembering(self._rows)

    def call(self, function: Callable[..., T], store: Any, *args: Any, **options: Any) -> T:
        """``function(store, *args, **options)``, computed once per distinct ``args`` and ``options`` (which
        must be hashable)."""
        key = (function, *args, *sorted(options.items()))
        if key not in self._results:
            self._results[key] = function(store, *args, **options)
        return self._results[key]  # type: ignore[no-any-return]

    def retries_by(self, store: Any, bys: Sequence[str | None], filters: Filters
                   ) -> dict[str | None, list[retry_outcomes.RetryRow]]:
        """What ``retry_outcomes.retries_by(store, bys, filters)`` returns, each grouping computed once."""
        self._windows.add((filters.since, filters.until))
        return {by: self.call(retry_outcomes.retries, store, by, filters) for by in bys}

    @property
    def windows(self) -> int:
        """Date windows answered for."""
        return len(self._windows)

    @property
    def results(self) -> int:
        """Analysis results kept."""
        return len(self._results)

    @property
    def answers(self) -> int:
        """Statements' answers kept (:meth:`remembering`)."""
        return len(self._rows)

    def close(self) -> None:
        """Forget every result."""
        self._windows.clear()
        self._results.clear()
        self._rows.clear()

    def __enter__(self) -> "Shared":
        """The results shared, with the statements' answers remembered in the block (:meth:`remembering`)."""
        block = self.remembering()
        block.__enter__()
        self._remembering.append(block)
        return self

    def __exit__(self, *exc: object) -> None:
        self._remembering.pop().__exit__(None, None, None)
        self.close()


__all__ = ["Shared"]
