"""Sources -> decode -> bulk insert, incrementally and idempotently, with a located report.

Why it is built this way:

* **Bookkeeping by identity, not path.** ``ingested_files`` keys a file by a hash
  of its first bytes, so when the collector renames ``traces.jsonl`` to
  ``traces-<ts>.jsonl`` the backup is resumed at the remembered offset (neither
  re-read nor lost), and a copy of a file that was read adds nothing. A file's
  offset is written once all its rows are committed; rows committed before a
  crash are re-read next run and skipped as duplicates.
* **De-duplication without a PRIMARY KEY** (which makes DuckDB bulk loads several
  times slower): each batch is staged as Arrow, reduced to its first occurrence
  per (trace_id, span_id), and anti-joined against ``span_rows`` (skipped when
  the store was empty and no earlier batch of the run shares a key hash); events
  follow their span. Logs and metric points use a content hash (``row_key``)
  the same way, because at-least-once delivery (the SDK spool) repeats them too.
* **Attributes in DuckDB.** Lines arrive with attribute lists as raw JSON text;
  SQL turns them into aligned key/value lists with JSON-path wildcards, reads
  the typed columns from them with the spellings of ``_decode.SPELLINGS`` and
  stores the lists (``spans`` builds the MAP when read: building it at ingest
  cost a third of the time) - vectorised, in DuckDB's threads.
* **Overlap.** Python decodes and converts to Arrow on the calling thread while
  two worker threads, each with its own cursor and transaction, run earlier
  batches' SQL (DuckDB releases the GIL). Batches only run side by side when
  they cannot share a span (a set of key hashes tells), so de-duplication
  always sees what it must.
"""

from __future__ import annotations

import os
import time
from array import array
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from itertools import accumulate
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import duckdb
import pyarrow as pa

from otel_llm_analysis import _producers
from otel_llm_analysis._decode import SPAN_KINDS, SPELLINGS, Batch, Problem, decode_line
from otel_llm_analysis._sources import FileChanged, FileInfo, SourceError, expand, head_digest, read_records, stat_file

__all__ = ["FileReport", "IngestReport", "ingest", "SourceError"]

#: Rows (spans + points + logs) per insert: big enough to amortise the anti-join
#: and the per-statement overhead, small enough to bound memory (two batches,
#: ~50 MB of input each, are in flight).
BATCH_ROWS = 50_000
#: Arrow record-batch size handed to DuckDB (its unit of parallel scanning).
SCAN_CHUNK_ROWS = 4096
#: DuckDB memory limit while ingesting into a database file: committed blocks are
#: on disk, so a small buffer pool costs nothing in speed and keeps peak RSS
#: near 1 GB for 1M spans (1.4 GB without). Not applied to ``:memory:`` stores,
#: whose data lives in that pool.
INGEST_MEMORY_LIMIT = "600MB"
#: Rows per commit, per worker. Fewer commits are cheaper (a commit per batch
#: cost ~10% of the whole ingest), but DuckDB keeps a transaction's rows in
#: memory until it commits. Measured on 1M spans with two workers: every 500k
#: rows 1.67 GB peak RSS, every 250k 1.2 GB at the same speed.
COMMIT_ROWS = 250_000


@dataclass(slots=True)
class FileReport:
    """What happened to one file in one run."""

    path: str
    format: str
    status: str  # "new" | "resumed" | "unchanged" | "empty" | "skipped"
    lines: int = 0  # complete lines (frames) read this run
    bytes: int = 0  # bytes consumed this run (decompressed for zstd)
    partial_tail: bool = False  # a half-written last line was left for the next run


@dataclass
class IngestReport:
    """The result of :func:`ingest` (and ``TraceStore.ingest``)."""

    files: list[FileReport] = field(default_factory=list)
    spans_added: int = 0
    events_added: int = 0
    metric_points_added: int = 0
    logs_added: int = 0
    duplicates_skipped: int = 0  # spans, points and logs already stored (or repeated in the input)
    bad_lines: list[Problem] = field(default_factory=list)
    seconds: float = 0.0
    pricing: Any = None  # _costs.PricingReport: calls priced at ingest, calls left without a price

    @property
    def files_read(self) -> int:
        return sum(1 for f in self.files if f.lines)

    @property
    def lines_read(self) -> int:
        return sum(f.lines for f in self.files)

    def summary(self) -> str:
        """One line for humans (the CLI prints it under its table)."""
        return (
            f"{self.files_read} file(s), {self.lines_read} line(s): +{self.spans_added} spans, "
            f"+{self.events_added} events, +{self.metric_points_added} metric points, +{self.logs_added} logs, "
            f"{self.duplicates_skipped} duplicate(s) skipped, {len(self.bad_lines)} problem(s) "
            f"in {self.seconds:.2f}s"
        ) + (f"; {self.pricing.summary()}" if self.pricing is not None and self.pricing.summary() else "")


