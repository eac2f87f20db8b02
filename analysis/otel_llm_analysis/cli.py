"""Analysis commands of ``otel-llm``, mounted on the lead's root Typer app.

Why lazy: instrumented apps install otel-llm without the ``[analysis]`` extra, so
importing this module must not import DuckDB; each command imports the store
inside its body and reports a missing extra as a one-line error (exit 2).
"""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the analysis commands (ingest, summary, trends, ...) to ``app``."""
    # Commands are filled in as the analyses land; registering nothing keeps
    # the entry point importable meanwhile.
    return None
