"""Where the bytes come from: paths and globs -> files -> (line number, line bytes, offset).

Why a module of its own: everything about files - which ones a directory holds,
how to recognise a file after the collector renamed it, the three on-disk forms
(plain JSON lines, a native zstd stream, the collector's legacy length-prefixed
zstd frames) and where a half-written tail begins - is independent of what the
lines mean. Ingest asks for "the complete records after offset N" and gets them.

The forms, as the collector-contrib ``fileexporter`` writes them
(``file_writer.go``, ``buildExportFunc``):

* ``jsonl``: one JSON export request per line, ``\\n``-terminated.
* ``zstd``: with the ``exporter.file.nativeCompression`` gate, the whole file is one
  zstd stream whose decompressed content is ``jsonl``. Offsets count
  decompressed bytes.
* ``zstd-framed``: without the gate, ``compression: zstd`` writes each export
  request as a 4-byte big-endian unsigned length followed by that many bytes: one
  zstd frame holding the JSON (no newline). Offsets count file bytes; a "line"
  is a frame.
"""

from __future__ import annotations

import glob
import gzip
import hashlib
import os
import re
import struct
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO, Callable, Iterable, Iterator

import msgspec
import zstandard

from otel_llm_analysis import _proto
from otel_llm_analysis.export import EXPORTED_DAY, EXPORTED_FILE

__all__ = [
    "HEAD_BYTES",
    "STREAMED",
    "TAIL_BYTES",
    "FileChanged",
    "FileInfo",
    "Reader",
    "Record",
    "SourceError",
    "digest",
    "expand",
    "head_digest",
    "stat_file",
]

#: Bytes hashed at the start of a file (a file smaller than this is hashed whole,
#: and recognised by the same prefix when it has grown).
HEAD_BYTES = 4096
#: Bytes hashed just before the offset a file was read to: with the inode and the
#: head, the proof that the file is still the one read up to that offset.
TAIL_BYTES = 4096
#: Read size; large enough that 512-span lines (hundreds of KB) take few reads.
CHUNK_BYTES = 8 << 20
#: A line longer than this is reported and skipped rather than held in memory.
MAX_LINE_BYTES = 1 << 30
#: A file up to this size may be one JSON document over several lines (see ``_document``).
MAX_DOCUMENT_BYTES = 1 << 28
#: The UTF-8 byte-order mark some editors put first (the decoder skips it too).
BOM = b"\xef\xbb\xbf"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
GZIP_MAGIC = b"\x1f\x8b"
#: Compressed streams: read from the start, their offsets counting decompressed bytes (no seeking).
#: gzip is logrotate's ``compress`` (``traces.jsonl.2.gz``); zstd the collector's.
STREAMED = ("zstd", "gzip")
_DATA_SUFFIXES = (".jsonl", ".json", ".zst", ".zstd", ".jsonl.zst", ".json.zst", ".pb", ".binpb",
                  ".jsonl.gz", ".json.gz")
#: A data file logrotate renamed: ``traces.jsonl.1``, compressed ``traces.jsonl.2.gz`` (its content
#: decides the form); the number is group 1 or 2.
_ROTATED_COPY = re.compile(r"\.(?:jsonl|json|zst|zstd|pb|binpb)\.([0-9]{1,6})$|\.(?:jsonl|json)\.([0-9]{1,6})\.gz$")
#: Names of files that hold a signal: under a directory, one with ``.json`` in its name that is
#: not a data file (``traces.jsonl.2.gz``) is reported.
_SIGNAL_NAMES = tuple(f"{signal}{sep}" for signal in ("traces", "metrics", "logs") for sep in ".-")


class SourceError(Exception):
    """A path that cannot be read at all (missing, a directory of nothing, no permission)."""


class FileChanged(Exception):
    """The path now names another file than the one stat'ed (rotated in between)."""


@dataclass(frozen=True, slots=True)
class FileInfo:
    """A file as found now: enough to recognise it and to know whether it grew."""

    path: Path
    size: int
    mtime: datetime
    device: int
    inode: int
    format: str  # "jsonl" | "zstd" | "gzip" | "zstd-framed" | "proto" (the collector's ``format: proto``: ``_proto``)
    identity: str  # digest of the first head_len bytes, read when stat'ed
    head_len: int


