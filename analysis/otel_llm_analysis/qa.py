"""Evaluation results as a QA view: pass / warning / fail and pass rate.

An evaluation is a ``gen_ai.evaluation.result`` span event (what
``otel_llm.record_evaluation`` emits). Its label is folded case-insensitively:
pass/passed/ok/success/good -> pass, warning/warn -> warning,
fail/failed/failure/bad -> fail, error/errored -> error, anything else -> other.

* **pass rate** = pass / (pass + warning + fail), as QA dashboards count it
  (errors, other labels and turns without QA are reported, not rated).
* **not run** = chat turns whose trace made an LLM call but carries no evaluation.
* Grouping uses the evaluated span (for turns: the turn); ``--by model`` falls back
  to the model of the last LLM call in the trace, because evaluations usually sit
  on the turn, which names no model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from otel_llm_analysis._filters import IS_LLM_CALL, Filters, as_rows, dimension_sql, fetch_dicts, load_query, ratio

EVALUATION_EVENT = "gen_ai.evaluation.result"


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
    key = dimension_sql(by, "s")
    if by == "model":
        key = "coalesce(s.request_model, s.model, tm.model)"
    evaluation_filter = "TRUE"
    if evaluation is not None:
        evaluation_filter = "e.eval_name = $evaluation"
        params = {**params, "evaluation": evaluation}
    sql = load_query("quality").format(key=key, where=where, is_llm=IS_LLM_CALL,
                                       evaluation_filter=evaluation_filter)
    rows = as_rows(QualityRow, fetch_dicts(store, sql, params))
    for row in rows:
        row.pass_rate = ratio(row.passed, row.rated)
    return rows
