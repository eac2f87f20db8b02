"""Folder picks the marker: tests/collector and tests/web are e2e (real processes), the rest unit.

Our own suite runs with otel-llm's internal errors raised (``_guard``), in this
process and in the apps the tests start, so a bug of ours fails a test instead
of being logged and swallowed as it is in production.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ["OTEL_LLM_RAISE_INTERNAL_ERRORS"] = "1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        parts = Path(str(item.fspath)).parts
        item.add_marker(pytest.mark.e2e if {"collector", "web"} & set(parts) else pytest.mark.unit)
