"""Your own SQL, read-only for real: what ``otel-llm sql`` (``TraceStore.sql``) may touch.

A read-only database alone still lets SQL ``COPY ... TO`` any path, ``EXPORT
DATABASE``, read ``/etc/passwd`` with ``read_text``, ``ATTACH`` other files,
``SET`` options or ``INSTALL``/``LOAD`` extensions. So user SQL runs on its own
DuckDB connection opened with the store file read-only and:

* ``enable_external_access = false``: no file or network access beyond the store
  (``read_text``, ``read_csv``, ``'file.parquet'``, ``COPY``, ``EXPORT``,
  ``ATTACH``, ``INSTALL``, ``LOAD``, httpfs);
* ``lock_configuration = true``: no ``SET``/``RESET``/``PRAGMA x = y``;
* extension auto-install/auto-load and community/unsigned extensions off;

and before anything runs, every statement's type (``duckdb.extract_statements``)
must be a query: ``SELECT`` (``WITH``, ``FROM``, ``VALUES``, ``DESCRIBE``,
``SUMMARIZE``, ``SHOW``), ``EXPLAIN``, or a ``PRAGMA`` that only reads
(:data:`READ_ONLY_PRAGMAS`). The first refusal is one line naming what was
refused. Both layers are needed: the type check alone cannot see a file read
inside a ``SELECT``; the settings alone would let ``CREATE TEMP TABLE`` or
``PRAGMA import_database`` through.
"""

from __future__ import annotations

import re
from typing import Any, Mapping, Sequence

import duckdb

__all__ = ["ALLOWED_STATEMENTS", "READ_ONLY_PRAGMAS", "SANDBOX_CONFIG", "Refused", "check", "connect", "run"]

#: DuckDB statement types user SQL may have.
ALLOWED_STATEMENTS = frozenset({"SELECT", "EXPLAIN"})
#: PRAGMAs that only read the catalog or the database.
READ_ONLY_PRAGMAS = frozenset({
    "table_info", "show", "show_tables", "show_tables_expanded", "show_databases", "database_list",
    "database_size", "storage_info", "metadata_info", "version", "platform", "functions", "collations",
    "user_agent",
})
#: Connection settings of the sandbox (fixed at connect time, then locked).
SANDBOX_CONFIG: Mapping[str, Any] = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
    "allow_unsigned_extensions": False,
    "lock_configuration": True,
}
_WHAT_IT_MAY = "`otel-llm sql` is read-only: queries over the store (SELECT, WITH, DESCRIBE, SUMMARIZE, EXPLAIN)"
_PRAGMA = re.compile(r"\s*pragma\s+([A-Za-z_]+)", re.IGNORECASE)
_PERMISSION = re.compile(r"^Permission Error:\s*|\s+-\s+file system operations are disabled by configuration$")


class Refused(Exception):
    """User SQL that would leave the sandbox; the message is one line."""


def _keyword(statement: Any) -> str:
    words = str(statement.query).strip().rstrip(";").split()
    if not words:
        return statement.type.name
    keyword = words[0].upper()
    if keyword == "PRAGMA" and len(words) > 1:
        return f"PRAGMA {words[1]}"
    return keyword


def check(query: str) -> None:
    """Raise :class:`Refused` unless every statement of ``query`` only reads."""
    try:
        statements = duckdb.extract_statements(query)
    except duckdb.Error as exc:
        raise Refused(_first_line(exc)) from None
    if not statements:
        raise Refused("no SQL statement given")
    for statement in statements:
        kind = statement.type.name
        if kind in ALLOWED_STATEMENTS:
            continue
        if kind == "PRAGMA":
            match = _PRAGMA.match(str(statement.query))
            if match and match.group(1).lower() in READ_ONLY_PRAGMAS:
                continue
        raise Refused(f"refused {_keyword(statement)}: {_WHAT_IT_MAY}")


def connect(path: str) -> duckdb.DuckDBPyConnection:
    """A sandboxed, read-only connection to the store file at ``path``."""
    return duckdb.connect(path, read_only=True, config=dict(SANDBOX_CONFIG))


def run(con: duckdb.DuckDBPyConnection, query: str,
        params: Sequence[Any] | Mapping[str, Any] | None = None) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Check and run ``query`` on a sandboxed connection: column names and rows of its last statement."""
    check(query)
    try:
        cursor = con.execute(query, params or [])
        names = [d[0] for d in cursor.description or []]
        return names, cursor.fetchall()
    except duckdb.PermissionException as exc:
        raise Refused(f"refused file, network or extension access ({_PERMISSION.sub('', _first_line(exc))}): "
                      f"{_WHAT_IT_MAY}") from None


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
