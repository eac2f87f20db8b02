"""A disk that fills up in the middle of a line leaves no torn line in the file exporter's file.

Each batch is one ``write`` of whole lines; when the disk filled up part way,
the bytes written so far stayed at the end of ``traces.jsonl`` (tens of KB of
a cut-off request), and the next process to open the file ended that line with
a newline: a line the collector's file receiver and the analysis cannot read,
although the batch was already counted as lost. Now the file is cut back to
where the failed write began, so every line in it is whole, and what it holds
plus what the app reported lost is everything the app ended.

A real app process whose files may not grow past a size (``RLIMIT_FSIZE``: the
write that crosses it is cut short, later ones fail with EFBIG), as on a full
disk; then a second process that writes to the same file with room to spare.
"""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

from ._spooled import run_app

BATCHES, SPANS = 12, 50

APP = textwrap.dedent("""
    import resource, signal, sys, otel_llm
    from opentelemetry import trace
    out, limit, batches, name = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    if limit:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG) instead of killing
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    otel_llm.configure(service_name="full", exporter="file", output_dir=out, logs=False, process_metrics=False)
    tracer = trace.get_tracer("app")
    for batch in range(batches):
        for i in range(%d):
            with tracer.start_as_current_span(f"{name} {batch}-{i}") as span:
                span.set_attribute("app.payload", "p" * 2000)
        otel_llm.flush(5)
    otel_llm.shutdown()
""" % SPANS)


def test_a_write_cut_short_by_a_full_disk_leaves_only_whole_lines(tmp_path: Path) -> None:
    out = tmp_path / "out"
    full = run_app(APP, str(out), "300000", str(BATCHES), "first")
    lost = sum(int(n.replace(",", "")) for n in re.findall(r"in total ([\d,]+) spans? lost", full.stderr))
    assert 0 < lost < BATCHES * SPANS, full.stderr  # the limit was reached part way
    data = (out / "traces.jsonl").read_bytes()
    torn = data.rsplit(b"\n", 1)[-1]
    assert not torn, f"a torn tail of {len(torn):,} bytes"

    run_app(APP, str(out), "0", "1", "next")  # room again: the next process appends after whole lines
    kept = [json.loads(line) for line in (out / "traces.jsonl").read_bytes().splitlines()]  # each one whole
    names = [s["name"] for m in kept for rs in m["resourceSpans"] for ss in rs["scopeSpans"] for s in ss["spans"]]
    assert len(names) == len(set(names))
    assert len([n for n in names if n.startswith("first ")]) + lost == BATCHES * SPANS
    assert len([n for n in names if n.startswith("next ")]) == SPANS
