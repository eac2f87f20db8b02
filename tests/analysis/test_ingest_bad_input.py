"""Bad input: each problem is reported with file, line and place, and the rest still loads."""

from __future__ import annotations

import base64
import json
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


def test_all_zero_trace_and_span_ids_are_kept_and_reported(store: TraceStore, tmp_path: Path, chunks: list) -> None:
    """W3C's invalid ids (all zeros) loaded in silence: the calls of unrelated requests that share the trace id
    were one trace in every trace count and ranking, and a child naming the span id as parent became a root."""
    request = _line(chunks[0])
    spans = request["resourceSpans"][0]["scopeSpans"][0]["spans"]
    spans[1]["traceId"] = spans[6]["traceId"] = "0" * 32
    spans[4]["spanId"] = "0" * 16
    path = _write(tmp_path / "traces.jsonl", [_line(chunks[1]), request])
    report = store.ingest(path)
    assert report.spans_added == 20
    assert [(p.line, p.where, p.reason.split(":")[0]) for p in report.bad_lines] == [
        (2, "$.resourceSpans[0].scopeSpans[0].spans[1]", "kept, but its trace id is all zeros (the W3C invalid id)"),
        (2, "$.resourceSpans[0].scopeSpans[0].spans[4]", "kept, but its span id is all zeros (the W3C invalid id)"),
        (2, "$.resourceSpans[0].scopeSpans[0].spans[6]", "kept, but its trace id is all zeros (the W3C invalid id)")]


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


def test_a_short_id_beside_a_long_one_skips_both_spans(store: TraceStore, tmp_path: Path, chunks: list) -> None:
    # 31 + 33 hex digits: the ids of one scope add up to the right length, yet neither is an id.
    request = _line(chunks[0])
    spans = request["resourceSpans"][0]["scopeSpans"][0]["spans"]
    short, long = spans[1]["spanId"][:-1], spans[6]["spanId"] + "a"
    spans[1]["spanId"], spans[6]["spanId"] = short, long
    path = _write(tmp_path / "traces.jsonl", [request])
    report = store.ingest(path)
    assert report.spans_added == 8
    assert sorted(p.where[-8:] for p in report.bad_lines) == ["spans[1]", "spans[6]"]
    assert store.query("SELECT count(*) FROM spans WHERE span_id IN (?, ?)", [short, long]) == [(0,)]


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
    first = len(span["attributes"]) - 2
    assert [(p.line, p.where, p.reason) for p in report.bad_lines] == [
        (1, f"span {span['spanId']}: attributes", "1 attribute entry not kept as sent: "
         f"key 'dup' given 2 times (attributes[{first}], [{first + 1}]), its last value kept")]
    assert store.query("SELECT len(attr_keys), len(map_keys(attributes)) FROM spans WHERE span_id = ?",
                       [span["spanId"]]) == [(len(span["attributes"]) - 1,) * 2]


def test_attribute_entries_without_a_key_or_not_objects_are_reported(store: TraceStore, tmp_path: Path,
                                                                     chunks: list) -> None:
    """An entry with no key (absent or null) or one that is not an object was dropped inside the span insert's
    SQL without a word: each span that lost one is named with its file and line, the rest of it kept as before."""
    request = _line(chunks[0])
    spans = request["resourceSpans"][0]["scopeSpans"][0]["spans"]
    kept = {i: list(spans[i]["attributes"]) for i in (2, 5)}
    n = {i: len(kept[i]) for i in kept}
    spans[2]["attributes"] = kept[2] + [{"value": {"stringValue": "no name"}}, 7, {"key": None, "value": {}}]
    spans[5]["attributes"] = [["a", "list"]] + kept[5] + [{"key": "x", "value": {"intValue": "1"}},
                                                          {"key": "x", "value": {"intValue": "2"}},
                                                          {"key": "x", "value": {"intValue": "3"}}]
    path = _write(tmp_path / "traces.jsonl", [_line(chunks[1]), request])
    report = store.ingest(path)
    assert report.spans_added == 20
    assert [(p.path, p.line, p.where, p.reason) for p in report.bad_lines] == [
        (str(path), 2, f"span {spans[2]['spanId']}: attributes",
         f"3 attribute entries not kept as sent: attributes[{n[2]}] has no key; attributes[{n[2] + 1}] is not "
         f"a key/value object (7); attributes[{n[2] + 2}] has no key"),
        (str(path), 2, f"span {spans[5]['spanId']}: attributes",
         f"3 attribute entries not kept as sent: attributes[0] is not a key/value object ([\"a\",\"list\"]); "
         f"key 'x' given 3 times (attributes[{n[5] + 1}], [{n[5] + 2}], [{n[5] + 3}]), its last value kept")]
    stored = dict(store.query("SELECT span_id, attributes FROM spans WHERE span_id IN (?, ?)",
                              [spans[2]["spanId"], spans[5]["spanId"]]))
    assert list(stored[spans[2]["spanId"]]) == [a["key"] for a in kept[2]]
    assert list(stored[spans[5]["spanId"]]) == [a["key"] for a in kept[5]] + ["x"]
    assert stored[spans[5]["spanId"]]["x"] == "3"
    assert store.query("SELECT span_id, attr_entries_dropped FROM spans WHERE attr_entries_dropped IS NOT NULL "
                       "ORDER BY span_id") == sorted([(spans[2]["spanId"], 3), (spans[5]["spanId"], 3)])
    assert store.ingest(path).bad_lines == []  # the file again: nothing new, nothing said twice


