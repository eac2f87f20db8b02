"""Files, globs, the three on-disk forms, offsets and half-written tails."""

from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import Any

import pytest
import zstandard

from otel_llm_analysis import TraceStore
from otel_llm_analysis._sources import Reader, SourceError, expand, sniff_format, stat_file
from tests.support.synthetic import SyntheticData

LINES = [b'{"a": %d}' % i for i in range(1, 8)]


def _native(data: bytes) -> bytes:
    return zstandard.ZstdCompressor().compress(data)


def _framed(messages: list[bytes]) -> bytes:
    """The collector's legacy form: 4-byte big-endian length + one zstd frame per message."""
    out = b""
    for message in messages:
        frame = zstandard.ZstdCompressor(write_checksum=True).compress(message)
        out += struct.pack(">I", len(frame)) + frame
    return out


def _tail_at(info, offset: int) -> str:  # type: ignore[no-untyped-def]
    """The tail digest a full read stopping at ``offset`` would have remembered."""
    reader = Reader(info)
    for record in reader:
        if record.end_offset == offset:
            break
    truncated = info.path.with_name(info.path.name + ".upto")
    data = info.path.read_bytes()
    if info.format == "zstd":
        import io
        plain = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data), read_across_frames=True).read()
        truncated.write_bytes(_native(plain[:offset]))
    else:
        truncated.write_bytes(data[:offset])
    partial = Reader(stat_file(truncated))
    list(partial)
    truncated.unlink()
    assert partial.tail is not None
    return partial.tail


def test_expand_directories_globs_and_order(tmp_path: Path) -> None:
    for name in ("traces.jsonl", "traces-2026-11-25T10-00-00.000-size.jsonl", "traces-2026-11-24T10-00-00.000.jsonl",
                 "logs.jsonl", "notes.txt", "metrics.jsonl.zst"):
        (tmp_path / name).write_bytes(b"{}\n")
    names = [p.name for p in expand([tmp_path])]
    assert names == ["logs.jsonl", "metrics.jsonl.zst", "traces-2026-11-24T10-00-00.000.jsonl",
                     "traces-2026-11-25T10-00-00.000-size.jsonl", "traces.jsonl"]
    assert [p.name for p in expand([str(tmp_path / "traces*.jsonl")])][-1] == "traces.jsonl"
    with pytest.raises(SourceError, match="no such file"):
        expand([tmp_path / "missing.jsonl"])


def test_a_path_the_system_cannot_look_up_is_one_line() -> None:
    with pytest.raises(SourceError, match="^cannot read x+: File name too long$"):
        expand(["x" * 3000])


def test_sniff_forms() -> None:
    assert sniff_format(b'{"resourceSpans"') == "jsonl"
    assert sniff_format(_native(b"{}\n")[:8]) == "zstd"
    assert sniff_format(_framed([b"{}"])[:8]) == "zstd-framed"


@pytest.mark.parametrize("form", ["jsonl", "zstd", "zstd-framed"])
def test_records_resume_at_offset_with_line_numbers(tmp_path: Path, form: str) -> None:
    path = tmp_path / "f"
    if form == "jsonl":
        path.write_bytes(b"\n".join(LINES) + b"\n")
    elif form == "zstd":
        path.write_bytes(_native(b"\n".join(LINES) + b"\n"))
    else:
        path.write_bytes(_framed(LINES))
    info = stat_file(path)
    assert info.format == form
    records = list(Reader(info))
    assert [r.data for r in records] == LINES
    assert [r.line_no for r in records] == list(range(1, 8))
    first = Reader(info)
    three = [r for _, r in zip(range(3), first)]
    tail = _tail_at(info, three[-1].end_offset)
    resumed = Reader(info, three[-1].end_offset, three[-1].line_no, tail)
    assert [(r.line_no, r.data) for r in resumed] == list(zip(range(4, 8), LINES[3:]))
    assert resumed.resumed


