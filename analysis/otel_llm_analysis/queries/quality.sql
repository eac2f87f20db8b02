-- Evaluation outcomes (gen_ai.evaluation.result events) grouped by a dimension,
-- plus "QA not run": chat turns in traces that made an LLM call but carry no
-- evaluation (of the asked name) at all. Reads qa_subjects (views.sql), a row per
-- evaluation and per such turn, with the model whose output it rates
-- (credited_model), worked out at ingest; with the evaluations sent only as log
-- records, when there are any, worked out here (qa.py). Rows are grouped by `key`: the
-- dimension over `s` (the span the evaluation sits on, or the turn: {spans}
-- joins it only when the key or the filters need it) or the credited model.
-- Many filter sets at once (qa._quality_sets): {sets} joins a table of them (set_id and the set's
-- bounds, which {where} then reads) and {set_id} carries set_id through; for one set both are empty.
WITH evaluated AS (  -- the traces that carry an evaluation
    SELECT trace_id FROM {subjects} e WHERE e.is_evaluation AND {evaluation_filter}
), outcomes AS (
    SELECT {set_id}{key} AS key,
           CASE
               WHEN lower(trim(e.eval_label)) IN ('pass', 'passed', 'ok', 'success', 'good', 'true') THEN 'pass'
               WHEN lower(trim(e.eval_label)) IN ('warning', 'warn') THEN 'warning'
               WHEN lower(trim(e.eval_label)) IN ('fail', 'failed', 'failure', 'bad', 'false') THEN 'fail'
               WHEN lower(trim(e.eval_label)) IN ('error', 'errored') THEN 'error'
               ELSE 'other'
           END AS outcome
    FROM {subjects} e {spans}{sets}
    WHERE e.is_evaluation AND {evaluation_filter} AND {where}
    UNION ALL
    SELECT {set_id}{key} AS key, 'not_run' AS outcome
    FROM {subjects} e {spans}{sets}
    WHERE NOT e.is_evaluation AND e.trace_id NOT IN (SELECT trace_id FROM evaluated) AND {where}
)
SELECT
    {set_id}key,
    count(*) FILTER (WHERE outcome = 'pass') AS passed,
    count(*) FILTER (WHERE outcome = 'warning') AS warning,
    count(*) FILTER (WHERE outcome = 'fail') AS failed,
    count(*) FILTER (WHERE outcome = 'error') AS errored,
    count(*) FILTER (WHERE outcome = 'other') AS other,
    count(*) FILTER (WHERE outcome = 'not_run') AS not_run
FROM outcomes
GROUP BY {set_id}key
ORDER BY {set_id}key NULLS LAST