# --- SQL ---------------------------------------------------------------------------------
# Attribute lists become two aligned lists, keys and values, with JSON path
# wildcards (no per-entry lambdas: several times faster), then one MAP. A value
# is the text of its single AnyValue member: strings as-is, ints '42', doubles
# as written ('0.7'), bools 'true'; arrays / kvlists stay OTLP JSON text
# ('{"values":[{"stringValue":"stop"}]}'). An entry that is not one-key-one-value
# (an empty AnyValue, a missing key) would misalign the lists, so such rows take
# the slower per-entry path instead.

_ANY_VALUE = (
    '{"stringValue":"VARCHAR","intValue":"VARCHAR","doubleValue":"JSON","boolValue":"BOOLEAN",'
    '"bytesValue":"VARCHAR","kvlistValue":"JSON","arrayValue":"JSON"}'
)
_KEY_VALUES = f'[{{"key":"VARCHAR","value":{_ANY_VALUE}}}]'


def _slow_entries(column: str) -> str:
    """Per-entry fallback: list of {k, v} structs, entries without a text key dropped."""
    value = ("coalesce(kv.value.stringValue, kv.value.intValue, CAST(kv.value.doubleValue AS VARCHAR), "
             "CAST(kv.value.boolValue AS VARCHAR), CAST(kv.value.arrayValue AS VARCHAR), "
             "CAST(kv.value.kvlistValue AS VARCHAR), kv.value.bytesValue)")
    return (f"list_transform(list_filter(json_transform({column}, '{_KEY_VALUES}'), lambda kv: kv.key IS NOT NULL), "
            f"lambda kv: {{'k': kv.key, 'v': {value}}})")


def kv_parse(column: str) -> str:
    """Inner SELECT items: raw key list, value list and entry count of an OTLP KeyValue JSON array."""
    # json_array_length measured cheaper (and is exact) than counting `"value":` in the text.
    return (f"json_extract_string({column}, '$[*].key') AS k0, json_extract_string({column}, '$[*].value.*') AS v0, "
            f"json_array_length({column}) AS n0")


def kv_columns(column: str) -> str:
    """Outer SELECT items ``k`` and ``v`` (over :func:`kv_parse`): aligned keys and values.

    Both lists must have one item per entry; otherwise (an empty value, a missing
    key) the row is re-read entry by entry so no value lands on the wrong key.
    """
    slow = _slow_entries(column)
    aligned = "len(k0) = n0 AND len(v0) = n0"
    return (f"CASE WHEN {aligned} THEN k0 ELSE list_transform({slow}, lambda e: e.k) END AS k1, "
            f"CASE WHEN {aligned} THEN v0 ELSE list_transform({slow}, lambda e: e.v) END AS v1")


#: SELECT item ``uniq`` over ``k1``: true when the row's keys are unique and
#: none is NULL. Tested once per row on 64-bit key hashes: two ``list_unique``
#: calls on the strings were ~20% of the spans statement. A hash collision only
#: sends that row to the exact path of :data:`UNIQUE_KV`; ``hash(NULL)`` is not
#: NULL, hence the separate count of non-NULL keys.
UNIQUE_TEST = "list_unique(list_transform(k1, lambda x: hash(x))) = len(k1) AND list_count(k1) = len(k1) AS uniq"

#: Outer SELECT items ``k`` and ``v`` over ``k1``/``v1``/``uniq``: keys unique (a
#: repeated key keeps its last value, NULL keys dropped), so a MAP can always be built.
UNIQUE_KV = (
    "CASE WHEN uniq THEN k1 "
    "ELSE list_filter(k1, lambda x, i: x IS NOT NULL AND NOT list_contains(k1[i + 1:], x)) END AS k, "
    "CASE WHEN uniq THEN v1 "
    "ELSE list_filter(v1, lambda x, i: k1[i] IS NOT NULL AND NOT list_contains(k1[i + 1:], k1[i])) END AS v"
)


