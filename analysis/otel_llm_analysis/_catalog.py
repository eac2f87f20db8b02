"""What a store holds: how many spans, from when to when, which projects, models and services.

Why: a filter naming a project that was never recorded must say so ("no data for
project nosuch") rather than answer with an empty table or a budget at $0; a
report on old files needs their newest month, not the current one; a dashboard
needs the values its filters can take. One query answers all three.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from otel_llm_analysis._filters import fetch_dicts

__all__ = ["Catalog", "catalog"]


@dataclass(slots=True)
class Catalog:
    """The store's spans at a glance; ``models`` holds requested and response model names."""

    spans: int
    first_span: datetime | None
    last_span: datetime | None
    projects: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    services: list[str] = field(default_factory=list)

    @property
    def newest_month(self) -> str | None:
        """``YYYY-MM`` of the newest span (the month a report on these files is about)."""
        return self.last_span.strftime("%Y-%m") if self.last_span else None

    def unknown(self, *, project: str | None = None, model: str | None = None) -> str | None:
        """Why a filter cannot match anything ("no data for project X; ..."), or ``None`` when it can."""
        for kind, value, known in (("project", project, self.projects), ("model", model, self.models)):
            if value is not None and value not in known:
                listed = ", ".join(known[:10]) + (", …" if len(known) > 10 else "")
                return f"no data for {kind} {value} (the store has {kind}s: {listed or 'none'})"
        return None


def catalog(store: Any) -> Catalog:
    """One pass over ``spans``: counts, time range and the distinct projects, models and services."""
    (row,) = fetch_dicts(
        store,
        "SELECT count(*) AS spans, min(start_time) AS first_span, max(start_time) AS last_span, "
        "list_sort(list_distinct(list(project))) AS projects, "
        "list_sort(list_distinct(flatten(list([request_model, model, response_model])))) AS models, "
        "list_sort(list_distinct(list(service_name))) AS services FROM spans",
    )
    return Catalog(**{k: (v if v is not None else []) if k in ("projects", "models", "services") else v
                      for k, v in row.items()})
