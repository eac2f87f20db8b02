"""``--clickhouse URL``: where the collector's ClickHouse exporter sends data.

The URL is the exporter's DSN (``tcp://`` or ``clickhouse://`` for the native
protocol, ``http://``/``https://`` for the HTTP interface), optionally with
``user:password@`` and a ``/database`` path. Credentials and the database are
split off into the environment variables ``otelcol-clickhouse.yaml`` reads, so
the endpoint that lands in the pid file, in ``status`` output and in the
collector's own logs carries no password.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit, urlunsplit

SCHEMES = ("tcp", "clickhouse", "http", "https")
ENDPOINT_ENV = "OTEL_LLM_CLICKHOUSE_ENDPOINT"
DATABASE_ENV = "OTEL_LLM_CLICKHOUSE_DATABASE"
USERNAME_ENV = "OTEL_LLM_CLICKHOUSE_USERNAME"
PASSWORD_ENV = "OTEL_LLM_CLICKHOUSE_PASSWORD"
QUEUE_DIR_ENV = "OTEL_LLM_CLICKHOUSE_QUEUE_DIR"
#: The database otelcol-clickhouse.yaml writes to unless told otherwise.
DEFAULT_DATABASE = "otel"


@dataclass(frozen=True)
class ClickHouseTarget:
    """A parsed ``--clickhouse`` URL: a credential-free endpoint plus what was split off it."""

    endpoint: str
    database: str | None = None
    username: str | None = None
    password: str | None = None

    @classmethod
    def parse(cls, url: str) -> ClickHouseTarget:
        """Split ``url``; raise ValueError saying what a valid URL looks like."""
        parts = urlsplit(url.strip())
        if parts.scheme not in SCHEMES or not parts.hostname:
            raise ValueError(
                f"--clickhouse {url!r}: expected {'|'.join(SCHEMES)}://[user[:password]@]host[:port][/database], "
                "e.g. tcp://localhost:9000 or http://localhost:8123"
            )
        try:
            port = parts.port
        except ValueError:
            raise ValueError(f"--clickhouse {url!r}: the port is not a number") from None
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        netloc = f"{host}:{port}" if port else host
        database = unquote(parts.path.strip("/")) or None
        return cls(
            endpoint=urlunsplit((parts.scheme, netloc, "", parts.query, "")),
            database=database,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password is not None else None,
        )

    def environment(self) -> dict[str, str]:
        """The overlay's variables this URL sets (credentials only when the URL had them)."""
        env = {ENDPOINT_ENV: self.endpoint}
        if self.database:
            env[DATABASE_ENV] = self.database
        if self.username:
            env[USERNAME_ENV] = self.username
        if self.password is not None:
            env[PASSWORD_ENV] = self.password
        return env