def test_half_written_tail_is_not_yielded(tmp_path: Path) -> None:
    path = tmp_path / "f.jsonl"
    path.write_bytes(b"\n".join(LINES[:3]) + b"\n" + LINES[3][:4])
    records = list(Reader(stat_file(path)))
    assert [r.data for r in records] == LINES[:3]
    assert records[-1].end_offset == len(b"\n".join(LINES[:3])) + 1


def test_half_written_frame_and_stream_are_not_yielded(tmp_path: Path) -> None:
    framed = tmp_path / "framed"
    whole = _framed(LINES[:3])
    framed.write_bytes(whole + _framed([LINES[3]])[:-3])
    assert [r.data for r in Reader(stat_file(framed))] == LINES[:3]
    stream = tmp_path / "stream.zst"
    compressed = _native(b"\n".join(LINES) + b"\n")
    stream.write_bytes(compressed[: len(compressed) - 6])
    got = [r.data for r in Reader(stat_file(stream))]
    assert got == LINES[: len(got)]  # a prefix: whatever decompresses completely, nothing invented


def test_corrupt_frame_is_reported_and_the_next_one_read(tmp_path: Path) -> None:
    path = tmp_path / "framed"
    frames = _framed(LINES[:3])
    first_len = struct.unpack(">I", frames[:4])[0]
    broken = bytearray(frames)
    broken[4 + first_len - 5] ^= 0xFF  # one content byte: the frame checksum no longer matches
    path.write_bytes(bytes(broken))
    records = list(Reader(stat_file(path)))
    assert records[0].data is None and "zstd" in (records[0].error or "")
    assert [r.data for r in records[1:]] == LINES[1:3]


@pytest.mark.parametrize("form", ["zstd", "zstd-framed"])
def test_zstd_files_give_the_same_tables_as_plain(tmp_path: Path, dataset: SyntheticData, form: str) -> None:
    plain = next(p for p in dataset.files if p.name == "traces.jsonl")
    data = plain.read_bytes()
    lines = data.splitlines()
    target = tmp_path / ("traces.jsonl.zst" if form == "zstd" else "traces.jsonl")
    target.write_bytes(_native(data) if form == "zstd" else _framed(lines))
    query = ("SELECT trace_id, span_id, name, model, input_tokens, cost_usd, attributes FROM spans "
             "ORDER BY trace_id, span_id")
    with TraceStore() as a, TraceStore() as b:
        a.ingest(plain)
        report = b.ingest(target)
        assert report.files[0].format == form
        assert report.bad_lines == []
        assert a.query(query) == b.query(query)
        assert len(a.query(query)) == sum(1 for s in dataset.spans)


def test_framed_file_that_grows_is_resumed(tmp_path: Path, dataset: SyntheticData) -> None:
    lines = next(p for p in dataset.files if p.name == "traces.jsonl").read_bytes().splitlines()
    path = tmp_path / "traces.jsonl"
    half = len(lines) // 2
    path.write_bytes(_framed(lines[:half]) + _framed([lines[half]])[:10])  # a frame still being written
    with TraceStore() as store:
        first = store.ingest(path)
        path.write_bytes(_framed(lines))
        second = store.ingest(path)
        assert first.files[0].lines == half
        assert (second.files[0].status, second.files[0].lines) == ("resumed", len(lines) - half)
        assert second.duplicates_skipped == 0
        assert store.query("SELECT count(*) FROM spans")[0][0] == len(dataset.spans)


def test_native_stream_that_grows_is_resumed(tmp_path: Path, dataset: SyntheticData) -> None:
    """A zstd stream appended with new frames (how a compressing writer grows a file)."""
    lines = next(p for p in dataset.files if p.name == "traces.jsonl").read_bytes().splitlines(keepends=True)
    half = len(lines) // 2
    path = tmp_path / "traces.jsonl.zst"
    path.write_bytes(_native(b"".join(lines[:half])))
    with TraceStore() as store:
        first = store.ingest(path)
        with path.open("ab") as fh:
            fh.write(_native(b"".join(lines[half:])))
        second = store.ingest(path)
        assert (first.files[0].lines, second.files[0].lines) == (half, len(lines) - half)
        assert second.duplicates_skipped == 0
        assert store.query("SELECT count(*) FROM spans")[0][0] == len(dataset.spans)


