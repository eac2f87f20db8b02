"""A file is never skipped: it is resumed at a stored offset only while it provably is the file read
up to there (same inode, same head, same bytes just before the offset); anything else is read from
the start and de-duplication drops the repeats."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import orjson
import pytest
import zstandard

from otel_llm_analysis import TraceStore
from tests.support.synthetic import SyntheticData, key_values, spans_request


def _lines(spans: list) -> list[bytes]:
    return [orjson.dumps(spans_request([s])) + b"\n" for s in spans]


def _shared_head(dataset: SyntheticData, size: int) -> bytes:
    """Lines (whole export requests) of at least ``size`` bytes, as a re-sent batch or a long shared
    resource makes them; the first line alone is padded with a big resource attribute."""
    request = spans_request(dataset.spans[:1])
    request["resourceSpans"][0]["resource"]["attributes"] += key_values({"padding": "x" * size})
    return orjson.dumps(request) + b"\n"


def _span_ids(store: TraceStore) -> set[str]:
    return {r[0] for r in store.query("SELECT span_id FROM spans")}


@pytest.mark.parametrize("shared", [4 << 10, 64 << 10, 1 << 20], ids=["4KB", "64KB", "1MB"])
@pytest.mark.parametrize("same_run", [False, True], ids=["two-runs", "one-run"])
def test_distinct_files_with_an_identical_head_both_load_whole(store: TraceStore, tmp_path: Path,
                                                               dataset: SyntheticData, shared: int,
                                                               same_run: bool) -> None:
    head = _shared_head(dataset, shared)
    spans = dataset.spans[1:81]
    a, b = tmp_path / "traces-a.jsonl", tmp_path / "traces-b.jsonl"
    a.write_bytes(head + b"".join(_lines(spans[:40])))
    b.write_bytes(head + b"".join(_lines(spans[40:])))
    assert a.read_bytes()[:shared] == b.read_bytes()[:shared]
    report = store.ingest([a, b]) if same_run else (store.ingest(a), store.ingest(b))[1]
    assert _span_ids(store) == {s.span_id for s in dataset.spans[:81]}  # nothing of b lost
    assert report.bad_lines == []
    if same_run:
        assert [f.status for f in report.files] == ["new", "new"]
    else:
        assert (report.files[0].status, report.files[0].lines) == ("new", 41)
        assert report.duplicates_skipped == 1  # the shared first line's span
    again = store.ingest([a, b])
    assert {f.status for f in again.files} == {"unchanged"} and again.lines_read == 0


def test_a_copy_is_read_again_and_adds_nothing(store: TraceStore, copy_dataset: Path, dataset: SyntheticData) -> None:
    original = copy_dataset / "traces.jsonl"
    store.ingest(original)
    copy = copy_dataset / "traces-copy.jsonl"
    shutil.copyfile(original, copy)
    report = store.ingest(copy)
    assert report.files[0].status == "new"  # another inode: nothing proves it is the file read before
    assert report.spans_added == 0 and report.events_added == 0
    assert report.duplicates_skipped == len(dataset.spans)
    assert store.ingest([original, copy]).lines_read == 0  # both are known now


def test_a_rotated_backup_is_resumed_not_reread(store: TraceStore, copy_dataset: Path,
                                                dataset: SyntheticData) -> None:
    live = copy_dataset / "traces.jsonl"
    lines = live.read_bytes().splitlines(keepends=True)
    half = len(lines) // 2
    live.write_bytes(b"".join(lines[:half]))
    store.ingest(live)
    with live.open("ab") as fh:
        fh.write(b"".join(lines[half:]))
    backup = live.rename(copy_dataset / "traces-2026-11-25T14-45-01.123-size.jsonl")
    report = store.ingest(backup)
    assert (report.files[0].status, report.files[0].lines) == ("resumed", len(lines) - half)
    assert report.duplicates_skipped == 0
    assert store.query("SELECT count(*) FROM spans")[0][0] == len(dataset.spans)


@pytest.mark.parametrize("longer", [True, False], ids=["rewritten-longer", "rewritten-shorter"])
def test_a_file_truncated_and_rewritten_is_read_from_the_start(store: TraceStore, tmp_path: Path,
                                                                dataset: SyntheticData, longer: bool) -> None:
    head = _shared_head(dataset, 4 << 10)  # the same first batch: the same head
    path = tmp_path / "traces.jsonl"
    path.write_bytes(head + b"".join(_lines(dataset.spans[1:41])))
    inode = path.stat().st_ino
    store.ingest(path)
    new = dataset.spans[41:101] if longer else dataset.spans[41:51]
    with path.open("r+b") as fh:  # in place: the inode stays
        fh.truncate(0)
        fh.write(head + b"".join(_lines(new)))
    assert path.stat().st_ino == inode
    report = store.ingest(path)
    assert {s.span_id for s in new} <= _span_ids(store)
    assert report.spans_added == len(new)
    assert (report.files[0].status, report.files[0].lines) == ("rewritten", len(new) + 1)


def test_an_inode_reused_by_another_file_is_read_whole(store: TraceStore, tmp_path: Path,
                                                       dataset: SyntheticData) -> None:
    """A deleted file's inode number may be given to the next file created: nothing else matches."""
    path = tmp_path / "traces.jsonl"
    path.write_bytes(b"".join(_lines(dataset.spans[:40])))
    store.ingest(path)
    path.unlink()
    other = tmp_path / "traces-new.jsonl"
    other.write_bytes(b"".join(_lines(dataset.spans[40:100])))
    report = store.ingest(other)
    assert report.files[0].status == "new"
    assert report.spans_added == 60


