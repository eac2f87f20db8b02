"""The store's ``ingest_state`` rows: one value per name, kept across ingests (``schema.sql``).

Why one module: pricing (``_costs``), pairing (``_nesting``), the unfinished
ingest marker (``_unfinished``) and the total-only look (``_total_only``) each
keep a value here, and read it from stores of every age - a store made before
the table existed, opened read-only, has none.
"""

from __future__ import annotations

import duckdb

__all__ = ["get", "put", "remove"]


def get(con: duckdb.DuckDBPyConnection, name: str) -> str | None:
    """The value kept under ``name``; None when there is none (or the store predates the table)."""
    try:
        rows = con.execute("SELECT value FROM ingest_state WHERE name = ?", [name]).fetchall()
    except duckdb.CatalogException:  # a store made before ingest_state existed, opened read-only
        return None
    return rows[0][0] if rows else None


def put(con: duckdb.DuckDBPyConnection, name: str, value: str) -> None:
    """Keep ``value`` under ``name``, replacing what was there."""
    remove(con, name)
    con.execute("INSERT INTO ingest_state VALUES (?, ?)", [name, value])


def remove(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Forget the value kept under ``name``."""
    con.execute("DELETE FROM ingest_state WHERE name = ?", [name])
