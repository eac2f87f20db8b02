"""ClickHouse in process (chdb): one engine per test session, a fresh database per test.

chdb is ClickHouse itself, linked into the Python process; one session holds
many databases, so each test gets its own database name instead of its own engine.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import chdb.session
import pytest

_names = itertools.count()


@pytest.fixture(scope="session")
def chdb_session() -> Iterator[chdb.session.Session]:
    session = chdb.session.Session()
    try:
        yield session
    finally:
        session.close()


@pytest.fixture
def database() -> str:
    """A database name no other test uses."""
    return f"otel_test_{next(_names)}"
