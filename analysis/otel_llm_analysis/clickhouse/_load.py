"""``otel-llm load FILES --to clickhouse://…``: file dumps into the exporter's tables, once.

Why: a team moving to ClickHouse has history in OTLP-JSON files (the SDK's
spool, the collector's file exporter). Loaded here, it sits in the same tables,
with the same values, as what the collector's ClickHouse exporter delivers live,
so every analysis reads old and new data alike.

* One parser: the files are read and decoded by the DuckDB ingest's own reader
  and decoder (:mod:`otel_llm_analysis._sources`, :mod:`otel_llm_analysis._decode`),
  so a bad line is located and counted exactly as ``otel-llm ingest`` does, and
  the rest loads. :mod:`._exporter_rows` lays the rows out as the exporter does.
* Tables: created from the exporter's own DDL templates (:class:`ExporterSchema`)
  when missing, the metric tables with their point times at ns
  (``subsecond_metrics``: the exporter's DDL keeps whole seconds) and a point's
  absent sum NULL (``nullable_sums``: the exporter's ``Sum`` cannot be NULL);
  existing ones (made by the exporter) are used as they are, an absent sum
  written there as the exporter writes it, 0 (``_exporter_rows.fit_sums``).
* Idempotent by content, not by a ledger: a span is new unless its
  ``(TraceId, SpanId)`` is already stored; a log record or metric point unless an
  identical row (every column) is stored at the same time. So loading the same
  files twice adds nothing, and so does loading the file dump of a collector
  whose ClickHouse exporter already delivered the same spans live — which a
  ledger of files could not know. Rows go to a staging table first and only the
  new ones are copied over (``INSERT … SELECT … WHERE key NOT IN``), all on the
  server. Two loads of the same data running at the same time may both add it.
"""

from __future__ import annotations

import os
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Iterable

import msgspec

from otel_llm.semconv import GEN_AI_EVALUATION_SCORE_VALUE
from otel_llm_analysis._decode import Batch, Problem
from otel_llm_analysis._sources import FileChanged, Reader
from otel_llm_analysis.clickhouse._client import ClickHouseError, ClickHouseURL, connect, one_line
from otel_llm_analysis.clickhouse._ddl import LOGS_TABLE, METRICS_TABLES, TRACES_TABLE, ExporterSchema
from otel_llm_analysis.clickhouse._exporter_rows import (
    LOG_COLUMNS, METRIC_COLUMNS, SPAN_COLUMNS, fit_sums, fit_times, log_rows, metric_rows, span_rows,
)
from otel_llm_analysis.clickhouse._span_table import ensure_span_table
from otel_llm_analysis.clickhouse._views import eval_score, unreadable_sql
from otel_llm_analysis.ingest import (
    FileReport, IngestReport, entries_problems, listed_files, load_record, score_problems, unreadable_problems,
)

__all__ = ["BATCH_ROWS", "load"]

#: Spans, records and points decoded before they are sent (one staging insert per table).
BATCH_ROWS = 50_000
#: What an event's attribute text holds when it may carry an evaluation score (``_Loader._report_scores``)
_SCORE_BYTES = GEN_AI_EVALUATION_SCORE_VALUE.encode()


