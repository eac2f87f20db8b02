-- Traces ranked by {order}: the cost of their LLM calls, or wall time from first
-- span start to last span end. Ranking reads only the columns it needs (for cost,
-- only LLM calls); the details are computed for the top traces alone. The root
-- is the span without a parent (for a trace whose root was never exported: its
-- earliest span).
WITH ranked AS (
    SELECT trace_id, {measure} AS measure
    FROM spans
    WHERE {where} {rank_filter}
    GROUP BY trace_id
    ORDER BY measure DESC, trace_id
    LIMIT $top
)
SELECT
    trace_id,
    coalesce(arg_min(name, start_time) FILTER (WHERE parent_span_id IS NULL OR parent_span_id = ''),
             arg_min(name, start_time)) AS root_name,
    min(start_time) AS start_time,
    date_diff('microsecond', min(start_time), max(end_time)) / 1000.0 AS duration_ms,
    count(*) AS spans,
    count(*) FILTER (WHERE {is_llm}) AS llm_calls,
    coalesce(sum(coalesce(input_tokens, 0) + coalesce(output_tokens, 0)) FILTER (WHERE {is_llm}), 0) AS tokens,
    coalesce(sum(cost_usd) FILTER (WHERE {is_llm}), 0.0) AS cost_usd,
    count(*) FILTER (WHERE {is_error}) AS errors,
    any_value(measure) AS measure
FROM spans
JOIN ranked USING (trace_id)
WHERE {where}
GROUP BY trace_id
ORDER BY measure DESC, trace_id