def _kv_from(source: str, column: str = "attrs") -> str:
    """``SELECT *, k, v FROM source``: the source's rows with their attribute lists (attrs dropped)."""
    return (f"(SELECT * EXCLUDE (k1, v1, uniq), {UNIQUE_KV} FROM (SELECT *, {UNIQUE_TEST} FROM ("
            f"SELECT * EXCLUDE ({column}, k0, v0, n0), {kv_columns(column)} FROM ("
            f"SELECT *, {kv_parse(column)} FROM {source}))))")


def _lookup(name: str) -> str:
    return f"v[list_position(k, '{name}')]"


#: Every spelling but the first of each column. Rows carrying none of them (all
#: of otel-llm's own spans) look up only the first spelling: half the work.
#: Tested key by key against a constant IN list: ``list_has_any`` with the same
#: constants measured slower (it hashes both lists per row).
_OTHER_SPELLINGS = [name for names in SPELLINGS.values() for name in names[1:]] + [
    name for name in _producers.attribute_names() if name not in (names[0] for names in SPELLINGS.values())]
_HAS_OTHER = ("list_bool_or(list_transform(k, lambda x: x IN ("
              + ", ".join(f"'{n}'" for n in _OTHER_SPELLINGS) + "))) AS has_other")


def _first(column: str, cast: str | None = None) -> str:
    """The first present spelling of ``column`` (``_decode.SPELLINGS``) from the k/v lists."""
    names = [_lookup(name) for name in SPELLINGS[column]]
    expr = names[0]
    if len(names) > 1:
        expr = f"CASE WHEN has_other THEN coalesce({', '.join(names)}) ELSE {names[0]} END"
    if cast == "BIGINT":
        return f"TRY_CAST(TRY_CAST({expr} AS DOUBLE) AS BIGINT)"
    if cast:
        return f"TRY_CAST({expr} AS {cast})"
    return expr


def _ts(ns: str) -> str:
    return f"CASE WHEN {ns} > 0 THEN make_timestamp({ns} // 1000) END"


_KIND_CASE = "CASE kind " + " ".join(f"WHEN {k} THEN '{v}'" for k, v in SPAN_KINDS.items()) + " END"
_RESOURCES = f"""res AS (
    SELECT resource_id, map(k, v) AS resource_attributes, resource_text
    FROM {_kv_from("(SELECT resource_id, attrs, attrs AS resource_text FROM _b_res)")}
)"""

_NEW_SPANS = """
CREATE OR REPLACE TEMP TABLE _new_spans AS
SELECT f.ord FROM (SELECT min(ord) AS ord FROM _b_spans GROUP BY trace_id, span_id) f JOIN _b_spans b USING (ord)
WHERE NOT EXISTS (SELECT 1 FROM span_rows s WHERE s.trace_id = b.trace_id AND s.span_id = b.span_id)
"""
#: The same without the anti-join, for a batch that cannot repeat a stored span
#: (see ``_SpanKeys``): probing the whole table per batch was ~10% of a large load.
_NEW_SPANS_UNSEEN = """
CREATE OR REPLACE TEMP TABLE _new_spans AS
SELECT min(ord) AS ord FROM _b_spans GROUP BY trace_id, span_id
"""

_FINISH = _first("finish_reasons")
_REQUEST_MODEL = _producers.request_model_sql(_lookup, _first("request_model"))
_COST = _producers.cost_sql(_lookup, _first("cost_usd", "DOUBLE"), _first("input_tokens", "BIGINT"),
                            _first("output_tokens", "BIGINT"))
