"""What ingest has read, file by file (the ``ingested_files`` table), and where to resume.

Why the proof is inode + head + tail: a file may only be resumed at a stored
offset if it provably is the file that was read up to there, or everything
before the offset is lost in silence. Two different files can share a long
prefix (a re-sent batch opening a new file, two runs of one service with a
large resource), so a hash of the first bytes alone is no proof. A file is
resumed only when

* it is the same file system object (device and inode: a rename - the
  collector's and the SDK's rotation - keeps it),
* its first bytes hash as they did (``identity``), and
* the bytes just before the stored offset hash as they did (``tail_digest``,
  checked by :class:`._sources.Reader` as it opens the file).

Anything else - a copy, a file truncated and rewritten, an inode reused by a
new file - is read from the start, and de-duplication on span ids (and content
keys for logs and metric points) drops what is already stored: a copy still
adds nothing, and nothing is ever skipped.

Records are written in one statement per commit of the rows they describe
(:meth:`Ledger.write`), so thousands of small files cost one write, not
thousands.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import duckdb
import pyarrow as pa

from otel_llm_analysis._sources import STREAMED, FileInfo, head_digest

__all__ = ["Ledger", "Plan", "Read"]


@dataclass(frozen=True, slots=True)
class Plan:
    """Where to start reading a file: ``status`` is new | resumed | unchanged | rewritten."""

    status: str
    offset: int = 0
    line_no: int = 0
    tail: str | None = None


@dataclass(frozen=True, slots=True)
class Read:
    """A file read this run, to be remembered once its rows are committed."""

    info: FileInfo
    bytes_read: int
    lines: int
    tail: str | None


@dataclass(frozen=True, slots=True)
class _Entry:
    identity: str
    head_len: int
    format: str
    size: int
    mtime: datetime
    bytes_read: int
    lines: int
    tail: str | None


_COLUMNS = ("identity", "head_len", "path", "format", "device", "inode", "size", "bytes_read", "lines", "mtime",
            "ingested_at", "tail_digest")


class Ledger:
    """The ``ingested_files`` rows of the files at hand, indexed by (device, inode).

    Only those rows are read: a store that has seen a hundred thousand rotated
    files costs this run a filtered scan, not a hundred thousand Python objects.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, files: list[FileInfo]) -> None:
        self.con = con
        self.entries: dict[tuple[int, int], _Entry] = {}
        if not files:
            return
        wanted = pa.table({"device": pa.array([f.device for f in files], pa.int64()),
                           "inode": pa.array([f.inode for f in files], pa.int64())})
        con.register("_ledger_wanted", wanted)
        try:
            rows = con.execute(
                "SELECT device, inode, identity, head_len, format, size, mtime, bytes_read, lines, tail_digest "
                "FROM ingested_files WHERE (device, inode) IN (SELECT (device, inode) FROM _ledger_wanted) "
                "ORDER BY ingested_at").fetchall()
        finally:
            con.unregister("_ledger_wanted")
        self.entries = {(r[0], r[1]): _Entry(*r[2:]) for r in rows}  # the latest row per inode wins

    def plan(self, info: FileInfo) -> Plan:
        """Where to read ``info`` from; the tail is verified by the reader."""
        entry = self.entries.get((info.device, info.inode))
        if entry is None or not self._same_head(info, entry):
            return Plan("new")
        if entry.format != info.format:
            return Plan("rewritten")
        if info.format in STREAMED:  # offsets count decompressed bytes: size says nothing about them
            if info.size == entry.size and info.mtime == entry.mtime:
                return Plan("unchanged", entry.bytes_read, entry.lines, entry.tail)
        elif info.size < entry.bytes_read:
            return Plan("rewritten")
        status = "unchanged" if info.format not in STREAMED and info.size == entry.bytes_read else "resumed"
        return Plan(status, entry.bytes_read, entry.lines, entry.tail)

    @staticmethod
    def _same_head(info: FileInfo, entry: _Entry) -> bool:
        if entry.head_len == info.head_len:
            return entry.identity == info.identity
        return entry.head_len <= info.size and head_digest(info.path, entry.head_len) == entry.identity

    def write(self, reads: list[Read]) -> None:
        """Remember ``reads`` (their rows are committed): one transaction, whatever their number."""
        if not reads:
            return
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        table = pa.table({
            "identity": [r.info.identity for r in reads],
            "head_len": pa.array([r.info.head_len for r in reads], pa.int64()),
            "path": [str(r.info.path) for r in reads],
            "format": [r.info.format for r in reads],
            "device": pa.array([r.info.device for r in reads], pa.int64()),
            "inode": pa.array([r.info.inode for r in reads], pa.int64()),
            "size": pa.array([r.info.size for r in reads], pa.int64()),
            "bytes_read": pa.array([r.bytes_read for r in reads], pa.int64()),
            "lines": pa.array([r.lines for r in reads], pa.int64()),
            "mtime": pa.array([r.info.mtime for r in reads], pa.timestamp("us")),
            "ingested_at": pa.array([now] * len(reads), pa.timestamp("us")),
            "tail_digest": pa.array([r.tail for r in reads], pa.string()),
        })
        con = self.con
        con.register("_ledger_new", table)
        try:
            con.execute("BEGIN TRANSACTION")
            try:
                con.execute("DELETE FROM ingested_files WHERE (device, inode) IN "
                            "(SELECT (device, inode) FROM _ledger_new)")
                con.execute(f"INSERT INTO ingested_files BY NAME SELECT {', '.join(_COLUMNS)} FROM _ledger_new")
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        finally:
            con.unregister("_ledger_new")
        for r in reads:
            i = r.info
            self.entries[(i.device, i.inode)] = _Entry(i.identity, i.head_len, i.format, i.size, i.mtime,
                                                       r.bytes_read, r.lines, r.tail)