@dataclass(frozen=True, slots=True)
class Record:
    """One complete line (or frame); ``data`` is None and ``error`` says why when unreadable; beside
    ``data``, ``error`` says what was changed to read it (``ingest.load_record`` reports either)."""

    line_no: int
    data: bytes | None
    end_offset: int  # offset just past this record (and its newline)
    error: str | None = None


def expand(specs: Iterable[str | os.PathLike[str]], unread: list[Path] | None = None,
           exports: list[Path] | None = None) -> list[Path]:
    """Files named by ``specs``: plain paths, globs, or directories (their data files).

    Files under a directory named for a signal that are not data files (a
    ``traces.jsonl.2.gz``) are appended to ``unread``, so they can be reported;
    ``otel-llm export`` directories met on the way (the store's rows, not OTLP:
    an export kept in the data directory) to ``exports``, each once. Raises :class:`SourceError` (one line, no traceback material) for a path that
    does not exist, cannot be looked up (a name too long, a directory without
    permission) or a glob that matches nothing. Backups sort before the live
    file of the same signal (oldest data first), otherwise by name.
    """
    found: dict[Path, None] = {}
    for spec in specs:
        text = os.fspath(spec)
        if glob.has_magic(text):
            matches = sorted(glob.glob(text, recursive=True))
            if not matches:
                raise SourceError(f"no files match {text}")
            candidates = [Path(m) for m in matches]
        else:
            candidates = [Path(text)]
        for path in candidates:
            try:
                found.update(dict.fromkeys(_data_files(path, unread, exports)))
            except OSError as exc:
                raise SourceError(f"cannot read {path}: {exc.strerror or exc}") from None
    return sorted(found, key=_read_order)


def _data_files(path: Path, unread: list[Path] | None = None, exports: list[Path] | None = None) -> list[Path]:
    """``path`` itself, or the data files under a directory; :class:`SourceError` for anything else."""
    if path.is_dir():
        return _walk(path, unread if unread is not None else [], exports if exports is not None else [])
    if path.is_file():
        return [path]
    if not path.exists():
        raise SourceError(f"no such file or directory: {path}")
    raise SourceError(f"not a regular file: {path}")


def _walk(root: Path, unread: list[Path], exports: list[Path]) -> list[Path]:
    """The data files under ``root``, following linked directories (an archive linked into the
    data dir is data too: ``Path.rglob`` skipped it in silence), each directory once, so a
    link loop ends. Other files named for a signal, links to nothing and directories that cannot
    be listed (``os.walk`` would pass over them in silence) go to ``unread``; the day
    directories of an ``otel-llm export`` are left, their export directory added to ``exports``."""
    seen: set[tuple[int, int]] = set()
    found, others, unlisted = [], [], []
    for directory, subdirs, names in os.walk(root, followlinks=True,
                                             onerror=lambda exc: unlisted.append(Path(exc.filename))):
        st = os.stat(directory)
        if (st.st_dev, st.st_ino) in seen:
            subdirs.clear()
            continue
        seen.add((st.st_dev, st.st_ino))
        if EXPORTED_DAY.fullmatch(os.path.basename(directory)) and any(EXPORTED_FILE.fullmatch(n) for n in names):
            export = Path(directory).parent
            if export not in exports:
                exports.append(export)
            subdirs.clear()
            continue
        for name in names:
            if name.endswith(_DATA_SUFFIXES) or _ROTATED_COPY.search(name):
                found.append(Path(directory, name))
            elif name.startswith(_SIGNAL_NAMES) and ".json" in name:  # not the spool's .dead-letter
                others.append(Path(directory, name))
    unread += sorted(p for p in others if p.is_file())
    unread += sorted(p for p in found if p.is_symlink() and not p.exists())  # a link to nothing
    unread += unlisted
    return sorted(p for p in found if p.is_file())


