"""Evaluation results as a QA view: pass / warning / fail and pass rate.

An evaluation is a ``gen_ai.evaluation.result`` span event (what
``otel_llm.record_evaluation`` emits). Its label is folded case-insensitively:
pass/passed/ok/success/good -> pass, warning/warn -> warning,
fail/failed/failure/bad -> fail, error/errored -> error, anything else -> other.

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
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from otel_llm_analysis._filters import Filters, as_rows, dimension_sql, load_query, ratio
from otel_llm_analysis._scopes import fetch


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
    where, params = (filters or Filters()).where("s")
    key = "e.credited_model" if by == "model" else dimension_sql(by, "s")
    # the evaluated span (or turn) is read only when the key or the filters need it
    spans = "" if by in (None, "model") and where == "TRUE" else \
        "JOIN spans s ON s.trace_id = e.trace_id AND s.span_id = e.span_id"
    evaluation_filter = "TRUE"
    if evaluation is not None:
        evaluation_filter = "e.eval_name = $evaluation"
        params = {**params, "evaluation": evaluation}
    sql = load_query("quality").format(key=key, spans=spans, where=where, evaluation_filter=evaluation_filter)
    rows = as_rows(QualityRow, fetch(store, sql, params))
    for row in rows:
        row.pass_rate = ratio(row.passed, row.rated)
    return rows
