"""ClickHouse: the collector's ClickHouse exporter's schema, file loading, and the analyses on it.

:class:`ExporterSchema` renders the exporter's own table DDL (``otel_traces``,
``otel_logs``, ``otel_metrics_*``) from the templates the collector build copied
out of the exporter's Go module, so the tables created here are the exporter's.
:func:`load` bulk-loads OTLP-JSON file dumps into those tables, idempotently.
"""

from __future__ import annotations

import os
from typing import Any, Iterable

from otel_llm_analysis.clickhouse._client import ClickHouseError, ClickHouseURL, is_clickhouse_url
from otel_llm_analysis.clickhouse._ddl import LOGS_TABLE, METRICS_TABLES, TRACES_TABLE, ExporterSchema
from otel_llm_analysis.clickhouse._gotemplate import TemplateError

__all__ = ["ClickHouseError", "ClickHouseURL", "ExporterSchema", "LOGS_TABLE", "METRICS_TABLES", "TRACES_TABLE",
           "TemplateError", "is_clickhouse_url", "load"]


def load(paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]], to: str | ClickHouseURL,
         **options: Any) -> Any:
    """Load OTLP-JSON file dumps into the ClickHouse database at ``to`` (``clickhouse://…``); returns the
    ingest's report. See :func:`otel_llm_analysis.clickhouse._load.load`."""
    from otel_llm_analysis.clickhouse._load import load as run

    return run(paths, to, **options)
