"""Fixtures for the analysis tests: a fresh DuckDB store per test, generated files per session.

Why a fresh store per test: tests must not see each other's rows (a real
DuckDB connection each time, never a shared one). The generated files are
read-only inputs, so one session-scoped set is shared; tests that edit files
copy them first (``copy_dataset``).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Iterator

import pytest

from otel_llm_analysis import TraceStore
from tests.support.synthetic import SyntheticData


@pytest.fixture
def store() -> Iterator[TraceStore]:
    """An empty in-memory store, closed after the test."""
    s = TraceStore(":memory:")
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def copy_dataset(dataset: SyntheticData, tmp_path: Path) -> Path:
    """A private copy of the session dataset's directory (for tests that rename or edit files)."""
    target = tmp_path / "data"
    shutil.copytree(dataset.files[0].parent, target)
    return target