def test_spans_sharing_a_key_list_each_keep_their_own_values(store: TraceStore, tmp_path: Path,
                                                             chunks: list) -> None:
    """Typed columns and attributes are read per span even where spans share their attribute
    names (positions are worked out once per key list): repeated keys, a null key, no attributes."""
    request = _line(chunks[0])
    spans = request["resourceSpans"][0]["scopeSpans"][0]["spans"]

    def odd(tokens: str, value: str) -> list:
        return [{"key": "note", "value": {"stringValue": "replaced"}},
                {"key": None, "value": {"stringValue": "no name"}},
                {"key": "gen_ai.usage.input_tokens", "value": {"intValue": tokens}},
                {"key": "note", "value": {"stringValue": value}}]

    spans[0]["attributes"] = odd("5", "a")
    spans[1]["attributes"] = odd("7", "b")
    spans[2]["attributes"] = odd("many", "c")
    spans[3]["attributes"] = []
    spans[4].pop("attributes", None)
    path = _write(tmp_path / "traces.jsonl", [request])
    report = store.ingest(path)
    assert report.spans_added == 10
    rows = store.query("SELECT span_id, input_tokens, attr_keys, attr_values FROM span_rows WHERE span_id IN "
                       "(?, ?, ?, ?, ?) ORDER BY span_id", [s["spanId"] for s in spans[:5]])
    keys = ["gen_ai.usage.input_tokens", "note"]
    assert sorted(rows) == sorted([
        (spans[0]["spanId"], 5, keys, ["5", "a"]),
        (spans[1]["spanId"], 7, keys, ["7", "b"]),
        (spans[2]["spanId"], None, keys, ["many", "c"]),
        (spans[3]["spanId"], None, [], []),
        (spans[4]["spanId"], None, [], []),
    ])
    attributes = [(1, f"span {s['spanId']}: attributes") for s in spans[:3]]  # the null key, the repeated one
    assert sorted((p.line, p.where) for p in report.bad_lines) == sorted([*attributes, (1, f"span {spans[2]['spanId']}")])


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
    (problem,) = report.bad_lines
    assert (problem.path, problem.line, problem.where) == (str(path), 1, f"span {span['spanId']}: attributes")
    assert "U+FFFD in place of 1 invalid UTF-8 sequence(s)" in problem.reason


def test_invalid_utf8_in_a_span_name_costs_no_span(store: TraceStore, tmp_path: Path, chunks: list) -> None:
    """A byte that is not UTF-8 in a typed string (a span's name, a scope's, a resource's attribute) must not
    cost the line's other spans: the line loads with U+FFFD in its place, and the line is reported."""
    request = _line(chunks[0])
    span = request["resourceSpans"][0]["scopeSpans"][0]["spans"][4]
    span["name"] = "MARKER"
    raw = orjson.dumps(request).replace(b"MARKER", b"na\xffme\xfe")
    path = _write(tmp_path / "traces.jsonl", [_line(chunks[1]), raw])
    report = store.ingest(path)
    assert report.spans_added == 20
    (problem,) = report.bad_lines
    assert (problem.path, problem.line) == (str(path), 2)
    assert "U+FFFD in place of 2 invalid UTF-8 sequence(s)" in problem.reason
    assert store.query("SELECT name FROM spans WHERE span_id = ?", [span["spanId"]]) == [("na\ufffdme\ufffd",)]


