-- Per agent name: the invocations of {source} (agent_invocations_in, views.sql)
-- that {where} keeps, and the sums of what was made inside them (nested agents'
-- work counts in the agents around them too). Latency percentiles are over the
-- invocations.
SELECT agent_name AS agent,
       count(*) AS invocations,
       count(*) FILTER (WHERE succeeded) AS succeeded,
       count(*) FILTER (WHERE status_code = 2) AS failed,
       count(*) FILTER (WHERE gave_up_loops > 0) AS gave_up,
       sum(llm_calls) AS llm_calls,
       sum(failed_calls) AS failed_calls,
       sum(tool_calls) AS tool_calls,
       sum(failed_tool_calls) AS failed_tool_calls,
       sum(input_tokens) AS input_tokens,
       sum(output_tokens) AS output_tokens,
       sum(cost_usd) AS cost_usd,
       sum(priced_calls) AS priced_calls,
       quantile_cont(duration_ms, [0.5, 0.95]) AS latency,
       string_agg(DISTINCT graph_node, ', ' ORDER BY graph_node) AS nodes
FROM {source}
WHERE {where}
GROUP BY agent_name
