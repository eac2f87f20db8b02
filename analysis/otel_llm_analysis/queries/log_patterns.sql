-- Error messages grouped into patterns: {masked} replaces quoted values, UUIDs,
-- long digit runs, hex ids and numbers by placeholders, so "timeout after 31 s
-- for 'a.txt'" and "timeout after 7 s for 'b.txt'" are one pattern.
SELECT
    {masked} AS pattern,
    count(*) AS count,
    min(time) AS first_seen,
    max(time) AS last_seen,
    max({severity}) AS max_severity,
    arg_min(body, time) AS example,
    arg_min(trace_id, time) FILTER (WHERE trace_id IS NOT NULL AND trace_id <> '') AS example_trace_id
FROM logs
WHERE {where}
GROUP BY 1
ORDER BY count DESC, first_seen
LIMIT $limit
