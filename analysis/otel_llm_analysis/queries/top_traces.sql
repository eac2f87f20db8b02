-- Traces with a span matching {where}, ranked by {order} (their LLM calls' cost,
-- or wall time from first span start to last span end): the `trace_summary`
-- view's rows, so a trace's figures are the same here and in your own SQL.
SELECT t.*
FROM trace_summary t
WHERE t.trace_id IN (SELECT trace_id FROM spans WHERE {where})
ORDER BY {measure} DESC NULLS LAST, t.trace_id
LIMIT $top
