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

import dataclasses
import shutil
from pathlib import Path

import duckdb
import pytest
import zstandard

from otel_llm_analysis import TraceStore, _row_keys, logs, summaries
from otel_llm_analysis._rows import LOGS, POINTS
from tests.support import synthetic

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


def _fresh() -> TraceStore:
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
    fresh = _fresh()
    with TraceStore(str(earlier_store)) as store:
        store.ingest(_copies(tmp_path / "copy"))
        for analysis in (lambda s: summaries.summary(s, "model"), summaries.totals,
                         lambda s: s.query("SELECT metric_name, time, value, count, sum, bucket_counts, attributes "
                                           "FROM metric_points ORDER BY ALL"),
                         # the earlier version kept no scope (logger) of a log record: the row read again is not
                         # stored, so its row stays as it was
                         lambda s: sorted(str(dataclasses.replace(row, logger=None))
                                          for row in logs.search_logs(s, limit=1000))):
            assert analysis(store) == analysis(fresh)


def test_new_records_still_count_in_an_upgraded_store(earlier_store: Path, tmp_path: Path) -> None:
    later = tmp_path / "later"
    data = synthetic.generate(later, seed=4, traces=2, days=1)
    with TraceStore(":memory:") as alone:
        expected = alone.ingest([str(f) for f in data.files])
    with TraceStore(str(earlier_store)) as store:
        report = store.ingest([str(f) for f in data.files])
    assert (report.spans_added, report.metric_points_added, report.logs_added) == (
        expected.spans_added, expected.metric_points_added, expected.logs_added)
    assert expected.metric_points_added and expected.logs_added


def test_rows_another_duckdb_keyed_are_still_known(tmp_path: Path) -> None:
    """Keys hash staged values, which are not stored: keys another DuckDB's ``hash()`` made cannot be made
    again, so its rows are matched by the columns every version stored."""
    db = str(tmp_path / "store.duckdb")
    with TraceStore(db) as store:
        store.ingest([str(DATA / name) for name in FILES])
    con = duckdb.connect(db)
    for table in ("metric_points", "logs"):  # what another hash() gives: other numbers, same rows
        con.execute(f"UPDATE {table} SET row_key = row_key // 2 + 1")
    con.execute("UPDATE ingest_state SET value = '1:12345' WHERE name = 'row_keys'")
    con.close()
    with TraceStore(db) as store:
        report = store.ingest(_copies(tmp_path / "copy"))
    assert (report.metric_points_added, report.logs_added) == (0, 0)


def test_every_staged_field_is_in_the_key_or_said_not_to_be() -> None:
    """A field staged later is not part of a record's identity until added to the fixed lists, which makes
    every stored row a legacy one (``_GENERATION``): adding one is a decision, made here."""
    staged = {POINTS.name: set(POINTS.staged_names), LOGS.name: set(LOGS.staged_names)}
    not_hashed = {"ctx", "attrs"}  # the record's context and attribute text: CONTEXT_FIELDS hash them
    assert staged[POINTS.name] - not_hashed == set(_row_keys.POINT_FIELDS)
    assert staged[LOGS.name] - not_hashed == set(_row_keys.LOG_FIELDS)
