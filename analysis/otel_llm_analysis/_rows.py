"""The shape of every stored row, defined once: what the decoder stages and what a table stores.

Why one table of columns: a row's shape used to be written four times (the DDL,
the decoder's column lists, the Arrow schemas and the insert SQL) and the copies
drifted. Here each table is two lists, and everything else is derived:

* **staged** columns - what :mod:`._decode` appends per row, with their Arrow
  types: the decoder's column lists and the Arrow schema handed to DuckDB
  (plus :data:`CONTEXT`, what the rows of one scope of one line share).
* **stored** columns - name, SQL type, the SQL expression that computes the
  value from a staged row (see :mod:`.ingest` for the names each statement
  offers: the staged columns, ``k``/``v`` attribute lists, ``has_other``,
  ``resource_attributes``, ``row_key``), and a note: the ``CREATE TABLE``,
  the columns an older store lacks, and the insert's select list.

Adding a column is one line in a ``stored`` list (plus, for a value the decoder
does not stage yet, one staged column and the line in ``_decode`` that fills it).
A typed column read from an attribute (:func:`attribute`) with a ``parse``
also reports every value it cannot read, instead of storing a silent NULL.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any, Mapping

import pyarrow as pa
from opentelemetry.semconv.attributes.service_attributes import SERVICE_NAME

from otel_llm import semconv
from otel_llm_analysis import _producers
from otel_llm_analysis._spellings import FIRST_TOKEN_EVENTS, FIRST_TOKEN_SECONDS, SPELLINGS

__all__ = [
    "CONTEXT",
    "SPAN_KINDS",
    "Column",
    "POSITION",
    "TABLES",
    "RESOURCES",
    "RESOURCE_VALUES",
    "STORED",
    "SERIES_KEY",
    "TRACE_KEY",
    "Table",
    "attribute",
    "create_tables",
    "first",
    "lookup",
    "current_column",
    "eval_score",
    "stored_columns",
    "ts",
    "window",
]


@dataclass(frozen=True, slots=True)
class Column:
    """One stored column. ``expr`` is SQL over the staged row. Typed attributes only:
    ``raw`` is the attribute text (selected as ``_raw_<name>`` first) and ``parsed``
    its typed value, NULL when unreadable, so a value present but unreadable is
    reported; ``expr`` is ``parsed`` unless the column derives more from it
    (``cost_usd`` keeps only a usable cost). ``fill``: see :func:`create_tables`."""

    name: str
    sql_type: str
    expr: str
    doc: str = ""
    raw: str | None = None
    parsed: str | None = None
    #: SQL over the stored row giving the value of rows stored without it (a store made by an older
    #: version, or written by one since); None leaves them NULL
    fill: str | None = None
    #: whether ``fill`` is what every row holds (a function of the row's other columns, such as a hash of
    #: them), not only a default for rows without it: checked when a store is opened (:func:`_fill`)
    derived: bool = False


@dataclass(frozen=True, slots=True)
class Table:
    """A stored table and the staged rows it is computed from."""

    name: str
    staged: tuple[tuple[str, pa.DataType], ...]
    stored: tuple[Column, ...]

    @property
    def staged_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.staged)

    def arrow_schema(self) -> pa.Schema:
        return pa.schema(list(self.staged))

    def ddl(self) -> str:
        """``CREATE TABLE IF NOT EXISTS`` with every stored column and its note."""
        width = max(len(c.name) for c in self.stored)
        lines = []
        for i, c in enumerate(self.stored):
            line = f"    {c.name:<{width}} {c.sql_type}{',' if i < len(self.stored) - 1 else ''}"
            lines.append(f"{line:<56} -- {c.doc}" if c.doc else line)
        return f"CREATE TABLE IF NOT EXISTS {self.name} (\n" + "\n".join(lines) + "\n);"

    def select_list(self) -> str:
        """``expr AS name, ...`` for the insert (``INSERT ... BY NAME``)."""
        return ",\n    ".join(f"{c.expr} AS {c.name}" for c in self.stored)

    def checked(self) -> tuple[Column, ...]:
        """Columns whose unreadable values are reported (typed attributes with a parse)."""
        return tuple(c for c in self.stored if c.parsed is not None)


#: OTLP ``Span.kind`` numbers -> names stored in ``spans.span_kind``.
SPAN_KINDS: Mapping[int, str] = {
    0: "UNSPECIFIED", 1: "INTERNAL", 2: "SERVER", 3: "CLIENT", 4: "PRODUCER", 5: "CONSUMER",
}


# --- expressions --------------------------------------------------------------------


#: SQL: where attribute ``{}`` sits in the row's key list ``k`` (1-based; NULL when absent).
#: The span insert finds these in its select list and computes them once per distinct key
#: list instead of once per row (``_statements.by_key_list``).
POSITION = "list_position(k, '{}')"


def lookup(name: str) -> str:
    """The value of attribute ``name`` from the row's aligned key/value lists (NULL if absent)."""
    return f"v[{POSITION.format(name)}]"


def ts(ns: str) -> str:
    """Nanoseconds since the epoch -> TIMESTAMP (microseconds); 0 (unset) -> NULL."""
    return f"CASE WHEN {ns} > 0 THEN make_timestamp({ns} // 1000) END"


