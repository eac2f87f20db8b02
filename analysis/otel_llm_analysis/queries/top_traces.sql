-- Traces (those with a span matching the filters) ranked by {order}: their LLM
-- calls' cost (`trace_calls`) or wall time from first span start to last span
-- end (`trace_spans`). traces.py then reads the ranked traces' rows from
-- `trace_summary`, so a trace's figures are the same here and in your own SQL.
SELECT trace_id
FROM {ranking}
WHERE {candidates}
ORDER BY {measure} DESC NULLS LAST, trace_id
LIMIT $top
