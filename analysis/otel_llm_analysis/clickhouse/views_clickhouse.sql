-- The analysis views on ClickHouse, beside the exporter's tables: the same names,
-- columns and rules as DuckDB's views.sql (read it for what each view means),
-- written for ClickHouse where the DuckDB text does not transpile (UNION BY NAME,
-- EXCLUDE, list lambdas). `spans` itself is generated from the spelling data
-- (_views.spans_view). Names in braces are filled by _views.view_statements.
-- Joins set join_use_nulls = 1, so a missing side is NULL as in DuckDB.

-- span_rows: what DuckDB's views.sql and the shared queries call the base rows.
CREATE OR REPLACE VIEW `{db}`.span_rows AS SELECT * FROM `{db}`.spans;

-- Views named `<view>_in` take the window of DuckDB's `<view>_in(since, until)` macros as
-- parameters: `<view>_in(since = '2026-11-13 00:00:00', until = NULL)` (NULL: open); their
-- rows are those starting in [since, until), worked out over the whole traces they belong to.
-- `<view>` is `<view>_in` with both bounds NULL, the whole store (made by _views.view_statements).

-- The traces with a span starting in [since, until): none when both bounds are NULL (the
-- whole store needs no list of them). Read on the span table's ordering key.
CREATE OR REPLACE VIEW `{db}`.window_traces AS
SELECT DISTINCT trace_id FROM `{db}`.spans
WHERE NOT ({since} IS NULL AND {until} IS NULL) AND start_time >= {from_since} AND start_time < {to_until};

-- The traces whose spans' starts overlap [since, until) (each trace's first and last start,
-- `{trace_times}`): those with a span starting in it, and the few whose spans start only
-- before and after it; none when both bounds are NULL. A view whose rows start in the
-- window may read these: the others' rows start outside it.
CREATE OR REPLACE VIEW `{db}`.window_trace_times AS
SELECT trace_id, min(first_start) AS first, max(last_start) AS last FROM `{db}`.`{trace_times}`
WHERE NOT ({since} IS NULL AND {until} IS NULL)
GROUP BY trace_id
HAVING min(first_start) < {to_until} AND max(last_start) >= {from_since};

-- Every span of the traces of window_trace_times (both bounds NULL: every span): a trace
-- that straddles a bound is read whole, so parents and wrappers resolve as over the whole
-- store. Its spans are read between the first and the last start of those traces, so the
-- read stays on the ordering key: the window's granules and the straddling traces', not
-- the whole store; a window holding every trace reads them without a list of traces.
-- A span that failed in its instrumentation's own code (instrumentation_failures, below;
-- instrumentation_failed) reads as unset, without an error type, as DuckDB's llm_calls reads
-- such a call and its agents and turns tables read such a span (_scope_index): so the calls,
-- turns, agents and retries made from these rows count it succeeded, as the summary does.
CREATE OR REPLACE VIEW `{db}`.window_spans AS
SELECT * REPLACE (if(instrumentation_failed, 0, status_code) AS status_code,
                  if(instrumentation_failed, NULL, error_type) AS error_type)
FROM (
    WITH (SELECT (minIf(first, inside), maxIf(last, inside), countIf(inside) = count())
          FROM (SELECT min(first_start) AS first, max(last_start) AS last,
                       first < {to_until} AND last >= {from_since} AS inside
                FROM `{db}`.`{trace_times}` WHERE NOT ({since} IS NULL AND {until} IS NULL) GROUP BY trace_id)) AS reach
    SELECT *, status_code = 2 AND (trace_id, span_id) IN (SELECT trace_id, span_id
                                                          FROM `{db}`.`{instrumentation_failures}`) AS instrumentation_failed
    FROM `{db}`.spans
    WHERE ({since} IS NULL AND {until} IS NULL)
       OR (start_time >= reach.1 AND start_time <= reach.2
           AND (reach.3 OR trace_id IN (SELECT trace_id FROM `{db}`.window_trace_times({window}))))
);

