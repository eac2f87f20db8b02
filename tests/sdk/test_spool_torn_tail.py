"""A spool segment whose last record was cut short (the process writing it died mid-write).

Replay delivers the whole records before it; the torn rest was dropped with the
segment, without a word. It is now kept in the dead-letter file, and said.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from otel_llm.exporters._spool_segments import segment_files
from otel_llm.exporters.spool import dead_letter_path

from ._http_answers import Answering, serving

APP = textwrap.dedent("""
    import sys
    import otel_llm
    from opentelemetry import trace
    endpoint, spool, spans = sys.argv[1], sys.argv[2], int(sys.argv[3])
    otel_llm.configure(exporter="otlp", endpoint=endpoint, spool_dir=spool, service_name="torn", shutdown_timeout_s=2)
    for i in range(spans):
        with trace.get_tracer("app").start_as_current_span(f"span {i}"):
            pass
    otel_llm.flush()
    otel_llm.shutdown()
""")

TORN = b'{"resourceSpans":[{"resource":{"attributes":[{"key":"service.na'


class _Takes(Answering):
    def answer(self) -> tuple[int, dict[str, str], bytes]:
        return 200, {}, b""


def _run(endpoint: str, spool: Path, spans: int) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "PYTEST_"))}
    env["OTEL_EXPORTER_OTLP_TIMEOUT"] = "1"
    return subprocess.run([sys.executable, "-c", APP, endpoint, str(spool), str(spans)], env=env, cwd=spool.parent,
                          capture_output=True, text=True, timeout=60)


def test_a_torn_last_record_is_kept_in_the_dead_letter_file_and_said(tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    first = _run("http://127.0.0.1:9", spool, 5)  # nobody listens: the spans are spooled
    assert "5 spans spooled" in first.stderr, first.stderr
    (segment,) = segment_files(spool / "traces")
    with segment.open("ab") as f:
        f.write(TORN)
    with serving(_Takes) as url:
        second = _run(url, spool, 0)
        posts = list(_Takes.posts)
    assert "/v1/traces" in posts, (posts, second.stderr)  # the whole record before it was delivered
    assert not segment_files(spool / "traces")
    assert dead_letter_path(spool, "traces").read_bytes() == TORN + b"\n"
    assert "set aside" in second.stderr and str(dead_letter_path(spool, "traces")) in second.stderr, second.stderr
