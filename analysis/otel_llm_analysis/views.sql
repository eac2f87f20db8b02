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
--   * A wrapper around exactly one call is that call: tokens, cost and models come
--     from whichever of the two has the better cost_source (sdk > producer >
--     ingest > none; the inner span on a tie), the other fills what is missing;
--     the call failed when either span did; time to first token from either.
--     Its `model` is the model asked for (a request model from either span),
--     else the one that answered, as for a call without a wrapper.
--     A wrapper around several calls (a retry loop) lends them context only.
--   * Timing (start, end, duration) is the inner span's: the call on the wire.
--   * Another producer's call inside otel-llm spans (OpenLLMetry's openai span in a
--     @chat turn, a graph node, an @agent or @tool; no LLM wrapper) takes the app's
--     context from the nearest of them where its own is missing: project,
--     conversation, user, graph node, and the run config and graph name attributes.
--     span_rows.context_span_id names that span (_call_context.py, set at ingest).
-- Parent and child may come from different files or ingest runs: every ingest
-- pairs the spans it read with the stored ones into span_rows.wrapper_span_id /
-- wrapped_calls (_nesting.py), so the rule holds whichever half arrived first. Nearly all
-- calls are not nested: they are read straight from span_rows, and only the
-- few nested ones are joined with their wrapper.
-- llm_calls_of(spans) is the same over the span rows in table `spans` (whole
-- traces: a wrapper is in its call's trace), so the agents' refresh below works
-- out the calls of the traces an ingest touched without reading the store.

-- calls_read_straight(spans): the first of llm_calls_of's three parts, the calls neither wrapped, wrapping
-- nor placed in an otel-llm span's context: nearly every call, read straight from its row.
CREATE OR REPLACE MACRO calls_read_straight(spans) AS TABLE
SELECT * EXCLUDE (wrapped_calls, attr_keys, attr_values, resource_id, source_file),
       map(attr_keys, attr_values) AS attributes, resource_id, attr_keys, attr_values, source_file
FROM query_table(spans)
WHERE otel_kind = '{llm_call}' AND wrapper_span_id IS NULL AND wrapped_calls IS NULL AND context_span_id IS NULL;

-- llm_calls_straight(spans): llm_calls_of(spans) on span rows none of whose LLM spans is nested (the view on
-- such a store: _llm_calls_view.py).
CREATE OR REPLACE MACRO llm_calls_straight(spans) AS TABLE
SELECT * EXCLUDE (resource_id, attr_keys, attr_values, source_file),
       resource_attributes_of(resource_id) AS resource_attributes, attr_keys, attr_values, source_file
FROM calls_read_straight(spans);

CREATE OR REPLACE MACRO llm_calls_of(spans) AS TABLE
SELECT * EXCLUDE (resource_id, attr_keys, attr_values, source_file),
       resource_attributes_of(resource_id) AS resource_attributes, attr_keys, attr_values, source_file
FROM (
SELECT * FROM calls_read_straight(spans)
UNION ALL BY NAME
SELECT * EXCLUDE (single, outer_wins, keys, vals, w_project, w_conversation_id, w_user_id, w_graph_node,
                  w_attr_keys, w_attr_values, w_status_code, w_status_message, w_error_type, w_stream_ttft_ms,
                  w_operation, w_provider, w_model, w_request_model, w_response_model, w_input_tokens,
                  w_output_tokens, w_cache_read_tokens, w_cache_write_tokens, w_reasoning_tokens, w_cost_usd,
                  w_cost_source, w_cost_table, w_finish_reasons, wrapped_calls, attr_keys, attr_values,
                  resource_id, source_file)
    REPLACE (
        -- what was called and what it cost: the winning span first, the other fills gaps
        CASE WHEN outer_wins THEN coalesce(w_operation, operation) WHEN single THEN coalesce(operation, w_operation) ELSE operation END AS operation,
        CASE WHEN outer_wins THEN coalesce(w_provider, provider) WHEN single THEN coalesce(provider, w_provider) ELSE provider END AS provider,
        -- model: the model asked for (either span's request model), else the one that answered, as a
        -- span's own model column: a span's `model` is its response model when it has no request model
        -- (OpenInference's llm.model_name), which must not beat the other span's request model
        CASE WHEN outer_wins THEN coalesce(w_request_model, request_model, w_response_model, response_model)
             WHEN single THEN coalesce(request_model, w_request_model, response_model, w_response_model)
             ELSE model END AS model,
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
    map(keys, vals) AS attributes, resource_id, keys AS attr_keys, vals AS attr_values, source_file
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
    FROM query_table(spans) c
    JOIN query_table(spans) w ON w.trace_id = c.trace_id AND w.span_id = c.wrapper_span_id
    WHERE c.otel_kind = '{llm_call}' AND c.wrapper_span_id IS NOT NULL AND c.wrapped_calls IS NULL
      AND w.wrapped_calls IS NOT NULL
)
UNION ALL BY NAME
SELECT * EXCLUDE (wrapped_calls, attr_keys, attr_values, resource_id, source_file, keys, vals,
                  a_project, a_conversation_id, a_user_id, a_graph_node)
    REPLACE (coalesce(project, a_project) AS project, coalesce(conversation_id, a_conversation_id) AS conversation_id,
             coalesce(user_id, a_user_id) AS user_id, coalesce(graph_node, a_graph_node) AS graph_node),
    map(keys, vals) AS attributes, resource_id, keys AS attr_keys, vals AS attr_values, source_file
FROM (
    -- another producer's call inside an otel-llm span: that span's context where its own is missing, and its
    -- run config and graph name as attributes (_call_context.py; a span of the store, whose span may be gone)
    SELECT c.*, a.project AS a_project, a.conversation_id AS a_conversation_id, a.user_id AS a_user_id,
           a.graph_node AS a_graph_node,
           list_concat(c.attr_keys, coalesce(list_filter(a.attr_keys, lambda k: {context_key} AND NOT list_contains(c.attr_keys, k)), [])) AS keys,
           list_concat(c.attr_values, coalesce(list_filter(a.attr_values, lambda v, i: {context_key_i} AND NOT list_contains(c.attr_keys, a.attr_keys[i])), [])) AS vals
    FROM query_table(spans) c
    LEFT JOIN query_table(spans) a ON a.trace_id = c.trace_id AND a.span_id = c.context_span_id
    WHERE c.otel_kind = '{llm_call}' AND c.context_span_id IS NOT NULL AND c.wrapper_span_id IS NULL
      AND c.wrapped_calls IS NULL
));

-- fitted_calls_of(spans): llm_calls_of(spans) for span rows of this store, fitted with the llm_calls view
-- (_llm_calls_view.py): llm_calls_straight(spans) while no LLM span of the store is nested. Subsets of
-- the store's rows read it (trace_calls_of below: a macro of this file, so a store opened read-only that an
-- older otel-llm set up reads its own); rows not yet stored read llm_calls_of.
CREATE OR REPLACE MACRO fitted_calls_of(spans) AS TABLE SELECT * FROM llm_calls_of(spans);

-- An instrumentation's own failure, not the call's: OpenLIT's openai instrumentation reads an answer's
-- usage with response['usage'].get(...) and, on an answer without usage (an OpenAI-compatible server's
-- usage: null), raises inside itself after the call returned, and marks its span ERROR (error.type
-- AttributeError, no tokens) though the app got its answer. Told by the span's data: an LLM span of an
-- OpenLIT scope with status ERROR, each of whose exception events has its innermost stack frame inside
-- the openlit package (an API error's is in the openai client; the app's own, in the app). One row per
-- such span with OpenLIT's exception; the analyses count these calls as succeeded (with the usage they
-- have: none) and say how many (summaries.SummaryRow.instrumentation_failures).
-- instrumentation_failures_of(spans, events): those of table `spans` (span rows), by the events of
-- table `events` (span_events rows): the view reads the store's, the scopes refresh its own spans and
-- their events (_scope_index._read), so its cost follows the new data, not the store.
CREATE OR REPLACE MACRO instrumentation_failures_of(spans, events) AS TABLE
SELECT s.trace_id, s.span_id, s.scope_name, s.error_type,
       any_value(e.attributes['exception.message']) AS exception_message
FROM query_table(spans) s
JOIN query_table(events) e ON e.trace_id = s.trace_id AND e.span_id = s.span_id AND e.name = 'exception'
WHERE {instrumentation_candidate}  -- (_instrumentation_failures: the rule ClickHouse's views share)
GROUP BY ALL
HAVING bool_and({raised_in_openlit});

CREATE OR REPLACE VIEW instrumentation_failures AS SELECT * FROM instrumentation_failures_of(span_rows, span_events);

-- llm_calls: one row per model call (above). Its definition is fitted to the store (_llm_calls_view.py, run
-- where views are made and in each ingest, before the scopes refresh): llm_calls_straight(span_rows) while
-- no LLM span is nested or may become so (binding the whole definition costs each statement 16 ms on 1M
-- spans; the straight part under 3), and
-- on a store holding an instrumentation's own failure (instrumentation_failures) llm_calls_reinterpreted(),
-- which does not count it as the call's: reading the failures' ids cost every query over llm_calls
-- 10-20 ms on 1M spans (the calls' ids read and the events scanned), paid by every store although
-- almost none holds such a span. A call paired
-- with its wrapper (one call traced twice) is the instrumentation's failure when either span is one:
-- the call's status is the greater of the two.
CREATE OR REPLACE VIEW llm_calls AS SELECT * FROM llm_calls_of(span_rows);

CREATE OR REPLACE MACRO llm_calls_reinterpreted() AS TABLE
SELECT * EXCLUDE (instrumentation_failed)
    REPLACE (CASE WHEN instrumentation_failed THEN 0 ELSE status_code END AS status_code,
             CASE WHEN instrumentation_failed THEN NULL ELSE error_type END AS error_type)
FROM (
    SELECT c.*, CASE WHEN c.status_code = 2 THEN list_has_any(
               (SELECT list(f.trace_id || f.span_id) FROM instrumentation_failures f),
               [c.trace_id || c.span_id, c.trace_id || c.wrapper_span_id])
           ELSE FALSE END AS instrumentation_failed
    FROM llm_calls_of(span_rows) c
);

-- Evaluation results (gen_ai.evaluation.result events) with the span they sit on.
CREATE OR REPLACE VIEW evaluations AS
SELECT e.trace_id, e.span_id, e.time, e.eval_name, e.eval_score, e.eval_label,
       s.project, s.model, s.service_name, s.conversation_id, s.user_id, s.attributes AS span_attributes
FROM span_events e LEFT JOIN spans s USING (trace_id, span_id)
WHERE e.name = '{evaluation_event}';

-- One row per day, project and model (the model asked for) of LLM calls. cost_usd
-- is NULL when no call of the group has a cost (never a made-up 0);
-- estimated_cost_usd is the part priced at ingest; priced_calls the calls it
-- sums, unpriced_calls those with tokens and no cost (_filters.IS_UNPRICED).
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
    quantile_cont(duration_ms, 0.95) AS p95_ms,
    count(*) FILTER (WHERE {is_unpriced}) AS unpriced_calls
FROM llm_calls
GROUP BY ALL;

-- One row per trace: root (the span without a parent, else the earliest), wall
-- time from first start to last end, spans, failed spans (trace_spans), and
-- its LLM calls' count, tokens (input plus output; the total of a call that
-- gave only a total: _filters.TOTAL_ONLY_TOKENS) and cost (trace_calls; cost
-- NULL when none of them has a cost), with the calls the cost sums (priced_calls)
-- and those it leaves out (unpriced_calls: tokens, no price; a trace of
-- unpriced calls is not a free one). top_traces ranks on one half, then reads the ranked
-- traces' rows. Each view is its macro over the whole store; the macros
-- `trace_*_of(spans_in)` give the same rows over the whole traces in table
-- `spans_in` (top_traces reads a few traces' span rows once, then works out
-- their trace_summary rows and their trees from them).
CREATE OR REPLACE MACRO trace_calls_of(spans_in) AS TABLE
SELECT trace_id,
       count(*) AS llm_calls,
       sum(coalesce(input_tokens, 0) + coalesce(output_tokens, 0) + coalesce({total_only_tokens}, 0)) AS tokens,
       sum(cost_usd) AS cost_usd,
       count(cost_usd) AS priced_calls,
       count(*) FILTER (WHERE {is_unpriced}) AS unpriced_calls
FROM fitted_calls_of(spans_in)
GROUP BY trace_id;

CREATE OR REPLACE MACRO trace_spans_of(spans_in) AS TABLE
SELECT trace_id,
       coalesce(arg_min(name, start_time) FILTER (WHERE parent_span_id IS NULL),
                arg_min(name, start_time)) AS root_name,
       any_value(project) AS project,
       min(start_time) AS start_time,
       date_diff('microsecond', min(start_time), max(end_time)) / 1000.0 AS duration_ms,
       count(*) AS spans,
       count(*) FILTER (WHERE status_code = 2) AS errors
FROM query_table(spans_in)
GROUP BY trace_id;

-- The two halves side by side (a union grouped by trace, not a join: a filter on
-- trace_id then reaches both halves' scans).
CREATE OR REPLACE MACRO trace_summary_of(spans_in) AS TABLE
SELECT trace_id,
       any_value(root_name) AS root_name,
       any_value(project) AS project,
       any_value(start_time) AS start_time,
       any_value(duration_ms) AS duration_ms,
       coalesce(any_value(spans), 0) AS spans,
       coalesce(any_value(llm_calls), 0) AS llm_calls,
       coalesce(any_value(tokens), 0) AS tokens,
       any_value(cost_usd) AS cost_usd,
       coalesce(any_value(priced_calls), 0) AS priced_calls,
       coalesce(any_value(unpriced_calls), 0) AS unpriced_calls,
       coalesce(any_value(errors), 0) AS errors
FROM (SELECT * FROM trace_spans_of(spans_in) UNION ALL BY NAME SELECT * FROM trace_calls_of(spans_in))
GROUP BY trace_id;

CREATE OR REPLACE VIEW trace_calls AS SELECT * FROM trace_calls_of(span_rows);
CREATE OR REPLACE VIEW trace_spans AS SELECT * FROM trace_spans_of(span_rows);
CREATE OR REPLACE VIEW trace_summary AS SELECT * FROM trace_summary_of(span_rows);

-- ---------------------------------------------------------------------------
-- Agents, tools and retries: span_scopes, tool_calls, agent_invocations,
-- retry_attempts, retry_loops, turns. Each is also a table macro
-- `<view>_in(since, until)` that returns the rows starting in [since, until)
-- (NULL: open), worked out over their whole traces; the view is the macro over
-- the whole store, the analyses call the macros. The macros named
-- `*_of(table, ...)` take rows already computed (by the name of a table or CTE).
--
-- What a span runs inside is found by walking each trace's tree down from its
-- roots (a span without a parent, or whose parent was never stored):
--   * turn: the nearest enclosing-or-self chat span; in a trace without any chat
--     span that called a model, a tool or an agent (a run of an agent or graph
--     traced by another producer), its root span (the span without a parent)
--     stands for the turn; other traces (indexing jobs) have no turn;
--   * agents: every agent span it runs in, itself included (agent_name: the
--     innermost one's);
--   * graph_node: its own, else the nearest enclosing span's;
--   * tries: every model call, tool call or agent invocation marked
--     otel_llm.attempt it runs in, itself included.
-- A span whose parent chain never reaches a root (ids in a cycle) runs in
-- nothing. Walking and summing in every query cost seconds on a million spans,
-- so it is done at ingest: after each ingest, _scope_index.refresh_scopes
-- works out again the traces that received spans (all of each such trace, so a
-- trace whose spans arrive over several runs, children before parents, ends up
-- as if read at once) with the `*_walk(spans, scopes, calls)` macros below and
-- replaces their rows in the tables span_scope_index, tool_call_rows,
-- retry_attempt_rows, retry_loop_rows, agent_invocation_rows and turn_rows,
-- which the views and `*_in` macros read. Every `*_walk` macro reads the
-- span rows of the traces it works out from table `spans` (r: the rowid, then
-- span_rows' columns), their walk (span_scope_walk) from table `scopes` and
-- their LLM calls (llm_calls_of the same rows) from table `calls`: the whole
-- store, or the rows refresh_scopes picked for the traces an ingest touched.
-- The walk and the helpers marked "by row" work on span_rows' rowid (an integer
-- join is several times faster than one on two ids); span_rows only grows (no
-- row is deleted or moved; refresh_scopes works the whole store out again if
-- its row count below the last refresh's highest rowid ever changes). A join to
-- a turn's span row also states what a turn span is (a chat span or a span
-- without a parent): the planner would otherwise hash every span to find a few
-- turns. Tool and agent names come from any producer's attributes, else from
-- the span name (_producers.ENTITY_NAMES).

-- The traces with a span starting in [since, until), of one of `kinds` (NULL: any).
CREATE OR REPLACE MACRO traces_in(since, until, kinds) AS TABLE
SELECT DISTINCT trace_id FROM span_rows
WHERE (since IS NULL OR start_time >= since) AND (until IS NULL OR start_time < until)
  AND (kinds IS NULL OR list_contains(kinds, otel_kind));

-- How far the tables made by the `*_walk` macros are up to date: span_rows'
-- highest rowid at the last refresh, how many span rows there were then, and a
-- digest of the macros that made them (other definitions: all made again); the
-- same two figures of span_events (events_watermark, events).
CREATE TABLE IF NOT EXISTS span_scope_state (watermark BIGINT, spans BIGINT, definition VARCHAR,
                                             events_watermark BIGINT, events BIGINT);

-- When the spans of each trace worked out so far start (first and last start
-- time; a row per refresh that walked the trace, the latest the widest), by a
-- hash of its trace id: where a refresh finds a trace's stored spans when more
-- of them arrive, and the rows made from them (every such row starts within its
-- trace's span). Traces whose ids share a hash share their periods: wider, so
-- still holding every span (the spans read are then picked by trace id).
CREATE TABLE IF NOT EXISTS span_scope_traces AS
SELECT hash(trace_id) AS trace_hash, start_time AS first_start, start_time AS last_start FROM span_rows LIMIT 0;

-- By row, the walk of the span rows in table `spans` (whole traces): one row
-- per span it reaches (r: its rowid; its kind and status; its attempt number),
-- its scopes (*_r: the rowids of its root, turn, agents - agent_r the innermost
-- - and tries) and, for a try only, its ids and times, what it tries, its tool
-- call id and the retry loop it belongs to (loop_r, is_last: see
-- retry_tries_of). The ids of other spans stay out: the tables made from the
-- walk join it with `spans` and `calls` by rowid, and narrow rows are what make
-- it cheap (every span of the store passes through it on a first ingest).
CREATE OR REPLACE MACRO span_scope_walk(spans) AS TABLE
WITH RECURSIVE own AS NOT MATERIALIZED (  -- inlined: each reader scans only the columns it needs
    SELECT s.r, s.trace_id, s.span_id, s.parent_span_id, s.otel_kind, s.status_code, s.graph_node,
           CASE WHEN s.otel_kind IN ('{llm_call}', '{tool}', '{agent}') THEN TRY_CAST({attempt_s} AS INTEGER) END
               AS attempt,
           CASE WHEN s.otel_kind = '{agent}' THEN {agent_name_s} END AS agent_name,
           -- a call priced after its trace was walked makes the trace walked again
           CASE WHEN s.otel_kind = '{llm_call}' THEN s.cost_source END AS cost_source
    FROM query_table(spans) s
), runs AS (  -- the traces that called a model, a tool or an agent without any chat span
    SELECT trace_id FROM own
    GROUP BY trace_id
    HAVING bool_or(otel_kind IN ('{llm_call}', '{tool}', '{agent}')) AND NOT bool_or(otel_kind = '{chat}')
), picked AS MATERIALIZED (  -- what the walk needs of each span: narrow rows are hashed faster at every level
    SELECT s.r, p.r AS parent_r, s.otel_kind, s.status_code, s.attempt, s.attempt >= 1 AS is_try, s.agent_name,
           s.graph_node, s.cost_source, s.parent_span_id IS NULL AND s.trace_id IN (SELECT trace_id FROM runs) AS run_root
    FROM own s LEFT JOIN own p ON p.trace_id = s.trace_id AND p.span_id = s.parent_span_id
), walk AS (
    SELECT r, 0 AS depth, r AS root_r,
           CASE WHEN otel_kind = '{chat}' OR run_root THEN r END AS turn_r,
           CASE WHEN otel_kind = '{agent}' THEN [r] ELSE []::BIGINT[] END AS agent_rs,
           agent_name, graph_node,
           CASE WHEN is_try THEN [r] ELSE []::BIGINT[] END AS try_rs,
           otel_kind, status_code, attempt, cost_source
    FROM picked
    WHERE parent_r IS NULL
    UNION ALL
    SELECT c.r, w.depth + 1, w.root_r,
           CASE WHEN c.otel_kind = '{chat}' THEN c.r ELSE w.turn_r END,
           CASE WHEN c.otel_kind = '{agent}' THEN list_append(w.agent_rs, c.r) ELSE w.agent_rs END,
           coalesce(c.agent_name, w.agent_name),
           coalesce(c.graph_node, w.graph_node),
           CASE WHEN c.is_try THEN list_append(w.try_rs, c.r) ELSE w.try_rs END,
           c.otel_kind, c.status_code, c.attempt, c.cost_source
    FROM walk w JOIN picked c ON c.parent_r = w.r
    WHERE w.depth < 1000
), tries AS MATERIALIZED (  -- the tries, what each tries and its tool call (tells loops apart)
    SELECT s.r, s.trace_id, s.span_id, s.parent_span_id, s.start_time, s.end_time, s.duration_ms,
           CASE s.otel_kind WHEN '{llm_call}' THEN s.model WHEN '{tool}' THEN {tool_name_s}
                            WHEN '{agent}' THEN {agent_name_s} END AS target,
           CASE WHEN s.otel_kind = '{tool}' THEN {tool_call_id_s} END AS tool_call_id,
           t.attempt
    FROM query_table(spans) s JOIN own t ON t.r = s.r AND t.attempt >= 1
), starts AS (  -- which tries start a retry loop (see retry_tries_of; the tries of one loop share a
               -- parent, so the walk reaches all of them or none)
    SELECT *, CASE WHEN attempt > lag(attempt) OVER loop THEN 0 ELSE 1 END AS starts_loop
    FROM tries
    WINDOW loop AS (PARTITION BY trace_id, parent_span_id, tool_call_id ORDER BY start_time, attempt, span_id)
), loops AS (
    SELECT * EXCLUDE (starts_loop, attempt),
           last_value(CASE WHEN starts_loop = 1 THEN r END IGNORE NULLS) OVER (loop ROWS UNBOUNDED PRECEDING)
               AS loop_r,
           coalesce(lead(starts_loop) OVER loop, 1) = 1 AS is_last
    FROM starts
    WINDOW loop AS (PARTITION BY trace_id, parent_span_id, tool_call_id ORDER BY start_time, attempt, span_id)
)
SELECT w.r, w.otel_kind, w.status_code, w.attempt, w.depth, w.root_r, w.turn_r, w.agent_rs, w.agent_name,
       w.graph_node, w.try_rs, w.cost_source, w.agent_rs[-1] AS agent_r,
       l.trace_id, l.span_id, l.parent_span_id, l.start_time, l.end_time, l.duration_ms, l.target, l.tool_call_id,
       l.loop_r, l.is_last
FROM walk w LEFT JOIN loops l ON l.r = w.r;

-- By row, what span_scopes needs of the walk (span_scope_index keeps it).
CREATE OR REPLACE MACRO span_scope_index_walk(spans, scopes, calls) AS TABLE
SELECT r, depth, root_r, turn_r, agent_r, len(agent_rs) AS agent_depth, agent_name, graph_node,
       try_rs[-1] AS try_r, cost_source
FROM query_table(scopes);

CREATE TABLE IF NOT EXISTS span_scope_index AS
WITH spans AS (SELECT rowid AS r, * FROM span_rows), scopes AS (SELECT * FROM span_scope_walk(spans)),
     call_rows AS (SELECT * FROM llm_calls_of(spans))
SELECT * FROM span_scope_index_walk(spans, scopes, call_rows) LIMIT 0;

CREATE OR REPLACE MACRO span_scopes_in(since, until) AS TABLE
SELECT s.trace_id, s.span_id, x.depth, root.span_id AS root_span_id, turn.span_id AS turn_span_id,
       agent.span_id AS agent_span_id, x.agent_name, x.graph_node, x.agent_depth,
       try.span_id AS attempt_span_id
FROM span_scope_index x
JOIN span_rows s ON s.rowid = x.r
JOIN span_rows root ON root.rowid = x.root_r
LEFT JOIN span_rows turn ON turn.rowid = x.turn_r AND {is_turn_turn}
LEFT JOIN span_rows agent ON agent.rowid = x.agent_r
LEFT JOIN span_rows try ON try.rowid = x.try_r
WHERE (since IS NULL AND until IS NULL) OR s.trace_id IN (SELECT trace_id FROM traces_in(since, until, NULL));

CREATE OR REPLACE VIEW span_scopes AS SELECT * FROM span_scopes_in(NULL, NULL);

-- One row per tool call (span of kind tool), with the agent, graph node and turn
-- it ran in; a tool span without a project (user, conversation) of its own
-- takes its turn's.
CREATE OR REPLACE MACRO tool_calls_walk(spans, scopes, calls) AS TABLE
SELECT s.trace_id, s.span_id, s.parent_span_id,
       {tool_name_s} AS tool_name, {tool_type_s} AS tool_type, {tool_call_id_s} AS tool_call_id,
       TRY_CAST({attempt_s} AS INTEGER) AS attempt,
       s.start_time, s.end_time, s.duration_ms, s.status_code, s.status_message, s.error_type,
       x.agent_name, agent.span_id AS agent_span_id, x.graph_node,
       t.span_id AS turn_span_id, t.duration_ms AS turn_duration_ms,
       coalesce(s.project, t.project) AS project, s.service_name,
       coalesce(s.conversation_id, t.conversation_id) AS conversation_id, coalesce(s.user_id, t.user_id) AS user_id,
       s.attr_keys, s.attr_values
FROM query_table(spans) s
LEFT JOIN query_table(scopes) x ON x.r = s.r
LEFT JOIN query_table(spans) t ON t.r = x.turn_r AND {is_turn_t}
LEFT JOIN query_table(spans) agent ON agent.r = x.agent_r
WHERE s.otel_kind = '{tool}';

CREATE TABLE IF NOT EXISTS tool_call_rows AS
WITH spans AS (SELECT rowid AS r, * FROM span_rows), scopes AS (SELECT * FROM span_scope_walk(spans)),
     call_rows AS (SELECT * FROM llm_calls_of(spans))
SELECT * FROM tool_calls_walk(spans, scopes, call_rows) LIMIT 0;
CREATE OR REPLACE MACRO tool_calls_in(since, until) AS TABLE
SELECT * FROM tool_call_rows WHERE (since IS NULL OR start_time >= since) AND (until IS NULL OR start_time < until);
CREATE OR REPLACE VIEW tool_calls AS SELECT * FROM tool_calls_in(NULL, NULL);

-- By row: each try of a retry loop (a span marked otel_llm.attempt) among the
-- rows of table `scopes` (span_scope_walk). The tries of one loop share a
-- parent (the span running the loop) and, for tools, a tool call id; a new loop
-- starts where the attempt number does not go up (loops run one after another
-- under one parent start again at 1). Loops running at the same time under one
-- parent (threads) are told apart only by tool call ids. loop_r is the loop's
-- first try; is_last marks its final try, whose status is the loop's outcome
-- (span_scope_walk works both out when it walks a trace).
CREATE OR REPLACE MACRO retry_tries_of(scopes) AS TABLE
SELECT r, trace_id, span_id, parent_span_id, otel_kind, target, tool_call_id, attempt, start_time, end_time,
       duration_ms, status_code, loop_r, is_last
FROM query_table(scopes)
WHERE attempt >= 1;

CREATE OR REPLACE MACRO retry_attempts_walk(spans, scopes, calls) AS TABLE
SELECT a.trace_id, a.span_id, a.parent_span_id, a.otel_kind, a.target, a.tool_call_id, a.attempt,
       a.start_time, a.end_time, a.duration_ms, a.status_code, first.span_id AS loop_span_id, a.is_last
FROM retry_tries_of(scopes) a JOIN query_table(spans) first ON first.r = a.loop_r;

CREATE TABLE IF NOT EXISTS retry_attempt_rows AS
WITH spans AS (SELECT rowid AS r, * FROM span_rows), scopes AS (SELECT * FROM span_scope_walk(spans)),
     call_rows AS (SELECT * FROM llm_calls_of(spans))
SELECT * FROM retry_attempts_walk(spans, scopes, call_rows) LIMIT 0;
CREATE OR REPLACE MACRO retry_attempts_in(since, until) AS TABLE
SELECT * FROM retry_attempt_rows WHERE (since IS NULL OR start_time >= since) AND (until IS NULL OR start_time < until);
CREATE OR REPLACE VIEW retry_attempts AS SELECT * FROM retry_attempts_in(NULL, NULL);

-- By row: one row per retry loop of the tries in table `tries` (rows of
-- retry_tries_of) whose scopes are in table `scopes` and LLM calls in table
-- `calls`: its tries, the number of
-- its last attempt, its outcome (succeeded: the last try did not fail; gave_up:
-- it did), its time
-- (first try's start to last try's end; retry_ms: to the last try's start, the
-- time the retries added) and the LLM calls made in its tries (a try that is a
-- call included): cost_usd, and retry_cost_usd the part made in tries before
-- the last, which leaves out retry_unknown_cost_calls: the calls of those tries
-- whose cost is unknown (tokens and no price, or no usage observed:
-- {usage_unobserved}; a call that failed before an answer has nothing to pay).
-- turn_r and agent_rs: the turn and the agents running the loop (a
-- retried agent does not run its own loop).
CREATE OR REPLACE MACRO retry_loops_of(tries, scopes, calls) AS TABLE
WITH calls AS (  -- the LLM calls made in each try
    SELECT x.try_r AS r, count(*) AS llm_calls, sum(c.cost_usd) AS cost_usd,
           count(*) FILTER (WHERE {is_unpriced} OR list_contains(c.attr_keys, '{usage_unobserved}'))
               AS unknown_cost_calls
    FROM (SELECT r, unnest(try_rs) AS try_r FROM query_table(scopes)
          WHERE len(try_rs) > 0 AND otel_kind = '{llm_call}') x
    JOIN query_table(calls) c ON c.r = x.r
    GROUP BY x.try_r
)
SELECT a.loop_r,
       any_value(a.trace_id) AS trace_id,
       any_value(a.parent_span_id) AS parent_span_id,
       arg_min(a.otel_kind, a.start_time) AS otel_kind,
       arg_min(a.target, a.start_time) AS target,
       count(*) AS tries,
       max(a.attempt) FILTER (WHERE a.is_last) AS attempts,
       CASE WHEN bool_or(a.is_last AND a.status_code = 2) THEN '{gave_up}' ELSE '{succeeded}' END AS outcome,
       min(a.start_time) AS start_time,
       max(a.end_time) AS end_time,
       date_diff('microsecond', min(a.start_time), max(a.end_time)) / 1000.0 AS duration_ms,
       date_diff('microsecond', min(a.start_time), max(a.start_time) FILTER (WHERE a.is_last)) / 1000.0 AS retry_ms,
       coalesce(sum(c.llm_calls), 0) AS llm_calls,
       sum(c.cost_usd) AS cost_usd,
       sum(c.cost_usd) FILTER (WHERE NOT a.is_last) AS retry_cost_usd,
       CAST(coalesce(sum(c.unknown_cost_calls) FILTER (WHERE NOT a.is_last), 0) AS BIGINT) AS retry_unknown_cost_calls,
       any_value(x.turn_r) FILTER (WHERE a.r = a.loop_r) AS turn_r,
       any_value(list_filter(x.agent_rs, lambda id: id != a.r)) FILTER (WHERE a.r = a.loop_r) AS agent_rs
FROM query_table(tries) a
LEFT JOIN calls c ON c.r = a.r
LEFT JOIN query_table(scopes) x ON x.r = a.r
GROUP BY a.loop_r;

CREATE OR REPLACE MACRO retry_loops_walk(spans, scopes, calls) AS TABLE
WITH tries AS MATERIALIZED (
    SELECT * FROM retry_tries_of(scopes)
)
SELECT l.trace_id, first.span_id AS loop_span_id, l.parent_span_id, l.otel_kind, l.target, l.tries, l.attempts,
       l.outcome, l.start_time, l.end_time, l.duration_ms, l.retry_ms, l.llm_calls, l.cost_usd, l.retry_cost_usd,
       l.retry_unknown_cost_calls,
       turn.span_id AS turn_span_id, agent.span_id AS agent_span_id
FROM retry_loops_of(tries, scopes, calls) l
JOIN query_table(spans) first ON first.r = l.loop_r
LEFT JOIN query_table(spans) turn ON turn.r = l.turn_r AND {is_turn_turn}
LEFT JOIN query_table(spans) agent ON agent.r = l.agent_rs[-1];

CREATE TABLE IF NOT EXISTS retry_loop_rows AS
WITH spans AS (SELECT rowid AS r, * FROM span_rows), scopes AS (SELECT * FROM span_scope_walk(spans)),
     call_rows AS (SELECT * FROM llm_calls_of(spans))
SELECT * FROM retry_loops_walk(spans, scopes, call_rows) LIMIT 0;
CREATE OR REPLACE MACRO retry_loops_in(since, until) AS TABLE
SELECT * FROM retry_loop_rows WHERE (since IS NULL OR start_time >= since) AND (until IS NULL OR start_time < until);
CREATE OR REPLACE VIEW retry_loops AS SELECT * FROM retry_loops_in(NULL, NULL);

-- One row per agent invocation (span of kind agent), with everything made
-- inside it, nested agents' work included (as the SDK's otel_llm.agent.*
-- roll-ups): LLM calls (each model call once, from llm_calls), tokens, cost
-- (NULL when none of its calls has one; unpriced_calls: those with tokens and no
-- cost; unobserved_calls: those whose usage the SDK could not see,
-- otel_llm.usage.unobserved), tool calls, retry loops and those that gave up. succeeded: it did not fail and no retry loop inside it gave up.
-- same_name_outer_span_id: the nearest invocation around it with its name (a
-- recursive agent; NULL: none), whose figures already hold this one's work.
CREATE OR REPLACE MACRO agent_invocations_walk(spans, scopes, calls) AS TABLE
WITH tries AS MATERIALIZED (
    SELECT * FROM retry_tries_of(scopes)
), inside AS MATERIALIZED (  -- every span inside an agent, once per agent it runs in
    SELECT r, otel_kind, status_code, unnest(agent_rs) AS agent_r
    FROM query_table(scopes) WHERE len(agent_rs) > 0
), calls AS (
    SELECT i.agent_r, count(*) AS llm_calls, count(*) FILTER (WHERE c.status_code = 2) AS failed_calls,
           coalesce(sum(c.input_tokens), 0) AS input_tokens, coalesce(sum(c.output_tokens), 0) AS output_tokens,
           sum(c.cost_usd) AS cost_usd, count(c.cost_usd) AS priced_calls,
           count(*) FILTER (WHERE {is_unpriced}) AS unpriced_calls,
           count(*) FILTER (WHERE list_contains(c.attr_keys, '{usage_unobserved}')) AS unobserved_calls
    FROM inside i JOIN query_table(calls) c ON c.r = i.r
    WHERE i.otel_kind = '{llm_call}'
    GROUP BY i.agent_r
), tools AS (
    SELECT agent_r, count(*) AS tool_calls, count(*) FILTER (WHERE status_code = 2) AS failed_tool_calls
    FROM inside WHERE otel_kind = '{tool}'
    GROUP BY agent_r
), loops AS (
    SELECT agent_r, count(*) AS retry_loops, count(*) FILTER (WHERE outcome = '{gave_up}') AS gave_up_loops
    FROM (SELECT outcome, unnest(agent_rs) AS agent_r FROM retry_loops_of(tries, scopes, calls))
    GROUP BY agent_r
), around AS (  -- the agents around each nested invocation, innermost last, and their names
    SELECT p.r, p.agent_name, p.outer_r, p.i, o.agent_name AS outer_name
    FROM (SELECT r, agent_name, unnest(agent_rs[:len(agent_rs) - 1]) AS outer_r,
                 generate_subscripts(agent_rs[:len(agent_rs) - 1], 1) AS i
          FROM query_table(scopes) WHERE otel_kind = '{agent}' AND len(agent_rs) > 1) p
    JOIN query_table(scopes) o ON o.r = p.outer_r
), same_name AS (  -- the nearest invocation of the same name around a recursive one
    SELECT r, arg_max(outer_r, i) AS outer_r FROM around WHERE outer_name = agent_name GROUP BY r
)
SELECT a.trace_id, a.span_id, a.parent_span_id, {agent_name_a} AS agent_name, {agent_id_a} AS agent_id,
       outer_agent.span_id AS parent_agent_span_id, same_agent.span_id AS same_name_outer_span_id,
       a.start_time, a.end_time, a.duration_ms, a.status_code, a.status_message, a.error_type,
       coalesce(c.llm_calls, 0) AS llm_calls, coalesce(c.failed_calls, 0) AS failed_calls,
       coalesce(c.input_tokens, 0) AS input_tokens, coalesce(c.output_tokens, 0) AS output_tokens,
       c.cost_usd, coalesce(c.priced_calls, 0) AS priced_calls,
       coalesce(c.unpriced_calls, 0) AS unpriced_calls, coalesce(c.unobserved_calls, 0) AS unobserved_calls,
       coalesce(t.tool_calls, 0) AS tool_calls, coalesce(t.failed_tool_calls, 0) AS failed_tool_calls,
       coalesce(l.retry_loops, 0) AS retry_loops, coalesce(l.gave_up_loops, 0) AS gave_up_loops,
       a.status_code IS DISTINCT FROM 2 AND coalesce(l.gave_up_loops, 0) = 0 AS succeeded,
       x.graph_node, u.span_id AS turn_span_id,
       coalesce(a.project, u.project) AS project, a.service_name,
       coalesce(a.conversation_id, u.conversation_id) AS conversation_id, coalesce(a.user_id, u.user_id) AS user_id,
       a.attr_keys, a.attr_values
FROM query_table(spans) a
LEFT JOIN query_table(scopes) x ON x.r = a.r
LEFT JOIN query_table(spans) u ON u.r = x.turn_r AND {is_turn_u}
LEFT JOIN query_table(spans) outer_agent ON outer_agent.r = x.agent_rs[-2]
LEFT JOIN same_name n ON n.r = a.r
LEFT JOIN query_table(spans) same_agent ON same_agent.r = n.outer_r
LEFT JOIN calls c ON c.agent_r = a.r
LEFT JOIN tools t ON t.agent_r = a.r
LEFT JOIN loops l ON l.agent_r = a.r
WHERE a.otel_kind = '{agent}';

CREATE TABLE IF NOT EXISTS agent_invocation_rows AS
WITH spans AS (SELECT rowid AS r, * FROM span_rows), scopes AS (SELECT * FROM span_scope_walk(spans)),
     call_rows AS (SELECT * FROM llm_calls_of(spans))
SELECT * FROM agent_invocations_walk(spans, scopes, call_rows) LIMIT 0;
CREATE OR REPLACE MACRO agent_invocations_in(since, until) AS TABLE
SELECT * FROM agent_invocation_rows WHERE (since IS NULL OR start_time >= since) AND (until IS NULL OR start_time < until);
CREATE OR REPLACE VIEW agent_invocations AS SELECT * FROM agent_invocations_in(NULL, NULL);

-- One row per turn (see above), with what was done inside it: LLM calls,
-- tokens, cost, the model of its first call, tool calls, agent invocations,
-- retries (tries numbered 2 or more), retry loops and those that gave up, the
-- attempts each loop took (loop_attempts, in order) and the highest, and the
-- time and cost the retries added (retry_unknown_cost_calls: the retried calls
-- that cost leaves out, see retry_loops_of).
--   succeeded:        the turn did not fail and no retry loop inside it gave up
--                     (an app that catches a loop's failure still went without its result);
--   first_time_right: it succeeded and nothing in it was retried.
CREATE OR REPLACE MACRO turns_walk(spans, scopes, calls) AS TABLE
WITH tries AS MATERIALIZED (
    SELECT * FROM retry_tries_of(scopes)
), calls AS (
    SELECT x.turn_r, count(*) AS llm_calls, count(*) FILTER (WHERE c.status_code = 2) AS failed_calls,
           coalesce(sum(c.input_tokens), 0) AS input_tokens, coalesce(sum(c.output_tokens), 0) AS output_tokens,
           sum(c.cost_usd) AS cost_usd, count(c.cost_usd) AS priced_calls,
           arg_min(c.model, c.start_time) AS model, arg_min(c.response_model, c.start_time) AS response_model,
           arg_min(c.provider, c.start_time) AS provider
    FROM query_table(calls) c JOIN query_table(scopes) x ON x.r = c.r
    WHERE x.turn_r IS NOT NULL AND x.otel_kind = '{llm_call}'
    GROUP BY x.turn_r
), reached AS (  -- the turns the walk reached: a turn's own span is its own turn
    SELECT r AS turn_r FROM query_table(scopes) WHERE turn_r = r
), inside AS (  -- the tools, agents and retries inside them (none in most turns)
    SELECT turn_r,
           count(*) FILTER (WHERE otel_kind = '{tool}') AS tool_calls,
           count(*) FILTER (WHERE otel_kind = '{tool}' AND status_code = 2) AS failed_tool_calls,
           count(*) FILTER (WHERE otel_kind = '{agent}') AS agent_invocations,
           count(*) FILTER (WHERE attempt >= 2) AS retries
    FROM query_table(scopes)
    WHERE turn_r IS NOT NULL AND (otel_kind IN ('{tool}', '{agent}') OR attempt >= 2)
    GROUP BY turn_r
), loops AS (
    SELECT turn_r, count(*) AS retry_loops, count(*) FILTER (WHERE outcome = '{gave_up}') AS gave_up_loops,
           list(attempts ORDER BY start_time) AS loop_attempts, max(attempts) AS max_attempts,
           sum(retry_ms) AS retry_ms, sum(retry_cost_usd) AS retry_cost_usd,
           CAST(sum(retry_unknown_cost_calls) AS BIGINT) AS retry_unknown_cost_calls
    FROM retry_loops_of(tries, scopes, calls)
    WHERE turn_r IS NOT NULL
    GROUP BY turn_r
)
SELECT t.trace_id, t.span_id, t.name, t.otel_kind = '{chat}' AS is_chat,
       t.start_time, t.end_time, t.duration_ms, t.status_code, t.status_message, t.error_type,
       t.project, t.service_name, t.conversation_id, t.user_id, t.otel_kind, t.graph_node, t.operation, t.db_collection,
       c.model, c.response_model, c.provider,
       coalesce(c.llm_calls, 0) AS llm_calls, coalesce(c.failed_calls, 0) AS failed_calls,
       coalesce(c.input_tokens, 0) AS input_tokens, coalesce(c.output_tokens, 0) AS output_tokens,
       c.cost_usd, coalesce(c.priced_calls, 0) AS priced_calls,
       coalesce(i.tool_calls, 0) AS tool_calls, coalesce(i.failed_tool_calls, 0) AS failed_tool_calls,
       coalesce(i.agent_invocations, 0) AS agent_invocations, coalesce(i.retries, 0) AS retries,
       coalesce(l.retry_loops, 0) AS retry_loops, coalesce(l.gave_up_loops, 0) AS gave_up_loops,
       coalesce(l.loop_attempts, []::INTEGER[]) AS loop_attempts, l.max_attempts,
       coalesce(l.retry_ms, 0.0) AS retry_ms, l.retry_cost_usd,
       coalesce(l.retry_unknown_cost_calls, 0) AS retry_unknown_cost_calls,
       t.status_code IS DISTINCT FROM 2 AND coalesce(l.gave_up_loops, 0) = 0 AS succeeded,
       t.status_code IS DISTINCT FROM 2 AND coalesce(l.gave_up_loops, 0) = 0 AND coalesce(i.retries, 0) = 0 AS first_time_right,
       t.attr_keys, t.attr_values
FROM query_table(spans) t
JOIN reached u ON u.turn_r = t.r
LEFT JOIN inside i ON i.turn_r = u.turn_r
LEFT JOIN calls c ON c.turn_r = u.turn_r
LEFT JOIN loops l ON l.turn_r = u.turn_r
WHERE {is_turn_t};

CREATE TABLE IF NOT EXISTS turn_rows AS
WITH spans AS (SELECT rowid AS r, * FROM span_rows), scopes AS (SELECT * FROM span_scope_walk(spans)),
     call_rows AS (SELECT * FROM llm_calls_of(spans))
SELECT * FROM turns_walk(spans, scopes, call_rows) LIMIT 0;
CREATE OR REPLACE MACRO turns_in(since, until) AS TABLE
SELECT * FROM turn_rows WHERE (since IS NULL OR start_time >= since) AND (until IS NULL OR start_time < until);
CREATE OR REPLACE VIEW turns AS SELECT * FROM turns_in(NULL, NULL);

-- ---------------------------------------------------------------------------
-- Quality: what each evaluation rates, and the turns nobody rated. One row per
-- evaluation (a {evaluation_event} event) of table `events` (its trace_id,
-- span_id, time, eval_name, eval_label and response_id: the {response_id} it
-- names) on a span of table `spans`, and one per chat turn of a trace that
-- called a model (a call with a model in table `calls`): its trace and span,
-- the span's start_time, the evaluation's columns (NULL on a turn's row) and
-- credited_model, the model whose output was rated - never a grader's own call.
-- For an evaluation, in this order:
--   1. the LLM call whose {response_id} the evaluation names;
--   2. the evaluated span itself, when it is an LLM call (or wraps one);
--   3. the span is a turn: the last LLM call that started in it and ended
--      before the evaluation (the turn's answer);
--   4. any other span is an evaluation step (a grader runs its own calls inside
--      it): the last LLM call of the trace that ended before that step started,
--      else the last call that started in it and ended before the evaluation.
-- For a turn: its answer, the last LLM call that started and ended within it.
-- "Last" is by end time; "in" is by time, not by the span tree (a producer's
-- calls need not be the turn's children). queries/quality.sql counts the rows;
-- refresh_scopes keeps them in qa_subject_rows, reading an ingest's new
-- evaluations and the stored ones of the traces it touched (no store scan).
CREATE OR REPLACE MACRO qa_subjects_walk(spans, scopes, calls, events) AS TABLE
WITH calls AS MATERIALIZED (
    SELECT trace_id, span_id, wrapper_span_id, start_time, end_time, model
    FROM query_table(calls)
    WHERE model IS NOT NULL
), evals AS MATERIALIZED (
    SELECT row_number() OVER () AS eid, v.trace_id, v.span_id, v.time, v.eval_name, v.eval_label, v.response_id,
           s.otel_kind = '{chat}' AS on_turn, s.start_time
    FROM query_table(events) v JOIN query_table(spans) s ON s.trace_id = v.trace_id AND s.span_id = v.span_id
), named AS (  -- the calls named by response id (read only in the traces of evaluations that name one)
    SELECT v.eid, arg_max(c.model, c.end_time) AS model
    FROM evals v JOIN query_table(calls) c ON c.trace_id = v.trace_id AND v.response_id IS NOT NULL
    WHERE c.attr_values[list_position(c.attr_keys, '{response_id}')] = v.response_id AND c.model IS NOT NULL
    GROUP BY v.eid
), credited AS (
    SELECT v.eid,
           coalesce(
               arg_max(c.model, c.end_time) FILTER (WHERE v.span_id IN (c.span_id, c.wrapper_span_id)),
               CASE WHEN bool_or(v.on_turn)
                    THEN arg_max(c.model, c.end_time) FILTER (WHERE c.start_time >= v.start_time
                                                                AND c.end_time <= v.time)
                    ELSE coalesce(
                        arg_max(c.model, c.end_time) FILTER (WHERE c.end_time <= v.start_time),
                        arg_max(c.model, c.end_time) FILTER (WHERE c.start_time >= v.start_time
                                                               AND c.end_time <= v.time))
               END) AS model
    FROM evals v JOIN calls c ON c.trace_id = v.trace_id
    GROUP BY v.eid
)
SELECT v.trace_id, v.span_id, v.start_time, TRUE AS is_evaluation, v.time, v.eval_name, v.eval_label, v.response_id,
       coalesce(n.model, c.model) AS credited_model
FROM evals v
LEFT JOIN named n ON n.eid = v.eid
LEFT JOIN credited c ON c.eid = v.eid
UNION ALL
SELECT any_value(s.trace_id), any_value(s.span_id), any_value(s.start_time), FALSE, NULL, NULL, NULL, NULL,
       arg_max(c.model, c.end_time) FILTER (WHERE c.start_time >= s.start_time AND c.end_time <= s.end_time)
FROM query_table(spans) s JOIN calls c ON c.trace_id = s.trace_id
WHERE s.otel_kind = '{chat}'
GROUP BY s.r;

-- The evaluations (as span_events holds them) that qa_subjects_walk reads from table `events`.
CREATE OR REPLACE MACRO qa_evaluations_of(events) AS TABLE
SELECT trace_id, span_id, time, eval_name, eval_label, attributes['{response_id}'] AS response_id
FROM query_table(events)
WHERE name = '{evaluation_event}';

CREATE TABLE IF NOT EXISTS qa_subject_rows AS
WITH spans AS (SELECT rowid AS r, * FROM span_rows), scopes AS (SELECT * FROM span_scope_walk(spans)),
     call_rows AS (SELECT * FROM llm_calls_of(spans)),
     events AS (SELECT * FROM qa_evaluations_of(span_events))
SELECT * FROM qa_subjects_walk(spans, scopes, call_rows, events) LIMIT 0;
CREATE OR REPLACE VIEW qa_subjects AS SELECT * FROM qa_subject_rows;
