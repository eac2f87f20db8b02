-- Evaluation outcomes (`{evaluation_event}` events) grouped by {key}, plus the
-- seed's "QA not run": chat turns in traces that made an LLM call but carry no
-- evaluation at all. {key} is over `s` (the span the evaluation sits on, or the
-- turn) and `credited_model`: the model whose output was evaluated, found in
-- this order (never the grader's own call):
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
    SELECT trace_id, span_id, wrapper_span_id, start_time, end_time, model,
           attr_values[list_position(attr_keys, '{response_id}')] AS response_id
    FROM llm_calls
    WHERE model IS NOT NULL
), rated AS (
    SELECT v.eid, v.label, s.trace_id, s.span_id,
           coalesce(
               arg_max(c.model, c.end_time) FILTER (WHERE c.response_id = v.response_id),
               arg_max(c.model, c.end_time) FILTER (WHERE v.span_id IN (c.span_id, c.wrapper_span_id)),
               CASE WHEN any_value(s.otel_kind) = '{turn}'
                    THEN arg_max(c.model, c.end_time) FILTER (WHERE c.start_time >= s.start_time AND c.end_time <= v.time)
                    ELSE coalesce(
                        arg_max(c.model, c.end_time) FILTER (WHERE c.end_time <= s.start_time),
                        arg_max(c.model, c.end_time) FILTER (WHERE c.start_time >= s.start_time AND c.end_time <= v.time))
               END) AS credited_model
    FROM evals v
    JOIN spans s USING (trace_id, span_id)
    LEFT JOIN calls c ON c.trace_id = v.trace_id
    GROUP BY v.eid, v.label, s.trace_id, s.span_id
), unrated AS (
    SELECT t.trace_id, t.span_id,
           arg_max(c.model, c.end_time) FILTER (WHERE c.start_time >= t.start_time AND c.end_time <= t.end_time)
               AS credited_model
    FROM spans t
    JOIN calls c USING (trace_id)
    WHERE t.otel_kind = '{turn}' AND t.trace_id NOT IN (SELECT trace_id FROM evals)
    GROUP BY t.trace_id, t.span_id
), outcomes AS (
    SELECT {key} AS key,
           CASE
               WHEN r.label IN ('pass', 'passed', 'ok', 'success', 'good') THEN 'pass'
               WHEN r.label IN ('warning', 'warn') THEN 'warning'
               WHEN r.label IN ('fail', 'failed', 'failure', 'bad') THEN 'fail'
               WHEN r.label IN ('error', 'errored') THEN 'error'
               ELSE 'other'
           END AS outcome
    FROM rated r
    JOIN spans s USING (trace_id, span_id)
    WHERE {where}
    UNION ALL
    SELECT {key} AS key, 'not_run' AS outcome
    FROM unrated r
    JOIN spans s USING (trace_id, span_id)
    WHERE {where}
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