def window(column: str, first_ns: int | None, last_ns: int | None = None, undated: bool = False) -> str:
    """SQL predicate: the stored TIMESTAMP ``column`` (made by :func:`ts`) lies within a range of times.

    ``first_ns`` / ``last_ns``: the range in ns since the epoch (None: open at
    that end; both None: no dated row); ``undated``: rows without a time (NULL)
    count too. The bounds are constants, so DuckDB skips every row group whose
    min/max (and null count) rule them out: a query bounded this way reads the
    range's rows, however large the store.
    """
    parts = []
    if first_ns is not None or last_ns is not None:
        low = f"{column} >= {ts(str(first_ns))}" if first_ns is not None else None
        high = f"{column} <= {ts(str(last_ns))}" if last_ns is not None else None
        parts.append(" AND ".join(p for p in (low, high) if p))
    if undated:
        parts.append(f"{column} IS NULL")
    return "(" + " OR ".join(parts) + ")" if parts else "FALSE"


def first(column: str) -> str:
    """The first present spelling of ``column`` (``_spellings.SPELLINGS``) from the k/v lists.

    Rows carrying none of the other spellings (all of otel-llm's own spans) look
    up only the first one: half the work (``has_other``, see ``_statements``).
    """
    names = [lookup(name) for name in SPELLINGS[column]]
    if len(names) == 1:
        return names[0]
    return f"CASE WHEN has_other THEN coalesce({', '.join(names)}) ELSE {names[0]} END"


#: Parsers for typed attributes: ``{}`` is the attribute text; NULL means "cannot read".
#: A count is a non-negative integer up to 2**53 ("12", 12, 12.0; not 12.5, -1, "abc", 1e30, 2**63-1):
#: beyond that a double (and the report's JSON) no longer holds it exactly, and sums overflow.
COUNT = "CASE WHEN TRY_CAST({0} AS BIGINT) BETWEEN 0 AND 9007199254740992 " \
        "AND TRY_CAST({0} AS BIGINT) = TRY_CAST({0} AS DOUBLE) THEN TRY_CAST({0} AS BIGINT) END"
#: A finite number (NaN and infinities would poison every sum they enter).
NUMBER = "CASE WHEN isfinite(TRY_CAST({0} AS DOUBLE)) THEN TRY_CAST({0} AS DOUBLE) END"
#: One call's cost: a number from 0 to the SDK's bound on one call (``MAX_CALL_COST_USD``; NaN and infinities
#: are outside): a negative cost or one beyond it (a unit error, a hostile span) would be every total it enters.
COST = (f"CASE WHEN TRY_CAST({{0}} AS DOUBLE) BETWEEN 0 AND {_producers.MAX_CALL_COST_USD:.0f} "
        "THEN TRY_CAST({0} AS DOUBLE) END")


def attribute(name: str, sql_type: str = "VARCHAR", note: str = "", parse: str | None = None) -> Column:
    """A column read from the first present spelling of attribute ``name`` (see ``SPELLINGS``).

    Its note is that spelling (plus ``note``). With ``parse`` (:data:`COUNT`,
    :data:`NUMBER`), the attribute text is first selected as ``_raw_<name>``; a
    value present but unreadable is stored as NULL and reported with its file
    and line.
    """
    doc = SPELLINGS[name][0] + (f": {note}" if note else "")
    raw = first(name)
    if parse is None:
        return Column(name, sql_type, raw, doc)
    parsed = parse.format(f"_raw_{name}")
    return Column(name, sql_type, parsed, doc, raw=raw, parsed=parsed)


_FINISH = first("finish_reasons")


def string_list_sql(value: str) -> str:
    """SQL: the stored text of an attribute as a list of strings - an OTLP array (``{"values": [...]}``), a JSON
    list, or one value as a one-item list; NULL stays NULL."""
    return (f"CASE WHEN {value} IS NULL THEN NULL "
            f"WHEN starts_with({value}, '{{') THEN json_extract_string({value}, '$.values[*].*') "
            f"WHEN starts_with({value}, '[') THEN TRY_CAST(json({value}) AS VARCHAR[]) "
            f"ELSE [{value}] END")
#: The model asked for: its spelled attribute, else the producer's invocation parameters.
_REQUEST_MODEL = _producers.request_model_sql(lookup, first("request_model"))
_INPUT_TOKENS = attribute("input_tokens", "BIGINT", "all input tokens, cached included", COUNT)
_OUTPUT_TOKENS = attribute("output_tokens", "BIGINT", "reasoning included", COUNT)
_COST_USD = attribute("cost_usd", "DOUBLE", "NULL when unknown, never a made-up 0 (see cost_source)", COST)
#: ``cost_usd``, ``cost_source``, ``cost_table``: the span's own cost when usable, else NULL
#: (then priced after ingest by ``_costs``); see ``_producers.cost_sql``.
_COST = _producers.cost_sql(lookup, _COST_USD.parsed, _INPUT_TOKENS.parsed, _OUTPUT_TOKENS.parsed)
#: A kind outside the enum keeps its number ('7') rather than turning into NULL.
_KIND_CASE = ("CASE kind " + " ".join(f"WHEN {k} THEN '{v}'" for k, v in SPAN_KINDS.items())
              + " ELSE CAST(kind AS VARCHAR) END")
