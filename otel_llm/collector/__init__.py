"""The collector pipeline: build, run and inspect the ``otelcol-llm`` distribution.

The collector itself is a real OpenTelemetry Collector built by the official
builder from ``otel_llm/collector/config/builder-config.yaml``; this package only
locates the binary, starts/stops it with the shipped configuration and reports
status. It is imported lazily by the ``otel-llm collector`` commands, never by the SDK.

:func:`exporter_sql_dir` is the one public entry for other packages: where the
build left the ClickHouse exporter's table DDL templates (the ClickHouse schema
of ``otel_llm_analysis`` is created from them).
"""

from otel_llm.collector._binary import ExporterSqlMissing, exporter_sql_dir

__all__ = ["ExporterSqlMissing", "exporter_sql_dir"]
