"""The ``otel-llm`` command: one Typer app, sub-commands mounted from their owners.

Why mounting: the SDK must stay light for instrumented apps, so the analysis
commands (DuckDB) and the collector commands register themselves here and
import their heavy dependencies only when one of them runs.
"""

from __future__ import annotations

import typer

from otel_llm.collector.cli import app as collector_app
from otel_llm.demo.cli import demo
from otel_llm_analysis.cli import register as register_analysis

app = typer.Typer(
    name="otel-llm",
    help="Observability for LLM applications on OpenTelemetry.",
    no_args_is_help=True,
    add_completion=False,
)
app.command("demo")(demo)
app.add_typer(collector_app, name="collector")
register_analysis(app)


def main() -> None:
    """Console-script entry point."""
    app()