_TEXT = pa.string()
_JSON = pa.large_string()  # raw attribute JSON: one buffer per batch may pass 2 GB
_I32 = pa.int32()
_I64 = pa.int64()
_F64 = pa.float64()

#: What rows of one scope of one line share, staged once per batch (``_b_ctx``) and
#: referred to by each row's ``ctx``: where the rows came from, their resource
#: (``_b_res``) and their instrumentation scope. One int per row instead of six.
CONTEXT: tuple[tuple[str, pa.DataType], ...] = (
    ("ctx", _I32), ("source_file", _TEXT), ("line", _I32), ("res_ord", _I32), ("scope_name", _TEXT),
    ("scope_version", _TEXT), ("scope_attrs", _JSON),
)


# --- spans -------------------------------------------------------------------------

#: A trace id as a UUID: the same 128 bits. Stored ids are 32 lowercase hex digits (``_decode`` normalises
#: them), so two spans share a UUID exactly when they share a trace: a group's distinct traces are counted
#: over it, one fixed-width value to hash and compare instead of 32 characters (a fifth of ``summary --by
#: node`` on 1M spans). A UUID, not a 128-bit integer: Arrow, Parquet and Python read it (``SELECT *`` and
#: the exports carry it).
TRACE_KEY = "trace_id::UUID"

SPANS = Table(
    "span_rows",
    staged=(
        ("trace_id", _TEXT), ("span_id", _TEXT), ("parent_span_id", _TEXT), ("name", _TEXT), ("kind", _I32),
        ("start_ns", _I64), ("end_ns", _I64), ("status_code", _I32), ("status_message", _TEXT),
        ("trace_state", _TEXT), ("flags", _I64), ("dropped_attributes_count", _I64),
        ("dropped_events_count", _I64), ("dropped_links_count", _I64), ("ctx", _I32), ("attrs", _JSON),
        ("ttft_ns", _I64),
    ),
    stored=(
        Column("trace_id", "VARCHAR NOT NULL", "trace_id"),
        Column("span_id", "VARCHAR NOT NULL", "span_id"),
        Column("parent_span_id", "VARCHAR", "parent_span_id"),
        Column("name", "VARCHAR", "name"),
        Column("span_kind", "VARCHAR", _KIND_CASE,
               "INTERNAL | SERVER | CLIENT | PRODUCER | CONSUMER | UNSPECIFIED (another number: as sent)"),
        Column("service_name", "VARCHAR", f"coalesce(resource_service, {first('service_name')})",
               f"{SERVICE_NAME} of the resource (else of the span)"),
        Column("scope_name", "VARCHAR", "nullif(scope_name, '')", "instrumentation scope"),
        Column("project", "VARCHAR",
               f"coalesce({first('project')}, resource_project)",
               f"{semconv.OTEL_LLM_PROJECT}, of the span or its resource"),
        Column("otel_kind", "VARCHAR", _producers.kind_sql(lookup),
               " | ".join((semconv.KIND_CHAT, semconv.KIND_GRAPH_NODE, semconv.KIND_VECTOR_OP, semconv.KIND_LLM_CALL,
                           semconv.KIND_TOOL, semconv.KIND_AGENT))
               + f": {semconv.OTEL_LLM_KIND}, else mapped from the producer's kind (_producers.KIND_SOURCES)"),
        Column("start_time", "TIMESTAMP", ts("start_ns")),
        Column("end_time", "TIMESTAMP", ts("end_ns")),
        Column("duration_ms", "DOUBLE", "CASE WHEN start_ns > 0 AND end_ns > 0 THEN (end_ns - start_ns) / 1e6 END"),
        Column("status_code", "INTEGER", "status_code", "OTLP: 0 unset, 1 ok, 2 error"),
        Column("status_message", "VARCHAR", "status_message"),
        attribute("error_type"),
        attribute("operation"),
        Column("provider", "VARCHAR", _producers.provider_sql(first("provider")),
               f"{SPELLINGS['provider'][0]}, as the semconv value (OpenAI -> openai, "
               f"azure -> {_producers.PROVIDER_NAMES['azure']}: _producers.PROVIDER_NAMES)"),
        Column("model", "VARCHAR", f"coalesce({_REQUEST_MODEL}, {first('response_model')})",
               "the model asked for: request_model, else response_model"),
        Column("request_model", "VARCHAR", _REQUEST_MODEL,
               f"{SPELLINGS['request_model'][0]}, else the producer's invocation parameters"),
        attribute("response_model", note="the model that answered"),
        _INPUT_TOKENS,
        _OUTPUT_TOKENS,
        attribute("cache_read_tokens", "BIGINT", parse=COUNT),
        attribute("cache_write_tokens", "BIGINT", parse=COUNT),
        attribute("reasoning_tokens", "BIGINT", parse=COUNT),
        Column("cost_usd", "DOUBLE", _COST["cost_usd"], _COST_USD.doc, raw=_COST_USD.raw, parsed=_COST_USD.parsed),
        Column("cost_source", "VARCHAR", _COST["cost_source"],
               " | ".join(_producers.COST_SOURCES) + " | NULL (no cost): who priced the call"),
        Column("cost_table", "VARCHAR", _COST["cost_table"],
               "the price table: user | genai-prices@<version> (sdk, ingest)"),
        Column("finish_reasons", "VARCHAR[]",
               string_list_sql(_FINISH)),
        Column("stream_ttft_ms", "DOUBLE", "ttft_ns / 1e6",
               f"first first-token event ({' / '.join(FIRST_TOKEN_EVENTS)}) - start_time; without one, "
               f"{FIRST_TOKEN_SECONDS} (s) of a streamed OpenLIT span"),
        attribute("conversation_id"),
        attribute("user_id"),
        attribute("graph_node"),
        attribute("db_system"),
        attribute("db_operation"),
        attribute("db_collection"),
        Column("wrapper_span_id", "VARCHAR", "NULL", "LLM spans: the LLM span this one sits directly in "
               "(derived after each ingest, see _nesting.py; llm_calls counts such a pair once)"),
        Column("wrapped_calls", "INTEGER", "NULL", "LLM spans: how many LLM spans sit directly in this one (derived)"),
        Column("context_span_id", "VARCHAR", "NULL", "another producer's LLM spans: the nearest otel-llm span they "
               "run in, whose project, conversation, user, graph node and run config llm_calls gives the call "
               "(derived after each ingest, see _call_context.py)"),
        Column("attr_keys", "VARCHAR[]", "k", "span attributes: names ..."),
        Column("attr_values", "VARCHAR[]", "v", "... and values, aligned, keys unique"),
        Column("resource_id", "INTEGER", "resource_id",
               "the span's resource: resources.resource_id (the spans view shows its resource_attributes)"),
        Column("source_file", "VARCHAR", "source_file"),
        Column("scope_version", "VARCHAR", "nullif(scope_version, '')"),
        Column("trace_state", "VARCHAR", "nullif(trace_state, '')", "W3C tracestate"),
        Column("flags", "BIGINT", "flags", "W3C trace flags (bits 0-7) and parent-is-remote (bits 8-9)"),
        Column("dropped_attributes_count", "BIGINT", "dropped_attributes_count",
               "attributes the producer dropped (its limits)"),
        Column("dropped_events_count", "BIGINT", "dropped_events_count"),
        Column("dropped_links_count", "BIGINT", "dropped_links_count"),
        Column("attr_entries_dropped", "INTEGER", "dropped_entries",
               "span attribute entries not kept as sent: not a key/value object, no key, a key given again "
               "(its last value kept), or a value setting several members (one kept); NULL when none. Each such span is named in the ingest's report "
               "(_statements.by_key_list counts them, _attribute_entries names them)"),
        Column("trace_key", "UUID", TRACE_KEY, "trace_id as a UUID (the same 128 bits): what distinct counts count",
               fill=TRACE_KEY, derived=True),
    ),
)


