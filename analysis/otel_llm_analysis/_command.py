"""The shape every analysis command shares: options, the store, errors, output.

Why one module: a command of ``otel-llm`` is "parse, call the public API, render".
Everything but the middle step is the same for all of them, so it is written
here once and a command is a function ``(store, filters, **its_own_options) ->
Result`` under :func:`analysis_command`, which adds ``--db``, ``--format``,
``--out`` and the filters it asks for::

    @analysis_command(filters=("since", "until", "project"))
    def compare(store, filters, by: By = "model") -> Result:
        return Result(comparisons.compare(store, by, filters), f"compare by {by}")

Importing this module must not import DuckDB: instrumented apps install otel-llm
without the ``[analysis]`` extra and still get the ``otel-llm`` command, where a
missing extra is one line (exit 2). Every mistake a user can make is one line on
stderr (exit 1, or 2 for a usage error); nothing prints a traceback.
"""

from __future__ import annotations

import enum
import errno
import functools
import importlib.util
import inspect
import math
import shlex
import sys
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Callable, Iterator, Mapping, Optional, Sequence, TypeVar

import typer

T = TypeVar("T")

DEFAULT_DB = "./otel-data/otel-llm.duckdb"
DB_ENV = "OTEL_LLM_DB"

__all__ = [
    "DB_ENV", "DEFAULT_DB", "OutputFormat", "ReaderGone", "Result", "analysis_command", "choices", "fail", "finite",
    "interruptibly", "open_store", "positive",
]


def choices(name: str, *values: str) -> Any:
    """A str Enum for an option with fixed values (Typer shows and checks them)."""
    return enum.Enum(name, {value: value for value in values}, type=str)


OutputFormat = choices("OutputFormat", "table", "json", "csv", "parquet")
_SUFFIX_FORMATS = {".json": "json", ".csv": "csv", ".parquet": "parquet"}


class ReaderGone(Exception):
    """Stdout's reader closed the pipe before the output ended (``otel-llm traces --tree | head -1``).

    The command stops writing and ends quietly with ``exit_code``: its own verdict (0, or 1 for
    a crossed budget), as had the reader read everything - not Python's traceback, nor Typer's
    silent exit 1, nor a shell's 141 (``set -o pipefail`` scripts gate on the verdict).
    """

    def __init__(self, exit_code: int = 0) -> None:
        super().__init__(exit_code)
        self.exit_code = exit_code


def stdout_reader_gone() -> bool:
    """True when stdout is a pipe or socket nobody reads any more (poll says POLLERR or POLLHUP)."""
    import select

    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0))
    except (AttributeError, OSError, ValueError):  # no poll (Windows), stdout without a descriptor (a test's)
        return False


