"""Against a real ClickHouse server: ``OTEL_LLM_CLICKHOUSE_URL=clickhouse://user:pass@host:8123/any pytest tests/clickhouse/test_live_server.py``.

No server can be installed on this machine, so this test runs only when
``OTEL_LLM_CLICKHOUSE_URL`` names one, and otherwise is skipped with that reason
(shown by ``pytest -rs``). It loads generated data into a fresh database of that
server (``otel_llm_live_<random>``, dropped afterwards; the URL's own database is
not touched), then runs the analyses there and on DuckDB over the same files and
compares them as the chdb tests do.
"""

from __future__ import annotations

import dataclasses
import os
import uuid
from pathlib import Path

import pytest

from otel_llm_analysis import logs, summaries, traces, trends
from otel_llm_analysis._filters import Filters
from otel_llm_analysis.clickhouse import ClickHouseURL, load
from otel_llm_analysis.clickhouse._client import connect
from otel_llm_analysis.clickhouse.store import ClickHouseStore
from otel_llm_analysis.store import TraceStore
from tests.support.synthetic import generate

from .test_differential import same

URL = os.environ.get("OTEL_LLM_CLICKHOUSE_URL", "")

pytestmark = pytest.mark.skipif(
    not URL, reason="no ClickHouse server: set OTEL_LLM_CLICKHOUSE_URL=clickhouse://user:pass@host:8123/db to run "
                    "the live-server test")


def test_load_and_the_analyses_on_a_real_server(tmp_path: Path) -> None:
    base = ClickHouseURL.parse(URL)
    target = dataclasses.replace(base, database=f"otel_llm_live_{uuid.uuid4().hex[:10]}")
    generate(tmp_path / "files", traces=120, peer_spans=True, seed=11)
    duck = TraceStore(":memory:")
    expected = duck.ingest([tmp_path / "files"])
    admin = connect(target, select=False)
    try:
        report = load([tmp_path / "files"], target)
        assert report.bad_lines == [] and report.spans_added == expected.spans_added
        assert load([tmp_path / "files"], target).spans_added == 0
        with ClickHouseStore(target) as ch:
            for analysis in (lambda s: summaries.summary(s, "model"),
                             lambda s: summaries.summary(s, "day", Filters.of("2026-10-01", "2026-11-01")),
                             lambda s: trends.series(s, "week"),
                             lambda s: traces.top_traces(s, 10, "cost"),
                             lambda s: logs.log_patterns(s, "ERROR", None, None, None, 50)):
                same(analysis(duck), analysis(ch))
    finally:
        admin.command(f"DROP DATABASE IF EXISTS `{target.database}`")
        admin.close()
        duck.close()