_INSERT_SPANS = f"""
INSERT INTO span_rows BY NAME
WITH {_RESOURCES}
SELECT
    trace_id, span_id, parent_span_id, name,
    {_KIND_CASE} AS span_kind,
    coalesce(resource_attributes['service.name'], {_first('service_name')}) AS service_name,
    nullif(scope_name, '') AS scope_name,
    coalesce({_first('project')}, resource_attributes['otel_llm.project']) AS project,
    {_producers.kind_sql(_lookup)} AS otel_kind,
    {_ts('start_ns')} AS start_time,
    {_ts('end_ns')} AS end_time,
    CASE WHEN start_ns > 0 AND end_ns > 0 THEN (end_ns - start_ns) / 1e6 END AS duration_ms,
    status_code, status_message,
    {_first('error_type')} AS error_type,
    {_first('operation')} AS operation,
    {_producers.provider_sql(_first('provider'))} AS provider,
    coalesce({_REQUEST_MODEL}, {_first('response_model')}) AS model,
    {_REQUEST_MODEL} AS request_model,
    {_first('response_model')} AS response_model,
    {_first('input_tokens', 'BIGINT')} AS input_tokens,
    {_first('output_tokens', 'BIGINT')} AS output_tokens,
    {_first('cache_read_tokens', 'BIGINT')} AS cache_read_tokens,
    {_first('cache_write_tokens', 'BIGINT')} AS cache_write_tokens,
    {_first('reasoning_tokens', 'BIGINT')} AS reasoning_tokens,
    {_COST['cost_usd']} AS cost_usd,
    {_COST['cost_source']} AS cost_source,
    {_COST['cost_table']} AS cost_table,
    CASE WHEN {_FINISH} IS NULL THEN NULL
         WHEN starts_with({_FINISH}, '{{') THEN json_extract_string({_FINISH}, '$.values[*].*')
         WHEN starts_with({_FINISH}, '[') THEN TRY_CAST(json({_FINISH}) AS VARCHAR[])
         ELSE [{_FINISH}] END AS finish_reasons,
    ttft_ns / 1e6 AS stream_ttft_ms,
    {_first('conversation_id')} AS conversation_id,
    {_first('user_id')} AS user_id,
    {_first('graph_node')} AS graph_node,
    {_first('db_system')} AS db_system,
    {_first('db_operation')} AS db_operation,
    {_first('db_collection')} AS db_collection,
    k AS attr_keys,
    v AS attr_values,
    resource_attributes,
    $source AS source_file
FROM (SELECT *, {_HAS_OTHER} FROM (
    SELECT b.*, res.resource_attributes
    FROM {_kv_from("(SELECT * FROM _b_spans WHERE ord IN (SELECT ord FROM _new_spans))")} b
    JOIN res USING (resource_id)
))
"""

_INSERT_EVENTS = f"""
INSERT INTO span_events BY NAME
SELECT trace_id, span_id, {_ts('time_ns')} AS time, name, map(k, v) AS attributes,
       {_lookup('gen_ai.evaluation.name')} AS eval_name,
       TRY_CAST({_lookup('gen_ai.evaluation.score.value')} AS DOUBLE) AS eval_score,
       {_lookup('gen_ai.evaluation.score.label')} AS eval_label
FROM {_kv_from("(SELECT * FROM _b_events WHERE span_ord IN (SELECT ord FROM _new_spans))")}
"""

#: Logs and metric points: staged with their attributes and content hash, first
#: occurrence per hash kept, anti-joined on row_key.
_STAGE_ROWS = f"""
CREATE OR REPLACE TEMP TABLE _stage_@kind AS
WITH {_RESOURCES},
keyed AS (
    SELECT b.*, res.resource_attributes, hash(@hash_cols, b.attrs_text, res.resource_text) AS row_key
    FROM {_kv_from("(SELECT *, attrs AS attrs_text FROM _b_@kind)")} b JOIN res USING (resource_id)
), fresh AS (SELECT min(ord) AS ord FROM keyed GROUP BY row_key)
SELECT k.* FROM keyed k JOIN fresh USING (ord)
WHERE NOT EXISTS (SELECT 1 FROM @table t WHERE t.row_key = k.row_key)
"""

_INSERT_POINTS = f"""
INSERT INTO metric_points BY NAME
SELECT {_ts('time_ns')} AS time, {_ts('start_ns')} AS start_time, metric_name, metric_type, unit,
       temporality, is_monotonic, resource_attributes['service.name'] AS service_name,
       nullif(scope_name, '') AS scope_name, map(k, v) AS attributes, resource_attributes,
       value, count, sum, min, max, bucket_counts, explicit_bounds, row_key, $source AS source_file
FROM _stage_points
"""

_INSERT_LOGS = f"""
INSERT INTO logs BY NAME
SELECT {_ts('time_ns')} AS time, severity_number, severity_text, body, trace_id, span_id,
       resource_attributes['service.name'] AS service_name, map(k, v) AS attributes, resource_attributes,
       row_key, $source AS source_file
FROM _stage_logs
"""