def test_invalid_utf8_in_a_resource_or_log_body_is_reported(store: TraceStore, tmp_path: Path) -> None:
    record = {"timeUnixNano": "1764547200000000000", "body": {"stringValue": "BODY"}}
    request = {"resourceLogs": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "SVC"}}]},
                                 "scopeLogs": [{"logRecords": [record]}]}]}
    raw = orjson.dumps(request).replace(b"BODY", b"b\xffdy").replace(b"SVC", b"s\xfec")
    path = _write(tmp_path / "logs.jsonl", [raw])
    report = store.ingest(path)
    assert report.logs_added == 1
    assert [(p.line, p.where, p.reason.split(" (")[0]) for p in report.bad_lines] == [
        (1, "$.resourceLogs[0].resource.attributes", "read with U+FFFD in place of 1 invalid UTF-8 sequence(s)"),
        (1, "$.resourceLogs[0].scopeLogs[0].logRecords[0].body",
         "read with U+FFFD in place of 1 invalid UTF-8 sequence(s)")]
    assert store.query("SELECT body, service_name FROM logs") == [("b\ufffddy", "s\ufffdc")]


# --- inputs that used to stop the whole run -------------------------------------------------


@pytest.fixture
def good_file(tmp_path: Path, chunks: list) -> Path:
    """Another file in the same run: it must load whatever the bad one holds."""
    return _write(tmp_path / "traces-good.jsonl", [_line(chunks[2])])


def _only_span(request: dict) -> dict:
    return request["resourceSpans"][0]["scopeSpans"][0]["spans"][0]


HUGE = [("startTimeUnixNano", str(2**64 + 5)), ("endTimeUnixNano", 2**70), ("status.code", 2**40),
        ("kind", -(2**40)), ("flags", 2**33), ("droppedAttributesCount", -1)]


@pytest.mark.parametrize("field, value", HUGE, ids=[f for f, _ in HUGE])
def test_integers_out_of_range_cost_their_span_only(store: TraceStore, tmp_path: Path, chunks: list,
                                                   good_file: Path, field: str, value: object) -> None:
    request = _line(chunks[0])
    span = request["resourceSpans"][0]["scopeSpans"][0]["spans"][4]
    if field == "status.code":
        span["status"] = {"code": value}
    else:
        span[field] = value
    path = tmp_path / "traces.jsonl"
    path.write_bytes(json.dumps(request).encode() + b"\n" + orjson.dumps(_line(chunks[1])) + b"\n")
    report = store.ingest([path, good_file])
    assert report.spans_added == 29
    (problem,) = report.bad_lines
    assert (problem.path, problem.line, problem.where) == (str(path), 1, "$.resourceSpans[0].scopeSpans[0].spans[4]")
    assert field.split(".")[-1] in problem.reason


WRONG = [(level, value) for level in ("scopeSpans", "spans", "attributes", "resource.attributes", "events")
         for value in (7, True, "text", None, 2.5)]


@pytest.mark.parametrize("level, value", WRONG, ids=[f"{lv}={v!r}" for lv, v in WRONG])
def test_a_wrong_type_at_any_level_is_located_and_the_rest_loads(store: TraceStore, tmp_path: Path, chunks: list,
                                                                 good_file: Path, level: str, value: object) -> None:
    request = _line(chunks[0])
    resource_spans = request["resourceSpans"][0]
    if level == "scopeSpans":
        resource_spans["scopeSpans"] = value
        expected_spans, where = 0, "$.resourceSpans[0].scopeSpans"
    elif level == "spans":
        resource_spans["scopeSpans"][0]["spans"] = value
        expected_spans, where = 0, "$.resourceSpans[0].scopeSpans[0].spans"
    elif level == "resource.attributes":
        resource_spans["resource"]["attributes"] = value
        expected_spans, where = 10, "$.resourceSpans[0].resource.attributes"
    else:
        _only_span(request)[level] = value
        expected_spans = 10 if level == "attributes" or value is None else 9
        where = ("span" if level == "attributes" else "$.resourceSpans[0].scopeSpans[0].spans[0]")
    path = _write(tmp_path / "traces.jsonl", [request, _line(chunks[1])])
    report = store.ingest([path, good_file])
    assert report.spans_added == expected_spans + 20
    if value is None:  # null is proto3 JSON's "default": an empty list, nothing to report
        assert report.bad_lines == []
        return
    (problem,) = report.bad_lines
    assert (problem.path, problem.line) == (str(path), 1)
    assert problem.where.startswith(where), problem


