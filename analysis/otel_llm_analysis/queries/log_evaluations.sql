-- Evaluations sent as log records ({evaluation_event} as the record's event name:
-- the GenAI semconv's event form, which OpenLIT's score API emits) naming a span,
-- less those a span event of that span already holds: OpenLIT sends an evaluation
-- both ways while the rated span records, and only as a log record once it has
-- ended. A record's score is read as the event's (_rows.eval_score).
-- The columns are those qa_subjects_walk (views.sql) reads from its
-- evaluations table.
SELECT l.trace_id, l.span_id, l.time, l.attributes['{name}'] AS eval_name, l.attributes['{label}'] AS eval_label,
       l.attributes['{response_id}'] AS response_id
FROM logs l
WHERE l.event_name = '{evaluation_event}' AND l.trace_id IS NOT NULL AND l.span_id IS NOT NULL
  AND NOT EXISTS (
      SELECT 1 FROM span_events e
      WHERE e.name = '{evaluation_event}' AND e.trace_id = l.trace_id AND e.span_id = l.span_id
        AND e.eval_name IS NOT DISTINCT FROM l.attributes['{name}']
        AND e.eval_label IS NOT DISTINCT FROM l.attributes['{label}']
        AND e.eval_score IS NOT DISTINCT FROM {log_score})
