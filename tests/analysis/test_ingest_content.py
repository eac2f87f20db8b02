"""What was sent is what is stored: links, log event names, every metric kind, exemplars, and a
count of whatever no table keeps."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pytest

from otel_llm_analysis import TraceStore
from otel_llm_analysis._producers import COST_SOURCES
from otel_llm_analysis._rows import STORED
from tests.support.synthetic import key_values

GOLDEN = Path(__file__).resolve().parents[1] / "sdk" / "golden"
TRACE = "5b8efff798038103d269b633813fc60c"
T0 = "1544712660300000000"


def _write(path: Path, *requests: dict[str, Any]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in requests))
    return path


# --- spans and links ----------------------------------------------------------------


def test_the_collectors_span_link_is_stored(store: TraceStore) -> None:
    report = store.ingest(GOLDEN / "collector_traces.jsonl")
    assert report.bad_lines == [] and report.links_added == 1
    assert store.query("SELECT trace_id, span_id, linked_trace_id, linked_span_id, flags, attributes FROM span_links") \
        == [("00000000000000000000000000000002", "0000000000000002", "00000000000000000000000000000001",
             "0000000000000001", 256, {"link.reason": "context"})]
    assert store.ingest(GOLDEN / "collector_traces.jsonl").links_added == 0


def _span(span_id: str, **extra: Any) -> dict[str, Any]:
    return {"traceId": TRACE, "spanId": span_id, "name": "s", "startTimeUnixNano": T0,
            "endTimeUnixNano": "1544712661300000000", **extra}


def _spans(*spans: dict[str, Any], scope: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    return {"resourceSpans": [{"resource": {"attributes": key_values({"service.name": "svc"})},
                               "scopeSpans": [{"scope": scope or {"name": "lib"}, "spans": list(spans), **extra}]}]}


def test_links_trace_state_flags_and_dropped_counts_are_stored(store: TraceStore, tmp_path: Path) -> None:
    links = [{"traceId": "0af7651916cd43dd8448eb211c80319c", "spanId": "b7ad6b7169203331", "traceState": "k=v",
              "attributes": key_values({"why": "retry"}), "droppedAttributesCount": 2, "flags": 1},
             {"traceId": "not-an-id", "spanId": "b7ad6b7169203331"}]
    span = _span("00f067aa0ba902b7", links=links, traceState="vendor=1", flags=769, droppedAttributesCount=3,
                 droppedEventsCount=4, droppedLinksCount=5)
    report = store.ingest(_write(tmp_path / "traces.jsonl", _spans(span, scope={"name": "lib", "version": "1.2"})))
    assert report.spans_added == 1 and report.links_added == 1
    (problem,) = report.bad_lines
    assert (problem.line, problem.where) == (1, "$.resourceSpans[0].scopeSpans[0].spans[0].links[1]")
    assert "not-an-id" in problem.reason
    assert store.query("SELECT linked_trace_id, linked_span_id, linked_trace_state, flags, attributes, "
                       "dropped_attributes_count FROM span_links") == [
        ("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331", "k=v", 1, {"why": "retry"}, 2)]
    assert store.query("SELECT scope_version, trace_state, flags, dropped_attributes_count, dropped_events_count, "
                       "dropped_links_count FROM spans") == [("1.2", "vendor=1", 769, 3, 4, 5)]


def test_enum_numbers_outside_the_enum_are_kept_as_sent(store: TraceStore, tmp_path: Path) -> None:
    metric = {"name": "c", "sum": {"aggregationTemporality": 7, "dataPoints": [{"timeUnixNano": T0, "asInt": "1"}]}}
    report = store.ingest(_write(tmp_path / "x.jsonl", _spans(_span("00f067aa0ba902b7", kind=9)), _metrics(metric)))
    assert report.bad_lines == []
    assert store.query("SELECT span_kind FROM spans") == [("9",)]
    assert store.query("SELECT temporality FROM metric_points") == [("7",)]


# --- logs ------------------------------------------------------------------------------


def _event_record() -> dict[str, Any]:
    """One log record shaped like opentelemetry-proto's examples/events.json."""
    return {
        "eventName": "browser.page_view", "timeUnixNano": T0, "observedTimeUnixNano": T0,
        "severityNumber": 9, "severityText": "test severity text",
        "attributes": key_values({"event.attribute": "some event attribute"}),
        "body": {"kvlistValue": {"values": key_values({
            "type": 0, "url": "https://www.guidgenerator.com/online-guid-generator.aspx",
            "referrer": "https://wwww.google.com", "title": "Free Online GUID Generator"})}},
    }