def load(specs: str | os.PathLike[str] | Iterable[str | os.PathLike[str]], to: str | ClickHouseURL, *,
         client: Any = None, create: bool = True, batch_rows: int = BATCH_ROWS,
         schema: ExporterSchema | None = None, progress: Callable[[str], None] | None = None) -> IngestReport:
    """Load the files (paths, globs, directories) named by ``specs`` into the ClickHouse database at ``to``.

    Returns the ingest's report: rows added, duplicates skipped, every bad line
    located. Raises :class:`SourceError` for a path that does not exist (before
    loading anything) and :class:`ClickHouseError` when the server refuses.
    ``create=False`` requires the tables to exist (made by the exporter). ``progress`` hears how a
    (re)build of the derived span table goes (:func:`._span_table.ensure_span_table`).
    """
    target = to if isinstance(to, ClickHouseURL) else ClickHouseURL.parse(to)
    started = time.perf_counter()
    report = IngestReport()
    infos = listed_files([specs] if isinstance(specs, (str, os.PathLike)) else list(specs), report)
    client = client or connect(target, select=False)
    loader = _Loader(client, target.database)
    loader.prepare(create, schema or ExporterSchema(database=target.database, subsecond_metrics=True,
                                                    nullable_sums=True), progress)
    batch = Batch()
    try:
        for info in infos:
            path = info.path
            file_report = FileReport(str(path), info.format, "new" if info.size else "empty")
            report.files.append(file_report)
            if not info.size:
                continue
            batch.start_file(str(path))
            reader = Reader(info)
            try:
                for record in reader:
                    load_record(record, batch)
                    if batch.rows >= batch_rows:
                        loader.send_soon(batch, report)
                        batch = Batch()
                        batch.start_file(str(path))
            except (FileChanged, OSError) as exc:
                file_report.status = "skipped"
                batch.problems.append(Problem(str(path), 0, f"cannot read: {exc}"))
            file_report.lines = reader.end_line
            file_report.bytes = reader.end_offset
        loader.wait()
        loader.send(batch, report)
    finally:
        loader.close()
    order = {f.path: i for i, f in enumerate(report.files)}
    report.bad_lines.sort(key=lambda p: (order.get(p.path, -1), p.line))
    report.seconds = time.perf_counter() - started
    return report


def _in_place(batch: Batch, rows: list[Any]) -> list[tuple[Any, ...]]:
    """``rows`` of the batch's spans (trace id, span id, what else) as (file, line, span id, what else), in the
    order of the spans in the batch (the files' order, as ``ingest`` reports them)."""
    if not rows:
        return []
    spans = batch.cols["spans"]
    order = {(trace, span): i for i, (trace, span) in enumerate(zip(spans["trace_id"], spans["span_id"]))}
    return [(*batch.contexts[spans["ctx"][order[trace, span]]][:2], span, *rest)
            for trace, span, *rest in sorted(rows, key=lambda row: order[row[0], row[1]])]


