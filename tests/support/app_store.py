"""Real apps writing files with otel-llm's own exporter, and the store ``otel-llm ingest`` builds from them.

Why shared: the analyses of what only a running SDK writes (in-flight calls,
process metrics, captured messages) are tested end to end: a script run in its
own interpreter, its files (the collector's file format) under ``otel-data``,
then the CLI, exactly as a user runs them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from typer.testing import CliRunner


def cli(*args: str) -> Any:
    """Run ``otel-llm`` with the analysis commands (in this process)."""
    from otel_llm_analysis.cli import register

    app = typer.Typer()
    register(app)
    return CliRunner().invoke(app, list(args))


def run_app(root: Path, code: str, *args: str) -> Path:
    """Run ``code`` (argv: ``args``) with its files under ``root/otel-data``; returns that directory."""
    out = root / "otel-data"
    done = subprocess.run([sys.executable, "-c", code, *args], cwd=root, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "OTEL_LLM_OUTPUT_DIR": str(out)})
    assert done.returncode == 0, done.stderr
    return out


def ingest(root: Path, out: Path) -> str:
    """``otel-llm ingest out`` into a new store under ``root``; returns its path."""
    db = str(root / "store.duckdb")
    result = cli("ingest", str(out), "--db", db)
    assert result.exit_code == 0, result.output
    return db


@contextmanager
def held_by_another_process(db: str) -> Iterator[int]:
    """A second process holding the DuckDB store ``db`` open (as a running ingest would); yields its PID."""
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('held', flush=True); "
                               "sys.stdin.read()", db],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        yield holder.pid
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