def discard_stdout() -> None:
    """Point stdout at /dev/null once its reader is gone: what is still buffered for it must not fail again
    at exit (Python would print "Exception ignored ... BrokenPipeError")."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print ``error: message`` (one line) to stderr and return the exit to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def finite(value: Optional[float]) -> Optional[float]:
    """Option callback: a real number (``inf`` and ``nan`` would poison every sum and ratio)."""
    if value is not None and not math.isfinite(value):
        raise typer.BadParameter(f"{value} is not a finite number")
    return value


def positive(value: Optional[float]) -> Optional[float]:
    """Option callback: a finite number above 0 (a budget, a limit)."""
    if finite(value) is not None and value <= 0:  # type: ignore[operator]
        raise typer.BadParameter(f"{value} must be above 0")
    return value


# --- the shared options, defined once ------------------------------------------------

def _option(name: str, annotation: Any, default: Any, *declarations: str, **settings: Any) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default,
                             annotation=Annotated[annotation, typer.Option(*declarations, **settings)])


FILTER_OPTIONS: Mapping[str, inspect.Parameter] = {
    "since": _option("since", Optional[str], None, "--since",
                     help="Start (inclusive): ISO date/time (UTC unless it has an offset), now, or a duration "
                          "back from now: 30s, 15m, 1.5h, 7d, 2w, now-7d."),
    "until": _option("until", Optional[str], None, "--until", help="End (exclusive): same forms as --since."),
    "project": _option("project", Optional[str], None, "--project", help="Only this project."),
    "model": _option("model", Optional[str], None, "--model",
                     help="Only this model (requested, or the dated response model)."),
}
OUTPUT_OPTIONS: Sequence[inspect.Parameter] = (
    _option("fmt", Optional[OutputFormat], None, "--format", "-f",
            help="table (default), json or csv on stdout; json, csv or parquet with --out "
                 "(default: from the file's suffix)."),
    _option("out", Optional[Path], None, "--out", "-o", help="Write the result to this file instead of stdout."),
    _option("db", str, DEFAULT_DB, "--db", envvar=DB_ENV,
            help=f"DuckDB file of the store, or clickhouse://user:pass@host:8123/database (env {DB_ENV})."),
)


# --- what a command returns ----------------------------------------------------------

@dataclass
class Result:
    """What a command hands back to be shown or written.

    ``rows`` is the table and the CSV/Parquet content; ``document`` replaces
    ``{"rows": ...}`` in JSON when the result is more than rows (trends: series,
    spikes, forecast); ``show`` replaces the default table on a terminal.
    ``notes`` (Rich markup) say what the figures leave out: they follow the table,
    are the ``notes`` key of the JSON object, and go to stderr beside CSV and
    Parquet (see :func:`emit`). ``gate=True`` colours the ``status`` column;
    ``exit_code`` 1 fails a CI step.
    """

    rows: Sequence[Any]
    title: str
    columns: Sequence[str] | None = None
    rename: Mapping[str, str] | None = None
    notes: Sequence[str] = ()
    document: Mapping[str, Any] | None = None
    show: Callable[[Any], None] | None = None
    gate: bool = False
    exit_code: int = 0


def _output_format(fmt: Any, out: Path | None) -> str:
    """The format to produce, checked before any work is done."""
    chosen = fmt.value if fmt is not None else None
    if out is None:
        if chosen == "parquet":
            raise typer.BadParameter("parquet is binary: give --out FILE.parquet", param_hint="--format")
        return chosen or "table"
    if chosen is None:
        chosen = _SUFFIX_FORMATS.get(out.suffix.lower())
        if chosen is None:
            raise typer.BadParameter(f"cannot tell the format of {out}: give --format json, csv or parquet",
                                     param_hint="--out")
    if chosen == "table":
        raise typer.BadParameter("--out writes json, csv or parquet, not a table", param_hint="--format")
    return chosen


def plain(note: str) -> str:
    """A note's text without its Rich markup (for JSON and stderr, read by programs)."""
    from rich.errors import MarkupError
    from rich.text import Text

    try:
        return Text.from_markup(note).plain
    except MarkupError:  # not markup after all: the text as it is
        return note


def json_document(result: Result) -> dict[str, Any]:
    """What ``--format json`` writes: one object, whatever the command, so a program finds the notes
    (what the figures leave out: unpriced calls, a projection's caveats) under ``notes``, never lost:
    ``{"rows": [...], "notes": [...]}``, or the result's own ``document`` keys with ``notes``."""
    from otel_llm_analysis.export import to_records

    body = dict(result.document) if result.document is not None else {"rows": to_records(result.rows)}
    return {**body, "notes": [plain(line) for line in result.notes]}


def emit(result: Result, fmt: str, out: Path | None) -> None:
    """Show ``result`` on the terminal or write it as ``fmt`` to stdout or ``out``.

    JSON is :func:`json_document`; CSV and Parquet hold only rows, so their notes are
    said on stderr (``note: ...``), where a pipe reading stdout keeps clean CSV.
    """
    from otel_llm_analysis import export

    if fmt == "table":
        console = console_for_stdout()
        if result.show is not None:
            result.show(console)
        elif not result.rows:
            console.print(f"[dim]{result.title}: no data[/dim]")
        else:
            from otel_llm_analysis import terminal

            style = _status_style if result.gate else None
            terminal.table(result.rows, result.title, result.columns, width=console.width, rename=result.rename,
                           style=style).print(console)
        for line in result.notes:
            console.print(line, highlight=False)
        return
    if fmt != "json":
        for line in result.notes:
            note(plain(line))
    data = result.rows
    if out is None:
        sys.stdout.write(export.to_json(json_document(result)).decode() if fmt == "json"
                         else export.to_csv(data))
        return
    if not data and result.document is None:
        raise fail(f"nothing to write: {result.title} has no rows")
    try:
        path = export.export_rows(json_document(result) if fmt == "json" else data, fmt, out)
    except OSError as exc:
        raise fail(f"cannot write {out}: {exc.strerror or exc}") from None
    typer.echo(f"wrote {len(data)} row(s) of {result.title} to {path}")


