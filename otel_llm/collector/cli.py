"""``otel-llm collector build | start | stop | status | config``.

Thin Typer commands over :mod:`._binary` (locate/build) and :mod:`._process`
(start/stop/status); no logic lives here beyond wording and exit codes.
Exit codes: 0 success, 1 failure (``status``: alive but unhealthy), 3 for ``status`` when nothing runs.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import List, Optional

import typer

from otel_llm.collector import _binary, _process

app = typer.Typer(
    help="Build and run the otelcol-llm OpenTelemetry Collector (OTLP in, JSON-lines files out).",
    no_args_is_help=True,
    add_completion=False,
)

_RUN_DIR_HELP = "Where the pid file and the collector's log live (one collector per run dir)."


def _default_run_dir() -> Path:
    return _binary.cache_root() / "run"


RunDir = typer.Option(None, "--run-dir", help=_RUN_DIR_HELP)


@app.command()
def build() -> None:
    """Build the collector with the pinned builder, or reuse the cached binary."""
    try:
        path = _binary.build()
    except (subprocess.CalledProcessError, _binary.CollectorNotBuilt) as exc:
        typer.echo(f"build failed: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(str(path))


@app.command()
def start(
    data_dir: Path = typer.Option(Path("otel-data"), help="Directory for traces/metrics/logs .jsonl."),
    config: Optional[List[Path]] = typer.Option(
        None, "--config", help="Collector config(s) instead of the shipped otelcol.yaml."
    ),
    strip_content: bool = typer.Option(
        False, help="Delete captured prompt/completion text at the collector (otelcol-strip.yaml)."
    ),
    zstd: bool = typer.Option(False, help="Write .jsonl.zst (otelcol-zstd.yaml + native compression)."),
    grpc_endpoint: str = typer.Option("localhost:4317", help="OTLP/gRPC listen address."),
    http_endpoint: str = typer.Option("localhost:4318", help="OTLP/HTTP listen address."),
    health_endpoint: str = typer.Option("localhost:13133", help="Health check listen address."),
    run_dir: Optional[Path] = RunDir,
    timeout: float = typer.Option(30.0, help="Seconds to wait for the health check."),
) -> None:
    """Start the collector in the background and wait until it is healthy."""
    options = _process.CollectorOptions(
        data_dir=data_dir,
        grpc_endpoint=grpc_endpoint,
        http_endpoint=http_endpoint,
        health_endpoint=health_endpoint,
        strip_content=strip_content,
        zstd=zstd,
        configs=tuple(config or ()),
    )
    try:
        state = _process.start(options, run_dir or _default_run_dir(), timeout_s=timeout)
    except (_binary.CollectorNotBuilt, _process.CollectorError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"otelcol-llm running (pid {state.pid})")
    _describe(state)


@app.command()
def stop(
    run_dir: Optional[Path] = RunDir,
    timeout: float = typer.Option(30.0, help="Seconds to wait for a clean shutdown before SIGKILL."),
) -> None:
    """Stop the collector cleanly (SIGTERM) so every file exporter flushes and closes."""
    state = _process.stop(run_dir or _default_run_dir(), timeout_s=timeout)
    if state is None:
        typer.echo("otelcol-llm is not running")
        return
    typer.echo(f"otelcol-llm stopped (pid {state.pid}); data in {state.data_dir}")


@app.command()
def status(run_dir: Optional[Path] = RunDir) -> None:
    """Say whether the collector runs and where it writes.

    Exit code 0 running, 1 alive but its health check fails, 3 not running.
    """
    state, condition = _process.status(run_dir or _default_run_dir())
    if state is None:
        typer.echo("otelcol-llm is not running")
        raise typer.Exit(3)
    if condition == "stopped":
        typer.echo(f"otelcol-llm is not running (stale pid {state.pid}; last data dir {state.data_dir})")
        raise typer.Exit(3)
    typer.echo(f"otelcol-llm is {condition} (pid {state.pid})")
    _describe(state)
    if condition == "unhealthy":
        typer.echo(f"  health check at http://{state.health_endpoint}/ does not answer; see the log")
        raise typer.Exit(1)


@app.command("config")
def show_config(
    strip_content: bool = typer.Option(False, help="Include the stripping overlay."),
    zstd: bool = typer.Option(False, help="Include the zstd overlay."),
    show: bool = typer.Option(False, "--show", help="Print the files' contents too."),
) -> None:
    """Print the shipped config files and the command that runs them."""
    options = _process.CollectorOptions(data_dir=Path("otel-data"), strip_content=strip_content, zstd=zstd)
    files = options.config_files()
    for path in files:
        typer.echo(f"# {path}")
        if show:
            typer.echo(path.read_text())
    typer.echo("command: " + " ".join(options.command(_binary.binary_path())))


def _describe(state: _process.CollectorState) -> None:
    typer.echo(f"  data dir : {state.data_dir}")
    typer.echo(f"  OTLP gRPC: {state.grpc_endpoint}   OTLP HTTP: http://{state.http_endpoint}")
    typer.echo(f"  health   : http://{state.health_endpoint}/   log: {state.log_file}")