def _with_unreadable(table: Table) -> Table:
    """``table`` plus ``unreadable_columns``: the typed columns of a row left NULL because
    their attribute was present but unreadable (the value itself stays in the attributes)."""
    checked = table.checked()
    failed = [f"(_raw_{c.name} IS NOT NULL AND {c.parsed} IS NULL)" for c in checked]
    names = ", ".join(f"CASE WHEN {cond} THEN '{c.name}' END" for cond, c in zip(failed, checked))
    expr = f"CASE WHEN {' OR '.join(failed)} THEN list_filter([{names}], lambda x: x IS NOT NULL) END"
    column = Column("unreadable_columns", "VARCHAR[]", expr,
                    "typed columns left NULL: their attribute's value was unreadable (see attributes)")
    return Table(table.name, table.staged, (*table.stored, column))


SPANS = _with_unreadable(SPANS)

# --- span events and links: stored when their span is new --------------------------


def eval_score(text: str) -> str:
    """SQL: an evaluation score read from its attribute text ``text`` (an expression), as ``span_events.eval_score``
    stores it and ``queries/log_evaluations.sql`` reads a log record's: a finite number (:data:`NUMBER`), NULL when
    the text is absent, no number, NaN or an infinity (one such score would make every average it enters NaN or
    infinite). A log record is a span event's twin when its score reads the same, so both read it alike."""
    return NUMBER.format(text)


#: An event's evaluation score as its text (NULL when absent) and as ``span_events.eval_score`` reads it: NULL
#: when it is no finite number (then reported: ``_statements.UNREADABLE_SCORES``)
EVAL_SCORE_TEXT = lookup(semconv.GEN_AI_EVALUATION_SCORE_VALUE)
EVAL_SCORE = eval_score(EVAL_SCORE_TEXT)

