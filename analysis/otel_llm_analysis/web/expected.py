"""The filter sets a report build will ask its analyses for, so each analysis reads them in few statements.

Why: a build computes every view for each embedded filter combination, and on a
small store each statement costs DuckDB binding and optimizing it, not reading
its rows: the same summary asked for 40 combinations cost 40 plannings. The
build says which filter sets it expects, in groups asked alike (its date ranges
x projects x models; their windows closed by the data, and the periods before
them, :meth:`BuildSets.add_queries`); when an analysis that can read many sets
at once (``summaries.summary_sets``, ``trends``, ``retry_outcomes``, ``qa``,
``traces``' ranking, ``popular_queries``, ``session_memory``, the tools and
agents of ``_scopes.per_name``, the searches of GenAI metric points in
``_unrecorded``) is first asked for one, it reads the
others of its group in the same statement (``_filter_sets``); an analysis that
reads no project or model reads the sets differing only there once. A set of no group (a window of a view's own: a month's
forecast, a model's trend) is read with its window's other projects and models.

Only while the deep views are frozen (``frozen.frozen_views``: a DuckDB store of
at most 50,000 spans): on a larger store a statement's cost is its rows, and
the sets' rows would all be held at once. Even there, one statement reads at
most :data:`SET_ROWS` spans' worth of sets.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import replace
from typing import Any, Iterable, Iterator

from otel_llm_analysis import Filters
from otel_llm_analysis._filter_sets import Expected, asked_together
from otel_llm_analysis._filters import connection
from otel_llm_analysis.web.views import Query, previous_period

#: spans x sets one statement reads at most (each set reads the store's spans once)
SET_ROWS = 200_000

_ACTIVE: ContextVar["BuildSets | None"] = ContextVar("otel_llm_build_sets", default=None)


class BuildSets:
    """The filter sets a build expects, in groups of sets asked alike (the same analyses ask for each set of a
    group, so reading a group together reads little that is not asked)."""

    def __init__(self) -> None:
        #: group -> its sets (calls_only False), in the order added
        self._groups: dict[str, dict[Filters, None]] = {}
        #: set (calls_only False) -> the group it was last added to
        self._of: dict[Filters, str] = {}

    def add(self, group: str, sets: Iterable[Filters]) -> None:
        """Expect ``sets`` too, asked alike with the others of ``group``."""
        held = self._groups.setdefault(group, {})
        for one in sets:
            one = replace(one, calls_only=False)
            held[one] = None
            self._of[one] = group

    def add_queries(self, queries: Iterable[Query]) -> None:
        """Expect what the views of each of ``queries`` (their windows resolved, ``views.with_window``) ask: its
        filters, its window closed by the data (the trends), and the period before it (the KPI cards' changes)
        of its project and model and, for a project's cards (``views._project_kpis``), of every project."""
        for query in queries:
            self.add("combinations", [query.filters])
            if query.window is None:
                continue
            since, until = previous_period(query.window)
            self.add("windows", [replace(query.filters, since=query.window[0], until=query.window[1])])
            before = replace(query.filters, since=since, until=until)
            self.add("previous periods", [before])
            if before.project is not None:
                self.add("previous periods of every project", [replace(before, project=None)])

    def beside(self, filters: Filters) -> list[Filters]:
        """The sets of the group ``filters`` was last added to (a set of two groups is asked alike with the later
        one's: the whole window overall is planned with the ranges, then embedded with the combinations), with
        its ``calls_only``; for a set of no group (a window of a view's own: a month's forecast, a model's
        trend), its window with each project and model of the sets expected."""
        group = self._of.get(replace(filters, calls_only=False))
        if group is None:
            pairs = dict.fromkeys((one.project, one.model) for one in self._of)
            return [replace(filters, project=project, model=model) for project, model in pairs]
        return [replace(one, calls_only=filters.calls_only) for one in self._groups[group]]


@contextmanager
def expecting(store: Any, frozen: tuple[str, ...]) -> Iterator[BuildSets]:
    """Within the block, the analyses read the sets the yielded :class:`BuildSets` expects together (see the module
    doc) when ``frozen`` names the views copied; inside another such block, that block's sets."""
    active = _ACTIVE.get()
    if active is not None or not frozen:
        yield active or BuildSets()
        return
    ((spans,),) = connection(store).execute("SELECT count(*) FROM span_rows").fetchall()
    sets = BuildSets()
    token = _ACTIVE.set(sets)
    try:
        with asked_together(Expected(sets.beside, SET_ROWS // max(1, spans))):
            yield sets
    finally:
        _ACTIVE.reset(token)


__all__ = ["SET_ROWS", "BuildSets", "expecting"]
