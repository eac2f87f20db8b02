"""A batch's column lists (``_decode.Batch``) as Arrow tables, ready for DuckDB.

Why on the decoding thread: the insert workers should only run SQL, so
everything Python does to a batch - attribute lists joined into one Arrow
string array in C, each table's time window for its anti-join, whether it may
repeat spans of an earlier batch of the run, which rows hold values heavy
enough to need more memory - is done here, while earlier batches insert
(``ingest._Pipeline``). Bad attribute lists are reported here, located by file,
line and record.
"""

from __future__ import annotations

from array import array
from collections import Counter
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any, Callable, Iterator

import pyarrow as pa
import pyarrow.compute as pc

from otel_llm_analysis._decode import Batch, Problem, as_utf8
from otel_llm_analysis._ledger import Read
from otel_llm_analysis._rows import CONTEXT, TABLES, window

__all__ = ["HEAVY_VALUE_BYTES", "SCAN_CHUNK_ROWS", "SpanKeys", "Staged", "record_name", "stage_batch"]

#: Arrow record-batch size handed to DuckDB (its unit of parallel scanning).
SCAN_CHUNK_ROWS = 4096
#: A value (a row's attribute list, a log body) longer than this makes its batch heavy.
#: DuckDB's JSON functions need many times a value's size at once: under the ingest's memory
#: limit (``ingest.INGEST_MEMORY_LIMIT``) a 16 MiB attribute loaded and a 32 MiB one aborted it.
HEAVY_VALUE_BYTES = 1 << 20


def _joined_strings(items: list[Any], on_bad: Callable[[int, str], None]) -> pa.Array:
    """Raw attribute JSON slices -> one Arrow string array: one C-level join, no per-item str objects.

    Absent lists become ``[]``. A value that is not a JSON array (the typed
    decoder skipped over it unchecked) is handed to ``on_bad`` with the reason
    and stored as no attributes; ``null`` (the proto3 JSON default) silently so.
    The check is one vectorised pass over the joined array. A list holding bytes
    that are not UTF-8 is kept with U+FFFD in their place, and handed to ``on_bad``.
    """
    data = b"".join(items)
    offsets = array("q", accumulate(map(len, items), initial=0))
    arr = pa.LargeStringArray.from_buffers(len(items), pa.py_buffer(offsets), pa.py_buffer(data))
    try:
        arr.validate(full=True)  # UTF-8: the decoder skipped over these bytes without checking
    except pa.ArrowInvalid:
        arr = pa.array(list(_as_utf8(items, on_bad)), pa.large_string())
    is_list = pc.starts_with(arr, "[")
    if pc.all(is_list).as_py() is not False:
        return arr
    odd = pc.and_(pc.invert(is_list), pc.not_equal(pc.binary_length(arr), 0))
    for i in pc.indices_nonzero(odd).to_pylist():
        raw = bytes(items[i])
        if raw != b"null":
            on_bad(i, "ignored attributes: expected an array, got " + raw[:40].decode("utf-8", "replace"))
    return pc.if_else(is_list, arr, pa.scalar("[]", pa.large_string()))


def _as_utf8(items: list[Any], on_bad: Callable[[int, str], None]) -> Iterator[str]:
    """Each item as text (``_decode.as_utf8``); the items that were not UTF-8 are handed to ``on_bad``."""
    for i, item in enumerate(items):
        text, note = as_utf8(bytes(item), "attribute list")
        if note:
            on_bad(i, note)
        yield text


def _arrow(schema: pa.Schema, columns: dict[str, list[Any]], on_bad: Callable[[int, str], None]) -> pa.Table:
    arrays = [_joined_strings(columns[f.name], on_bad) if f.name == "attrs" else _array(columns[f.name], f.type)
              for f in schema]
    n = len(arrays[0]) if arrays else 0
    arrays.append(pa.array(range(n), pa.int64()))
    table = pa.Table.from_arrays(arrays, schema=schema.append(pa.field("ord", pa.int64())))
    # Many small record batches: DuckDB scans an Arrow table one batch per task,
    # so a single 100k-row batch would keep the insert on one core.
    return pa.Table.from_batches(table.to_batches(max_chunksize=SCAN_CHUNK_ROWS), table.schema)


