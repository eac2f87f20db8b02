"""TraceStore: one DuckDB database, its schema, ingest, and SQL access.

Why a class around one connection: DuckDB allows one writer per database file
per process, so the store owns exactly one connection and everything (ingest,
the analyses, user SQL) goes through it. User SQL should use a store opened with
``read_only=True`` (a separate process-level open of the file, which DuckDB
itself refuses to write through).
"""

from __future__ import annotations

import os
import re
import warnings
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sequence

import duckdb

from otel_llm import semconv
from otel_llm_analysis import (
    _coverage, _llm_calls_view, _reclassify, _row_keys, _sandbox, _total_only, _unfinished, retention,
)
from otel_llm_analysis._costs import count_calls, price_calls
from otel_llm_analysis._filters import IS_UNPRICED, TOTAL_ONLY_TOKENS
from otel_llm_analysis._nesting import refresh_nesting
from otel_llm_analysis._producers import cost_rank_sql
from otel_llm_analysis._rows import create_tables
from otel_llm_analysis._instrumentation_failures import CANDIDATE, raised_in_openlit
from otel_llm_analysis._scope_index import drop_stale, made_by_another_version, refresh_scopes
from otel_llm_analysis._scopes import view_parameters

if TYPE_CHECKING:  # ingest's decoding and staging (pyarrow, pandas) load with the first ingest: reading needs neither
    from otel_llm_analysis.ingest import IngestReport

__all__ = ["StoreError", "TraceStore", "UnfinishedIngest"]

#: The pricing file ingest uses when none is given: the SDK's variable, so one
#: file prices calls alike at run time and at ingest.
PRICING_ENV = "OTEL_LLM_PRICING"


class StoreError(Exception):
    """The database cannot be opened or used; the message is one line, fit for a CLI."""


class StoreInUse(StoreError):
    """Another process holds the store's lock (an ``otel-llm ingest``, ``serve --watch``): try again later.

    ``pid`` is that process's id as DuckDB names it (a string), for callers that say who holds it.
    """

    def __init__(self, message: str, pid: str) -> None:
        super().__init__(message)
        self.pid = pid


class UnfinishedIngest(UserWarning):
    """Warned when a store opens holding spans an interrupted ingest stored without what depends on
    them (prices, the pairing of calls traced twice, the agents' tables), or opens read-only after
    another version of otel-llm set it up; the next ingest finishes or redoes them."""


def schema_sql() -> str:
    """The views and bookkeeping table (``schema.sql`` then ``views.sql``, shipped in the package);
    the tables of rows come from ``_rows.create_tables``, which runs first."""
    package = resources.files("otel_llm_analysis")
    views = package.joinpath("views.sql").read_text(encoding="utf-8").format(
        llm_call=semconv.KIND_LLM_CALL, evaluation_event=semconv.EVENT_EVALUATION_RESULT,
        outer_cost_rank=cost_rank_sql("w.cost_source"), inner_cost_rank=cost_rank_sql("c.cost_source"),
        total_only_tokens=TOTAL_ONLY_TOKENS, is_unpriced=IS_UNPRICED, instrumentation_candidate=CANDIDATE,
        raised_in_openlit=raised_in_openlit("e.attributes['exception.stacktrace']"), **view_parameters())
    return package.joinpath("schema.sql").read_text(encoding="utf-8") + "\n" + views


def _not_a_database(path: str) -> str:
    """The error for a store named like data: DuckDB opens a .csv, .json or .parquet name as that data."""
    return (f"{path} is not a DuckDB database file (DuckDB reads a .csv, .json or .parquet name as data, not "
            "as a database, and would store nothing): use a name like otel-llm.duckdb")


def _one_line(exc: BaseException) -> str:
    """``exc``'s message on one line: DuckDB's lines up to its echo of the statement (``LINE 1: ...``
    and a caret), so a hint after the first line (``Candidate bindings: "model"``) stays."""
    lines = []
    for line in str(exc).strip().splitlines():
        if line.startswith("LINE "):
            break
        if line.strip():
            lines.append(line.strip())
    return " ".join(lines) if lines else type(exc).__name__


