"""``otel-llm report`` and ``otel-llm serve``: the command bodies (the root CLI only registers them).

``report --ingest DIR`` ingests first through the ``ingest`` command itself, so it
shows the same progress bar and summary; ``serve --watch DIR`` starts serving at
once and ingests the directories' backlog in the background (``web.live``), so the
page answers during an ingest of minutes. Errors a
user can fix are one line on stderr and exit 1 (2 for usage), never a traceback:
the store, the error line and the number checks are ``_command``'s, as for every
analysis command, and every value is checked before the work starts (a report
can take minutes; a server runs until stopped).
"""

from __future__ import annotations

import contextlib
import errno
import importlib.util
import os
import tempfile
from pathlib import Path
from typing import Any, List, Optional

import typer

from otel_llm_analysis._command import (DB_ENV, DEFAULT_DB, check_dimension, check_known, fail, finite, interruptibly,
                                        open_store, positive)

BUDGET_FILES = ("budgets.yaml", "budgets.yml", "budgets.json")

DbOption = typer.Option(DEFAULT_DB, "--db", envvar=DB_ENV, help=f"DuckDB file (env {DB_ENV}).")
SinceOption = typer.Option(None, "--since", help="Start (inclusive): ISO date/time (UTC unless it has an offset), "
                           "now, or a duration back from now: 30s, 15m, 1.5h, 7d, 2w, now-7d.")
UntilOption = typer.Option(None, "--until", help="End (exclusive): same forms as --since.")
ProjectOption = typer.Option(None, "--project", help="Only this project.")
ModelOption = typer.Option(None, "--model", help="Only this model.")
MonthlyOption = typer.Option(None, "--monthly", callback=positive, help="An overall monthly budget in USD.")
BudgetsOption = typer.Option(None, "--budgets", help="Budgets YAML/JSON file (default: budgets.yaml beside --db).")
CompareOption = typer.Option([], "--compare", help="Groupings to compare (default: model, run_config.temperature, "
                                                  "run_config.max_retries); repeatable.")


def _one_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _query(db: str, since: Optional[str], until: Optional[str], project: Optional[str], model: Optional[str],
           monthly: Optional[float], budgets_file: Optional[Path], compare: List[str]) -> Any:
    """The views' query from the options; bad dates, groupings or budgets are usage errors."""
    from otel_llm_analysis import Filters
    from otel_llm_analysis._filters import dimension_sql
    from otel_llm_analysis.budgets import Budget, load_budgets
    from otel_llm_analysis.web.views import DEFAULT_COMPARE, Query

    try:
        filters = Filters.of(since, until, project=project, model=model)
        for by in compare:
            dimension_sql(by)  # refuses an unknown grouping before any work is done
    except ValueError as exc:
        raise fail(str(exc), 2) from None
    plan = []
    if budgets_file is None and db != ":memory:":
        budgets_file = next((Path(db).parent / n for n in BUDGET_FILES if (Path(db).parent / n).is_file()), None)
    if budgets_file is not None:
        try:
            plan += load_budgets(budgets_file)
        except (OSError, ValueError) as exc:
            raise fail(f"cannot read budgets from {budgets_file}: {_one_line(exc)}", 2) from None
    if monthly is not None:
        plan.append(Budget(monthly))
    return Query(filters=filters, budgets=tuple(plan), compare_by=tuple(compare) or DEFAULT_COMPARE)


def _ingest(paths: List[str], db: str) -> list[str]:
    """Ingest ``paths`` into ``db`` exactly as ``otel-llm ingest`` does (progress bar, summary, problems).

    Returns the problems it met (file:line: reason), listed on the terminal
    already: what loaded is still shown, so they are not an exit here; any
    other exit of the command is.
    """
    from otel_llm_analysis._command import ResultExit
    from otel_llm_analysis.cli import INGEST_PROBLEMS_EXIT, ingest

    try:
        ingest(paths=paths, db=db, pricing=None, fmt=None, out=None)
    except ResultExit as done:
        if done.exit_code != INGEST_PROBLEMS_EXIT:
            raise
        return [str(problem) for report in done.result.rows for problem in report.bad_lines]
    return []


def _writable(out: Path) -> None:
    """Refuse an ``--out`` that cannot be written before the report is computed (minutes on a big store)."""
    try:
        if out.is_dir():
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
        out.parent.mkdir(parents=True, exist_ok=True)
        # a directory that exists may still refuse the file (permissions, a read-only or special file system):
        # a file made there and removed says so now, as the real write would after the report was computed
        with tempfile.NamedTemporaryFile(dir=out.parent, prefix=f".{out.name}.", suffix=".check"):
            pass
    except OSError as exc:
        raise fail(f"cannot write {out}: {exc.strerror or exc}") from None


