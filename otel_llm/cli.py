"""The ``otel-llm`` command: one Typer app, sub-commands mounted from their owners.

Why mounting: the SDK must stay light for instrumented apps, so the analysis
commands (DuckDB) and the collector commands register themselves here and
import their heavy dependencies only when one of them runs.

No input prints a traceback: usage errors are Click's one-line messages, the
commands turn the mistakes they know into ``error: ...`` lines, a module of an
optional extra that is not installed names the extra to install (exit 2), and
anything else becomes one line saying it is otel-llm's fault (with
``OTEL_LLM_RAISE_INTERNAL_ERRORS=1``, as in otel-llm's own tests, the traceback
is shown instead, so such a bug fails a test).

Output piped into a reader that stops early (``otel-llm traces --tree | head -1``)
ends the command quietly, with the exit status it would have had (see
:class:`~otel_llm_analysis._command.ReaderGone`).
"""

from __future__ import annotations

import errno
import os
import sys
from typing import Any, Sequence

import typer
from typer.core import TyperGroup

from otel_llm._extras import extra_providing, missing_extra_message
from otel_llm._guard import RAISE_ENV, reraise_requested
from otel_llm.collector.cli import app as collector_app
from otel_llm.demo.cli import demo
from otel_llm_analysis._command import ReaderGone, discard_stdout, stdout_reader_gone
from otel_llm_analysis.cli import register as register_analysis


class _Root(TyperGroup):
    """The root command: a write to a stdout whose reader is gone, in any sub-command, ends the run quietly."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except OSError as exc:  # Typer would turn it into a silent exit 1
            if exc.errno == errno.EPIPE and stdout_reader_gone():  # a socket's EPIPE is an error to report
                raise ReaderGone(0) from None
            raise


app = typer.Typer(
    name="otel-llm",
    cls=_Root,
    help="Observability for LLM applications on OpenTelemetry.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["--help", "-h"]},  # every sub-command inherits them
)


def _show_version(asked: bool) -> None:
    if asked:
        from otel_llm import __version__

        typer.echo(f"otel-llm {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", "-V", is_eager=True, callback=_show_version,
                                 help="Show the installed otel-llm's version and exit."),
) -> None:
    """The root's own options; each command's work is done by the sub-commands."""


app.command("demo")(demo)
app.add_typer(collector_app, name="collector")
register_analysis(app)


def run(args: Sequence[str] | None = None) -> int:
    """Run ``otel-llm`` with ``args`` (default: the process's) and return the exit code."""
    stdout_before = _stdout_identity()
    try:
        code = app(args=list(sys.argv[1:] if args is None else args), prog_name="otel-llm", standalone_mode=False)
    except SystemExit as exc:  # typer.Exit raised outside Click's handling, or sys.exit in a command
        now = _stdout_identity()
        if now != stdout_before and now == _devnull_identity():
            return 0  # Rich met a closed pipe printing help and put /dev/null on stdout: the reader is gone
        return exc.code if isinstance(exc.code, int) else 1
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        return 130
    except ReaderGone as gone:
        discard_stdout()
        return gone.exit_code
    except Exception as exc:  # noqa: BLE001 — the one place the command turns a fault into a line
        return _one_line_error(exc)
    # Click hands back an Exit's code, or the command's return value (the demo's summary).
    return code if isinstance(code, int) and not isinstance(code, bool) else 0


def _stdout_identity() -> tuple[int, int] | None:
    """(device, inode) of what file descriptor 1 is now, or None without one."""
    try:
        stat = os.fstat(sys.stdout.fileno())
    except (AttributeError, OSError, ValueError):
        return None
    return stat.st_dev, stat.st_ino


def _devnull_identity() -> tuple[int, int]:
    stat = os.stat(os.devnull)
    return stat.st_dev, stat.st_ino


def _one_line_error(exc: Exception) -> int:
    from otel_llm._upstream import click_exception_class

    if isinstance(exc, click_exception_class()):  # bad option, missing argument, unknown command
        exc.show()  # type: ignore[attr-defined]
        return exc.exit_code
    if isinstance(exc, typer.Abort):
        typer.echo("aborted", err=True)
        return 1
    if isinstance(exc, ModuleNotFoundError) and (extra := extra_providing(exc.name)):
        typer.echo(f"error: {missing_extra_message(extra, exc.name)}", err=True)
        return 2
    if reraise_requested():
        raise exc
    lines = str(exc).strip().splitlines()
    detail = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
    typer.echo(f"error: otel-llm failed ({detail}); run with {RAISE_ENV}=1 for the traceback", err=True)
    return 1


def main() -> None:
    """Console-script entry point."""
    sys.exit(run())
