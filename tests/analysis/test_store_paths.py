"""A store path that names a directory is said to be one, read-only or not."""

from __future__ import annotations

from pathlib import Path

import pytest

from otel_llm_analysis import TraceStore
from otel_llm_analysis.store import StoreError


@pytest.mark.parametrize("read_only", [True, False])
def test_a_directory_given_as_the_store_is_named_as_a_directory(tmp_path: Path, read_only: bool) -> None:
    """``--db /tmp`` said "no database at /tmp (run `otel-llm ingest` first)", as if nothing were there."""
    with pytest.raises(StoreError, match=r"is a directory, not a DuckDB database file"):
        TraceStore(tmp_path, read_only=read_only)


def test_a_data_file_opened_read_only_is_named_not_a_database(tmp_path):
    """``TraceStore(traces.jsonl, read_only=True)``: DuckDB's "Cannot launch in-memory database in read-only
    mode" told a Python user nothing; the same line as a writable open of that name says what is wrong."""
    data = tmp_path / "traces.jsonl"
    data.write_text("{}\n")
    with pytest.raises(StoreError, match=r"traces\.jsonl is not a DuckDB database file"):
        TraceStore(str(data), read_only=True)
