"""Evaluation results as a QA view: pass / warning / fail and pass rate.

An evaluation is a ``gen_ai.evaluation.result`` span event (what
``otel_llm.record_evaluation`` emits). Its label is folded case-insensitively:
pass/passed/ok/success/good/true -> pass, warning/warn -> warning,
fail/failed/failure/bad/false -> fail, error/errored -> error, anything else -> other.
true/false are boolean verdicts: OpenLIT's ``record_evaluation_score(name, True)``
sends the label "true" (score 1.0), so a boolean evaluation reads true as the
good outcome (helpful, correct, thumbs up); one named for a bad outcome
("toxic": true) needs a label of its own.

* **pass rate** = pass / (pass + warning + fail), as QA dashboards count it
  (errors, other labels and turns without QA are reported, not rated).
* **not run** = chat turns whose trace made an LLM call but carries no evaluation.
* Grouping uses the span the evaluation sits on (for "not run": the turn), and
  ``--by model`` the model whose output was evaluated - never the grader's:
  the LLM call the event names by ``gen_ai.response.id``; the evaluated span
  when it is an LLM call; for a turn, its last call before the evaluation; for
  an evaluation step (a grade node running its own judge call), the last call
  that ended before the step started. Worked out once per evaluation and turn
  at ingest (``views.sql``'s ``qa_subjects``); ``queries/quality.sql`` counts them.
* An evaluation may also come as a log record (``event_name``
  ``gen_ai.evaluation.result`` naming the rated span: the GenAI semconv's event
  form; OpenLIT's score API sends one beside its span event, and only the log
  record once the span has ended). Those a span event does not already hold are
  rated too, with the same rules (``queries/log_evaluations.sql``; the model they
  credit is worked out when asked, by ``qa_subjects_walk`` over their traces). One
  naming a span the store lacks is rated where no span is needed: in the totals
  (of a time window holding it too: it is dated by its own time), under no model,
  in no other group.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb

from otel_llm import semconv
from otel_llm_analysis._filter_sets import SETS, ask_together, in_set, per_set, set_rows, shared_filters
from otel_llm_analysis._rows import eval_score
from otel_llm_analysis._filters import Filters, as_rows, connection, dimension_sql, fetch_dicts, load_query, ratio
from otel_llm_analysis._scopes import fetch

#: What quality reads when no evaluation came as a log record alone: the rows worked out at ingest.
_SUBJECTS = "qa_subjects"
#: On ClickHouse: ``qa_subjects`` and the evaluations only a log record holds, in one view.
_CLICKHOUSE_SUBJECTS = "quality_subjects"


@dataclass(slots=True)
class QualityRow:
    """QA outcomes of one group."""

    key: Any
    passed: int
    warning: int
    failed: int
    errored: int
    other: int
    not_run: int
    pass_rate: float | None = None

    @property
    def rated(self) -> int:
        return self.passed + self.warning + self.failed


def quality(
    store: Any, by: str | None = None, filters: Filters | None = None, *, evaluation: str | None = None
) -> list[QualityRow]:
    """Pass/warning/fail counts and pass rate per group (one row when ``by`` is None).

    ``evaluation`` keeps only events of that ``gen_ai.evaluation.name``.
    """
    filters = filters or Filters()
    if evaluation is None:  # a report build reads the filter sets it expects at once
        ask_together(store, filters, lambda asked: _statement(store, by, asked),
                     lambda sets: _quality_sets(store, by, sets), lambda asked: _joins_spans(by, asked))
    sql, params = _statement(store, by, filters, evaluation)
    rows = as_rows(QualityRow, fetch(store, sql, params))
    for row in rows:
        row.pass_rate = ratio(row.passed, row.rated)
    return rows


#: ``quality.sql``'s set placeholders for one filter set, and for many (:func:`_quality_sets`)
_ONE_SET = dict(sets="", set_id="")
_MANY_SETS = dict(sets=f", {SETS}", set_id="set_id, ")


def _joins_spans(by: str | None, filters: Filters) -> bool:
    """Whether the evaluated span (or turn) is read: only when the key or the filters need it. A time window
    alone reads the rows' own start_time (their span's; an evaluation of a span the store lacks: its own
    time), so it keeps those evaluations, which a join would drop."""
    return by not in (None, "model") or (filters.project, filters.model, filters.service) != (None, None, None)


def _statement(store: Any, by: str | None, filters: Filters, evaluation: str | None = None,
               sets: dict[str, str] = _ONE_SET, joined: bool | None = None) -> tuple[str, dict[str, Any]]:
    """The quality statement of ``filters`` grouped by ``by``, and its parameters; with ``_MANY_SETS``, of each
    set of ``$sets`` besides, the evaluated spans read or not as ``joined`` says."""
    key = "e.credited_model" if by == "model" else dimension_sql(by, "s")
    joined = _joins_spans(by, filters) if joined is None else joined
    alias = "s" if joined else "e"
    where, params = filters.where(alias)
    spans = "JOIN spans s ON s.trace_id = e.trace_id AND s.span_id = e.span_id" if joined else ""
    if sets is not _ONE_SET:
        where = f"{where} AND {in_set(alias, window_only=not joined)}"
    evaluation_filter = "TRUE"
    if evaluation is not None:
        evaluation_filter = "e.eval_name = $evaluation"
        params = {**params, "evaluation": evaluation}
    return load_query("quality").format(key=key, spans=spans, where=where, evaluation_filter=evaluation_filter,
                                        subjects=_subjects(store), **sets), params


def _quality_sets(store: Any, by: str | None, filter_sets: list[Filters]) -> list[list[dict[str, Any]]]:
    """For each of ``filter_sets`` (all reading the evaluated spans, or none), the rows its own statement
    answers, all read in one (``_filter_sets``)."""
    joined = _joins_spans(by, filter_sets[0])
    sql, params = _statement(store, by, shared_filters(filter_sets, lambda f: _joins_spans(by, f)), sets=_MANY_SETS,
                             joined=joined)
    return per_set(fetch(store, sql, {**params, "sets": set_rows(filter_sets)}), len(filter_sets))


def evaluation_names(store: Any) -> list[str]:
    """The ``gen_ai.evaluation.name`` values the store's evaluations hold (span events and log records),
    sorted: what ``quality(evaluation=)`` can match, for a name matching none to be refused, not rated 0."""
    sql = (f"SELECT DISTINCT eval_name AS name FROM {_subjects(store)} AS subjects "
           "WHERE eval_name IS NOT NULL ORDER BY name")
    return [row["name"] for row in fetch(store, sql, {})]


def _subjects(store: Any) -> str:
    """The evaluation and turn rows to count: ``qa_subjects``, plus the evaluations only a log record holds.

    Those are few and rare, so their subjects are worked out here over their traces' spans rather
    than at ingest (a log record may arrive in another run than its span). Read on DuckDB; a
    ClickHouse store works them out in its ``quality_subjects`` view (``views_scopes_clickhouse.sql``).
    """
    con = connection(store)
    if not isinstance(con, duckdb.DuckDBPyConnection):
        return _CLICKHOUSE_SUBJECTS
    evaluations = load_query("log_evaluations").format(
        evaluation_event=semconv.EVENT_EVALUATION_RESULT, name=semconv.GEN_AI_EVALUATION_NAME,
        label=semconv.GEN_AI_EVALUATION_SCORE_LABEL,
        log_score=eval_score(f"l.attributes['{semconv.GEN_AI_EVALUATION_SCORE_VALUE}']"),
        response_id=semconv.GEN_AI_RESPONSE_ID)
    # through fetch_dicts: a report build asks it once (``_filters.remembering``), not once per quality view
    if not fetch_dicts(con, f"SELECT EXISTS ({evaluations}) AS held")[0]["held"]:
        return _SUBJECTS
    # an evaluation of a span the store lacks counts where no span is needed (no turn, no model: in no group)
    return (f"(SELECT * FROM {_SUBJECTS} UNION ALL BY NAME SELECT * FROM ("
            f"WITH log_evaluations AS ({evaluations}), log_spans AS (SELECT rowid AS r, * FROM span_rows "
            "WHERE trace_id IN (SELECT trace_id FROM log_evaluations)), "
            "log_scopes AS (SELECT * FROM span_scope_walk(log_spans)), log_calls AS (SELECT * FROM llm_calls_of(log_spans)) "
            "SELECT * FROM qa_subjects_walk(log_spans, log_scopes, log_calls, log_evaluations) WHERE is_evaluation "
            "UNION ALL BY NAME SELECT *, time AS start_time, TRUE AS is_evaluation FROM log_evaluations v "
            "WHERE NOT EXISTS (SELECT 1 FROM log_spans s WHERE s.trace_id = v.trace_id AND s.span_id = v.span_id)))")
