-- Evaluation outcomes (gen_ai.evaluation.result events) grouped by a dimension,
-- plus "QA not run": chat turns in traces that made an LLM call but
-- carry no evaluation at all. Rows are grouped by `span_key` (the dimension over
-- `s`: the span the evaluation sits on, or the turn) or, for --by model, by
-- `credited_model`: the model whose output was evaluated, found in this order
-- (never the grader's own call):
--   1. the LLM call whose `{response_id}` the evaluation names;
--   2. the evaluated span itself, when it is an LLM call (or wraps one);
--   3. the span is a turn: the last LLM call inside it that ended before the
--      evaluation (the turn's answer);
--   4. any other span is an evaluation step (a grader runs its own calls inside
--      it): the last LLM call of the trace that ended before that step started,
--      else the last call inside it.
WITH evals AS (
    SELECT row_number() OVER () AS eid, e.trace_id, e.span_id, e.time,
           e.attributes['{response_id}'] AS response_id,
           lower(trim(e.eval_label)) AS label
    FROM span_events e
    WHERE e.name = '{evaluation_event}' AND {evaluation_filter}
), calls AS (
    SELECT trace_id, span_id, wrapper_span_id, start_time, end_time, model
    FROM llm_calls
    WHERE model IS NOT NULL
), named AS (  -- evaluations that name the evaluated call by its response id
    SELECT v.eid, arg_max(c.model, c.end_time) AS model
    FROM evals v
    JOIN llm_calls c ON c.trace_id = v.trace_id
                    AND c.attr_values[list_position(c.attr_keys, '{response_id}')] = v.response_id
    WHERE v.response_id IS NOT NULL AND c.model IS NOT NULL
    GROUP BY v.eid
), rated AS (
    SELECT v.label,
           any_value({key}) AS span_key,
           coalesce(
               any_value(n.model),
               arg_max(c.model, c.end_time) FILTER (WHERE v.span_id IN (c.span_id, c.wrapper_span_id)),
               CASE WHEN any_value(s.otel_kind) = '{turn}'
                    THEN arg_max(c.model, c.end_time) FILTER (WHERE c.start_time >= s.start_time AND c.end_time <= v.time)
                    ELSE coalesce(
                        arg_max(c.model, c.end_time) FILTER (WHERE c.end_time <= s.start_time),
                        arg_max(c.model, c.end_time) FILTER (WHERE c.start_time >= s.start_time AND c.end_time <= v.time))
               END) AS credited_model
    FROM evals v
    JOIN spans s USING (trace_id, span_id)
    LEFT JOIN named n ON n.eid = v.eid
    LEFT JOIN calls c ON c.trace_id = v.trace_id
    WHERE {where}
    GROUP BY v.eid, v.label
), unrated AS (
    SELECT any_value({key}) AS span_key,
           arg_max(c.model, c.end_time) FILTER (WHERE c.start_time >= s.start_time AND c.end_time <= s.end_time)
               AS credited_model
    FROM spans s
    JOIN calls c ON c.trace_id = s.trace_id
    WHERE s.otel_kind = '{turn}' AND s.trace_id NOT IN (SELECT trace_id FROM evals) AND {where}
    GROUP BY s.trace_id, s.span_id
), outcomes AS (
    SELECT {group} AS key,
           CASE
               WHEN label IN ('pass', 'passed', 'ok', 'success', 'good') THEN 'pass'
               WHEN label IN ('warning', 'warn') THEN 'warning'
               WHEN label IN ('fail', 'failed', 'failure', 'bad') THEN 'fail'
               WHEN label IN ('error', 'errored') THEN 'error'
               ELSE 'other'
           END AS outcome
    FROM rated
    UNION ALL
    SELECT {group} AS key, 'not_run' AS outcome
    FROM unrated
)
SELECT
    key,
    count(*) FILTER (WHERE outcome = 'pass') AS passed,
    count(*) FILTER (WHERE outcome = 'warning') AS warning,
    count(*) FILTER (WHERE outcome = 'fail') AS failed,
    count(*) FILTER (WHERE outcome = 'error') AS errored,
    count(*) FILTER (WHERE outcome = 'other') AS other,
    count(*) FILTER (WHERE outcome = 'not_run') AS not_run
FROM outcomes
GROUP BY key
ORDER BY key NULLS LAST