def _read_order(path: Path) -> tuple[str, int, str]:
    """``traces-<ts>.jsonl`` (rotated, older) before ``traces.jsonl`` (live); logrotate's
    ``traces.jsonl.2`` before ``traces.jsonl.1`` before the live file."""
    stem = path.name.split(".", 1)[0]
    signal, _, stamp = stem.partition("-")
    copy = _ROTATED_COPY.search(path.name)
    if copy and not stamp:
        stamp = f"~{10**9 - int(copy.group(1) or copy.group(2)):010d}"
    return (str(path.parent / signal), 0 if stamp else 1, stamp)


def stat_file(path: Path) -> FileInfo:
    """Stat and sniff ``path``; :class:`SourceError` when it cannot be opened."""
    try:
        with path.open("rb") as fh:
            st = os.fstat(fh.fileno())
            head = fh.read(min(HEAD_BYTES, st.st_size))
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror or exc}") from None
    return FileInfo(
        path=path,
        size=st.st_size,
        mtime=datetime.fromtimestamp(st.st_mtime, timezone.utc).replace(tzinfo=None),
        device=st.st_dev,
        inode=st.st_ino,
        format=sniff_format(head),
        identity=digest(head),
        head_len=len(head),
    )


def sniff_format(head: bytes) -> str:
    """The on-disk form from the first bytes (magic numbers beat file extensions)."""
    if head.startswith(ZSTD_MAGIC):
        return "zstd"
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if len(head) >= 8 and head[4:8] == ZSTD_MAGIC:
        return "zstd-framed"
    if len(head) >= 5 and head[0] == 0 and head[4] == 0x0A:
        # JSON never starts with NUL: a big-endian length under 16 MiB, then protobuf field 1
        # (resourceSpans / resourceMetrics / resourceLogs) - the file exporter's ``format: proto``
        return "proto"
    return "jsonl"


def head_digest(path: Path, length: int) -> str:
    """SHA-256 of the first ``length`` bytes: the file's head, checked before resuming it."""
    with path.open("rb") as fh:
        return digest(fh.read(length))


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Reader:
    """The complete records of one file after a resume point, proven before it is used.

    A resume point (``offset``, ``line_no``, ``tail``) says "this file was read up
    to ``offset``, and the :data:`TAIL_BYTES` before it hashed to ``tail``". The
    reader resumes there only if the bytes before ``offset`` still hash to
    ``tail`` (the caller has already matched the inode and the head); otherwise
    it reads the file from the start (:attr:`resumed` is then False) and
    de-duplication drops what was stored before. As records are yielded,
    :attr:`end_offset` and :attr:`end_line` follow them; afterwards :attr:`tail`
    is the digest to remember with them.
    """

    def __init__(self, info: FileInfo, offset: int = 0, line_no: int = 0, tail: str | None = None) -> None:
        self.info = info
        self.offset, self.line_no, self.expected_tail = offset, line_no, tail
        self.resumed = offset > 0
        self.end_offset, self.end_line = offset, line_no
        self.tail: str | None = None
        self._window: _Window | None = None  # a stream's bytes before the last record end (STREAMED)
        self.truncated = False  # a compressed stream ended mid-frame: the rest is read once it is written

    def __iter__(self) -> Iterator[Record]:
        with self.info.path.open("rb") as fh:
            if os.fstat(fh.fileno()).st_ino != self.info.inode:
                raise FileChanged(f"{self.info.path} was replaced while ingesting; it will be read next run")
            for record in self._records(fh):
                self.end_offset, self.end_line = record.end_offset, record.line_no
                yield record
            if self._window is not None:
                self.tail = digest(self._window.at_end)
            else:
                self.tail = digest(_window(fh, self.end_offset))

    def _cut(self) -> None:
        self.truncated = True

    def _restart(self) -> None:
        self.offset, self.line_no, self.resumed = 0, 0, False
        self.end_offset, self.end_line = 0, 0

    def _records(self, fh: BinaryIO) -> Iterator[Record]:
        if self.info.format in STREAMED:
            return self._stream(fh)
        if self.offset and digest(_window(fh, self.offset)) != self.expected_tail:
            self._restart()
        if self.info.format in ("zstd-framed", "proto"):
            return _frames(fh, self.offset, self.line_no, _unpacked(self.info))
        offset = self.offset
        if offset and os.pread(fh.fileno(), 1, offset - 1) != b"\n" and os.pread(fh.fileno(), 1, offset) == b"\n":
            offset += 1  # the newline that ends the complete last line an earlier run read without one
        fh.seek(offset)
        if not offset and self.info.size <= MAX_DOCUMENT_BYTES:
            document = _document(fh)
            if document is not None:
                return iter([Record(1, document, len(document))])
            fh.seek(0)
        return _lines(_chunks(fh.read), offset, self.line_no, complete_tail=True)

    def _stream(self, fh: BinaryIO) -> Iterator[Record]:
        """A compressed stream cannot seek: decompress up to the offset, checking the tail on the way."""
        self._window = _Window()
        chunks = _decompressed(fh, self.info.format, self._cut)
        if self.offset:
            chunks, skipped = _skip(chunks, self.offset, self._window)
            if skipped != self.offset or digest(self._window.at_end) != self.expected_tail:
                self._restart()
                fh.seek(0)
                self._window = _Window()
                chunks = _decompressed(fh, self.info.format, self._cut)
        yield from _lines(chunks, self.offset, self.line_no, self._window)


