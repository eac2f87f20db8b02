"""A batch sent in several requests, one hanging at the shutdown deadline: only the part not taken is spooled.

At the deadline the spool keeps the batches still being sent (the endpoint may
never answer). It kept the whole batch, with the requests the endpoint had
already taken: the next process replayed those too, and the collector got
them twice for sure -- said as "2,500 metric points still being sent ... if
the endpoint takes them after all, they are delivered twice", when 1,000 had
been taken. Now only the hanging request and the ones after it are kept.

Real processes: the first exports 2,500 metric points (three requests) to an
endpoint that takes the first request and answers the second only after the
shutdown budget (3 s); the next process, starting with the same spool, replays it.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

from ._http_answers import Delaying, serving
from ._spooled import otel_llm_lines, run_app
from .test_partly_delivered_batch import APP

HANG_S = 5.0  # past the shutdown budget, within the exporter's timeout


class _HangsOnSecond(Delaying):
    """Takes every export; answers the second metric request only after :data:`HANG_S`."""

    def answer_for(self, carried: list[str], is_json: bool) -> tuple[int, float]:
        second = self.path == "/v1/metrics" and bool(carried) and self.posts.count(self.path) == 2
        return 200, HANG_S if second else 0.0


def test_requests_taken_before_the_deadline_are_not_spooled_with_the_hanging_one(tmp_path: Path) -> None:
    _HangsOnSecond.names = []
    app = APP.replace("shutdown_timeout_s=8", "shutdown_timeout_s=3")
    with serving(_HangsOnSecond) as url:
        first = run_app(app, url, str(tmp_path / "spool"), "0", "2500", OTEL_EXPORTER_OTLP_TIMEOUT="10")
        said = otel_llm_lines(first.stderr)
        assert "1,500 metric points still being sent" in said, said  # the hanging request and the one after it
        time.sleep(HANG_S)  # the hanging request is answered (taken) before the next process replays
        run_app(app, url, str(tmp_path / "spool"), "0", "0", OTEL_EXPORTER_OTLP_TIMEOUT="10")
    taken = Counter(name for name in _HangsOnSecond.names if name.startswith("app.things "))
    assert len(taken) == 2500, len(taken)
    assert sum(n - 1 for n in taken.values() if n > 1) == 1000, said  # the hanging request's points alone
