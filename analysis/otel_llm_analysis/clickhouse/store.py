"""``ClickHouseStore``: the analyses over a ClickHouse database of the collector's exporter, as over DuckDB.

Every analysis reads its store through one seam, ``connection(store).execute(sql,
params)`` with DuckDB cursor semantics (``description``, ``fetchall``). Here that
connection transpiles the analysis's DuckDB SQL to ClickHouse (:mod:`._dialect`)
and runs it with clickhouse-connect over HTTP; the ``spans`` contract and the
other views the analyses read are ClickHouse views over the exporter's tables
(:mod:`._views`), created in the database when the store opens. So an analysis
is written once, and ``--db clickhouse://…`` changes the engine, not the tool.

Read-only: the store creates its views (``CREATE OR REPLACE VIEW``, idempotent)
and otherwise only reads; :meth:`ClickHouseStore.sql` accepts queries only (in
ClickHouse's SQL or DuckDB's) and
runs them with the server's ``readonly`` setting.
"""

from __future__ import annotations

import hashlib
import os
import re
from datetime import datetime, timezone
from typing import Any, Callable, Mapping, Sequence

from sqlglot import exp

from otel_llm_analysis import _coverage
from otel_llm_analysis.clickhouse._client import ClickHouseError, ClickHouseURL, connect, one_line
from otel_llm_analysis.clickhouse._dialect import transpile
from otel_llm_analysis.clickhouse._kept_views import KeptViews, is_lost_table
from otel_llm_analysis.clickhouse._span_table import ensure_span_table
from otel_llm_analysis.clickhouse._unreadable import note as unreadable_note
from otel_llm_analysis.clickhouse._scope_views import statements as scope_view_statements
from otel_llm_analysis.clickhouse._views import PRICE_GROUPS, view_statements

__all__ = ["ClickHouseStore", "Unsupported"]

#: Appended to every analysis query: a SELECT alias never hides a column of the same name
#: (DuckDB's rule; ClickHouse's default lets ``sum(x) AS x`` shadow ``x`` everywhere), and the
#: missing side of an outer join is NULL (DuckDB's; ClickHouse's default fills in 0 / ''). As a
#: clause, not an HTTP setting, so the statement run is the whole truth.
_SETTINGS = " SETTINGS prefer_column_name_to_alias = 1, join_use_nulls = 1"


class Unsupported(Exception):
    """An analysis that does not run on ClickHouse (yet); the message is one line."""


def _naive(value: Any) -> Any:
    """Times as the DuckDB store returns them: naive UTC."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(timezone.utc).replace(tzinfo=None)
    if isinstance(value, list):
        return [_naive(v) for v in value]
    return value


class _Cursor:
    """The result of one statement, shaped like a DuckDB cursor."""

    def __init__(self, names: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        self.description = [(name, None, None, None, None, None, None) for name in names]
        self._rows = rows

    def fetchall(self) -> list[tuple[Any, ...]]:
        rows, self._rows = self._rows, []
        return rows

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._rows.pop(0) if self._rows else None


class _Connection:
    """``execute(duckdb_sql, params)`` on ClickHouse: transpiled, bound, run; the last statement's rows."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.statements: list[str] = []  # every ClickHouse statement run (tests read what ran)
        self.span_table: tuple[str, str] | None = None  # (database, table) of the derived spans, once made
        self.kept: KeptViews | None = None  # the views kept as tables, once the views are made

    def data_version(self) -> tuple[int, int, int] | None:
        """What changes whenever the stored spans do, for ``_filters.per_data_version``: the span table's
        active parts - how many, their rows, a hash of their names (an insert adds a part; a merge, a delete,
        a mutation or a TTL drop replaces parts with newly named ones). A read of ``system.parts``, not of the
        spans; None when it cannot be read (nothing is kept then)."""
        from clickhouse_connect.driver.exceptions import ClickHouseError as DriverError

        if self.span_table is None:
            return None
        database, table = self.span_table
        try:
            ((parts, rows, names),) = self.client.query(
                "SELECT count(), sum(rows), groupBitXor(cityHash64(name)) FROM system.parts "
                f"WHERE database = '{database}' AND table = '{table}' AND active").result_rows  # (both plain names)
        except DriverError:
            return None
        return int(parts), int(rows), int(names)

    def execute(self, sql: str, params: Mapping[str, Any] | Sequence[Any] | None = None) -> _Cursor:
        if sql.lstrip().upper().startswith("COPY"):
            raise Unsupported("writing files with DuckDB's COPY does not run on ClickHouse: use `otel-llm export "
                              "--db URL`, or query ClickHouse with `otel-llm sql --db URL … --out FILE`")
        for attempt in range(3):
            try:
                return self._run(self._transpile(sql, params))
            except ClickHouseError as exc:
                if attempt == 2 or self.kept is None or not is_lost_table(str(exc)):
                    raise
                self.kept.forget()  # another process dropped a kept table meanwhile: make it again
        raise AssertionError("unreachable")

    def _transpile(self, sql: str, params: Mapping[str, Any] | Sequence[Any] | None) -> list[str]:
        """``sql`` as ClickHouse statements, reading the views kept as tables at the spans' version."""
        from clickhouse_connect.driver.exceptions import ClickHouseError as DriverError

        version = self.data_version() if self.kept is not None else None
        kept = None if version is None or self.kept is None else (lambda tree: self.kept.rewrite(tree, version))
        try:
            return transpile(sql, params, results=True, tables=kept)
        except DriverError as exc:  # making a kept table
            raise ClickHouseError(_server_message(exc)) from None
        except Exception as exc:  # noqa: BLE001 - a query SQLGlot cannot read: the analysis cannot run here
            from otel_llm._guard import internal_error

            internal_error("clickhouse.transpile", exc)
            raise ClickHouseError(f"this analysis cannot run on ClickHouse: {one_line(exc)}") from None

    def _run(self, statements: list[str]) -> _Cursor:
        from clickhouse_connect.driver.exceptions import ClickHouseError as DriverError

        cursor = _Cursor([], [])
        for statement in statements:
            statement += _SETTINGS
            self.statements.append(statement)
            try:
                result = self.client.query(statement)
            except DriverError as exc:
                raise ClickHouseError(_server_message(exc)) from None
            rows = [tuple(_naive(v) for v in row) for row in result.result_rows]
            cursor = _Cursor(result.column_names, rows)
        return cursor

    def close(self) -> None:
        self.client.close()