def _decompressed(fh: BinaryIO, format: str, truncated: Callable[[], None]) -> Iterator[bytes]:
    if format == "gzip":
        # read1: one decompression step per call - read() would fill its size first, and a stream cut
        # mid-way raises there, losing the lines decompressed before the cut
        return _chunks(gzip.GzipFile(fileobj=fh, mode="rb").read1, truncated)
    return _chunks(zstandard.ZstdDecompressor().stream_reader(fh, read_across_frames=True).read, truncated)


def _window(fh: BinaryIO, end: int) -> bytes:
    """The :data:`TAIL_BYTES` before ``end`` (fewer at the start of a file)."""
    start = max(0, end - TAIL_BYTES)
    return os.pread(fh.fileno(), end - start, start)


class _Window:
    """The last :data:`TAIL_BYTES` of a stream before its last complete record, kept as chunks pass."""

    def __init__(self) -> None:
        self.recent = b""  # the last TAIL_BYTES of everything read so far
        self.at_end = b""  # the TAIL_BYTES before the last record end seen

    def feed(self, chunk: bytes, record_end: int) -> None:
        """``chunk`` was read; ``record_end`` (0 if none) is the index just past its last record."""
        if record_end:
            if record_end >= TAIL_BYTES:
                self.at_end = chunk[record_end - TAIL_BYTES:record_end]
            else:
                self.at_end = (self.recent + chunk[:record_end])[-TAIL_BYTES:]
        self.recent = (self.recent + chunk[-TAIL_BYTES:])[-TAIL_BYTES:]


def _chunks(read: Callable[[int], bytes], truncated: Callable[[], None] | None = None) -> Iterator[bytes]:
    """The bytes ``read`` returns, asked :data:`CHUNK_BYTES` at a time. A compressed stream that ends
    mid-frame (still being written) ends the chunks and calls ``truncated``; corrupt gzip data is an
    ``OSError``."""
    while True:
        try:
            chunk = read(CHUNK_BYTES)
        except (zstandard.ZstdError, EOFError):
            if truncated is None:
                raise
            truncated()
            return
        except zlib.error as exc:
            raise OSError(f"corrupt gzip data ({exc})") from None
        if not chunk:
            return
        yield chunk


def _skip(chunks: Iterator[bytes], offset: int, window: _Window) -> tuple[Iterator[bytes], int]:
    """Drop the first ``offset`` bytes (fewer if the stream is shorter); the rest of the stream and
    how many bytes were dropped. ``window`` ends at the offset (a record end)."""
    remaining = offset
    for chunk in chunks:
        if remaining >= len(chunk):
            remaining -= len(chunk)
            window.feed(chunk, len(chunk))
            continue
        window.feed(chunk[:remaining], remaining)
        rest = chunk[remaining:] if remaining else chunk
        return _prepend(rest, chunks), offset
    return iter(()), offset - remaining


