-- Time to first token of streamed calls, grouped by {key}: ingest stores it per
-- span as `stream_ttft_ms` (first `llm.first_token` event - span start), so no
-- join with span_events is needed.
SELECT
    {key} AS key,
    count(stream_ttft_ms) AS streams,
    quantile_cont(stream_ttft_ms, [0.5, 0.95]) AS latency
FROM spans
WHERE stream_ttft_ms IS NOT NULL AND {where}
GROUP BY 1
ORDER BY streams DESC
