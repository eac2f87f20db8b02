"""otel-llm analysis: a DuckDB store of OTLP-JSON trace dumps and the analyses on it.

``TraceStore(path).ingest(paths)`` loads the files the collector (or otel-llm's
embedded exporter) writes; ``schema.sql`` is the SQL contract. Importing this
package imports DuckDB only when a store is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = [
    "IngestReport",
    "StoreError",
    "TraceStore",
]

if TYPE_CHECKING:
    from otel_llm_analysis.ingest import IngestReport
    from otel_llm_analysis.store import StoreError, TraceStore

_LAZY = {
    "IngestReport": "otel_llm_analysis.ingest",
    "StoreError": "otel_llm_analysis.store",
    "TraceStore": "otel_llm_analysis.store",
}


def __getattr__(name: str) -> Any:
    """Import lazily so ``otel_llm_analysis.cli`` stays importable without the extra."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'otel_llm_analysis' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
