"""The dead-letter files stay within the spool's bound.

An endpoint that refuses everything for good -- a wrong API key (401), a
gateway that rejects the service (403) -- sends every batch of a long-running
app to ``<signal>.dead-letter``: without a bound it grew until the disk was
full, taking the app's own files with it. Beyond the bound a refused batch is
counted as lost, with the file, the endpoint and the status.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace.export import SpanExportResult

from otel_llm import _notices
from otel_llm.exporters.otlp import HttpSpanExporter
from otel_llm.exporters.spool import spooled

from .test_spool import FakeCollector, batches, fake_collector  # noqa: F401 — the fixture


def test_refused_batches_beyond_the_bound_are_counted_lost_not_written(
    tmp_path: Path, fake_collector: FakeCollector, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    _notices._reset_for_tests()
    monkeypatch.setenv("OTEL_LLM_SPOOL_REPLAY_ENDPOINT", fake_collector.url)

    class Refused(HttpSpanExporter):  # every request carries the word the fake collector refuses (400)
        def send(self, request: bytes, items: int) -> Any:
            return super().send(request + b"poison", items)

    bound = 64 * 1024
    exporter = spooled(Refused(endpoint=f"{fake_collector.url}/v1/traces"), "traces", tmp_path / "spool", bound)
    sent = batches(200, size=5)  # ~1,000 spans, far more than 64 KiB as OTLP-JSON
    results = [exporter.export(batch) for batch in sent]
    exporter.shutdown()
    dead = tmp_path / "spool" / "traces.dead-letter"
    assert 0 < dead.stat().st_size <= bound
    kept = sum(1 for _ in dead.read_bytes().splitlines())
    totals = _notices.totals()
    assert totals[("traces", "refused")] + totals[("traces", "dead_letter_full")] == 1000, totals
    assert totals[("traces", "dead_letter_full")] > 0 and kept > 0
    assert results.count(SpanExportResult.FAILURE) == len(sent) - kept  # each batch one line
    err = capsys.readouterr().err
    assert f"lost: refused by the endpoint and the dead-letter file was full at {dead}" in err, err
    assert "HTTP 400 Bad Request" in err
    _notices._reset_for_tests()
