"""``clickhouse://user:password@host:port/database``: the one way otel-llm opens ClickHouse.

Every command that takes ``--db`` (the analyses) or ``--to`` (``load``) turns the
URL into a :class:`ClickHouseURL` and a ``clickhouse-connect`` client over
ClickHouse's HTTP interface. The tests run the same client against chdb behind
an HTTP stand-in, so the path a user's server sees is the path that was tested.

URL: ``clickhouse://`` speaks HTTP (port 8123 when none is given),
``clickhouses://`` HTTPS (8443). The path is the database (default ``otel``, the
collector overlay's). Query options: ``compress=lz4|zstd|gzip`` (response
compression; off by default), ``table_prefix``-free by design: the tables are
the exporter's default names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

__all__ = ["SCHEMES", "ClickHouseError", "ClickHouseURL", "connect", "is_clickhouse_url"]

SCHEMES = ("clickhouse", "clickhouses")
_DATABASE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_COMPRESSION = ("lz4", "zstd", "gzip", "br", "none")


class ClickHouseError(Exception):
    """ClickHouse cannot be reached or refused a statement; the message is one line, fit for a CLI."""


def is_clickhouse_url(text: object) -> bool:
    """True for ``clickhouse://…`` / ``clickhouses://…`` (a ``--db`` that is not a DuckDB file)."""
    return isinstance(text, str) and text.split("://", 1)[0].lower() in SCHEMES and "://" in text


@dataclass(frozen=True)
class ClickHouseURL:
    """A parsed ``clickhouse://`` URL; ``str()`` hides the password."""

    host: str
    port: int
    database: str = "otel"
    username: str = "default"
    password: str = ""
    secure: bool = False
    compress: str = "none"

    @classmethod
    def parse(cls, url: str) -> "ClickHouseURL":
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in SCHEMES:
            raise ValueError(f"not a ClickHouse URL: {cls._hide(url)} (use clickhouse://user:pass@host:8123/database)")
        try:
            port = parts.port
        except ValueError:
            raise ValueError(f"bad port in {cls._hide(url)}") from None
        if not parts.hostname:
            raise ValueError(f"no host in {cls._hide(url)} (use clickhouse://user:pass@host:8123/database)")
        database = unquote(parts.path.strip("/")) or "otel"
        if not _DATABASE.fullmatch(database):
            raise ValueError(f"database name {database!r}: letters, digits and _ only")
        options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        unknown = set(options) - {"compress"}
        if unknown:
            raise ValueError(f"unknown option(s) in the ClickHouse URL: {', '.join(sorted(unknown))} (known: compress)")
        compress = options.get("compress", "none").lower()
        if compress not in _COMPRESSION:
            raise ValueError(f"compress={compress}: choose one of {', '.join(_COMPRESSION)}")
        secure = scheme == "clickhouses"
        return cls(host=parts.hostname, port=port or (8443 if secure else 8123), database=database,
                   username=unquote(parts.username or "default"), password=unquote(parts.password or ""),
                   secure=secure, compress=compress)

    @staticmethod
    def _hide(url: str) -> str:
        return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)

    def __str__(self) -> str:
        scheme = "clickhouses" if self.secure else "clickhouse"
        secret = ":***" if self.password else ""
        return f"{scheme}://{self.username}{secret}@{self.host}:{self.port}/{self.database}"


def connect(url: str | ClickHouseURL, *, select: bool = True) -> Any:
    """A ``clickhouse-connect`` client for ``url`` (its database selected); :class:`ClickHouseError` when
    the server cannot be reached; without the extra, ``ModuleNotFoundError`` (its ``name`` the missing
    module) saying :func:`otel_llm._extras.missing_extra_message`'s install line."""
    target = url if isinstance(url, ClickHouseURL) else ClickHouseURL.parse(url)
    try:
        import clickhouse_connect
        from clickhouse_connect.driver.exceptions import ClickHouseError as DriverError
    except ImportError as exc:
        from otel_llm._extras import missing_extra_message

        raise ModuleNotFoundError(missing_extra_message("clickhouse", exc.name or "clickhouse_connect"),
                                  name=exc.name) from None
    try:
        return clickhouse_connect.get_client(
            host=target.host, port=target.port, username=target.username, password=target.password,
            secure=target.secure, compress=False if target.compress == "none" else target.compress,
            database=target.database if select else "default", autogenerate_session_id=False, query_limit=0)
    except DriverError as exc:
        raise ClickHouseError(f"cannot reach ClickHouse at {target}: {one_line(exc)}") from None


def one_line(exc: BaseException) -> str:
    """The first meaningful line of a driver error (ClickHouse messages run over many lines)."""
    for line in str(exc).strip().splitlines():
        line = line.strip()
        if line:
            return line[:400]
    return type(exc).__name__
