"""When what is committed is written into the database file, rather than left in DuckDB's write-ahead log.

Why not after every ingest: DuckDB appends new rows to the table's last row
group, and a checkpoint rewrites that whole row group (up to 122,880 rows of
every column), so checkpointing a few hundred new spans costs as much as
rewriting ~120k: 0.5 s CPU on a 256k-span store, 0.9 s on a 1M-span one, twice
what the ingest itself costs (``benchmarks/small_ingest_bench.py``). Committed
rows are durable in the WAL (DuckDB syncs it at each commit) and every
connection sees them; an open replays the WAL (8.5 MB: 0.06-0.09 s CPU, against
0.02 s with none). So a store's WAL is written into the file once it holds
:data:`CHECKPOINT_BYTES` - by the ingest's refresh (``_scope_index.refresh_scopes``,
beside its walk), or on close - and a smaller one is left for a later ingest or
close to write: one row-group rewrite per few MB of new data (a 512-span ingest
adds ~0.7-1.4 MB) instead of one per ingest, and an open replays at most a few MB.
"""

from __future__ import annotations

import os

import duckdb

#: A WAL at least this large is written into the database file by the next ingest or close
CHECKPOINT_BYTES = 4 << 20


def wal_bytes(con: duckdb.DuckDBPyConnection) -> int:
    """The size of the connection's database's write-ahead log (0: none, or an in-memory store)."""
    ((path,),) = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
                             ).fetchall()
    try:
        return os.path.getsize(f"{path}.wal") if path else 0
    except OSError:  # no WAL: everything is in the file
        return 0


def worth_writing(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the WAL holds enough to be written into the database file now (:data:`CHECKPOINT_BYTES`)."""
    return wal_bytes(con) >= CHECKPOINT_BYTES