EVENTS = Table(
    "span_events",
    staged=(("span_ord", _I64), ("trace_id", _TEXT), ("span_id", _TEXT), ("time_ns", _I64), ("name", _TEXT),
            ("dropped_attributes_count", _I64), ("attrs", _JSON)),
    stored=(
        Column("trace_id", "VARCHAR NOT NULL", "trace_id"),
        Column("span_id", "VARCHAR NOT NULL", "span_id"),
        Column("time", "TIMESTAMP", ts("time_ns")),
        Column("name", "VARCHAR", "name"),
        Column("attributes", "MAP(VARCHAR, VARCHAR)", "map(k, v)"),
        Column("eval_name", "VARCHAR", lookup(semconv.GEN_AI_EVALUATION_NAME),
               f"{semconv.GEN_AI_EVALUATION_NAME} ({semconv.EVENT_EVALUATION_RESULT} events)"),
        Column("eval_score", "DOUBLE", EVAL_SCORE, semconv.GEN_AI_EVALUATION_SCORE_VALUE),
        Column("eval_label", "VARCHAR", lookup(semconv.GEN_AI_EVALUATION_SCORE_LABEL),
               f"{semconv.GEN_AI_EVALUATION_SCORE_LABEL}: pass | warning | fail | ..."),
        Column("dropped_attributes_count", "BIGINT", "dropped_attributes_count"),
    ),
)

LINKS = Table(
    "span_links",
    staged=(("span_ord", _I64), ("trace_id", _TEXT), ("span_id", _TEXT), ("linked_trace_id", _TEXT),
            ("linked_span_id", _TEXT), ("trace_state", _TEXT), ("flags", _I64),
            ("dropped_attributes_count", _I64), ("attrs", _JSON)),
    stored=(
        Column("trace_id", "VARCHAR NOT NULL", "trace_id", "the span that holds the link"),
        Column("span_id", "VARCHAR NOT NULL", "span_id"),
        Column("linked_trace_id", "VARCHAR NOT NULL", "linked_trace_id", "the span it links to"),
        Column("linked_span_id", "VARCHAR NOT NULL", "linked_span_id"),
        Column("linked_trace_state", "VARCHAR", "nullif(trace_state, '')"),
        Column("flags", "BIGINT", "flags"),
        Column("attributes", "MAP(VARCHAR, VARCHAR)", "map(k, v)"),
        Column("dropped_attributes_count", "BIGINT", "dropped_attributes_count"),
    ),
)

# --- metric points and their exemplars ------------------------------------------------

#: A point's series, over the stored row: its metric, resource, attributes and start (a cumulative series
#: starts again with a new start time). Stored as ``metric_points.series_id`` at ingest (not ``series``:
#: an older version names its computed hash so in its queries, which a column of that name would shadow).
#: The analyses measure each point's rise within its series (``lag() OVER (PARTITION BY series_id ...)``),
#: and hashing the two attribute maps of every point in every such query cost seconds on a store of an
#: SDK's per-minute exports (3.4M points: 17 s of CPU to partition by the columns, 1.1 s to hash them,
#: 0.6 s by the stored hash). The ingest's expression hashes the same values as they are stored.
def _series_hash(attributes: str, start_time: str) -> str:
    """SQL hashing a point's series, its attributes and start read by ``attributes`` and ``start_time``."""
    return f"hash(metric_name, resource_attributes, {attributes}, {start_time})"


SERIES_KEY = _series_hash("attributes", "start_time")

_QUANTILES = pa.list_(pa.struct([("quantile", _F64), ("value", _F64)]))
#: The explicit buckets of a point of another kind (gauge, sum, exponential histogram, summary): empty lists, not
#: NULL, as ClickHouse's ``metric_points`` gives them (its arrays cannot be NULL), so the same SQL answers alike on
#: both engines. Stored so (the staged NULL, which the point's ``row_key`` hashes, is unchanged), and a store's
#: older rows are filled so when it is opened (``fill``).
_NO_COUNTS, _NO_BOUNDS = "[]::BIGINT[]", "[]::DOUBLE[]"

_LEGACY_DOC = ("rows an older version or another DuckDB keyed (another row_key): a hash of the columns every version "
               "stored, by which a record read again is also matched (_row_keys); NULL for the others")

