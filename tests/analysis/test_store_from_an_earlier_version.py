"""A store made by an earlier otel-llm, opened by this one: nothing stored twice, the same answers.

``data/store-2026-11-25/`` holds three OTLP-JSON files (spans, metric points, logs of
``tests/support/synthetic``) and the store the first released version (9822cd8,
2026-11-25) made of them, compressed. A user who upgrades keeps the store and goes
on ingesting; files come back with new inodes (copied, moved across disks,
rsync'ed), so they are read from the start and de-duplication is all that keeps
what is stored from being stored again. It must recognise rows that an earlier
version stored, or every log and metric point of those files counts twice.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import zstandard

from otel_llm_analysis import TraceStore, logs, summaries

DATA = Path(__file__).parent / "data" / "store-2026-11-25"
FILES = ("traces.jsonl", "metrics.jsonl", "logs.jsonl")


@pytest.fixture
def earlier_store(tmp_path: Path) -> Path:
    store = tmp_path / "otel-llm.duckdb"
    store.write_bytes(zstandard.ZstdDecompressor().decompress((DATA / "otel-llm.duckdb.zst").read_bytes()))
    return store


def _copies(into: Path) -> list[str]:
    into.mkdir()
    return [str(shutil.copy(DATA / name, into / name)) for name in FILES]


def _fresh(tmp_path: Path) -> TraceStore:
    store = TraceStore(":memory:")
    store.ingest([str(DATA / name) for name in FILES])
    return store


def test_files_read_again_after_an_upgrade_add_nothing(earlier_store: Path, tmp_path: Path) -> None:
    with TraceStore(str(earlier_store)) as store:
        before = {t: store.query(f"SELECT count(*) FROM {t}")[0][0] for t in ("span_rows", "metric_points", "logs")}
        report = store.ingest(_copies(tmp_path / "copy"))
        after = {t: store.query(f"SELECT count(*) FROM {t}")[0][0] for t in before}
    assert (report.spans_added, report.metric_points_added, report.logs_added) == (0, 0, 0), report
    assert report.duplicates_skipped == sum(before.values())
    assert after == before


def test_the_analyses_read_it_as_a_store_made_now(earlier_store: Path, tmp_path: Path) -> None:
    fresh = _fresh(tmp_path)
    with TraceStore(str(earlier_store)) as store:
        store.ingest(_copies(tmp_path / "copy"))
        for analysis in (lambda s: summaries.summary(s, "model"), summaries.totals,
                         lambda s: s.query("SELECT metric_name, time, value, count, sum, bucket_counts, attributes "
                                           "FROM metric_points ORDER BY ALL"),
                         lambda s: sorted(map(str, logs.search(s)))):
            assert analysis(store) == analysis(fresh)
