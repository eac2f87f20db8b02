"""Model vs model and run-config vs run-config, and which one is best.

Each group's figures are its LLM calls' (the same definitions as the summary,
which this module reuses): calls, success rate, mean cost per call, p95 latency,
tokens - and its turns' (``retry_outcomes``, the same definitions as ``otel-llm
retries``): turns, the share that succeeded and that were first-time-right, the
mean attempts of their retry loops, and their mean and p95 duration. A call
that fails and is retried lowers the calls' success rate; whether the turn got
its answer in the end is the turns' success rate - what ``--by
run_config.max_retries`` weighs against attempts and duration.

**Score** (0..100, higher is better), over the groups eligible for "best" (a
named group with at least ``min_calls`` calls)::

    score = 100 * ( w_s * success_rate
                  + w_c * (1 - cost_per_call / max cost_per_call)
                  + w_l * (1 - p95_ms / max p95_ms) )

with default weights ``w_s, w_c, w_l = 0.5, 0.25, 0.25``. Cost and latency are
normalised by the worst eligible group, so the cheapest/fastest group is not
rewarded for absolute size and a group with everything worst scores only its
success term. A group whose cost or latency is unknown gets 0 for that term
(no free pass); when every group's maximum is 0 the term is full. Ties go to
the group with more calls, then the smaller name.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Sequence

import duckdb

from otel_llm_analysis._filters import Filters, connection, ratio
from otel_llm_analysis._interruptible import Work, side_by_side
from otel_llm_analysis._unrecorded import OnlyInMetrics
from otel_llm_analysis.retry_outcomes import RetryRow, retries
from otel_llm_analysis.summaries import SummaryRow, summary

DEFAULT_WEIGHTS = (0.5, 0.25, 0.25)


@dataclass(slots=True)
class ComparisonRow:
    """One model or run configuration."""

    key: Any
    calls: int
    successes: int
    success_rate: float
    cost_usd: float | None
    cost_per_call: float | None
    p95_ms: float | None
    input_tokens: int
    output_tokens: int
    #: the mean over the calls whose tokens are known (split or only a total); None when none is
    tokens_per_call: float | None
    score: float | None = None
    best: bool = False
    #: the group's turns (None: it has none)
    turns: int = 0
    turn_success_rate: float | None = None
    first_time_right_rate: float | None = None
    mean_attempts: float | None = None
    mean_turn_ms: float | None = None
    p95_turn_ms: float | None = None
    #: the calls ``cost_per_call`` is the mean of, and those with tokens but no cost it leaves out
    priced_calls: int = 0
    unpriced_calls: int = 0
    #: ``unpriced_calls`` by reason (``summaries.SummaryRow.unpriced_reasons``)
    unpriced_reasons: dict[str, int] = field(default_factory=dict)
    #: calls with no usage recorded at all (no tokens, no cost): neither figure holds them
    no_usage_calls: int = 0
    #: the group's calls only GenAI metric points record (``summaries.SummaryRow.only_in_metrics``): its
    #: figures, and so its score, are those of its calls in spans only
    only_in_metrics: OnlyInMetrics | None = None


def compare(
    store: Any,
    by: str = "model",
    filters: Filters | None = None,
    *,
    min_calls: int = 1,
    weights: Sequence[float] = DEFAULT_WEIGHTS,
    turns: Sequence[RetryRow] | None = None,
) -> list[ComparisonRow]:
    """Compare groups of LLM calls by ``by`` (``model``, ``run_config.<key>``, ...), best first.

    The score weighs the calls' figures; each row also carries its turns' -
    ``turns``, when given, are ``retries(store, by, filters)`` computed already
    (``retries_by`` computes them for several groupings at once).
    """
    filters = filters or Filters()
    groups, turns = _figures(store, by, filters, turns)
    by_key = {t.key: t for t in turns}
    rows = [
        ComparisonRow(
            key=s.key,
            calls=s.llm_calls,
            successes=s.llm_calls - s.failed_calls,
            success_rate=(s.llm_calls - s.failed_calls) / s.llm_calls,
            cost_usd=s.cost_usd,
            cost_per_call=s.cost_per_call,
            p95_ms=s.p95_ms,
            input_tokens=s.input_tokens,
            output_tokens=s.output_tokens,
            tokens_per_call=ratio(s.input_tokens + s.output_tokens + s.total_only_tokens, s.token_calls),
            priced_calls=s.priced_calls,
            unpriced_calls=s.unpriced_calls,
            unpriced_reasons=s.unpriced_reasons,
            no_usage_calls=s.no_usage_calls,
            only_in_metrics=s.only_in_metrics,
        )
        for s in groups
        if s.llm_calls > 0
    ]
    for row in rows:
        turn = by_key.get(row.key)
        if turn is not None:
            row.turns, row.turn_success_rate = turn.turns, turn.success_rate
            row.first_time_right_rate, row.mean_attempts = turn.first_time_right_rate, turn.mean_attempts
            row.mean_turn_ms, row.p95_turn_ms = turn.mean_turn_ms, turn.p95_turn_ms
    score(rows, min_calls=min_calls, weights=weights)
    return sorted(rows, key=lambda r: (r.score is None, -(r.score or 0.0), -r.calls, str(r.key)))


def _figures(store: Any, by: str, filters: Filters, turns: Sequence[RetryRow] | None
             ) -> tuple[list[SummaryRow], Sequence[RetryRow]]:
    """The groups' call figures (``summary``) and, unless given, their turns' (``retries``).

    On DuckDB the turns' query runs beside the calls' on a cursor of its own (``_interruptible.side_by_side``:
    a Ctrl-C or an exception on either side stops both), as ``summaries`` runs the span latency: each query
    alone leaves the second core idle in its single-threaded parts (planning, each group's quantiles). Not on
    a store reading one snapshot (the dashboard's, during an ingest): a cursor is outside its transaction."""
    calls = replace(filters, calls_only=True)
    con = connection(store)
    if turns is not None or not isinstance(con, duckdb.DuckDBPyConnection) or getattr(store, "holds_snapshot", False):
        return (summary(store, by, calls, traces=False, partial=True),
                turns if turns is not None else retries(store, by, replace(filters, calls_only=False)))
    cursor = con.cursor()
    try:
        groups, turns = side_by_side(
            Work(lambda: summary(store, by, calls, traces=False, partial=True), con.interrupt),
            Work(lambda: retries(cursor, by, replace(filters, calls_only=False)), cursor.interrupt))
    finally:
        cursor.close()
    return groups, turns


def score(rows: list[ComparisonRow], *, min_calls: int = 1, weights: Sequence[float] = DEFAULT_WEIGHTS) -> None:
    """Fill ``score`` and ``best`` in place by the module's formula."""
    w_success, w_cost, w_latency = weights
    eligible = [r for r in rows if r.key is not None and r.calls >= min_calls]
    max_cost = max((r.cost_per_call for r in eligible if r.cost_per_call is not None), default=0.0)
    max_p95 = max((r.p95_ms for r in eligible if r.p95_ms is not None), default=0.0)
    for row in eligible:
        row.score = 100.0 * (
            w_success * row.success_rate
            + w_cost * _relief(row.cost_per_call, max_cost)
            + w_latency * _relief(row.p95_ms, max_p95)
        )
    if eligible:
        best = max(eligible, key=lambda r: (r.score, r.calls, _negated(str(r.key))))
        best.best = True


def _relief(value: float | None, worst: float) -> float:
    """1 - value/worst: 1 for free/instant, 0 for the worst (or unknown)."""
    if value is None:
        return 0.0
    if worst <= 0:
        return 1.0
    return 1.0 - value / worst


def _negated(text: str) -> tuple[int, ...]:
    """Sort key under which ``max`` prefers the smaller string."""
    return tuple(-ord(c) for c in text) + (1,)