def _status_style(name: str, value: Any) -> str | None:
    from otel_llm_analysis.terminal import STATUS_STYLE

    return STATUS_STYLE.get(value) if name == "status" else None


def console_for_stdout() -> Any:
    """A Rich console on stdout (its width is the terminal's, or ``COLUMNS``).

    A closed pipe (``| head -1``) raises ``BrokenPipeError`` out of it, for the command to end as
    :class:`ReaderGone` says; Rich's own answer is a silent exit 1.
    """
    from rich.console import Console

    class PipedConsole(Console):
        def on_broken_pipe(self) -> None:
            self.quiet = True  # nothing more to this reader
            raise BrokenPipeError(errno.EPIPE, "the reader of stdout closed the pipe")

    return PipedConsole()


def note(line: str) -> None:
    """Say ``note: line`` on stderr (what the command's output, on stdout, does not show)."""
    typer.echo(f"note: {line}", err=True)


def missing_extra(exc: ImportError) -> BaseException:
    """What to raise for ``exc``: exit 2 with :func:`otel_llm._extras.missing_extra_message` when the
    missing module is one of a command extra's (the user's install to complete), else ``exc`` itself."""
    from otel_llm._extras import extra_providing, missing_extra_message

    extra = extra_providing(exc.name)
    return fail(missing_extra_message(extra, exc.name or ""), 2) if extra else exc


# --- the store -----------------------------------------------------------------------

def require_analysis_extra() -> None:
    """Exit 2 with the install line when DuckDB (the ``[analysis]`` extra) is missing."""
    if importlib.util.find_spec("duckdb") is None:
        from otel_llm._extras import missing_extra_message

        raise fail(missing_extra_message("analysis", "duckdb"), 2)


@contextmanager
def open_store(db: str, *, read_only: bool = True, or_pass: str = "") -> Iterator[Any]:
    """The TraceStore at ``db``, closed after; the usual mistakes are one line.

    Analyses open the file read-only, so they never change it and run beside each
    other; only ``ingest`` (and ``serve --watch``) opens it for writing, creating
    it and its directory. ``or_pass`` names the command's own way to fill a
    missing store (``--ingest PATH``), offered beside ``otel-llm ingest``.
    """
    require_analysis_extra()
    if db.split("://", 1)[0].lower() in ("clickhouse", "clickhouses") and "://" in db:
        with _clickhouse_store(db, read_only) as store:
            for said in (store.span_coverage, store.unreadable):
                if said:
                    typer.echo(f"note: {said}", err=True)
            yield store
        return
    from otel_llm_analysis.store import StoreError, TraceStore, UnfinishedIngest

    if read_only and db != ":memory:" and not Path(db).exists():
        alternative = f", or pass {or_pass}" if or_pass else ""
        ingest = ("otel-llm ingest ./otel-data" if db == DEFAULT_DB
                  else f"otel-llm ingest PATH... --db {shlex.quote(db)}")  # quoted: a path may hold spaces
        raise fail(f"no database at {db}; run `{ingest}` first (the directory your app writes: ./otel-data by "
                   f"default){alternative}")
    if read_only and db != ":memory:" and (problem := _not_a_store(Path(db))):
        raise fail(problem)
    try:
        if not read_only and db != ":memory:":
            Path(db).parent.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():  # said below as a note, once, without a Python warning's location
            warnings.simplefilter("ignore", UnfinishedIngest)
            store = TraceStore(db, read_only=read_only)
    except StoreError as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"cannot create {db}: {exc.strerror or exc}") from None
    if read_only and store.unfinished:  # a writing command (ingest) finishes it, and its report says so
        typer.echo(f"note: {store.unfinished}", err=True)
    if read_only and store.span_coverage:  # ingest says it after its report
        typer.echo(f"note: {store.span_coverage}", err=True)
    try:
        yield store
    finally:
        store.close()