def _array(values: list[Any], type: pa.DataType) -> pa.Array:
    """``pa.array``, but a column that holds one empty value throughout (dropped counts of 0,
    no trace state) is repeated in C rather than converted item by item."""
    if values and not any(values) and values.count(values[0]) == len(values):
        if values[0] is None:
            return pa.nulls(len(values), type)
        return pa.repeat(pa.scalar(values[0], type), len(values))
    return pa.array(values, type)


#: How the report names a record of each staged kind (``{}``: its span id, or its metric's name), and a resource
#: (``{}``: the JSON path where it was first met).
_RECORD_NAMES = {"spans": "span {}", "events": "event of span {}", "links": "link of span {}",
                 "points": "metric {!r} point", "exemplars": "exemplar of metric {!r}", "logs": "log record",
                 "resources": "{}"}


def record_name(kind: str, label: Any) -> str:
    """How the report names a record of ``kind`` (``_RECORD_NAMES``) told by ``label``: its span id (spans, their
    events and links), its metric's name (points, exemplars), its JSON path (resources); unused for log records."""
    return _RECORD_NAMES[kind].format(label)


def _locator(batch: Batch, kind: str) -> Callable[[int], tuple[str, int, str]]:
    """``row -> (file, line, which record)`` for the rows of ``kind`` in ``batch``."""
    cols = batch.cols

    def located(i: int) -> tuple[str, int, str]:
        if kind in ("events", "links"):
            span = cols[kind]["span_ord"][i]
            path, line, _ = located_in("spans", span)
            return path, line, record_name(kind, cols["spans"]["span_id"][span])
        if kind == "exemplars":
            point = cols[kind]["point_ord"][i]
            path, line, _ = located_in("points", point)
            return path, line, record_name(kind, cols["points"]["metric_name"][point])
        return located_in(kind, i)

    def located_in(table: str, i: int) -> tuple[str, int, str]:
        row = cols[table]
        label = row["span_id"][i] if table == "spans" else row["metric_name"][i] if table == "points" else None
        path, line = batch.contexts[row["ctx"][i]][:2]
        return path, line, record_name(table, label)

    return located


def _bad_attributes(batch: Batch, kind: str) -> Callable[[int, str], None]:
    """Reports why a row's attributes were not kept as sent, located by file, line and row."""
    located = _locator(batch, kind)

    def report(i: int, reason: str) -> None:
        path, line, where = located(i)
        batch.problems.append(Problem(path, line, reason, f"{where}: attributes"))
    return report


@dataclass(slots=True)
class Staged:
    """One batch as Arrow tables (built on the decoding thread), ready for DuckDB."""

    problems: list[Problem]
    not_kept: Counter[str]
    reads: list[Read]  # files whose last rows are in this batch: remembered once it is committed
    rows: int
    tables: dict[str, pa.Table]
    check_stored: bool = True  # False: no span of this batch can already be in span_rows
    #: kind -> predicate on the stored rows its anti-join reads (``_statements.window``)
    windows: dict[str, str] = field(default_factory=dict)
    #: (earliest, latest non-zero start, any span without one) of the batch's spans
    span_times: tuple[int | None, int | None, bool] = (None, None, False)
    repeats_run: bool = False  # may repeat spans of an earlier batch of this run: run it after them
    exclusive: bool = False  # logs / metric points: de-duplicated against everything before, so alone
    #: A prune's cutoff (microseconds since the epoch): rows older than it are left out (``ingest``)
    cutoff_us: int | None = None
    #: kind -> its rows holding a value over HEAVY_VALUE_BYTES: (row, bytes, (file, line, which record))
    heavy: dict[str, list[tuple[int, int, tuple[str, int, str]]]] = field(default_factory=dict)


