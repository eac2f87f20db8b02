"""An endpoint that takes each request and closes the connection without answering is not "unreachable".

A load balancer or proxy in front of a collector that is down (or a
collector that crashes on the request) accepts the connection, reads the
request and closes it. The spool kept the spans but said "collector
unreachable", sending the operator to look at a network that works. Now the
notice says the endpoint closed the connection without an answer, for direct
exports and for replay.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from otel_llm.exporters._replay_http import Outcome, post
from otel_llm.exporters._spool_segments import segment_files

from ._http_answers import Answering, serving
from ._spooled import run_app

APP = textwrap.dedent("""
    import sys, otel_llm
    from opentelemetry import trace
    otel_llm.configure(exporter="otlp", endpoint=sys.argv[1], spool_dir=sys.argv[2], service_name="closing",
                       logs=False, shutdown_timeout_s=3)
    for i in range(3):
        with trace.get_tracer("app").start_as_current_span(f"span {i}"):
            pass
    otel_llm.shutdown()
""")


class _Closing(Answering):
    """Reads each request and closes the connection without a word."""

    def do_POST(self) -> None:  # noqa: N802 — http.server's name
        self.rfile.read(int(self.headers.get("content-length", 0)))
        type(self).posts.append(self.path)
        self.close_connection = True


def test_a_connection_closed_without_an_answer_is_named_and_the_spans_wait(tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    with serving(_Closing) as url:
        done = run_app(APP, url, str(spool))
        reply = post(f"{url}/v1/traces", {"Content-Type": "application/json"}, b"{}")
    assert _Closing.posts, "the endpoint was asked"
    assert "unreachable" not in done.stderr, done.stderr
    assert "closed the connection without an answer" in done.stderr, done.stderr
    assert "3 spans spooled" in done.stderr and segment_files(spool / "traces"), done.stderr
    assert reply.outcome is Outcome.FAILED and reply.answer is not None, reply
    assert "closed the connection without an answer" in str(reply.answer), reply
