"""What makes a log record or metric point the one already stored, in this version and across versions.

Why it is built this way:

* **A hash of what was read.** ``row_key`` hashes a record's staged values (times
  in nanoseconds, the body as sent, the scope's attributes: more than the columns
  keep) with its scope, attributes and resource, not where it was read: the same
  record in two files is one record, two records that differ in anything are two.
* **A fixed list.** The fields hashed are listed here once and never change
  (:data:`POINT_FIELDS`, :data:`LOG_FIELDS`): a version that stages one more field
  must not change every key, or a store made before it would take each record of
  a file read again from its start (a copy, a move across disks, an rsync) a
  second time.
* **Rows stored under other keys.** A store that predates the fixed list
  (``ingest_state`` has no :data:`STATE` for it), or whose keys another DuckDB's
  ``hash()`` made, cannot have its keys computed again: the staged values are not
  stored. Its rows get a ``legacy_key`` instead, a hash of the columns every
  version stored (:data:`POINT_LEGACY`, :data:`LOG_LEGACY`), and while a table holds
  such rows its ingest also matches records by that hash
  (``_statements._stage_keyed``). It is coarser (times in microseconds, the
  body as rendered) but only ever compared with rows stored before.
"""

from __future__ import annotations

from typing import Any, Mapping

from otel_llm_analysis import _ingest_state
from otel_llm_analysis._rows import LOGS, POINTS, Table

__all__ = ["CONTEXT_FIELDS", "LEGACY", "LOG_FIELDS", "POINT_FIELDS", "legacy_tables", "mark", "staged_key",
           "staged_legacy_key"]

#: Staged fields of a point its key hashes (``_rows.POINTS.staged``), in this order, forever.
POINT_FIELDS = ("time_ns", "start_ns", "metric_name", "description", "metric_type", "unit", "temporality",
                "is_monotonic", "flags", "value", "count", "sum", "min", "max", "bucket_counts", "explicit_bounds",
                "scale", "zero_count", "zero_threshold", "positive_offset", "positive_bucket_counts",
                "negative_offset", "negative_bucket_counts", "quantile_values", "exemplars")
#: Staged fields of a log record its key hashes (``_rows.LOGS.staged``), in this order, forever.
LOG_FIELDS = ("time_ns", "observed_ns", "severity_number", "severity_text", "body", "trace_id", "span_id", "flags",
              "event_name", "dropped_attributes_count")
#: What either key hashes after them: its scope, its attributes' text and its resource's (``_statements``'s
#: stage gives them these names).
CONTEXT_FIELDS = ("scope_name", "scope_version", "scope_attrs", "attrs_text", "resource_text")

#: Stored columns every version of otel-llm kept for every point and record (its first release's, 9822cd8):
#: what ``legacy_key`` hashes.
POINT_LEGACY = ("time", "start_time", "metric_name", "metric_type", "unit", "temporality", "is_monotonic",
                "scope_name", "attributes", "resource_attributes", "value", "count", "sum", "min", "max",
                "bucket_counts", "explicit_bounds")
LOG_LEGACY = ("time", "severity_number", "severity_text", "body", "trace_id", "span_id", "attributes",
              "resource_attributes")
#: Per content-keyed table: its staged key fields and the stored columns of its ``legacy_key``.
_KEYS: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    POINTS.name: (POINT_FIELDS, POINT_LEGACY), LOGS.name: (LOG_FIELDS, LOG_LEGACY),
}
LEGACY: Mapping[str, tuple[str, ...]] = {name: legacy for name, (_, legacy) in _KEYS.items()}

#: ``ingest_state``'s name for what keyed the stored rows: the fixed lists' generation and a probe of
#: DuckDB's ``hash()``.
STATE = "row_keys"
_GENERATION = "1"
_PROBE = "SELECT hash('otel-llm', 1::BIGINT, 1.5::DOUBLE, [1]::BIGINT[], NULL::VARCHAR, true)"


def staged_key(table: Table) -> str:
    """SQL over a staged row of ``table`` with its context: its ``row_key``."""
    fields, _ = _KEYS[table.name]
    return f"hash({', '.join((*fields, *CONTEXT_FIELDS))})"


def staged_legacy_key(table: Table) -> str:
    """SQL over a staged row of ``table`` (as its insert reads it): the ``legacy_key`` of the row it is stored
    as, each value cast to its column's type, so it hashes as the stored row does."""
    columns = {c.name: c for c in table.stored}
    return "hash(" + ", ".join(f"CAST({columns[n].expr} AS {columns[n].sql_type.replace(' NOT NULL', '')})"
                               for n in LEGACY[table.name]) + ")"


def _keyed_by(con: Any) -> str:
    ((probe,),) = con.execute(_PROBE).fetchall()
    return f"{_GENERATION}:{probe}"


def mark(con: Any) -> None:
    """On a writing open: when the stored rows were keyed otherwise than this version keys them (a store made
    before :data:`STATE`, or another DuckDB's ``hash()``), give every row of each content-keyed table its
    ``legacy_key``, then note how rows are keyed now. A store already noted so costs one query."""
    now = _keyed_by(con)
    if _ingest_state.get(con, STATE) == now:
        return
    for table, legacy in LEGACY.items():
        con.execute(f"UPDATE {table} SET legacy_key = hash({', '.join(legacy)})")
    _ingest_state.put(con, STATE, now)


def legacy_tables(con: Any) -> frozenset[str]:
    """The content-keyed tables holding rows an older version or DuckDB keyed (``legacy_key``), whose
    ingest must also match records by it."""
    return frozenset(table for table in LEGACY if con.execute(
        f"SELECT EXISTS (SELECT 1 FROM {table} WHERE legacy_key IS NOT NULL)").fetchall()[0][0])
