-- The agents, tools, retries and quality macros as they were before the scopes refresh was made
-- cheaper (views.sql at 385f61d), each renamed reference_<name>: test_scope_reference.py checks
-- that the tables refresh_scopes makes hold exactly the rows these make over the whole store.
-- The names in braces are filled in as in store.schema_sql().

-- By row, the walk of the span rows in table `spans` (whole traces): one row
-- per span it reaches (r: its rowid; its ids, kind, status, times; for a try
-- its attempt number, what it tries and its tool call id), its scopes (*_r: the
-- rowids of its root, turn, agents - agent_r the innermost - and tries) and,
-- for a try, the retry loop it belongs to (loop_r, is_last: see retry_tries_of).

CREATE OR REPLACE MACRO reference_span_scope_walk(spans) AS TABLE
WITH RECURSIVE own AS MATERIALIZED (
    SELECT s.r, s.trace_id, s.span_id, s.parent_span_id, s.otel_kind, s.status_code,
           s.start_time, s.end_time, s.duration_ms, s.graph_node,
           CASE WHEN s.otel_kind IN ('{llm_call}', '{tool}', '{agent}') THEN TRY_CAST({attempt_s} AS INTEGER) END
               AS attempt,
           CASE WHEN s.otel_kind = '{agent}' THEN {agent_name_s} END AS agent_name,
           -- what a try tries, and its tool call (tells loops apart)
           CASE WHEN list_contains(s.attr_keys, '{attempt}') THEN
               CASE s.otel_kind WHEN '{llm_call}' THEN s.model WHEN '{tool}' THEN {tool_name_s}
                                WHEN '{agent}' THEN {agent_name_s} END END AS target,
           CASE WHEN s.otel_kind = '{tool}' THEN {tool_call_id_s} END AS tool_call_id,
           -- a call priced after its trace was walked makes the trace walked again
           CASE WHEN s.otel_kind = '{llm_call}' THEN s.cost_source END AS cost_source
    FROM query_table(spans) s
), runs AS (  -- the traces that called a model, a tool or an agent without any chat span
    SELECT trace_id FROM own
    GROUP BY trace_id
    HAVING bool_or(otel_kind IN ('{llm_call}', '{tool}', '{agent}')) AND NOT bool_or(otel_kind = '{chat}')
), picked AS MATERIALIZED (  -- what the walk needs of each span: narrow rows are hashed faster at every level
    SELECT s.r, p.r AS parent_r, s.otel_kind, s.attempt >= 1 AS is_try, s.agent_name, s.graph_node,
           s.parent_span_id IS NULL AND s.trace_id IN (SELECT trace_id FROM runs) AS run_root
    FROM own s LEFT JOIN own p ON p.trace_id = s.trace_id AND p.span_id = s.parent_span_id
), walk AS (
    SELECT r, 0 AS depth, r AS root_r,
           CASE WHEN otel_kind = '{chat}' OR run_root THEN r END AS turn_r,
           CASE WHEN otel_kind = '{agent}' THEN [r] ELSE []::BIGINT[] END AS agent_rs,
           agent_name, graph_node,
           CASE WHEN is_try THEN [r] ELSE []::BIGINT[] END AS try_rs
    FROM picked
    WHERE parent_r IS NULL
    UNION ALL
    SELECT c.r, w.depth + 1, w.root_r,
           CASE WHEN c.otel_kind = '{chat}' THEN c.r ELSE w.turn_r END,
           CASE WHEN c.otel_kind = '{agent}' THEN list_append(w.agent_rs, c.r) ELSE w.agent_rs END,
           coalesce(c.agent_name, w.agent_name),
           coalesce(c.graph_node, w.graph_node),
           CASE WHEN c.is_try THEN list_append(w.try_rs, c.r) ELSE w.try_rs END
    FROM walk w JOIN picked c ON c.parent_r = w.r
    WHERE w.depth < 1000
), starts AS (  -- the tries, and which of them start a retry loop (see retry_tries_of; the tries of
               -- one loop share a parent, so the walk reaches all of them or none)
    SELECT r, trace_id, parent_span_id, tool_call_id, start_time, attempt, span_id,
           CASE WHEN attempt > lag(attempt) OVER loop THEN 0 ELSE 1 END AS starts_loop
    FROM own
    WHERE attempt >= 1
    WINDOW loop AS (PARTITION BY trace_id, parent_span_id, tool_call_id ORDER BY start_time, attempt, span_id)
), loops AS (
    SELECT r,
           last_value(CASE WHEN starts_loop = 1 THEN r END IGNORE NULLS) OVER (loop ROWS UNBOUNDED PRECEDING)
               AS loop_r,
           coalesce(lead(starts_loop) OVER loop, 1) = 1 AS is_last
    FROM starts
    WINDOW loop AS (PARTITION BY trace_id, parent_span_id, tool_call_id ORDER BY start_time, attempt, span_id)
)
SELECT o.r, o.trace_id, o.span_id, o.parent_span_id, o.otel_kind, o.status_code, o.start_time, o.end_time,
       o.duration_ms, o.attempt, o.target, o.tool_call_id, w.depth, w.root_r, w.turn_r, w.agent_rs, w.agent_name,
       w.graph_node, w.try_rs, l.loop_r, l.is_last, o.cost_source, w.agent_rs[-1] AS agent_r