def test_a_linked_directory_is_read_and_a_link_loop_ends(tmp_path: Path, dataset: SyntheticData) -> None:
    """``otel-data/archive -> /mnt/old-otel`` is a common layout: its files are data like any other.
    A directory linked into itself is walked once."""
    archive = tmp_path / "archive"
    archive.mkdir()
    live = tmp_path / "otel-data"
    live.mkdir()
    (archive / "traces-2026-11-24T10-00-00.000-size.jsonl").write_bytes(b"{}\n")
    (live / "traces.jsonl").write_bytes(b"{}\n")
    (live / "archive").symlink_to(archive, target_is_directory=True)
    (archive / "loop").symlink_to(archive, target_is_directory=True)
    assert [p.relative_to(live).as_posix() for p in expand([live])] == [
        "archive/traces-2026-11-24T10-00-00.000-size.jsonl", "traces.jsonl"]

    traces = next(p for p in dataset.files if p.name == "traces.jsonl")
    (archive / "traces-2026-11-24T10-00-00.000-size.jsonl").write_bytes(traces.read_bytes())
    with TraceStore(":memory:") as store:
        report = store.ingest(live)
        assert report.spans_added == len(dataset.spans)
        assert store.query("SELECT count(*) FROM spans")[0][0] == len(dataset.spans)


def test_logrotated_files_are_read_and_other_signal_files_named(tmp_path: Path, dataset: SyntheticData) -> None:
    """logrotate keeps ``traces.jsonl.1`` and, with ``compress``, gzips older ones to ``traces.jsonl.2.gz``:
    a directory ingest read neither (the .gz reported as not read: its spans in no analysis). Both
    load, oldest first; a corrupt .gz is a located problem; other files stay quiet."""
    import gzip

    data = tmp_path / "otel-data"
    data.mkdir()
    lines = next(p for p in dataset.files if p.name == "traces.jsonl").read_bytes().splitlines(keepends=True)
    third = len(lines) // 3
    (data / "traces.jsonl.2.gz").write_bytes(gzip.compress(b"".join(lines[:third])))
    (data / "traces.jsonl.1").write_bytes(b"".join(lines[third:2 * third]))
    (data / "traces.jsonl").write_bytes(b"".join(lines[2 * third:]))
    (data / "traces.jsonl.3.gz").write_bytes(b"\x1f\x8b\x08\x00" + b"\xff" * 40)
    (data / "notes.txt").write_bytes(b"hello\n")
    (data / "otel-llm.duckdb").write_bytes(b"")
    (data / "traces.dead-letter").write_bytes(b"{}\n")  # the spool's: deliberately not data
    with TraceStore(":memory:") as store:
        report = store.ingest(data)
        assert store.query("SELECT count(*) FROM spans")[0][0] == len(dataset.spans)
        assert [Path(f.path).name for f in report.files if f.lines] == ["traces.jsonl.2.gz", "traces.jsonl.1",
                                                                          "traces.jsonl"]
        (problem,) = report.bad_lines
        assert (problem.path, problem.line) == (str(data / "traces.jsonl.3.gz"), 0)
        assert "cannot read" in problem.reason and "gzip" in problem.reason.lower()
        again = store.ingest(data)  # nothing read twice: the .gz is unchanged
        assert (again.spans_added, again.duplicates_skipped) == (0, 0)