class SpanKeys:
    """Hashes of every span id of this run: which batches may repeat an earlier one.

    A repeated span has the same span id (part of its key), so a batch that
    shares no span-id hash with an earlier batch of the run cannot repeat one
    of its spans: it may run beside them (the anti-join only has to see what
    was stored before the run) - and, when the store was empty, skip the
    anti-join altogether. A shared hash (a collision, or the same span id in
    another trace) only costs that batch a wait and the exact anti-join.
    Hashing the ids alone costs a third less than hashing (trace, span, start)
    tuples, which were built for every span.
    """

    def __init__(self, store_was_empty: bool) -> None:
        self.store_was_empty = store_was_empty
        self.seen: set[int] = set()

    def repeats(self, span_ids: list[str]) -> bool:
        hashes = set(map(hash, span_ids))
        repeat = not hashes.isdisjoint(self.seen)
        self.seen |= hashes
        return repeat


_NO_CONTEXT = pa.schema(CONTEXT).empty_table()
#: Per kind: the stored time column its anti-join compares, and how a staged row's time is
#: computed (the same as the stored column's expression in ``_rows``).
_WINDOWS = {"spans": ("start_time", ("start_ns",)), "points": ("t.time", ("time_ns",)),
            "logs": ("t.time", ("time_ns", "observed_ns"))}


def _times(table: pa.Table, columns: tuple[str, ...]) -> tuple[int | None, int | None, bool]:
    """(earliest, latest time, any row without one) of a staged table: the first non-zero
    of ``columns`` per row, as ``_rows.ts`` stores it (0 or less = no time = NULL)."""
    values = table.column(columns[0])
    for other in columns[1:]:
        values = pc.if_else(pc.equal(values, 0), table.column(other), values)
    dated = pc.if_else(pc.greater(values, 0), values, pa.scalar(None, pa.int64()))
    bounds = pc.min_max(dated).as_py()
    return bounds["min"], bounds["max"], dated.null_count > 0


def stage_batch(batch: Batch, reads: list[Read], keys: SpanKeys) -> Staged:
    """Column lists -> Arrow. Runs on the decoding thread so the insert threads only run SQL."""
    spans = batch.cols["spans"]
    repeats = keys.repeats(spans["span_id"]) if batch.spans else False
    tables = {"res": pa.table({"res_ord": pa.array(range(len(batch.resources)), pa.int32()),
                               "attrs": pa.array(batch.resources, pa.string())}),
              "ctx": pa.Table.from_arrays([pa.array(range(len(batch.contexts)), pa.int32()),
                                           *(pa.array(c, t) for c, (_, t) in zip(zip(*batch.contexts), CONTEXT[1:]))],
                                          schema=pa.schema(CONTEXT)) if batch.contexts else _NO_CONTEXT}
    windows, times = {}, {}
    for kind, columns in batch.cols.items():
        if batch.count(kind):
            tables[kind] = _arrow(TABLES[kind].arrow_schema(), columns, _bad_attributes(batch, kind))
            if kind in _WINDOWS:
                column, staged = _WINDOWS[kind]
                times[kind] = _times(tables[kind], staged)
                windows[kind] = window(column, *times[kind])
    return Staged(batch.problems, batch.not_kept, reads, batch.rows, tables,
                   check_stored=repeats or not keys.store_was_empty, windows=windows,
                   span_times=times.get("spans", (None, None, False)), repeats_run=repeats,
                   exclusive="points" in tables or "logs" in tables, heavy=_heavy_rows(batch, tables))


def _heavy_rows(batch: Batch, tables: dict[str, pa.Table]) -> dict[str, list[tuple[int, int, tuple[str, int, str]]]]:
    """Per kind, the rows whose longest text value (attributes, log body) exceeds HEAVY_VALUE_BYTES.

    One vectorised length check per text column; rows this long are rare, so
    locating them (for a report, should DuckDB refuse them) costs nothing.
    """
    heavy = {}
    for kind, table in tables.items():
        if kind in ("res", "ctx"):
            continue
        longest = None
        for f in table.schema:
            if pa.types.is_large_string(f.type):
                lengths = pc.binary_length(table.column(f.name))
                longest = lengths if longest is None else pc.max_element_wise(longest, lengths)
        if longest is None or (pc.max(longest).as_py() or 0) <= HEAVY_VALUE_BYTES:
            continue
        located = _locator(batch, kind)
        rows = pc.indices_nonzero(pc.greater(longest, HEAVY_VALUE_BYTES)).to_pylist()
        heavy[kind] = [(i, longest[i].as_py(), located(i)) for i in rows]
    return heavy
