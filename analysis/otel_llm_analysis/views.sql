-- The views of otel-llm's analysis store: the definitions every analysis and
-- your own SQL share. Created with the schema in every store (TraceStore runs
-- this file after schema.sql), so `daily_usage` exists whoever ingested.
-- The names in braces come from otel_llm.semconv, and the cost-source ranks from
-- _producers.COST_SOURCES, filled in by store.schema_sql().
--
-- A model call is counted once, whatever the nesting: `@llm_call` around a
-- call that OpenLLMetry, OpenLIT or OpenInference also instruments gives two
-- LLM spans, the peer's inside ours (or ours inside a peer's LangChain span).
-- `llm_calls` has one row per model call:
--   * An LLM span (otel_kind = llm_call) with LLM spans directly inside it is
--     a wrapper, not a call: the calls are the spans inside it.
--   * A call inside a wrapper takes the app's context from the wrapper where its
--     own is missing: project, conversation, user, graph node, and attributes
--     (so run_config.<key> reads the wrapper's otel_llm.run_config.*).
--   * A wrapper around exactly one call is that call: tokens, cost and model come
--     from whichever of the two has the better cost_source (sdk > producer >
--     ingest > none; the inner span on a tie), the other fills what is missing;
--     the call failed when either span did; time to first token from either.
--     A wrapper around several calls (a retry loop) lends them context only.
--   * Timing (start, end, duration) is the inner span's: the call on the wire.
-- Parent and child may come from different files or ingest runs: every ingest
-- derives span_rows.wrapper_span_id / wrapped_calls over the whole store
-- (_nesting.py), so the rule holds whichever half arrived first. Nearly all
-- calls are not nested: they are read straight from span_rows, and only the
-- few nested ones are joined with their wrapper.

CREATE OR REPLACE VIEW llm_calls AS
SELECT * EXCLUDE (wrapped_calls, attr_keys, attr_values, resource_attributes, source_file),
       map(attr_keys, attr_values) AS attributes, resource_attributes, attr_keys, attr_values, source_file
FROM span_rows
WHERE otel_kind = '{llm_call}' AND wrapper_span_id IS NULL AND wrapped_calls IS NULL
UNION ALL BY NAME
SELECT * EXCLUDE (single, outer_wins, keys, vals, w_project, w_conversation_id, w_user_id, w_graph_node,
                  w_attr_keys, w_attr_values, w_status_code, w_status_message, w_error_type, w_stream_ttft_ms,
                  w_operation, w_provider, w_model, w_request_model, w_response_model, w_input_tokens,
                  w_output_tokens, w_cache_read_tokens, w_cache_write_tokens, w_reasoning_tokens, w_cost_usd,
                  w_cost_source, w_cost_table, w_finish_reasons, wrapped_calls, attr_keys, attr_values,
                  resource_attributes, source_file)
    REPLACE (
        -- what was called and what it cost: the winning span first, the other fills gaps
        CASE WHEN outer_wins THEN coalesce(w_operation, operation) WHEN single THEN coalesce(operation, w_operation) ELSE operation END AS operation,
        CASE WHEN outer_wins THEN coalesce(w_provider, provider) WHEN single THEN coalesce(provider, w_provider) ELSE provider END AS provider,
        CASE WHEN outer_wins THEN coalesce(w_model, model) WHEN single THEN coalesce(model, w_model) ELSE model END AS model,
        CASE WHEN outer_wins THEN coalesce(w_request_model, request_model) WHEN single THEN coalesce(request_model, w_request_model) ELSE request_model END AS request_model,
        CASE WHEN outer_wins THEN coalesce(w_response_model, response_model) WHEN single THEN coalesce(response_model, w_response_model) ELSE response_model END AS response_model,
        CASE WHEN outer_wins THEN coalesce(w_input_tokens, input_tokens) WHEN single THEN coalesce(input_tokens, w_input_tokens) ELSE input_tokens END AS input_tokens,
        CASE WHEN outer_wins THEN coalesce(w_output_tokens, output_tokens) WHEN single THEN coalesce(output_tokens, w_output_tokens) ELSE output_tokens END AS output_tokens,
        CASE WHEN outer_wins THEN coalesce(w_cache_read_tokens, cache_read_tokens) WHEN single THEN coalesce(cache_read_tokens, w_cache_read_tokens) ELSE cache_read_tokens END AS cache_read_tokens,
        CASE WHEN outer_wins THEN coalesce(w_cache_write_tokens, cache_write_tokens) WHEN single THEN coalesce(cache_write_tokens, w_cache_write_tokens) ELSE cache_write_tokens END AS cache_write_tokens,
        CASE WHEN outer_wins THEN coalesce(w_reasoning_tokens, reasoning_tokens) WHEN single THEN coalesce(reasoning_tokens, w_reasoning_tokens) ELSE reasoning_tokens END AS reasoning_tokens,
        CASE WHEN outer_wins THEN w_cost_usd ELSE cost_usd END AS cost_usd,
        CASE WHEN outer_wins THEN w_cost_source ELSE cost_source END AS cost_source,
        CASE WHEN outer_wins THEN w_cost_table ELSE cost_table END AS cost_table,
        CASE WHEN outer_wins THEN coalesce(w_finish_reasons, finish_reasons) WHEN single THEN coalesce(finish_reasons, w_finish_reasons) ELSE finish_reasons END AS finish_reasons,
        -- how it went: failed when either span failed
        CASE WHEN single THEN greatest(status_code, w_status_code) ELSE status_code END AS status_code,
        CASE WHEN single THEN coalesce(status_message, w_status_message) ELSE status_message END AS status_message,
        CASE WHEN single THEN coalesce(error_type, w_error_type) ELSE error_type END AS error_type,
        CASE WHEN single THEN coalesce(stream_ttft_ms, w_stream_ttft_ms) ELSE stream_ttft_ms END AS stream_ttft_ms,
        -- the app's context: the call's own, else the wrapper's
        coalesce(project, w_project) AS project,
        coalesce(conversation_id, w_conversation_id) AS conversation_id,
        coalesce(user_id, w_user_id) AS user_id,
        coalesce(graph_node, w_graph_node) AS graph_node
    ),
    map(keys, vals) AS attributes, resource_attributes, keys AS attr_keys, vals AS attr_values, source_file
FROM (
    SELECT c.*,
           w.wrapped_calls = 1 AS single,
           w.wrapped_calls = 1 AND {outer_cost_rank} < {inner_cost_rank} AS outer_wins,
           w.project AS w_project, w.conversation_id AS w_conversation_id, w.user_id AS w_user_id,
           w.graph_node AS w_graph_node, w.attr_keys AS w_attr_keys, w.attr_values AS w_attr_values,
           w.status_code AS w_status_code, w.status_message AS w_status_message, w.error_type AS w_error_type,
           w.stream_ttft_ms AS w_stream_ttft_ms, w.operation AS w_operation, w.provider AS w_provider,
           w.model AS w_model, w.request_model AS w_request_model, w.response_model AS w_response_model,
           w.input_tokens AS w_input_tokens, w.output_tokens AS w_output_tokens,
           w.cache_read_tokens AS w_cache_read_tokens, w.cache_write_tokens AS w_cache_write_tokens,
           w.reasoning_tokens AS w_reasoning_tokens, w.cost_usd AS w_cost_usd, w.cost_source AS w_cost_source,
           w.cost_table AS w_cost_table, w.finish_reasons AS w_finish_reasons,
           list_concat(c.attr_keys, list_filter(w.attr_keys, lambda k: NOT list_contains(c.attr_keys, k))) AS keys,
           list_concat(c.attr_values, list_filter(w.attr_values,
                                                  lambda v, i: NOT list_contains(c.attr_keys, w.attr_keys[i]))) AS vals
    FROM span_rows c
    JOIN span_rows w ON w.trace_id = c.trace_id AND w.span_id = c.wrapper_span_id
    WHERE c.otel_kind = '{llm_call}' AND c.wrapper_span_id IS NOT NULL AND c.wrapped_calls IS NULL
      AND w.wrapped_calls IS NOT NULL
);

-- Evaluation results (gen_ai.evaluation.result events) with the span they sit on.
CREATE OR REPLACE VIEW evaluations AS
SELECT e.trace_id, e.span_id, e.time, e.eval_name, e.eval_score, e.eval_label,
       s.project, s.model, s.service_name, s.conversation_id, s.user_id, s.attributes AS span_attributes
FROM span_events e LEFT JOIN spans s USING (trace_id, span_id)
WHERE e.name = '{evaluation_event}';

-- One row per day, project and model (the model asked for) of LLM calls. cost_usd
-- is NULL when no call of the group has a cost (never a made-up 0);
-- estimated_cost_usd is the part priced at ingest.
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
    sum(cost_usd) FILTER (WHERE cost_source = 'ingest') AS estimated_cost_usd,
    count(cost_usd) AS priced_calls,
    quantile_cont(duration_ms, 0.95) AS p95_ms
FROM llm_calls
GROUP BY ALL;

-- One row per trace: root (the span without a parent, else the earliest), wall
-- time from first start to last end, spans, failed spans (trace_spans), and
-- its LLM calls' count, tokens and cost (trace_calls; cost NULL when none of
-- them has a cost). top_traces ranks on one half, then reads trace_summary.
CREATE OR REPLACE VIEW trace_calls AS
SELECT trace_id,
       count(*) AS llm_calls,
       sum(coalesce(input_tokens, 0) + coalesce(output_tokens, 0)) AS tokens,
       sum(cost_usd) AS cost_usd
