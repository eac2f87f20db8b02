"""Log search and error patterns against the generated log records and a hand-written file."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import orjson
import pytest

from tests.support import synthetic
from otel_llm_analysis.logs import log_patterns, search_logs, severity_number
from otel_llm_analysis.store import TraceStore

from _ground_truth import store_fixture


loaded = store_fixture(seed=31, traces=200, error_rate=0.2)


def _time(record):
    return datetime(1970, 1, 1) + timedelta(microseconds=record.time_ns // 1000)


def test_search_by_text_severity_and_time(loaded):
    store, data = loaded
    rows = search_logs(store, text="llm CALL failed", limit=10_000)
    expected = [r for r in data.logs if "llm call failed" in r.body.lower()]
    assert len(rows) == len(expected) > 0
    assert [r.time for r in rows] == sorted((_time(r) for r in expected), reverse=True)
    warn_up = search_logs(store, severity="WARN", limit=10_000)
    assert len(warn_up) == sum(r.severity_number >= 13 for r in data.logs)
    assert {r.severity_text for r in warn_up} == {"WARN", "ERROR"}
    middle = sorted(_time(r) for r in data.logs)[len(data.logs) // 2]
    assert len(search_logs(store, since=middle, limit=10_000)) == sum(_time(r) >= middle for r in data.logs)
    assert len(search_logs(store, limit=3)) == 3
    with pytest.raises(ValueError):
        severity_number("LOUD")


def _expected_pattern(body):
    """The masked form of the generator's three error templates, written by hand."""
    if "Request timed out" in body:
        return "LLM call failed: APITimeoutError: Request timed out after <num> seconds"
    if "string too long" in body:
        return "LLM call failed: BadRequestError: Invalid <str>: string too long"
    model = body.split("Rate limit reached for ")[1].split(" in organization")[0]
    return f"LLM call failed: RateLimitError: Rate limit reached for {model} in organization org-<hex> on tokens per min"


def test_error_patterns_from_generated_logs(loaded):
    store, data = loaded
    errors = [r for r in data.logs if r.severity_number >= 17]
    expected = Counter(_expected_pattern(r.body) for r in errors)
    rows = log_patterns(store)
    assert {r.pattern: r.count for r in rows} == dict(expected)
    for row in rows:
        members = sorted((r for r in errors if _expected_pattern(r.body) == row.pattern), key=lambda r: r.time_ns)
        assert row.first_seen == _time(members[0])
        assert row.last_seen == _time(members[-1])
        assert row.example_trace_id == members[0].trace_id
    counts = [r.count for r in rows]
    assert counts == sorted(counts, reverse=True)


def test_masks_uuids_hex_ids_quotes_and_numbers(tmp_path):
    bodies = [
        "user 'alice' lost session 123e4567-e89b-12d3-a456-426614174000 after 31.5 s",
        'user "bob" lost session 9b2c5a1e-0000-4aaa-8bbb-0123456789ab after 7 s',
        "retry 3 of gpt-4o failed for span 00f067aa0ba902b7",
        "retry 12 of gpt-4o failed for span 53995c3f42cd8ad8",
    ]
    request = {"resourceLogs": [{"resource": {"attributes": synthetic.key_values({"service.name": "svc"})},
                                 "scopeLogs": [{"scope": {"name": "t"}, "logRecords": [
        {"timeUnixNano": str(1_763_600_000_000_000_000 + i * 10**9), "severityNumber": 17, "severityText": "ERROR",
         "body": {"stringValue": body}, "traceId": f"{i + 1:032x}", "spanId": f"{i + 1:016x}"}
        for i, body in enumerate(bodies)]}]}]}
    path = tmp_path / "logs.jsonl"
    path.write_bytes(orjson.dumps(request) + b"\n")
    store = TraceStore(str(tmp_path / "logs.duckdb"))
    store.ingest([str(path)])
    rows = {r.pattern: r for r in log_patterns(store)}
    assert {p: r.count for p, r in rows.items()} == {
        "user <str> lost session <uuid> after <num> s": 2,
        "retry <num> of gpt-4o failed for span <hex>": 2,
    }
    assert rows["retry <num> of gpt-4o failed for span <hex>"].example_trace_id == f"{3:032x}"
    store.close()


def test_severity_given_only_as_text_in_other_producers_words(tmp_path):
    """Producers that send only ``severityText`` use their own words: Python's CRITICAL, .NET's
    Critical/Information, syslog's err/crit/emerg/notice, Java's SEVERE, the data model's ERROR2.
    A record ``--severity ERROR`` should find must not vanish from it (``logs --patterns`` too)."""
    texts = {"CRITICAL": 21, "Critical": 21, "crit": 21, "emerg": 21, "alert": 21, "FATAL3": 23, "err": 17,
             "SEVERE": 17, "ERROR2": 18, "Warning": 13, "WARN4": 16, "Information": 9, "notice": 10, "INFO": 9,
             "FINE": 6, "debug": 5}
    start = 1_764_590_400_000_000_000
    records = [{"timeUnixNano": str(start + i * 10**9), "severityText": text,
                "body": {"stringValue": f"record {i} said {text}"}} for i, text in enumerate(texts)]
    path = tmp_path / "logs.jsonl"
    path.write_bytes(orjson.dumps({"resourceLogs": [{"resource": {"attributes": []},
                                                     "scopeLogs": [{"logRecords": records}]}]}) + b"\n")
    with TraceStore(":memory:") as store:
        assert store.ingest(path).logs_added == len(texts)
        found = {r.severity_text: r.severity_number for r in search_logs(store, severity="ERROR", limit=100)}
        assert found == {text: n for text, n in texts.items() if n >= 17}
        assert sum(p.count for p in log_patterns(store)) == len(found)
        warn_up = {r.severity_text for r in search_logs(store, severity="WARN", limit=100)}
        assert warn_up == {text for text, n in texts.items() if n >= 13}
    assert severity_number("critical") == 21


def test_all_zero_ids_mean_no_trace(tmp_path):
    """The W3C invalid (all-zero) trace and span ids are how several SDKs write "logged outside
    any span": such a record belongs to no trace, and is no pattern's example trace."""
    start = 1_764_590_400_000_000_000
    records = [{"timeUnixNano": str(start + i), "severityNumber": 17, "body": {"stringValue": "boom"},
                "traceId": "0" * 32, "spanId": "0" * 16} for i in range(2)]
    path = tmp_path / "logs.jsonl"
    path.write_bytes(orjson.dumps({"resourceLogs": [{"resource": {}, "scopeLogs": [{"logRecords": records}]}]}) + b"\n")
    with TraceStore(":memory:") as store:
        report = store.ingest(path)
        assert (report.logs_added, report.bad_lines) == (2, [])
        assert store.query("SELECT count(*) FROM logs WHERE trace_id IS NULL AND span_id IS NULL")[0][0] == 2
        (pattern,) = log_patterns(store)
        assert pattern.example_trace_id is None
