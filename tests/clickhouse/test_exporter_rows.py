"""Attribute lists as the exporter's maps, whatever their shape: ``AsString`` values by key, the
last of a repeated key, odd items skipped (the spans that lost any told apart), a list that is no list
reported with its place."""

from __future__ import annotations

import json

from otel_llm_analysis._decode import Batch, decode_line
from otel_llm_analysis.clickhouse._exporter_rows import SPAN_COLUMNS, span_rows

ATTRIBUTES = SPAN_COLUMNS.index("SpanAttributes")


def rows_of(*attribute_lists: object, lossy: list[int] | None = None) -> tuple[list[dict[str, str]], Batch]:
    spans = [{"traceId": "ab" * 16, "spanId": f"{i + 1:016x}", "name": "op", "startTimeUnixNano": "1",
              "endTimeUnixNano": "2", "attributes": attributes} for i, attributes in enumerate(attribute_lists)]
    line = json.dumps({"resourceSpans": [{"resource": {}, "scopeSpans": [{"scope": {}, "spans": spans}]}]})
    batch = Batch()
    batch.start_file("dump.jsonl")
    decode_line(line.encode(), batch, 1)
    return [row[ATTRIBUTES] for row in span_rows(batch, lossy)], batch


def test_values_are_as_strings_by_key_and_a_repeated_key_keeps_the_last() -> None:
    tokens = {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "12"}}
    maps, batch = rows_of(
        [tokens, {"key": "cost", "value": {"doubleValue": 1e-7}}, {"key": "m", "value": {"stringValue": "a"}},
         {"key": "m", "value": {"stringValue": "b"}}, {"key": "flag", "value": {"boolValue": True}}],
        [tokens, {"key": "empty"}, {"key": "none", "value": None}],  # the same value text again: same string
    )
    assert maps == [{"cost": "1e-7", "flag": "true", "gen_ai.usage.input_tokens": "12", "m": "b"},
                    {"empty": "", "gen_ai.usage.input_tokens": "12", "none": ""}]
    assert list(maps[0]) == sorted(maps[0]) and batch.problems == []


def test_items_that_are_no_key_value_are_skipped_and_the_rest_kept() -> None:
    """A key that is no string is kept as its JSON text, as DuckDB's ingest keeps it; what is skipped is named
    by the load, for the new spans only (test_differential_attribute_entries.py)."""
    lossy: list[int] = []
    maps, batch = rows_of([7, {"key": 5, "value": {"intValue": "1"}}, {"key": "a", "value": {"intValue": "3"}},
                           "text", {"key": "b", "value": {"arrayValue": {"values": [{"stringValue": "x"}]}}}],
                          [{"key": "a", "value": {"intValue": "3"}}], lossy=lossy)
    assert maps == [{"5": "1", "a": "3", "b": '["x"]'}, {"a": "3"}] and batch.problems == []
    assert lossy == [0]