_SCHEMAS: Mapping[str, pa.Schema] = {
    "spans": pa.schema([
        ("trace_id", pa.string()), ("span_id", pa.string()), ("parent_span_id", pa.string()),
        ("name", pa.string()), ("kind", pa.int32()), ("start_ns", pa.int64()), ("end_ns", pa.int64()),
        ("status_code", pa.int32()), ("status_message", pa.string()), ("scope_name", pa.string()),
        ("resource_id", pa.int32()), ("attrs", pa.large_string()), ("ttft_ns", pa.int64()),
    ]),
    "events": pa.schema([
        ("span_ord", pa.int64()), ("trace_id", pa.string()), ("span_id", pa.string()),
        ("time_ns", pa.int64()), ("name", pa.string()), ("attrs", pa.large_string()),
    ]),
    "points": pa.schema([
        ("time_ns", pa.int64()), ("start_ns", pa.int64()), ("metric_name", pa.string()),
        ("metric_type", pa.string()), ("unit", pa.string()), ("temporality", pa.string()),
        ("is_monotonic", pa.bool_()), ("scope_name", pa.string()), ("resource_id", pa.int32()),
        ("attrs", pa.large_string()), ("value", pa.float64()), ("count", pa.int64()), ("sum", pa.float64()),
        ("min", pa.float64()), ("max", pa.float64()), ("bucket_counts", pa.list_(pa.int64())),
        ("explicit_bounds", pa.list_(pa.float64())),
    ]),
    "logs": pa.schema([
        ("time_ns", pa.int64()), ("severity_number", pa.int32()), ("severity_text", pa.string()),
        ("body", pa.string()), ("trace_id", pa.string()), ("span_id", pa.string()),
        ("scope_name", pa.string()), ("resource_id", pa.int32()), ("attrs", pa.large_string()),
    ]),
}


def _joined_strings(items: list[Any]) -> pa.Array:
    """Raw JSON slices -> one Arrow string array: one C-level join, no per-item str objects."""
    data = b"".join(items)
    offsets = array("q", accumulate(map(len, items), initial=0))
    arr = pa.LargeStringArray.from_buffers(len(items), pa.py_buffer(offsets), pa.py_buffer(data))
    try:
        arr.validate(full=True)  # UTF-8: the decoder skipped over these bytes without checking
    except pa.ArrowInvalid:
        arr = pa.array([bytes(i).decode("utf-8", "replace") for i in items], pa.large_string())
    return arr


def _arrow(kind: str, columns: dict[str, list[Any]]) -> pa.Table:
    schema = _SCHEMAS[kind]
    arrays = [_joined_strings(columns[f.name]) if f.name == "attrs" else pa.array(columns[f.name], f.type)
              for f in schema]
    n = len(arrays[0]) if arrays else 0
    arrays.append(pa.array(range(n), pa.int64()))
    table = pa.Table.from_arrays(arrays, schema=schema.append(pa.field("ord", pa.int64())))
    # Many small record batches: DuckDB scans an Arrow table one batch per task,
    # so a single 100k-row batch would keep the insert on one core.
    return pa.Table.from_batches(table.to_batches(max_chunksize=SCAN_CHUNK_ROWS), table.schema)


@dataclass(slots=True)
class _Counts:
    spans: int = 0
    events: int = 0
    points: int = 0
    logs: int = 0
    duplicates: int = 0


@dataclass(slots=True)
class _Staged:
    """One batch as Arrow tables (built on the decoding thread), ready for DuckDB."""

    source: str
    problems: list[Problem]
    rows: int
    tables: dict[str, pa.Table]
    check_stored: bool = True  # False: no span of this batch can already be in span_rows
    repeats_run: bool = False  # may repeat spans of an earlier batch of this run: run it after them
    exclusive: bool = False  # logs / metric points: de-duplicated against everything before, so alone


class _SpanKeys:
    """Hashes of every span key of this run: which batches may repeat an earlier one.

    A batch that shares no key hash with an earlier batch of the run cannot
    repeat one of its spans, so it may run beside them (the anti-join only has
    to see what was stored before the run) - and, when the store was empty,
    skip the anti-join altogether. A hash collision only costs that batch a
    wait and the exact anti-join.
    """

    def __init__(self, store_was_empty: bool) -> None:
        self.store_was_empty = store_was_empty
        self.seen: set[int] = set()

    def repeats(self, trace_ids: list[str], span_ids: list[str]) -> bool:
        hashes = set(map(hash, map(str.__add__, trace_ids, span_ids)))
        repeat = not hashes.isdisjoint(self.seen)
        self.seen |= hashes
        return repeat