_VIEW_NAME = re.compile(r"CREATE OR REPLACE VIEW `[^`]+`\.`?(\w+)`? AS\b")


def _create_views(client: Any, database: str, statements: list[str]) -> None:
    """Run each ``CREATE OR REPLACE VIEW`` of ``statements`` whose view ``database`` does not hold as it
    defines it (a digest of the statement in the view's comment): ClickHouse analyses a view when it is
    made, over a second for the agents' whole-store views, and every command opens the store."""
    held = {name: comment for name, comment in client.query(
        f"SELECT name, comment FROM system.tables WHERE database = '{database}'").result_rows}
    for statement in statements:
        name = _VIEW_NAME.search(statement)
        comment = f"otel-llm view {hashlib.sha256(statement.encode()).hexdigest()[:16]}"
        if name is None or held.get(name.group(1)) != comment:
            client.command(f"{statement}\nCOMMENT '{comment}'")


def _price_book(pricing: Mapping[str, Any] | str | os.PathLike[str] | None) -> Any:
    """The PriceBook DuckDB's ingest would use (``store.price_book``); what it refuses, as one line."""
    from otel_llm_analysis.store import StoreError, price_book

    try:
        return price_book(pricing)
    except StoreError as exc:
        raise ClickHouseError(str(exc)) from None


def _server_message(exc: BaseException) -> str:
    """ClickHouse's own message (``Code: 62. DB::Exception: …``), one line, without the driver's wrapping."""
    text = str(exc)
    start = text.find("Code: ")
    return one_line(Exception(text[start:] if start >= 0 else text))


#: ClickHouse's answer to SQL of another dialect: an unknown function (46), a syntax error (62), an
#: unknown type (50), a function's arguments of DuckDB's order (42, 43: ``date_trunc``, ``list_*``).
_NOT_CLICKHOUSE_SQL = re.compile(r"Code: (46|62|50|42|43)\.")


def _one_query(query: str, dialect: str) -> None:
    """:class:`ClickHouseError` unless ``query`` is one read-only query in ``dialect``'s SQL (``clickhouse``:
    in ClickHouse's SQL, else in DuckDB's: the query may be either)."""
    from sqlglot import parse
    from sqlglot.errors import ParseError

    try:
        statements = [s for s in parse(query, read=dialect) if s is not None]
    except ParseError as exc:
        if dialect == "clickhouse":
            try:
                return _one_query(query, "duckdb")
            except ClickHouseError:
                pass
        raise ClickHouseError(f"cannot read the query: {one_line(exc)}") from None
    if len(statements) != 1:
        raise ClickHouseError("give exactly one query")
    if not isinstance(statements[0], (exp.Query, exp.Describe, exp.Show)) and not (
            isinstance(statements[0], exp.Command) and statements[0].name.upper() in ("EXPLAIN", "SHOW", "DESCRIBE")):
        raise ClickHouseError(f"refused: only queries run here, not {type(statements[0]).__name__.upper()}")