-- The LLM spans with LLM spans directly inside them (wrappers, views.sql's rule: not calls),
-- with how many (wrapped_calls) and their figures, prefixed w_, for the calls inside them.
-- A join on (trace, parent) over the window's traces: a wrapper is in its calls' trace.
CREATE OR REPLACE VIEW `{db}`.llm_wrappers_in AS
SELECT w.trace_id AS trace_id, w.span_id AS span_id, n.calls AS wrapped_calls, w.project AS w_project,
       w.conversation_id AS w_conversation_id, w.user_id AS w_user_id,
       w.graph_node AS w_graph_node, w.attributes AS w_attributes, w.status_code AS w_status_code,
       w.status_message AS w_status_message, w.error_type AS w_error_type, w.stream_ttft_ms AS w_stream_ttft_ms,
       w.operation AS w_operation, w.provider AS w_provider, w.model AS w_model, w.request_model AS w_request_model,
       w.response_model AS w_response_model, w.input_tokens AS w_input_tokens, w.output_tokens AS w_output_tokens,
       w.cache_read_tokens AS w_cache_read_tokens, w.cache_write_tokens AS w_cache_write_tokens,
       w.reasoning_tokens AS w_reasoning_tokens, w.cost_usd AS w_cost_usd, w.cost_source AS w_cost_source,
       w.cost_table AS w_cost_table, w.finish_reasons AS w_finish_reasons
FROM (SELECT * FROM `{db}`.window_spans({window}) WHERE otel_kind = '{llm_call}') AS w
INNER JOIN (SELECT trace_id, parent_span_id, count() AS calls FROM `{db}`.window_spans({window})
            WHERE otel_kind = '{llm_call}' AND parent_span_id IS NOT NULL
            GROUP BY trace_id, parent_span_id) AS n
    ON n.trace_id = w.trace_id AND n.parent_span_id = w.span_id;

-- Another producer's LLM calls inside otel-llm spans (views.sql's rule: a call of a scope not
-- `{ours}` that neither wraps an LLM span nor sits in one) with the nearest otel-llm span they
-- run in (context_span_id: up through other producers' spans, e.g. LangChain chains) and what
-- llm_calls takes of it: its project, conversation, user and graph node (prefixed a_) and its run
-- config and graph name attributes (a_attributes). DuckDB sets context_span_id at ingest
-- (_call_context.py); here it is walked when read, as span_scope_walk walks (an arrayFold up each
-- trace's parent indexes, at most 1000 spans up, so a parent cycle ends). Only the traces holding
-- both such a call and an otel-llm span are grouped and walked, found in two steps: the traces
-- holding another producer's LLM span under a parent are kept at insert (`{peer_calls}`, filled by a
-- materialized view over the span table), so a store without any reads no span at all (the reads
-- below are guarded by a constant the plan folds); one whose peer spans all sit in LLM spans
-- (otel-llm's @llm_call around OpenLLMetry's span) groups the LLM and otel-llm spans of those traces;
-- neither walks a trace.
CREATE OR REPLACE VIEW `{db}`.llm_call_contexts_in AS
WITH peer_traces AS (  -- another producer's LLM span under a parent (any trace: window_spans keeps the window's)
    SELECT DISTINCT trace_id FROM `{db}`.`{peer_calls}`
), mixed_traces AS (  -- ... whose parent is not an LLM span, beside an otel-llm span
    SELECT trace_id FROM `{db}`.window_spans({window})
    WHERE (SELECT count() FROM `{db}`.`{peer_calls}`) > 0
      AND trace_id IN (SELECT trace_id FROM peer_traces) AND (otel_kind = '{llm_call}' OR scope_name = '{ours}')
    GROUP BY trace_id
    HAVING countIf(scope_name = '{ours}') > 0
       AND NOT hasAll(groupArrayIf(span_id, otel_kind = '{llm_call}'),
                      groupArrayIf(assumeNotNull(parent_span_id), {peer_call}))
)
SELECT trace_id, ids[i] AS span_id, ids[at] AS context_span_id, projects[at] AS a_project,
       conversations[at] AS a_conversation_id, users[at] AS a_user_id, nodes[at] AS a_graph_node,
       lent[at] AS a_attributes