FROM walk w JOIN own o ON o.r = w.r LEFT JOIN loops l ON l.r = w.r;

-- By row, what span_scopes needs of the walk (span_scope_index keeps it).

CREATE OR REPLACE MACRO reference_span_scope_index_walk(spans, scopes, calls) AS TABLE
SELECT r, depth, root_r, turn_r, agent_r, len(agent_rs) AS agent_depth, agent_name, graph_node,
       try_rs[-1] AS try_r, cost_source
FROM query_table(scopes);

-- One row per tool call (span of kind tool), with the agent, graph node and turn
-- it ran in; a tool span without a project (user, conversation) of its own
-- takes its turn's.

CREATE OR REPLACE MACRO reference_tool_calls_walk(spans, scopes, calls) AS TABLE
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

-- By row: each try of a retry loop (a span marked otel_llm.attempt) among the
-- rows of table `scopes` (span_scope_walk). The tries of one loop share a
-- parent (the span running the loop) and, for tools, a tool call id; a new loop
-- starts where the attempt number does not go up (loops run one after another
-- under one parent start again at 1). Loops running at the same time under one
-- parent (threads) are told apart only by tool call ids. loop_r is the loop's
-- first try; is_last marks its final try, whose status is the loop's outcome
-- (span_scope_walk works both out when it walks a trace).

CREATE OR REPLACE MACRO reference_retry_tries_of(scopes) AS TABLE
SELECT r, trace_id, span_id, parent_span_id, otel_kind, target, tool_call_id, attempt, start_time, end_time,
       duration_ms, status_code, loop_r, is_last
FROM query_table(scopes)
WHERE attempt >= 1;

CREATE OR REPLACE MACRO reference_retry_attempts_walk(spans, scopes, calls) AS TABLE
SELECT a.trace_id, a.span_id, a.parent_span_id, a.otel_kind, a.target, a.tool_call_id, a.attempt,
       a.start_time, a.end_time, a.duration_ms, a.status_code, first.span_id AS loop_span_id, a.is_last
FROM reference_retry_tries_of(scopes) a JOIN query_table(spans) first ON first.r = a.loop_r;

-- By row: one row per retry loop of the tries in table `tries` (rows of
-- retry_tries_of) whose scopes are in table `scopes` and LLM calls in table
-- `calls`: its tries, the number of
-- its last attempt, its outcome (succeeded: the last try did not fail; gave_up:
-- it did), its time
-- (first try's start to last try's end; retry_ms: to the last try's start, the
-- time the retries added) and the LLM calls made in its tries (a try that is a
-- call included): cost_usd, and retry_cost_usd the part made in tries before
-- the last. turn_r and agent_rs: the turn and the agents running the loop (a
-- retried agent does not run its own loop).

