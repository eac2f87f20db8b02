"""``llm_calls`` reads the instrumentation failures only on a store that holds one.

Reinterpreting an instrumentation's own failure (``instrumentation_failures``: OpenLIT marking a call
ERROR for an exception inside openlit) reads every call's ids and scans the span events on every query
over ``llm_calls`` - 10-20 ms per query on 1M spans, on stores that almost never hold such a span. The
view is the plain one until an ingest stores one, then the reinterpreting one.
"""

from __future__ import annotations

from pathlib import Path

import orjson

from otel_llm import semconv
from otel_llm_analysis import TraceStore
from tests.support.synthetic import key_values

T0 = 1_767_225_600_000_000_000
OPENLIT_FRAME = 'File "/app/.venv/lib/python3.11/site-packages/openlit/instrumentation/openai/openai.py", line 9'


def _write(path: Path, scope: str, span_id: str, status: int, stack: str | None) -> Path:
    span = {"traceId": span_id * 2, "spanId": span_id, "name": "chat gpt-4o", "kind": 3,
            "startTimeUnixNano": str(T0), "endTimeUnixNano": str(T0 + 10**9), "status": {"code": status},
            "attributes": key_values({semconv.GEN_AI_OPERATION_NAME: "chat", semconv.GEN_AI_REQUEST_MODEL: "gpt-4o",
                                      semconv.GEN_AI_PROVIDER_NAME: "openai"})}
    if stack is not None:
        span["events"] = [{"name": "exception", "timeUnixNano": str(T0 + 10**8), "attributes": key_values(
            {"exception.type": "AttributeError", "exception.message": "'NoneType' object has no attribute 'get'",
             "exception.stacktrace": f"Traceback (most recent call last):\n  {stack}\nAttributeError"})}]
    path.write_bytes(orjson.dumps({"resourceSpans": [{"resource": {}, "scopeSpans": [
        {"scope": {"name": scope}, "spans": [span]}]}]}) + b"\n")
    return path


def _reads_events(store: TraceStore) -> bool:
    plan = " ".join(str(row) for row in store.query("EXPLAIN SELECT count(*) FROM llm_calls"))
    return "span_events" in plan


def test_the_view_reads_the_failures_only_once_the_store_holds_one(tmp_path: Path) -> None:
    db = str(tmp_path / "s.duckdb")
    with TraceStore(db) as store:
        store.ingest(_write(tmp_path / "a.jsonl", "my-app", "a" * 16, 2, 'File "/app/main.py", line 3'))
        assert not _reads_events(store)  # an app's own failed call: nothing to reinterpret
        assert store.query("SELECT status_code FROM llm_calls") == [(2,)]
        store.ingest(_write(tmp_path / "b.jsonl", "openlit.otel.tracing", "b" * 16, 2, OPENLIT_FRAME))
        assert _reads_events(store)
        assert sorted(store.query("SELECT span_id, status_code FROM llm_calls")) == [("a" * 16, 2), ("b" * 16, 0)]
    with TraceStore(db, read_only=True) as store:  # kept for the readers
        assert sorted(store.query("SELECT span_id, status_code FROM llm_calls")) == [("a" * 16, 2), ("b" * 16, 0)]
