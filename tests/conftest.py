"""Folder picks the marker: tests/collector is e2e (real processes), the rest unit."""

from __future__ import annotations

from pathlib import Path

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        parts = Path(str(item.fspath)).parts
        item.add_marker(pytest.mark.e2e if "collector" in parts else pytest.mark.unit)