CREATE OR REPLACE MACRO reference_retry_loops_of(tries, scopes, calls) AS TABLE
WITH calls AS (  -- the LLM calls made in each try
    SELECT x.try_r AS r, count(*) AS llm_calls, sum(c.cost_usd) AS cost_usd,
           count(*) FILTER (WHERE (c.cost_usd IS NULL AND (c.input_tokens IS NOT NULL OR c.output_tokens IS NOT NULL
                                                         OR {total_only_tokens} IS NOT NULL))
                               OR c.attributes['{usage_unobserved}'] IS NOT NULL) AS unknown_cost_calls
    FROM (SELECT trace_id, span_id, unnest(try_rs) AS try_r FROM query_table(scopes)
          WHERE len(try_rs) > 0 AND otel_kind = '{llm_call}') x
    JOIN query_table(calls) c ON c.trace_id = x.trace_id AND c.span_id = x.span_id
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

CREATE OR REPLACE MACRO reference_retry_loops_walk(spans, scopes, calls) AS TABLE
WITH tries AS MATERIALIZED (
    SELECT * FROM reference_retry_tries_of(scopes)
)
SELECT l.trace_id, first.span_id AS loop_span_id, l.parent_span_id, l.otel_kind, l.target, l.tries, l.attempts,
       l.outcome, l.start_time, l.end_time, l.duration_ms, l.retry_ms, l.llm_calls, l.cost_usd, l.retry_cost_usd,
       l.retry_unknown_cost_calls, turn.span_id AS turn_span_id, agent.span_id AS agent_span_id
FROM reference_retry_loops_of(tries, scopes, calls) l
JOIN query_table(spans) first ON first.r = l.loop_r
LEFT JOIN query_table(spans) turn ON turn.r = l.turn_r AND {is_turn_turn}
LEFT JOIN query_table(spans) agent ON agent.r = l.agent_rs[-1];

-- One row per agent invocation (span of kind agent), with everything made
-- inside it, nested agents' work included (as the SDK's otel_llm.agent.*
-- roll-ups): LLM calls (each model call once, from llm_calls), tokens, cost
-- (NULL when none of its calls has one), tool calls, retry loops and those that
-- gave up. succeeded: it did not fail and no retry loop inside it gave up.

