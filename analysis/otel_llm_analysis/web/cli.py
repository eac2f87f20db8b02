"""``otel-llm report`` and ``otel-llm serve``: the command bodies (the root CLI only registers them).

Both can ingest first (``report --ingest DIR``, ``serve --watch DIR``) through the
``ingest`` command itself, so they show the same progress bar and summary. Errors a
user can fix are one line on stderr and exit 1 (2 for usage), never a traceback.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any, List, Optional

import typer

from otel_llm_analysis._command import DB_ENV, DEFAULT_DB

BUDGET_FILES = ("budgets.yaml", "budgets.yml", "budgets.json")

DbOption = typer.Option(DEFAULT_DB, "--db", envvar=DB_ENV, help=f"DuckDB file (env {DB_ENV}).")
SinceOption = typer.Option(None, "--since", help="Start (inclusive): ISO date/time or relative like 7d, 24h.")
UntilOption = typer.Option(None, "--until", help="End (exclusive): ISO date/time or relative.")
ProjectOption = typer.Option(None, "--project", help="Only this project.")
ModelOption = typer.Option(None, "--model", help="Only this model.")
MonthlyOption = typer.Option(None, "--monthly", help="An overall monthly budget in USD.")
BudgetsOption = typer.Option(None, "--budgets", help="Budgets YAML/JSON file (default: budgets.yaml beside --db).")
CompareOption = typer.Option([], "--compare", help="Groupings to compare (default: model, run_config.temperature, "
                                                  "run_config.max_retries); repeatable.")


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _one_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _query(db: str, since: Optional[str], until: Optional[str], project: Optional[str], model: Optional[str],
           monthly: Optional[float], budgets_file: Optional[Path], compare: List[str]) -> Any:
    """The views' query from the options; bad dates or budgets are usage errors."""
    from otel_llm_analysis import Filters
    from otel_llm_analysis.budgets import Budget, load_budgets
    from otel_llm_analysis.web.views import DEFAULT_COMPARE, Query

    try:
        filters = Filters.of(since, until, project=project, model=model)
    except ValueError as exc:
        raise _fail(str(exc), 2) from None
    plan = []
    if budgets_file is None and db != ":memory:":
        budgets_file = next((Path(db).parent / n for n in BUDGET_FILES if (Path(db).parent / n).is_file()), None)
    if budgets_file is not None:
        try:
            plan += load_budgets(budgets_file)
        except (OSError, ValueError) as exc:
            raise _fail(f"cannot read budgets from {budgets_file}: {_one_line(exc)}", 2) from None
    if monthly is not None:
        if monthly <= 0:
            raise _fail("--monthly must be positive", 2)
        plan.append(Budget(monthly))
    return Query(filters=filters, budgets=tuple(plan), compare_by=tuple(compare) or DEFAULT_COMPARE)


def _ingest(paths: List[str], db: str) -> bool:
    """Ingest ``paths`` into ``db`` exactly as ``otel-llm ingest`` does (progress bar, summary, problems).

    Returns whether it loaded with problems (listed already): what loaded is
    still shown, so that is not an exit here; any other exit of the command is.
    """
    from otel_llm_analysis.cli import INGEST_PROBLEMS_EXIT, ingest

    try:
        ingest(paths=paths, db=db, pricing=None, fmt=None, out=None)
    except typer.Exit as done:
        if done.exit_code != INGEST_PROBLEMS_EXIT:
            raise
        return True
    return False


def _open(db: str, *, read_only: bool, ingest_option: str) -> Any:
    if importlib.util.find_spec("duckdb") is None:
        raise _fail("the report needs DuckDB: install otel-llm[analysis]", 2)
    if read_only and db != ":memory:" and not Path(db).exists():
        raise _fail(f"no database at {db}; run `otel-llm ingest PATH... --db {db}` or pass {ingest_option}")
    from otel_llm_analysis.store import TraceStore

    from otel_llm_analysis.store import StoreError

    try:
        return TraceStore(db, read_only=read_only)
    except StoreError as exc:
        raise _fail(str(exc)) from None


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

    from otel_llm_analysis.cli import INGEST_PROBLEMS_EXIT

    from otel_llm_analysis.web.static import build_report, write_report

    query = _query(db, since, until, project, model, monthly, budgets_file, compare)
    problems = bool(ingest) and _ingest(ingest, db)
    console = Console(stderr=True)
    store = _open(db, read_only=True, ingest_option="--ingest PATH")

    def planned(lattice: Any) -> None:
        if not lattice.combined:
            console.print(f"{len(lattice.states)} filter combinations: a project or a model can be picked, not both "
                          "(raise --max-views, or narrow with --since/--project)", highlight=False)
        left_out = [*lattice.omitted_projects, *lattice.omitted_models]
        if left_out:
            console.print(f"not selectable in the report (too many combinations): {', '.join(left_out)}",
                          highlight=False)

    try:
        with console.status("computing the report's views") as status:
            def progress(done: int, total: int) -> None:
                status.update(f"computing the report's views: {done}/{total} filter combinations")

            page = build_report(store, query, source=db, max_states=max_views, on_plan=planned, on_state=progress)
    except ValueError as exc:  # an unknown --compare grouping
        raise _fail(str(exc), 2) from None
    finally:
        store.close()
    try:
        path = write_report(out, page)
    except OSError as exc:  # /proc/x, a directory, no permission
        raise _fail(f"cannot write the report to {out}: {exc.strerror or exc}") from None
    size = path.stat().st_size
    typer.echo(f"wrote {path} ({size / 1024:,.0f} KiB); open it in a browser, no server needed")
    if problems:
        raise typer.Exit(INGEST_PROBLEMS_EXIT)  # as `otel-llm ingest`: loaded, with the problems listed above


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on; anything but loopback exposes your "
                                                          "telemetry to the network."),
    port: int = typer.Option(8765, "--port", min=0, max=65535),
    watch: List[str] = typer.Option([], "--watch", help="Ingest this directory's files as they grow; repeatable."),
    interval: float = typer.Option(1.0, "--interval", min=0.1, help="Seconds between checks of --watch."),
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
        raise _fail("the dashboard needs its web server: pip install 'otel-llm[web]'", 2)
    from otel_llm_analysis.web.server import run

    query = _query(db, since, until, project, model, monthly, budgets_file, compare)
    missing = [p for p in watch if not Path(p).is_dir()]
    if missing:
        raise _fail(f"--watch needs an existing directory: {', '.join(missing)} (create it, or start the app first)", 2)
    if watch:
        if db != ":memory:":
            Path(db).parent.mkdir(parents=True, exist_ok=True)
        _ingest(watch, db)  # the backlog, with the progress bar; then incrementally while serving
    store = _open(db, read_only=not watch, ingest_option="--watch DIR")
    run(store, query, host=host, port=port, watch=watch, interval=interval, source=db)


def register(app: typer.Typer) -> None:
    """Add ``report`` and ``serve`` to the root ``app``."""
    app.command("report")(report)
    app.command("serve")(serve)


__all__ = ["register", "report", "serve"]
