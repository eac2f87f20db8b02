-- Per agent name: the invocations of {source} (agent_invocations_in, views.sql)
-- that {where} keeps, and the sums of what was made inside them (nested agents'
-- work counts in the agents around them too). A recursive invocation (one
-- nested in a kept invocation of its own name) counts as an invocation, its work
-- once: in the outer one's figures, so each call is summed once per name.
-- "Nested in" is any invocation of the name around it, not only the nearest
-- (same_name_outer_span_id): planner > planner > planner whose middle one the
-- filters leave out still sums the innermost's work once. `around` follows the
-- chain of nearest ones up (each is the nearest one's nearest, and so on).
-- Latency percentiles are over the invocations.
WITH RECURSIVE kept AS (
    SELECT * FROM {source} WHERE {where}
), around AS (
    SELECT trace_id, span_id, same_name_outer_span_id AS outer_span_id, 1 AS depth
    FROM kept WHERE same_name_outer_span_id IS NOT NULL
    UNION ALL
    SELECT a.trace_id, a.span_id, s.same_name_outer_span_id, a.depth + 1
    FROM around a JOIN {source} s ON s.trace_id = a.trace_id AND s.span_id = a.outer_span_id
    WHERE s.same_name_outer_span_id IS NOT NULL AND a.depth < 10000
), covered AS (
    SELECT DISTINCT a.trace_id, a.span_id
    FROM around a JOIN kept o ON o.trace_id = a.trace_id AND o.span_id = a.outer_span_id
), invocations AS (
    SELECT k.*, c.span_id IS NULL AS counted
    FROM kept k LEFT JOIN covered c ON c.trace_id = k.trace_id AND c.span_id = k.span_id
)
SELECT agent_name AS agent,
       count(*) AS invocations,
       count(*) FILTER (WHERE succeeded) AS succeeded,
       count(*) FILTER (WHERE status_code = 2) AS failed,
       count(*) FILTER (WHERE gave_up_loops > 0) AS gave_up,
       sum(llm_calls) FILTER (WHERE counted) AS llm_calls,
       sum(failed_calls) FILTER (WHERE counted) AS failed_calls,
       sum(tool_calls) FILTER (WHERE counted) AS tool_calls,
       sum(failed_tool_calls) FILTER (WHERE counted) AS failed_tool_calls,
       sum(input_tokens) FILTER (WHERE counted) AS input_tokens,
       sum(output_tokens) FILTER (WHERE counted) AS output_tokens,
       sum(cost_usd) FILTER (WHERE counted) AS cost_usd,
       sum(priced_calls) FILTER (WHERE counted) AS priced_calls,
       sum(unpriced_calls) FILTER (WHERE counted) AS unpriced_calls,
       sum(unobserved_calls) FILTER (WHERE counted) AS unobserved_calls,
       quantile_cont(duration_ms, [0.5, 0.95]) AS latency,
       string_agg(DISTINCT graph_node, ', ' ORDER BY graph_node) AS nodes
FROM invocations
GROUP BY agent_name