POINTS = Table(
    "metric_points",
    staged=(
        ("time_ns", _I64), ("start_ns", _I64), ("metric_name", _TEXT), ("description", _TEXT),
        ("metric_type", _TEXT), ("unit", _TEXT), ("temporality", _TEXT), ("is_monotonic", pa.bool_()),
        ("ctx", _I32), ("attrs", _JSON), ("flags", _I64), ("value", _F64), ("count", _I64), ("sum", _F64), ("min", _F64),
        ("max", _F64), ("bucket_counts", pa.list_(_I64)), ("explicit_bounds", pa.list_(_F64)), ("scale", _I32),
        ("zero_count", _I64), ("zero_threshold", _F64), ("positive_offset", _I32),
        ("positive_bucket_counts", pa.list_(_I64)), ("negative_offset", _I32),
        ("negative_bucket_counts", pa.list_(_I64)), ("quantile_values", _QUANTILES), ("exemplars", _JSON),
    ),
    stored=(
        Column("time", "TIMESTAMP", ts("time_ns")),
        Column("start_time", "TIMESTAMP", ts("start_ns")),
        Column("metric_name", "VARCHAR", "metric_name"),
        Column("metric_type", "VARCHAR", "metric_type",
               "gauge | sum | histogram | exponential_histogram | summary"),
        Column("unit", "VARCHAR", "nullif(unit, '')"),
        Column("temporality", "VARCHAR", "temporality", "cumulative | delta | NULL (another number: as sent)"),
        Column("is_monotonic", "BOOLEAN", "is_monotonic"),
        Column("service_name", "VARCHAR", f"resource_attributes['{SERVICE_NAME}']"),
        Column("scope_name", "VARCHAR", "nullif(scope_name, '')"),
        Column("attributes", "MAP(VARCHAR, VARCHAR)", "map(k, v)", "the point's own"),
        Column("resource_attributes", "MAP(VARCHAR, VARCHAR)", "resource_attributes"),
        Column("value", "DOUBLE", "value", "gauge / sum"),
        Column("count", "BIGINT", "count", "histogram / exponential_histogram / summary"),
        Column("sum", "DOUBLE", "sum"),
        Column("min", "DOUBLE", "min"),
        Column("max", "DOUBLE", "max"),
        Column("bucket_counts", "BIGINT[]", f"coalesce(bucket_counts, {_NO_COUNTS})",
               "histogram: len(explicit_bounds) + 1 buckets; empty for the other kinds", fill=_NO_COUNTS),
        Column("explicit_bounds", "DOUBLE[]", f"coalesce(explicit_bounds, {_NO_BOUNDS})",
               "histogram; empty for the other kinds", fill=_NO_BOUNDS),
        Column("row_key", "UBIGINT", "row_key", "hash of everything the point holds (_row_keys): de-duplication"),
        Column("source_file", "VARCHAR", "source_file"),
        Column("description", "VARCHAR", "nullif(description, '')"),
        Column("scope_version", "VARCHAR", "nullif(scope_version, '')"),
        Column("series_id", "UBIGINT", _series_hash("map(k, v)", ts("start_ns")),  # as attributes, start_time
               "the point's series (SERIES_KEY): what a cumulative point's rise is measured within", fill=SERIES_KEY,
               derived=True),
        Column("flags", "BIGINT", "flags", "1 = no recorded value"),
        Column("scale", "INTEGER", "scale", "exponential_histogram: base = 2^(2^-scale)"),
        Column("zero_count", "BIGINT", "zero_count", "exponential_histogram: values within zero_threshold of 0"),
        Column("zero_threshold", "DOUBLE", "zero_threshold"),
        Column("positive_offset", "INTEGER", "positive_offset",
               "exponential_histogram: bucket i counts (base^(offset+i), base^(offset+i+1)]"),
        Column("positive_bucket_counts", "BIGINT[]", "positive_bucket_counts"),
        Column("negative_offset", "INTEGER", "negative_offset"),
        Column("negative_bucket_counts", "BIGINT[]", "negative_bucket_counts"),
        Column("quantile_values", "STRUCT(quantile DOUBLE, value DOUBLE)[]", "quantile_values", "summary"),
        Column("legacy_key", "UBIGINT", "NULL::UBIGINT", _LEGACY_DOC),
    ),
)

EXEMPLARS = Table(
    "metric_exemplars",
    staged=(("point_ord", _I64), ("metric_name", _TEXT), ("time_ns", _I64), ("value", _F64),
            ("trace_id", _TEXT), ("span_id", _TEXT), ("attrs", _JSON)),
    stored=(
        Column("point_key", "UBIGINT", "point_key", "metric_points.row_key of the point it belongs to"),
        Column("metric_name", "VARCHAR", "metric_name"),
        Column("time", "TIMESTAMP", ts("time_ns")),
        Column("value", "DOUBLE", "value"),
        Column("trace_id", "VARCHAR", "trace_id", "the span it was recorded in, if any"),
        Column("span_id", "VARCHAR", "span_id"),
        Column("attributes", "MAP(VARCHAR, VARCHAR)", "map(k, v)", "filtered attributes"),
    ),
)

# --- logs ----------------------------------------------------------------------------

LOGS = Table(
    "logs",
    staged=(
        ("time_ns", _I64), ("observed_ns", _I64), ("severity_number", _I32), ("severity_text", _TEXT),
        ("body", _JSON), ("trace_id", _TEXT), ("span_id", _TEXT), ("flags", _I64), ("event_name", _TEXT),
        ("ctx", _I32), ("dropped_attributes_count", _I64), ("attrs", _JSON),
    ),
    stored=(
        Column("time", "TIMESTAMP", f"{ts('coalesce(nullif(time_ns, 0), observed_ns)')}",
               "timeUnixNano, else observedTimeUnixNano"),
        Column("severity_number", "INTEGER", "nullif(severity_number, 0)"),
        Column("severity_text", "VARCHAR", "nullif(severity_text, '')"),
        Column("body", "VARCHAR", "json_extract_string(body, '$.*')[1]",
               "text of the body's value, rendered as attribute values are"),
        Column("trace_id", "VARCHAR", "trace_id"),
        Column("span_id", "VARCHAR", "span_id"),
        Column("service_name", "VARCHAR", f"resource_attributes['{SERVICE_NAME}']"),
        Column("attributes", "MAP(VARCHAR, VARCHAR)", "map(k, v)"),
        Column("resource_attributes", "MAP(VARCHAR, VARCHAR)", "resource_attributes"),
        Column("row_key", "UBIGINT", "row_key", "hash of everything the record holds (_row_keys): de-duplication"),
        Column("source_file", "VARCHAR", "source_file"),
        Column("event_name", "VARCHAR", "nullif(event_name, '')", "the record is an event of this name"),
        Column("observed_time", "TIMESTAMP", ts("observed_ns")),
        Column("flags", "BIGINT", "flags", "W3C trace flags"),
        Column("scope_name", "VARCHAR", "nullif(scope_name, '')"),
        Column("scope_version", "VARCHAR", "nullif(scope_version, '')"),
        Column("dropped_attributes_count", "BIGINT", "dropped_attributes_count"),
        Column("legacy_key", "UBIGINT", "NULL::UBIGINT", _LEGACY_DOC),
    ),
)

