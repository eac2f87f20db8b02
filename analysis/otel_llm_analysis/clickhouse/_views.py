"""The ``spans`` contract on ClickHouse: derived at insert from the exporter's ``otel_traces``.

DuckDB derives the typed span columns (model, provider, tokens, cost, kind,
node, …) at ingest, from the first present spelling of each column in
:data:`otel_llm_analysis._spellings.SPELLINGS` and the producers' mappings in
:mod:`otel_llm_analysis._producers` (kind, provider name, requested model). On
ClickHouse the rows arrive from the collector's exporter, so the same derivation
is a SELECT over ``otel_traces`` (:func:`span_table_select`), generated here from
the same tables — a producer's new spelling or kind added there reaches both
engines — and run once per span as it arrives, by a materialized view into the
span table (:mod:`._span_table`). The ``spans`` view (:func:`spans_view`) reads
that table and adds what may change after insert: the price of calls without a
usable cost (:mod:`._pricing`).

Written for ClickHouse's strengths: the span table is partitioned by day and
ordered by ``start_time`` (so a time filter prunes partitions and uses the
ordering key), and the derivation reads attributes with map lookups
(``mapContains``/``m[key]``, the exporter's ``Map(LowCardinality(String), String)``),
never JSON parsing — except ``finish_reasons``, one short array value, once per span.

Where the engines' values differ by construction (documented in docs/clickhouse.md):
attribute text is the exporter's ``AsString`` (arrays as ``["stop"]``, doubles in
Go's shortest form) and an absent ``finish_reasons`` is ``[]`` (ClickHouse arrays
cannot be NULL).
"""

from __future__ import annotations

import hashlib
import re
from importlib import resources
from typing import Optional, Sequence

from opentelemetry.semconv.attributes.service_attributes import SERVICE_NAME
from otel_llm.pricing import PriceBook

from otel_llm import semconv
from otel_llm_analysis import _producers
from otel_llm_analysis._costs import _ZERO_ON_A_TOTAL
from otel_llm_analysis._filters import IS_UNPRICED, TOTAL_ONLY_TOKENS
from otel_llm_analysis._instrumentation_failures import CANDIDATE, raised_in_openlit
from otel_llm_analysis._spellings import FIRST_TOKEN_EVENTS, SPELLINGS
from otel_llm_analysis.clickhouse._ddl import LOGS_TABLE, METRICS_TABLES, TRACES_TABLE
from otel_llm_analysis.clickhouse._dialect import number_text, transpile, try_cast
from otel_llm_analysis.clickhouse._pricing import priced_sql
from otel_llm_analysis.clickhouse._sums import expand

