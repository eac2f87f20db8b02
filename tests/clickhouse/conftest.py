"""ClickHouse in process (chdb): one engine per test session, a fresh database per test.

chdb is ClickHouse itself, linked into the Python process; one session holds
many databases, so each test gets its own database name instead of its own engine.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import chdb.session
import pytest

from tests.support.clickhouse_http import ChdbHttpServer

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


@pytest.fixture(scope="session")
def clickhouse_http(chdb_session: chdb.session.Session) -> Iterator[ChdbHttpServer]:
    """The same engine behind ClickHouse's HTTP interface: what clickhouse-connect (``--db``/``--to``) talks to."""
    with ChdbHttpServer(chdb_session) as server:
        yield server


@pytest.fixture
def clickhouse_url(clickhouse_http: ChdbHttpServer, database: str) -> str:
    """``clickhouse://…/<a fresh database>`` on the HTTP stand-in."""
    return f"clickhouse://default@127.0.0.1:{clickhouse_http.port}/{database}"
