"""The ClickHouse exporter's tables, created from the exporter's own DDL templates.

The collector build copies the exporter's ``*.sql`` templates beside the binary
(:func:`otel_llm.collector.exporter_sql_dir`); this module renders them with the
arguments the exporter's Go code passes (database, table, cluster, engine, TTL),
in the order the exporter runs them. So a database created here — in chdb for
the tests, or on a server by a loader — has exactly the exporter's schema, and
an exporter upgrade changes ours with it instead of drifting from it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from otel_llm.collector import exporter_sql_dir
from otel_llm_analysis.clickhouse._gotemplate import execute, sprintf

#: The exporter's default table names (config: traces_table_name, logs_table_name, metrics_tables).
TRACES_TABLE = "otel_traces"
LOGS_TABLE = "otel_logs"
METRICS_TABLES = {
    "gauge": "otel_metrics_gauge",
    "sum": "otel_metrics_sum",
    "summary": "otel_metrics_summary",
    "histogram": "otel_metrics_histogram",
    "exp_histogram": "otel_metrics_exponential_histogram",
}
#: The first ClickHouse release with ``TYPE text()`` indexes; the exporter picks the logs
#: table's index flavour by the server's version (exporter_logs.go, versionFullTextSearch).
FULL_TEXT_SEARCH_SINCE = (26, 2)

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: A metric template's point-time column declared in whole seconds (``TimeUnix DateTime``).
_SECONDS_COLUMN = re.compile(r"\b((?:Start)?TimeUnix) DateTime\b(?!64)")
#: A metric template's ``Sum`` (histogram, exponential histogram, summary), which cannot be NULL.
_SUM_COLUMN = re.compile(r"\bSum Float64\b")


@dataclass(frozen=True)
class ExporterSchema:
    """The exporter's settings that shape its DDL (the defaults are the exporter's defaults,
    except the database, which is otelcol-clickhouse.yaml's)."""

    database: str = "otel"
    ttl_seconds: int = 0  # the exporter's `ttl`; 0 keeps data forever
    engine: str = "MergeTree()"  # the exporter's table_engine, rendered `Name(params)`
    cluster: str = ""  # the exporter's cluster_name (ON CLUSTER), empty for one server
    server_version: tuple[int, int] = (26, 9)  # chooses the logs indexes as the exporter would
    #: True: the metric tables' point times (``TimeUnix``, ``StartTimeUnix``, the exemplars' ``TimeUnix``)
    #: are ``DateTime64(9)`` where the exporter's DDL has ``DateTime`` (whole seconds), so a point keeps its
    #: time within its second, as in DuckDB. A change to the exporter's DDL (the other: :attr:`nullable_sums`),
    #: only of a column type: the exporter inserts by column name and its driver writes a ``DateTime64(9)``
    #: column at ns.
    subsecond_metrics: bool = False
    #: True: the histogram, exponential histogram and summary tables' ``Sum`` is ``Nullable(Float64)`` where the
    #: exporter's DDL has ``Float64``, so a point sent without a sum (OTLP makes it optional) keeps none, as in
    #: DuckDB, not a made-up 0. A column type again: the exporter writes a sum into it as into ``Float64``
    #: (its ``Sum()``, 0 for a point without one: its own points read as it wrote them).
    nullable_sums: bool = False

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.database):
            raise ValueError(f"database name {self.database!r}: letters, digits and _ only")
        if self.ttl_seconds < 0:
            raise ValueError("ttl_seconds must be >= 0")

    def statements(self, sql_dir: Path | None = None) -> list[str]:
        """CREATE DATABASE, then every table (and the trace-id lookup view) in the exporter's order.

        ``sql_dir`` defaults to the templates the collector build left beside the binary.
        """
        directory = sql_dir or exporter_sql_dir()
        statements = [f"CREATE DATABASE IF NOT EXISTS {_go_q(self.database)} {self._cluster()}".rstrip()]
        for file, render in self._renderers():
            statements.append(render((directory / file).read_text()).strip())
        return statements

    def _renderers(self) -> list[tuple[str, Callable[[str], str]]]:
        db, cluster, engine = self.database, self._cluster(), self.engine
        traces = TRACES_TABLE
        renderers: list[tuple[str, Callable[[str], str]]] = [
            # exporter_traces.go: renderCreateTracesTableSQL, renderCreateTraceIDTsTableSQL,
            # renderTraceIDTsMaterializedViewSQL
            ("traces_table.sql", lambda t: sprintf(t, [db, traces, cluster, engine, self._ttl("Timestamp")])),
            ("traces_id_ts_lookup_table.sql", lambda t: sprintf(t, [db, traces, cluster, engine, self._ttl("Start")])),
            ("traces_id_ts_lookup_mv.sql", lambda t: sprintf(t, [db, traces, cluster, db, traces, db, traces])),
            # exporter_logs.go: renderCreateLogsTableSQL (text/template)
            ("logs_table.sql", lambda t: execute(t, {
                "Database": db, "TableName": LOGS_TABLE, "ClusterString": cluster, "Engine": engine,
                "TTL": self._ttl("Timestamp"), "HasFullTextSearch": self.server_version >= FULL_TEXT_SEARCH_SINCE,
            })),
        ]
        # internal/metrics/metrics_model.go: NewMetricsTable
        for kind, table in METRICS_TABLES.items():
            renderers.append((f"metrics_{kind}_table.sql",
                              lambda t, table=table: self._metric_columns(
                                  sprintf(t, [db, table, cluster, engine, self._ttl("TimeUnix")]))))
        return renderers

    def _metric_columns(self, ddl: str) -> str:
        """A metric table's DDL with its point times at ns when :attr:`subsecond_metrics` and its ``Sum``
        nullable when :attr:`nullable_sums`, else as rendered."""
        if self.subsecond_metrics:
            ddl = _SECONDS_COLUMN.sub(r"\1 DateTime64(9)", ddl)
        return _SUM_COLUMN.sub("Sum Nullable(Float64)", ddl) if self.nullable_sums else ddl

    def _cluster(self) -> str:
        return "ON CLUSTER `" + self.cluster.replace("`", "``") + "`" if self.cluster else ""

    def _ttl(self, column: str) -> str:
        """internal/clickhouse.go GenerateTTLExpr: the largest whole unit of the TTL."""
        ttl = self.ttl_seconds
        if ttl <= 0:
            return ""
        for unit, seconds in (("Day", 86400), ("Hour", 3600), ("Minute", 60), ("Second", 1)):
            if ttl % seconds == 0:
                return f"TTL toDateTime({column}) + toInterval{unit}({ttl // seconds})"
        raise AssertionError("unreachable: every TTL is a whole number of seconds")


def _go_q(name: str) -> str:
    return sprintf("%q", [name])
