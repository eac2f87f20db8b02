"""Decoding: other producers' spellings, value rendering, ids, metrics and logs shapes."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from otel_llm_analysis import TraceStore
from otel_llm_analysis._decode import Batch, decode_line
from otel_llm_analysis._spellings import SPELLINGS
from tests.support.synthetic import key_values

TRACE = "0af7651916cd43dd8448eb211c80319c"


def _span(span_id: str, attributes: dict, **extra: object) -> dict:
    return {"traceId": TRACE, "spanId": span_id, "name": "llm", "kind": 3,
            "startTimeUnixNano": "1764000000000000000", "endTimeUnixNano": "1764000001500000000",
            "attributes": key_values(attributes), **extra}


def _request(spans: list[dict], resource: dict | None = None) -> bytes:
    return orjson.dumps({"resourceSpans": [{
        "resource": {"attributes": key_values(resource or {"service.name": "svc"})},
        "scopeSpans": [{"scope": {"name": "some.instrumentation"}, "spans": spans}]}]})


#: (producer, attributes) -> expected typed columns (cost_usd: what the producer wrote, or priced at ingest)
PRODUCERS = [
    ("openllmetry", {"gen_ai.system": "OpenAI", "gen_ai.request.model": "gpt-4o", "gen_ai.response.model": "gpt-4o-2024",
                     "gen_ai.usage.prompt_tokens": 120, "gen_ai.usage.completion_tokens": 30, "llm.request.type": "chat"},
     ("openai", "gpt-4o", "gpt-4o-2024", 120, 30, "ingest", "chat", "llm_call")),
    ("openlit", {"gen_ai.system": "anthropic", "gen_ai.request.model": "claude", "gen_ai.usage.input_tokens": 10,
                 "gen_ai.usage.output_tokens": 5, "gen_ai.usage.cost": 0.25, "gen_ai.operation.name": "chat"},
     ("anthropic", "claude", None, 10, 5, "producer", "chat", "llm_call")),
    ("openinference", {"llm.provider": "openai", "llm.model_name": "gpt-4o-mini-2024-07-18",
                       "llm.invocation_parameters": '{"model": "gpt-4o-mini", "temperature": 0}',
                       "llm.token_count.prompt": 7, "llm.token_count.completion": 3, "llm.cost.total": 0.001,
                       "openinference.span.kind": "LLM"},
     ("openai", "gpt-4o-mini", "gpt-4o-mini-2024-07-18", 7, 3, "producer", None, "llm_call")),
    ("other", {"gen_ai.provider.name": "x", "gen_ai.request.model": "m", "llm.usage.prompt_tokens": "11",
               "llm.usage.completion_tokens": 2.0, "operation.cost": "0.5", "gen_ai.usage.cost.amount": 0.75},
     ("x", "m", None, 11, 2, "producer", None, "llm_call")),  # no kind attribute: a call by its model and provider
]


@pytest.mark.parametrize("producer, attributes, expected", PRODUCERS, ids=[p[0] for p in PRODUCERS])
def test_other_producers_spellings_fill_typed_columns(store: TraceStore, tmp_path: Path, producer: str,
                                                      attributes: dict, expected: tuple) -> None:
    path = tmp_path / "traces.jsonl"
    path.write_bytes(_request([_span("00f067aa0ba902b7", attributes)]) + b"\n")
    report = store.ingest(path)
    assert report.bad_lines == []
    assert store.query("SELECT provider, model, response_model, input_tokens, output_tokens, cost_source, operation, "
                       "otel_kind FROM spans") == [expected]


def test_spelling_table_names_each_attribute_once() -> None:
    names = [n for spellings in SPELLINGS.values() for n in spellings]
    assert len(names) == len(set(names))


def test_value_rendering_in_the_map(store: TraceStore, tmp_path: Path) -> None:
    attributes = {"s": "text", "i": 42, "d": 0.7, "b": True, "f": False, "a": ["stop", "length"],
                  "n": [1, 2], "kv": {"x": "y"}}
    path = tmp_path / "traces.jsonl"
    path.write_bytes(_request([_span("00f067aa0ba902b7", attributes)],
                              resource={"service.name": "svc", "s": "the resource's"}) + b"\n")
    store.ingest(path)
    (row,) = store.query("SELECT attributes, resource_attributes, service_name, scope_name, span_kind, duration_ms,"
                         " start_time, json_extract_string(attributes['a'], '$.values[*].*') FROM spans")
    assert row[0] == {
        "s": "text", "i": "42", "d": "0.7", "b": "true", "f": "false",
        "a": '{"values":[{"stringValue":"stop"},{"stringValue":"length"}]}',
        "n": '{"values":[{"intValue":"1"},{"intValue":"2"}]}',
        "kv": '{"values":[{"key":"x","value":{"stringValue":"y"}}]}'}
    assert row[1] == {"service.name": "svc", "s": "the resource's"}
    assert row[2:6] == ("svc", "some.instrumentation", "CLIENT", 1500.0)
    assert row[6].isoformat() == "2025-11-24T16:00:00"
    assert row[7] == ["stop", "length"]


def test_odd_entries_take_the_slow_path_and_stay_aligned(store: TraceStore, tmp_path: Path) -> None:
    """An empty AnyValue or a key-less entry must not shift the other values onto wrong keys."""
    span = _span("00f067aa0ba902b7", {})
    span["attributes"] = [{"key": "empty", "value": {}}, {"value": {"stringValue": "keyless"}},
                          {"key": "after", "value": {"intValue": "7"}}, {"key": "d", "value": {"doubleValue": 2.5}}]
    path = tmp_path / "traces.jsonl"
    path.write_bytes(_request([span]) + b"\n")
    report = store.ingest(path)
    assert report.spans_added == 1
    assert store.query("SELECT attributes FROM spans") == [({"empty": None, "after": "7", "d": "2.5"},)]


def test_upper_case_hex_ids_are_lowered(tmp_path: Path) -> None:
    batch = Batch()
    batch.start_file("f")
    decode_line(orjson.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [
        {"traceId": TRACE.upper(), "spanId": "00F067AA0BA902B7", "parentSpanId": "",
         "startTimeUnixNano": "1764000000000000000"}]}]}]}), batch, 1)
    assert batch.cols["spans"]["trace_id"] == [TRACE]
    assert batch.cols["spans"]["span_id"] == ["00f067aa0ba902b7"]
    assert batch.cols["spans"]["parent_span_id"] == [None]
    assert batch.problems == []


def test_metric_kinds_and_log_bodies(store: TraceStore, tmp_path: Path) -> None:
    metrics = {"resourceMetrics": [{"resource": {"attributes": key_values({"service.name": "svc"})},
        "scopeMetrics": [{"scope": {"name": "m"}, "metrics": [
            {"name": "g", "unit": "1", "gauge": {"dataPoints": [{"timeUnixNano": "1764000000000000000", "asInt": "5"}]}},
            {"name": "c", "sum": {"aggregationTemporality": 1, "isMonotonic": True, "dataPoints": [
                {"timeUnixNano": "1764000000000000000", "asDouble": 2.5, "attributes": key_values({"k": "v"})}]}},
            {"name": "h", "histogram": {"aggregationTemporality": 2, "dataPoints": [
                {"timeUnixNano": "1764000000000000000", "count": "3", "sum": 6.0, "bucketCounts": ["1", "2"],
                 "explicitBounds": [1.5]}]}},
            {"name": "s", "summary": {"dataPoints": [{"timeUnixNano": "1764000000000000000", "count": "4",
                                                      "sum": 8.0, "quantileValues": []}]}},
        ]}]}]}
    logs = {"resourceLogs": [{"resource": {"attributes": key_values({"service.name": "svc"})},
        "scopeLogs": [{"logRecords": [
            {"observedTimeUnixNano": "1764000000000000000", "severityNumber": 17, "severityText": "ERROR",
             "body": {"kvlistValue": {"values": key_values({"msg": "boom"})}}, "traceId": TRACE,
             "spanId": "00f067aa0ba902b7"},
            {"timeUnixNano": "1764000000000000000", "body": {"stringValue": "plain"}}]}]}]}
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(orjson.dumps(metrics) + b"\n" + orjson.dumps(logs) + b"\n")
    report = store.ingest(path)
    assert report.bad_lines == []
    rows = store.query("SELECT metric_name, metric_type, value, count, sum, bucket_counts, explicit_bounds, temporality,"
                       " is_monotonic, service_name, attributes['k'] FROM metric_points ORDER BY metric_name")
    assert rows == [
        ("c", "sum", 2.5, None, None, [], [], "delta", True, "svc", "v"),  # no explicit buckets: empty, as on ClickHouse
        ("g", "gauge", 5.0, None, None, [], [], None, None, "svc", None),
        ("h", "histogram", None, 3, 6.0, [1, 2], [1.5], "cumulative", None, "svc", None),
        ("s", "summary", None, 4, 8.0, [], [], None, None, "svc", None),
    ]
    logs_rows = store.query("SELECT severity_text, body, trace_id, span_id, service_name, time IS NOT NULL FROM logs "
                            "ORDER BY body")
    assert logs_rows == [
        (None, "plain", None, None, "svc", True),
        ("ERROR", '{"values":[{"key":"msg","value":{"stringValue":"boom"}}]}', TRACE, "00f067aa0ba902b7", "svc", True),
    ]


def test_enum_names_are_read_as_their_numbers(store: TraceStore, tmp_path: Path) -> None:
    """The collector's JSON reader takes OTLP's enum names for the numbers; ingest skipped every such span,
    point and log record (a located problem each, but the data lost)."""
    spans = _request([_span("00f067aa0ba902b7", {"k": "v"}, kind="SPAN_KIND_CLIENT",
                            status={"code": "STATUS_CODE_ERROR", "message": "boom"}),
                      _span("00f067aa0ba902b8", {"k": "v"}, kind=2)])
    metrics = {"resourceMetrics": [{"scopeMetrics": [{"metrics": [
        {"name": "c", "sum": {"aggregationTemporality": "AGGREGATION_TEMPORALITY_CUMULATIVE", "isMonotonic": True,
                              "dataPoints": [{"timeUnixNano": "1764000000000000000", "asInt": "5"}]}}]}]}]}
    logs = {"resourceLogs": [{"scopeLogs": [{"logRecords": [
        {"timeUnixNano": "1764000000000000000", "severityNumber": "SEVERITY_NUMBER_WARN2", "body": {"stringValue": "x"}},
        {"timeUnixNano": "1764000000000000001", "severityNumber": "WARN", "body": {"stringValue": "y"}}]}]}]}
    path = tmp_path / "named.jsonl"
    path.write_bytes(b"\n".join([spans, orjson.dumps(metrics), orjson.dumps(logs)]) + b"\n")
    report = store.ingest(path)
    assert store.query("SELECT span_id, span_kind, status_code, status_message FROM span_rows ORDER BY span_id") == [
        ("00f067aa0ba902b7", "CLIENT", 2, "boom"), ("00f067aa0ba902b8", "SERVER", 0, None)]
    assert store.query("SELECT metric_name, temporality, value FROM metric_points") == [("c", "cumulative", 5.0)]
    assert store.query("SELECT body, severity_number FROM logs") == [("x", 14)]
    reasons = sorted((p.line, p.reason) for p in report.bad_lines)
    assert reasons == [
        (1, "read 2 enum name(s) as their numbers (SPAN_KIND_CLIENT, STATUS_CODE_ERROR): OTLP JSON expects numbers"),
        (2, "read 1 enum name(s) as their numbers (AGGREGATION_TEMPORALITY_CUMULATIVE): OTLP JSON expects numbers"),
        (3, "read 1 enum name(s) as their numbers (SEVERITY_NUMBER_WARN2): OTLP JSON expects numbers"),
        # a name OTLP does not define stays a located problem: that record is skipped
        (3, "skipped: expected `int`, got `str` - at `$.severityNumber`"),
    ]


@pytest.mark.parametrize(("scope", "stream", "seconds", "ttft_ns"), [
    ("openlit.instrumentation.openai", True, 0.25, 250_000_000),
    ("openlit.instrumentation.openai", "true", "0.5", 500_000_000),  # as text (a converter's spelling)
    ("openlit.instrumentation.openai", False, 0.25, None),  # not streamed: OpenLIT's value is the duration
    ("openlit.instrumentation.openai", None, 0.25, None),
    ("openlit.instrumentation.openai", True, float("nan"), None),
    ("openlit.instrumentation.openai", True, -1.0, None),
    ("openlit.instrumentation.openai", True, 1e300, None),  # beyond 64-bit ns: no overflow later
    ("openlit.instrumentation.openai", True, True, None),
    ("openlit.instrumentation.openai", True, "soon", None),
    ("my.own.scope", True, 0.25, None),  # only OpenLIT's spans are read (no search of any other span)
])
def test_openlits_time_to_first_token_attribute(scope, stream, seconds, ttft_ns):
    """OpenLIT's ``gen_ai.server.time_to_first_token`` (seconds) is a streamed call's time to first token."""
    attributes = {"gen_ai.operation.name": "chat", "gen_ai.server.time_to_first_token": seconds}
    if stream is not None:
        attributes["gen_ai.request.stream"] = stream
    span = {"traceId": "ab" * 16, "spanId": "cd" * 8, "name": "chat", "startTimeUnixNano": "1",
            "endTimeUnixNano": "2", "attributes": key_values(attributes)}
    line = orjson.dumps({"resourceSpans": [{"scopeSpans": [{"scope": {"name": scope}, "spans": [span]}]}]})
    batch = Batch()
    decode_line(line.replace(b'"doubleValue":null', b'"doubleValue":"NaN"'), batch, 1)  # proto3 JSON's NaN
    assert batch.cols["spans"]["ttft_ns"] == [ttft_ns]
