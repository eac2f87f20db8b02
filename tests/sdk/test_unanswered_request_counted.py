"""A request the endpoint took but answered after the exporter's timeout: the copy sent again is counted.

The client cannot know whether a request it gave up waiting for was taken, so
the spool keeps it and replays it (at-least-once): an endpoint that took it
gets its items twice. The stderr line said so without a number ("if it took
the metric points after all, they are delivered twice"), so nobody could tell
how many of the items counted twice downstream were such copies. Now it names
the items of the request that got no answer -- only those: the requests taken
before it are not sent again, and the ones after it were never sent.

A retry after a busy answer (503) no longer causes this: it is sent only with
half the exporter's timeout left (test_retry_needs_time_to_be_answered.py).

Real processes and a local HTTP endpoint that takes every export and answers
the second export request of one signal only after the exporter's timeout (1 s).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from ._http_answers import Delaying, serving
from ._spooled import otel_llm_lines, run_app, said_twice
from .test_partly_delivered_batch import APP

LATE_S = 1.6  # past the exporter's timeout (OTEL_EXPORTER_OTLP_TIMEOUT=1 in the apps' environment)
PREFIX = {"/v1/traces": "span ", "/v1/logs": "record ", "/v1/metrics": "app.things "}
UNITS = {"/v1/traces": "spans", "/v1/logs": "log records", "/v1/metrics": "metric points"}


class _LateSecond(Delaying):
    """Takes every export; answers the second export request of ``late_path`` after :data:`LATE_S`."""

    late_path = ""
    late_items = 0  # items carried by that request

    def answer_for(self, carried: list[str], is_json: bool) -> tuple[int, float]:
        if self.path == self.late_path and self.posts.count(self.path) == 2:
            type(self).late_items = len(carried)
            return 200, LATE_S
        return 200, 0.0


@pytest.mark.parametrize("path", ["/v1/traces", "/v1/logs", "/v1/metrics"])
def test_the_items_of_a_request_answered_too_late_are_counted_as_sent_twice(tmp_path: Path, path: str) -> None:
    _LateSecond.names, _LateSecond.late_path, _LateSecond.late_items = [], path, 0
    with serving(_LateSecond) as url:
        done = run_app(APP, url, str(tmp_path / "spool"), "60", "2500")
    notices = otel_llm_lines(done.stderr)
    taken = Counter(name for name in _LateSecond.names if name.startswith(PREFIX[path]))
    twice = sum(n - 1 for n in taken.values() if n > 1)
    assert _LateSecond.late_items and len(taken) == {"/v1/metrics": 2500}.get(path, 60), notices
    assert twice == _LateSecond.late_items, (twice, _LateSecond.late_items, notices)  # that request alone
    # Every copy said, and only those: on a loaded machine another signal's request, answered at once, may
    # still reach the exporter after its 1 s (the endpoint decodes 1,000 points first); its copy is said too.
    copies = {UNITS[p]: sum(n - 1 for n in Counter(name for name in _LateSecond.names if name.startswith(prefix))
                            .values() if n > 1) for p, prefix in PREFIX.items()}
    assert said_twice(notices) == {units: n for units, n in copies.items() if n}, (copies, notices)
    assert f"{twice:,} {UNITS[path]} of that request after all, they are delivered twice" in notices, notices


class _LateReplay(Delaying):
    """Answers every direct span export (protobuf) 503, so the spans are spooled; takes every replayed
    request (OTLP-JSON) and answers the first one that carries spans only after :data:`LATE_S`."""

    def answer_for(self, carried: list[str], is_json: bool) -> tuple[int, float]:
        if self.path == "/v1/traces" and not is_json:
            return 503, 0.0
        first = self.path == "/v1/traces" and bool(carried) and not any(n.startswith("span ") for n in self.names)
        return 200, LATE_S if first else 0.0


def test_a_replayed_request_answered_too_late_is_counted_as_sent_twice(tmp_path: Path) -> None:
    """The replayer gave up waiting for its request, kept the lines and sent them again: the endpoint got the
    spans twice and nothing said so."""
    _LateReplay.names = []
    with serving(_LateReplay) as url:
        done = run_app(APP, url, str(tmp_path / "spool"), "3", "0")
    notices = otel_llm_lines(done.stderr)
    taken = Counter(name for name in _LateReplay.names if name.startswith("span "))
    assert taken == {"span 0": 2, "span 1": 2, "span 2": 2}, (taken, notices)
    assert said_twice(notices) == {"spans": 3}, notices
