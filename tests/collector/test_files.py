"""What the collector writes: rotation by size, the zstd variant, line integrity after a crash."""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path

from . import _otlp
from .conftest import Collector, run_app


def span_request(collector: Collector, count: int, payload_bytes: int = 0,
                 start: int = 0) -> tuple[urllib.request.Request, set[tuple[str, str]]]:
    """One OTLP/HTTP JSON request with ``count`` spans, and their ids."""
    spans = [
        {
            "traceId": f"{i + 1:032x}",
            "spanId": f"{i + 1:016x}",
            "name": "bulk",
            "kind": 1,
            "startTimeUnixNano": "1",
            "endTimeUnixNano": "2",
            "attributes": [{"key": "pad", "value": {"stringValue": "x" * payload_bytes}}],
        }
        for i in range(start, start + count)
    ]
    body = json.dumps({"resourceSpans": [{"resource": {}, "scopeSpans": [{"scope": {"name": "t"}, "spans": spans}]}]})
    request = urllib.request.Request(
        f"{collector.http_endpoint}/v1/traces", data=body.encode(), headers={"Content-Type": "application/json"}
    )
    return request, {(s["traceId"], s["spanId"]) for s in spans}


def post_spans(collector: Collector, count: int, payload_bytes: int = 0, start: int = 0) -> set[tuple[str, str]]:
    """POST one OTLP/HTTP JSON request with ``count`` spans; returns their ids."""
    request, ids = span_request(collector, count, payload_bytes, start)
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    return ids


def test_files_rotate_by_size_and_keep_every_span(collector_factory) -> None:  # type: ignore[no-untyped-def]
    collector = collector_factory(env={"OTEL_LLM_ROTATE_MAX_MB": "1"}).start()
    sent: set[tuple[str, str]] = set()
    for batch in range(6):  # ~6 x 300 kB
        sent |= post_spans(collector, 300, payload_bytes=1000, start=batch * 300)
    collector.stop()

    files = _otlp.signal_files(collector.data_dir, "traces")
    backups = [p.name for p in files if p.name != "traces.jsonl"]
    assert backups, "a 1 MB limit must have rotated ~1.8 MB"
    # timberjack's naming (fileexporter v0.161.0): <name>-<UTC time>-<reason>.jsonl
    assert all(re.fullmatch(r"traces-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}-size\.jsonl", b) for b in backups), backups
    assert all(p.stat().st_size <= 1024 * 1024 for p in files)
    assert _otlp.span_ids(_otlp.messages(collector.data_dir, "traces")) == sent


def test_zstd_variant_writes_standard_zstd_of_the_same_lines(collector_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    collector = collector_factory(zstd=True).start()
    truth_file = tmp_path / "truth.json"
    app = run_app(tmp_path, collector, "--turns", "3", "--truth", str(truth_file))
    assert app.returncode == 0, app.stdout + app.stderr
    collector.stop()

    names = sorted(p.name for p in collector.data_dir.iterdir())
    assert "traces.jsonl.zst" in names and "traces.jsonl" not in names, names
    assert (collector.data_dir / "traces.jsonl.zst").read_bytes()[:4] == b"\x28\xb5\x2f\xfd"  # zstd frame magic
    truth = {(s["trace_id"], s["span_id"]) for s in json.loads(truth_file.read_text())}
    assert _otlp.span_ids(_otlp.messages(collector.data_dir, "traces")) == truth


def test_restart_after_crash_never_glues_two_records_into_one_line(collector_factory) -> None:  # type: ignore[no-untyped-def]
    """A record whose newline a crash swallowed is terminated before the next run appends."""
    collector = collector_factory()
    collector.data_dir.mkdir(parents=True)
    torn = {"resourceSpans": []}
    (collector.data_dir / "traces.jsonl").write_text(json.dumps(torn))  # no trailing newline
    collector.start()
    sent = post_spans(collector, 3)
    collector.stop()
    lines = (collector.data_dir / "traces.jsonl").read_text().splitlines()
    assert json.loads(lines[0]) == torn
    assert _otlp.span_ids(_otlp.messages(collector.data_dir, "traces")) == sent
