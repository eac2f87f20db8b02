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


def _traces(resource: list = SERVICE, event: list = CLEAN, link: list = CLEAN) -> dict:
    """Two spans, each with two events and a link; the second span's second event and its link get ``event``
    and ``link``."""
    spans = [{"traceId": "ab" * 16, "spanId": f"{i + 1:016x}", "name": f"op{i}", "kind": 1,
              "startTimeUnixNano": str(T0 + i), "endTimeUnixNano": str(T0 + i + 1000), "attributes": CLEAN,
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


#: case -> (the three lines' arguments, the line named, where, the SQL reading the map that lost entries)
CASES: dict[str, tuple[dict[str, Any], dict[str, Any], dict[str, Any], int, str, str]] = {
    "span event": ({"event": LOSSY}, {}, {}, 1, f"event of span {2:016x}: attributes",
                   f"SELECT attributes FROM span_events WHERE span_id = '{2:016x}' AND name = 'second'"),
    "span link": ({"link": LOSSY}, {}, {}, 1, f"link of span {2:016x}: attributes",
                  f"SELECT attributes FROM span_links WHERE span_id = '{2:016x}'"),
    "metric point": ({}, {"point": LOSSY}, {}, 2, "metric 'm' point: attributes",
                     "SELECT attributes FROM metric_points WHERE value = 1"),
    "exemplar": ({}, {"exemplar": LOSSY}, {}, 2, "exemplar of metric 'm': attributes",
                 "SELECT e.attributes FROM metric_exemplars e JOIN metric_points p ON e.point_key = p.row_key "
                 "WHERE p.value = 1"),
    "log record": ({}, {}, {"record": LOSSY}, 3, "log record: attributes",
                   "SELECT attributes FROM logs WHERE body = 'r1'"),
    # one resource, of the points and the log records: named once, where it is first met
    "resource": ({}, {"resource": LOSSY}, {"resource": LOSSY}, 2, "$.resourceMetrics[0].resource: attributes",
                 "SELECT DISTINCT resource_attributes FROM metric_points UNION ALL "
                 "SELECT DISTINCT resource_attributes FROM logs"),
}


@pytest.mark.parametrize("case", CASES)
def test_entries_no_map_keeps_are_named_with_file_and_line(store: TraceStore, tmp_path: Path, case: str) -> None:
    traces, metrics, logs, line, where, sql = CASES[case]
    path = tmp_path / "data.jsonl"
    path.write_bytes(b"".join(orjson.dumps(request) + b"\n"
                              for request in (_traces(**traces), _metrics(**metrics), _logs(**logs))))
    report = store.ingest(path)
    assert [(p.path, p.line, p.where, p.reason) for p in report.bad_lines] == [(str(path), line, where, REASON)]
    assert (report.spans_added, report.events_added, report.links_added, report.metric_points_added,
            report.exemplars_added, report.logs_added) == (2, 4, 2, 2, 2, 2)
    assert [dict(m) for (m,) in store.query(sql)] == [KEPT] * (2 if case == "resource" else 1)
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
