"""``otel-llm collector build | start | stop | status | config``."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Build and run the otelcol-llm OpenTelemetry Collector.",
    no_args_is_help=True,
    add_completion=False,
)


@app.command()
def status() -> None:
    """Say whether the collector runs and where it writes."""
    typer.echo("not implemented yet")
