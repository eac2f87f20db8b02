"""The collector's protobuf file format (file exporter ``format: proto``) loads as its JSON does.

The same synthetic data written both ways - each JSON line as one frame (a 4-byte
big-endian length, then the Export*ServiceRequest) - must give the same store:
the same spans with the same ids, calls, tokens and cost, metric points and logs.
"""

from __future__ import annotations

import struct
from pathlib import Path

import zstandard

from otel_llm_analysis.store import TraceStore
from otel_llm_analysis.summaries import totals
from tests.support import synthetic
from tests.support.otlp_proto import SIGNALS, frames


def _snapshot(store: TraceStore) -> tuple:
    row = totals(store)
    return (store.query("SELECT trace_id, span_id, name, start_time, end_time, status_code FROM spans ORDER BY ALL"),
            (row.llm_calls, row.input_tokens, row.output_tokens, round(row.cost_usd, 9), row.failed_calls),
            store.query("SELECT count(*), sum(coalesce(value, sum)) FROM metric_points"),
            store.query("SELECT count(*), count(DISTINCT body) FROM logs"))


def test_protobuf_files_load_as_their_json_does(tmp_path: Path) -> None:
    data = synthetic.generate(tmp_path / "json", seed=21, traces=40, days=3)
    proto = tmp_path / "proto"
    proto.mkdir()
    for signal in SIGNALS:
        (proto / f"{signal}.pb").write_bytes(b"".join(frames(tmp_path / "json" / f"{signal}.jsonl", signal)))
    with TraceStore(str(tmp_path / "json.duckdb")) as from_json, TraceStore(str(tmp_path / "proto.duckdb")) as from_proto:
        assert from_json.ingest([str(f) for f in data.files]).bad_lines == []
        report = from_proto.ingest([str(proto)])
        assert report.bad_lines == [] and report.spans_added == len(data.spans)
        assert _snapshot(from_proto) == _snapshot(from_json)


def test_compressed_protobuf_frames_and_a_half_written_last_frame(tmp_path: Path) -> None:
    """``format: proto`` with ``compression: zstd`` (each frame compressed); a frame still being
    written is left for the next run, which reads it once complete."""
    data = synthetic.generate(tmp_path / "json", seed=22, traces=10, days=2, spans_per_line=8)
    framed = frames(tmp_path / "json" / "traces.jsonl", "traces")
    compress = zstandard.ZstdCompressor().compress
    packed = [struct.pack(">I", len(c)) + c for c in (compress(f[4:]) for f in framed)]
    path = tmp_path / "traces.pb"
    path.write_bytes(b"".join(packed[:-1]) + packed[-1][:7])
    with TraceStore(str(tmp_path / "s.duckdb")) as store:
        first = store.ingest([str(path)])
        assert first.bad_lines == []
        path.write_bytes(b"".join(packed))
        second = store.ingest([str(path)])
        assert second.bad_lines == []
        assert first.spans_added + second.spans_added == len(data.spans) and second.spans_added > 0


def test_a_frame_with_bytes_not_utf8_in_one_span_name_loads_its_other_spans(tmp_path: Path) -> None:
    """protobuf refused the whole frame for one string field that is not UTF-8 ("not a protobuf traces export
    request"), so every span of it was lost; now the frame loads with U+FFFD there, and the frame is reported."""
    data = synthetic.generate(tmp_path / "json", seed=23, traces=4, days=1, spans_per_line=64)
    framed = frames(tmp_path / "json" / "traces.jsonl", "traces")
    name = data.spans[0].name.encode()
    assert name in framed[0][4:]
    broken = framed[0][4:].replace(name, name[:1] + b"\xff" + name[2:], 1)  # same length: nested sizes hold
    path = tmp_path / "traces.pb"
    path.write_bytes(struct.pack(">I", len(broken)) + broken + b"".join(framed[1:]))
    with TraceStore(str(tmp_path / "s.duckdb")) as store:
        report = store.ingest([str(path)])
        assert report.spans_added == len(data.spans)
        ((problem_line, reason),) = [(p.line, p.reason) for p in report.bad_lines]
        assert problem_line == 1 and "U+FFFD" in reason and "1 string field(s)" in reason, reason
        replaced = name[:1].decode() + "\ufffd" + name[2:].decode()
        assert store.query("SELECT count(*) FROM spans WHERE name = ?", [replaced]) == [(1,)]