#: Per-signal insert plans for logs and metric points: (kind, table, hash columns, insert SQL).
_ROW_PLANS = (
    ("points", "metric_points",
     "b.metric_name, b.metric_type, b.time_ns, b.start_ns, b.value, b.count, b.sum, b.bucket_counts",
     _INSERT_POINTS),
    ("logs", "logs", "b.time_ns, b.severity_number, b.body, b.trace_id, b.span_id", _INSERT_LOGS),
)


def _stage(batch: Batch, keys: _SpanKeys) -> _Staged:
    """Column lists -> Arrow. Runs on the decoding thread so the insert thread only runs SQL."""
    repeats = keys.repeats(batch.span_cols["trace_id"], batch.span_cols["span_id"]) if batch.spans else False
    tables = {"res": pa.table({"resource_id": pa.array(range(len(batch.resources)), pa.int32()),
                               "attrs": pa.array(batch.resources, pa.string())})}
    for kind, columns, present in (("spans", batch.span_cols, batch.spans),
                                   ("events", batch.event_cols, batch.spans),
                                   ("points", batch.point_cols, len(batch.point_cols["time_ns"])),
                                   ("logs", batch.log_cols, len(batch.log_cols["time_ns"]))):
        if present:
            tables[kind] = _arrow(kind, columns)
    return _Staged(batch.source, batch.problems, batch.rows, tables,
                   check_stored=repeats or not keys.store_was_empty, repeats_run=repeats,
                   exclusive="points" in tables or "logs" in tables)


def _insert(con: duckdb.DuckDBPyConnection, staged: _Staged) -> _Counts:
    """Insert one staged batch; returns what was added."""
    counts = _Counts()
    params = {"source": staged.source}
    names = [f"_b_{kind}" for kind in staged.tables]
    for kind, table in staged.tables.items():
        con.register(f"_b_{kind}", table)
    try:
        if "spans" in staged.tables:
            con.execute(_NEW_SPANS if staged.check_stored else _NEW_SPANS_UNSEEN)
            counts.spans = con.execute(_INSERT_SPANS, params).fetchone()[0]
            counts.events = con.execute(_INSERT_EVENTS).fetchone()[0]
            counts.duplicates += staged.tables["spans"].num_rows - counts.spans
        for kind, table, hash_cols, insert in _ROW_PLANS:
            if kind not in staged.tables:
                continue
            con.execute(_STAGE_ROWS.replace("@kind", kind).replace("@table", table).replace("@hash_cols", hash_cols))
            added = con.execute(insert, params).fetchone()[0]
            setattr(counts, kind, added)
            counts.duplicates += staged.tables[kind].num_rows - added
    finally:
        for name in names:
            con.unregister(name)
    return counts


# --- bookkeeping ------------------------------------------------------------------------


@dataclass(slots=True)
class _Known:
    identity: str
    head_len: int
    bytes_read: int
    lines: int
    size: int


def _known_files(con: duckdb.DuckDBPyConnection) -> list[_Known]:
    rows = con.execute("SELECT identity, head_len, bytes_read, lines, size FROM ingested_files").fetchall()
    return [_Known(*row) for row in rows]


def _match(known: list[_Known], info: FileInfo) -> _Known | None:
    """The remembered file whose head this file starts with (longest head wins)."""
    digests: dict[int, str] = {info.head_len: info.identity}
    best: _Known | None = None
    for k in known:
        if k.head_len > info.size or (best is not None and k.head_len <= best.head_len):
            continue
        if k.head_len not in digests:
            digests[k.head_len] = head_digest(info.path, k.head_len)
        if digests[k.head_len] == k.identity:
            best = k
    return best


def _remember(con: duckdb.DuckDBPyConnection, known: list[_Known], old: _Known | None, info: FileInfo,
              bytes_read: int, lines: int) -> None:
    identity, head_len = info.identity, info.head_len
    con.execute("BEGIN TRANSACTION")
    try:
        if old is not None:
            con.execute("DELETE FROM ingested_files WHERE identity = ? AND head_len = ?", [old.identity, old.head_len])
        con.execute(
            "INSERT INTO ingested_files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [identity, head_len, str(info.path), info.format, info.device, info.inode, info.size, bytes_read, lines,
             info.mtime, datetime.now(timezone.utc).replace(tzinfo=None)],
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    if old is not None:
        known.remove(old)
    known.append(_Known(identity, head_len, bytes_read, lines, info.size))


