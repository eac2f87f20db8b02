"""The short terminal report ``otel-llm demo`` ends with: what the data says at a glance.

One function so the demo and any script can show "what did this cost, how fast,
how good" without knowing the individual analyses: totals, latency and time to
first token, the QA pass rate, a table per model and the budget status. It is
laid out for an 80-column terminal: sentences are packed whole onto lines (never
wrapped mid-phrase) and the per-model table names any column it has to hide.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from otel_llm_analysis import Filters
from otel_llm_analysis.budgets import Budget, budget_status
from otel_llm_analysis._catalog import catalog
from otel_llm_analysis.qa import quality
from otel_llm_analysis.summaries import summary, time_to_first_token, totals
from otel_llm_analysis.terminal import STATUS_STYLE, format_value, say, table, visible
from otel_llm_analysis.trends import data_days
from otel_llm_analysis.web.views import budget_filters

__all__ = ["MODEL_COLUMNS", "print_report"]

MODEL_COLUMNS = ["key", "llm_calls", "input_tokens", "output_tokens", "cost_usd", "cost_share", "error_rate",
                 "p50_ms", "p95_ms"]


def print_report(store: Any, console: Any = None, *, monthly_budget: float | None = None,
                 month: str | None = None) -> None:
    """Print totals, latency, time to first token, QA pass rate, cost by model and (with ``monthly_budget``) the budget.

    The budget month defaults to the month of the data's last day (:func:`_data_month`), so a report on
    old files shows their month rather than an empty current one.
    """
    from rich.markup import escape

    if console is None:
        from rich.console import Console

        console = Console()
    width = console.width
    total = totals(store)
    first = time_to_first_token(store)

    said = total.cost_unknown  # calls only metric points record: not $0
    unrecorded = said and escape(visible(said))  # it names services: say() reads markup
    say(console, [f"{total.traces:,} traces", f"{total.llm_calls:,} LLM calls",
                  f"tokens and cost {unrecorded}" if unrecorded else f"{total.total_tokens:,} tokens",
                  *([] if unrecorded else [f"cost {format_value('cost_usd', total.cost_usd)}"])])
    latency = [f"LLM calls: {format_value('error_rate', total.error_rate)} failed",
               f"latency p50 {format_value('p50_ms', total.p50_ms)} ms, p95 {format_value('p95_ms', total.p95_ms)} ms"]
    if first and first[0].streams:
        latency.append(f"time to first token p50 {format_value('p50_ms', first[0].p50_ms)} ms, "
                       f"p95 {format_value('p95_ms', first[0].p95_ms)} ms")
    say(console, latency)
    if total.only_in_metrics:  # some days' calls only in metric points: the figures above are the spans' calls'
        say(console, [escape(visible(total.only_in_metrics.said()))])  # say() reads markup
    for qa in quality(store):
        say(console, [f"QA pass rate {format_value('pass_rate', qa.pass_rate)}",
             f"{qa.passed} pass, {qa.warning} warning, {qa.failed} fail",
             f"{qa.not_run} turn(s) not graded"])

    models = [row for row in summary(store, "model", partial=True) if row.llm_calls]
    if models:
        console.print()
        table(models, "cost by model", MODEL_COLUMNS, width=width, rename={"key": "model"}).print(console)
        unpriced = [escape(visible(str(row.key))) for row in models if row.cost_usd is None]  # say() reads markup
        if unpriced:
            say(console, [f"{', '.join(unpriced)}: no price known, so no cost (never a silent $0)"])
        for row in models:  # a model some of whose calls only metric points record: its row is its spans' calls'
            if row.only_in_metrics:
                say(console, [escape(visible(row.only_in_metrics.said(row.key)))])  # say() reads markup

    if monthly_budget is not None:
        month = month or _data_month(store)
        for status in budget_status(store, [Budget(monthly_budget)], month):
            unknown = status.cost_unknown and escape(visible(status.cost_unknown))  # status: unknown
            style = STATUS_STYLE.get(status.status, "")
            left_out = totals(store, budget_filters(status), partial=False).unpriced_calls  # the spend: priced calls
            unpriced = [f"{left_out:,} unpriced LLM call{'s' if left_out != 1 else ''} not in the spend"]
            console.print()
            say(console, [f"budget {format_value('monthly_usd', status.monthly_usd)} for {status.month}",
                 # some days' calls only in metric points: the spend of the others is a lower bound
                 f"spent at least {format_value('spent', status.spent)} ({status.percent_used:.1f}%)"
                 if status.unrecorded_days and status.calls else
                 "spent unknown" if status.status == "unknown" else  # no call of the month has a cost
                 f"spent {format_value('spent', status.spent)} ({status.percent_used:.1f}%)",
                 f"[{style}]{status.status}[/]" if style else status.status,
                 *([] if status.projected_month_end is None or status.status == "unknown" else
                   [f"month-end ≈ {format_value('projected_month_end', status.projected_month_end)}"]),
                 *(unpriced if left_out else []), *([f"spend {unknown}"] if unknown else [])])


def _data_month(store: Any) -> str | None:
    """``YYYY-MM`` of the data's last day: its newest LLM call, in spans or only in GenAI metric points
    (:func:`~otel_llm_analysis.trends.data_days`; a budget of the newest span's month would leave out a later
    month whose calls only metric points record), else of the newest span."""
    days = data_days(store, Filters())
    if days is None:
        return catalog(store).newest_month
    return (days[1] - timedelta(days=1)).strftime("%Y-%m")
