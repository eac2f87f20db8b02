"""Bad input: each problem is reported with file, line and place, and the rest still loads."""

from __future__ import annotations

import base64
from pathlib import Path

import orjson
import pytest

from otel_llm_analysis import TraceStore
from tests.support.synthetic import SyntheticData, spans_request


def _line(spans: list) -> dict:
    return spans_request(spans)


def _write(path: Path, lines: list[bytes | dict]) -> Path:
    path.write_bytes(b"".join((x if isinstance(x, bytes) else orjson.dumps(x)) + b"\n" for x in lines))
    return path


@pytest.fixture
def chunks(dataset: SyntheticData) -> list[list]:
    """Three groups of 10 spans each (distinct ids) of one service, so each line has one resource."""
    service = dataset.spans[0].service_name
    spans = [s for s in dataset.spans if s.service_name == service]
    return [spans[0:10], spans[10:20], spans[20:30]]


def test_corrupt_json_line_is_reported_and_others_load(store: TraceStore, tmp_path: Path, chunks: list) -> None:
    path = _write(tmp_path / "traces.jsonl", [_line(chunks[0]), b'{"resourceSpans": [{"scopeSpans": [', _line(chunks[1])])
    report = store.ingest(path)
    assert report.spans_added == 20
    assert [(p.path, p.line) for p in report.bad_lines] == [(str(path), 2)]
    assert "invalid JSON" in report.bad_lines[0].reason


def test_wrong_type_costs_only_that_span(store: TraceStore, tmp_path: Path, chunks: list) -> None:
    request = _line(chunks[0])
    spans = request["resourceSpans"][0]["scopeSpans"][0]["spans"]
    spans[3]["name"] = 12345
    bad_id = spans[3]["spanId"]
    path = _write(tmp_path / "traces.jsonl", [_line(chunks[1]), request])
    report = store.ingest(path)
    assert report.spans_added == 19
    (problem,) = report.bad_lines
    assert (problem.line, problem.where) == (2, "$.resourceSpans[0].scopeSpans[0].spans[3]")
    assert "name" in problem.reason and "str" in problem.reason
    assert store.query("SELECT count(*) FROM spans WHERE span_id = ?", [bad_id])[0][0] == 0


def test_wrong_type_at_the_top_is_reported(store: TraceStore, tmp_path: Path, chunks: list) -> None:
    path = _write(tmp_path / "traces.jsonl", [b'{"resourceSpans": 7}', b"[1, 2]", _line(chunks[0])])
    report = store.ingest(path)
    assert report.spans_added == 10
    assert [(p.line, p.where) for p in report.bad_lines] == [(1, "$.resourceSpans"), (2, "")]


def test_unknown_field_is_reported_and_the_data_kept(store: TraceStore, tmp_path: Path, chunks: list) -> None:
    request = _line(chunks[0])
    request["resourceSpans"][0]["scopeSpans"][0]["spans"][5]["futureField"] = {"x": 1}
    path = _write(tmp_path / "traces.jsonl", [request])
    report = store.ingest(path)
    assert report.spans_added == 10
    (problem,) = report.bad_lines
    assert problem.line == 1
    assert "futureField" in problem.reason and "spans[5]" in problem.reason


def test_base64_ids_are_converted_to_hex_and_reported(store: TraceStore, tmp_path: Path, chunks: list) -> None:
    request = _line(chunks[0])
    span = request["resourceSpans"][0]["scopeSpans"][0]["spans"][2]
    hex_trace, hex_span = span["traceId"], span["spanId"]
    span["traceId"] = base64.b64encode(bytes.fromhex(hex_trace)).decode()
    span["spanId"] = base64.b64encode(bytes.fromhex(hex_span)).decode()
    path = _write(tmp_path / "traces.jsonl", [request])
    report = store.ingest(path)
    assert report.spans_added == 10
    assert store.query("SELECT count(*) FROM spans WHERE trace_id = ? AND span_id = ?", [hex_trace, hex_span]) == [(1,)]
    (problem,) = report.bad_lines
    assert problem.line == 1 and "base64" in problem.reason


def test_garbage_ids_skip_the_span(store: TraceStore, tmp_path: Path, chunks: list) -> None:
    request = _line(chunks[0])
    request["resourceSpans"][0]["scopeSpans"][0]["spans"][4]["spanId"] = "not-an-id"
    path = _write(tmp_path / "traces.jsonl", [request])
    report = store.ingest(path)
    assert report.spans_added == 9
    (problem,) = report.bad_lines
    assert problem.where.endswith("spans[4]") and "not-an-id" in problem.reason


