-- Per tool: the tool calls of {source} (tool_calls_in, views.sql) that {where}
-- keeps. Latency percentiles are over the calls; a turn's figures are over the
-- turns that called the tool: turns, calls per such turn, and time share = the
-- tool's time in them / their duration (parallel calls can add up to more
-- than 1). agents and nodes list who called it (the innermost agent; the graph
-- node it ran in).
WITH calls AS (
    SELECT * FROM {source} WHERE {where}
), per_turn AS (
    SELECT tool_name, trace_id, turn_span_id, count(*) AS calls, sum(duration_ms) AS tool_ms,
           any_value(turn_duration_ms) AS turn_ms
    FROM calls
    WHERE turn_span_id IS NOT NULL
    GROUP BY ALL
), turns AS (
    SELECT tool_name, count(*) AS turns, sum(calls) / count(*) AS calls_per_turn,
           sum(tool_ms) / nullif(sum(turn_ms), 0) AS time_share
    FROM per_turn
    GROUP BY tool_name
)
SELECT c.tool_name AS tool,
       count(*) AS calls,
       count(*) FILTER (WHERE c.status_code = 2) AS errors,
       count(*) FILTER (WHERE c.status_code = 2) / count(*) AS error_rate,
       count(*) FILTER (WHERE c.attempt >= 2) AS retries,
       quantile_cont(c.duration_ms, [0.5, 0.95]) AS latency,
       sum(c.duration_ms) AS total_ms,
       coalesce(any_value(t.turns), 0) AS turns,
       any_value(t.calls_per_turn) AS calls_per_turn,
       any_value(t.time_share) AS time_share,
       string_agg(DISTINCT c.agent_name, ', ' ORDER BY c.agent_name) AS agents,
       string_agg(DISTINCT c.graph_node, ', ' ORDER BY c.graph_node) AS nodes
FROM calls c LEFT JOIN turns t ON t.tool_name IS NOT DISTINCT FROM c.tool_name
GROUP BY c.tool_name
