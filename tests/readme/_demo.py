"""The store a newcomer has after ``otel-llm demo``: shared by the README tests that read one."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.readme.test_examples import BIN, _env


def demo_home(factory: pytest.TempPathFactory, name: str, turns: int) -> Path:
    """A fresh directory where the installed ``otel-llm demo`` ran ``turns`` turns: ./otel-data written and
    ingested into ./otel-data/otel-llm.duckdb."""
    home = factory.mktemp(name)
    proc = subprocess.run([str(BIN / "otel-llm"), "demo", "--turns", str(turns), "--latency-scale", "0"], cwd=home,
                          env=_env(home), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return home
