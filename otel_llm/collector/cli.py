"""``otel-llm collector build | start | stop | status | config``.

Thin Typer commands over :mod:`._binary` (locate/build) and :mod:`._process`
(start/stop/status); no logic lives here beyond wording and exit codes.
Exit codes: 0 success, 1 failure (``status``: alive but unhealthy), 3 for ``status`` when nothing runs.
"""

from __future__ import annotations

import math
import shlex
from pathlib import Path
from typing import List, Optional

import typer

from otel_llm.collector import _binary, _process
from otel_llm.collector._clickhouse import ClickHouseTarget

app = typer.Typer(
    help="Build and run the otelcol-llm OpenTelemetry Collector (OTLP in; JSON-lines files and/or ClickHouse out).",
    no_args_is_help=True,
    add_completion=False,
)

_RUN_DIR_HELP = "Where the pid file and the collector's log live (one collector per run dir)."


def _default_run_dir() -> Path:
    return _binary.cache_root() / "run"


RunDir = typer.Option(None, "--run-dir", help=_RUN_DIR_HELP)


def _seconds(value: float) -> float:
    """Option callback: a wait in seconds, finite and above 0 (``nan`` never runs out, ``-1`` at once)."""
    if not math.isfinite(value) or value <= 0:
        raise typer.BadParameter(f"{value} is not a number of seconds above 0")
    return value


@app.command()
def build() -> None:
    """Build the collector with the pinned builder, or reuse the cached binary."""
    try:
        path = _binary.build()
    except (_binary.CollectorBuildFailed, _binary.CollectorNotBuilt) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(str(path))


@app.command()
def start(
    data_dir: Path = typer.Option(Path("otel-data"), help="Directory for traces/metrics/logs .jsonl."),
    config: Optional[List[Path]] = typer.Option(
        None, "--config", help="Collector config(s) instead of the shipped otelcol.yaml; "
        "the endpoints waited on and reported are read from them."
    ),
    strip_content: bool = typer.Option(
        False, help="Delete captured prompt/completion text at the collector (otelcol-strip.yaml)."
    ),
    zstd: bool = typer.Option(False, help="Write .jsonl.zst (otelcol-zstd.yaml + native compression)."),
    clickhouse: Optional[str] = typer.Option(
        None, "--clickhouse", metavar="URL",
        help="Also send traces, metrics and logs to ClickHouse (otelcol-clickhouse.yaml): "
        "tcp://host:9000 or http://host:8123, optionally user:password@ and /database. "
        "Credentials go to the collector's environment, never into a file.",
    ),
    files: bool = typer.Option(True, "--files/--no-files", help="--no-files: ClickHouse only, no .jsonl files."),
    grpc_endpoint: Optional[str] = typer.Option(None, help="OTLP/gRPC listen address (default: localhost:4317)."),
    http_endpoint: Optional[str] = typer.Option(None, help="OTLP/HTTP listen address (default: localhost:4318)."),
    health_endpoint: Optional[str] = typer.Option(None, help="Health check listen address (default: localhost:13133)."),
    run_dir: Optional[Path] = RunDir,
    timeout: float = typer.Option(30.0, help="Seconds to wait for the health check.", callback=_seconds),
) -> None:
    """Start the collector in the background and wait until it is healthy."""
    try:
        options = _process.CollectorOptions(
            data_dir=data_dir,
            grpc_endpoint=grpc_endpoint,
            http_endpoint=http_endpoint,
            health_endpoint=health_endpoint,
            strip_content=strip_content,
            zstd=zstd,
            clickhouse=ClickHouseTarget.parse(clickhouse) if clickhouse else None,
            files=files,
            configs=tuple(config or ()),
        )
        state = _process.start(options, run_dir or _default_run_dir(), timeout_s=timeout)
    except (ValueError, _binary.CollectorNotBuilt, _process.CollectorError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"otelcol-llm running (pid {state.pid})")
    _describe(state)


@app.command()
def stop(
    run_dir: Optional[Path] = RunDir,
    timeout: float = typer.Option(30.0, help="Seconds to wait for a clean shutdown before SIGKILL.",
                                  callback=_seconds),
) -> None:
    """Stop the collector cleanly (SIGTERM) so every file exporter flushes and closes."""
    stopped = _process.stop(run_dir or _default_run_dir(), timeout_s=timeout)
    if stopped is None:
        typer.echo("otelcol-llm is not running")
        return
    state = stopped.state
    if stopped.killed:
        typer.echo(f"otelcol-llm killed (pid {state.pid}): it did not end within {timeout:g} s of SIGTERM (hung or "
                   f"suspended), so its exporters did not close their files; data in {state.data_dir}")
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
        typer.echo(f"  {state.listens.health_url or 'an OTLP port'} does not answer; see the log")
        raise typer.Exit(1)


@app.command("config")
def show_config(
    strip_content: bool = typer.Option(False, help="Include the stripping overlay."),
    zstd: bool = typer.Option(False, help="Include the zstd overlay."),
    clickhouse: bool = typer.Option(False, help="Include the ClickHouse overlay."),
    files: bool = typer.Option(True, "--files/--no-files", help="--no-files: include the ClickHouse-only overlay."),
    show: bool = typer.Option(False, "--show", help="Print the files' contents too."),
) -> None:
    """Print the shipped config files and the command that runs them."""
    try:
        options = _process.CollectorOptions(
            data_dir=Path("otel-data"), strip_content=strip_content, zstd=zstd, files=files,
            clickhouse=ClickHouseTarget(endpoint="$OTEL_LLM_CLICKHOUSE_ENDPOINT") if clickhouse or not files else None,
        )
        binary = _binary.binary_path()
    except (ValueError, _binary.CollectorNotBuilt) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    for path in options.config_files():
        typer.echo(f"# {path}")
        if show:
            typer.echo(path.read_text())
    typer.echo("command: " + shlex.join(options.command(binary)))  # quoted: a path may hold spaces


def _describe(state: _process.CollectorState) -> None:
    if state.files:
        typer.echo(f"  data dir : {state.data_dir}")
    else:
        typer.echo("  files    : off (--no-files)")
    if state.clickhouse_endpoint:
        typer.echo(f"  ClickHouse: {state.clickhouse_endpoint}  database {state.clickhouse_database}")
    typer.echo(f"  OTLP gRPC: {state.grpc_endpoint or '-'}   OTLP HTTP: "
               + (f"http://{state.http_endpoint}" if state.http_endpoint else "-"))
    health = state.listens.health_url or "(no health_check: ready when the OTLP ports accept)"
    typer.echo(f"  health   : {health}   log: {state.log_file}")
