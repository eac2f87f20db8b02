"""The short report ``otel-llm demo`` ends with: totals, cost per model, budget status.

One function so the demo (the lead's) and any script can show "what did this
run cost" without knowing the individual analyses.
"""

from __future__ import annotations

from typing import Any

from otel_llm_analysis.budgets import Budget, budget_status
from otel_llm_analysis.export import format_value, rich_table
from otel_llm_analysis.qa import quality
from otel_llm_analysis.summaries import summary, totals

MODEL_COLUMNS = ["key", "llm_calls", "input_tokens", "output_tokens", "cost_usd", "cost_share", "error_rate", "p95_ms"]
STATUS_STYLE = {"ok": "green", "warning": "yellow", "critical": "bold red"}


def print_report(store: Any, console: Any = None, *, monthly_budget: float | None = None,
                 month: str | None = None) -> None:
    """Print totals, the QA pass rate, a per-model table and (with ``monthly_budget``) the budget status.

    The budget month defaults to the month of the newest span, so a report on old
    files still shows their month rather than an empty current one.
    """
    if console is None:
        from rich.console import Console

        console = Console()
    total = totals(store)
    console.print(
        f"[bold]{total.traces:,} traces[/bold], {total.llm_calls:,} LLM calls, "
        f"{total.total_tokens:,} tokens, cost {format_value('cost_usd', total.cost_usd)}, "
        f"error rate {format_value('error_rate', total.error_rate)}, "
        f"p95 {format_value('p95_ms', total.p95_ms)} ms"
    )
    for qa in quality(store):
        console.print(
            f"QA: pass rate {format_value('pass_rate', qa.pass_rate)} "
            f"({qa.passed} pass, {qa.warning} warning, {qa.failed} fail), {qa.not_run} turn(s) not evaluated"
        )
    models = summary(store, "model")
    models = [row for row in models if row.llm_calls]
    if models:
        console.print(rich_table(models, "cost by model", MODEL_COLUMNS, width=console.width,
                                 rename={"key": "model"}))
    if monthly_budget is not None:
        from otel_llm_analysis._filters import connection

        if month is None:
            newest = connection(store).execute("SELECT max(start_time) FROM spans").fetchone()[0]
            month = newest.strftime("%Y-%m") if newest else None
        statuses = budget_status(store, [Budget(monthly_budget)], month)
        style = lambda name, value: STATUS_STYLE.get(value) if name == "status" else None  # noqa: E731
        console.print(rich_table(statuses, "budget", ["budget", "monthly_usd", "spent", "percent_used", "status",
                                                      "projected_month_end", "runs_out_on"], style=style,
                                 width=console.width))