#: Where every DuckDB database file says what it is: bytes 8-11 of its first block.
_DUCKDB_MAGIC = (8, b"DUCK")
#: Names of the files apps and collectors write, which a newcomer may give as --db instead of ingesting them.
_DATA_SUFFIXES = (".jsonl", ".json", ".zst", ".csv", ".parquet")


def _not_a_store(path: Path) -> str | None:
    """One line when the existing file at ``path`` is not a DuckDB database (a ``traces.jsonl`` given as
    ``--db``), else None. DuckDB's own answer, opening such a name read-only, is "Cannot launch in-memory
    database in read-only mode": it reads a data file's name as data, not as a database."""
    offset, magic = _DUCKDB_MAGIC
    try:
        with path.open("rb") as file:
            head = file.read(offset + len(magic))
    except OSError:  # a directory, unreadable: the store says which
        return None
    if head[offset:] == magic:
        return None
    if path.name.lower().endswith(_DATA_SUFFIXES):
        return (f"{path} is not a DuckDB database file: --db names the store `otel-llm ingest` fills "
                f"({DEFAULT_DB} by default); load this file into it with `otel-llm ingest {shlex.quote(str(path))}`")
    return f"{path} is not a DuckDB database file (--db names the store `otel-llm ingest` fills)"


@contextmanager
def _clickhouse_store(url: str, read_only: bool) -> Iterator[Any]:
    """``--db clickhouse://…``: the analyses on ClickHouse (``otel_llm_analysis.clickhouse.store``). The
    store's refusals (an analysis that needs DuckDB, a server error) are one line each."""
    if not read_only:
        raise fail("a ClickHouse store is filled by the collector (--clickhouse) or `otel-llm load FILES --to URL`",
                   2)
    try:
        from otel_llm_analysis.clickhouse.store import ClickHouseError, ClickHouseStore, Unsupported
    except ImportError as exc:
        raise missing_extra(exc) from None
    try:
        store = ClickHouseStore(url, progress=note)  # a rebuild of its span table says how it goes
    except ImportError as exc:
        raise missing_extra(exc) from None
    except ValueError as exc:
        raise fail(str(exc), 2) from None
    except ClickHouseError as exc:
        raise fail(str(exc)) from None
    try:
        yield store
    except Unsupported as exc:
        raise fail(str(exc), 2) from None
    except ClickHouseError as exc:
        raise fail(str(exc)) from None
    finally:
        store.close()


def build_filters(since: Optional[str] = None, until: Optional[str] = None, project: Optional[str] = None,
                  model: Optional[str] = None) -> Any:
    """``Filters`` from the command line; a bad time is a usage error naming the option.

    So is a window that ends before it starts (``--since 1d --until 2d``, the two swapped): it
    selects nothing whatever the store holds, and would answer 0 calls, $0, as if nothing had run.
    """
    from otel_llm_analysis._filters import Filters

    try:
        chosen = Filters.of(since, until, project=project, model=model)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--since/--until") from None
    return chosen


def check_known(store: Any, filters: Any) -> None:
    """``--project``/``--model`` naming nothing the store holds: say so (exit 2), never answer $0."""
    if filters.project is None and filters.model is None:
        return
    from otel_llm_analysis._catalog import catalog

    refuse(catalog(store).unknown(project=filters.project, model=filters.model))


def require_held(kind: str, value: str | None, held: Callable[[], Sequence[str]], **wording: str) -> None:
    """A command's own name filter (``--evaluation``, ``logs --service``) naming nothing the store holds:
    refused as ``--project`` is (:func:`check_known`), the names ``held()`` lists (asked only when a name is
    given) in the message, never answered with zeros or an empty table. ``wording``: ``not_held``'s."""
    if value is None:
        return
    from otel_llm_analysis._catalog import not_held

    refuse(not_held(kind, value, held(), **wording))


def check_dimension(store: Any, by: str | None) -> None:
    """``--by run_config.<key>`` naming a key no span carries: refused as ``--project`` is (exit 2, the
    keys held), never answered with one group of every call under "-"."""
    if by is None or not by.startswith("run_config."):
        return
    from otel_llm_analysis._catalog import not_held, run_config_keys

    refuse(not_held("run_config key", by[len("run_config."):], run_config_keys(store)))


