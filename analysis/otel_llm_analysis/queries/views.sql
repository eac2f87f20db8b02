-- Convenience views for your own SQL (`otel-llm sql`), with the analyses'
-- definitions: LLM calls are the schema's `llm_calls` view, cost and tokens are
-- summed over them, OTLP status 2 is an error. Installed by `otel-llm ingest`.

-- One row per day, project and model: what the daily charts and budgets read.
CREATE OR REPLACE VIEW daily_usage AS
SELECT
    CAST(start_time AS DATE) AS day,
    project,
    model,
    count(*) AS calls,
    count(*) FILTER (WHERE status_code = 2) AS failed_calls,
    coalesce(sum(input_tokens), 0) AS input_tokens,
    coalesce(sum(output_tokens), 0) AS output_tokens,
    sum(cost_usd) AS cost_usd,
    count(cost_usd) AS priced_calls,
    quantile_cont(duration_ms, 0.95) AS p95_ms
FROM llm_calls
GROUP BY ALL;

-- One row per trace: root, wall time, LLM calls, tokens, cost, errors.
CREATE OR REPLACE VIEW trace_summary AS
SELECT
    trace_id,
    coalesce(arg_min(name, start_time) FILTER (WHERE parent_span_id IS NULL OR parent_span_id = ''),
             arg_min(name, start_time)) AS root_name,
    any_value(project) AS project,
    min(start_time) AS start_time,
    date_diff('microsecond', min(start_time), max(end_time)) / 1000.0 AS duration_ms,
    count(*) AS spans,
    count(*) FILTER (WHERE {is_llm}) AS llm_calls,
    coalesce(sum(coalesce(input_tokens, 0) + coalesce(output_tokens, 0)) FILTER (WHERE {is_llm}), 0)
        AS tokens,
    sum(cost_usd) FILTER (WHERE {is_llm}) AS cost_usd,
    count(*) FILTER (WHERE status_code = 2) AS errors
FROM spans
GROUP BY trace_id;