@pytest.mark.parametrize("depth", [1_000, 5_000, 100_000])
def test_json_nested_deeper_than_the_parser_goes_is_one_located_problem(store: TraceStore, tmp_path: Path,
                                                                       chunks: list, good_file: Path,
                                                                       depth: int) -> None:
    request = _line(chunks[0])
    _only_span(request)["attributes"].append({"key": "deep", "value": {"stringValue": "MARK"}})
    deep = orjson.dumps(request).replace(b'"MARK"', b"[" * depth + b"]" * depth)
    path = _write(tmp_path / "traces.jsonl", [_line(chunks[1]), deep])
    report = store.ingest([path, good_file])
    assert report.spans_added == 20
    (problem,) = report.bad_lines
    assert (problem.path, problem.line) == (str(path), 2) and "nested" in problem.reason


def test_a_flipped_key_then_malformed_json_is_a_located_problem(store: TraceStore, tmp_path: Path, chunks: list,
                                                               good_file: Path) -> None:
    """The strict decoder stops at the unknown key; the lenient one must not fail on what follows."""
    line = orjson.dumps(_line(chunks[0])).replace(b'"kind"', b'"kine"', 1)  # an optional field's key
    path = _write(tmp_path / "traces.jsonl", [line[:-25], _line(chunks[1])])
    report = store.ingest([path, good_file])
    assert report.spans_added == 20
    (problem,) = report.bad_lines
    assert (problem.path, problem.line) == (str(path), 1) and "invalid JSON" in problem.reason


def test_a_byte_order_mark_does_not_cost_the_first_line(store: TraceStore, tmp_path: Path, chunks: list) -> None:
    path = tmp_path / "traces.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + orjson.dumps(_line(chunks[0])) + b"\n" + orjson.dumps(_line(chunks[1])) + b"\n")
    report = store.ingest(path)
    assert (report.spans_added, report.bad_lines) == (20, [])


TOKENS = [("abc", "stringValue"), (1.5, "doubleValue"), ("-3", "intValue"), (str(2**70), "intValue"),
          (True, "boolValue"), ("1e400", "stringValue")]


@pytest.mark.parametrize("value, member", TOKENS, ids=[f"{m}={v}" for v, m in TOKENS])
def test_an_unreadable_token_count_is_reported_not_a_silent_null(store: TraceStore, tmp_path: Path, chunks: list,
                                                                 value: object, member: str) -> None:
    request = _line(chunks[0])
    span = _only_span(request)
    span["attributes"] = [a for a in span["attributes"] if a["key"] != "gen_ai.usage.output_tokens"]
    span["attributes"].append({"key": "gen_ai.usage.output_tokens", "value": {member: value}})
    path = _write(tmp_path / "traces.jsonl", [_line(chunks[1]), request])
    report = store.ingest(path)
    assert report.spans_added == 20
    (problem,) = report.bad_lines
    assert (problem.path, problem.line, problem.where) == (str(path), 2, f"span {span['spanId']}")
    assert "output_tokens" in problem.reason and "gen_ai.usage.output_tokens" in problem.reason
    assert store.query("SELECT output_tokens, unreadable_columns FROM spans WHERE span_id = ?", [span["spanId"]]) == [
        (None, ["output_tokens"])]


def test_readable_spellings_of_counts_and_an_unreadable_cost(store: TraceStore, tmp_path: Path, chunks: list) -> None:
    request = _line(chunks[0])
    spans = request["resourceSpans"][0]["scopeSpans"][0]["spans"]
    for span, value in zip(spans, ({"stringValue": "12"}, {"doubleValue": 12.0}, {"intValue": 12}, {"intValue": "12"})):
        span["attributes"] = [a for a in span["attributes"] if not a["key"].startswith("gen_ai.usage.")]
        span["attributes"].append({"key": "gen_ai.usage.input_tokens", "value": value})
    spans[5]["attributes"] = [a for a in spans[5]["attributes"] if a["key"] != "gen_ai.usage.cost"] + [
        {"key": "gen_ai.usage.cost", "value": {"doubleValue": "NaN"}}]
    report = store.ingest(_write(tmp_path / "traces.jsonl", [request]))
    assert store.query("SELECT input_tokens FROM spans WHERE span_id IN (?, ?, ?, ?)",
                       [s["spanId"] for s in spans[:4]]) == [(12,)] * 4
    (problem,) = report.bad_lines
    assert "cost_usd" in problem.reason and "NaN" in problem.reason


