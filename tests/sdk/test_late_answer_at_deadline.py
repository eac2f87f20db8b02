"""A batch spooled at the shutdown deadline while its send hung, which the endpoint then took after all.

At the deadline the spool keeps the batches still being sent (the endpoint may
never answer). A slow endpoint that answers a moment later has taken them too:
the spooled copy is replayed and the collector gets every span twice. The only
line said was "the spooled spans were delivered". Now the spool says, at the
deadline, that these may arrive twice, and, when the late answer comes while
the process still runs, that they did.
"""

from __future__ import annotations

import time
from pathlib import Path

from ._http_answers import Recording, _carried, serving
from ._spooled import run_app
from .test_closed_without_answer import APP as CLOSING_APP

# Three spans, shutdown (budget 3 s), then the app goes on with its own cleanup: the late answer comes meanwhile.
APP = CLOSING_APP.replace("otel_llm.shutdown()", "otel_llm.shutdown()\nimport time\ntime.sleep(2)")
LATE_S = 2.8  # past the shutdown's interrupt (its budget less half a second), within its budget


class _LateFirst(Recording):
    """Takes every export; answers the first span export only after :data:`LATE_S`."""

    def do_POST(self) -> None:  # noqa: N802 — http.server's name
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        type(self).posts.append(self.path)
        if self.path == "/v1/traces" and type(self).posts.count("/v1/traces") == 1:
            time.sleep(LATE_S)
        type(self).names += _carried(self.path, body, "json" in (self.headers.get("content-type") or ""))
        self._send(200, b"{}")


def test_a_batch_spooled_at_the_deadline_and_then_taken_is_said_to_arrive_twice(tmp_path: Path) -> None:
    _LateFirst.names = []
    with serving(_LateFirst) as url:
        done = run_app(APP, url, str(tmp_path / "spool"), OTEL_EXPORTER_OTLP_TIMEOUT="10")  # waits past the deadline
    said = [line for line in done.stderr.splitlines() if "twice" in line]
    assert sorted(set(_LateFirst.names)) == ["span 0", "span 1", "span 2"], _LateFirst.names
    if len(_LateFirst.names) > 3:  # the replay came before the late answer: the collector got them twice
        assert any("3 spans" in line and "after they were spooled" in line for line in said), done.stderr
    assert any("3 spans still being sent" in line and "spool" in line for line in said), done.stderr


def test_a_batch_whose_answer_came_after_the_exporters_timeout_is_said_to_arrive_twice(tmp_path: Path) -> None:
    """The exporter gave up waiting (1 s) on an endpoint that took the batch and answered later: spooled,
    replayed, delivered twice, with "did not answer within the exporter's timeout ... sent again later"."""
    _LateFirst.names = []
    with serving(_LateFirst) as url:
        done = run_app(APP, url, str(tmp_path / "spool"), OTEL_EXPORTER_OTLP_TIMEOUT="1")
    assert sorted(_LateFirst.names) == ["span 0", "span 0", "span 1", "span 1", "span 2", "span 2"], _LateFirst.names
    said = [line for line in done.stderr.splitlines() if "did not answer within" in line]
    assert said and "twice" in said[0], done.stderr