def report(
    out: Path = typer.Option(Path("otel-llm-report.html"), "--out", "-o", help="The HTML file to write."),
    ingest: List[str] = typer.Option([], "--ingest", help="Ingest these files/directories first; repeatable."),
    since: Optional[str] = SinceOption,
    until: Optional[str] = UntilOption,
    project: Optional[str] = ProjectOption,
    model: Optional[str] = ModelOption,
    monthly: Optional[float] = MonthlyOption,
    budgets_file: Optional[Path] = BudgetsOption,
    compare: List[str] = CompareOption,
    max_views: int = typer.Option(60, "--max-views", min=1,
                                  help="Filter combinations to embed (dates x project x model); "
                                       "more makes a bigger file."),
    db: str = DbOption,
) -> None:
    """Write one self-contained HTML report (KPIs, budgets, trends, tables, traces) that opens offline."""
    from rich.console import Console
    from rich.markup import escape

    from otel_llm_analysis.cli import INGEST_PROBLEMS_EXIT
    from otel_llm_analysis.terminal import visible
    from otel_llm_analysis.web.static import build_report, write_report

    query = _query(db, since, until, project, model, monthly, budgets_file, compare)
    _writable(out)
    problems = bool(ingest) and bool(_ingest(ingest, db))
    console = Console(stderr=True)

    def planned(lattice: Any) -> None:
        if not lattice.combined:
            console.print(f"{len(lattice.states)} filter combinations: a project or a model can be picked, not both "
                          "(raise --max-views, or narrow with --since/--project)", highlight=False)
        left_out = [*lattice.omitted_projects, *lattice.omitted_models, *lattice.omitted_ranges]
        if left_out:  # names from the app: text (never Rich markup), what a terminal would obey escaped
            console.print("not selectable in the report (too many combinations): "
                          + ", ".join(escape(visible(name)) for name in left_out), highlight=False)

    def built(store: Any) -> Any:
        check_known(store, query.filters)
        for by in compare:  # a run_config key no span carries: refused, not one group of every call
            check_dimension(store, by)
        with console.status("computing the report's views") as status:
            def progress(done: int, total: int) -> None:
                status.update(f"computing the report's views: {done}/{total} filter combinations")

            return build_report(store, query, source=db, max_states=max_views, on_plan=planned, on_state=progress)

    with open_store(db, or_pass="--ingest PATH") as store:
        page = interruptibly(store, lambda: built(store))
    try:
        path = write_report(out, page)
    except OSError as exc:
        raise fail(f"cannot write {out}: {exc.strerror or exc}") from None
    size = path.stat().st_size
    typer.echo(f"wrote {path} ({size / 1024:,.0f} KiB); open it in a browser, no server needed")
    if problems:
        raise typer.Exit(INGEST_PROBLEMS_EXIT)  # as `otel-llm ingest`: loaded, with the problems listed above


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on; anything but loopback exposes your "
                                                          "telemetry to the network."),
    port: int = typer.Option(8765, "--port", min=0, max=65535, help="0 takes a free port (the URL shown says which)."),
    watch: List[str] = typer.Option([], "--watch", help="Ingest this directory's files as they grow; repeatable."),
    interval: float = typer.Option(1.0, "--interval", min=0.1, callback=finite,
                                   help="Seconds between checks of --watch."),
    since: Optional[str] = SinceOption,
    until: Optional[str] = UntilOption,
    project: Optional[str] = ProjectOption,
    model: Optional[str] = ModelOption,
    monthly: Optional[float] = MonthlyOption,
    budgets_file: Optional[Path] = BudgetsOption,
    compare: List[str] = CompareOption,
    db: str = DbOption,
) -> None:
    """Serve the report's views live on http://127.0.0.1:8765, refreshing as data arrives (needs the web extra)."""
    if importlib.util.find_spec("fastapi") is None or importlib.util.find_spec("uvicorn") is None:
        raise fail("the dashboard needs its web server: pip install 'otel-llm[web]'", 2)
    from otel_llm_analysis.web.server import listen, run

    query = _query(db, since, until, project, model, monthly, budgets_file, compare)
    if not host.strip():
        raise fail("--host needs an address: 127.0.0.1 (this machine only) or 0.0.0.0 (every interface)", 2)
    missing = [p for p in watch if not _is_dir(p)]
    if missing:
        raise fail(f"--watch needs an existing directory: {', '.join(map(repr, missing))} "
                   "(create it, or start the app first)", 2)
    with contextlib.ExitStack() as stack:
        if not watch:  # a fixed store: missing, or lacking the project or model asked for, is said first
            store = stack.enter_context(open_store(db, or_pass="--watch DIR"))
            check_known(store, query.filters)
            for by in compare:
                check_dimension(store, by)
        try:
            listener = stack.enter_context(contextlib.closing(listen(host, port)))
        except OSError as exc:  # before the backlog is ingested: a bad host or a port in use is said at once
            raise fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
        if watch:  # the backlog is the watcher's first round, while the page answers (from the data so far)
            if not _holds_data(watch):  # the dashboard started before the app: its files are ingested as they appear
                typer.echo(f"no data files in {', '.join(watch)} yet: watching for them")
            store = stack.enter_context(open_store(db, read_only=False))
        run(store, query, listener, host=host, watch=watch, interval=interval, source=db)


def _holds_data(directories: List[str]) -> bool:
    """Any data file in ``directories`` (the ingest command refuses directories without one)."""
    from otel_llm_analysis._sources import SourceError, expand

    try:
        return bool(expand(directories))
    except SourceError:  # said by the ingest that follows
        return True


def _is_dir(path: str) -> bool:
    """``path`` names a directory; ``""`` (which Python reads as ".") and unreadable names do not."""
    try:
        return bool(path) and Path(path).is_dir()
    except OSError:  # a name too long, a component without permission
        return False


def register(app: typer.Typer) -> None:
    """Add ``report`` and ``serve`` to the root ``app``."""
    app.command("report")(report)
    app.command("serve")(serve)


__all__ = ["register", "report", "serve"]
