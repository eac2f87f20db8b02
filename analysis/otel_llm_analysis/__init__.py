"""otel-llm analysis: a DuckDB store of OTLP-JSON trace dumps and the analyses on it.

``TraceStore(path).ingest(paths)`` loads the files the collector (or otel-llm's
embedded exporter) writes. The SQL contract: the tables defined in ``_rows.py``
(each column's note is its DuckDB comment), the ``spans`` view in ``schema.sql``
and the other views in ``views.sql``. Importing this package imports DuckDB only
when a store is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = [
    "IngestReport",
    "StoreError",
    "StoreInUse",
    "TraceStore",
    "Catalog",
    "catalog",
    # analyses (each: store + parameters -> plain rows)
    "Filters",
    "summary",
    "totals",
    "time_to_first_token",
    "series",
    "spikes",
    "forecast_month_end",
    "Budget",
    "budget_status",
    "load_budgets",
    "compare",
    "tools",
    "agents",
    "retries",
    "quality",
    "Thresholds",
    "check",
    "process_usage",
    "search_logs",
    "log_patterns",
    "top_traces",
    "export_rows",
    "export_spans",
    "print_report",
]

if TYPE_CHECKING:
    from otel_llm_analysis.ingest import IngestReport
    from otel_llm_analysis.store import StoreError, StoreInUse, TraceStore

_LAZY = {
    "IngestReport": "otel_llm_analysis.ingest",
    "StoreError": "otel_llm_analysis.store",
    "StoreInUse": "otel_llm_analysis.store",
    "TraceStore": "otel_llm_analysis.store",
    "Catalog": "otel_llm_analysis._catalog",
    "catalog": "otel_llm_analysis._catalog",
    "Filters": "otel_llm_analysis._filters",
    "summary": "otel_llm_analysis.summaries",
    "totals": "otel_llm_analysis.summaries",
    "time_to_first_token": "otel_llm_analysis.summaries",
    "series": "otel_llm_analysis.trends",
    "spikes": "otel_llm_analysis.trends",
    "forecast_month_end": "otel_llm_analysis.trends",
    "Budget": "otel_llm_analysis.budgets",
    "budget_status": "otel_llm_analysis.budgets",
    "load_budgets": "otel_llm_analysis.budgets",
    "compare": "otel_llm_analysis.comparisons",
    "tools": "otel_llm_analysis.tool_usage",
    "agents": "otel_llm_analysis.agent_usage",
    "retries": "otel_llm_analysis.retry_outcomes",
    "quality": "otel_llm_analysis.qa",
    "Thresholds": "otel_llm_analysis.alerts",
    "check": "otel_llm_analysis.alerts",
    "process_usage": "otel_llm_analysis.processes",
    "search_logs": "otel_llm_analysis.logs",
    "log_patterns": "otel_llm_analysis.logs",
    "top_traces": "otel_llm_analysis.traces",
    "export_rows": "otel_llm_analysis.export",
    "export_spans": "otel_llm_analysis.export",
    "print_report": "otel_llm_analysis.report",
}


def __getattr__(name: str) -> Any:
    """Import lazily so ``otel_llm_analysis.cli`` stays importable without the extra."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'otel_llm_analysis' has no attribute {name!r}")
    import importlib

    try:
        return getattr(importlib.import_module(module), name)
    except ModuleNotFoundError as exc:  # the analysis extra not installed: name the install line
        from otel_llm._extras import extra_providing, missing_extra_message

        extra = extra_providing(exc.name)
        if extra is None:
            raise
        raise ModuleNotFoundError(missing_extra_message(extra, exc.name, needs=f"otel_llm_analysis.{name}"),
                                  name=exc.name) from exc
