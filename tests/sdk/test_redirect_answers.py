"""An endpoint that answers an export with a redirect (301, 302, 307, 308) has not taken the data.

OTLP/HTTP requests are POSTs that exporters never follow to another URL (the
OTLP exporters send with redirects off). Upstream's HTTP client counted any
status below 400 as delivered, so a collector moved behind a redirect (an
``http://`` endpoint answered by a proxy that sends clients to ``https://``)
lost every span, log record and metric point in silence. And the spool's
replay followed a 301/302 as a GET without the body, which a proxy page may
answer with 200: the spooled data was deleted as delivered.

Now a redirect is a refusal naming where the endpoint points: the batch is set
aside in the dead-letter file (said on stderr with its count and path), and
replay neither follows it nor deletes the line.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from otel_llm.exporters._replay_http import Outcome, post
from otel_llm.exporters.spool import dead_letter_path

from ._http_answers import Answering, serving
from ._spooled import run_app

ELSEWHERE = "https://collector.example.invalid/v1/traces"


class _Moved(Answering):
    """Answers every POST with the status the test sets and a Location elsewhere; 200 to any GET."""

    status = 301

    def answer(self) -> tuple[int, dict[str, str], bytes]:
        return type(self).status, {"Location": ELSEWHERE}, b""

    def do_GET(self) -> None:  # noqa: N802 — a proxy page: what a followed 301/302 would reach
        type(self).posts.append("GET " + self.path)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")


@pytest.fixture
def moved(request: pytest.FixtureRequest) -> Iterator[str]:
    _Moved.status = request.param
    with serving(_Moved) as url:
        yield url


APP = textwrap.dedent("""
    import logging, sys, otel_llm
    from opentelemetry import metrics, trace
    otel_llm.configure(exporter="otlp", endpoint=sys.argv[1], spool_dir=sys.argv[2], service_name="moved",
                       logs=True, shutdown_timeout_s=3)
    things = metrics.get_meter("app").create_counter("app.things")
    for i in range(4):
        with trace.get_tracer("app").start_as_current_span(f"span {i}"):
            logging.getLogger("app").warning("record %d", i)
            things.add(1)
    otel_llm.shutdown()
""")



@pytest.mark.parametrize("moved", [301, 302, 307, 308], indirect=True)
def test_a_redirect_answer_sets_the_data_aside_and_says_where_the_endpoint_points(tmp_path: Path, moved: str) -> None:
    spool = tmp_path / "spool"
    done = run_app(APP, moved, str(spool))
    assert "/v1/traces" in _Moved.posts, _Moved.posts
    for signal in ("traces", "logs", "metrics"):
        dead = dead_letter_path(spool, signal)
        assert dead.exists(), (signal, done.stderr)
        assert str(dead) in done.stderr, done.stderr
    spans = [s for line in dead_letter_path(spool, "traces").read_text().splitlines()
             for rs in json.loads(line)["resourceSpans"] for ss in rs["scopeSpans"] for s in ss["spans"]]
    assert sorted(s["name"] for s in spans) == [f"span {i}" for i in range(4)]
    assert "4 spans" in done.stderr and f"HTTP {_Moved.status}" in done.stderr and ELSEWHERE in done.stderr, \
        done.stderr


@pytest.mark.parametrize("moved", [301, 302, 303, 307, 308], indirect=True)
def test_replay_does_not_follow_a_redirect(moved: str) -> None:
    reply = post(f"{moved}/v1/traces", {"Content-Type": "application/json"}, b'{"resourceSpans":[]}')
    assert reply.outcome is Outcome.REFUSED, reply
    assert f"HTTP {_Moved.status}" in reply.why and ELSEWHERE in reply.why, reply.why
    assert not [p for p in _Moved.posts if p.startswith("GET")], _Moved.posts