class ClickHouseStore:
    """The analyses' store on ClickHouse: ``ClickHouseStore("clickhouse://user:pass@host:8123/otel")``.

    The database holds the collector exporter's tables (``otel_traces``,
    ``otel_logs``, ``otel_metrics_*``; created by the exporter or by
    ``otel-llm load``). Opening it creates the analysis views beside them, pricing the LLM
    spans that carry tokens and no usable cost with ``pricing`` (as ``TraceStore.ingest``:
    a dict or JSON/YAML file, default ``$OTEL_LLM_PRICING``, over genai-prices; ``_pricing``).
    ``progress`` hears how a (re)build of the derived span table goes, a line at a time: the first open
    after an upgrade reads every stored span (:func:`._span_table.ensure_span_table`).
    """

    read_only = True

    def __init__(self, url: str | ClickHouseURL, *, client: Any = None,
                 pricing: Mapping[str, Any] | str | os.PathLike[str] | None = None,
                 progress: Callable[[str], None] | None = None) -> None:
        self.url = url if isinstance(url, ClickHouseURL) else ClickHouseURL.parse(url)
        self.path = str(self.url)
        client = client or connect(self.url)
        self._con = _Connection(client)
        tables = {row[0] for row in self._con.client.query(
            f"SELECT name FROM system.tables WHERE database = '{self.url.database}'").result_rows}
        if "otel_traces" not in tables:
            client.close()
            raise ClickHouseError(f"no otel_traces table in {self.url}: start the collector with --clickhouse, "
                                  "or run `otel-llm load FILES --to` this URL")
        try:
            book = _price_book(pricing)
        except ClickHouseError:
            client.close()
            raise
        try:
            span_table = ensure_span_table(client, self.url.database, progress)
            groups = [tuple(row) for row in client.query(
                PRICE_GROUPS.format(db=self.url.database, spans=span_table)).result_rows]
            whole_seconds = {row[0] for row in client.query(
                f"SELECT table FROM system.columns WHERE database = '{self.url.database}' AND name = 'TimeUnix' "
                "AND NOT startsWith(type, 'DateTime64')").result_rows}
            views = [*view_statements(self.url.database, tables, (groups, book), whole_seconds),
                     *scope_view_statements(self.url.database)]
            _create_views(client, self.url.database, views)
        except Exception as exc:  # noqa: BLE001 - the driver's error, as one line
            client.close()
            raise ClickHouseError(f"cannot create the analysis views in {self.url}: {_server_message(exc)}") from None
        client.database = self.url.database
        self._con.span_table = (self.url.database, span_table)
        self._con.kept = KeptViews(client, self.url.database, views, self._con.statements.append)
        #: As DuckDB's ingest says them: one line when spans hold a token count or cost that cannot be read
        #: (the collector's exporter inserts them with no ingest to say so), else None.
        self.unreadable: str | None = unreadable_note(client, self.url.database, span_table)
        #: As on DuckDB (``TraceStore.span_coverage``): one line when the spans hold fewer of otel-llm's LLM
        #: calls than its metrics counted, else None.
        self.span_coverage: str | None = _coverage.note(self._con, self.path, (ClickHouseError,))

    @property
    def connection(self) -> _Connection:
        """What the analyses run their (DuckDB) SQL on."""
        return self._con

    def query(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        return self._con.execute(sql, params).fetchall()

    def query_columns(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None
                      ) -> tuple[list[str], list[tuple[Any, ...]]]:
        cursor = self._con.execute(sql, params)
        return [d[0] for d in cursor.description], cursor.fetchall()

    def sql(self, query: str, params: Sequence[Any] | Mapping[str, Any] | None = None
            ) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Your own SQL, read-only: one query (SELECT / WITH / DESCRIBE / SHOW / EXPLAIN), run with the
        server's ``readonly = 1`` (no writes, no settings changes).

        Read as ClickHouse SQL first; a query ClickHouse cannot read for a function or syntax of DuckDB's
        (``TRY_CAST``, ``quantile_cont``, ``strftime``, ``::``: the README's SQL, written for a DuckDB
        store) is run as the analyses run theirs, translated by :mod:`._dialect`. So both a ClickHouse
        query and a DuckDB one answer; one that neither engine reads says both reasons."""
        from clickhouse_connect.driver.exceptions import ClickHouseError as DriverError

        _one_query(query, "clickhouse")
        try:
            result = self._con.client.query(query, parameters=params, settings={"readonly": 1})
        except DriverError as exc:
            message = _server_message(exc)
            if not _NOT_CLICKHOUSE_SQL.match(message):
                raise ClickHouseError(message) from None
            try:
                _one_query(query, "duckdb")
                (statement,) = transpile(query, params, results=True)
                result = self._con.client.query(statement + _SETTINGS, settings={"readonly": 1})
            except (ClickHouseError, DriverError, ValueError) as duckdb_exc:
                as_duckdb = _server_message(duckdb_exc) if isinstance(duckdb_exc, DriverError) else str(duckdb_exc)
                raise ClickHouseError(f"{message} (read as DuckDB SQL: {as_duckdb})") from None
        return list(result.column_names), [tuple(_naive(v) for v in row) for row in result.result_rows]

    def export_spans(self, out_dir: str | os.PathLike[str], fmt: str = "parquet") -> Any:
        """The ``spans`` table as files under ``out_dir/day=YYYY-MM-DD/``, as a DuckDB store exports it
        (:mod:`._export`)."""
        from clickhouse_connect.driver.exceptions import ClickHouseError as DriverError

        from otel_llm_analysis.clickhouse._export import export_spans

        try:
            return export_spans(self._con.client, self.url.database, out_dir, fmt)
        except DriverError as exc:
            raise ClickHouseError(_server_message(exc)) from None

    def ingest(self, *_args: Any, **_kwargs: Any) -> Any:
        raise ClickHouseError("a ClickHouse store is filled by the collector or `otel-llm load FILES --to URL`, "
                              "not by ingest")

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> "ClickHouseStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