class _Loader:
    """Staging tables, one per target table, and the copy of their new rows."""

    def __init__(self, client: Any, database: str) -> None:
        self.client, self.database = client, database
        self.run = uuid.uuid4().hex[:12]
        self.staged: set[str] = set()
        self.types: dict[str, dict[str, str]] = {}
        # one batch goes to the server while the next is read and decoded
        self._sender = ThreadPoolExecutor(max_workers=1, thread_name_prefix="otel-llm-load")
        self._pending: Future[None] | None = None

    def _q(self, table: str) -> str:
        return f"`{self.database}`.`{table}`"

    def command(self, sql: str) -> Any:
        from clickhouse_connect.driver.exceptions import ClickHouseError as DriverError

        try:
            return self.client.command(sql)
        except DriverError as exc:
            raise ClickHouseError(f"ClickHouse refused a statement of the load: {one_line(exc)}") from None

    def prepare(self, create: bool, schema: ExporterSchema, progress: Callable[[str], None] | None = None) -> None:
        tables = [TRACES_TABLE, LOGS_TABLE, *METRICS_TABLES.values()]
        existing = set(self.client.query(
            f"SELECT name FROM system.tables WHERE database = '{self.database}'").result_columns[0] if self._database_exists() else [])
        if set(tables) - existing:
            if not create:
                missing = ", ".join(sorted(set(tables) - existing))
                raise ClickHouseError(f"{self.database} has no {missing}: start the collector with --clickhouse "
                                      "or load without --no-create")
            for statement in schema.statements():  # IF NOT EXISTS: the exporter's own tables stay as they are
                self.command(statement)
        from clickhouse_connect.driver.exceptions import ClickHouseError as DriverError

        try:
            ensure_span_table(self.client, self.database, progress)  # the derived span rows, filled as spans arrive
        except DriverError as exc:
            raise ClickHouseError(f"ClickHouse refused the derived span table: {one_line(exc)}") from None
        for table in tables:
            described = self.client.query(f"DESCRIBE TABLE {self._q(table)}").result_rows
            self.types[table] = {row[0]: row[1] for row in described}

    def _database_exists(self) -> bool:
        return bool(self.client.query(
            f"SELECT count() FROM system.databases WHERE name = '{self.database}'").result_rows[0][0])

    def _stage(self, table: str) -> str:
        staging = f"_otel_llm_load_{self.run}_{table}"
        if staging not in self.staged:
            self.command(f"CREATE TABLE {self._q(staging)} ENGINE = Memory AS SELECT * FROM {self._q(table)} WHERE 0")
            self.staged.add(staging)
        else:
            self.command(f"TRUNCATE TABLE {self._q(staging)}")
        return staging

    def send_soon(self, batch: Batch, report: IngestReport) -> None:
        """:meth:`send` in the background, once the batch sent before is in (its error raised here)."""
        self.wait()
        self._pending = self._sender.submit(self.send, batch, report)

    def wait(self) -> None:
        """Until the batch in flight is in; its error, if any, raised here."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def send(self, batch: Batch, report: IngestReport) -> None:
        """Insert the batch's rows; count what was new; move its problems into the report."""
        if batch.spans:
            lossy: list[int] = []
            rows = span_rows(batch, lossy)

            def check(new: str) -> None:
                self._report_unreadable(batch, new)
                self._report_entries(batch, new, lossy)
                self._report_scores(batch, new)

            added, events, links, given = self._copy(TRACES_TABLE, SPAN_COLUMNS, rows, "traces", check)
            report.spans_added += added
            report.events_added += events
            report.links_added += links
            report.duplicates_skipped += given - added
        if batch.count("logs"):
            added, _, _, given = self._copy(LOGS_TABLE, LOG_COLUMNS, log_rows(batch), "logs")
            report.logs_added += added
            report.duplicates_skipped += given - added
        for kind, rows in metric_rows(batch).items():
            added, _, _, given = self._copy(METRICS_TABLES[kind], METRIC_COLUMNS[kind], rows, "metrics")
            report.metric_points_added += added
            report.duplicates_skipped += given - added
        report.bad_lines.extend(batch.problems)
        for what, n in batch.not_kept.items():
            report.not_kept[what] = report.not_kept.get(what, 0) + n
        batch.problems = []
        batch.not_kept.clear()

    def _report_unreadable(self, batch: Batch, new: str) -> None:
        """Add to the batch's problems the new spans' token counts and costs the span table leaves empty
        (present, unreadable), each with its file and line, worded as ``ingest`` words them. ``new``:
        the SELECT of the batch's spans not stored yet."""
        rows = self.client.query(
            f"SELECT TraceId, SpanId, unreadable, mapKeys(SpanAttributes), mapValues(SpanAttributes) "
            f"FROM (SELECT *, {unreadable_sql()} AS unreadable FROM ({new})) WHERE notEmpty(unreadable)").result_rows
        batch.problems.extend(unreadable_problems(_in_place(batch, rows)))

    def _report_entries(self, batch: Batch, new: str, lossy: list[int]) -> None:
        """Add to the batch's problems the new spans among ``lossy`` (indexes of spans whose attribute lists
        lost entries, ``span_rows``), each with its file, line and entries, worded as ``ingest`` words them
        (``ingest.entries_problems``). ``new``: the SELECT of the batch's spans not stored yet; asked only
        when some span lost entries."""
        if not lossy:
            return
        fresh = {tuple(row) for row in self.client.query(f"SELECT TraceId, SpanId FROM ({new})").result_rows}
        spans = batch.cols["spans"]
        batch.problems.extend(entries_problems(_in_place(batch, [
            (spans["trace_id"][i], spans["span_id"][i], bytes(spans["attrs"][i])) for i in lossy
            if (spans["trace_id"][i], spans["span_id"][i]) in fresh])))

    def _report_scores(self, batch: Batch, new: str) -> None:
        """Add to the batch's problems the new spans' evaluation scores that are no number (``span_events``'
        ``eval_score`` NULL: ``_views.eval_score``, as DuckDB's ``TRY_CAST``), each with its file, line and span,
        worded as ``ingest`` words them (``ingest.score_problems``). Asked only when an event of the batch names
        a score."""
        if not any(_SCORE_BYTES in bytes(attributes) for attributes in batch.cols["events"]["attrs"]):
            return
        name = f"'{GEN_AI_EVALUATION_SCORE_VALUE}'"
        rows = self.client.query(
            f"SELECT TraceId, SpanId, a[{name}] FROM ({new}) ARRAY JOIN `Events.Attributes` AS a "
            f"WHERE mapContains(a, {name}) AND {eval_score('a')} IS NULL").result_rows
        batch.problems.extend(score_problems(_in_place(batch, rows)))

    def _copy(self, table: str, columns: tuple[str, ...], rows: list[list[Any]], signal: str,
              check: Callable[[str], None] | None = None) -> tuple[int, int, int, int]:
        """Stage ``rows``, copy the new ones into ``table``: (rows added, their events, their links, rows given).
        ``check`` hears the SELECT of the new rows before they are copied."""
        given = len(rows)
        if not rows:
            return 0, 0, 0, 0
        if signal != "traces":
            # Repeats in the input, told apart at full (ns) precision: a metric column keeps whole seconds,
            # where two exports of a point within one second would look alike.
            rows = list({msgspec.json.encode(row): row for row in rows}.values())
        fit_times(rows, columns, self.types[table])
        fit_sums(rows, columns, self.types[table])
        staging = self._stage(table)
        from clickhouse_connect.driver.exceptions import ClickHouseError as DriverError

        try:
            self.client.insert(self._q(staging), rows, column_names=list(columns))
        except DriverError as exc:
            raise ClickHouseError(f"ClickHouse refused the rows for {table}: {one_line(exc)}") from None
        new = self._new_rows(table, staging, signal)
        counts = ("count(), sum(length(`Events.Name`)), sum(length(`Links.SpanId`))" if signal == "traces"
                  else "count(), 0, 0")
        added, events, links = self.client.query(f"SELECT {counts} FROM ({new})").result_rows[0]
        if added and check is not None:
            check(new)
        if added:  # in one stream: rows alike in the sorting key keep the files' order (the exports' order)
            self.command(f"INSERT INTO {self._q(table)} {new} SETTINGS max_threads = 1")
        return int(added), int(events or 0), int(links or 0), given

    def _new_rows(self, table: str, staging: str, signal: str) -> str:
        """SELECT of the staged rows not stored yet: spans by id (each once), other rows by their content
        (repeats were dropped before staging), compared only with stored rows of the same times (the
        tables' partition and ordering keys). A point's absent sum (NULL: ``fit_sums``) compares as 0, the
        exporter's writing of it: the file's copy of a point the exporter delivered is that point, and a NULL
        would make the row's hash NULL, never unequal."""
        if signal == "traces":
            return (f"SELECT * FROM {self._q(staging)} WHERE (TraceId, SpanId) NOT IN ("
                    f"SELECT TraceId, SpanId FROM {self._q(table)} "
                    f"WHERE TraceId IN (SELECT TraceId FROM {self._q(staging)})) LIMIT 1 BY TraceId, SpanId")
        at = "Timestamp" if signal == "logs" else "TimeUnix"
        row = "cityHash64(* REPLACE (ifNull(Sum, 0) AS Sum))" if "Sum" in self.types[table] else "cityHash64(*)"
        return (f"SELECT * FROM {self._q(staging)} WHERE {row} NOT IN ("
                f"SELECT {row} FROM {self._q(table)} WHERE {at} BETWEEN "
                f"(SELECT min({at}) FROM {self._q(staging)}) AND (SELECT max({at}) FROM {self._q(staging)}))")

    def close(self) -> None:
        self._sender.shutdown(wait=True)  # a batch in flight finishes before its staging table goes
        for staging in self.staged:
            try:
                self.client.command(f"DROP TABLE IF EXISTS {self._q(staging)}")
            except Exception as exc:  # noqa: BLE001 - the load's own error (if any) is the one to show
                from otel_llm._guard import internal_error

                internal_error("clickhouse.load.drop_staging", exc)