#: Every table, by the short name ingest stages it under (``_b_<name>``).
TABLES: Mapping[str, Table] = {
    "spans": SPANS, "events": EVENTS, "links": LINKS, "points": POINTS, "exemplars": EXEMPLARS, "logs": LOGS,
}

# --- resources: stored once each, spans refer to them by number ----------------------------


def resource_hash(keys: str, values: str) -> str:
    """SQL: what finds a resource again, a hash of its (unique) attribute names and values in order.

    The same attributes give the same hash whichever file, batch or run they
    come from, so each resource is stored once. Spans carry only its number: a
    MAP per span cost ~40% of the span insert, and nearly every span of a
    process shares its resource.
    """
    return f"hash({keys}, {values})"


#: Computed once per resource of a batch (``_b_res``, over its ``k``/``v`` lists), joined to its rows.
RESOURCE_VALUES: Mapping[str, str] = {
    "resource_hash": resource_hash("k", "v"),
    "resource_attributes": "map(k, v)",
    "resource_service": lookup(SERVICE_NAME),
    "resource_project": lookup(semconv.OTEL_LLM_PROJECT),
}

RESOURCES = Table(
    "resources",
    staged=(("res_ord", _I32), ("attrs", _TEXT)),
    stored=(
        Column("resource_id", "INTEGER NOT NULL", "resource_id",
               "1, 2, 3, ... without gaps (see resource_attributes_of in schema.sql): span_rows.resource_id"),
        Column("resource_hash", "UBIGINT NOT NULL", "resource_hash",
               "hash of its attribute names and values: the same resource is found again, not stored twice"),
        Column("resource_attributes", "MAP(VARCHAR, VARCHAR)", "resource_attributes",
               "service.name, deployment.environment.name, host.name, ..."),
    ),
)

#: Every stored table.
STORED: tuple[Table, ...] = (*TABLES.values(), RESOURCES)


def create_tables(con: Any) -> None:
    """Create every table, add the columns a store made by an older version lacks, and note them.

    Columns are only ever added (the contract: add, never rename), so an old
    store keeps its rows and gains the new columns, NULL for its old rows but
    where a column says how to compute them (``fill``, :func:`_fill`). Every
    column carries its current note as a comment (set where it differs, so a
    store made before the notes existed, or under an older meaning, gets them
    too): ``SELECT column_name, comment FROM duckdb_columns() WHERE table_name =
    'span_rows'`` documents the store.
    """
    existing: dict[str, dict[str, str | None]] = {}
    for table, column, comment in con.execute(
            "SELECT table_name, column_name, comment FROM duckdb_columns() WHERE database_name = current_database() "
            "AND schema_name = 'main'").fetchall():
        existing.setdefault(table, {})[column] = comment
    missing = [table.ddl() for table in STORED if table.name not in existing]
    if missing:
        con.execute("\n".join(missing))
    comments = []
    for table in STORED:
        have = existing.get(table.name, {})
        for c in table.stored:
            if table.name in existing and c.name not in have:
                con.execute(f"ALTER TABLE {table.name} ADD COLUMN {c.name} {c.sql_type.replace(' NOT NULL', '')}")
            if table.name in existing and c.fill is not None:
                _fill(con, table.name, c)
            if have.get(c.name) != (c.doc or None):
                note = "NULL" if not c.doc else "'" + c.doc.replace("'", "''") + "'"
                comments.append(f"COMMENT ON COLUMN {table.name}.{c.name} IS {note};")
    if comments:
        con.execute("\n".join(comments))
    if "resource_attributes" in existing.get(SPANS.name, {}):
        _store_resources_once(con)
    _COLUMNS.pop(con, None)
    _CURRENT.pop(con, None)


