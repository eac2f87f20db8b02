"""Sources -> decode -> bulk insert, incrementally and idempotently, with a located report.

Why it is built this way:

* **Nothing skipped, nothing stops it.** A file is resumed at a stored offset
  only when it provably is the file read up to there (``_ledger``); otherwise it
  is read again and de-duplication drops the repeats. A line that cannot be
  read is a located problem (``_decode``), never an abort; the report's
  ``problems`` and ``not_kept`` say what did not make it into the tables.
* **Batches span files.** Rows of many small files share one batch, one set of
  statements and one commit, and their offsets are written together once their
  rows are committed (``_ledger.Ledger.write``): per-file cost is a stat, an
  open and a few dictionary look-ups.
* **De-duplication without a PRIMARY KEY** (which makes DuckDB bulk loads several
  times slower): see ``_statements``. A batch that cannot repeat a stored span
  skips the anti-join (``_staging.SpanKeys``); any other reads only the stored rows of
  its own time range (``_statements.window``), so an ingest costs what it reads,
  not what the store holds.
* **Attributes in DuckDB.** Lines arrive with attribute lists as raw JSON text;
  SQL turns them into aligned key/value lists and reads the typed columns from
  them (``_rows``) - vectorised, in DuckDB's threads.
* **Overlap.** Python decodes and converts to Arrow (``_staging``) on the calling thread while
  two worker threads, each with its own cursor and transaction, run earlier
  batches' SQL (DuckDB releases the GIL). Batches only run side by side when
  they cannot share a span (a set of key hashes tells), so de-duplication
  always sees what it must.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from otel_llm.semconv import GEN_AI_EVALUATION_SCORE_VALUE
from otel_llm_analysis import _proto, _statements as sql
from otel_llm_analysis._attribute_entries import entries_not_kept
from otel_llm_analysis._decode import Batch, Problem, decode_line
from otel_llm_analysis._producers import MAX_CALL_COST_USD
from otel_llm_analysis._row_keys import legacy_tables
from otel_llm_analysis._rows import TABLES
from otel_llm_analysis._ledger import Ledger, Read
from otel_llm_analysis._sources import (
    STREAMED, FileChanged, FileInfo, Reader, Record, SourceError, expand, stat_file,
)
from otel_llm_analysis._staging import SpanKeys, Staged, record_name, stage_batch
from otel_llm_analysis.retention import pruned_before
from otel_llm_analysis._spellings import SPELLINGS

__all__ = ["FileReport", "IngestReport", "SourceError", "entries_problems", "ingest", "listed_files",
           "score_problems", "unreadable_problems"]

_EPOCH = datetime(1970, 1, 1)
#: Rows (spans + points + logs) per insert: big enough to amortise the anti-join
#: and the per-statement overhead, small enough to bound memory (two batches,
#: ~50 MB of input each, are in flight).
BATCH_ROWS = 50_000
#: DuckDB memory limit while ingesting into a database file: committed blocks are
#: on disk, so a small buffer pool costs nothing in speed and keeps peak RSS
#: near 1 GB for 1M spans (1.4 GB without). Not applied to ``:memory:`` stores,
#: whose data lives in that pool.
INGEST_MEMORY_MB = 600  # DuckDB's MB: 1000 * 1000 bytes
INGEST_MEMORY_LIMIT = f"{INGEST_MEMORY_MB}MB"
#: Rows per commit, per worker. Fewer commits are cheaper (a commit per batch
#: cost ~10% of the whole ingest), but DuckDB keeps a transaction's rows in
#: memory until it commits. Measured on 1M spans with two workers: every 500k
#: rows 1.67 GB peak RSS, every 250k 1.2 GB at the same speed.
COMMIT_ROWS = 250_000
#: Said of a file in the collector's protobuf file format whose name does not say its signal (``_proto``)
PROTO_NOT_READ = ("not read: a file in the collector's protobuf format (file exporter `format: proto`) whose name "
                  "says no signal: name it for its traces, metrics or logs (traces.pb), as the collector's "
                  "configuration does")
#: Memory DuckDB may use, beyond INGEST_MEMORY_LIMIT, per byte of a heavy batch's heavy values
#: (measured: a 60 MiB value needed more than 1 GB and no more than 2 GB). It is a limit, not an
#: allocation: that 60 MiB line peaked at 0.7 GB of RSS under a 2 GB limit.
HEAVY_MEMORY_FACTOR = 40


@dataclass(slots=True)
class FileReport:
    """What happened to one file in one run."""

    path: str
    format: str
    #: new | resumed | unchanged | rewritten (same file, changed before the stored
    #: offset: read again from the start) | empty | skipped (replaced while reading)
    status: str
    lines: int = 0  # complete lines (frames) read this run
    bytes: int = 0  # bytes consumed this run (decompressed for zstd)
    partial_tail: bool = False  # a half-written last line was left for the next run
    tail_bytes: int = 0  # its length so far


@dataclass
class IngestReport:
    """The result of :func:`ingest` (and ``TraceStore.ingest``)."""

    files: list[FileReport] = field(default_factory=list)
    spans_added: int = 0
    events_added: int = 0
    links_added: int = 0
    metric_points_added: int = 0
    exemplars_added: int = 0
    logs_added: int = 0
    duplicates_skipped: int = 0  # spans, points and logs already stored (or repeated in the input)
    #: Every problem, located (file, line, place, reason): a line or item not
    #: loaded, a value not readable as its column's type, an ignored field.
    bad_lines: list[Problem] = field(default_factory=list)
    #: What OTLP sent that no table keeps, by kind ("scope attribute lists": 3).
    not_kept: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    pricing: Any = None  # _costs.PricingReport: calls priced at ingest, calls left without a price
    #: The spans read this run (new or not): the earliest non-zero start (ns since the
    #: epoch; None when none had one) and whether some had no start time. The store
    #: derives pricing and nesting for the spans from there on (``_costs``, ``_nesting``).
    first_start_ns: int | None = None
    undated_spans: bool = False
    #: Spans an earlier ingest stored and was interrupted before pricing, pairing and the
    #: agents' tables were worked out for them; this run finished them (``_unfinished``).
    finished_spans: int = 0
    #: ``otel-llm export`` directories found under a directory ingested (an export kept in the
    #: data directory): rows of a store, not OTLP, so not read - named once each, not per row.
    skipped_exports: list[str] = field(default_factory=list)
    #: The store's prune cutoff (``retention``), and per kind the rows read this run that are older
    #: (a pruned trace, point or log in a file read again) and were left out, as the prune left them.
    pruned_before: datetime | None = None
    older_than_pruned: Counter[str] = field(default_factory=Counter)

    @property
    def files_read(self) -> int:
        return sum(1 for f in self.files if f.lines)

    @property
    def lines_read(self) -> int:
        return sum(f.lines for f in self.files)

    @property
    def problems(self) -> list[Problem]:
        """The same list as ``bad_lines``."""
        return self.bad_lines

    def summary(self) -> str:
        """One line for humans (the CLI prints it under its table)."""
        added = [f"+{self.spans_added} spans", f"+{self.events_added} events"]
        if self.links_added:
            added.append(f"+{self.links_added} links")
        added.append(f"+{self.metric_points_added} metric points")
        if self.exemplars_added:
            added.append(f"+{self.exemplars_added} exemplars")
        added.append(f"+{self.logs_added} logs")
        text = (f"{self.files_read} file(s), {self.lines_read} line(s): {', '.join(added)}, "
                f"{self.duplicates_skipped} duplicate(s) skipped, {len(self.bad_lines)} problem(s)")
        if self.not_kept:
            text += "; not kept: " + ", ".join(f"{n} {what}" for what, n in sorted(self.not_kept.items()))
        if self.finished_spans:
            text += f"; finished {self.finished_spans} span(s) an interrupted ingest left"
        if any(self.older_than_pruned.values()):
            older = self.older_than_pruned
            text += (f"; not stored, older than the store's prune cutoff ({self.pruned_before}): "
                     f"{older['spans']} span(s), {older['points']} metric point(s), {older['logs']} log record(s)")
        if self.skipped_exports:
            text += ("; skipped `otel-llm export` output (rows of a store, not OTLP): "
                     + ", ".join(self.skipped_exports))
        waiting = [f"{f.path} ({'a compressed stream cut mid-frame' if f.format in STREAMED else f'{f.tail_bytes} bytes'})"
                   for f in self.files if f.partial_tail]
        if waiting:
            text += "; last line not ended, left for the next run: " + ", ".join(waiting)
        text += f" in {self.seconds:.2f}s"
        priced = self.pricing.summary() if self.pricing is not None else ""
        return f"{text}; {priced}" if priced else text


# --- insert: one staged batch on one cursor ------------------------------------------------


@dataclass(slots=True)
class _Counts:
    spans: int = 0
    events: int = 0
    links: int = 0
    points: int = 0
    exemplars: int = 0
    logs: int = 0
    duplicates: int = 0
    #: kind -> rows left out as older than a prune's cutoff (``Staged.cutoff_us``)
    pruned: Counter[str] = field(default_factory=Counter)
    problems: list[Problem] = field(default_factory=list)


def _insert(con: duckdb.DuckDBPyConnection, staged: Staged, legacy: frozenset[str] = frozenset()) -> _Counts:
    """Insert one staged batch; returns what was added and the values it could not read. ``legacy``: the
    tables holding rows keyed otherwise (``_row_keys.legacy_tables``)."""
    counts = _Counts()
    names = [f"_b_{kind}" for kind in staged.tables]
    for kind, table in staged.tables.items():
        con.register(f"_b_{kind}", table)
    try:
        if "spans" in staged.tables:
            if staged.check_stored:
                con.execute(sql.NEW_SPANS.replace(sql.STORED_WINDOW, staged.windows["spans"]))
            else:
                con.execute(sql.NEW_SPANS_UNSEEN)
            first = staged.span_times[0]
            if staged.cutoff_us is not None and first is not None and first // 1000 < staged.cutoff_us:
                counts.pruned["spans"] = con.execute(sql.PRUNED_SPANS.format(cutoff_us=staged.cutoff_us)).fetchone()[0]
            counts.spans = con.execute(sql.INSERT_SPANS).fetchone()[0]
            counts.problems = unreadable_problems(con.execute(sql.UNREADABLE_SPANS).fetchall())
            counts.problems += entries_problems(con.execute(sql.ENTRIES_NOT_KEPT).fetchall())
            if "events" in staged.tables:
                con.execute(sql.EVENT_PLAN.stage)
                counts.events = _store_staged(con, sql.EVENT_PLAN, counts.problems)
                counts.problems += score_problems(con.execute(sql.UNREADABLE_SCORES).fetchall())
            if "links" in staged.tables:
                con.execute(sql.LINK_PLAN.stage)
                counts.links = _store_staged(con, sql.LINK_PLAN, counts.problems)
            counts.duplicates += staged.tables["spans"].num_rows - counts.spans - counts.pruned["spans"]
        for plan in sql.ROW_PLANS:
            kind = plan.kind
            if kind not in staged.tables:
                continue
            stage = plan.legacy_stage if TABLES[kind].name in legacy else plan.stage
            con.execute(stage.replace(sql.STORED_WINDOW, staged.windows[kind]))
            if staged.cutoff_us is not None:
                counts.pruned[kind] = con.execute(sql.PRUNED_ROWS[kind].format(cutoff_us=staged.cutoff_us)).fetchone()[0]
            added = _store_staged(con, plan, counts.problems)
            setattr(counts, kind, added)
            counts.duplicates += staged.tables[kind].num_rows - added - counts.pruned[kind]
            for follower in plan.following:
                if follower.kind in staged.tables:
                    con.execute(follower.stage)
                    setattr(counts, follower.kind, _store_staged(con, follower, counts.problems))
    finally:
        for name in names:
            try:
                con.unregister(name)
            except duckdb.TransactionException:  # aborted by the failure being raised: kept until replaced
                pass
    return counts


def _store_staged(con: duckdb.DuckDBPyConnection, plan: sql.Plan, problems: list[Problem]) -> int:
    """Insert ``plan``'s staged rows (``_stage_<kind>``); name in ``problems`` those whose attribute lists lost
    entries. Returns how many rows were inserted."""
    added = con.execute(plan.insert).fetchone()[0]
    problems += entries_problems(con.execute(plan.lossy).fetchall(), plan.kind)
    return added


def load_record(record: Record, batch: Batch) -> None:
    """One line or frame of the file ``batch`` is reading, decoded into it; what made it unreadable, or what
    was changed to read it (``Record.error``), is reported with its line."""
    if record.data is not None:
        decode_line(record.data, batch, record.line_no)
    if record.data is None or record.error:
        batch.problems.append(Problem(batch.source, record.line_no, record.error or "unreadable"))


def unreadable_problems(rows: list[tuple[Any, ...]]) -> list[Problem]:
    """Problems for typed attributes present but unreadable (see ``_statements.UNREADABLE_SPANS``)."""
    problems = []
    for source, line, span_id, columns, keys, values in rows:
        for column in columns:
            present = [n for n in SPELLINGS[column] if n in keys and values[keys.index(n)] is not None]
            name = present[0]  # the spelling the column was read from (see ``_rows.first``)
            value = values[keys.index(name)]
            problems.append(Problem(source, line, f"{column} left empty: {name} = {value[:40]!r} is not "
                                                  f"{_EXPECTED.get(column, 'a non-negative integer up to 2**53')}",
                                    f"span {span_id}"))
    return problems


def entries_problems(rows: list[tuple[Any, ...]], kind: str = "spans") -> list[Problem]:
    """Problems for the records of ``kind`` (a staged kind, or ``resources``) whose attribute entries were not
    all kept as sent, each named by its file, line and record with the entries: rows of file, line, what names
    the record (``_staging.record_name``; a resource's JSON path) and the staged attribute text, which is
    parsed again only here (``_statements.ENTRIES_NOT_KEPT``, ``Plan.lossy``, ``RESOURCES_NOT_KEPT``)."""
    return [Problem(source, line, entries_not_kept(attrs)[1] or "attribute entries not kept as sent",
                    f"{record_name(kind, label)}: attributes") for source, line, label, attrs in rows]


def score_problems(rows: list[tuple[Any, ...]]) -> list[Problem]:
    """Problems for the evaluation scores that are no finite number (``_statements.UNREADABLE_SCORES``' rows:
    file, line, span, the score's text; ``_rows.eval_score``): the event is kept, its ``eval_score`` NULL."""
    return [Problem(source, line, f"eval_score left empty: {GEN_AI_EVALUATION_SCORE_VALUE} = {score[:40]!r} is not "
                                  "a finite number", record_name("events", span_id)) for source, line, span_id, score in rows]


#: What a typed attribute must hold, for the report (see ``_rows.COUNT`` / ``NUMBER``).
_EXPECTED = {"cost_usd": f"a finite number from 0 to {MAX_CALL_COST_USD:,.0f} (USD: the SDK's bound on one call's cost)"}


# --- the pipeline: decode on this thread, SQL on two workers ---------------------------------

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
        self.legacy = legacy_tables(self.cursor)

    def insert(self, staged: Staged) -> _Counts:
        """Insert, and commit now and then to bound memory (see COMMIT_ROWS)."""
        counts = _insert(self.cursor, staged, self.legacy)
        self.uncommitted += staged.rows
        if self.uncommitted >= COMMIT_ROWS:
            self.commit()
        return counts

    def commit(self) -> None:
        self.cursor.execute("COMMIT")
        self.cursor.execute("BEGIN TRANSACTION")
        self.uncommitted = 0

    def rollback(self) -> None:
        """Drop what this cursor has not committed (after a failed statement, which aborts it)."""
        self.cursor.execute("ROLLBACK")
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
    ``SpanKeys``); any other batch first waits until everything before it is
    committed, so de-duplication always sees it. Files are remembered in the
    ledger only once every batch holding their rows is committed.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, ledger: Ledger, report: IngestReport,
                 workers: int = WORKERS, memory_mb: int | None = None) -> None:
        self.report = report
        self.memory_mb = memory_mb  # the ingest's DuckDB memory limit (MB), when it set one
        self.ledger = ledger
        self.con = con
        self.resource_ids: dict[str, int] = {}  # attribute text -> number, of the resources met this run
        ((stored,),) = con.execute("SELECT count(*) FROM (SELECT 1 FROM span_rows LIMIT 1)").fetchall()
        self.keys = SpanKeys(store_was_empty=stored == 0)
        cutoff = pruned_before(con)
        report.pruned_before = cutoff
        self.cutoff_us = None if cutoff is None else (cutoff - _EPOCH) // timedelta(microseconds=1)
        self.workers = [_Worker(con) for _ in range(workers)]
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="otel-llm-ingest")
        self.pending: list[tuple[Future[_Counts], Staged, _Worker]] = []
        self.done: list[Read] = []  # files of collected (inserted, maybe not committed) batches

    def submit(self, batch: Batch, reads: list[Read]) -> None:
        staged = stage_batch(batch, reads, self.keys)  # Arrow conversion while earlier batches insert
        staged.cutoff_us = self.cutoff_us
        res = staged.tables["res"]
        staged.tables["res"] = res.append_column("resource_id", pa.array(self._resource_ids(batch, res, staged.problems),
                                                                         pa.int32()))
        del batch
        if staged.heavy:
            self._insert_heavy(staged)
            return
        if staged.repeats_run or staged.exclusive:
            self.flush()
        worker = self._free_worker()
        self.pending.append((self.pool.submit(worker.insert, staged), staged, worker))
        if staged.exclusive:
            self.flush()

    def _insert_heavy(self, staged: Staged) -> None:
        """Insert a batch holding values over ``_staging.HEAVY_VALUE_BYTES`` alone, with the memory they need.

        Alone (everything before it committed, committed at once): should DuckDB
        still run out of memory, only this batch's transaction is rolled back, and
        it is inserted again without its heavy rows, each reported with its file,
        line and size - a captured prompt of tens of MB never stops an ingest.
        """
        self.flush()
        worker = self.workers[0]
        heavy_bytes = sum(size for rows in staged.heavy.values() for _, size, _ in rows)
        if self.memory_mb is not None:
            self.con.execute(f"SET memory_limit = '{_raised_mb(self.memory_mb, heavy_bytes)}MB'")
        try:
            try:
                counts = worker.insert(staged)
            except duckdb.OutOfMemoryException:
                worker.rollback()
                (limit,) = self.con.execute("SELECT current_setting('memory_limit')").fetchone()
                staged = _without_heavy(staged, limit)
                counts = worker.insert(staged)
            worker.commit()
        finally:
            if self.memory_mb is not None:
                self.con.execute(f"SET memory_limit = '{self.memory_mb}MB'")
        done: Future[_Counts] = Future()
        done.set_result(counts)
        self.pending.append((done, staged, worker))
        self.wait()

    def _resource_ids(self, batch: Batch, staged: pa.Table, problems: list[Problem]) -> list[int]:
        """The stored number of each of a batch's resources (``batch.resources``, attribute texts), storing the new
        ones; a new one whose attribute list lost entries is named in ``problems``, where it was first met.

        On the caller's connection, one batch at a time and committed before the
        batch's rows are inserted: each resource is stored once, even when batches
        insert side by side, and a span never refers to a resource not stored.
        Resources already seen this run cost a dictionary look-up.
        """
        texts = batch.resources
        unseen = [i for i, text in enumerate(texts) if text not in self.resource_ids]
        if unseen:
            self.con.register("_b_res", staged.take(unseen))
            try:
                problems += entries_problems([(*batch.resource_places[res_ord], text) for res_ord, text in
                                              self.con.execute(sql.RESOURCES_NOT_KEPT).fetchall()], "resources")
                self.con.execute(sql.INSERT_RESOURCES)
                for res_ord, resource_id in self.con.execute(sql.RESOURCE_IDS).fetchall():
                    self.resource_ids[texts[res_ord]] = resource_id
            finally:
                self.con.unregister("_b_res")
        return [self.resource_ids[text] for text in texts]

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
        r.bad_lines.extend(counts.problems)
        for what, n in staged.not_kept.items():
            r.not_kept[what] = r.not_kept.get(what, 0) + n
        r.spans_added += counts.spans
        r.events_added += counts.events
        r.links_added += counts.links
        r.metric_points_added += counts.points
        r.exemplars_added += counts.exemplars
        r.logs_added += counts.logs
        r.duplicates_skipped += counts.duplicates
        r.older_than_pruned.update(counts.pruned)
        first, _, undated = staged.span_times
        if first is not None and (r.first_start_ns is None or first < r.first_start_ns):
            r.first_start_ns = first
        r.undated_spans = r.undated_spans or undated
        self.done.extend(staged.reads)
        return worker

    def wait(self) -> None:
        while self.pending:
            self._collect_oldest()

    def flush(self) -> None:
        """Everything submitted so far inserted and committed (visible to every cursor), then remembered."""
        self.wait()
        for worker in self.workers:
            if worker.uncommitted:
                worker.commit()
        self._remember()

    def _remember(self) -> None:
        self.ledger.write(self.done)
        self.done = []

    def close(self) -> None:
        try:
            self.wait()
        finally:
            self.pool.shutdown(wait=True)
        for worker in self.workers:
            worker.close(commit=True)
        self._remember()

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