#: How a SPELLINGS column is typed (DuckDB: ingest.py's TRY_CASTs); text otherwise.
_INTEGER = {"input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "reasoning_tokens"}
_FLOAT = {"cost_usd"}
_LIST = {"finish_reasons"}
#: Columns whose expression is not a plain "first spelling" (combined with resource data,
#: or mapped by ``_producers``).
_SPECIAL = {"service_name", "project", "provider", "request_model", "cost_usd"}


def first_present(column: str, attributes: str = "SpanAttributes") -> str:
    """The value of the first spelling of ``column`` present in the map, else NULL.

    ``m[key]`` alone would give '' for an absent key; ``mapContains`` keeps
    "absent" (NULL) apart from "present and empty" ('').
    """
    branches = ", ".join(f"mapContains({attributes}, {_quote(name)}), {attributes}[{_quote(name)}]"
                         for name in SPELLINGS[column])
    return f"multiIf({branches}, NULL)"


def resource_service() -> str:
    """The resource's ``service.name`` as sent, ``''`` included, NULL when it has none: DuckDB's service of a
    log record and a metric point, and of a span before its own attribute. The exporter's ``ServiceName`` is
    ``''`` both for none and for an empty name; the resource attributes it also stores tell them apart."""
    name = _quote(SERVICE_NAME)
    return (f"coalesce(nullIf(ServiceName, ''), "
            f"multiIf(mapContains(ResourceAttributes, {name}), ResourceAttributes[{name}], NULL))")


def _attribute(name: str) -> str:
    """One span attribute's text, NULL when absent (the ``lookup`` of ``_producers``' builders)."""
    return f"multiIf(mapContains(SpanAttributes, {_quote(name)}), SpanAttributes[{_quote(name)}], NULL)"


def _json_string(text: str, key: str) -> str:
    """The string at ``key`` of the JSON object in ``text``; NULL when absent or not JSON."""
    return f"nullIf(JSONExtractString({text}, {_quote(key)}), '')"


def _typed(column: str) -> str:
    value = first_present(column)
    if column in _INTEGER:
        # as DuckDB's _rows.COUNT: a non-negative integer up to 2**53 ('12', '12.0' -> 12; '12.5', '-1',
        # '1e30', 2**63-1 -> NULL)
        number = f"toFloat64OrNull({number_text(value)})"
        return f"if({number} BETWEEN 0 AND 9007199254740992, accurateCastOrNull({number}, 'Int64'), NULL)"
    if column in _FLOAT:
        return f"toFloat64OrNull({number_text(value)})"
    if column in _LIST:
        return (f"multiIf({value} IS NULL, CAST([] AS Array(String)), startsWith({value}, '['), "
                f"JSONExtract(assumeNotNull({value}), 'Array(String)'), [assumeNotNull({value})])")
    return value


def unreadable_sql() -> str:
    """Over an ``otel_traces`` row: the typed columns (token counts, cost) whose attribute is present but
    unreadable - left NULL by the span table, as DuckDB's ``_rows`` leaves them (its ``unreadable_columns``):
    a count that is no non-negative integer up to 2**53, a cost that is no finite number from 0 to the SDK's
    bound on one call (``MAX_CALL_COST_USD``)."""
    checks = []
    for column in SPELLINGS:
        if column in _INTEGER or column in _FLOAT:
            typed = _typed(column)
            unread = (f"({typed}) IS NULL" if column in _INTEGER  # as DuckDB's _rows.COST: NaN is in no range
                      else f"NOT (coalesce({typed}, nan) BETWEEN 0 AND {_producers.MAX_CALL_COST_USD:.0f})")
            checks.append(f"if({first_present(column)} IS NOT NULL AND {unread}, {_quote(column)}, '')")
    return f"arrayFilter(c -> c != '', [{', '.join(checks)}])"


#: What needs a price: (provider, response model, requested model) groups, and the book that prices them.
Pricing = tuple[Sequence[tuple[Optional[str], Optional[str], Optional[str]]], PriceBook]

#: The groups of spans that need a price (``_pricing``), read from a ``spans`` view made without pricing.
PRICE_GROUPS = ("SELECT provider, response_model, request_model FROM `{db}`.`{spans}` WHERE otel_kind = 'llm_call' "
                "AND own_cost_usd IS NULL AND (input_tokens IS NOT NULL OR output_tokens IS NOT NULL) "
                "GROUP BY provider, response_model, request_model")


#: The table of the derived span columns beside the exporter's ``otel_traces`` (:mod:`._span_table`
#: creates and fills it); its name ends in a digest of its definition, so a release that derives the
#: columns differently gets a table of its own instead of rows of two definitions.
SPAN_TABLE_PREFIX = "otel_llm_spans_v"
#: Each trace's first and last span start (:mod:`._span_table`): what bounds the read of a window's traces.
TRACE_TIMES_TABLE = "otel_llm_trace_times"
#: The span table's columns that are few distinct words: stored as dictionaries.
_LOW_CARDINALITY = {"span_kind", "service_name", "scope_name", "project", "otel_kind", "operation", "provider",
                    "request_model", "response_model", "model", "own_cost_source", "own_cost_table", "graph_node",
                    "db_system", "db_operation", "db_collection", "error_type"}


#: A span without a usable end, as DuckDB's ingest has it (``end_time`` and ``duration_ms`` NULL): no end
#: (``endTimeUnixNano`` 0 or absent) or one before the start. The exporter stores ``Duration`` as the end
#: minus the start in a ``UInt64``, so either arrives wrapped past 2**63 ns (negative as an ``Int64``);
#: an unset start and end both leave it 0 at 1970-01-01.
_NO_END = ("(reinterpretAsInt64(Duration) < 0 "
           "OR (toUnixTimestamp64Nano(Timestamp) = 0 AND Duration = 0))")


def _span_columns() -> list[tuple[str, str]]:
    """``(column, expression over otel_traces)`` of the span table: every ``spans`` column but the
    priced cost (``own_cost_*``: the span's own usable cost, priced in the view) and the attribute
    key/value lists (read from ``attributes`` in the view)."""
    derived = [(column, _typed(column)) for column in SPELLINGS if column not in _SPECIAL]
    events = ", ".join(_quote(name) for name in FIRST_TOKEN_EVENTS)
    ttft = f"arrayFilter((t, n) -> n IN ({events}), Events.Timestamp, Events.Name)"
    request_model = _producers.request_model_sql(_attribute, first_present("request_model"), _json_string)
    # the span's own cost when usable, by the rule of _producers.cost_sql
    own = {column: _functions(sql) for column, sql in _producers.cost_sql(
        _attribute, _typed("cost_usd"), _typed("input_tokens"), _typed("output_tokens")).items()}
    no_price = _zero_on_a_total(own)
    own = {column: f"if({no_price}, NULL, {sql})" for column, sql in own.items()}
    return [
        ("trace_id", "TraceId"),
        ("span_id", "SpanId"),
        ("parent_span_id", "nullIf(ParentSpanId, '')"),
        ("name", "SpanName"),
        ("span_kind", "upper(SpanKind)"),
        ("service_name", f"coalesce({resource_service()}, {first_present('service_name')})"),
        ("scope_name", "nullIf(ScopeName, '')"),
        ("project", f"coalesce({first_present('project')}, {first_present('project', 'ResourceAttributes')})"),
        ("start_time", "toTimeZone(Timestamp, 'UTC')"),  # UTC, as DuckDB's store, whatever the server's zone
        ("end_time", f"if({_NO_END}, NULL, toTimeZone(Timestamp + toIntervalNanosecond(Duration), 'UTC'))"),
        ("duration_ms", f"if({_NO_END} OR toUnixTimestamp64Nano(Timestamp) = 0, NULL, Duration / 1e6)"),
        ("status_code", "multiIf(StatusCode = 'Error', 2, StatusCode = 'Ok', 1, 0)"),
        ("status_message", "nullIf(StatusMessage, '')"),
        ("otel_kind", _producers.kind_sql(_attribute)),
        *derived,
        ("own_cost_usd", own["cost_usd"]),
        ("own_cost_source", own["cost_source"]),
        ("own_cost_table", own["cost_table"]),
        ("provider", _functions(_producers.provider_sql(first_present("provider")))),
        ("request_model", request_model),
        ("model", "coalesce(request_model, response_model)"),
        ("stream_ttft_ms", f"if(notEmpty({ttft}), arrayMin(arrayMap(t -> dateDiff('nanosecond', Timestamp, t), "
                           f"{ttft})) / 1e6, NULL)"),
        ("attributes", "SpanAttributes"),
        ("resource_attributes", "ResourceAttributes"),
        ("unreadable_columns", unreadable_sql()),
    ]


#: DuckDB functions of ``_producers``' SQL builders -> ClickHouse's of the same meaning: ``lower`` maps
#: every letter in DuckDB, ASCII letters only in ClickHouse (``lowerUTF8`` maps them all).
_FUNCTIONS = {"isfinite": "isFinite", "lower": "lowerUTF8"}


def _functions(sql: str) -> str:
    """``sql`` (DuckDB SQL of ``_producers``, not transpiled) with :data:`_FUNCTIONS` renamed."""
    return re.sub(r"\b(" + "|".join(_FUNCTIONS) + r")\(", lambda m: _FUNCTIONS[m.group(1)] + "(", sql)


def _zero_on_a_total(own: dict[str, str]) -> str:
    """DuckDB's ingest rule ``_costs._ZERO_ON_A_TOTAL`` over one ``otel_traces`` row: a producer's cost of
    0 on an LLM call whose usage is only a total is no price (OpenLIT's 0), so the call stays unpriced.
    ``own``: the span's own cost columns (``_producers.cost_sql``); the other columns it names
    (``otel_kind``, the token counts) are the span table's aliases, the total is read from ``SpanAttributes``."""
    rule = _clickhouse(_ZERO_ON_A_TOTAL)
    rule = re.sub(r"\battributes\b", "SpanAttributes", rule)
    return re.sub(r"\b(cost_usd|cost_source)\b", lambda m: f"({own[m.group(1)]})", rule)


def span_table_select(database: str, source: str = TRACES_TABLE) -> str:
    """The SELECT that derives the span table's rows from ``database.source`` (the materialized
    view's query, and the backfill's)."""
    columns = ", ".join(f"toLowCardinality({sql}) AS {name}" if name in _LOW_CARDINALITY else f"{sql} AS {name}"
                              for name, sql in _span_columns())
    return f"SELECT {columns} FROM `{database}`.`{source}`"  # one line: an INSERT … SELECT of it too


def span_table_name() -> str:
    """``otel_llm_spans_v<digest of the derivation>``: one table per definition of the derived columns."""
    digest = hashlib.sha256(span_table_select("{db}").encode()).hexdigest()[:10]
    return f"{SPAN_TABLE_PREFIX}{digest}"


def peer_calls_table_name() -> str:
    """The peer calls table of the span table (:func:`span_table_name`, whose rows it selects)."""
    return f"{span_table_name()}_peer_calls"


def instrumentation_failures_select(database: str, source: str = TRACES_TABLE) -> str:
    """The SELECT of the spans of ``database.source`` that failed in their instrumentation's own code, with the
    columns of DuckDB's ``instrumentation_failures`` view and the start (the table's partition and TTL): its
    rule (``_instrumentation_failures``) over one ``otel_traces`` row, the kind, status and scope derived as
    the span table derives them, every exception event's innermost frame inside openlit. Read at insert (the
    instrumentation failures table, :mod:`._span_table`): the events are in ``otel_traces`` only."""
    span = dict(_span_columns())
    candidate = re.sub(r"\b(otel_kind|status_code|scope_name)\b", lambda m: f"({span[m.group(1)]})",
                       _clickhouse(CANDIDATE))
    exceptions = "arrayFilter((a, n) -> n = 'exception', Events.Attributes, Events.Name)"
    raised = _clickhouse(raised_in_openlit("a['exception.stacktrace']"))
    message = _clickhouse("a['exception.message']")
    message = f"arrayFirst(m -> m IS NOT NULL, arrayMap(a -> {message}, {exceptions}))"
    return (f"SELECT TraceId AS trace_id, SpanId AS span_id, {span['start_time']} AS start_time, "
            f"{span['scope_name']} AS scope_name, {span['error_type']} AS error_type, {message} AS exception_message "
            f"FROM `{database}`.`{source}` WHERE {candidate} AND notEmpty({exceptions}) "
            f"AND arrayAll(a -> {raised}, {exceptions})")  # one line: an INSERT … SELECT of it too


def instrumentation_failures_table_name() -> str:
    """The instrumentation failures table of the span table (:func:`span_table_name`): its name ends in a
    digest of its own derivation, so a release that changes the rule fills a table of its own."""
    digest = hashlib.sha256(instrumentation_failures_select("{db}").encode()).hexdigest()[:10]
    return f"{span_table_name()}_failures_{digest}"


#: Another producer's LLM span under a parent, over the span table's (or ``spans``') columns: a span that
#: may need an otel-llm span's context (``llm_call_contexts_in``). The peer calls table keeps these
#: spans' traces, written at insert, so a store holding none walks nothing.
PEER_CALL = (f"otel_kind = '{semconv.KIND_LLM_CALL}' AND coalesce(scope_name, '') != '{semconv.INSTRUMENTATION_SCOPE}' "
             "AND parent_span_id IS NOT NULL")


def spans_view(database: str, *, name: str = "spans", pricing: Pricing | None = None) -> str:
    """``CREATE OR REPLACE VIEW database.name`` with the ``spans`` contract's columns over the span
    table (:func:`span_table_name`, which must exist: :func:`._span_table.ensure_span_table`); with
    ``pricing``, the spans that need a price are priced as DuckDB's ingest prices them."""
    own = {"cost_usd": "own_cost_usd", "cost_source": "own_cost_source", "cost_table": "own_cost_table"}
    if pricing is None:
        cost = own
    else:
        priced, table = priced_sql(*pricing, own_cost=own["cost_usd"])
        cost = {"cost_usd": f"coalesce({own['cost_usd']}, {priced})",
                "cost_source": f"multiIf({own['cost_usd']} IS NOT NULL, {own['cost_source']}, "
                               f"({priced}) IS NOT NULL, 'ingest', NULL)",
                "cost_table": f"if({own['cost_usd']} IS NOT NULL, {own['cost_table']}, {table})"}
    columns = []
    for column, _ in _span_columns():
        if column in ("own_cost_source", "own_cost_table"):
            continue
        if column == "own_cost_usd":
            columns += [f"{cost[c]} AS {c}" for c in ("cost_usd", "cost_source", "cost_table")]
        else:
            columns.append(column)
    columns += ["mapKeys(attributes) AS attr_keys", "mapValues(attributes) AS attr_values"]
    listed = ",\n    ".join(columns)
    return f"""CREATE OR REPLACE VIEW `{database}`.`{name}` AS
SELECT
    {listed}
FROM `{database}`.`{span_table_name()}`"""


def _quote(text: str) -> str:
    """A ClickHouse string literal."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def view_statements(database: str, tables: set[str] | frozenset[str] = frozenset(),
                    pricing: Pricing | None = None, whole_seconds: set[str] | frozenset[str] = frozenset()
                    ) -> list[str]:
    """Every view the analyses read, in dependency order: ``spans``, then ``views_clickhouse.sql``
    (``llm_calls``, ``span_events``, ``logs``, ``metric_points``, ``evaluations``, ``daily_usage``,
    ``trace_summary``, …) with the database and semconv names filled in. ``tables`` are the tables
    present: metric tables the database lacks are left out of ``metric_points``; ``whole_seconds`` the metric
    tables whose point times are whole seconds (:func:`metric_points_view`)."""
    text = resources.files("otel_llm_analysis.clickhouse").joinpath("views_clickhouse.sql").read_text("utf-8")
    filled = text.format(db=database, traces=TRACES_TABLE, logs=_source(database, LOGS_TABLE, tables),
                         llm_call=semconv.KIND_LLM_CALL, ours=semconv.INSTRUMENTATION_SCOPE,
                         run_config_prefix=semconv.OTEL_LLM_RUN_CONFIG_PREFIX, graph_name=semconv.OTEL_LLM_GRAPH_NAME,
                         evaluation_event=semconv.EVENT_EVALUATION_RESULT,
                         eval_name=semconv.GEN_AI_EVALUATION_NAME, event_eval_score=eval_score("e.3"),
                         eval_label=semconv.GEN_AI_EVALUATION_SCORE_LABEL, resource_service=resource_service(),
                         outer_cost_rank=_producers.cost_rank_sql("w_cost_source"),
                         inner_cost_rank=_producers.cost_rank_sql("cost_source"),
                         total_only_tokens=_clickhouse(TOTAL_ONLY_TOKENS), is_unpriced=_clickhouse(IS_UNPRICED),
                         p95_duration=_clickhouse("quantile_cont(duration_ms, 0.95)"),
                         **window_parameters())
    return [spans_view(database, pricing=pricing), metric_points_view(database, tables, whole_seconds),
            *split_views(database, filled)]


#: ``metric_points``' metric_type of each ``METRICS_TABLES`` kind (DuckDB's names), and the kind's
#: (value, count, sum, temporality, bucket counts, explicit bounds) from its table. A ClickHouse array
#: cannot be NULL: a point without buckets has empty ones (DuckDB: NULL; none counts a call either way).
_TEMPORALITY = "multiIf(AggregationTemporality = 1, 'delta', AggregationTemporality = 2, 'cumulative', NULL)"
_NO_BUCKETS = ("CAST([] AS Array(Int64))", "CAST([] AS Array(Float64))")
_METRIC_KINDS = {
    "gauge": ("gauge", "Value", "NULL", "NULL", "NULL", *_NO_BUCKETS),
    "sum": ("sum", "Value", "NULL", "NULL", _TEMPORALITY, *_NO_BUCKETS),
    "histogram": ("histogram", "NULL", "toInt64(Count)", "Sum", _TEMPORALITY, "CAST(BucketCounts AS Array(Int64))",
                  "ExplicitBounds"),
    "exp_histogram": ("exponential_histogram", "NULL", "toInt64(Count)", "Sum", _TEMPORALITY, *_NO_BUCKETS),
    "summary": ("summary", "NULL", "toInt64(Count)", "Sum", "NULL", *_NO_BUCKETS),
}


#: The columns the views read of the exporter's tables that a database may lack (a collector whose
#: pipelines send it no logs or metrics never creates their tables): an absent table reads as empty.
_READ_COLUMNS = {
    LOGS_TABLE: "Timestamp DateTime64(9), SeverityNumber UInt8, SeverityText String, Body String, TraceId String, "
                "SpanId String, ServiceName String, LogAttributes Map(LowCardinality(String), String), "
                "ResourceAttributes Map(LowCardinality(String), String), EventName String, ScopeName String, "
                "ScopeVersion String",
    **{table: "TimeUnix DateTime, StartTimeUnix DateTime, MetricName String, MetricUnit String, ServiceName String, "
              "Attributes Map(LowCardinality(String), String), ResourceAttributes Map(LowCardinality(String), String), "
              "ScopeName String, Value Float64, Count UInt64, Sum Float64, AggregationTemporality Int32, "
              "BucketCounts Array(UInt64), ExplicitBounds Array(Float64)"
       for table in METRICS_TABLES.values()},
}


def _source(database: str, table: str, tables: set[str] | frozenset[str]) -> str:
    """What a view reads for the exporter's ``table``: the table, or, when ``tables`` (those present; empty:
    all) lacks it, an empty one with the columns the views read (``null(structure)``), so the store opens."""
    if not tables or table in tables:
        return f"`{database}`.`{table}`"
    return f"null('{_READ_COLUMNS[table]}')"


def _time_or_null(column: str) -> str:
    """A metric table's point time in UTC, NULL when unset (0), as DuckDB's ``_rows.ts`` reads it."""
    return f"if(toUnixTimestamp({column}) = 0, NULL, toTimeZone({column}, 'UTC'))"


#: A point of a whole-second table: its place among its series' points (resource, scope, metric, attributes) of
#: the same second in its part, counted from the last inserted (``later_in_part``). Rows alike in the tables'
#: sorting key keep their insert order in a part: an insert sorts stably, and a merge keeps the parts' order.
_LATER_IN_ITS_PART = ("row_number() OVER (PARTITION BY ServiceName, cityHash64(ResourceAttributes), ScopeName, "
                      "MetricName, cityHash64(Attributes), TimeUnix, _part ORDER BY _part_offset DESC) - 1")
#: A point's export among its process's (resource's) exports of the same second, counted from the last
#: (``later``): the exporter inserts each export it is sent as it comes, one part each until a merge, so a later
#: part (its first block number, the second field of ``_part``) holds a later export; within one part, the
#: series' own order (:data:`_LATER_IN_ITS_PART`). So a series missing from the last export of its second (a
#: point of an earlier part) is not read as of that export.
_LATER_IN_ITS_SECOND = ("dense_rank() OVER (PARTITION BY ServiceName, cityHash64(ResourceAttributes), TimeUnix "
                        "ORDER BY block DESC, later_in_part) - 1")
#: The exports of one second told apart: more than this many in one second are the same export to a reader.
_EXPORTS_IN_A_SECOND = 999


def _point_time(whole_seconds: bool) -> str:
    """A metric table's point time (``TimeUnix``), as :func:`_time_or_null` reads it.

    ``whole_seconds`` (the exporter's ``DateTime`` column): several exports in one second (an export interval
    under 1 s) would share one time, so each point is placed within its second by its process's exports
    after it (``later``, :data:`_LATER_IN_ITS_SECOND`): the last at 999 ns, the one before at 998 ns, ... So
    the last export of a process is at one time, as on DuckDB, where ``running`` reads each process's last
    export (not every point of its last second) and a series' points keep their order. The nanoseconds stay
    below the µs a result holds: a point still reads as its second.

    What whole seconds cannot give (docs/clickhouse.md; tests/clickhouse/test_running_whole_seconds.py):
    ``running``'s ``as_of`` is the export's second, not its time in it; an ``--until`` inside a second reads
    all of that second's exports; and exports that share a part (merged, or batched into one insert) are told
    apart only by each series' own order, so a series missing from the last of them reads as of that export
    with its earlier count."""
    if not whole_seconds:
        return _time_or_null("TimeUnix")
    within = f"toIntervalNanosecond({_EXPORTS_IN_A_SECOND} - least(later, {_EXPORTS_IN_A_SECOND}))"
    return _time_or_null(f"toDateTime64(TimeUnix, 9) + {within}")


def metric_points_view(database: str, tables: set[str] | frozenset[str] = frozenset(),
                       whole_seconds: set[str] | frozenset[str] = frozenset()) -> str:
    """``CREATE OR REPLACE VIEW database.metric_points``: every point of the exporter's metric tables
    (``tables``: those present; empty: all), with DuckDB's ``metric_points`` columns the analyses read.
    The exporter's DDL keeps ``TimeUnix`` in whole seconds (``whole_seconds``: the tables that do), then a
    point's ``time`` is its second, the exports within it in their order (:func:`_point_time`); tables
    ``otel-llm load`` created keep ns (``ExporterSchema.subsecond_metrics``; docs/clickhouse.md)."""
    parts = []
    for kind, (metric_type, value, count, total, temporality, buckets, bounds) in _METRIC_KINDS.items():
        table = METRICS_TABLES[kind]
        source = _source(database, table, tables)
        in_seconds = table in whole_seconds and source.startswith("`")
        if in_seconds:
            source = (f"(SELECT *, {_LATER_IN_ITS_SECOND} AS later FROM (SELECT *, {_LATER_IN_ITS_PART} AS "
                      f"later_in_part, toUInt64(splitByChar('_', _part)[2]) AS block FROM {source}))")
        parts.append(
            f"SELECT {_point_time(in_seconds)} AS time, {_time_or_null('StartTimeUnix')} AS start_time, "
            f"MetricName AS metric_name, '{metric_type}' AS metric_type, nullIf(MetricUnit, '') AS unit, "
            f"{resource_service()} AS service_name, Attributes AS attributes, "
            f"ResourceAttributes AS resource_attributes, CAST({value} AS Nullable(Float64)) AS value, "
            f"CAST({count} AS Nullable(Int64)) AS count, CAST({total} AS Nullable(Float64)) AS sum, "
            f"nullIf(ScopeName, '') AS scope_name, CAST({temporality} AS Nullable(String)) AS temporality, "
            f"{buckets} AS bucket_counts, {bounds} AS explicit_bounds "
            f"FROM {source}")
    return f"CREATE OR REPLACE VIEW `{database}`.metric_points AS\n" + "\nUNION ALL\n".join(parts)


def eval_score(attributes: str) -> str:
    """The evaluation score in the attribute map ``attributes`` (a ClickHouse expression), read as DuckDB's
    ``span_events.eval_score`` and ``queries/log_evaluations.sql`` read it (``_rows.eval_score``): ``TRY_CAST(…
    AS DOUBLE)`` (surrounding whitespace trimmed, ``_`` between digits taken) when finite; NULL when absent, not a
    number, NaN or an infinity. A log record is a span event's twin when its score reads the same, so both engines
    must read it alike."""
    name = _quote(semconv.GEN_AI_EVALUATION_SCORE_VALUE)
    score = try_cast(f"multiIf(mapContains({attributes}, {name}), {attributes}[{name}], NULL)", "Float64")
    return f"multiIf(isFinite({score}), {score}, NULL)"


def _clickhouse(expression: str) -> str:
    """A DuckDB SQL expression of ``_filters`` (over ``llm_calls``' columns) in ClickHouse's SQL."""
    return transpile(f"SELECT {expression}")[0].removeprefix("SELECT ")


#: The window of the views with parameters (``<view>_in``): ClickHouse query parameters, NULL for open.
SINCE, UNTIL = "{since:Nullable(DateTime64(9, 'UTC'))}", "{until:Nullable(DateTime64(9, 'UTC'))}"
#: The far ends of the span table's ``DateTime64(9)``, for an open bound.
_EARLIEST, _LATEST = "toDateTime64(0, 9, 'UTC')", "toDateTime64('2262-01-01 00:00:00', 9, 'UTC')"


def window_parameters() -> dict[str, str]:
    """The ``{name}`` values the view files use for the window: ``since``/``until`` (the parameters),
    ``window`` (passes them on: ``other_in({window})``), ``from_since``/``to_until`` (the bounds, an open
    one at the far end of time), ``trace_times`` (the table of each trace's first and last start) and the
    tables kept at insert that views read (``peer_calls``, ``instrumentation_failures``)."""
    return {"since": SINCE, "until": UNTIL, "window": f"since = {SINCE}, until = {UNTIL}",
            "from_since": f"coalesce({SINCE}, {_EARLIEST})", "to_until": f"coalesce({UNTIL}, {_LATEST})",
            "trace_times": TRACE_TIMES_TABLE, "peer_calls": peer_calls_table_name(), "peer_call": PEER_CALL,
            "instrumentation_failures": instrumentation_failures_table_name()}


_WINDOWED_VIEW = re.compile(r"^CREATE OR REPLACE VIEW `(?P<db>[^`]+)`\.(?P<name>\w+)_in AS\b")


def split_views(database: str, text: str) -> list[str]:
    """The statements of a filled view file, each ``<view>_in`` (a view with the window's parameters)
    followed by ``<view>``, the same over the whole store (both bounds NULL); its ``sortedSum`` (the
    cost sums) written out (:func:`._sums.expand`)."""
    statements = []
    for part in re.split(r";[ \t]*$", expand(text), flags=re.M):
        part = part.strip()
        if not part or _only_comments(part):
            continue
        statements.append(part)
        windowed = _WINDOWED_VIEW.search("\n".join(line for line in part.splitlines()
                                                    if not line.lstrip().startswith("--")))
        if windowed:
            name = windowed.group("name")
            statements.append(f"CREATE OR REPLACE VIEW `{database}`.{name} AS "
                              f"SELECT * FROM `{database}`.{name}_in(since = NULL, until = NULL)")
    return statements


def _only_comments(text: str) -> bool:
    return all(not line.strip() or line.strip().startswith("--") for line in text.splitlines())