def test_a_zstd_stream_changed_before_the_offset_is_read_again(store: TraceStore, tmp_path: Path,
                                                               dataset: SyntheticData) -> None:
    first, second, third = (b"".join(_lines(dataset.spans[i:j])) for i, j in ((0, 300), (300, 400), (500, 600)))
    compress = zstandard.ZstdCompressor().compress
    path = tmp_path / "traces.jsonl.zst"
    path.write_bytes(compress(first) + compress(second))
    store.ingest(path)
    assert len(compress(first)) > 4096  # the head lies within the first frame
    changed = b"".join(_lines(dataset.spans[400:500]))
    with path.open("r+b") as fh:  # same inode, same first frame (same head), other bytes after it
        fh.truncate(0)
        fh.write(compress(first) + compress(changed) + compress(third))
    report = store.ingest(path)
    assert _span_ids(store) == {s.span_id for s in dataset.spans[:600]}
    assert report.files[0].status == "rewritten"


def test_a_store_from_before_tail_digests_reads_known_files_again(store: TraceStore, copy_dataset: Path,
                                                                  dataset: SyntheticData) -> None:
    """Rows written without a tail digest prove nothing: the file is read again, and adds nothing."""
    path = copy_dataset / "traces.jsonl"
    store.ingest(path)
    store.query("UPDATE ingested_files SET tail_digest = NULL")
    report = store.ingest(path)
    assert report.files[0].status == "rewritten"
    assert (report.spans_added, report.duplicates_skipped) == (0, len(dataset.spans))


def test_many_files_are_remembered_together(store: TraceStore, tmp_path: Path, dataset: SyntheticData) -> None:
    for i, span in enumerate(dataset.spans[:300]):
        (tmp_path / f"traces-{i:04d}.jsonl").write_bytes(_lines([span])[0])
    report = store.ingest(tmp_path)
    assert report.spans_added == 300 and report.files_read == 300
    assert store.query("SELECT count(*), count(DISTINCT inode) FROM ingested_files") == [(300, 300)]
    assert store.ingest(tmp_path).lines_read == 0
    assert os.stat(tmp_path / "traces-0000.jsonl").st_ino in {
        r[0] for r in store.query("SELECT inode FROM ingested_files")}
