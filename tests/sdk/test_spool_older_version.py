"""A spool left by an older otel-llm is delivered, each span once.

Versions before sealed segments were named ``.pending`` sealed them as
``<time_ns>-<pid>.jsonl``. Replay takes ``.pending`` (and orphaned
``.active``) segments only, so after an upgrade what the older version had
spooled waited on disk forever: never delivered, never counted, never said.

Real processes: one spools while nothing listens, its sealed segments are
renamed as the older version named them (their progress notes too, one line
already delivered); the next one starts with a local HTTP endpoint that
records every span it is sent.
"""

from __future__ import annotations

import json
import textwrap
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from otel_llm.exporters._spool_segments import segment_files

from ._http_answers import Recording, recording
from ._spooled import run_app, spool_while_down

SPANS = 30

APP = textwrap.dedent("""
    import sys, time, otel_llm
    endpoint, spool = sys.argv[1:3]
    otel_llm.configure(exporter="otlp", endpoint=endpoint, spool_dir=spool, service_name="upgraded", logs=False,
                       shutdown_timeout_s=3)
    otel_llm.flush(5)
    time.sleep(1)
    otel_llm.shutdown()
""")


@pytest.fixture
def endpoint() -> Iterator[str]:
    with recording() as url:
        yield url


def _as_older_version_left_it(spool: Path) -> int:
    """Rename the sealed trace segments ``.jsonl``, the first one's first line marked delivered; the number of
    spans that line holds (the older version's replay had sent them)."""
    segments = sorted((spool / "traces").glob("*.pending"))
    assert segments
    first_line = segments[0].read_bytes().split(b"\n")[0]
    legacy = segments[0].with_suffix(".jsonl")
    legacy.with_name(legacy.name + ".offset").write_text(str(len(first_line) + 1))
    for segment in segments:
        segment.rename(segment.with_suffix(".jsonl"))
    request = json.loads(first_line)
    return sum(len(ss["spans"]) for rs in request["resourceSpans"] for ss in rs["scopeSpans"])


def test_segments_an_older_version_sealed_are_replayed_once(tmp_path: Path, endpoint: str) -> None:
    spool = tmp_path / "spool"
    spool_while_down(spool, SPANS)
    delivered_before = _as_older_version_left_it(spool)

    done = run_app(APP, endpoint, str(spool))
    sent = Counter(Recording.names)
    expected = {f"span {i}" for i in range(delivered_before, SPANS)}
    assert set(sent) == expected, (sorted(sent), done.stderr)
    assert {name: n for name, n in sent.items() if n > 1} == {}, done.stderr
    assert not [p for p in (spool / "traces").iterdir() if not p.name.startswith(".")], list((spool / "traces").iterdir())
    assert not segment_files(spool)
