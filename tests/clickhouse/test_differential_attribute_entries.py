"""Attribute entries a map cannot keep are named alike by ``otel-llm ingest`` and ``otel-llm load``.

An entry that is no key/value object or has no key is left out of a span's map, and a key given twice keeps its
last value (as a Go map, the exporter's, keeps it); both engines did so without a word. Each span that lost
entries is now named with its file, line and the entries, the same on both engines, and only when the span is
new: loading the file again names nothing. A key that is not a string is kept as its JSON text on both.
"""

from __future__ import annotations

from pathlib import Path

import orjson

from otel_llm_analysis.clickhouse import load
from otel_llm_analysis.clickhouse.store import ClickHouseStore
from otel_llm_analysis.store import TraceStore
from tests.support.clickhouse_http import ChdbHttpServer
from tests.support.synthetic import key_values

T0 = 1_790_000_000_000_000_000
ATTRIBUTES = {
    "clean": key_values({"a": "1", "b": "2"}),
    "no key": key_values({"a": "1"}) + [{"value": {"stringValue": "x"}}, {"key": None, "value": {}}],
    "not objects": [7, "text"] + key_values({"a": "1"}) + [["a", "list"]],
    "repeated": key_values({"a": "1"}) + key_values({"b": "first"}) + key_values({"b": "last"}),
    "number key": key_values({"a": "1"}) + [{"key": 5, "value": {"stringValue": "five"}}],
}


def _request() -> dict:
    spans = [{"traceId": "ab" * 16, "spanId": f"{i + 1:016x}", "name": name, "kind": 1,
              "startTimeUnixNano": str(T0 + i), "endTimeUnixNano": str(T0 + i + 1000), "attributes": attributes}
             for i, (name, attributes) in enumerate(ATTRIBUTES.items())]
    return {"resourceSpans": [{"resource": {"attributes": key_values({"service.name": "svc"})},
                               "scopeSpans": [{"scope": {"name": "s"}, "spans": spans}]}]}


def test_both_engines_name_the_same_entries_and_keep_the_same_maps(tmp_path: Path, clickhouse_http: ChdbHttpServer,
                                                                    clickhouse_url: str) -> None:
    path = tmp_path / "traces.jsonl"
    path.write_bytes(orjson.dumps({"resourceSpans": []}) + b"\n" + orjson.dumps(_request()) + b"\n")
    with TraceStore(":memory:") as duck:
        ingested = duck.ingest(path)
        loaded = load(path, clickhouse_url)
        assert ingested.spans_added == loaded.spans_added == len(ATTRIBUTES)
        said = [(p.path, p.line, p.where, p.reason) for p in ingested.bad_lines]
        assert [(line, where) for _, line, where, _ in said] == [
            (2, f"span {list(ATTRIBUTES).index(name) + 1:016x}: attributes")
            for name in ("no key", "not objects", "repeated")]
        assert [(p.path, p.line, p.where, p.reason) for p in loaded.bad_lines] == said
        assert load(path, clickhouse_url).bad_lines == []  # known spans: nothing said again
        sql = "SELECT name, attributes FROM spans ORDER BY name"
        with ClickHouseStore(clickhouse_url) as ch:
            assert [(name, dict(m)) for name, m in ch.query(sql)] == [(name, dict(m)) for name, m in duck.query(sql)]
        assert dict(duck.query(sql))["number key"] == {"a": "1", "5": "five"}
