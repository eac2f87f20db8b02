"""TraceStore: one DuckDB database, its schema, ingest, and SQL access.

Why a class around one connection: DuckDB allows one writer per database file
per process, so the store owns exactly one connection and everything (ingest,
the analyses, user SQL) goes through it. User SQL should use a store opened with
``read_only=True`` (a separate process-level open of the file, which DuckDB
itself refuses to write through).
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import duckdb

from otel_llm_analysis._rows import create_tables
from otel_llm_analysis.ingest import IngestReport, ingest

__all__ = ["StoreError", "TraceStore"]


class StoreError(Exception):
    """The database cannot be opened or used; the message is one line, fit for a CLI."""


def schema_sql() -> str:
    """The views and bookkeeping table (``schema.sql``, shipped in the package); the tables
    of rows come from ``_rows.create_tables``, which runs first."""
    return resources.files("otel_llm_analysis").joinpath("schema.sql").read_text(encoding="utf-8")


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


class TraceStore:
    """A DuckDB database of spans, span events, metric points and logs.

    ``TraceStore(":memory:")`` for tests; ``TraceStore("traces.duckdb")`` creates
    the file and schema on first use; ``read_only=True`` opens an existing file
    for queries only (the schema is not touched).
    """

    def __init__(self, path: str | os.PathLike[str] = ":memory:", *, read_only: bool = False,
                 threads: int | None = None) -> None:
        self.path = os.fspath(path)
        self.read_only = read_only
        if read_only and self.path != ":memory:" and not Path(self.path).is_file():
            raise StoreError(f"no database at {self.path} (run `otel-llm ingest` first)")
        config: dict[str, Any] = {}
        if threads:
            config["threads"] = threads
        try:
            self._con = duckdb.connect(self.path, read_only=read_only, config=config)
        except (duckdb.Error, OSError) as exc:
            raise StoreError(f"cannot open database {self.path}: {_one_line(exc)}") from None
        if not read_only:
            try:
                create_tables(self._con)
                self._con.execute(schema_sql())
            except duckdb.Error as exc:
                self._con.close()
                raise StoreError(f"cannot create the schema in {self.path}: {_one_line(exc)}") from None

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """The store's DuckDB connection (the analyses run their SQL on it)."""
        return self._con

    def ingest(self, paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]], *,
               on_progress: Callable[[int], None] | None = None, batch_rows: int | None = None) -> IngestReport:
        """Load new data from files, globs or directories; see :func:`otel_llm_analysis.ingest.ingest`.

        Raises :class:`StoreError` (one line) for a missing path or a read-only store.
        """
        if self.read_only:
            raise StoreError(f"{self.path} is open read-only; ingest needs a writable store")
        specs = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
        from otel_llm_analysis._sources import SourceError

        kwargs: dict[str, Any] = {"on_progress": on_progress}
        if batch_rows:
            kwargs["batch_rows"] = batch_rows
        try:
            return ingest(self._con, specs, **kwargs)
        except SourceError as exc:
            raise StoreError(str(exc)) from None

    def query(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        """Run one statement and return all rows (tuples)."""
        try:
            return self._con.execute(sql, params or []).fetchall()
        except duckdb.Error as exc:
            raise StoreError(_one_line(exc)) from None

    def query_columns(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None
                      ) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Like :meth:`query`, plus the column names (for tables printed to users)."""
        try:
            cursor = self._con.execute(sql, params or [])
            names = [d[0] for d in cursor.description or []]
            return names, cursor.fetchall()
        except duckdb.Error as exc:
            raise StoreError(_one_line(exc)) from None

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> "TraceStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        mode = "read-only" if self.read_only else "read-write"
        return f"TraceStore({self.path!r}, {mode})"