def no_spans_note(store: Any, filters: Any) -> list[str]:
    """The note of a selection holding no span (``_catalog.no_spans``: the window misses the data, or the
    store has none), so its zeros or "no data" do not read as a quiet period; none when spans are selected."""
    from otel_llm_analysis._catalog import no_spans

    return as_note(no_spans(store, filters))


def as_note(said: str | None) -> list[str]:
    """``said`` (a sentence naming the app's services, projects...) as a note: its text shown as it is, never
    read as Rich markup nor obeyed by the terminal; no note when there is nothing to say."""
    from rich.markup import escape

    from otel_llm_analysis.terminal import visible

    return [escape(visible(said))] if said else []


def refuse(problem: str | None) -> None:
    """Exit 2 with ``problem`` (why a filter can match nothing the store holds), when there is one."""
    if problem:
        raise fail(problem, 2)


def interruptibly(store: Any, work: Callable[[], T]) -> T:
    """``work()``, the store's queries in it stopped by Ctrl-C wherever it lands (``_interruptible``: on a thread
    of its own, this one waiting in short steps), then Ctrl-C's exit (130). A store that cannot be interrupted
    from another thread (ClickHouse's: its HTTP requests already stop on this thread) runs it here."""
    if not hasattr(store, "interrupt"):
        return work()
    from otel_llm_analysis._interruptible import run

    return run(work, store.interrupt)


# --- the decorator -------------------------------------------------------------------

class ResultExit(typer.Exit):
    """The exit of a command whose result asks a non-zero exit code, carrying that result.

    A caller running the command itself (``serve --watch`` ingesting its backlog)
    reads what was shown, e.g. the problems listed, from ``result``.
    """

    def __init__(self, result: Result) -> None:
        super().__init__(result.exit_code)
        self.result = result


def analysis_command(
    *,
    filters: Sequence[str] = ("since", "until", "project", "model"),
    writes: bool = False,
    before: Callable[..., None] | None = None,
) -> Callable[[Callable[..., Result]], Callable[..., None]]:
    """Turn ``fn(store, filters, **options) -> Result`` into a Typer command with the shared options.

    ``filters`` names the filter options the command takes; ``writes`` opens the
    store for writing (ingest); ``before(**options)`` validates the command's own
    options before the store is opened. A ``ValueError`` from the analysis (an
    unknown dimension, a bad month) is a usage error (exit 2). A reading command's
    work runs :func:`interruptibly`; a writing one's on this thread, where its own
    handling of an interruption (``TraceStore.ingest``: what it committed is kept and
    said) sees the ``KeyboardInterrupt`` itself.
    """
    unknown = set(filters) - set(FILTER_OPTIONS)
    if unknown:
        raise ValueError(f"unknown filter options: {', '.join(sorted(unknown))}")

    def decorate(fn: Callable[..., Result]) -> Callable[..., None]:
        own = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
               for p in list(inspect.signature(fn, eval_str=True).parameters.values())[2:]]
        shared = [FILTER_OPTIONS[name] for name in filters] + list(OUTPUT_OPTIONS)

        @functools.wraps(fn)
        def command(**options: Any) -> None:
            db, fmt, out = options.pop("db"), options.pop("fmt"), options.pop("out")
            chosen = build_filters(**{name: options.pop(name) for name in filters})
            output = _output_format(fmt, out)
            if before is not None:
                before(**options)
            with open_store(db, read_only=not writes) as store:
                from otel_llm_analysis.store import StoreError

                def analysis() -> Result:
                    check_known(store, chosen)
                    result = fn(store, chosen, **options)
                    if not result.rows and "project" in filters:  # an analysis of spans, none selected
                        result.notes = [*result.notes, *no_spans_note(store, chosen)]
                    return result

                try:
                    result = analysis() if writes else interruptibly(store, analysis)
                except ValueError as exc:
                    raise typer.BadParameter(str(exc)) from None
                except StoreError as exc:  # the store cannot answer (one line, e.g. an old store)
                    raise fail(str(exc)) from None
            try:
                emit(result, output, out)
            except BrokenPipeError:
                if stdout_reader_gone():
                    raise ReaderGone(result.exit_code) from None
                raise
            if result.exit_code:
                raise ResultExit(result)

        parameters = own + shared
        command.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in parameters}
        del command.__wrapped__  # Typer must read the signature above, not fn's
        return command

    return decorate
