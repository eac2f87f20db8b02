"""A merged replay request that failed (no answer) is sent again after the backoff, not line by line at once.

Replay merges small spooled lines into one request. When that request got no
answer (a timeout, a dropped connection) the collector may well have taken
it; the replayer then sent every line again on its own right away -- the
whole request a second time before any backoff, and again on the next pass.
Now only a refusal sends the lines one by one (one bad line must not hold
back the others); a failure waits for the backoff as a single line's does.
"""

from __future__ import annotations

from pathlib import Path

from otel_llm.exporters._spool_segments import segment_files

from ._http_answers import Answering, _carried, serving
from ._spooled import SPOOL_APP, run_app, spool_while_down


class _FirstUnanswered(Answering):
    """Takes every export; the first that carries spans is left without an answer (the connection
    closed), the rest get 200."""

    requests: list[list[str]] = []  # the span names of each request that carried spans

    def do_POST(self) -> None:  # noqa: N802 — http.server's name
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        carried = _carried(self.path, body, "json" in (self.headers.get("content-type") or ""))
        if carried:  # not the replayer's empty probe
            type(self).requests.append(carried)
        if carried and len(type(self).requests) == 1:
            self.close_connection = True
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")


def test_a_failed_merged_request_goes_again_whole_not_line_by_line(tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    spool_while_down(spool, 30)  # flushed every 10 spans: several small lines, merged on replay
    _FirstUnanswered.requests = []
    with serving(_FirstUnanswered) as url:
        done = run_app(SPOOL_APP, url, str(spool), "0")
    spans = [f"span {i}" for i in range(30)]
    # the unanswered request once more, whole (here at shutdown, which cuts the backoff short), no line alone
    assert [sorted(names) for names in _FirstUnanswered.requests] == [sorted(spans)] * 2, done.stderr
    assert not segment_files(spool / "traces"), done.stderr