def test_a_span_ending_before_it_starts_has_no_duration_and_is_reported(store: TraceStore, tmp_path: Path) -> None:
    """A clock step in the producer (end before start) would be a negative latency: it must not pull
    p50 below zero or make a trace's wall time negative. Its start stays; its end and duration are
    left empty and the span is named with its file and line."""
    from otel_llm_analysis import summary, top_traces

    start = 1_764_590_400_000_000_000
    chat = {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o"}

    def span(trace: str, span_id: str, begin: int, end: int) -> dict:
        return {"traceId": trace * 32, "spanId": span_id * 16, "name": "chat gpt-4o", "kind": 3,
                "startTimeUnixNano": str(begin), "endTimeUnixNano": str(end),
                "attributes": [{"key": k, "value": {"stringValue": v}} for k, v in chat.items()]}

    good = [span("a", "1", start, start + 1_000_000_000), span("b", "2", start, start + 3_000_000_000)]
    backwards = span("c", "3", start + 60_000_000_000, start)
    resource = {"attributes": [{"key": "service.name", "value": {"stringValue": "svc"}}]}
    lines = [{"resourceSpans": [{"resource": resource, "scopeSpans": [{"spans": spans}]}]}
             for spans in (good, [backwards])]
    path = _write(tmp_path / "traces.jsonl", lines)
    report = store.ingest(path)
    assert report.spans_added == 3
    (problem,) = report.bad_lines
    assert (problem.path, problem.line) == (str(path), 2)
    assert problem.where.endswith("spans[0]") and "before" in problem.reason
    assert store.query("SELECT start_time IS NOT NULL, end_time, duration_ms FROM spans WHERE span_id = ?",
                       [backwards["spanId"]]) == [(True, None, None)]
    (totals,) = summary(store)
    assert totals.llm_calls == 3
    assert (totals.p50_ms, totals.p95_ms) == (2000.0, pytest.approx(2900.0))
    assert all(t.duration_ms is None or t.duration_ms >= 0 for t in top_traces(store, 5, by="duration"))


def test_a_span_dated_in_the_future_is_kept_and_reported(store: TraceStore, tmp_path: Path) -> None:
    """A start time centuries ahead (a producer's clock, or microseconds read as nanoseconds the
    other way round) stretched ``trends`` over 84,000 zero-filled days without a word: it is now
    named with its file, line and span. The span is kept as sent."""
    now = 1_764_590_400_000_000_000
    far = 9_000_000_000_000_000_000  # 2255-03-14

    def span(span_id: str, start: int) -> dict:
        return {"traceId": span_id * 32, "spanId": span_id * 16, "name": "chat", "kind": 3,
                "startTimeUnixNano": str(start), "endTimeUnixNano": str(start + 10**9),
                "attributes": [{"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}}]}

    resource = {"attributes": [{"key": "service.name", "value": {"stringValue": "svc"}}]}
    line = {"resourceSpans": [{"resource": resource, "scopeSpans": [{"spans": [span("a", now), span("b", far)]}]}]}
    path = _write(tmp_path / "traces.jsonl", [line])
    report = store.ingest(path)
    assert report.spans_added == 2
    (problem,) = report.bad_lines
    assert (problem.path, problem.line) == (str(path), 1)
    assert problem.where.endswith("spans[1]") and "2255-03-14" in problem.reason and "future" in problem.reason


def test_a_byte_order_mark_where_two_files_were_joined_does_not_cost_that_line(store: TraceStore, tmp_path: Path,
                                                                               chunks: list) -> None:
    """``cat a.jsonl b.jsonl > all.jsonl`` where ``b`` began with a byte-order mark puts the mark mid-file."""
    path = tmp_path / "traces.jsonl"
    path.write_bytes(orjson.dumps(_line(chunks[0])) + b"\n" + b"\xef\xbb\xbf" + orjson.dumps(_line(chunks[1])) + b"\n")
    report = store.ingest(path)
    assert (report.spans_added, report.bad_lines) == (20, [])


def test_a_first_token_before_its_span_starts_gives_no_time_to_first_token(store: TraceStore, tmp_path: Path) -> None:
    """A first-token event dated before its span (a clock step, or a time of 0 = unset) made a
    negative time to first token that pulled the p50 below zero in silence."""
    from otel_llm_analysis.summaries import time_to_first_token

    start = 1_764_590_400_000_000_000

    def span(n: int, first_token_ns: int) -> dict:
        return {"traceId": f"{n:032x}", "spanId": f"{n:016x}", "name": "chat", "kind": 3,
                "startTimeUnixNano": str(start), "endTimeUnixNano": str(start + 2 * 10**9),
                "attributes": [{"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}}],
                "events": [{"name": "llm.first_token", "timeUnixNano": str(first_token_ns)}]}

    spans = [span(1, start + 300_000_000), span(2, start + 500_000_000), span(3, start - 10**9), span(4, 0)]
    line = {"resourceSpans": [{"resource": {}, "scopeSpans": [{"spans": spans}]}]}
    path = _write(tmp_path / "traces.jsonl", [line])
    report = store.ingest(path)
    assert report.spans_added == 4
    assert sorted(p.where[-8:] for p in report.bad_lines) == ["spans[2]", "spans[3]"]
    assert all("first" in p.reason and "before" in p.reason for p in report.bad_lines)
    assert store.query("SELECT span_id, stream_ttft_ms FROM spans ORDER BY span_id") == [
        (f"{1:016x}", 300.0), (f"{2:016x}", 500.0), (f"{3:016x}", None), (f"{4:016x}", None)]
    (row,) = time_to_first_token(store)
    assert (row.streams, row.p50_ms) == (2, pytest.approx(400.0))


def test_an_all_zero_parent_id_marks_a_root(store: TraceStore, tmp_path: Path) -> None:
    """Some converters write the W3C invalid id (zeros) instead of leaving the parent out: the span
    is a root, not the child of a span 000…0 that never comes."""
    start = 1_764_590_400_000_000_000
    root = {"traceId": "a" * 32, "spanId": "1" * 16, "parentSpanId": "0" * 16, "name": "handle", "kind": 2,
            "startTimeUnixNano": str(start), "endTimeUnixNano": str(start + 10**9)}
    child = {**root, "spanId": "2" * 16, "parentSpanId": "1" * 16, "name": "step", "kind": 1}
    report = store.ingest(_write(tmp_path / "traces.jsonl",
                                 [{"resourceSpans": [{"resource": {}, "scopeSpans": [{"spans": [root, child]}]}]}]))
    assert (report.spans_added, report.bad_lines) == (2, [])
    assert store.query("SELECT span_id FROM spans WHERE parent_span_id IS NULL") == [("1" * 16,)]


def _heavy(request: dict, index: int, size: int) -> str:
    """Give span ``index`` of ``request`` an attribute of ``size`` bytes (a captured prompt with an image)."""
    value = "x" * size
    request["resourceSpans"][0]["scopeSpans"][0]["spans"][index]["attributes"].append(
        {"key": "gen_ai.input.messages", "value": {"stringValue": value}})
    return value


def test_values_of_tens_of_megabytes_load_into_a_file_store(tmp_path: Path, chunks: list) -> None:
    """A file store ingests under a memory limit (peak RSS); a batch holding values of tens of MB
    gets the memory DuckDB needs for them, not an aborted ingest."""
    first, second = _line(chunks[0]), _line(chunks[1])
    sizes = (_heavy(first, 2, 40 << 20), _heavy(second, 5, 24 << 20))
    path = _write(tmp_path / "traces.jsonl", [first, second, _line(chunks[2])])
    with TraceStore(tmp_path / "heavy.duckdb") as store:
        report = store.ingest(path)
        assert report.bad_lines == [] and report.spans_added == 30
        assert sorted(n for (n,) in store.query(
            "SELECT length(attributes['gen_ai.input.messages']) FROM spans "
            "WHERE attributes['gen_ai.input.messages'] IS NOT NULL")) == sorted(map(len, sizes))


def test_a_value_too_big_for_the_memory_is_one_located_problem(tmp_path: Path, chunks: list,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """When DuckDB cannot take a value even so, only the span holding it is left out - named with its
    file, line and size - and the rest of its batch and file loads."""
    from otel_llm_analysis import ingest as ingest_module

    monkeypatch.setattr(ingest_module, "HEAVY_MEMORY_FACTOR", 0)  # no memory beyond the usual limit
    heavy = _line(chunks[1])
    _heavy(heavy, 4, 48 << 20)
    span = heavy["resourceSpans"][0]["scopeSpans"][0]["spans"][4]
    span_id, at = span["spanId"], span["startTimeUnixNano"]
    span["events"] = [{"name": "gen_ai.choice", "timeUnixNano": at, "attributes": []}] * 2  # lost with it
    path = _write(tmp_path / "traces.jsonl", [_line(chunks[0]), heavy, _line(chunks[2])])
    with TraceStore(tmp_path / "heavy.duckdb") as store:
        report = store.ingest(path)
        (problem,) = report.bad_lines
        assert (problem.path, problem.line, problem.where) == (str(path), 2, f"span {span_id}")
        size = int(problem.reason.split("a value of ")[1].split(" bytes")[0].replace(",", ""))
        assert 48 << 20 < size < (48 << 20) + 4096  # the attribute list holding it
        assert problem.reason == ("not stored (with its 2 event(s)): it holds a value of "
                                  f"{size:,} bytes, more than DuckDB could take in 572.2 MiB of memory"), problem
        assert report.spans_added == 29
        assert store.query("SELECT count(*) FROM spans WHERE span_id = ?", [span_id]) == [(0,)]
        assert store.query("SELECT count(*) FROM spans")[0][0] == 29


def test_a_protobuf_file_whose_name_says_no_signal_is_named_not_read_as_bad_json(store: TraceStore, tmp_path: Path,
                                                                                chunks: list) -> None:
    """The collector's ``format: proto`` files load (tests/analysis/test_ingest_proto.py), their signal
    told by their name; one whose name says none is one problem naming what to do, not a bad-JSON line
    per chance newline in the binary, and is said again until it is renamed."""
    import struct

    from google.protobuf import json_format
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    request = json.loads(json.dumps(_line(chunks[0])))
    for span in request["resourceSpans"][0]["scopeSpans"][0]["spans"]:  # proto-JSON ids are base64
        for key in ("traceId", "spanId", "parentSpanId"):
            if span.get(key):
                span[key] = base64.b64encode(bytes.fromhex(span[key])).decode()
    message = json_format.ParseDict(request, ExportTraceServiceRequest()).SerializeToString()
    proto = tmp_path / "proto" / "export.jsonl"
    proto.parent.mkdir()
    proto.write_bytes((struct.pack(">I", len(message)) + message) * 3)
    good = _write(tmp_path / "traces.jsonl", [_line(chunks[1])])
    for _ in range(2):
        report = store.ingest([proto, good])
        assert [(p.path, p.line, p.reason) for p in report.bad_lines] == [(
            str(proto), 0, "not read: a file in the collector's protobuf format (file exporter `format: proto`) "
                           "whose name says no signal: name it for its traces, metrics or logs (traces.pb), as "
                           "the collector's configuration does")]
        assert [f.status for f in report.files if f.path == str(proto)] == ["skipped"]
    assert store.query("SELECT count(*) FROM spans")[0][0] == 10
    renamed = proto.rename(proto.with_name("traces-export.pb"))
    report = store.ingest([renamed])
    assert report.bad_lines == [] and store.query("SELECT count(*) FROM spans")[0][0] == 20

def test_a_token_count_too_big_to_add_up_costs_only_that_value(store: TraceStore, tmp_path: Path,
                                                              chunks: list) -> None:
    """A count of 2**63-1 input tokens (a producer's overflow or a sentinel) failed the whole ingest
    (INT64 overflow adding it to the output tokens) and would fail every sum after: a count beyond
    2**53 - beyond what a double or the report's JSON holds exactly - is unreadable, reported, and
    the rest of the span, its line and its file load."""
    request = _line(chunks[0])
    span = request["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    span["attributes"] += [{"key": "gen_ai.usage.input_tokens", "value": {"stringValue": str(2**63 - 1)}},
                           {"key": "gen_ai.usage.output_tokens", "value": {"intValue": "1"}}]
    path = _write(tmp_path / "traces.jsonl", [request, _line(chunks[1])])
    report = store.ingest(path)
    assert report.spans_added == 20
    assert [(p.line, p.reason) for p in report.bad_lines] == [
        (1, f"input_tokens left empty: gen_ai.usage.input_tokens = '{2**63 - 1}' is not a non-negative integer "
            "up to 2**53")]
    assert store.query("SELECT input_tokens, output_tokens FROM spans WHERE span_id = ?", [span["spanId"]]) == [
        (None, 1)]
    assert store.query("SELECT count(*) FROM spans WHERE input_tokens = 2 ** 53 - 1") == [(0,)]


def test_an_unreadable_evaluation_score_is_reported_and_the_evaluation_kept(store: TraceStore, tmp_path: Path) -> None:
    """An evaluation event's score that is not a number became a NULL ``eval_score`` without a word: it is now
    named with its file, line and span; the evaluation (name, label) is kept, its score unknown."""
    from tests.support.graded_trace import GRADED, trace_file

    score = "gen_ai.evaluation.score.value"
    trace_file(tmp_path / "a.jsonl", GRADED, trace="1", event_on="answer", event_attrs={score: "high"})
    trace_file(tmp_path / "b.jsonl", GRADED, trace="2", event_on="judge", event_attrs={score: 0.75})
    trace_file(tmp_path / "c.jsonl", GRADED, trace="3", event_on="judge", event_attrs={score: " 1_0"})
    report = store.ingest(tmp_path)
    assert [(p.path, p.line, p.where, p.reason) for p in report.bad_lines] == [
        (str(tmp_path / "a.jsonl"), 1, f"event of span {GRADED['answer'][0]}",
         f"eval_score left empty: {score} = 'high' is not a finite number")]
    assert store.query("SELECT trace_id, eval_name, eval_label, eval_score FROM evaluations ORDER BY trace_id") == [
        ("1" * 32, "relevance", "pass", None), ("2" * 32, "relevance", "pass", 0.75),
        ("3" * 32, "relevance", "pass", 10.0)]
    assert store.ingest(tmp_path).bad_lines == []  # read again: known spans, nothing said twice


NOT_FINITE = ['{"doubleValue":"NaN"}', '{"doubleValue":"Infinity"}', '{"doubleValue":"-Infinity"}',
              '{"stringValue":"nan"}', '{"stringValue":"-inf"}']


@pytest.mark.parametrize("value", NOT_FINITE)
def test_an_evaluation_score_that_is_no_finite_number_is_reported_and_left_empty(store: TraceStore, tmp_path: Path,
                                                                                value: str) -> None:
    """NaN or an infinity as an evaluation's score (OTLP JSON writes a double's as "NaN", "Infinity") was stored
    as read, without a word: one made every average of the scores it entered NaN or infinite. It is now left
    empty and named as a score that is no number is, the evaluation kept; a log record repeating the event (its
    score read the same way) is still its twin, counted once."""
    from otel_llm_analysis import qa
    from tests.support.graded_trace import GRADED, trace_file

    score = "gen_ai.evaluation.score.value"
    path = trace_file(tmp_path / "a.jsonl", GRADED, trace="1", event_on="answer", event_attrs={score: "MARK"})
    path.write_bytes(path.read_bytes().replace(b'{"stringValue":"MARK"}', value.encode()))
    trace_file(tmp_path / "b.jsonl", GRADED, trace="2", event_on="judge", event_attrs={score: 0.75})
    (text,) = json.loads(value).values()
    twin = {"timeUnixNano": "1764000000100000000", "eventName": "gen_ai.evaluation.result", "traceId": "1" * 32,
            "spanId": GRADED["answer"][0], "attributes": [
                {"key": "gen_ai.evaluation.name", "value": {"stringValue": "relevance"}},
                {"key": "gen_ai.evaluation.score.label", "value": {"stringValue": "pass"}},
                {"key": score, "value": json.loads(value)}]}
    _write(tmp_path / "logs.jsonl", [{"resourceLogs": [{"resource": {}, "scopeLogs": [{"logRecords": [twin]}]}]}])
    report = store.ingest(tmp_path)
    assert [(p.path, p.line, p.where, p.reason) for p in report.bad_lines] == [
        (str(path), 1, f"event of span {GRADED['answer'][0]}",
         f"eval_score left empty: {score} = {text!r} is not a finite number")]
    assert store.query("SELECT trace_id, eval_name, eval_label, eval_score FROM evaluations ORDER BY trace_id") == [
        ("1" * 32, "relevance", "pass", None), ("2" * 32, "relevance", "pass", 0.75)]
    (total,) = qa.quality(store, None)
    assert total.passed == 2  # the log record is the event's twin
    assert store.ingest(tmp_path).bad_lines == []  # read again: known spans, nothing said twice
