"""Attribute entries no map can keep, wherever a list of them is stored: each named with its file and line.

A span's attribute entry that is not a key/value object or has no key is left out of its map, and a key given
twice keeps its last value; the ingest names the span (test_ingest_bad_input.py). The same lists of span events,
links, log records, metric points, exemplars and resources lost such entries without a word: each record (each
resource, once: the store keeps it once) is now named with its file, line and the entries, and everything else
is stored as before. Scope attribute lists are kept by no table at all (counted in the report's ``not_kept``).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import orjson
import pytest

from otel_llm_analysis import TraceStore
from tests.support.synthetic import key_values

T0 = 1_764_000_000_000_000_000
#: Entries a map cannot keep: no key, not an object, and a key given twice.
LOSSY = [*key_values({"a": "1"}), {"value": {"stringValue": "x"}}, 7, *key_values({"b": "first"}),
         *key_values({"b": "last"})]
KEPT = {"a": "1", "b": "last"}
REASON = ("3 attribute entries not kept as sent: attributes[1] has no key; attributes[2] is not a key/value "
          "object (7); key 'b' given 2 times (attributes[3], [4]), its last value kept")
CLEAN = key_values({"c": "3"})
SERVICE = key_values({"service.name": "svc"})


def _traces(resource: list = SERVICE, span: list = CLEAN, event: list = CLEAN, link: list = CLEAN) -> dict:
    """Two spans, each with two events and a link; the second span, its second event and its link get ``span``,
    ``event`` and ``link``."""
    spans = [{"traceId": "ab" * 16, "spanId": f"{i + 1:016x}", "name": f"op{i}", "kind": 1,
              "startTimeUnixNano": str(T0 + i), "endTimeUnixNano": str(T0 + i + 1000),
              "attributes": span if i else CLEAN,
              "events": [{"timeUnixNano": str(T0 + i + 1), "name": "first", "attributes": CLEAN},
                         {"timeUnixNano": str(T0 + i + 2), "name": "second", "attributes": event if i else CLEAN}],
              "links": [{"traceId": "cd" * 16, "spanId": f"{i + 9:016x}", "attributes": link if i else CLEAN}]}
             for i in range(2)]
    return {"resourceSpans": [{"resource": {"attributes": resource},
                               "scopeSpans": [{"scope": {"name": "s"}, "spans": spans}]}]}


def _metrics(resource: list = SERVICE, point: list = CLEAN, exemplar: list = CLEAN) -> dict:
    """A gauge of two points (values 0 and 1), each with an exemplar; the second gets ``point`` and
    ``exemplar``."""
    points = [{"timeUnixNano": str(T0 + i), "startTimeUnixNano": str(T0), "asDouble": float(i),
               "attributes": point if i else CLEAN,
               "exemplars": [{"timeUnixNano": str(T0 + i), "asDouble": 1.0,
                              "filteredAttributes": exemplar if i else CLEAN}]} for i in range(2)]
    return {"resourceMetrics": [{"resource": {"attributes": resource}, "scopeMetrics": [
        {"scope": {"name": "s"}, "metrics": [{"name": "m", "gauge": {"dataPoints": points}}]}]}]}


def _logs(resource: list = SERVICE, record: list = CLEAN) -> dict:
    """Two log records (bodies r0, r1); the second gets ``record``."""
    records = [{"timeUnixNano": str(T0 + i), "severityNumber": 9, "body": {"stringValue": f"r{i}"},
                "attributes": record if i else CLEAN} for i in range(2)]
    return {"resourceLogs": [{"resource": {"attributes": resource},
                              "scopeLogs": [{"scope": {"name": "s"}, "logRecords": records}]}]}


_LINES = (_traces, _metrics, _logs)
#: case -> (the lines' arguments that get the attribute list: (line index, argument), the line named, where,
#: the SQL reading the map(s) made of it)
CASES: dict[str, tuple[tuple[tuple[int, str], ...], int, str, str]] = {
    "span": (((0, "span"),), 1, f"span {2:016x}: attributes",
             f"SELECT attributes FROM spans WHERE span_id = '{2:016x}'"),
    "span event": (((0, "event"),), 1, f"event of span {2:016x}: attributes",
                   f"SELECT attributes FROM span_events WHERE span_id = '{2:016x}' AND name = 'second'"),
    "span link": (((0, "link"),), 1, f"link of span {2:016x}: attributes",
                  f"SELECT attributes FROM span_links WHERE span_id = '{2:016x}'"),
    "metric point": (((1, "point"),), 2, "metric 'm' point: attributes",
                     "SELECT attributes FROM metric_points WHERE value = 1"),
    "exemplar": (((1, "exemplar"),), 2, "exemplar of metric 'm': attributes",
                 "SELECT e.attributes FROM metric_exemplars e JOIN metric_points p ON e.point_key = p.row_key "
                 "WHERE p.value = 1"),
    "log record": (((2, "record"),), 3, "log record: attributes", "SELECT attributes FROM logs WHERE body = 'r1'"),
    # one resource, of the points and the log records: named once, where it is first met
    "resource": (((1, "resource"), (2, "resource")), 2, "$.resourceMetrics[0].resource: attributes",
                 "SELECT DISTINCT resource_attributes FROM metric_points UNION ALL "
                 "SELECT DISTINCT resource_attributes FROM logs"),
}

#: A value with two members set (intValue and stringValue) beside an empty one: as many members as entries, so
#: the lists looked aligned and put the second member on the empty value's key. A value with several members is
#: read as its first in ``_attribute_entries.VALUE_MEMBERS``' order: stringValue here, whatever the order sent.
TWO_MEMBERS = [*key_values({"a": "1"}), {"key": "m", "value": {"intValue": "3", "stringValue": "s"}},
               {"key": "e", "value": {}}]
TWO_KEPT = {"a": "1", "m": "s", "e": None}
TWO_REASON = ("1 attribute entry not kept as sent: attributes[1] (key 'm') has 2 values (intValue, stringValue), "
              "its stringValue kept")
#: variant -> (attribute list, the map stored, the reason)
LISTS = {"entries": (LOSSY, KEPT, REASON), "two values": (TWO_MEMBERS, TWO_KEPT, TWO_REASON)}


@pytest.mark.parametrize("variant", LISTS)
@pytest.mark.parametrize("case", CASES)
def test_entries_no_map_keeps_are_named_with_file_and_line(store: TraceStore, tmp_path: Path, case: str,
                                                           variant: str) -> None:
    places, line, where, sql = CASES[case]
    attributes, kept, reason = LISTS[variant]
    arguments: list[dict[str, Any]] = [{}, {}, {}]
    for index, name in places:
        arguments[index][name] = attributes
    path = tmp_path / "data.jsonl"
    path.write_bytes(b"".join(orjson.dumps(make(**given)) + b"\n" for make, given in zip(_LINES, arguments)))
    report = store.ingest(path)
    assert [(p.path, p.line, p.where, p.reason) for p in report.bad_lines] == [(str(path), line, where, reason)]
    assert (report.spans_added, report.events_added, report.links_added, report.metric_points_added,
            report.exemplars_added, report.logs_added) == (2, 4, 2, 2, 2, 2)
    assert [dict(m) for (m,) in store.query(sql)] == [kept] * len(places)
    assert store.query("SELECT count(*) FROM resources") == [(2 if case == "resource" else 1,)]
    copy = shutil.copy(path, tmp_path / "copy.jsonl")  # the same records again: nothing new, nothing said twice
    again = store.ingest(copy)
    assert (again.bad_lines, again.duplicates_skipped) == ([], 6)


def test_a_clean_file_names_nothing(store: TraceStore, tmp_path: Path) -> None:
    """The same lines without such entries load without a word (a key given once, an entry with an empty value:
    kept, its value NULL)."""
    path = tmp_path / "data.jsonl"
    empty_value = [*CLEAN, {"key": "e", "value": {}}]
    path.write_bytes(b"".join(orjson.dumps(request) + b"\n" for request in (
        _traces(event=empty_value, link=empty_value), _metrics(point=empty_value, exemplar=empty_value),
        _logs(resource=[*SERVICE, {"key": "e"}], record=empty_value))))
    report = store.ingest(path)
    assert report.bad_lines == [] and report.logs_added == 2
    assert store.query("SELECT attributes FROM logs WHERE body = 'r1'") == [({"c": "3", "e": None},)]


#: One value of each AnyValue member.
MEMBER_VALUES = {"stringValue": "s", "intValue": "7", "doubleValue": 2.5, "boolValue": True,
                 "arrayValue": {"values": [{"stringValue": "x"}]},
                 "kvlistValue": {"values": [{"key": "k", "value": {"intValue": "1"}}]}, "bytesValue": "Ynl0ZXM="}


def test_a_value_with_several_members_stores_what_its_first_member_alone_stores(store: TraceStore,
                                                                                 tmp_path: Path) -> None:
    """The order the README gives (string, int, double, bool, array, kvlist, bytes): each pair of members that
    follow each other in it, sent the other way round, stores what the first alone stores."""
    order = ["stringValue", "intValue", "doubleValue", "boolValue", "arrayValue", "kvlistValue", "bytesValue"]
    pairs = [{"key": first, "value": {second: MEMBER_VALUES[second], first: MEMBER_VALUES[first]}}
             for first, second in zip(order, order[1:])]
    alone = [{"key": name, "value": {name: value}} for name, value in MEMBER_VALUES.items()]
    path = tmp_path / "logs.jsonl"
    path.write_bytes(orjson.dumps(_logs(record=pairs)) + b"\n" + orjson.dumps(_logs(record=alone)) + b"\n")
    report = store.ingest(path)
    assert [(p.line, p.reason.split(":")[0]) for p in report.bad_lines] == [
        (1, f"{len(pairs)} attribute entries not kept as sent")]
    assert [f"({second}, {first}), its {first} kept" in report.bad_lines[0].reason
            for first, second in zip(order[:5], order[1:6])] == [True] * 5  # the reason names five at most
    sent, single = sorted((dict(m) for (m,) in store.query("SELECT attributes FROM logs WHERE body = 'r1'")), key=len)
    assert sent == {name: single[name] for name in order[:-1]}
