"""Whether the stored spans hold every LLM call that otel-llm's own metrics counted.

Why: every call, token and cost figure of the analyses is read from spans, and
spans can be fewer than the calls made: a trace sampler (``OTEL_TRACES_SAMPLER``,
a ratio at scale), trace files not ingested, spans lost on the way. otel-llm
records its metric points from the calls themselves, whatever the sampler (see
the README's "Metrics"): its ``gen_ai.client.operation.duration`` histogram
counts one point per ``@llm_call`` span, wrappers included, exactly as its
``llm_call`` spans count. So the two counts are compared and, when the spans
hold fewer, every analysis says so instead of showing a part as the whole.

Only otel-llm's own instrumentation scope is compared: a peer instrumentor's
metrics and spans follow rules of their own. Cumulative histogram series (one
per process, attribute set and start time) count their last point; delta series
add theirs up. A prune (``retention``) removes old spans and points but not what
a cumulative series counted before the cutoff, so there such a series counts
only its growth over the points left.
"""

from __future__ import annotations

from typing import Any

import duckdb

from otel_llm import semconv
from otel_llm_analysis._unrecorded import series_key
from otel_llm_analysis.retention import pruned_before

__all__ = ["COUNTS", "note"]

#: (otel-llm's llm_call spans, the calls its operation-duration metric counted). ``{cumulative}``: the
#: calls a cumulative series counted - its highest count, or on a pruned store (:data:`SINCE_PRUNE`)
#: what it counted across the points left when it began before the cutoff (its count at the first
#: of them takes in calls whose spans were pruned; what it misses, that point's share, makes the
#: note say less, never more). ``{series}``: what tells a series on the store's engine (``_unrecorded``).
COUNTS = """
WITH metric_calls AS (
    SELECT coalesce(sum(calls), 0) AS calls FROM (
        SELECT CASE WHEN any_value(temporality) = 'delta' THEN sum(count) ELSE {cumulative} END AS calls
        FROM metric_points
        WHERE metric_name = $metric AND scope_name = $scope
        GROUP BY {series}, temporality
    )
)
SELECT CASE WHEN calls > 0
            THEN (SELECT count(*) FROM span_rows WHERE scope_name = $scope AND otel_kind = $kind) END,
       calls
FROM metric_calls
"""
#: A cumulative series' calls on a store pruned before ``$pruned`` (``retention``).
SINCE_PRUNE = "CASE WHEN any_value(start_time) < $pruned THEN max(count) - min(count) ELSE max(count) END"
_PARAMS = {"scope": semconv.INSTRUMENTATION_SCOPE, "metric": semconv.METRIC_OPERATION_DURATION,
           "kind": semconv.KIND_LLM_CALL}


def note(con: Any, path: str, unreadable: tuple[type[BaseException], ...] = (duckdb.Error,)) -> str | None:
    """One line when the store's spans hold fewer of otel-llm's LLM calls than its metrics counted, else None.

    ``con`` runs DuckDB SQL: a DuckDB connection, or the ClickHouse store's
    (which transpiles it; its ``unreadable`` errors are its own). About 3 ms on
    a DuckDB store of 1M spans. A store that cannot answer (made by an older
    version and opened read-only, no metric tables) says nothing.
    """
    try:
        pruned = pruned_before(con) if isinstance(con, duckdb.DuckDBPyConnection) else None  # DuckDB's alone
        series = series_key(con)
        if pruned is None:
            query, params = COUNTS.format(cumulative="max(count)", series=series), _PARAMS
        else:
            query, params = COUNTS.format(cumulative=SINCE_PRUNE, series=series), {**_PARAMS, "pruned": pruned}
        ((spans, calls),) = con.execute(query, params).fetchall()
    except unreadable:
        return None
    if spans is None or spans >= calls:
        return None
    return (f"the spans in {path} hold {spans:,} of the {int(calls):,} LLM calls otel-llm's metrics counted "
            "(traces sampled, trace files not ingested, or spans lost): calls, tokens and cost here cover "
            f"those {spans:,} only")
