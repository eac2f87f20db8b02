"""Ground truth for the analysis tests: plain Python over the generator's records.

Nothing here touches DuckDB or imports the analysis modules' SQL: each expected
figure is recomputed from ``synthetic.SpanRecord`` values, so a wrong query and
a wrong expectation cannot agree by construction.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import pytest

from tests.support import synthetic
from otel_llm_analysis.store import TraceStore


def load(tmp_path: Path, **options: Any) -> tuple[TraceStore, synthetic.SyntheticData]:
    """Generate collector-format files under ``tmp_path`` and ingest them into a fresh DuckDB file."""
    options.setdefault("traces", 150)
    data = synthetic.generate(tmp_path / "otel-data", **options)
    store = TraceStore(str(tmp_path / "analysis.duckdb"))
    store.ingest([str(p) for p in data.files])
    return store, data


def store_fixture(**options: Any) -> Any:
    """A pytest fixture yielding ``(store, data)``: a fresh DuckDB file per test, closed after."""

    @pytest.fixture()
    def loaded(tmp_path: Path) -> Any:
        store, data = load(tmp_path, **options)
        yield store, data
        store.close()

    return loaded


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default), written out."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def is_llm(span: synthetic.SpanRecord) -> bool:
    """A model call: an LLM span that is not a peer's second span of the same call."""
    return span.otel_kind == "llm_call" and not span.nested


def run_config(span: synthetic.SpanRecord, key: str) -> str | None:
    """The run-config value as the attribute map holds it (a string)."""
    value = span.attributes.get(f"otel_llm.run_config.{key}")
    return None if value is None else str(value)


def day(span: synthetic.SpanRecord) -> date:
    return span.start_time.date()


def group(spans: Iterable[synthetic.SpanRecord], key: Callable[[synthetic.SpanRecord], Any]) -> dict[Any, list]:
    out: dict[Any, list] = defaultdict(list)
    for span in spans:
        out[key(span)].append(span)
    return dict(out)


def close(actual: float | None, expected: float | None, rel: float = 1e-9, abs_: float = 1e-9) -> bool:
    if actual is None or expected is None:
        return actual is expected
    return math.isclose(actual, expected, rel_tol=rel, abs_tol=abs_)


def month_start(moment: datetime) -> date:
    return date(moment.year, moment.month, 1)
