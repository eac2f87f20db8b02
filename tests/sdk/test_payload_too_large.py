"""An endpoint that answers 413 Payload Too Large gets the batch in smaller requests, not the dead letter.

A proxy in front of the collector often takes less than otel-llm's request
bound of 1 MiB (nginx's ``client_max_body_size``, an API gateway's limit).
Its 413 was taken as a refusal for good: every batch above its limit went to
the dead-letter file, which nothing ever sends again -- spans kept, but never
delivered, batch after batch. Now a 413 halves the request (the smaller bound
is kept for later batches), down to single items whose longest strings are
cut with the truncation marker; spans and log records sent directly, and
spooled lines on replay.

Real processes and a local HTTP endpoint that answers 413 to any body over
64 KiB and records what it takes.
"""

from __future__ import annotations

import textwrap
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from otel_llm.exporters.spool import dead_letter_path
from tests.support.ports import closed_port

from ._http_answers import Recording, recording
from ._spooled import run_app

LIMIT = 64 * 1024
ITEMS = 40

APP = textwrap.dedent("""
    import logging, sys, otel_llm
    from opentelemetry import trace
    endpoint, spool, items = sys.argv[1], sys.argv[2], int(sys.argv[3])
    otel_llm.configure(exporter="otlp", endpoint=endpoint, spool_dir=spool, service_name="large", logs=True,
                       shutdown_timeout_s=5)
    logging.getLogger("app").setLevel(logging.INFO)
    tracer = trace.get_tracer("app")
    for i in range(items):
        with tracer.start_as_current_span(f"span {i}") as span:
            span.set_attribute("app.payload", "x" * 5000)
            logging.getLogger("app").info("record %d %s", i, "y" * 5000)
    if items:  # none: a process that only replays
        with tracer.start_as_current_span("huge") as span:
            span.set_attribute("app.payload", "z" * 200_000)
    otel_llm.flush(5)
    otel_llm.shutdown()
""")


@pytest.fixture
def limited() -> Iterator[str]:
    with recording(limit=LIMIT) as url:
        yield url


def _assert_all_delivered_once(spool: Path, stderr: str) -> None:
    taken = Counter(Recording.names)
    spans = {f"span {i}" for i in range(ITEMS)} | {"huge"}
    assert spans <= set(taken), (sorted(spans - set(taken)), stderr)
    records = [name for name in taken if name.startswith("record ")]
    assert len(records) == ITEMS, (len(records), stderr)
    assert {name: n for name, n in taken.items() if n > 1} == {}, stderr
    for signal in ("traces", "logs"):
        assert not dead_letter_path(spool, signal).exists(), stderr
    assert "refused" not in stderr and "lost" not in stderr, stderr


def test_direct_exports_split_on_413(tmp_path: Path, limited: str) -> None:
    spool = tmp_path / "spool"
    done = run_app(APP, limited, str(spool), str(ITEMS))
    assert Recording.posts.count("/v1/traces") > 1
    _assert_all_delivered_once(spool, done.stderr)


def test_replay_splits_a_spooled_line_on_413(tmp_path: Path, limited: str) -> None:
    spool = tmp_path / "spool"
    run_app(APP, f"http://127.0.0.1:{closed_port()}", str(spool), str(ITEMS))  # all spooled, lines up to 1 MiB
    replay = run_app(APP, limited, str(spool), "0")
    _assert_all_delivered_once(spool, replay.stderr)
