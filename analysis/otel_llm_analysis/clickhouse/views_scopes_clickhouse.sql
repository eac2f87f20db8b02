-- Agents, tools and retries on ClickHouse: span_scope_walk, span_scopes, tool_calls,
-- retry_attempts, retry_loops, agent_invocations, turns - the same names, columns and
-- rules as DuckDB's views.sql (read it for what each means). DuckDB works the walk
-- out at ingest and keeps it in tables; here rows arrive from the collector's
-- exporter with no ingest step, so the walk is a query (one pass grouped by trace)
-- run when an analysis reads these views. Spans are keyed by (trace_id,
-- span_id) where DuckDB uses span_rows' rowid. Each view is a view with parameters,
-- `<view>_in(since = …, until = …)`, as views_clickhouse.sql's llm_calls_in: the rows
-- starting in the window, worked out over the traces whose spans' starts overlap it
-- (window_spans: read whole, also the spans outside the window), so a window's
-- query walks its traces, not the whole store; `<view>` is the whole store. The
-- analyses' `<view>_in(since, until)` calls become these through _scope_views.windowed.
-- Names in braces are filled by _scope_views.statements: semconv names, and the
-- tool / agent name and attempt expressions of _scopes.view_parameters (DuckDB SQL,
-- transpiled by _dialect). Joins set join_use_nulls = 1 (a missing side is NULL, as
-- in DuckDB); an array index out of range is guarded (ClickHouse answers '' there).

-- What the walk reads of each span: a narrow row of the span table's stored columns.
CREATE OR REPLACE VIEW `{db}`.span_tree_in AS
SELECT trace_id, span_id, parent_span_id, attributes, name, otel_kind, graph_node,
       otel_kind IN ('{llm_call}', '{tool}', '{agent}') AND coalesce({attempt_int} >= 1, false) AS is_try,
       if(otel_kind = '{agent}', {agent_name}, NULL) AS agent_name
FROM `{db}`.window_spans({window});