def _require_file(path: Path, what: str) -> None:
    """A :class:`StoreError` unless ``path`` is a regular file (a name too long or unreadable says so too)."""
    try:
        found = path.is_file()
    except OSError as exc:  # is_file() hides only "missing": ENAMETOOLONG, EACCES... get here
        raise StoreError(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    if not found:
        raise StoreError(f"no {what} at {path}")


def _is_dir(path: Path) -> bool:
    """Whether ``path`` is a directory; a path the system cannot look at (a name too long) is left to the open."""
    try:
        return path.is_dir()
    except OSError:
        return False


def price_book(pricing: Mapping[str, Any] | str | os.PathLike[str] | None) -> Any:
    """The PriceBook an analysis prices with: ``pricing`` (a dict or a JSON/YAML file), else
    ``$OTEL_LLM_PRICING``, over genai-prices. Unknown models are left to the caller's report.

    Raises :class:`StoreError` (one line) for a missing file or one it cannot use - not JSON/YAML,
    an entry with a price that is not a number or an unknown key: the SDK skips such an entry (an
    app never stops for it), but an analysis priced without the prices it was given would be
    silently wrong.
    """
    if pricing is None:
        pricing = os.environ.get(PRICING_ENV) or None
    if isinstance(pricing, (str, os.PathLike)):
        _require_file(Path(pricing), "pricing file")
    from otel_llm.pricing import PriceBook

    try:
        return PriceBook.load(pricing, notify_unknown=False, strict=True)
    except ValueError as exc:
        what = f"pricing file {pricing}" if isinstance(pricing, (str, os.PathLike)) else "pricing"
        raise StoreError(f"cannot use {what}: {exc}") from None


def _write_failure(exc: BaseException) -> str | None:
    """Why DuckDB could not write the store's files (a full disk: 'No space left on device'), else None.

    DuckDB raises it as whatever failed (a commit, a checkpoint), and may then
    refuse every statement as 'invalidated': the reason is the user's to read.
    """
    found = _WRITE_FAILED.search(str(exc)) if isinstance(exc, duckdb.Error) else None
    return found[1].strip() if found else None


#: DuckDB's words for a write to the database file or its WAL that the system refused
_WRITE_FAILED = re.compile(r'Could not write (?:all bytes to )?file "[^"]*": ([^\n]+)')


def _in_use(path: str, read_only: bool, exc: BaseException) -> StoreInUse | None:
    """What to do when another process holds the store's lock (DuckDB: one writer, or readers only), else None.

    A scheduled ``otel-llm ingest`` or ``serve --watch`` holds it while writing,
    so an analysis run then fails; DuckDB's own words name a lock and a URL,
    not what the user can do.
    """
    found = _LOCK_HELD.search(str(exc))
    if found is None:
        return None
    if read_only:  # only a writer keeps a reader out
        return StoreInUse(f"{path} is being written by another process (PID {found[1]}: an `otel-llm ingest` "
                          "or `serve --watch`?), and DuckDB lets no other process open a store meanwhile: run this "
                          "again once it is done", found[1])
    return StoreInUse(f"{path} is open in another process (PID {found[1]}), and DuckDB lets a process write a "
                      "store only while no other has it open: run this again once that one is done", found[1])


#: DuckDB's error when another process holds the file's lock
_LOCK_HELD = re.compile(r"Could not set lock on file .*Conflicting lock is held in .*\(PID (\d+)\)", re.DOTALL)


class _Unread:
    """The mark of a figure not worked out yet (None is an answer)."""


_UNREAD = _Unread()


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
        if self.path != ":memory:" and _is_dir(Path(self.path)):
            raise StoreError(f"{self.path} is a directory, not a DuckDB database file: name a file in it "
                             f"(--db {Path(self.path) / 'otel-llm.duckdb'})")
        if read_only and self.path != ":memory:" and not Path(self.path).is_file():
            raise StoreError(f"no database at {self.path} (run `otel-llm ingest` first)")
        config: dict[str, Any] = {}
        if threads:
            config["threads"] = threads
        self._config = config
        reclassified = 0  # stored spans classified again under this version's rules (``_reclassify``)
        try:
            self._con = duckdb.connect(self.path, read_only=read_only, config=config)
        except (duckdb.Error, OSError) as exc:
            if read_only and "in-memory" in str(exc):  # a data file's name: DuckDB would read it as data
                raise StoreError(_not_a_database(self.path)) from None
            held = _in_use(self.path, read_only, exc)
            if held is not None:
                raise held from None
            raise StoreError(f"cannot open database {self.path}: {_one_line(exc)}") from None
        if self.path != ":memory:" and not self._backed_by_file():
            self._con.close()
            raise StoreError(_not_a_database(self.path))
        if not read_only:
            try:
                create_tables(self._con)
                drop_stale(self._con)  # agents/tools/retries rows made by other definitions
                self._con.execute(schema_sql())
                _row_keys.mark(self._con)  # rows keyed by an older version or DuckDB: matched otherwise
                reclassified = _reclassify.catch_up(self._con)  # spans stored under other rules
                if reclassified:
                    refresh_nesting(self._con)  # the pairs of the spans as they are now
                _llm_calls_view.fit(self._con)  # views.sql made the whole view
                refresh_scopes(self._con)  # a store written by an older otel-llm gets its scopes
                _total_only.look_once(self._con)  # a store filled by another version: looked at once
            except duckdb.Error as exc:
                self._con.close()
                raise StoreError(f"cannot create the schema in {self.path}: {_one_line(exc)}") from None
        #: Stored spans this open classified again because this version classifies spans differently
        #: (``_reclassify``): their calls count from now on; 0 when none (always, read-only).
        self.reclassified = reclassified
        #: One line when the store's figures can be off until the next ingest, else None: an interrupted
        #: ingest left spans to finish (``_unfinished``), or, read-only, another version last set it up.
        self.unfinished: str | None = None
        # a prune stopped midway leaves what an interrupted ingest would: said as what it is
        stopped = retention.unfinished(self._con) if read_only else None
        spans = _unfinished.stored_since(self._con)
        if stopped:
            self.unfinished = stopped
        elif spans:
            self.unfinished = _unfinished.message(self.path, spans)
        elif reclassified:
            self.unfinished = _reclassify.message(self.path, reclassified)
        elif read_only and (made_by_another_version(self._con) or _reclassify.stale(self._con)):
            self.unfinished = _unfinished.another_version(self.path)
        if self.unfinished:
            warnings.warn(self.unfinished, UnfinishedIngest, stacklevel=2)
        self._span_coverage: str | None | _Unread = _UNREAD
        #: The sandboxed connection :meth:`sql` runs the user's query on, while it runs (see :meth:`interrupt`).
        self._user_sql: duckdb.DuckDBPyConnection | None = None

    def _backed_by_file(self) -> bool:
        """True when the connection's main database is a file (not DuckDB's in-memory stand-in)."""
        rows = self._con.execute("SELECT file FROM pragma_database_list WHERE name = current_database()").fetchall()
        return bool(rows and rows[0][0])

    @property
    def span_coverage(self) -> str | None:
        """One line when the spans hold fewer of otel-llm's LLM calls than its metrics counted (a trace
        sampler, trace files not ingested, spans lost): the analyses then cover a part (``_coverage``).

        Worked out when first asked for, and again after each :meth:`ingest`.
        """
        if isinstance(self._span_coverage, _Unread):
            self._span_coverage = _coverage.note(self._con, self.path)
        return self._span_coverage

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """The store's DuckDB connection (the analyses run their SQL on it)."""
        return self._con

    def ingest(self, paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]], *,
               on_progress: Callable[[int], None] | None = None, batch_rows: int | None = None,
               pricing: Mapping[str, Any] | str | os.PathLike[str] | None = None) -> IngestReport:
        """Load new data from files, globs or directories; see :func:`otel_llm_analysis.ingest.ingest`.

        Then LLM calls with tokens and no usable cost are priced (``_costs``) from
        ``pricing`` (a dict or a JSON/YAML file, USD per 1M tokens, as the SDK's
        ``configure(pricing=)``; default ``$OTEL_LLM_PRICING``) over the bundled
        genai-prices snapshot; ``report.pricing`` says what was priced and what
        has no price. Raises :class:`StoreError` (one line) for a missing path,
        a missing pricing file or a read-only store.
        """
        if self.read_only:
            raise StoreError(f"{self.path} is open read-only; ingest needs a writable store")
        book = price_book(pricing)
        specs = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
        from otel_llm_analysis._sources import SourceError
        from otel_llm_analysis.ingest import ingest

        kwargs: dict[str, Any] = {"on_progress": on_progress}
        if batch_rows:
            kwargs["batch_rows"] = batch_rows
        _llm_calls_view.widen(self._con)  # the rows it writes may be nested (until fitted, below)
        begun = _unfinished.begin(self._con)  # before any row is committed
        try:
            report = ingest(self._con, specs, **kwargs)
            _total_only.record(self._con, begun.rowid)
            # what depends on the rows, for the spans read now and any an interrupted ingest left
            first, undated, left = _unfinished.window(self._con, begun, report.first_start_ns, report.undated_spans)
            report.finished_spans = max(left - report.spans_added, 0)
            report.pricing = price_calls(self._con, book, first, undated)
            refresh_nesting(self._con, first, undated)
            count_calls(self._con, report.pricing)
            _unfinished.done(self._con)  # before the refresh, whose checkpoint then writes it too
            # the spans read may hold the store's first instrumentation failure or nested call
            _llm_calls_view.fit(self._con)  # before the refresh, whose checkpoint then writes it
            refresh_scopes(self._con, repriced=report.pricing.priced > 0,
                           priced_since_ns=None if report.pricing.whole_store else first, priced_undated=undated)
        except BaseException as exc:
            unwritten = _write_failure(exc)
            try:
                _unfinished.discard_if_empty(self._con, begun)
                # a failure after rows were committed leaves them to the next ingest: say so meanwhile
                self.unfinished = _unfinished.left(self._con, self.path)
            except duckdb.Error:
                if unwritten is None:
                    raise
            if unwritten is not None:
                raise StoreError(f"cannot write {self.path}: {unwritten} - what this ingest committed before is "
                                 "kept, and the next `otel-llm ingest` (with room to write) finishes it and loads "
                                 "the rest; nothing is read twice") from None
            if isinstance(exc, SourceError):
                raise StoreError(str(exc)) from None
            raise
        self.unfinished = None
        self._span_coverage = _UNREAD
        return report

    def query(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        """Run one statement and return all rows (tuples)."""
        try:
            return self._con.execute(sql, params or []).fetchall()
        except duckdb.InterruptException:  # stopped (interrupt()): no error of the store's to say
            raise
        except duckdb.Error as exc:
            raise StoreError(_one_line(exc)) from None

    def query_columns(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None
                      ) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Like :meth:`query`, plus the column names (for tables printed to users)."""
        try:
            cursor = self._con.execute(sql, params or [])
            names = [d[0] for d in cursor.description or []]
            return names, cursor.fetchall()
        except duckdb.InterruptException:  # stopped (interrupt()): no error of the store's to say
            raise
        except duckdb.Error as exc:
            raise StoreError(_one_line(exc)) from None

    def sql(self, query: str, params: Sequence[Any] | Mapping[str, Any] | None = None
            ) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Run user SQL read-only for real: column names and rows of its last statement.

        Only queries (SELECT, WITH, DESCRIBE, SUMMARIZE, EXPLAIN, read-only
        PRAGMAs) over the store; no file, network or extension access, no
        settings (``_sandbox``). They run on a separate, sandboxed connection
        to the store file: this store's own connection is closed meanwhile
        and reopened as it was. Raises :class:`StoreError` (one line naming
        what was refused) - also for an in-memory store, which has no file to
        reopen read-only.
        """
        try:
            _sandbox.check(query)
        except _sandbox.Refused as exc:
            raise StoreError(str(exc)) from None
        if self.path == ":memory:":
            raise StoreError("the read-only SQL sandbox needs a database file, not an in-memory store")
        self._con.close()
        try:
            con = self._user_sql = _sandbox.connect(self.path)
            try:
                return _sandbox.run(con, query, params)
            finally:
                self._user_sql = None
                con.close()
        except _sandbox.Refused as exc:
            raise StoreError(str(exc)) from None
        except duckdb.InterruptException:  # stopped (interrupt()): no error of the store's to say
            raise
        except duckdb.Error as exc:
            raise StoreError(_one_line(exc)) from None
        finally:
            self._con = duckdb.connect(self.path, read_only=self.read_only, config=self._config)

    def interrupt(self) -> None:
        """Stop the query running now on the store's connection, or on :meth:`sql`'s, from another thread
        (``_interruptible``: a Ctrl-C); nothing when none runs (DuckDB forgets the interrupt)."""
        for con in (self._con, self._user_sql):
            try:
                if con is not None:
                    con.interrupt()
            except duckdb.Error:  # closed meanwhile (sql() swaps the connections): its query is over
                pass

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> "TraceStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        mode = "read-only" if self.read_only else "read-write"
        return f"TraceStore({self.path!r}, {mode})"
