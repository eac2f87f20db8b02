-- The ranked traces on DuckDB, read once: each trace's trace_summary row (the
-- view's definition, over just these traces' spans) and its spans for the tree
-- (`tree`: one struct per span of the columns traces._TREE_COLUMNS names, by
-- start time). $rows: the rowids of their spans (traces.span_rowids); read by
-- rowid, DuckDB reads only the row groups holding them, not every column of
-- every span, and once for both halves (10 traces in 1M spans: top_traces
-- 131 -> 66 ms, A/B in one process).
WITH picked AS (
    SELECT * FROM span_rows WHERE rowid IN (SELECT unnest($rows))
)
SELECT s.*, p.tree
FROM trace_summary_of(picked) s
JOIN (
    SELECT trace_id,
           list({tree} ORDER BY start_time, span_id) AS tree
    FROM picked
    GROUP BY trace_id
) p USING (trace_id)
