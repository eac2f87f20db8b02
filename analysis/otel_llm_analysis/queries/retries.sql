-- Turns grouped by {key}: the turns of {source} (turns_in, views.sql) that
-- {where} keeps. succeeded / first_time_right are the view's; the attempts
-- distribution counts the retry loops of the group's turns by the attempts
-- each took (attempt_values[i] attempts: attempt_loops[i] loops).
-- {retry_unknown_cost_calls}: the turns' column, or NULL on an engine whose turns lack it.
-- Many filter sets of one window at once (retry_outcomes._grouped_sets): {sets} joins a table of them
-- (set_id, and the set's project and model, which {where} then reads) and {set_id} / {and_set} carry
-- set_id through the groupings and the join; for one set they are empty.
WITH turns AS (
    SELECT {key} AS key, * FROM {source}{sets} WHERE {where}
), groups AS (
    SELECT {set_id}key,
           count(*) AS turns,
           count(*) FILTER (WHERE succeeded) AS succeeded,
           count(*) FILTER (WHERE first_time_right) AS first_time_right,
           count(*) FILTER (WHERE retries > 0) AS retried_turns,
           sum(retries) AS retries,
           sum(retry_loops) AS loops,
           sum(gave_up_loops) AS gave_up,
           sum(cost_usd) AS cost_usd,
           sum(retry_cost_usd) AS retry_cost_usd,
           sum({retry_unknown_cost_calls}) AS retry_calls_without_cost,
           sum(duration_ms) AS turn_ms,
           sum(retry_ms) AS retry_ms,
           avg(duration_ms) AS mean_turn_ms,
           quantile_cont(duration_ms, [0.5, 0.95]) AS latency
    FROM turns
    GROUP BY {set_id}key
), attempts AS (
    SELECT {set_id}key, attempts, count(*) AS loops
    FROM (SELECT {set_id}key, unnest(loop_attempts) AS attempts FROM turns)
    GROUP BY ALL
)
SELECT g.*,
       list(a.attempts ORDER BY a.attempts) FILTER (WHERE a.attempts IS NOT NULL) AS attempt_values,
       list(a.loops ORDER BY a.attempts) FILTER (WHERE a.attempts IS NOT NULL) AS attempt_loops
FROM groups g LEFT JOIN attempts a ON a.key IS NOT DISTINCT FROM g.key{and_set}
GROUP BY ALL