# --- the loop ----------------------------------------------------------------------------


#: Insert threads, each with its own cursor and transaction. Two measured 22%
#: faster than one on the SQL side: one batch's serial phases (commit, small
#: statements) overlap the other's parallel ones.
WORKERS = 2


def _ingest_threads(current: int) -> int:
    """DuckDB threads while ingesting: the cores left beside the insert workers.

    Each worker's thread runs its own statements, and Python decodes on the
    caller's, so DuckDB's default (one thread per core) oversubscribes the
    machine. On 2 cores one thread (no background threads) cut the CPU time of a
    1M-span load from 18.4 to 16.3 s and its wall time by 7%. Never more than
    the store was opened with.
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(current, cores - WORKERS))


class _Worker:
    """One cursor (its own DuckDB connection and transaction) used by one thread at a time."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.cursor = con.cursor()
        self.cursor.execute("SET preserve_insertion_order = false")
        self.cursor.execute("BEGIN TRANSACTION")
        self.uncommitted = 0

    def insert(self, staged: _Staged) -> _Counts:
        """Insert, and commit now and then to bound memory (see COMMIT_ROWS)."""
        counts = _insert(self.cursor, staged)
        self.uncommitted += staged.rows
        if self.uncommitted >= COMMIT_ROWS:
            self.commit()
        return counts

    def commit(self) -> None:
        self.cursor.execute("COMMIT")
        self.cursor.execute("BEGIN TRANSACTION")
        self.uncommitted = 0

    def close(self, commit: bool) -> None:
        try:
            self.cursor.execute("COMMIT" if commit else "ROLLBACK")
        finally:
            self.cursor.close()