CREATE OR REPLACE MACRO reference_agent_invocations_walk(spans, scopes, calls) AS TABLE
WITH tries AS MATERIALIZED (
    SELECT * FROM reference_retry_tries_of(scopes)
), inside AS MATERIALIZED (  -- every span inside an agent, once per agent it runs in
    SELECT trace_id, span_id, otel_kind, status_code, unnest(agent_rs) AS agent_r
    FROM query_table(scopes) WHERE len(agent_rs) > 0
), calls AS (
    SELECT i.agent_r, count(*) AS llm_calls, count(*) FILTER (WHERE c.status_code = 2) AS failed_calls,
           coalesce(sum(c.input_tokens), 0) AS input_tokens, coalesce(sum(c.output_tokens), 0) AS output_tokens,
           sum(c.cost_usd) AS cost_usd, count(c.cost_usd) AS priced_calls,
           count(*) FILTER (WHERE c.cost_usd IS NULL AND (c.input_tokens IS NOT NULL OR c.output_tokens IS NOT NULL
                                                          OR {total_only_tokens} IS NOT NULL)) AS unpriced_calls,
           count(*) FILTER (WHERE c.attributes['{usage_unobserved}'] IS NOT NULL) AS unobserved_calls
    FROM inside i JOIN query_table(calls) c ON c.trace_id = i.trace_id AND c.span_id = i.span_id
    WHERE i.otel_kind = '{llm_call}'
    GROUP BY i.agent_r
), tools AS (
    SELECT agent_r, count(*) AS tool_calls, count(*) FILTER (WHERE status_code = 2) AS failed_tool_calls
    FROM inside WHERE otel_kind = '{tool}'
    GROUP BY agent_r
), loops AS (
    SELECT agent_r, count(*) AS retry_loops, count(*) FILTER (WHERE outcome = '{gave_up}') AS gave_up_loops
    FROM (SELECT outcome, unnest(agent_rs) AS agent_r FROM reference_retry_loops_of(tries, scopes, calls))
    GROUP BY agent_r
), same_name AS (  -- of the agents around an invocation with its name, the innermost
    SELECT x.r, arg_max(y.r, list_position(x.agent_rs, y.r)) AS outer_r
    FROM query_table(scopes) x
    JOIN query_table(scopes) y ON y.agent_name = x.agent_name AND y.r <> x.r AND list_contains(x.agent_rs, y.r)
    WHERE x.otel_kind = '{agent}' AND y.otel_kind = '{agent}'
    GROUP BY x.r
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

-- One row per turn (see above), with what was done inside it: LLM calls,
-- tokens, cost, the model of its first call, tool calls, agent invocations,
-- retries (tries numbered 2 or more), retry loops and those that gave up, the
-- attempts each loop took (loop_attempts, in order) and the highest, and the
-- time and cost the retries added.
--   succeeded:        the turn did not fail and no retry loop inside it gave up
--                     (an app that catches a loop's failure still went without its result);
--   first_time_right: it succeeded and nothing in it was retried.

CREATE OR REPLACE MACRO reference_turns_walk(spans, scopes, calls) AS TABLE
WITH tries AS MATERIALIZED (
    SELECT * FROM reference_retry_tries_of(scopes)
), calls AS (
    SELECT x.turn_r, count(*) AS llm_calls, count(*) FILTER (WHERE c.status_code = 2) AS failed_calls,
           coalesce(sum(c.input_tokens), 0) AS input_tokens, coalesce(sum(c.output_tokens), 0) AS output_tokens,
           sum(c.cost_usd) AS cost_usd, count(c.cost_usd) AS priced_calls,
           arg_min(c.model, c.start_time) AS model, arg_min(c.response_model, c.start_time) AS response_model,
           arg_min(c.provider, c.start_time) AS provider
    FROM query_table(calls) c JOIN query_table(scopes) x ON x.trace_id = c.trace_id AND x.span_id = c.span_id
    WHERE x.turn_r IS NOT NULL AND x.otel_kind = '{llm_call}'
    GROUP BY x.turn_r
), inside AS (
    SELECT turn_r,
           count(*) FILTER (WHERE otel_kind = '{tool}') AS tool_calls,
           count(*) FILTER (WHERE otel_kind = '{tool}' AND status_code = 2) AS failed_tool_calls,
           count(*) FILTER (WHERE otel_kind = '{agent}') AS agent_invocations,
           count(*) FILTER (WHERE attempt >= 2) AS retries
    FROM query_table(scopes)
    WHERE turn_r IS NOT NULL
    GROUP BY turn_r
), loops AS (
    SELECT turn_r, count(*) AS retry_loops, count(*) FILTER (WHERE outcome = '{gave_up}') AS gave_up_loops,
           list(attempts ORDER BY start_time) AS loop_attempts, max(attempts) AS max_attempts,
           sum(retry_ms) AS retry_ms, sum(retry_cost_usd) AS retry_cost_usd,
           CAST(sum(retry_unknown_cost_calls) AS BIGINT) AS retry_unknown_cost_calls
    FROM reference_retry_loops_of(tries, scopes, calls)
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
       i.tool_calls, i.failed_tool_calls, i.agent_invocations, i.retries,
       coalesce(l.retry_loops, 0) AS retry_loops, coalesce(l.gave_up_loops, 0) AS gave_up_loops,
       coalesce(l.loop_attempts, []::INTEGER[]) AS loop_attempts, l.max_attempts,
       coalesce(l.retry_ms, 0.0) AS retry_ms, l.retry_cost_usd,
       coalesce(l.retry_unknown_cost_calls, 0) AS retry_unknown_cost_calls,
       t.status_code IS DISTINCT FROM 2 AND coalesce(l.gave_up_loops, 0) = 0 AS succeeded,
       t.status_code IS DISTINCT FROM 2 AND coalesce(l.gave_up_loops, 0) = 0 AND i.retries = 0 AS first_time_right,
       t.attr_keys, t.attr_values
FROM query_table(spans) t
JOIN inside i ON i.turn_r = t.r
LEFT JOIN calls c ON c.turn_r = i.turn_r
LEFT JOIN loops l ON l.turn_r = i.turn_r
WHERE {is_turn_t};

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

CREATE OR REPLACE MACRO reference_qa_subjects_walk(spans, scopes, calls, events) AS TABLE
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
