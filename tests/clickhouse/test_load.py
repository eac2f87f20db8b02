"""``otel-llm load FILES --to clickhouse://…`` over ClickHouse's HTTP interface (chdb behind the stand-in).

The command runs as a user runs it (Typer app, clickhouse-connect over HTTP) on
the generated data of the analysis tests: every span, log record and metric
point arrives, a second run adds nothing, bad lines are located as ``ingest``
locates them while the rest loads, and the usual mistakes are one line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from otel_llm.cli import app as root_app
from otel_llm_analysis.clickhouse import load
from tests.support.clickhouse_http import ChdbHttpServer
from tests.support.synthetic import generate


def run(*args: str) -> Any:
    return CliRunner().invoke(root_app, list(args), env={"COLUMNS": "200"})


def count(server: ChdbHttpServer, database: str, table: str) -> int:
    return int(json.loads(server.query(f"SELECT count() AS n FROM `{database}`.`{table}`"))["n"])


def test_load_puts_every_span_record_and_point_in_the_exporters_tables_once(
        tmp_path: Path, clickhouse_http: ChdbHttpServer, clickhouse_url: str, database: str) -> None:
    data = generate(tmp_path / "dump", traces=60, peer_spans=True, agents="openinference")
    first = run("load", str(tmp_path / "dump"), "--to", clickhouse_url)
    assert first.exit_code == 0, first.output
    assert f"+{len(data.spans)} spans" in first.output and f"+{len(data.logs)} logs" in first.output
    assert count(clickhouse_http, database, "otel_traces") == len(data.spans)
    assert count(clickhouse_http, database, "otel_logs") == len(data.logs)
    points = sum(count(clickhouse_http, database, t) for t in
                 ("otel_metrics_sum", "otel_metrics_gauge", "otel_metrics_histogram",
                  "otel_metrics_exponential_histogram", "otel_metrics_summary"))
    assert points == len(data.metric_points)
    stored = {(r["TraceId"], r["SpanId"]) for r in map(json.loads, clickhouse_http.query(
        f"SELECT TraceId, SpanId FROM `{database}`.otel_traces").splitlines())}
    assert stored == {(s.trace_id, s.span_id) for s in data.spans}

    again = run("load", str(tmp_path / "dump"), "--to", clickhouse_url)
    assert again.exit_code == 0, again.output
    assert "+0 spans" in again.output and "+0 metric points" in again.output and "+0 logs" in again.output
    assert count(clickhouse_http, database, "otel_traces") == len(data.spans)
    assert count(clickhouse_http, database, "otel_logs") == len(data.logs)


def test_bad_lines_are_located_and_the_rest_loads(tmp_path: Path, clickhouse_http: ChdbHttpServer,
                                                  clickhouse_url: str, database: str) -> None:
    data = generate(tmp_path / "dump", traces=10)
    traces = next(p for p in data.files if p.name.startswith("traces"))
    lines = traces.read_bytes().splitlines(keepends=True)
    bad = tmp_path / "dump" / "traces-bad.jsonl"
    bad.write_bytes(lines[0] + b'{"resourceSpans": [oops\n' + b'{"resourceSpans": 7}\n')
    result = run("load", str(tmp_path / "dump"), "--to", clickhouse_url)
    assert result.exit_code == 3, result.output
    assert f"bad line {bad}:2: invalid JSON" in result.output
    assert f"bad line {bad}:3" in result.output
    # the good first line of the bad file repeats spans of traces.jsonl: loaded once
    assert count(clickhouse_http, database, "otel_traces") == len(data.spans)


def test_what_a_directory_holds_but_is_not_read_is_said_as_ingest_says_it(
        tmp_path: Path, clickhouse_http: ChdbHttpServer, clickhouse_url: str, database: str) -> None:
    """A file named for a signal that is not data beside the live file, and an ``otel-llm export`` kept in
    the data directory: ``otel-llm ingest`` names both, ``otel-llm load`` to ClickHouse passed over them
    without a word (exit 0). logrotate's gzipped copy loads, as ingest loads it."""
    import gzip

    data = generate(tmp_path / "dump", traces=5)
    rotated = generate(tmp_path / "older", traces=3, seed=7)
    backup = tmp_path / "dump" / "traces.jsonl.2.gz"
    backup.write_bytes(gzip.compress((tmp_path / "older" / "traces.jsonl").read_bytes()))
    old = tmp_path / "dump" / "traces.jsonl.old"
    old.write_bytes(b"{}\n")
    export = tmp_path / "dump" / "exports" / "day=2026-01-02"
    export.mkdir(parents=True)
    (export / "data_0.json").write_text('{"trace_id": "ab"}\n')
    result = run("load", str(tmp_path / "dump"), "--to", clickhouse_url)
    assert result.exit_code == 3, result.output
    assert f"{old}:0: not read: not a data file name" in result.output
    assert f"skipped `otel-llm export` output (rows of a store, not OTLP): {tmp_path / 'dump' / 'exports'}" \
        in result.output
    assert count(clickhouse_http, database, "otel_traces") == len(data.spans) + len(rotated.spans)


