-- Time to first token of streamed calls: the first `llm.first_token` event of a
-- span minus the span's start, in milliseconds, grouped by {key}.
WITH first_token AS (
    SELECT trace_id, span_id, min(time) AS first_time
    FROM span_events
    WHERE name = $event
    GROUP BY trace_id, span_id
)
SELECT
    {key} AS key,
    count(*) AS streams,
    quantile_cont(date_diff('microsecond', s.start_time, f.first_time) / 1000.0, [0.5, 0.95]) AS latency
FROM first_token f
JOIN spans s USING (trace_id, span_id)
WHERE {where}
GROUP BY 1
ORDER BY streams DESC