def _logs(*records: dict[str, Any], scope: dict[str, Any] | None = None) -> dict[str, Any]:
    scope = scope or {"name": "my.library", "version": "1.0.0",
                      "attributes": key_values({"my.scope.attribute": "some scope attribute"})}
    return {"resourceLogs": [{"resource": {"attributes": key_values({"service.name": "my.service"})},
                              "scopeLogs": [{"scope": scope, "logRecords": list(records)}]}]}


def test_three_event_records_that_differ_in_name_or_scope_load_as_three(store: TraceStore, tmp_path: Path) -> None:
    page_view = _event_record()
    click = {**_event_record(), "eventName": "browser.click"}
    other_scope = _logs(_event_record(), scope={"name": "another.library", "version": "2.0.0"})
    report = store.ingest(_write(tmp_path / "logs.jsonl", _logs(page_view, click), other_scope))
    assert (report.logs_added, report.duplicates_skipped, report.bad_lines) == (3, 0, [])
    assert sorted(store.query("SELECT event_name, scope_name, scope_version, severity_number, severity_text, "
                              "observed_time IS NOT NULL, service_name FROM logs")) == [
        ("browser.click", "my.library", "1.0.0", 9, "test severity text", True, "my.service"),
        ("browser.page_view", "another.library", "2.0.0", 9, "test severity text", True, "my.service"),
        ("browser.page_view", "my.library", "1.0.0", 9, "test severity text", True, "my.service"),
    ]
    (body,) = store.query("SELECT DISTINCT body FROM logs")[0]
    assert orjson.loads(body) == _event_record()["body"]["kvlistValue"]
    assert store.ingest(tmp_path / "logs.jsonl").lines_read == 0


VARIANTS = {
    "event name": lambda r, s: r.update(eventName="other.event"),
    "scope name": lambda r, s: s.update(name="other.library"),
    "scope version": lambda r, s: s.update(version="9.9"),
    "scope attributes": lambda r, s: s.update(attributes=key_values({"my.scope.attribute": "other"})),
    "severity text": lambda r, s: r.update(severityText="WARN"),
    "observed time": lambda r, s: r.update(observedTimeUnixNano="1544712660400000000"),
    "flags": lambda r, s: r.update(flags=1),
    "body type": lambda r, s: r.update(body={"stringValue": "0"}) or None,
    "dropped attributes": lambda r, s: r.update(droppedAttributesCount=1),
}


