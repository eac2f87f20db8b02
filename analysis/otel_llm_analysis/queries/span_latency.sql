-- Latency percentiles of the spans that are not LLM calls, grouped by {key}: the
-- summary's latency for groups that made no LLM call (graph nodes, vector ops).
SELECT {key} AS key, quantile_cont(duration_ms, [0.5, 0.95, 0.99]) AS latency
FROM spans
WHERE {where} AND NOT coalesce({is_llm_span}, FALSE) AND {key} IS NOT NULL
GROUP BY 1
