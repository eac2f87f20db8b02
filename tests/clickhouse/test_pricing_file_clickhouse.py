"""A pricing file ClickHouse's views cannot use stops the open, as it stops DuckDB's ingest.

The SDK skips an unreadable price entry with a notice (an app never stops for it);
an analysis told to price with a file must not price without it and say nothing.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from otel_llm_analysis.clickhouse import load
from otel_llm_analysis.clickhouse._client import ClickHouseError
from otel_llm_analysis.clickhouse.store import ClickHouseStore
from otel_llm_analysis.store import StoreError, TraceStore
from tests.support.synthetic import generate


def test_a_pricing_file_it_cannot_use_is_one_line_as_on_duckdb(tmp_path: Path, clickhouse_url: str) -> None:
    generate(tmp_path / "d", traces=5, days=2, end=datetime(2026, 11, 20), seed=3)
    load([tmp_path / "d"], clickhouse_url)
    prices = tmp_path / "prices.json"
    prices.write_text('{"my-model": {"input": "abc", "output": 2}}')
    with pytest.raises(StoreError) as duckdb_error, TraceStore(":memory:") as duck:
        duck.ingest([tmp_path / "d"], pricing=prices)
    with pytest.raises(ClickHouseError) as clickhouse_error:
        ClickHouseStore(clickhouse_url, pricing=prices)
    assert str(clickhouse_error.value) == str(duckdb_error.value) == (
        f"cannot use pricing file {prices}: entry 'my-model': could not convert string to float: 'abc'")
