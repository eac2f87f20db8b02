"""A chdb session behind the part of clickhouse-connect's client interface that otel-llm's setup code uses."""

from __future__ import annotations

import json
from types import SimpleNamespace

import chdb.session


class SessionClient:
    """A chdb session with the two methods of clickhouse-connect's client that setup code calls
    (``command``; ``query(…).result_rows``), for tests that drive the engine directly."""

    def __init__(self, session: chdb.session.Session) -> None:
        self.session = session

    def command(self, sql: str) -> None:
        self.session.query(sql)

    def query(self, sql: str) -> SimpleNamespace:
        rows = json.loads(self.session.query(sql, "JSONCompact").bytes() or b'{"data": []}')["data"]
        return SimpleNamespace(result_rows=[tuple(row) for row in rows])
