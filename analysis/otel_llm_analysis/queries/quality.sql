-- Evaluation outcomes (`gen_ai.evaluation.result` events) grouped by {key}, plus
-- "QA not run": chat turns in traces that made an LLM call but carry no
-- evaluation at all. {key} is over `s` (the evaluated span, or the turn) and `tm`
-- (the model of the last LLM call of the trace, for spans that have none).
WITH evals AS (
    SELECT e.trace_id, e.span_id,
           lower(trim(e.eval_label)) AS label
    FROM span_events e
    WHERE e.name = 'gen_ai.evaluation.result' AND {evaluation_filter}
), trace_model AS (
    SELECT trace_id, arg_max(coalesce(request_model, model), end_time) AS model
    FROM spans
    WHERE {is_llm} AND coalesce(request_model, model) IS NOT NULL
    GROUP BY trace_id
), outcomes AS (
    SELECT {key} AS key,
           CASE
               WHEN v.label IN ('pass', 'passed', 'ok', 'success', 'good') THEN 'pass'
               WHEN v.label IN ('warning', 'warn') THEN 'warning'
               WHEN v.label IN ('fail', 'failed', 'failure', 'bad') THEN 'fail'
               WHEN v.label IN ('error', 'errored') THEN 'error'
               ELSE 'other'
           END AS outcome
    FROM evals v
    JOIN spans s USING (trace_id, span_id)
    LEFT JOIN trace_model tm ON tm.trace_id = s.trace_id
    WHERE {where}
    UNION ALL
    SELECT {key} AS key, 'not_run' AS outcome
    FROM spans s
    LEFT JOIN trace_model tm ON tm.trace_id = s.trace_id
    WHERE s.otel_kind = 'chat' AND {where}
      AND tm.trace_id IS NOT NULL
      AND s.trace_id NOT IN (SELECT trace_id FROM evals)
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
