-- Summary grouped by one dimension ({key}); {where} restricts the rows.
-- Spans, traces, turns and failed spans count the `spans` table; LLM calls,
-- tokens, cost and call latency count `llm_calls` (one row per model call:
-- a call two producers traced, one span inside the other, counts once; see
-- views.sql). Producers that also roll usage up onto parent spans are thus not
-- counted twice either. Error rate and latency describe the group's "unit": its
-- LLM calls when it has any; a group without calls of a span dimension
-- (summaries._SPAN_DIMENSIONS: nodes, kinds, collections) is its spans (so `--by node`
-- gives node latency and `--by model` call latency). Any other group without
-- calls (a turn whose calls carry no key, the no-key group of other producers'
-- spans) has neither: its spans' failures are not failed calls. Latency here is
-- the calls'; span_latency.sql fills in the span groups without calls, so the
-- common case sorts durations once. {count_spans} is FALSE when only call figures are wanted
-- (compare): the spans half is then skipped. {span_traces} / {call_traces} count
-- the group's distinct traces, or are a constant when the caller does not show
-- them: a distinct count over (key, trace) pairs is the dearest figure here, so
-- it counts {trace}, the trace id as a UUID where the store has it (_rows.TRACE_KEY).
--
-- The two halves are grouped apart (span_groups: a few counts over every span;
-- call_groups: the sums over the calls) and joined by key, so the wide call
-- columns are not carried through every span row. A group's traces are those
-- of its spans and of its calls: a call read straight from its span
-- (wrapper_span_id IS NULL) is that span's row, so its trace is already among
-- the spans'; only calls that took columns from a wrapper (whose group can
-- differ from any span's in the window) add their (key, trace) pairs. When the
-- spans half is skipped, call_groups counts the calls' traces itself.
-- last_seen is the latest start of the group's spans and calls (when it last ran).
-- The calls are read from llm_calls once (calls, materialized): each reference to the view binds and
-- optimizes its whole definition again (a third of the summary's CPU on 1M spans was planning).
-- Many filter sets at once (summaries.summary_sets): {sets} joins a table of them (set_id and the
-- set's bounds, which {where} then reads) and {set_id} / {by_set} / {and_set} / {per_set} carry
-- set_id through every grouping, join, share and order; for one set they are all empty.
WITH calls AS MATERIALIZED (
    -- why: an unpriced call's reason (_unpriced.REASONS), worked out once per unpriced call; NULL for the rest
    SELECT *, CASE WHEN {is_unpriced} THEN {unpriced_reason} END AS why FROM llm_calls{sets} WHERE {where}
), span_groups AS (
    SELECT {set_id}key,
           count(*) FILTER (WHERE NOT is_call) AS spans,
           {span_traces} AS traces,
           count(*) FILTER (WHERE is_turn) AS turns,
           count(*) FILTER (WHERE NOT is_call AND is_error) AS error_spans,
           max(start_time) AS last_seen
    FROM (
        SELECT {set_id}{key} AS key, {trace}, FALSE AS is_call, {is_turn} AS is_turn, {is_error} AS is_error, start_time
        FROM spans{sets}
        WHERE {where} AND {count_spans}
        UNION ALL
        SELECT {set_id}{key} AS key, {trace}, TRUE AS is_call, FALSE AS is_turn, FALSE AS is_error, start_time
        FROM calls
        WHERE {count_spans} AND wrapper_span_id IS NOT NULL
    )
    GROUP BY {set_id}key
), call_groups AS (
    SELECT
        {key} AS key, {set_id}
        count(*) AS llm_calls,
        {call_traces} AS traces,
        count(*) FILTER (WHERE {is_error}) AS failed_calls,
        coalesce(sum(input_tokens), 0) AS input_tokens,
        coalesce(sum(output_tokens), 0) AS output_tokens,
        coalesce(sum(cache_read_tokens), 0) AS cache_read_tokens,
        coalesce(sum(cache_write_tokens), 0) AS cache_write_tokens,
        coalesce(sum(reasoning_tokens), 0) AS reasoning_tokens,
        coalesce(sum(cost_usd), 0.0) AS cost_usd,
        coalesce(sum(cost_usd) FILTER (WHERE cost_source = 'ingest' OR {is_estimated_usage}), 0.0) AS estimated_cost_usd,
        count(*) FILTER (WHERE {is_estimated_usage}) AS estimated_usage_calls,
        count(cost_usd) AS priced_calls,
        count(cost_usd) FILTER (WHERE NOT {is_error}) AS priced_successes,
        count(why) AS unpriced_calls,
        {reason_counts},
        count({total_only_tokens}) AS total_only_calls,
        count(*) FILTER (WHERE input_tokens IS NOT NULL OR output_tokens IS NOT NULL
                               OR {total_only_tokens} IS NOT NULL) AS token_calls,
        coalesce(sum({total_only_tokens}), 0) AS total_only_tokens,
        count(*) FILTER (WHERE cost_usd IS NULL AND why IS NULL) AS no_usage_calls,
        quantile_cont(duration_ms, [0.5, 0.95, 0.99]) AS latency,
        max(start_time) AS last_seen
    FROM calls
    GROUP BY 1{by_set}
), grouped AS (
    SELECT coalesce(s.key, c.key) AS key,{per_set}
        coalesce(s.spans, 0) AS spans, coalesce(s.traces, c.traces, 0) AS traces, coalesce(c.llm_calls, 0) AS llm_calls,
        coalesce(s.turns, 0) AS turns, coalesce(c.failed_calls, 0) AS failed_calls, coalesce(s.error_spans, 0) AS error_spans,
        coalesce(c.input_tokens, 0) AS input_tokens, coalesce(c.output_tokens, 0) AS output_tokens,
        coalesce(c.cache_read_tokens, 0) AS cache_read_tokens, coalesce(c.cache_write_tokens, 0) AS cache_write_tokens,
        coalesce(c.reasoning_tokens, 0) AS reasoning_tokens, coalesce(c.cost_usd, 0.0) AS cost_usd,
        coalesce(c.estimated_cost_usd, 0.0) AS estimated_cost_usd, coalesce(c.priced_calls, 0) AS priced_calls,
        coalesce(c.estimated_usage_calls, 0) AS estimated_usage_calls,
        coalesce(c.priced_successes, 0) AS priced_successes, coalesce(c.unpriced_calls, 0) AS unpriced_calls,
        coalesce(c.total_only_calls, 0) AS total_only_calls, coalesce(c.total_only_tokens, 0) AS total_only_tokens,
        {reason_counts_joined},
        coalesce(c.no_usage_calls, 0) AS no_usage_calls, coalesce(c.token_calls, 0) AS token_calls, c.latency,
        CASE WHEN c.last_seen IS NULL OR s.last_seen > c.last_seen THEN s.last_seen ELSE c.last_seen END AS last_seen
    FROM span_groups s FULL JOIN call_groups c ON s.key IS NOT DISTINCT FROM c.key{and_set}
)
SELECT
    {set_id}key,
    spans, traces, llm_calls, turns, failed_calls, error_spans,
    input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens,
    cost_usd, estimated_cost_usd, estimated_usage_calls, priced_calls, priced_successes, unpriced_calls, total_only_calls, total_only_tokens,
    {reason_columns},
    no_usage_calls, token_calls,
    CASE WHEN llm_calls > 0 THEN failed_calls / llm_calls
         WHEN {spans_are_units} AND key IS NOT NULL THEN error_spans / spans END AS error_rate,
    latency, last_seen,
    cost_usd / nullif(sum(cost_usd) OVER ({partition}), 0) AS cost_share
FROM grouped
ORDER BY {set_id}cost_usd DESC, spans DESC, key NULLS LAST