@pytest.mark.parametrize("variant", VARIANTS, ids=list(VARIANTS))
def test_the_log_key_covers_everything_that_makes_two_records_differ(store: TraceStore, tmp_path: Path,
                                                                     variant: str) -> None:
    first = _logs(_event_record())
    second = copy.deepcopy(first)
    if variant == "body type":  # "0" the string and 0 the int render alike; they are still two records
        first["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]["body"] = {"intValue": "0"}
    VARIANTS[variant](second["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0],
                      second["resourceLogs"][0]["scopeLogs"][0]["scope"])
    report = store.ingest(_write(tmp_path / "logs.jsonl", first, second, first))
    assert (report.logs_added, report.duplicates_skipped) == (2, 1)


# --- metrics --------------------------------------------------------------------------

EXEMPLAR = {"timeUnixNano": T0, "asDouble": 2.5, "traceId": TRACE, "spanId": "00f067aa0ba902b7",
            "filteredAttributes": key_values({"user.id": "u1"})}


def _metrics(*metrics: dict[str, Any]) -> dict[str, Any]:
    return {"resourceMetrics": [{"resource": {"attributes": key_values({"service.name": "svc"})},
                                 "scopeMetrics": [{"scope": {"name": "m", "version": "3"},
                                                   "metrics": list(metrics)}]}]}


def test_exponential_histograms_summaries_and_exemplars_are_stored(store: TraceStore, tmp_path: Path) -> None:
    expo = {"name": "latency", "unit": "s", "description": "request latency", "exponentialHistogram": {
        "aggregationTemporality": 1, "dataPoints": [{
            "startTimeUnixNano": T0, "timeUnixNano": "1544712670300000000", "count": "9", "sum": 12.5, "scale": 3,
            "zeroCount": "1", "zeroThreshold": 0.001, "positive": {"offset": -2, "bucketCounts": ["1", "0", "4"]},
            "negative": {"offset": 1, "bucketCounts": ["3"]}, "min": -2.0, "max": 4.5, "flags": 0,
            "exemplars": [EXEMPLAR], "attributes": key_values({"route": "/chat"})}]}}
    summary = {"name": "sizes", "summary": {"dataPoints": [{
        "timeUnixNano": T0, "count": "4", "sum": 10.0,
        "quantileValues": [{"quantile": 0.0, "value": 1.0}, {"quantile": 0.5, "value": 2.0},
                           {"quantile": 1.0, "value": 5.0}]}]}}
    histogram = {"name": "tokens", "histogram": {"aggregationTemporality": 2, "dataPoints": [{
        "timeUnixNano": T0, "count": "2", "sum": 13, "bucketCounts": ["1", "1"], "explicitBounds": [5],
        "exemplars": [{**EXEMPLAR, "asInt": "7", "asDouble": None}], "flags": 1}]}}
    path = _write(tmp_path / "metrics.jsonl", _metrics(expo, summary, histogram))
    report = store.ingest(path)
    assert (report.bad_lines, report.metric_points_added, report.exemplars_added) == ([], 3, 2)
    assert store.query(
        "SELECT metric_type, description, unit, temporality, count, sum, min, max, scale, zero_count, zero_threshold,"
        " positive_offset, positive_bucket_counts, negative_offset, negative_bucket_counts, scope_version, "
        " attributes FROM metric_points WHERE metric_name = 'latency'") == [
        ("exponential_histogram", "request latency", "s", "delta", 9, 12.5, -2.0, 4.5, 3, 1, 0.001, -2, [1, 0, 4], 1,
         [3], "3", {"route": "/chat"})]
    assert store.query("SELECT count, sum, quantile_values FROM metric_points WHERE metric_name = 'sizes'") == [
        (4, 10.0, [{"quantile": 0.0, "value": 1.0}, {"quantile": 0.5, "value": 2.0},
                   {"quantile": 1.0, "value": 5.0}])]
    assert store.query("SELECT flags FROM metric_points WHERE metric_name = 'tokens'") == [(1,)]
    assert sorted(store.query(
        "SELECT e.metric_name, e.value, e.trace_id, e.span_id, e.attributes, e.time IS NOT NULL "
        "FROM metric_exemplars e JOIN metric_points p ON p.row_key = e.point_key")) == [
        ("latency", 2.5, TRACE, "00f067aa0ba902b7", {"user.id": "u1"}, True),
        ("tokens", 7.0, TRACE, "00f067aa0ba902b7", {"user.id": "u1"}, True),
    ]
    copy_path = tmp_path / "metrics-copy.jsonl"
    copy_path.write_bytes(path.read_bytes())
    again = store.ingest(copy_path)  # a replay: the points are known, their exemplars not repeated
    assert (again.metric_points_added, again.exemplars_added, again.duplicates_skipped) == (0, 0, 3)


def test_points_that_differ_only_in_exemplars_are_two_points(store: TraceStore, tmp_path: Path) -> None:
    point = {"timeUnixNano": T0, "asDouble": 1.0, "exemplars": [EXEMPLAR]}
    other = {**point, "exemplars": [{**EXEMPLAR, "asDouble": 9.0}]}
    report = store.ingest(_write(tmp_path / "m.jsonl", _metrics({"name": "g", "gauge": {"dataPoints": [point]}}),
                                 _metrics({"name": "g", "gauge": {"dataPoints": [other]}})))
    assert (report.metric_points_added, report.exemplars_added) == (2, 2)


# --- what is not kept is counted ---------------------------------------------------------


def test_what_no_table_keeps_is_counted_in_the_report(store: TraceStore, tmp_path: Path) -> None:
    spans = _spans(_span("00f067aa0ba902b7"), schemaUrl="https://opentelemetry.io/schemas/1.30.0",
                   scope={"name": "lib", "attributes": key_values({"a": 1}), "droppedAttributesCount": 1})
    spans["resourceSpans"][0]["schemaUrl"] = "https://opentelemetry.io/schemas/1.30.0"
    spans["resourceSpans"][0]["resource"]["droppedAttributesCount"] = 2
    spans["resourceSpans"][0]["resource"]["entityRefs"] = [{"type": "service", "idKeys": ["service.name"]}]
    metrics = _metrics({"name": "g", "metadata": key_values({"m": "x"}),
                        "gauge": {"dataPoints": [{"timeUnixNano": T0, "asInt": "1"}]}})
    report = store.ingest(_write(tmp_path / "mixed.jsonl", spans, spans, metrics))
    assert report.bad_lines == []
    assert report.not_kept == {
        "scope schema URLs": 2, "resource schema URLs": 2, "scope attribute lists": 2,
        "scope dropped-attribute counts": 2, "resource dropped-attribute counts": 2, "resource entity references": 2,
        "metric metadata lists": 1}
    assert "; not kept: " in report.summary() and "2 resource schema URLs" in report.summary()


# --- one shape, derived -----------------------------------------------------------------


def test_each_table_in_the_store_has_exactly_the_columns_of_its_definition(store: TraceStore) -> None:
    for table in STORED:
        rows = store.query("SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ?", [table.name])
        assert [r[0] for r in rows] == [c.name for c in table.stored], table.name


def test_a_store_made_before_a_column_existed_gains_it(tmp_path: Path) -> None:
    db = tmp_path / "old.duckdb"
    with TraceStore(db):
        pass
    con = duckdb.connect(str(db))  # as an older version left it: without the newer columns
    con.execute("DROP VIEW spans CASCADE; DROP VIEW IF EXISTS llm_calls; DROP VIEW IF EXISTS evaluations")
    for column in ("flags", "trace_state", "unreadable_columns"):
        con.execute(f"ALTER TABLE span_rows DROP COLUMN {column}")
    con.execute("DROP TABLE span_links")
    con.close()
    with TraceStore(db) as store:
        report = store.ingest(GOLDEN / "collector_traces.jsonl")
        assert report.bad_lines == [] and report.links_added == 1
        assert store.query("SELECT count(*) FROM spans WHERE flags = 256") == [(3,)]


def test_every_column_comment_is_its_current_note_also_in_a_store_made_by_an_older_version(tmp_path: Path) -> None:
    db = tmp_path / "old.duckdb"
    with TraceStore(db):
        pass
    con = duckdb.connect(str(db))  # notes as older versions left them: another meaning, or none (SQL comments)
    con.execute("COMMENT ON COLUMN span_rows.model IS 'response model, else request model'")
    con.execute("COMMENT ON COLUMN span_rows.cost_usd IS NULL")
    con.execute("COMMENT ON COLUMN logs.event_name IS NULL")
    con.close()
    with TraceStore(db) as store:
        for table in STORED:
            comments = store.query("SELECT column_name, comment FROM duckdb_columns() WHERE table_name = ?",
                                   [table.name])
            assert comments == [(c.name, c.doc or None) for c in table.stored], table.name


def test_the_readme_table_contract_names_only_real_columns(store: TraceStore) -> None:
    import re

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    contract = readme[readme.index("### Tables (the contract for your SQL)"):readme.index("**Ingest guarantees.**")]
    tables = {"spans": "spans", "span_events": "span_events", "span_links": "span_links",
              "metric_points": "metric_points", "metric_exemplars": "metric_exemplars", "logs": "logs",
              "resources": "resources"}
    for row in contract.splitlines():
        cells = row.split(" | ")
        name = re.match(r"\| `(\w+)`", row)
        if not name or name.group(1) not in tables:
            continue
        columns = {c for (c,) in store.query("SELECT column_name FROM duckdb_columns() WHERE table_name = ? "
                                             "UNION SELECT column_name FROM (DESCRIBE spans) WHERE ? = 'spans'",
                                             [tables[name.group(1)], name.group(1)])}
        named = {n for group in re.findall(r"`([^`]+)`", cells[-1]) for n in re.split(r"[,/ ]+", group) if n}
        named -= {"chat", "graph_node", "vector_op", "llm_call", "tool", "agent", "gauge", "sum", "histogram",
                  "exponential_histogram", "summary", "gen_ai.evaluation.result", "{quantile", "value}",
                  "metric_points.row_key", "=", "OpenAI", "openai", *COST_SOURCES, "genai-prices@<version>", "user"}
        assert named <= columns, (name.group(1), named - columns)


# --- resources: stored once each --------------------------------------------------------


def _resource_spans(resource: Any, *spans: dict[str, Any]) -> dict[str, Any]:
    return {"resource": resource, "scopeSpans": [{"scope": {"name": "lib"}, "spans": list(spans)}]}


def test_each_resource_is_stored_once_across_lines_files_and_ingests(store: TraceStore, tmp_path: Path) -> None:
    web = {"attributes": key_values({"service.name": "web", "host.name": "h1"})}
    worker = {"attributes": key_values({"service.name": "worker", "otel_llm.project": "p"})}
    spaced = {"attributes": orjson.loads(orjson.dumps(web["attributes"], option=orjson.OPT_INDENT_2))}
    first = _write(tmp_path / "a.jsonl", {"resourceSpans": [_resource_spans(web, _span("0000000000000001")),
                                                            _resource_spans(worker, _span("0000000000000002"))]},
                   {"resourceSpans": [_resource_spans(web, _span("0000000000000003"))]})
    assert store.ingest(first).spans_added == 3
    second = _write(tmp_path / "b.jsonl", {"resourceSpans": [_resource_spans(spaced, _span("0000000000000004"))]})
    third = _write(tmp_path / "c.jsonl", {"resourceSpans": [_resource_spans(worker, _span("0000000000000005"))]})
    assert store.ingest([second, third]).spans_added == 2
    assert store.query("SELECT resource_id, resource_attributes['service.name'] FROM resources ORDER BY 1") == [
        (1, "web"), (2, "worker")]  # numbered without gaps, in the order first read
    assert store.query("SELECT span_id, service_name, project, resource_attributes FROM spans ORDER BY span_id") == [
        ("0000000000000001", "web", None, {"service.name": "web", "host.name": "h1"}),
        ("0000000000000002", "worker", "p", {"service.name": "worker", "otel_llm.project": "p"}),
        ("0000000000000003", "web", None, {"service.name": "web", "host.name": "h1"}),
        ("0000000000000004", "web", None, {"service.name": "web", "host.name": "h1"}),
        ("0000000000000005", "worker", "p", {"service.name": "worker", "otel_llm.project": "p"}),
    ]


def test_odd_resources_are_stored_once_each_as_what_their_spans_showed_before(store: TraceStore,
                                                                              tmp_path: Path) -> None:
    repeated = {"attributes": key_values({"service.name": "old"}) + key_values({"service.name": "new"})}
    not_a_list = {"attributes": {"service.name": "x"}}
    path = _write(tmp_path / "t.jsonl", {"resourceSpans": [
        _resource_spans(repeated, _span("0000000000000001")),
        _resource_spans(not_a_list, _span("0000000000000002")),
        _resource_spans(None, _span("0000000000000003")),
        {"scopeSpans": [{"spans": [_span("0000000000000004")]}]},
    ]})
    report = store.ingest(path)
    assert report.spans_added == 4
    assert [(p.where, p.reason.split(":")[0]) for p in report.bad_lines] == [
        ("$.resourceSpans[1].resource.attributes", "ignored attributes"),
        ("$.resourceSpans[0].resource: attributes", "1 attribute entry not kept as sent")]  # the earlier service.name
    assert store.query("SELECT span_id, service_name, resource_attributes FROM spans ORDER BY span_id") == [
        ("0000000000000001", "new", {"service.name": "new"}),
        ("0000000000000002", None, {}),
        ("0000000000000003", None, {}),
        ("0000000000000004", None, {}),
    ]
    assert store.query("SELECT count(*) FROM resources") == [(2,)]  # {service.name: new} and {}


def _answers(store: TraceStore) -> dict[str, list[tuple[Any, ...]]]:
    return {view: store.query(f"SELECT * FROM {view} ORDER BY ALL")
            for view in ("spans", "llm_calls", "tool_calls", "logs", "metric_points", "trace_summary")}


def test_a_store_made_with_a_resource_map_on_every_span_is_converted_and_answers_the_same(tmp_path: Path) -> None:
    from tests.support.synthetic import generate

    generate(tmp_path / "data", seed=3, traces=60, peer_spans=True, agents="otel_llm", keep_records=False)
    db = tmp_path / "old.duckdb"
    with TraceStore(db) as store:
        store.ingest([tmp_path / "data", GOLDEN / "collector_traces.jsonl"])
        before = _answers(store)
        (resources,) = store.query("SELECT count(*) FROM resources")[0]
    con = duckdb.connect(str(db))  # as an older version left it: each span's resource MAP on the span
    con.execute("ALTER TABLE span_rows ADD COLUMN resource_attributes MAP(VARCHAR, VARCHAR)")
    con.execute("UPDATE span_rows SET resource_attributes = r.resource_attributes FROM resources r "
                "WHERE r.resource_id = span_rows.resource_id")
    con.execute("DROP VIEW spans CASCADE; DROP VIEW llm_calls CASCADE")
    con.execute("ALTER TABLE span_rows DROP COLUMN resource_id")
    con.execute("DROP TABLE resources")
    con.execute("CREATE VIEW spans AS SELECT * EXCLUDE (attr_keys, attr_values, resource_attributes, source_file), "
                "map(attr_keys, attr_values) AS attributes, resource_attributes, attr_keys, attr_values, source_file "
                "FROM span_rows")
    con.close()
    with TraceStore(db) as store:
        assert "resource_attributes" not in [r[0] for r in store.query("DESCRIBE span_rows")]
        assert store.query("SELECT count(*), count(resource_id) FROM span_rows")[0] == (len(before["spans"]),) * 2
        assert store.query("SELECT count(*), min(resource_id), max(resource_id) FROM resources") == [
            (resources, 1, resources)]
        assert _answers(store) == before
        again = tmp_path / "again.jsonl"  # a copy: read again, its resource found under the converted key
        again.write_bytes((GOLDEN / "collector_traces.jsonl").read_bytes())
        report = store.ingest(again)
        assert report.duplicates_skipped == 3 and report.spans_added == 0
        assert store.query("SELECT count(*) FROM resources") == [(resources,)]
