-- Summary of spans grouped by one dimension ({key}); {where} restricts the spans.
-- Tokens and cost are summed over LLM calls only, so a producer that also rolls
-- usage up onto parent spans is not counted twice. Error rate and latency describe
-- the group's "unit": its LLM calls when it has any, else all of its spans (so
-- `--by node` gives node latency and `--by model` call latency). Latency here is
-- the calls'; span_latency.sql fills in the groups without calls, so the common
-- case sorts durations once.
WITH base AS (
    SELECT
        {key} AS key,
        trace_id,
        duration_ms,
        {is_error} AS is_error,
        {is_llm} AS is_llm,
        {is_turn} AS is_turn,
        input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens,
        cost_usd
    FROM spans
    WHERE {where}
), grouped AS (
    SELECT
        key,
        count(*) AS spans,
        count(DISTINCT trace_id) AS traces,
        count(*) FILTER (WHERE is_llm) AS llm_calls,
        count(*) FILTER (WHERE is_turn) AS turns,
        count(*) FILTER (WHERE is_llm AND is_error) AS failed_calls,
        count(*) FILTER (WHERE is_error) AS error_spans,
        coalesce(sum(input_tokens) FILTER (WHERE is_llm), 0) AS input_tokens,
        coalesce(sum(output_tokens) FILTER (WHERE is_llm), 0) AS output_tokens,
        coalesce(sum(cache_read_tokens) FILTER (WHERE is_llm), 0) AS cache_read_tokens,
        coalesce(sum(cache_write_tokens) FILTER (WHERE is_llm), 0) AS cache_write_tokens,
        coalesce(sum(reasoning_tokens) FILTER (WHERE is_llm), 0) AS reasoning_tokens,
        coalesce(sum(cost_usd) FILTER (WHERE is_llm), 0.0) AS cost_usd,
        count(cost_usd) FILTER (WHERE is_llm) AS priced_calls,
        count(cost_usd) FILTER (WHERE is_llm AND NOT is_error) AS priced_successes,
        quantile_cont(duration_ms, [0.5, 0.95, 0.99]) FILTER (WHERE is_llm) AS latency
    FROM base
    GROUP BY key
)
SELECT
    key,
    spans, traces, llm_calls, turns, failed_calls, error_spans,
    input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens,
    cost_usd, priced_calls, priced_successes,
    CASE WHEN llm_calls > 0 THEN failed_calls / llm_calls ELSE error_spans / spans END AS error_rate,
    latency,
    cost_usd / nullif(sum(cost_usd) OVER (), 0) AS cost_share
FROM grouped
ORDER BY cost_usd DESC, spans DESC, key NULLS LAST