def test_a_gzip_file_still_being_written_is_read_on_when_it_grows(tmp_path: Path, dataset: SyntheticData) -> None:
    """A .jsonl.gz cut mid-stream (logrotate compressing while ingest runs) loads what is complete, says
    the rest is left for the next run, and the next run reads on from there."""
    import gzip
    import zlib

    lines = next(p for p in dataset.files if p.name == "traces.jsonl").read_bytes().splitlines(keepends=True)
    squeezer = zlib.compressobj(6, zlib.DEFLATED, 31)  # gzip's format, written as gzip writes it: in steps
    part = squeezer.compress(b"".join(lines[: len(lines) // 2])) + squeezer.flush(zlib.Z_SYNC_FLUSH)
    whole = part + squeezer.compress(b"".join(lines[len(lines) // 2:])) + squeezer.flush()
    assert gzip.decompress(whole) == b"".join(lines)
    path = tmp_path / "traces.jsonl.gz"
    path.write_bytes(part)
    with TraceStore(":memory:") as store:
        first = store.ingest(path)
        assert first.bad_lines == [] and first.files[0].partial_tail
        assert "left for the next run" in first.summary() and "cut mid-frame" in first.summary()
        half = store.query("SELECT count(*) FROM spans")[0][0]
        assert 0 < half < len(dataset.spans)
        path.write_bytes(whole)
        second = store.ingest(path)
        assert second.files[0].status == "resumed" and not second.files[0].partial_tail
        assert (second.spans_added + half, second.duplicates_skipped) == (len(dataset.spans), 0)


def test_a_pretty_printed_otlp_json_document_loads_as_one_request(tmp_path: Path, dataset: SyntheticData) -> None:
    """OTLP JSON as the OpenTelemetry examples and many exporters' "save as" write it: one indented
    document over many lines. It loaded nothing and reported each of its lines as invalid JSON."""
    import json

    first = next(p for p in dataset.files if p.name == "traces.jsonl").read_bytes().splitlines()[0]
    request = json.loads(first)
    path = tmp_path / "export.json"
    path.write_text("\ufeff" + json.dumps(request, indent=2) + "\n", "utf-8")
    with TraceStore(":memory:") as store:
        report = store.ingest(path)
        assert report.bad_lines == []
        assert report.spans_added == first.count(b'"spanId"') > 0
        again = store.ingest(path)
        assert (again.lines_read, again.spans_added, again.bad_lines) == (0, 0, [])
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(request, indent=2)[:-40], "utf-8")
    with TraceStore(":memory:") as store:  # not a whole document: its lines are reported as before
        assert store.ingest(broken).bad_lines


def test_a_link_to_a_vanished_file_is_named(tmp_path: Path) -> None:
    """``otel-data/traces-old.jsonl -> /mnt/archive/…`` with the archive unmounted: the data is not
    there, and the report says so instead of skipping the name in silence."""
    data = tmp_path / "otel-data"
    data.mkdir()
    (data / "traces.jsonl").write_bytes(b"")
    (data / "traces-old.jsonl").symlink_to(tmp_path / "unmounted" / "traces.jsonl")
    with TraceStore(":memory:") as store:
        report = store.ingest(data)
    (problem,) = report.bad_lines
    assert (problem.path, problem.line) == (str(data / "traces-old.jsonl"), 0)
    assert "link" in problem.reason and str(tmp_path / "unmounted") in problem.reason


def test_a_directory_that_cannot_be_listed_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A subdirectory the ingest's user may not list (an archive restored with other permissions):
    its files are not read, and the report says which directory and why. The tests run as root, whom
    permissions do not stop, so listing that directory is made to fail as it fails for another user."""
    data = tmp_path / "otel-data"
    (data / "archive").mkdir(parents=True)
    (data / "traces.jsonl").write_bytes(b"")
    (data / "archive" / "traces.jsonl").write_bytes(b"")
    listed = os.scandir

    def scandir(path: Any = ".") -> Any:
        if Path(path) == data / "archive":
            raise PermissionError(13, "Permission denied", str(path))
        return listed(path)

    monkeypatch.setattr(os, "scandir", scandir)
    with TraceStore(":memory:") as store:
        report = store.ingest(data)
    (problem,) = report.bad_lines
    assert (problem.path, problem.line) == (str(data / "archive"), 0)
    assert "cannot be listed (Permission denied)" in problem.reason
