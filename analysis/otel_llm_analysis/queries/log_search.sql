-- Log records matching the text/severity/time filters, newest first.
SELECT time, {severity} AS severity_number, severity_text, body, trace_id, span_id, service_name,
       scope_name AS logger
FROM logs
WHERE {where}
ORDER BY time DESC
LIMIT $limit
