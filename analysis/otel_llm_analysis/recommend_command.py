"""``otel-llm recommend``: the CLI face of :func:`otel_llm_analysis.recommendations.cheaper_models`."""

from __future__ import annotations

from pathlib import Path
from typing import Any, List, Optional

import typer

from otel_llm_analysis._command import Result, analysis_command

__all__ = ["RECOMMEND_COLUMNS", "recommend"]

RECOMMEND_COLUMNS = ["model", "alternative", "savings_usd", "savings_pct", "calls", "cost_usd", "alternative_cost_usd",
                     "success_rate", "alternative_success_rate", "pass_rate", "alternative_pass_rate"]


@analysis_command(filters=("since", "until", "project"))
def recommend(
    store: Any,
    filters: Any,
    candidate: List[str] = typer.Option([], "--candidate", help="Also compare with this model (repeatable)."),
    per_model: int = typer.Option(3, "--per-model", min=1, max=100, help="Cheaper models shown per model."),
    pricing: Optional[Path] = typer.Option(None, "--pricing", envvar="OTEL_LLM_PRICING",
                                           help="Your prices (as ingest's --pricing) over genai-prices."),
) -> Result:
    """Cheaper models: each model's calls priced at the other models' rates, beside both models' success.

    The other models are those you use (and --candidate); their success and pass rates tell what prices cannot.
    """
    from otel_llm_analysis.recommendations import cheaper_models
    from otel_llm_analysis.store import price_book

    if any(not name.strip() for name in candidate):
        raise ValueError("--candidate names a model: it cannot be empty")
    advice = cheaper_models(store, price_book(pricing), filters, candidates=candidate, per_model=per_model)
    notes = [f"{model}: no price in the table, so not compared (add it with --pricing FILE)"
             for model in advice.unpriced_models]
    if advice.rows:
        notes.append("the same tokens at each model's standard rates; whether the cheaper model answers as well "
                     "is what its success and pass rates (empty: no calls or evaluations of it here) can tell")
    return Result(advice.rows, "cheaper models", RECOMMEND_COLUMNS, notes=notes)