def _raised_mb(limit_mb: int, heavy_bytes: int) -> int:
    """The memory limit (MB) for a batch with ``heavy_bytes`` of heavy values: ``limit_mb`` plus
    HEAVY_MEMORY_FACTOR times as much, at most 80% of the machine's memory (DuckDB's own default)."""
    physical_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // _MEGABYTE
    return max(limit_mb, min(limit_mb + HEAVY_MEMORY_FACTOR * heavy_bytes // _MEGABYTE, physical_mb * 8 // 10))


_MEGABYTE = 1000 * 1000  # DuckDB's MB


def _without_heavy(staged: Staged, limit: str) -> Staged:
    """``staged`` less its heavy rows (and the events and links of heavy spans), each reported."""
    tables = dict(staged.tables)
    problems = list(staged.problems)
    for kind, rows in staged.heavy.items():
        drop = [i for i, _, _ in rows]
        keep = pc.invert(pc.is_in(tables[kind].column("ord"), pa.array(drop, pa.int64())))
        tables[kind] = tables[kind].filter(keep)
        for i, size, (path, line, what) in rows:
            followers = ""
            if kind == "spans":  # its events and links are inserted with it, or not at all
                held = [f"{n} {follower[:-1]}(s)" for follower in ("events", "links")
                        if follower in tables and (n := _count(tables, follower, i))]
                followers = f" (with its {' and '.join(held)})" if held else ""
            problems.append(Problem(path, line, f"not stored{followers}: it holds a value of {size:,} bytes, more "
                                                f"than DuckDB could take in {limit} of memory", what))
    return dataclasses.replace(staged, problems=problems, tables=tables, heavy={})


def _count(tables: dict[str, pa.Table], kind: str, span_ord: int) -> int:
    """How many of ``kind``'s staged rows belong to the span at ``span_ord``."""
    return pc.sum(pc.equal(tables[kind].column("span_ord"), span_ord)).as_py() or 0


def _read(reader: Reader, failed: list[Exception]) -> Iterator[Record]:
    """The reader's records; a failure to *read* (not one of the caller's) ends them into ``failed``."""
    try:
        yield from reader
    except (FileChanged, OSError) as exc:
        failed.append(exc)


class _Loader:
    """Reads files into batches that span files, submitting each when it is full."""

    def __init__(self, pipeline: _Pipeline, ledger: Ledger, report: IngestReport, batch_rows: int,
                 on_progress: Callable[[int], None] | None) -> None:
        self.pipeline, self.ledger, self.report = pipeline, ledger, report
        self.batch_rows, self.on_progress = batch_rows, on_progress
        self.batch = Batch()
        self.reads: list[Read] = []

    def load(self, info: FileInfo) -> None:
        plan = self.ledger.plan(info)
        file_report = FileReport(str(info.path), info.format, plan.status)
        self.report.files.append(file_report)
        if plan.status == "unchanged" and info.format in STREAMED:
            # A stream's size and mtime are all there is to compare without decompressing it.
            self.reads.append(Read(info, plan.offset, plan.line_no, plan.tail))
            return
        reader = Reader(info, plan.offset, plan.line_no, plan.tail)
        batch = self.batch
        batch.start_file(str(info.path))
        previous = None
        failed: list[Exception] = []
        for record in _read(reader, failed):
            load_record(record, batch)
            if self.on_progress is not None:
                self.on_progress(record.end_offset - (reader.offset if previous is None else previous))
            previous = record.end_offset
            if batch.rows >= self.batch_rows:
                self._submit()
                batch = self.batch
                batch.start_file(str(info.path))
        if failed:  # replaced, removed or unreadable since it was listed: the next run reads it
            file_report.status = "skipped"
            exc = failed[0]
            reason = str(exc) if isinstance(exc, FileChanged) else f"cannot read: {exc}; it is read next run"
            self.batch.problems.append(Problem(str(info.path), 0, reason))
            return
        if not reader.resumed and plan.offset:
            file_report.status = "rewritten"
        elif file_report.status == "unchanged" and reader.end_offset > plan.offset:
            file_report.status = "resumed"
        file_report.lines = reader.end_line - reader.line_no
        file_report.bytes = reader.end_offset - reader.offset
        if info.format in STREAMED:  # its size counts compressed bytes: how much is left is not known
            file_report.partial_tail = reader.truncated
        else:
            file_report.partial_tail = reader.end_offset < info.size
            file_report.tail_bytes = info.size - reader.end_offset if file_report.partial_tail else 0
        self.reads.append(Read(info, reader.end_offset, reader.end_line, reader.tail))

    def _submit(self) -> None:
        self.pipeline.submit(self.batch, self.reads)
        self.batch = Batch()
        self.reads = []

    def finish(self) -> None:
        self._submit()


def _unread_reason(path: Path) -> str:
    """Why a file under a directory was not read (``_sources.expand``'s ``unread``)."""
    if path.is_symlink() and not path.exists():
        return f"not read: a link to nothing ({os.readlink(path)})"
    if path.is_dir():
        try:
            os.scandir(path).close()
        except OSError as exc:
            return f"not read: a directory that cannot be listed ({exc.strerror or exc}), nor anything under it"
        return "not read: a directory that could not be listed while ingest walked it"
    if path.suffix == ".gz":
        return "not read: a gzip-compressed file whose name is not that of JSON lines (.jsonl.gz, .json.gz, .jsonl.N.gz)"
    return "not read: not a data file name (.jsonl, .json, .zst, .jsonl.gz, or logrotate's .jsonl.N)"


def listed_files(specs: Iterable[str | Path], report: IngestReport) -> list[FileInfo]:
    """The files ``specs`` name (``_sources.expand``), each looked at once, for any engine's load.

    What is not read is in ``report``: a file gone or unreadable since it was
    listed, a file under a directory that is not data (a ``.gz`` backup, a link
    to nothing, a directory that cannot be listed), a protobuf file whose name
    says no signal - each a problem at line 0 - and the ``otel-llm export``
    directories the walk left, named once each.
    Raises :class:`SourceError` for a path named in ``specs`` that is missing.
    """
    infos = []
    unread: list[Path] = []
    exports: list[Path] = []
    for path in expand(specs, unread, exports):
        try:
            info = stat_file(path)
        except SourceError as exc:  # listed, then removed (a rotation's clean-up) or unreadable
            report.files.append(FileReport(str(path), "", "skipped"))
            report.bad_lines.append(Problem(str(path), 0, str(exc)))
            continue
        if info.format == "proto" and _proto.signal_of(path) is None:  # said at each run until renamed
            report.files.append(FileReport(str(path), info.format, "skipped"))
            report.bad_lines.append(Problem(str(path), 0, PROTO_NOT_READ))
            continue
        infos.append(info)
    for path in unread:
        report.files.append(FileReport(str(path), "", "skipped"))
        report.bad_lines.append(Problem(str(path), 0, _unread_reason(path)))
    report.skipped_exports = [str(path) for path in exports]
    return infos


def ingest(
    con: duckdb.DuckDBPyConnection,
    specs: Iterable[str | Path],
    *,
    batch_rows: int = BATCH_ROWS,
    on_progress: Callable[[int], None] | None = None,
) -> IngestReport:
    """Load every new complete line of the files named by ``specs`` into ``con``'s tables.

    Raises :class:`SourceError` before loading anything when a path named in
    ``specs`` is missing. Bad input never raises: it is reported in
    ``IngestReport.bad_lines`` with file, line and reason, and the rest loads; so
    is a file that vanishes or cannot be read once listed (line 0). ``on_progress`` receives byte
    counts as lines are consumed (for progress bars).
    """
    started = time.perf_counter()
    report = IngestReport()
    infos = listed_files(specs, report)
    ledger = Ledger(con, infos)
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

    def _restore() -> None:
        con.execute(f"SET preserve_insertion_order = {bool(preserve)}")
        con.execute(f"SET threads = {int(threads)}")
        if on_disk:
            con.execute(restore_limit)

    # Rows commit in few, large transactions on the workers' cursors (see
    # COMMIT_ROWS); files are remembered on ``con`` once their rows are in.
    try:
        pipeline = _Pipeline(con, ledger, report, memory_mb=INGEST_MEMORY_MB if on_disk else None)
        try:
            loader = _Loader(pipeline, ledger, report, batch_rows, on_progress)
            for info in infos:
                if info.size == 0:
                    report.files.append(FileReport(str(info.path), info.format, "empty"))
                else:
                    loader.load(info)
            loader.finish()
        except BaseException:
            pipeline.abort()
            raise
        pipeline.close()
    except BaseException:
        try:
            _restore()
        except duckdb.Error:  # the store may not answer after the failure raised (a write to a full disk)
            pass
        raise
    _restore()
    order = {str(f.path): i for i, f in enumerate(report.files)}
    report.bad_lines.sort(key=lambda p: (order.get(p.path, -1), p.line))
    report.seconds = time.perf_counter() - started
    return report
