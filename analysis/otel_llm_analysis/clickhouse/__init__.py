"""ClickHouse: the collector's ClickHouse exporter's schema, for analyses at scale.

:class:`ExporterSchema` renders the exporter's own table DDL (``otel_traces``,
``otel_logs``, ``otel_metrics_*``) from the templates the collector build copied
out of the exporter's Go module, so the tables created here are the exporter's.
"""

from otel_llm_analysis.clickhouse._ddl import LOGS_TABLE, METRICS_TABLES, TRACES_TABLE, ExporterSchema
from otel_llm_analysis.clickhouse._gotemplate import TemplateError

__all__ = ["ExporterSchema", "LOGS_TABLE", "METRICS_TABLES", "TRACES_TABLE", "TemplateError"]