FROM llm_calls
GROUP BY trace_id;

CREATE OR REPLACE VIEW trace_spans AS
SELECT trace_id,
       coalesce(arg_min(name, start_time) FILTER (WHERE parent_span_id IS NULL),
                arg_min(name, start_time)) AS root_name,
       any_value(project) AS project,
       min(start_time) AS start_time,
       date_diff('microsecond', min(start_time), max(end_time)) / 1000.0 AS duration_ms,
       count(*) AS spans,
       count(*) FILTER (WHERE status_code = 2) AS errors
FROM span_rows
GROUP BY trace_id;

-- The two halves side by side (a union grouped by trace, not a join: a filter on
-- trace_id then reaches both halves' scans).
CREATE OR REPLACE VIEW trace_summary AS
SELECT trace_id,
       any_value(root_name) AS root_name,
       any_value(project) AS project,
       any_value(start_time) AS start_time,
       any_value(duration_ms) AS duration_ms,
       coalesce(any_value(spans), 0) AS spans,
       coalesce(any_value(llm_calls), 0) AS llm_calls,
       coalesce(any_value(tokens), 0) AS tokens,
       any_value(cost_usd) AS cost_usd,
       coalesce(any_value(errors), 0) AS errors
FROM (SELECT * FROM trace_spans UNION ALL BY NAME SELECT * FROM trace_calls)
GROUP BY trace_id;
