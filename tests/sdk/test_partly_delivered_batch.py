"""A batch sent in several requests, some taken before one failed: only the rest is spooled.

Every signal's batch may go out as several requests (spans and log records
split by size under the 1 MiB request bound, metric points 1,000 a request).
When one of them failed after the ones before it were taken, the exporter
reported the whole batch failed and the spool kept and replayed all of it:
the endpoint got the delivered part twice -- duplicate spans, duplicate log
records, and metric points counted twice. Now only the requests not taken
are spooled and replayed: each item arrives once.

Real processes and a local HTTP endpoint that answers the second export
request of each signal with 503 and takes everything else.

The request answered 503 is not sent again by the exporter: upstream's would
retry it with what is left of its timeout after a 0.8-1.2 s backoff (1 s here:
a few milliseconds at most), which the endpoint took and answered too late, so
the spool replayed it and the endpoint got it twice (3 runs in 30 with the app
on a busy core). Without half its timeout left a retry is not sent: the spool
keeps the request and sends it once, as OTLP-JSON.

One copy is still legitimate, and counted: a request that got no answer within
the 1 s timeout (a machine so loaded the answer comes late) may have been taken
and is replayed (at-least-once); the stderr line names its items, which may
arrive twice. The test allows exactly those and no other copy.
"""

from __future__ import annotations

import textwrap
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from ._http_answers import Recording, recording
from ._spooled import otel_llm_lines, run_app, said_twice

ITEMS = 60
POINTS = 2500
UNITS = {"span": "spans", "record": "log records", "app.things": "metric points"}  # by the names' first word

APP = textwrap.dedent("""
    import logging, sys, otel_llm
    from opentelemetry import metrics, trace
    endpoint, spool, items, points = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    otel_llm.configure(exporter="otlp", endpoint=endpoint, spool_dir=spool, service_name="parts", logs=True,
                       process_metrics=False, shutdown_timeout_s=8)
    tracer = trace.get_tracer("app")
    for i in range(items):  # 60 x 30 KB: two requests of spans, two of log records
        with tracer.start_as_current_span(f"span {i}") as span:
            span.set_attribute("app.payload", "x" * 30_000)
            logging.getLogger("app").warning("record %d %s", i, "y" * 30_000)
    things = metrics.get_meter("app").create_counter("app.things")
    for i in range(points):  # 2,500 points: three requests
        things.add(1, {"app.thing": i})
    otel_llm.shutdown()
""")


@pytest.fixture
def second_busy() -> Iterator[str]:
    with recording(busy_at=2) as url:
        yield url


def test_only_the_requests_not_taken_are_spooled_and_replayed(tmp_path: Path, second_busy: str) -> None:
    done = run_app(APP, second_busy, str(tmp_path / "spool"), str(ITEMS), str(POINTS))
    notices = otel_llm_lines(done.stderr)
    taken = Counter(Recording.names)
    twice: Counter[str] = Counter()
    for name, n in taken.items():
        if n > 1:
            twice[UNITS[name.split(" ")[0]]] += n - 1
    assert twice == said_twice(notices), (twice, notices)  # only copies of a request that got no answer in time
    spans = [n for n in taken if n.startswith("span ")]
    records = [n for n in taken if n.startswith("record ")]
    points = [n for n in taken if n.startswith("app.things ")]
    assert (len(spans), len(records), len(points)) == (ITEMS, ITEMS, POINTS), notices
    assert Recording.posts.count("/v1/metrics") > 3, Recording.posts  # the points went in several requests
    for path in ("/v1/traces", "/v1/logs", "/v1/metrics"):  # the request answered 503: only the spool sends it
        sent = [encoding for at, encoding in Recording.encodings if at == path]
        assert sent[1:3] == ["protobuf", "json"], (path, Recording.encodings)  # no direct retry, a replay