class _Pipeline:
    """Decode and stage on the caller's thread; run the SQL on ``WORKERS`` threads.

    Batches run side by side only when they cannot hold the same span (see
    ``_SpanKeys``); any other batch first waits until everything before it is
    committed, so de-duplication always sees it.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, report: IngestReport, workers: int = WORKERS) -> None:
        self.report = report
        (stored,) = con.execute("SELECT count(*) FROM (SELECT 1 FROM span_rows LIMIT 1)").fetchone()
        self.keys = _SpanKeys(store_was_empty=stored == 0)
        self.workers = [_Worker(con) for _ in range(workers)]
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="otel-llm-ingest")
        self.pending: list[tuple[Future[_Counts], _Staged, _Worker]] = []

    def submit(self, batch: Batch) -> None:
        staged = _stage(batch, self.keys)  # Arrow conversion while earlier batches insert
        del batch
        if staged.repeats_run or staged.exclusive:
            self.flush()
        worker = self._free_worker()
        self.pending.append((self.pool.submit(worker.insert, staged), staged, worker))
        if staged.exclusive:
            self.flush()

    def _free_worker(self) -> _Worker:
        busy = [w for _, _, w in self.pending]
        for worker in self.workers:
            if worker not in busy:
                return worker
        return self._collect_oldest()

    def _collect_oldest(self) -> _Worker:
        future, staged, worker = self.pending.pop(0)
        counts = future.result()
        r = self.report
        r.bad_lines.extend(staged.problems)
        r.spans_added += counts.spans
        r.events_added += counts.events
        r.metric_points_added += counts.points
        r.logs_added += counts.logs
        r.duplicates_skipped += counts.duplicates
        return worker

    def wait(self) -> None:
        while self.pending:
            self._collect_oldest()

    def flush(self) -> None:
        """Everything submitted so far inserted and committed (visible to every cursor)."""
        self.wait()
        for worker in self.workers:
            if worker.uncommitted:
                worker.commit()

    def close(self) -> None:
        try:
            self.wait()
        finally:
            self.pool.shutdown(wait=True)
        for worker in self.workers:
            worker.close(commit=True)

    def abort(self) -> None:
        """After a failure: let running inserts end, roll back what is not committed."""
        for future, _, _ in self.pending:
            try:
                future.result()
            except Exception:  # noqa: BLE001 - the caller re-raises the first failure
                pass
        self.pending.clear()
        self.pool.shutdown(wait=True)
        for worker in self.workers:
            try:
                worker.close(commit=False)
            except duckdb.Error:  # pragma: no cover - already closed
                pass


def _ingest_file(con: duckdb.DuckDBPyConnection, info: FileInfo, known: list[_Known], report: IngestReport,
                 pipeline: _Pipeline, batch_rows: int, on_progress: Callable[[int], None] | None) -> None:
    old = _match(known, info)
    start, line_no = (old.bytes_read, old.lines) if old else (0, 0)
    if old is not None and info.format != "zstd" and info.size < start:
        start, line_no = 0, 0  # same head but shorter: rewritten in place; dedup absorbs repeats
    file_report = FileReport(str(info.path), info.format, "resumed" if old else "new")
    report.files.append(file_report)
    # Nothing new: a plain or framed file read to its end, or a zstd stream
    # (offsets there count decompressed bytes) whose size did not change.
    if old is not None and (info.size == start if info.format != "zstd" else info.size == old.size):
        file_report.status = "unchanged"
        _remember(con, known, old, info, start, line_no)  # it may have been renamed
        return
    batch = Batch(source=str(info.path))
    end, first_line = start, line_no
    for record in read_records(info, start, line_no):
        if record.data is not None:
            decode_line(record.data, batch, record.line_no)
        else:
            batch.problems.append(Problem(batch.source, record.line_no, record.error or "unreadable"))
        if on_progress is not None:
            on_progress(record.end_offset - end)
        end, line_no = record.end_offset, record.line_no
        if batch.rows >= batch_rows:
            pipeline.submit(batch)
            batch = Batch(source=str(info.path))
    pipeline.submit(batch)
    pipeline.flush()  # the file's rows are committed before its offset is
    _remember(con, known, old, info, end, line_no)
    file_report.lines = line_no - first_line
    file_report.bytes = end - start
    file_report.partial_tail = info.format != "zstd" and end < info.size


def ingest(
    con: duckdb.DuckDBPyConnection,
    specs: Iterable[str | Path],
    *,
    batch_rows: int = BATCH_ROWS,
    on_progress: Callable[[int], None] | None = None,
) -> IngestReport:
    """Load every new complete line of the files named by ``specs`` into ``con``'s tables.

    Raises :class:`SourceError` before loading anything when a path is missing.
    ``on_progress`` receives byte counts as lines are consumed (for progress bars).
    """
    started = time.perf_counter()
    infos = [stat_file(p) for p in expand(specs)]
    report = IngestReport()
    known = _known_files(con)
    # Row order inside a table carries no meaning here; letting DuckDB write in
    # parallel is what keeps inserts off the critical path.
    (preserve, memory_limit, threads, on_disk) = con.execute(
        "SELECT current_setting('preserve_insertion_order'), current_setting('memory_limit'),"
        " current_setting('threads'),"
        " coalesce((SELECT path FROM duckdb_databases() WHERE database_name = current_database()), '') <> ''"
    ).fetchone()
    con.execute("SET preserve_insertion_order = false")
    con.execute(f"SET threads = {_ingest_threads(int(threads))}")
    if on_disk:
        # The setting reads back rounded ('18.8 GiB'): restore the default by RESET.
        con.execute("RESET memory_limit")
        (default_limit,) = con.execute("SELECT current_setting('memory_limit')").fetchone()
        restore_limit = "RESET memory_limit" if memory_limit == default_limit else f"SET memory_limit = '{memory_limit}'"
        con.execute(f"SET memory_limit = '{INGEST_MEMORY_LIMIT}'")
    # Rows commit in few, large transactions on the workers' cursors (see
    # COMMIT_ROWS); a file's offset is written on ``con`` once its rows are in.
    try:
        pipeline = _Pipeline(con, report)
        try:
            for info in infos:
                if info.size == 0:
                    report.files.append(FileReport(str(info.path), info.format, "empty"))
                    continue
                try:
                    _ingest_file(con, info, known, report, pipeline, batch_rows, on_progress)
                except FileChanged as exc:
                    report.files[-1].status = "skipped"
                    report.bad_lines.append(Problem(str(info.path), 0, str(exc)))
        except BaseException:
            pipeline.abort()
            raise
        pipeline.close()
    finally:
        con.execute(f"SET preserve_insertion_order = {bool(preserve)}")
        con.execute(f"SET threads = {int(threads)}")
        if on_disk:
            con.execute(restore_limit)
    report.seconds = time.perf_counter() - started
    return report
