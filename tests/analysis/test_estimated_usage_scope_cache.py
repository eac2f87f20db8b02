"""Whether the store holds OpenLIT's OpenAI scope (which decides if a summary reads the estimated-usage
predicate) is looked up once per data version of the store, not on every summary, and looked up again
once an ingest changed the data.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from otel_llm_analysis import _filters
from otel_llm_analysis.store import TraceStore
from otel_llm_analysis.summaries import totals
from tests.support import synthetic

_START = 1_763_600_000_000_000_000


def _calls(first: int, scope: str, stream: bool) -> bytes:
    spans = []
    for number in (first, first + 1):
        record = synthetic.SpanRecord(
            trace_id=f"{number:032x}", span_id=f"{number:016x}", parent_span_id=None, name="chat gpt-4o",
            span_kind="CLIENT", service_name="svc", project="", otel_kind="", start_ns=_START + number * 10**9,
            end_ns=_START + number * 10**9 + 200_000_000, resource={"service.name": "svc"})
        record.attributes = {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o",
                             "gen_ai.usage.input_tokens": 100, "gen_ai.usage.output_tokens": 20,
                             "gen_ai.request.stream": stream}
        spans.append(record)
    request = synthetic.spans_request(spans)
    for resource in request["resourceSpans"]:
        for scoped in resource["scopeSpans"]:
            scoped["scope"]["name"] = scope
    return orjson.dumps(request) + b"\n"


def test_the_scope_look_up_runs_once_per_data_version_and_again_after_an_ingest(tmp_path: Path, monkeypatch) -> None:
    looked: list[object] = []
    real = _filters._holds_estimating_scope

    def counted(con):
        looked.append(con)
        return real(con)
    monkeypatch.setattr(_filters, "_holds_estimating_scope", counted)
    sdk, openlit = tmp_path / "sdk.jsonl", tmp_path / "openlit.jsonl"
    sdk.write_bytes(_calls(1, synthetic.SCOPE_NAME, stream=False))
    openlit.write_bytes(_calls(11, _filters.ESTIMATING_SCOPE, stream=True))
    with TraceStore(str(tmp_path / "store.duckdb")) as store:
        store.ingest([str(sdk)])
        assert [totals(store).estimated_usage_calls for _ in range(3)] == [0, 0, 0]
        assert len(looked) == 1  # one data version: one look
        store.ingest([str(openlit)])
        assert totals(store).estimated_usage_calls == 2  # the new data is seen
        assert totals(store).estimated_usage_calls == 2
        assert len(looked) == 2