FROM (
    SELECT trace_id, ids, projects, conversations, users, nodes, lent, i,
           arrayFold((at, step) -> if(at = 0 OR ours[at], at, up[at]), range(least(length(ids), 1000)), up[i]) AS at,
           ours
    FROM (
        SELECT trace_id, arrayMap(t -> t.1, rows) AS ids, arrayMap(t -> t.3, rows) AS ours,
               arrayMap(t -> t.4, rows) AS llm, arrayMap(t -> t.5, rows) AS projects,
               arrayMap(t -> t.6, rows) AS conversations, arrayMap(t -> t.7, rows) AS users,
               arrayMap(t -> t.8, rows) AS nodes, arrayMap(t -> t.9, rows) AS lent,
               arrayMap(t -> indexOf(ids, t.2), rows) AS up,
               arrayFilter((p, l) -> l AND p IS NOT NULL, arrayMap(t -> t.2, rows), llm) AS llm_parents,
               -- the calls to place: another producer's, neither in an LLM span nor around one (one
               -- without a stored parent is walked no further: up[i] = 0)
               arrayFilter(j -> llm[j] AND NOT ours[j] AND NOT (up[j] != 0 AND llm[up[j]])
                                AND NOT has(llm_parents, ids[j]), arrayEnumerate(ids)) AS calls
        FROM (SELECT trace_id, groupArray((span_id, parent_span_id, coalesce(scope_name = '{ours}', false),
                                          coalesce(otel_kind = '{llm_call}', false), project, conversation_id, user_id, graph_node,
                                          mapFilter((k, v) -> startsWith(k, '{run_config_prefix}') OR k = '{graph_name}',
                                                    attributes))) AS rows
              FROM `{db}`.window_spans({window})
              WHERE (SELECT count() FROM `{db}`.`{peer_calls}`) > 0 AND trace_id IN (SELECT trace_id FROM mixed_traces)
              GROUP BY trace_id)
    )
    ARRAY JOIN calls AS i
)
WHERE at != 0 AND ours[at];

