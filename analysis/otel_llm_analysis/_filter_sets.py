"""Statements of one analysis for many filter sets asked at once, during a block that says which sets to expect.

Why: a report build asks each analysis (a summary per project, per model...) for
every filter combination it embeds, one statement each, and on a small store a
statement's cost is DuckDB binding and optimizing it, not reading its rows. When
the build says which filter sets it will ask for (:func:`asked_together`), the
first time an analysis is asked for one of them it reads all of them in one
statement, and keeps each set's rows as that set's own statement's answer
(``_filters.remember``): the later asks are answered from there, with the same
rows, and nothing else in the analysis changes. Outside such a block (the CLI,
the API, the live dashboard) every statement is asked as it is.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Callable, Hashable, Iterator, Mapping, Sequence

from otel_llm_analysis._filters import Filters, is_remembered, keeping, remember


@dataclass(frozen=True)
class Expected:
    """The filter sets a block expects its analyses to be asked for, and how many one statement may read."""

    #: ``filters`` -> the other sets expected beside it (with its own ``service`` and ``calls_only``)
    beside: Callable[[Filters], Sequence[Filters]]
    #: the most sets one statement reads: their rows add up, so a larger store reads fewer at once
    per_statement: int


_EXPECTED: ContextVar[Expected | None] = ContextVar("otel_llm_expected_sets", default=None)

Statement = tuple[str, Mapping[str, Any]]

#: the ``FROM`` item of the sets a statement reads at once: a row per set (``$sets``, :func:`set_rows`)
SETS = "(SELECT unnest($sets, recursive := true))"


def in_set(alias: str = "", *, window_only: bool = False, column: str = "start_time") -> str:
    """A set's window, project and model (only its window with ``window_only``: rows that carry neither) as
    :meth:`Filters.where` restricts them over a table (``alias``), read from the columns of :data:`SETS`; the
    window on ``column`` (``time`` for metric points, as ``_filters.time_window`` is given it)."""
    p = f"{alias}." if alias else ""
    window = f"(set_since IS NULL OR {p}{column} >= set_since) AND (set_until IS NULL OR {p}{column} < set_until)"
    if window_only:
        return window
    return (f"{window} AND {project_in_set(alias)} "
            f"AND (set_model IS NULL OR set_model = {p}model OR set_model = {p}response_model)")


def project_in_set(alias: str = "") -> str:
    """A set's project as :meth:`Filters.where` restricts it over a table (``alias``)."""
    return f"(set_project IS NULL OR {alias}{'.' if alias else ''}project = set_project)"


#: :func:`in_set` of an unaliased table
IN_SET = in_set()


def set_rows(filter_sets: Sequence[Filters], **columns: Sequence[Any]) -> list[dict[str, Any]]:
    """The ``$sets`` parameter of :data:`SETS`: each set's number (``set_id``, its index) and bounds, and its value
    of each of ``columns`` (a column's values in the sets' order)."""
    return [{"set_id": index, "set_since": f.since, "set_until": f.until, "set_project": f.project,
             "set_model": f.model, **{name: values[index] for name, values in columns.items()}}
            for index, f in enumerate(filter_sets)]


def shared_filters(filter_sets: Sequence[Filters], alike: Callable[[Filters], Hashable] | None = None) -> Filters:
    """What every one of ``filter_sets`` keeps (their ``service`` and ``calls_only``): :data:`IN_SET` adds each
    set's own window, project and model. ``ValueError`` when they differ there, or in ``alike``."""
    first = filter_sets[0]
    if any(_alike(f) != _alike(first) or (alike and alike(f) != alike(first)) for f in filter_sets):
        raise ValueError("filter sets read at once must share their service and calls_only")
    return Filters(service=first.service, calls_only=first.calls_only)


def per_set(rows: Sequence[Mapping[str, Any]], sets: int) -> list[list[dict[str, Any]]]:
    """The rows of a statement over :data:`SETS` split by their ``set_id`` (taken out), in order: each set's."""
    split: list[list[dict[str, Any]]] = [[] for _ in range(sets)]
    for row in rows:
        record = dict(row)
        split[record.pop("set_id")].append(record)
    return split


def _alike(filters: Filters) -> Hashable:
    """What the sets one statement reads share: all but their window, project and model."""
    return filters.service, filters.calls_only


@contextmanager
def asked_together(expected: Expected) -> Iterator[None]:
    """Within the block, :func:`ask_together` reads the sets ``expected`` says beside the one asked."""
    token = _EXPECTED.set(expected)
    try:
        yield
    finally:
        _EXPECTED.reset(token)


def ask_together(store: Any, filters: Filters, statement: Callable[[Filters], Statement],
                 read: Callable[[list[Filters]], list[list[dict[str, Any]]]],
                 alike: Callable[[Filters], Hashable] | None = None,
                 reads: Callable[[Filters], Filters] | None = None) -> None:
    """Before an analysis asks ``statement(filters)``: inside :func:`asked_together` and a ``_filters.remembering``
    block, if that statement's answer is not kept yet, ``read`` it and those of the sets expected beside it whose
    answers are not kept either (and that share its ``service``, ``calls_only`` and ``alike(filters)``: an
    analysis whose statement takes the window as it is reads the sets of one window at once), a few statements
    for all (``read(sets)``: each set's rows, in order), and keep each as its own statement's answer. Elsewhere
    nothing happens (the analysis asks its statement). ``reads``: what of a set its statement depends on (an
    analysis that reads no project: the set without it), so sets that differ only elsewhere are read once."""
    expected = _EXPECTED.get()
    if expected is None or not keeping() or is_remembered(store, *statement(filters)):
        return
    same = reads or (lambda one: one)
    asked = {same(filters): statement(filters)}
    for other in map(same, expected.beside(filters)):
        if other not in asked and _alike(other) == _alike(filters) and (alike is None or alike(other) == alike(filters)):
            known = statement(other)
            if not is_remembered(store, *known):
                asked[other] = known
    sets, size = list(asked), max(1, expected.per_statement)
    for start in range(0, len(sets), size):
        chunk = sets[start:start + size]
        for one, rows in zip(chunk, read(chunk)):
            remember(store, *asked[one], rows)
