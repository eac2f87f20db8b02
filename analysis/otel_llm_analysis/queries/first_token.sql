-- Time to first token of streamed LLM calls, grouped by {key}: ingest stores it
-- per span as `stream_ttft_ms` (first first-token event - span start), so no
-- join with span_events is needed; `llm_calls` counts a call two producers
-- traced once.
SELECT
    {key} AS key,
    count(stream_ttft_ms) AS streams,
    quantile_cont(stream_ttft_ms, [0.5, 0.95]) AS latency
FROM llm_calls
WHERE stream_ttft_ms IS NOT NULL AND {where}
GROUP BY 1
ORDER BY streams DESC