-- One row per model call of the traces of window_spans: an LLM span
-- that wraps none; inside a wrapper it takes the wrapper's context, and around exactly one
-- call the better-ranked cost; another producer's call in no wrapper takes the context of the
-- otel-llm span it runs in, llm_call_contexts_in (views.sql). A call whose span failed in its
-- instrumentation's own code keeps its unset status: the wrapper's status does not make it a
-- failure, as DuckDB's llm_calls reads it. llm_calls_in: those starting in the window.
CREATE OR REPLACE VIEW `{db}`.window_llm_calls AS
SELECT * EXCEPT (single, outer_wins, instrumentation_failed, trace_id_w, span_id_w, wrapped_calls, w_project,
                 w_conversation_id, w_user_id,
                 w_graph_node, w_attributes, w_status_code, w_status_message, w_error_type, w_stream_ttft_ms,
                 w_operation, w_provider, w_model, w_request_model, w_response_model, w_input_tokens,
                 w_output_tokens, w_cache_read_tokens, w_cache_write_tokens, w_reasoning_tokens, w_cost_usd,
                 w_cost_source, w_cost_table, w_finish_reasons, a_project, a_conversation_id,
                 a_user_id, a_graph_node, a_attributes)
    REPLACE (
        multiIf(outer_wins, coalesce(w_operation, operation), single, coalesce(operation, w_operation), operation) AS operation,
        multiIf(outer_wins, coalesce(w_provider, provider), single, coalesce(provider, w_provider), provider) AS provider,
        -- the model asked for (either span's request model), else the one that answered (views.sql)
        multiIf(outer_wins, coalesce(w_request_model, request_model, w_response_model, response_model),
                single, coalesce(request_model, w_request_model, response_model, w_response_model), model) AS model,
        multiIf(outer_wins, coalesce(w_request_model, request_model), single, coalesce(request_model, w_request_model), request_model) AS request_model,
        multiIf(outer_wins, coalesce(w_response_model, response_model), single, coalesce(response_model, w_response_model), response_model) AS response_model,
        multiIf(outer_wins, coalesce(w_input_tokens, input_tokens), single, coalesce(input_tokens, w_input_tokens), input_tokens) AS input_tokens,
        multiIf(outer_wins, coalesce(w_output_tokens, output_tokens), single, coalesce(output_tokens, w_output_tokens), output_tokens) AS output_tokens,
        multiIf(outer_wins, coalesce(w_cache_read_tokens, cache_read_tokens), single, coalesce(cache_read_tokens, w_cache_read_tokens), cache_read_tokens) AS cache_read_tokens,
        multiIf(outer_wins, coalesce(w_cache_write_tokens, cache_write_tokens), single, coalesce(cache_write_tokens, w_cache_write_tokens), cache_write_tokens) AS cache_write_tokens,
        multiIf(outer_wins, coalesce(w_reasoning_tokens, reasoning_tokens), single, coalesce(reasoning_tokens, w_reasoning_tokens), reasoning_tokens) AS reasoning_tokens,
        if(outer_wins, w_cost_usd, cost_usd) AS cost_usd,
        if(outer_wins, w_cost_source, cost_source) AS cost_source,
        if(outer_wins, w_cost_table, cost_table) AS cost_table,
        multiIf(outer_wins AND notEmpty(w_finish_reasons), w_finish_reasons, single AND empty(finish_reasons), w_finish_reasons, finish_reasons) AS finish_reasons,
        if(single AND NOT instrumentation_failed, greatest(status_code, w_status_code), status_code) AS status_code,
        if(single, coalesce(status_message, w_status_message), status_message) AS status_message,
        if(single AND NOT instrumentation_failed, coalesce(error_type, w_error_type), error_type) AS error_type,
        if(single, coalesce(stream_ttft_ms, w_stream_ttft_ms), stream_ttft_ms) AS stream_ttft_ms,
        -- a call has a wrapper's context (w_) or an otel-llm span's (a_), never both
        coalesce(project, w_project, a_project) AS project,
        coalesce(conversation_id, w_conversation_id, a_conversation_id) AS conversation_id,
        coalesce(user_id, w_user_id, a_user_id) AS user_id,
        coalesce(graph_node, w_graph_node, a_graph_node) AS graph_node,
        mapUpdate(mapUpdate(a_attributes, w_attributes), attributes) AS attributes,
        mapKeys(mapUpdate(mapUpdate(a_attributes, w_attributes), attributes)) AS attr_keys,
        mapValues(mapUpdate(mapUpdate(a_attributes, w_attributes), attributes)) AS attr_values
    ),
    span_id_w AS wrapper_span_id
FROM (
    SELECT c.*, w.trace_id AS trace_id_w, w.span_id AS span_id_w, w.* EXCEPT (trace_id, span_id),
           coalesce(w.wrapped_calls = 1, false) AS single,
           coalesce(w.wrapped_calls = 1 AND {outer_cost_rank} < {inner_cost_rank}, false) AS outer_wins
    FROM (SELECT s.*, x.context_span_id AS context_span_id, x.a_project AS a_project,
                 x.a_conversation_id AS a_conversation_id, x.a_user_id AS a_user_id, x.a_graph_node AS a_graph_node,
                 x.a_attributes AS a_attributes
          FROM (SELECT * FROM `{db}`.window_spans({window})
                WHERE otel_kind = '{llm_call}'
                  AND (trace_id, span_id) NOT IN (SELECT trace_id, assumeNotNull(parent_span_id)
                                                  FROM `{db}`.window_spans({window})
                                                  WHERE otel_kind = '{llm_call}' AND parent_span_id IS NOT NULL)) AS s
          LEFT JOIN `{db}`.llm_call_contexts_in({window}) AS x ON x.trace_id = s.trace_id AND x.span_id = s.span_id
          SETTINGS join_use_nulls = 1) AS c
    LEFT JOIN `{db}`.llm_wrappers_in({window}) AS w ON w.trace_id = c.trace_id AND w.span_id = c.parent_span_id
    SETTINGS join_use_nulls = 1
);

-- llm_calls_in: a call whose span failed in its instrumentation's own code (instrumentation_failures, below)
-- counts as succeeded (window_spans), as DuckDB's llm_calls counts it (views.sql).
CREATE OR REPLACE VIEW `{db}`.llm_calls_in AS
SELECT * FROM `{db}`.window_llm_calls({window}) WHERE start_time >= {from_since} AND start_time < {to_until};

-- An instrumentation's own failure, not the call's (views.sql: the rule, _instrumentation_failures): one row
-- per span, from the table a materialized view fills at insert (_span_table), where the span's events are read.
CREATE OR REPLACE VIEW `{db}`.instrumentation_failures AS
SELECT trace_id, span_id, any(scope_name) AS scope_name, any(error_type) AS error_type,
       any(exception_message) AS exception_message
FROM `{db}`.`{instrumentation_failures}`
GROUP BY trace_id, span_id;

CREATE OR REPLACE VIEW `{db}`.span_events AS
SELECT TraceId AS trace_id, SpanId AS span_id, toTimeZone(e.1, 'UTC') AS time, toString(e.2) AS name, e.3 AS attributes,
       multiIf(mapContains(e.3, '{eval_name}'), e.3['{eval_name}'], NULL) AS eval_name,
       {event_eval_score} AS eval_score,
       multiIf(mapContains(e.3, '{eval_label}'), e.3['{eval_label}'], NULL) AS eval_label
FROM `{db}`.`{traces}`
ARRAY JOIN arrayZip(`Events.Timestamp`, `Events.Name`, `Events.Attributes`) AS e;

CREATE OR REPLACE VIEW `{db}`.evaluations AS
SELECT e.trace_id AS trace_id, e.span_id AS span_id, e.time AS time, e.eval_name AS eval_name,
       e.eval_score AS eval_score, e.eval_label AS eval_label, s.project AS project, s.model AS model,
       s.service_name AS service_name, s.conversation_id AS conversation_id, s.user_id AS user_id,
       s.attributes AS span_attributes
FROM `{db}`.span_events AS e LEFT JOIN `{db}`.spans AS s ON s.trace_id = e.trace_id AND s.span_id = e.span_id
WHERE e.name = '{evaluation_event}'
SETTINGS join_use_nulls = 1;

CREATE OR REPLACE VIEW `{db}`.logs AS
SELECT toTimeZone(Timestamp, 'UTC') AS time, nullIf(toInt32(SeverityNumber), 0) AS severity_number,
       nullIf(SeverityText, '') AS severity_text, Body AS body, nullIf(TraceId, '') AS trace_id,
       nullIf(SpanId, '') AS span_id, {resource_service} AS service_name, LogAttributes AS attributes,
       ResourceAttributes AS resource_attributes, nullIf(EventName, '') AS event_name,
       nullIf(ScopeName, '') AS scope_name, nullIf(ScopeVersion, '') AS scope_version
FROM {logs};

-- metric_points: made by _views.metric_points_view (one part per metric table the database holds).

CREATE OR REPLACE VIEW `{db}`.daily_usage AS
SELECT toDate(t) AS day, project, model, count() AS calls, countIf(status_code = 2) AS failed_calls,
       coalesce(sum(toInt128(input_tokens)), 0) AS input_tokens, coalesce(sum(toInt128(output_tokens)), 0) AS output_tokens,
       sortedSum(cost) AS cost_usd, sortedSumIf(cost, cost_source = 'ingest') AS estimated_cost_usd,
       count(cost) AS priced_calls, {p95_duration} AS p95_ms,
       countIf(unpriced) AS unpriced_calls
FROM (SELECT start_time AS t, project, model, status_code, input_tokens, output_tokens, cost_usd AS cost,
             cost_source, duration_ms, {is_unpriced} AS unpriced FROM `{db}`.llm_calls)
GROUP BY day, project, model;

CREATE OR REPLACE VIEW `{db}`.trace_calls AS
SELECT trace_id, count() AS llm_calls,
       sum(toInt128(coalesce(input_tokens, 0) + coalesce(output_tokens, 0) + coalesce(total_only, 0))) AS tokens,
       sortedSum(cost) AS cost_usd, count(cost) AS priced_calls, countIf(unpriced) AS unpriced_calls
FROM (SELECT trace_id, input_tokens, output_tokens, {total_only_tokens} AS total_only, cost_usd AS cost,
             {is_unpriced} AS unpriced
      FROM `{db}`.llm_calls)
GROUP BY trace_id;

CREATE OR REPLACE VIEW `{db}`.trace_spans AS
SELECT trace_id,
       -- OrNull: a trace without a root span (parents in a cycle) is named by its first span, as on DuckDB
       coalesce(argMinIfOrNull(name, t, parent_span_id IS NULL), argMin(name, t)) AS root_name,
       any(project) AS project, min(t) AS start_time,
       dateDiff('microsecond', min(t), max(e)) / 1000.0 AS duration_ms,
       count() AS spans, countIf(status_code = 2) AS errors
FROM (SELECT trace_id, name, parent_span_id, project, start_time AS t, end_time AS e, status_code
      FROM `{db}`.spans)
GROUP BY trace_id;

CREATE OR REPLACE VIEW `{db}`.trace_summary AS
SELECT s.trace_id AS trace_id, s.root_name AS root_name, s.project AS project, s.start_time AS start_time,
       s.duration_ms AS duration_ms, s.spans AS spans, coalesce(c.llm_calls, 0) AS llm_calls,
       coalesce(c.tokens, 0) AS tokens, c.cost_usd AS cost_usd, coalesce(c.priced_calls, 0) AS priced_calls,
       coalesce(c.unpriced_calls, 0) AS unpriced_calls, s.errors AS errors
FROM `{db}`.trace_spans AS s LEFT JOIN `{db}`.trace_calls AS c ON c.trace_id = s.trace_id
SETTINGS join_use_nulls = 1