def test_the_collectors_protobuf_files_load_and_one_not_named_for_a_signal_is_said_once(
        tmp_path: Path, clickhouse_http: ChdbHttpServer, clickhouse_url: str, database: str) -> None:
    """The file exporter's ``format: proto`` loads into ClickHouse as into DuckDB; a file whose name
    says no signal was read frame by frame as bad JSON (a problem per frame), ingest names it once."""
    from otel_llm_analysis.ingest import PROTO_NOT_READ
    from tests.support.otlp_proto import SIGNALS, frames

    data = generate(tmp_path / "json", traces=8)
    proto = tmp_path / "proto"
    proto.mkdir()
    for signal in SIGNALS:
        (proto / f"{signal}.pb").write_bytes(b"".join(frames(tmp_path / "json" / f"{signal}.jsonl", signal)))
    unnamed = proto / "export.pb"
    unnamed.write_bytes(b"".join(frames(tmp_path / "json" / "traces.jsonl", "traces")))
    report = load([proto], clickhouse_url)
    assert [str(p) for p in report.bad_lines] == [f"{unnamed}:0: {PROTO_NOT_READ}"]
    assert (report.spans_added, report.logs_added, report.metric_points_added) == (
        len(data.spans), len(data.logs), len(data.metric_points))
    assert count(clickhouse_http, database, "otel_traces") == len(data.spans)


def test_the_python_api_returns_the_ingest_report(tmp_path: Path, clickhouse_http: ChdbHttpServer,
                                                  clickhouse_url: str, database: str) -> None:
    data = generate(tmp_path / "dump", traces=5)
    report = load([tmp_path / "dump"], clickhouse_url)
    assert (report.spans_added, report.logs_added, report.bad_lines) == (len(data.spans), len(data.logs), [])
    assert load(tmp_path / "dump", clickhouse_url).duplicates_skipped == (
        len(data.spans) + len(data.logs) + len(data.metric_points))


def test_mistakes_are_one_line(tmp_path: Path, clickhouse_url: str) -> None:
    generate(tmp_path / "dump", traces=2)
    wrong_scheme = run("load", str(tmp_path / "dump"), "--to", "postgres://localhost/otel")
    assert wrong_scheme.exit_code == 2 and "not a ClickHouse URL" in wrong_scheme.output
    missing = run("load", str(tmp_path / "nothing-here"), "--to", clickhouse_url)
    assert missing.exit_code == 1 and "Traceback" not in missing.output
    assert missing.output.startswith("error: ") and len(missing.output.strip().splitlines()) == 1
    closed = run("load", str(tmp_path / "dump"), "--to", "clickhouse://default@127.0.0.1:9/otel")
    assert closed.exit_code == 1 and "cannot reach ClickHouse at clickhouse://default@127.0.0.1:9/otel" in closed.output
    secret = run("load", str(tmp_path / "dump"), "--to", "clickhouse://me:s3cret@127.0.0.1:9/otel")
    assert "s3cret" not in secret.output and "me:***@" in secret.output




def test_many_small_batches_load_the_same_rows_and_the_derived_span_rows(
        tmp_path: Path, clickhouse_http: ChdbHttpServer, clickhouse_url: str, database: str) -> None:
    """Batches go to the server while the next is decoded: with many of them, every row still
    arrives once, with its derived span row, and the problems keep their file order."""
    from otel_llm_analysis.clickhouse._views import span_table_name

    data = generate(tmp_path / "dump", traces=40, peer_spans=True)
    traces = next(p for p in data.files if p.name.startswith("traces"))
    bad = tmp_path / "dump" / "traces-bad.jsonl"
    bad.write_bytes(traces.read_bytes().splitlines(keepends=True)[0] + b"oops\n{}\n[\n")
    report = load([tmp_path / "dump"], clickhouse_url, batch_rows=7)
    assert (report.spans_added, report.logs_added, report.metric_points_added) == (
        len(data.spans), len(data.logs), len(data.metric_points))
    assert [(p.path, p.line) for p in report.bad_lines] == [(str(bad), 2), (str(bad), 4)]
    assert count(clickhouse_http, database, "otel_traces") == len(data.spans)
    assert count(clickhouse_http, database, span_table_name()) == len(data.spans)


def test_a_summary_point_loads_into_the_exporters_summary_table(tmp_path: Path, clickhouse_http: ChdbHttpServer,
                                                                 clickhouse_url: str, database: str) -> None:
    """The exporter's summary table has no exemplar columns (a summary point has none): a file with a
    summary point loads, as the exporter stores it, beside the other kinds."""
    point = {"timeUnixNano": "1790000000500000000", "startTimeUnixNano": "1790000000000000000", "count": "4",
             "sum": 8.0, "quantileValues": [{"quantile": 0.5, "value": 2.0}, {"quantile": 0.99, "value": 3.5}]}
    gauge = {"timeUnixNano": "1790000000500000000", "asDouble": 1.5}
    request = {"resourceMetrics": [{"resource": {"attributes": []}, "scopeMetrics": [{"scope": {"name": "s"}, "metrics": [
        {"name": "rpc.duration", "unit": "ms", "summary": {"dataPoints": [point]}},
        {"name": "queue.size", "gauge": {"dataPoints": [gauge]}}]}]}]}
    (tmp_path / "metrics.jsonl").write_text(json.dumps(request) + "\n")
    result = run("load", str(tmp_path), "--to", clickhouse_url)
    assert result.exit_code == 0, result.output
    assert "+2 metric points" in result.output
    row = json.loads(clickhouse_http.query(
        f"SELECT MetricName, toUnixTimestamp(TimeUnix) AS t, Count, Sum, `ValueAtQuantiles.Quantile` AS q, "
        f"`ValueAtQuantiles.Value` AS v FROM `{database}`.otel_metrics_summary"))
    assert row == {"MetricName": "rpc.duration", "t": 1790000000, "Count": 4, "Sum": 8, "q": [0.5, 0.99],
                   "v": [2, 3.5]}