-- One row per span whose parent chain reaches a root (a span without a parent, or
-- whose parent was never stored): its root, turn, agents (innermost last), agent
-- name, graph node and tries (innermost last), and for a try its retry loop
-- (loop_id: the loop's first try; is_last: its final try).
CREATE OR REPLACE VIEW `{db}`.span_scope_walk_in AS
WITH own AS MATERIALIZED (
    SELECT s.trace_id AS trace_id, s.span_id AS span_id, s.parent_span_id AS parent_span_id,
           s.otel_kind AS otel_kind, s.status_code AS status_code, s.start_time AS start_time,
           s.end_time AS end_time, s.duration_ms AS duration_ms, s.graph_node AS graph_node,
           if(s.otel_kind IN ('{llm_call}', '{tool}', '{agent}'), {attempt_int_s}, NULL) AS attempt,
           if(s.otel_kind = '{agent}', {agent_name_s}, NULL) AS agent_name,
           if(mapContains(s.attributes, '{attempt}'),
              multiIf(s.otel_kind = '{llm_call}', s.model, s.otel_kind = '{tool}', {tool_name_s},
                      s.otel_kind = '{agent}', {agent_name_s}, NULL), NULL) AS target,
           if(s.otel_kind = '{tool}', {tool_call_id_s}, NULL) AS tool_call_id
    FROM `{db}`.window_spans({window}) AS s
), starts AS (  -- the tries, and which of them start a retry loop (views.sql: retry_tries_of)
    SELECT trace_id, span_id,
           if(attempt > lagInFrame(attempt) OVER loop, 0, 1) AS starts_loop
    FROM own
    WHERE attempt >= 1
    WINDOW loop AS (PARTITION BY trace_id, parent_span_id, tool_call_id ORDER BY start_time, attempt, span_id
                    ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
), loops AS (
    SELECT trace_id, span_id,
           last_value(if(starts_loop = 1, span_id, NULL)) OVER (PARTITION BY trace_id, parent_span_id, tool_call_id
               ORDER BY start_time, attempt, span_id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS loop_id,
           leadInFrame(starts_loop, 1, 1) OVER (PARTITION BY trace_id, parent_span_id, tool_call_id
               ORDER BY start_time, attempt, span_id ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) = 1
               AS is_last
    FROM (SELECT o.*, st.starts_loop AS starts_loop FROM own AS o
          INNER JOIN starts AS st ON st.trace_id = o.trace_id AND st.span_id = o.span_id)
)
SELECT o.trace_id AS trace_id, o.span_id AS span_id, o.parent_span_id AS parent_span_id, o.otel_kind AS otel_kind,
       o.status_code AS status_code, o.start_time AS start_time, o.end_time AS end_time,
       o.duration_ms AS duration_ms, o.attempt AS attempt, o.target AS target, o.tool_call_id AS tool_call_id,
       w.depth AS depth, w.root_id AS root_id, w.turn_id AS turn_id, w.agent_ids AS agent_ids,
       w.agent_names AS agent_names,
       w.agent_name AS agent_name, w.graph_node AS graph_node, w.try_ids AS try_ids,
       if(empty(w.agent_ids), NULL, w.agent_ids[-1]) AS agent_id,
       l.loop_id AS loop_id, l.is_last AS is_last
FROM (  -- each span's chain up to its trace's root (span indexes in the trace's arrays), and what lies on it
    SELECT trace_id, ids[i] AS span_id, toUInt32(length(chain) - 1) AS depth, ids[chain[-1]] AS root_id,
           multiIf(has(arrayMap(j -> kinds[j] = '{chat}', chain), true),
                   ids[arrayFirst(j -> kinds[j] = '{chat}', chain)],
                   run AND parents[chain[-1]] IS NULL, ids[chain[-1]], NULL) AS turn_id,
           arrayReverse(arrayMap(j -> ids[j], arrayFilter(j -> kinds[j] = '{agent}', chain))) AS agent_ids,
           arrayReverse(arrayMap(j -> names[j], arrayFilter(j -> kinds[j] = '{agent}', chain))) AS agent_names,
           if(has(arrayMap(j -> names[j] IS NOT NULL, chain), true),
              names[arrayFirst(j -> names[j] IS NOT NULL, chain)], NULL) AS agent_name,
           if(has(arrayMap(j -> nodes[j] IS NOT NULL, chain), true),
              nodes[arrayFirst(j -> nodes[j] IS NOT NULL, chain)], NULL) AS graph_node,
           arrayReverse(arrayMap(j -> ids[j], arrayFilter(j -> tries[j], chain))) AS try_ids
    FROM (
        SELECT trace_id, ids, parents, kinds, tries, names, nodes, run, i,
               -- up from span i while the parent is stored; a chain longer than the trace is a cycle
               arrayFold((chain, step) -> if(up[chain[-1]] = 0 OR length(chain) > length(ids), chain,
                                             arrayPushBack(chain, up[chain[-1]])),
                         range(least(length(ids), 1001)), [toUInt64(i)]) AS chain,
               up
        FROM (
            SELECT trace_id, arrayMap(t -> t.1, rows) AS ids, arrayMap(t -> t.2, rows) AS parents,
                   arrayMap(t -> t.3, rows) AS kinds, arrayMap(t -> t.4, rows) AS tries,
                   arrayMap(t -> t.5, rows) AS names, arrayMap(t -> t.6, rows) AS nodes,
                   arrayMap(p -> indexOf(ids, p), parents) AS up,
                   -- a trace that called a model, a tool or an agent without any chat span: its root is the turn
                   hasAny(kinds, ['{llm_call}', '{tool}', '{agent}']) AND NOT has(kinds, '{chat}') AS run
            FROM (SELECT trace_id, groupArray((span_id, parent_span_id, otel_kind, is_try, agent_name, graph_node))
                               AS rows
                  FROM `{db}`.span_tree_in({window}) GROUP BY trace_id)
        )
        ARRAY JOIN arrayEnumerate(ids) AS i
    )
    WHERE up[chain[-1]] = 0  -- the chain reached a root: a span in a parent cycle runs in nothing
) AS w
INNER JOIN own AS o ON o.trace_id = w.trace_id AND o.span_id = w.span_id
LEFT JOIN loops AS l ON l.trace_id = w.trace_id AND l.span_id = w.span_id
SETTINGS join_use_nulls = 1;

-- Every span of the traces with a span starting in the window (views.sql's span_scopes_in).
CREATE OR REPLACE VIEW `{db}`.span_scopes_in AS
SELECT trace_id, span_id, depth, root_id AS root_span_id, turn_id AS turn_span_id, agent_id AS agent_span_id,
       agent_name, graph_node, length(agent_ids) AS agent_depth,
       if(empty(try_ids), NULL, try_ids[-1]) AS attempt_span_id
FROM `{db}`.span_scope_walk_in({window})
WHERE ({since} IS NULL AND {until} IS NULL) OR trace_id IN (SELECT trace_id FROM `{db}`.window_traces({window}));

CREATE OR REPLACE VIEW `{db}`.tool_calls_in AS
SELECT s.trace_id AS trace_id, s.span_id AS span_id, s.parent_span_id AS parent_span_id,
       {tool_name_s} AS tool_name, {tool_type_s} AS tool_type, {tool_call_id_s} AS tool_call_id,
       {attempt_int_s} AS attempt,
       s.start_time AS start_time, s.end_time AS end_time, s.duration_ms AS duration_ms,
       s.status_code AS status_code, s.status_message AS status_message, s.error_type AS error_type,
       x.agent_name AS agent_name, x.agent_id AS agent_span_id, x.graph_node AS graph_node,
       t.span_id AS turn_span_id, t.duration_ms AS turn_duration_ms,
       coalesce(s.project, t.project) AS project, s.service_name AS service_name,
       coalesce(s.conversation_id, t.conversation_id) AS conversation_id, coalesce(s.user_id, t.user_id) AS user_id,
       s.attributes AS attributes, s.attr_keys AS attr_keys, s.attr_values AS attr_values
FROM `{db}`.window_spans({window}) AS s
LEFT JOIN `{db}`.span_scope_walk_in({window}) AS x ON x.trace_id = s.trace_id AND x.span_id = s.span_id
LEFT JOIN `{db}`.window_spans({window}) AS t ON t.trace_id = x.trace_id AND t.span_id = x.turn_id
WHERE s.otel_kind = '{tool}' AND s.start_time >= {from_since} AND s.start_time < {to_until}
SETTINGS join_use_nulls = 1;

CREATE OR REPLACE VIEW `{db}`.retry_attempts_in AS
SELECT trace_id, span_id, parent_span_id, otel_kind, target, tool_call_id, attempt, start_time, end_time,
       duration_ms, status_code, loop_id AS loop_span_id, is_last
FROM `{db}`.span_scope_walk_in({window})
WHERE attempt >= 1 AND start_time >= {from_since} AND start_time < {to_until};

-- One row per retry loop (views.sql: retry_loops_of), with the turn and the agents running it.
CREATE OR REPLACE VIEW `{db}`.retry_loop_scopes_in AS
WITH walk AS MATERIALIZED (
    SELECT * FROM `{db}`.span_scope_walk_in({window}) WHERE notEmpty(try_ids)
), calls AS (  -- the LLM calls made in each try
    SELECT x.trace_id AS trace_id, x.try_id AS try_id, count() AS llm_calls, sortedSum(c.cost_usd) AS cost_usd,
           countIf(c.unknown_cost) AS unknown_cost_calls
    FROM (SELECT trace_id, span_id, arrayJoin(try_ids) AS try_id FROM walk WHERE otel_kind = '{llm_call}') AS x
    INNER JOIN (SELECT *, {is_unpriced} OR mapContains(attributes, '{usage_unobserved}') AS unknown_cost
                FROM `{db}`.window_llm_calls({window})) AS c ON c.trace_id = x.trace_id AND c.span_id = x.span_id
    GROUP BY x.trace_id, x.try_id
)
SELECT a.trace_id AS trace_id, a.loop_id AS loop_span_id,
       any(a.parent_span_id) AS parent_span_id,
       argMin(a.otel_kind, a.start_time) AS otel_kind,
       argMin(a.target, a.start_time) AS target,
       count() AS tries,
       maxIf(a.attempt, a.is_last) AS attempts,
       if(max(a.is_last AND a.status_code = 2), '{gave_up}', '{succeeded}') AS outcome,
       min(a.start_time) AS start_time,
       max(a.end_time) AS end_time,
       dateDiff('microsecond', min(a.start_time), max(a.end_time)) / 1000.0 AS duration_ms,
       dateDiff('microsecond', min(a.start_time), maxIf(a.start_time, a.is_last)) / 1000.0 AS retry_ms,
       coalesce(sum(c.llm_calls), 0) AS llm_calls,
       sortedSum(c.cost_usd) AS cost_usd,
       sortedSumIf(c.cost_usd, NOT a.is_last) AS retry_cost_usd,
       toInt64(coalesce(sumIf(c.unknown_cost_calls, NOT a.is_last), 0)) AS retry_unknown_cost_calls,
       anyIf(a.turn_id, a.span_id = a.loop_id) AS turn_span_id,
       anyIf(arrayFilter(id -> id != a.span_id, a.agent_ids), a.span_id = a.loop_id) AS agent_ids
FROM (SELECT * FROM walk WHERE attempt >= 1) AS a
LEFT JOIN calls AS c ON c.trace_id = a.trace_id AND c.try_id = a.span_id
GROUP BY a.trace_id, a.loop_id
SETTINGS join_use_nulls = 1;

CREATE OR REPLACE VIEW `{db}`.retry_loops_in AS
SELECT trace_id, loop_span_id, parent_span_id, otel_kind, target, tries, attempts, outcome, start_time, end_time,
       duration_ms, retry_ms, llm_calls, cost_usd, retry_cost_usd, retry_unknown_cost_calls, turn_span_id,
       if(empty(agent_ids), NULL, agent_ids[-1]) AS agent_span_id
FROM `{db}`.retry_loop_scopes_in({window})
WHERE start_time >= {from_since} AND start_time < {to_until};

CREATE OR REPLACE VIEW `{db}`.agent_invocations_in AS
WITH walk AS MATERIALIZED (
    SELECT * FROM `{db}`.span_scope_walk_in({window}) WHERE notEmpty(agent_ids)
), inside AS (  -- every span inside an agent, once per agent it runs in
    SELECT trace_id, span_id, otel_kind, status_code, arrayJoin(agent_ids) AS agent_id FROM walk
), calls AS (
    SELECT i.trace_id AS trace_id, i.agent_id AS agent_id, count() AS llm_calls,
           countIf(c.status_code = 2) AS failed_calls,
           coalesce(sum(toInt128(c.input_tokens)), 0) AS input_tokens, coalesce(sum(toInt128(c.output_tokens)), 0) AS output_tokens,
           sortedSum(c.cost_usd) AS cost_usd, count(c.cost_usd) AS priced_calls,
           countIf(c.unpriced) AS unpriced_calls, countIf(c.unobserved) AS unobserved_calls
    FROM inside AS i
    INNER JOIN (SELECT *, {is_unpriced} AS unpriced, mapContains(attributes, '{usage_unobserved}') AS unobserved
                FROM `{db}`.window_llm_calls({window})) AS c
        ON c.trace_id = i.trace_id AND c.span_id = i.span_id
    WHERE i.otel_kind = '{llm_call}'
    GROUP BY i.trace_id, i.agent_id
), tools AS (
    SELECT trace_id, agent_id, count() AS tool_calls, countIf(status_code = 2) AS failed_tool_calls
    FROM inside WHERE otel_kind = '{tool}'
    GROUP BY trace_id, agent_id
), loops AS (
    SELECT trace_id, agent_id, count() AS retry_loops, countIf(outcome = '{gave_up}') AS gave_up_loops
    FROM (SELECT trace_id, outcome, arrayJoin(agent_ids) AS agent_id FROM `{db}`.retry_loop_scopes_in({window}))
    GROUP BY trace_id, agent_id
)
SELECT a.trace_id AS trace_id, a.span_id AS span_id, a.parent_span_id AS parent_span_id,
       {agent_name_a} AS agent_name, {agent_id_a} AS agent_id,
       if(length(x.agent_ids) >= 2, x.agent_ids[-2], NULL) AS parent_agent_span_id,
       -- the innermost agent around it with its name (views.sql: same_name_outer_span_id)
       if(arrayExists(n -> n = x.agent_names[-1], arrayPopBack(x.agent_names)),
          arrayPopBack(x.agent_ids)[arrayLastIndex(n -> n = x.agent_names[-1], arrayPopBack(x.agent_names))],
          NULL) AS same_name_outer_span_id,
       a.start_time AS start_time, a.end_time AS end_time, a.duration_ms AS duration_ms,
       a.status_code AS status_code, a.status_message AS status_message, a.error_type AS error_type,
       coalesce(c.llm_calls, 0) AS llm_calls, coalesce(c.failed_calls, 0) AS failed_calls,
       coalesce(c.input_tokens, 0) AS input_tokens, coalesce(c.output_tokens, 0) AS output_tokens,
       c.cost_usd AS cost_usd, coalesce(c.priced_calls, 0) AS priced_calls,
       coalesce(c.unpriced_calls, 0) AS unpriced_calls, coalesce(c.unobserved_calls, 0) AS unobserved_calls,
       coalesce(t.tool_calls, 0) AS tool_calls, coalesce(t.failed_tool_calls, 0) AS failed_tool_calls,
       coalesce(l.retry_loops, 0) AS retry_loops, coalesce(l.gave_up_loops, 0) AS gave_up_loops,
       a.status_code != 2 AND coalesce(l.gave_up_loops, 0) = 0 AS succeeded,
       x.graph_node AS graph_node, u.span_id AS turn_span_id,
       coalesce(a.project, u.project) AS project, a.service_name AS service_name,
       coalesce(a.conversation_id, u.conversation_id) AS conversation_id, coalesce(a.user_id, u.user_id) AS user_id,
       a.attributes AS attributes, a.attr_keys AS attr_keys, a.attr_values AS attr_values
FROM `{db}`.window_spans({window}) AS a
LEFT JOIN walk AS x ON x.trace_id = a.trace_id AND x.span_id = a.span_id
LEFT JOIN `{db}`.window_spans({window}) AS u ON u.trace_id = x.trace_id AND u.span_id = x.turn_id
LEFT JOIN calls AS c ON c.trace_id = a.trace_id AND c.agent_id = a.span_id
LEFT JOIN tools AS t ON t.trace_id = a.trace_id AND t.agent_id = a.span_id
LEFT JOIN loops AS l ON l.trace_id = a.trace_id AND l.agent_id = a.span_id
WHERE a.otel_kind = '{agent}' AND a.start_time >= {from_since} AND a.start_time < {to_until}
SETTINGS join_use_nulls = 1;

CREATE OR REPLACE VIEW `{db}`.turns_in AS
WITH walk AS MATERIALIZED (
    SELECT trace_id, span_id, otel_kind, status_code, attempt, turn_id FROM `{db}`.span_scope_walk_in({window})
    WHERE turn_id IS NOT NULL
), calls AS (
    SELECT x.trace_id AS trace_id, x.turn_id AS turn_id, count() AS llm_calls,
           countIf(c.status_code = 2) AS failed_calls,
           coalesce(sum(toInt128(c.input_tokens)), 0) AS input_tokens, coalesce(sum(toInt128(c.output_tokens)), 0) AS output_tokens,
           sortedSum(c.cost_usd) AS cost_usd, count(c.cost_usd) AS priced_calls,
           argMin(c.model, c.start_time) AS model, argMin(c.response_model, c.start_time) AS response_model,
           argMin(c.provider, c.start_time) AS provider
    FROM `{db}`.window_llm_calls({window}) AS c
    INNER JOIN walk AS x ON x.trace_id = c.trace_id AND x.span_id = c.span_id
    WHERE x.otel_kind = '{llm_call}'
    GROUP BY x.trace_id, x.turn_id
), inside AS (
    SELECT trace_id, turn_id,
           countIf(otel_kind = '{tool}') AS tool_calls,
           countIf(otel_kind = '{tool}' AND status_code = 2) AS failed_tool_calls,
           countIf(otel_kind = '{agent}') AS agent_invocations,
           countIf(attempt >= 2) AS retries
    FROM walk
    GROUP BY trace_id, turn_id
), loops AS (
    SELECT trace_id, turn_span_id AS turn_id, count() AS retry_loops,
           countIf(outcome = '{gave_up}') AS gave_up_loops,
           arrayMap(p -> p.2, arraySort(p -> p.1, groupArray((start_time, attempts)))) AS loop_attempts,
           max(attempts) AS max_attempts, sum(retry_ms) AS retry_ms, sortedSum(retry_cost_usd) AS retry_cost_usd,
           toInt64(sum(retry_unknown_cost_calls)) AS retry_unknown_cost_calls
    FROM `{db}`.retry_loop_scopes_in({window})
    WHERE turn_span_id IS NOT NULL
    GROUP BY trace_id, turn_span_id
)
SELECT t.trace_id AS trace_id, t.span_id AS span_id, t.name AS name, t.otel_kind = '{chat}' AS is_chat,
       t.start_time AS start_time, t.end_time AS end_time, t.duration_ms AS duration_ms,
       t.status_code AS status_code, t.status_message AS status_message, t.error_type AS error_type,
       t.project AS project, t.service_name AS service_name, t.conversation_id AS conversation_id,
       t.user_id AS user_id, t.otel_kind AS otel_kind, t.graph_node AS graph_node, t.operation AS operation,
       t.db_collection AS db_collection,
       c.model AS model, c.response_model AS response_model, c.provider AS provider,
       coalesce(c.llm_calls, 0) AS llm_calls, coalesce(c.failed_calls, 0) AS failed_calls,
       coalesce(c.input_tokens, 0) AS input_tokens, coalesce(c.output_tokens, 0) AS output_tokens,
       c.cost_usd AS cost_usd, coalesce(c.priced_calls, 0) AS priced_calls,
       i.tool_calls AS tool_calls, i.failed_tool_calls AS failed_tool_calls,
       i.agent_invocations AS agent_invocations, i.retries AS retries,
       coalesce(l.retry_loops, 0) AS retry_loops, coalesce(l.gave_up_loops, 0) AS gave_up_loops,
       if(l.loop_attempts IS NULL, CAST([] AS Array(Int32)), l.loop_attempts) AS loop_attempts,
       l.max_attempts AS max_attempts,
       coalesce(l.retry_ms, 0.0) AS retry_ms, l.retry_cost_usd AS retry_cost_usd,
       coalesce(l.retry_unknown_cost_calls, 0) AS retry_unknown_cost_calls,
       t.status_code != 2 AND coalesce(l.gave_up_loops, 0) = 0 AS succeeded,
       t.status_code != 2 AND coalesce(l.gave_up_loops, 0) = 0 AND i.retries = 0 AS first_time_right,
       t.attributes AS attributes, t.attr_keys AS attr_keys, t.attr_values AS attr_values
FROM `{db}`.window_spans({window}) AS t
INNER JOIN inside AS i ON i.trace_id = t.trace_id AND i.turn_id = t.span_id
LEFT JOIN calls AS c ON c.trace_id = i.trace_id AND c.turn_id = i.turn_id
LEFT JOIN loops AS l ON l.trace_id = i.trace_id AND l.turn_id = i.turn_id
WHERE t.start_time >= {from_since} AND t.start_time < {to_until}
SETTINGS join_use_nulls = 1;

-- One row per evaluation and per chat turn of a trace that called a model, with the
-- model whose output it rates (views.sql: qa_subjects_walk, its rules and columns), and
-- from_log: the evaluations sent only as log records (queries/log_evaluations.sql: a
-- log record whose span event the span already holds is left out), which quality rates
-- too (qa.py); one naming a span the store lacks credits no model, as on DuckDB.
CREATE OR REPLACE VIEW `{db}`.quality_subjects AS
WITH calls AS MATERIALIZED (
    SELECT trace_id, span_id, wrapper_span_id, start_time, end_time, model,
           if(mapContains(attributes, '{response_id}'), attributes['{response_id}'], NULL) AS response_id
    FROM `{db}`.llm_calls
    WHERE model IS NOT NULL
), logged AS MATERIALIZED (
    SELECT assumeNotNull(l.trace_id) AS trace_id, assumeNotNull(l.span_id) AS span_id, l.time AS time,
           if(mapContains(l.attributes, '{eval_name}'), l.attributes['{eval_name}'], NULL) AS eval_name,
           if(mapContains(l.attributes, '{eval_label}'), l.attributes['{eval_label}'], NULL) AS eval_label,
           {log_eval_score} AS eval_score,
           if(mapContains(l.attributes, '{response_id}'), l.attributes['{response_id}'], NULL) AS response_id
    FROM `{db}`.logs AS l
    WHERE l.event_name = '{evaluation_event}' AND l.trace_id IS NOT NULL AND l.span_id IS NOT NULL
), log_evaluations AS (  -- NULL-safe: a NULL name, label or score matches a NULL
    SELECT trace_id, span_id, time, eval_name, eval_label, response_id FROM logged
    WHERE (trace_id, span_id, ifNull(eval_name, '\0'), ifNull(eval_label, '\0'), isNull(eval_score),
           ifNull(eval_score, 0)) NOT IN (
        SELECT trace_id, span_id, ifNull(eval_name, '\0'), ifNull(eval_label, '\0'), isNull(eval_score),
               ifNull(eval_score, 0)
        FROM `{db}`.span_events WHERE name = '{evaluation_event}')
), evals AS MATERIALIZED (
    SELECT row_number() OVER () AS eid, v.trace_id AS trace_id, v.span_id AS span_id, v.time AS time,
           v.eval_name AS eval_name, v.eval_label AS eval_label, v.response_id AS response_id,
           v.from_log AS from_log, s.otel_kind AS otel_kind, s.start_time AS start_time
    FROM (
        SELECT trace_id, span_id, time, eval_name, eval_label,
               if(mapContains(attributes, '{response_id}'), attributes['{response_id}'], NULL) AS response_id,
               false AS from_log
        FROM `{db}`.span_events WHERE name = '{evaluation_event}'
        UNION ALL
        SELECT trace_id, span_id, time, eval_name, eval_label, response_id, true AS from_log FROM log_evaluations
    ) AS v
    INNER JOIN `{db}`.spans AS s ON s.trace_id = v.trace_id AND s.span_id = v.span_id
)  -- read once: eid numbers the rows of one reading (the union's order is not fixed)
SELECT any(v.trace_id) AS trace_id, any(v.span_id) AS span_id, any(v.start_time) AS start_time,
       true AS is_evaluation, any(v.time) AS time, any(v.eval_name) AS eval_name,
       any(v.eval_label) AS eval_label, any(v.response_id) AS response_id,
       coalesce(
           argMaxIf(c.model, c.end_time, c.response_id = v.response_id),
           argMaxIf(c.model, c.end_time, v.span_id = c.span_id OR v.span_id = c.wrapper_span_id),
           if(any(v.otel_kind) = '{chat}',
              argMaxIf(c.model, c.end_time, c.start_time >= v.start_time AND c.end_time <= v.time),
              coalesce(argMaxIf(c.model, c.end_time, c.end_time <= v.start_time),
                       argMaxIf(c.model, c.end_time, c.start_time >= v.start_time AND c.end_time <= v.time))))
           AS credited_model,
       any(v.from_log) AS from_log
FROM evals AS v
LEFT JOIN calls AS c ON c.trace_id = v.trace_id
GROUP BY v.eid
UNION ALL
SELECT s.trace_id AS trace_id, s.span_id AS span_id, any(s.start_time) AS start_time, false AS is_evaluation,
       NULL AS time, NULL AS eval_name, NULL AS eval_label, NULL AS response_id,
       argMaxIf(c.model, c.end_time, c.start_time >= s.start_time AND c.end_time <= s.end_time) AS credited_model,
       false AS from_log
FROM `{db}`.spans AS s
INNER JOIN calls AS c ON c.trace_id = s.trace_id
WHERE s.otel_kind = '{chat}'
GROUP BY s.trace_id, s.span_id
UNION ALL
SELECT v.trace_id AS trace_id, v.span_id AS span_id, v.time AS start_time, true AS is_evaluation, v.time AS time,
       v.eval_name AS eval_name, v.eval_label AS eval_label, v.response_id AS response_id,
       NULL AS credited_model, true AS from_log
FROM log_evaluations AS v
WHERE (v.trace_id, v.span_id) NOT IN (SELECT trace_id, span_id FROM `{db}`.spans)
SETTINGS join_use_nulls = 1;

-- The rows DuckDB's qa_subjects holds (worked out at ingest): those of the evaluations held as span events.
CREATE OR REPLACE VIEW `{db}`.qa_subjects AS
SELECT * EXCEPT (from_log) FROM `{db}`.quality_subjects WHERE NOT from_log;
