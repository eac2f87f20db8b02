"""``otel-llm demo``: run the RAG demo app into files and summarise what it wrote."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def demo(
    turns: Annotated[int, typer.Option(min=1, help="Chat turns to run.")] = 50,
    output_dir: Annotated[
        Path, typer.Option(help="Directory for traces.jsonl, metrics.jsonl, logs.jsonl.")
    ] = Path("./otel-data"),
    seed: Annotated[int, typer.Option(help="Seed for the fake LLM (token counts, failures).")] = 7,
) -> None:
    """Run a deterministic RAG chat app instrumented with otel-llm, writing OTLP-JSON files."""
    raise NotImplementedError("demo is being written")
