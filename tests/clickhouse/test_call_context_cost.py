"""ClickHouse's ``llm_call_contexts`` costs what the data asks of it.

A peer's LLM call inside otel-llm spans is given the nearest one's context when
``llm_calls`` is read (views_clickhouse.sql). Which traces hold another
producer's LLM span under a parent is kept at insert (the peer calls table, a
materialized view over the span table), so a store with none - an app traced by
otel-llm's own SDK only - reads no spans to find that there is nothing to walk;
one that gets such a call later (a second load, the collector's next insert)
walks its trace; a database whose span table predates the peer calls table gets
it filled when a store opens.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from otel_llm_analysis.clickhouse import load
from otel_llm_analysis.clickhouse._views import peer_calls_table_name, span_table_name
from otel_llm_analysis.clickhouse.store import ClickHouseStore
from tests.clickhouse.test_differential_call_context import _traces
from tests.support.synthetic import generate


def _span_reads(store: ClickHouseStore, query: str) -> list[int]:
    """The parts each read of the span table selects in ``EXPLAIN indexes = 1`` of ``query`` (a read
    the plan filters to nothing before it starts lists no parts: 0)."""
    plan = "\n".join(row[0] for row in store.connection.client.query(f"EXPLAIN indexes = 1 {query}").result_rows)
    reads = []
    for block in re.split(r"ReadFromMergeTree \(", plan)[1:]:
        if block.split(")", 1)[0].split(".")[-1] == span_table_name():
            parts = re.search(r"Parts: (\d+)/(\d+)", block.split("ReadFromMergeTree", 1)[0])
            reads.append(int(parts.group(1)) if parts else 0)
    return reads


def _contexts(store: ClickHouseStore) -> list[tuple[str, str]]:
    return sorted(store.query("SELECT span_id, context_span_id FROM llm_call_contexts"))


@pytest.fixture
def own_sdk_only(tmp_path: Path, clickhouse_url: str) -> str:
    generate(tmp_path / "own", traces=20, days=3, agents="otel_llm")
    assert load([tmp_path / "own"], clickhouse_url).spans_added > 100
    return clickhouse_url


def test_a_store_without_peer_calls_reads_no_span_to_find_no_context(own_sdk_only: str) -> None:
    with ClickHouseStore(own_sdk_only) as store:
        assert _contexts(store) == []
        reads = _span_reads(store, "SELECT * FROM llm_call_contexts")
        assert reads and not any(reads), reads  # the span table is in the plan, and nothing of it is read
        for window in ("since = NULL, until = NULL", "since = '2026-11-19 00:00:00', until = NULL"):
            assert not any(_span_reads(store, f"SELECT * FROM llm_call_contexts_in({window})"))
        assert store.query("SELECT count() FROM llm_calls")[0][0] > 0


def test_a_peer_call_loaded_later_is_walked(own_sdk_only: str, tmp_path: Path) -> None:
    (tmp_path / "peers").mkdir()
    (tmp_path / "peers" / "traces.jsonl").write_bytes(_traces())
    with ClickHouseStore(own_sdk_only) as store:
        assert _contexts(store) == []
        assert load([tmp_path / "peers"], own_sdk_only).spans_added > 0  # through the materialized views
        found = _contexts(store)
        assert len(found) == 3, found  # the calls in a node, an @agent and a turn; not the script's, nor a wrapped one
        assert any(_span_reads(store, "SELECT * FROM llm_call_contexts"))


def test_a_span_table_older_than_the_peer_calls_table_gets_it_filled(own_sdk_only: str, tmp_path: Path) -> None:
    (tmp_path / "peers").mkdir()
    (tmp_path / "peers" / "traces.jsonl").write_bytes(_traces())
    load([tmp_path / "peers"], own_sdk_only)
    with ClickHouseStore(own_sdk_only) as store:
        found = _contexts(store)
        database = store.url.database
        for statement in (f"DROP VIEW `{database}`.`{peer_calls_table_name()}_mv`",
                          f"DROP TABLE `{database}`.`{peer_calls_table_name()}`"):
            store.connection.client.command(statement)
    with ClickHouseStore(own_sdk_only) as store:
        assert _contexts(store) == found