def _prepend(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    if first:
        yield first
    yield from rest


def _lines(chunks: Iterable[bytes], offset: int, line_no: int, window: _Window | None = None,
           complete_tail: bool = False) -> Iterator[Record]:
    """The ``\\n``-terminated lines of ``chunks``. With ``complete_tail``, a last line without its
    newline that is a whole JSON document is a record too: files from other tools often end so,
    and no prefix of a JSON object is one, so a line still being written is never taken."""
    pending: list[bytes] = []
    pending_len = 0
    position = offset
    for chunk in chunks:
        if window is not None:
            window.feed(chunk, chunk.rfind(b"\n") + 1)
        start = 0
        while True:
            newline = chunk.find(b"\n", start)
            if newline < 0:
                if start < len(chunk):
                    pending_len += len(chunk) - start
                    if pending_len <= MAX_LINE_BYTES:
                        pending.append(chunk[start:])
                    else:
                        pending.clear()
                break
            piece = chunk[start:newline]
            length = pending_len + len(piece)
            error = None
            if pending_len > MAX_LINE_BYTES or length > MAX_LINE_BYTES:
                data, error = None, f"line of {length} bytes exceeds the {MAX_LINE_BYTES}-byte limit"
            elif pending:
                pending.append(piece)
                data = b"".join(pending)
            else:
                data = piece
            pending.clear()
            pending_len = 0
            position += length + 1
            line_no += 1
            yield Record(line_no, data, position, error)
            start = newline + 1
    if complete_tail and pending and pending_len <= MAX_LINE_BYTES:
        data = b"".join(pending)
        if _whole_json(data):
            yield Record(line_no + 1, data, position + pending_len)


def _document(fh: BinaryIO) -> bytes | None:
    """The whole file when it is one JSON document over several lines (OTLP JSON pretty-printed,
    as the OpenTelemetry examples are), else None: JSON lines. Only a first line that opens a
    structure and closes none (``{``, ``{"resourceSpans": [``) is worth reading the file for."""
    first = fh.readline(TAIL_BYTES)
    opened = first.removeprefix(BOM).strip()
    if not first.endswith(b"\n") or not opened.endswith((b"{", b"[")) or b"}" in opened:
        return None
    data = first + fh.read()
    return data if _whole_json(data.removeprefix(BOM)) else None


def _whole_json(data: bytes) -> bool:
    try:
        msgspec.json.decode(data)
    except (msgspec.DecodeError, RecursionError):
        return False
    return bool(data.strip())


def _unpacked(info: FileInfo) -> Callable[[bytes], tuple[bytes, str | None]]:
    """How one frame of a framed file becomes a line for the decoder: decompressed (``zstd-framed``),
    and turned from protobuf to OTLP JSON when it holds the collector's ``format: proto``
    (``_proto``; JSON starts with ``{``, a protobuf request with its first field's tag, 0x0A); with the
    note of what was changed to read it (``_proto.to_json``)."""
    signal = _proto.signal_of(info.path)
    decompressor = zstandard.ZstdDecompressor()

    def unpack(frame: bytes) -> tuple[bytes, str | None]:
        if info.format == "zstd-framed":
            try:
                frame = decompressor.decompress(frame, max_output_size=MAX_LINE_BYTES)
            except zstandard.ZstdError as exc:
                raise _proto.FrameError(f"corrupt zstd frame: {exc}") from None
        if signal is not None and frame[:1] == b"\x0a":
            return _proto.to_json(frame, signal)
        return frame, None

    return unpack


def _frames(fh: BinaryIO, offset: int, line_no: int,
            unpack: Callable[[bytes], tuple[bytes, str | None]]) -> Iterator[Record]:
    fh.seek(offset)
    position = offset
    while True:
        header = fh.read(4)
        if len(header) < 4:
            return
        (length,) = struct.unpack(">I", header)
        frame = fh.read(length)
        if len(frame) < length:
            return  # half-written frame: next run
        position += 4 + length
        line_no += 1
        try:
            data, note = unpack(frame)
        except _proto.FrameError as exc:
            yield Record(line_no, None, position, str(exc))
            continue
        yield Record(line_no, data, position, note)