def _fill(con: Any, table: str, column: Column) -> None:
    """Compute ``column`` (one with a ``fill``) for the rows that lack it: all rows when it was just added,
    and the rows an older version wrote since (it inserts by name and leaves the column NULL), which
    would otherwise drop out of what the column serves (a distinct count) in silence. A ``derived`` column
    is computed again for all rows when its first or last row disagree with ``fill`` (:func:`_agrees`): a
    hash stored by another DuckDB version. Asked first: an ``UPDATE`` that changes nothing still holds the
    next checkpoint back."""
    ((lacking,),) = con.execute(f"SELECT EXISTS (SELECT 1 FROM {table} WHERE {column.name} IS NULL)").fetchall()
    if column.derived and not _agrees(con, table, column):
        con.execute(f"UPDATE {table} SET {column.name} = {column.fill} "
                    f"WHERE {column.name} IS DISTINCT FROM {column.fill}")
    elif lacking:
        con.execute(f"UPDATE {table} SET {column.name} = {column.fill} WHERE {column.name} IS NULL")


def _agrees(con: Any, table: str, column: Column) -> bool:
    """Whether ``column`` holds ``fill``'s value in ``table``'s first and last rows (NULLs aside). Each writing
    open makes every row agree (:func:`_fill`), so two rows tell whether this DuckDB computes ``fill`` as the
    one that stored them: a stored ``hash()`` of another version would split a series in two."""
    ((agrees,),) = con.execute(f"""
        SELECT coalesce(bool_and({column.name} = {column.fill}), TRUE) FROM {table}
        WHERE rowid IN (SELECT min(rowid) FROM {table} UNION ALL SELECT max(rowid) FROM {table})
          AND {column.name} IS NOT NULL""").fetchall()
    return bool(agrees)


#: connection -> table -> its columns (:func:`stored_columns`)
_COLUMNS: "weakref.WeakKeyDictionary[Any, dict[str, frozenset[str]]]" = weakref.WeakKeyDictionary()
#: connection -> (table, column) -> whether it can be read as its ``fill`` (:func:`current_column`)
_CURRENT: "weakref.WeakKeyDictionary[Any, dict[tuple[str, str], bool]]" = weakref.WeakKeyDictionary()


def stored_columns(con: Any, table: str) -> frozenset[str]:
    """The columns ``table`` (one of :data:`STORED`) has in ``con``'s DuckDB store, for a query that reads
    a column added since a store was made: an older version's store opened read-only lacks it. Asked once
    per connection (about 1 ms a time): only :func:`create_tables` changes these tables' columns, and it
    forgets them. (Not for the derived tables, which ``views.sql`` may make again with other columns.)"""
    kept = _COLUMNS.setdefault(con, {})
    if table not in kept:
        kept[table] = frozenset(name for (name,) in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() "
            "AND schema_name = 'main' AND table_name = ?", [table]).fetchall())
    return kept[table]


def current_column(con: Any, table: Table, name: str) -> bool:
    """Whether the column ``name`` of ``table`` (a ``derived`` one) holds ``fill``'s value in every row of
    ``con``'s DuckDB store, so a query may read it instead of computing ``fill``: a store opened read-only
    may lack it (an older version's), have rows without it (written by an older version since) or hold a
    hash of another DuckDB version (:func:`_agrees`). Asked once per connection, like :func:`stored_columns`."""
    kept = _CURRENT.setdefault(con, {})
    if (table.name, name) not in kept:
        column = next(c for c in table.stored if c.name == name)
        assert column.derived and column.fill is not None, f"{table.name}.{name} is not derived from its row"
        current = name in stored_columns(con, table.name)
        if current:
            ((lacking,),) = con.execute(f"SELECT EXISTS (SELECT 1 FROM {table.name} WHERE {name} IS NULL)").fetchall()
            current = not lacking and _agrees(con, table.name, column)
        kept[(table.name, name)] = current
    return kept[(table.name, name)]


def _store_resources_once(con: Any) -> None:
    """Move the resource MAP a store made by an older version keeps on every span into ``resources``.

    One transaction: each distinct resource (of its spans, logs and metric
    points, as ingest stores every resource it reads) is stored once, numbered
    and under the hash ingest finds it by, every span gets its resource's
    number, and the per-span column is dropped. The ``spans`` view shows the
    same ``resource_attributes`` before and after.
    """
    key = resource_hash("map_keys(resource_attributes)", "map_values(resource_attributes)")
    span_key = resource_hash(f"map_keys({SPANS.name}.resource_attributes)",
                             f"map_values({SPANS.name}.resource_attributes)")
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"""
            INSERT INTO {RESOURCES.name} BY NAME
            SELECT (SELECT coalesce(max(resource_id), 0) FROM {RESOURCES.name}) + row_number() OVER (ORDER BY h)
                       AS resource_id,
                   h AS resource_hash, any_value(resource_attributes) AS resource_attributes
            FROM (SELECT {key} AS h, resource_attributes
                  FROM (SELECT resource_attributes FROM {SPANS.name} UNION ALL
                        SELECT resource_attributes FROM {LOGS.name} UNION ALL
                        SELECT resource_attributes FROM {POINTS.name})
                  WHERE resource_attributes IS NOT NULL)
            WHERE h NOT IN (SELECT resource_hash FROM {RESOURCES.name})
            GROUP BY h""")
        con.execute(f"UPDATE {SPANS.name} SET resource_id = r.resource_id FROM {RESOURCES.name} r "
                    f"WHERE r.resource_hash = {span_key}")
        con.execute(f"ALTER TABLE {SPANS.name} DROP COLUMN resource_attributes")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