def test_line_larger_than_16_mb_loads(store: TraceStore, tmp_path: Path, chunks: list) -> None:
    request = _line(chunks[0])
    big = "x" * (17 << 20)
    request["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["attributes"].append(
        {"key": "big.blob", "value": {"stringValue": big}})
    path = _write(tmp_path / "traces.jsonl", [_line(chunks[1]), request])
    assert path.stat().st_size > 16 << 20
    report = store.ingest(path)
    assert report.bad_lines == []
    assert report.spans_added == 20
    assert store.query("SELECT max(length(attributes['big.blob'])) FROM spans")[0][0] == len(big)


def test_unicode_line_separators_inside_strings(store: TraceStore, tmp_path: Path, chunks: list) -> None:
    request = _line(chunks[0])
    span = request["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    text = "before\u2028middle\u2029after\u0085end"
    span["name"] = text
    span["attributes"].append({"key": "note", "value": {"stringValue": text}})
    raw = orjson.dumps(request)
    assert "\u2028".encode() in raw  # written raw, not escaped
    path = _write(tmp_path / "traces.jsonl", [raw, _line(chunks[1])])
    report = store.ingest(path)
    assert report.bad_lines == []
    assert report.spans_added == 20
    assert store.query("SELECT name, attributes['note'] FROM spans WHERE span_id = ?", [span["spanId"]]) == [
        (text, text)]


def test_repeated_attribute_keys_keep_the_last_value(store: TraceStore, tmp_path: Path, chunks: list) -> None:
    request = _line(chunks[0])
    span = request["resourceSpans"][0]["scopeSpans"][0]["spans"][1]
    span["attributes"] += [{"key": "dup", "value": {"stringValue": "first"}},
                           {"key": "dup", "value": {"stringValue": "last"}}]
    path = _write(tmp_path / "traces.jsonl", [request])
    report = store.ingest(path)
    assert report.spans_added == 10
    assert store.query("SELECT attributes['dup'] FROM spans WHERE span_id = ?", [span["spanId"]]) == [("last",)]
    assert report.bad_lines == []
    assert store.query("SELECT len(attr_keys), len(map_keys(attributes)) FROM spans WHERE span_id = ?",
                       [span["spanId"]]) == [(len(span["attributes"]) - 1,) * 2]


def test_every_problem_is_located_in_one_mixed_file(store: TraceStore, tmp_path: Path, chunks: list) -> None:
    wrong = _line(chunks[1])
    wrong["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["startTimeUnixNano"] = "yesterday"
    path = _write(tmp_path / "traces.jsonl", [_line(chunks[0]), b"not json at all", wrong, b"", _line(chunks[2])])
    report = store.ingest(path)
    assert report.spans_added == 29
    assert [p.line for p in report.bad_lines] == [2, 3]
    assert all(p.path == str(path) for p in report.bad_lines)
    assert "startTimeUnixNano" in report.bad_lines[1].reason
    assert str(report.bad_lines[1]).startswith(f"{path}:3 at $.resourceSpans[0].scopeSpans[0].spans[0]")


def test_attributes_that_are_not_a_list_are_reported(store: TraceStore, tmp_path: Path, chunks: list) -> None:
    request = _line(chunks[0])
    span = request["resourceSpans"][0]["scopeSpans"][0]["spans"][6]
    span["attributes"] = {"model": "gpt"}
    path = _write(tmp_path / "traces.jsonl", [request])
    report = store.ingest(path)
    assert report.spans_added == 10
    (problem,) = report.bad_lines
    assert (problem.line, problem.where) == (1, f"span {span['spanId']}: attributes")
    assert store.query("SELECT attr_keys FROM spans WHERE span_id = ?", [span["spanId"]]) == [([],)]


def test_invalid_utf8_inside_attributes_is_replaced_not_fatal(store: TraceStore, tmp_path: Path,
                                                             chunks: list) -> None:
    request = _line(chunks[0])
    span = request["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    span["attributes"].append({"key": "broken", "value": {"stringValue": "MARKER"}})
    raw = orjson.dumps(request).replace(b"MARKER", b"ab\xffcd")
    path = _write(tmp_path / "traces.jsonl", [raw, _line(chunks[1])])
    report = store.ingest(path)
    assert report.spans_added == 20
    assert store.query("SELECT attributes['broken'] FROM spans WHERE span_id = ?", [span["spanId"]]) == [
        ("ab\ufffdcd",)]
