"""A batch the collector read and wrote, whose answer was cut off, is sent again: the copy is a counted duplicate.

The SDK cannot tell a request the collector took and whose answer was lost (the
connection cut after the collector read it) from one it never took: at-least-once,
it spools the batch and replays it as OTLP-JSON, where the direct export was
protobuf. The collector writes both copies to its files. ``otel-llm ingest`` must
store each span, log record and metric point once, and say the copies: the
report's "duplicate(s) skipped" counts every record of the files less the records
stored, and the CLI prints it; ``otel-llm load`` into ClickHouse alike. They did
already (the copies are the same records after the collector: this test holds it).

Real processes: the emitter app, a proxy in front of the real collector that
forwards every request and, for each direct (protobuf) export, closes the
connection instead of relaying the collector's answer, and the collector with
its shipped config. What is one record is told from the files themselves,
independently of the ingest: a span by its ids, a log record by its times, body
and span, a metric point by its metric, attributes and times.
"""

from __future__ import annotations

import http.client
import json
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from typer.testing import CliRunner

from otel_llm.cli import app as otel_llm_cli
from otel_llm_analysis import TraceStore
from otel_llm_analysis.clickhouse import load
from tests.sdk._http_answers import Recording, serving
from tests.support.clickhouse_http import ChdbHttpServer

from . import _otlp
from .conftest import Collector, run_app


class _CutOff(Recording):
    """Forwards each POST to the collector; a direct (protobuf) export's answer is dropped with the connection
    once the collector has answered it (it has taken the data), a replay's (OTLP-JSON) answer relayed."""

    upstream = ""
    cut: Counter[str] = Counter()  # per path, the requests whose answer was cut off

    def do_POST(self) -> None:  # noqa: N802 — http.server's name
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        target = urlsplit(self.upstream)
        connection = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
        headers = {name: value for name, value in self.headers.items()
                   if name.lower() in ("content-type", "content-encoding")}
        connection.request("POST", self.path, body, headers)
        answer = connection.getresponse()
        payload = answer.read()
        connection.close()
        if "json" not in (self.headers.get("content-type") or ""):
            type(self).cut[self.path] += 1
            self.close_connection = True  # read, written, and no answer: the connection just ends
            return
        self._send(answer.status, payload)


def _canonical(kvs: list[dict[str, Any]] | None) -> str:
    return json.dumps(_otlp.attributes(kvs or []), sort_keys=True)


def _records(directory: Path) -> dict[str, list[Any]]:
    """Every record of the collector's files, by signal, as the identity that makes it one record."""
    out: dict[str, list[Any]] = {"spans": [], "logs": [], "points": []}
    for message in _otlp.messages(directory, "traces"):
        out["spans"] += [(s["traceId"], s["spanId"]) for s in _otlp.spans([message])]
    for message in _otlp.messages(directory, "logs"):
        out["logs"] += [(r.get("timeUnixNano"), r.get("observedTimeUnixNano"), json.dumps(r.get("body"), sort_keys=True),
                         r.get("traceId"), r.get("spanId"), _canonical(r.get("attributes")))
                        for rl in message.get("resourceLogs", []) for sl in rl.get("scopeLogs", [])
                        for r in sl.get("logRecords", [])]
    for message in _otlp.messages(directory, "metrics"):
        out["points"] += [(m["name"], kind, _canonical(p.get("attributes")), p.get("startTimeUnixNano"),
                           p.get("timeUnixNano"))
                          for rm in message.get("resourceMetrics", []) for sm in rm.get("scopeMetrics", [])
                          for m in sm.get("metrics", []) for kind in ("sum", "gauge", "histogram")
                          for p in m.get(kind, {}).get("dataPoints", [])]
    return out


def test_a_batch_resent_after_its_answer_was_cut_off_is_stored_once_and_counted(
        collector: Collector, tmp_path: Path) -> None:
    _CutOff.upstream, _CutOff.cut = collector.http_endpoint, Counter()
    with serving(_CutOff) as proxy:
        app = run_app(tmp_path, collector, "--turns", "6", "--wait-spool-empty", "30", "--endpoint", proxy,
                      otlp_timeout_s=2, env={"OTEL_LLM_SPOOL_REPLAY_ENDPOINT": proxy})
    assert app.returncode == 0, app.stdout + app.stderr
    collector.stop()
    assert set(_CutOff.cut) == {"/v1/traces", "/v1/logs", "/v1/metrics"}, (_CutOff.cut, app.stderr)

    records = _records(collector.data_dir)
    unique = {signal: len(set(items)) for signal, items in records.items()}
    copies = sum(len(items) for items in records.values()) - sum(unique.values())
    assert all(len(records[s]) > unique[s] for s in records), (records, app.stderr)  # each signal arrived twice

    with TraceStore(tmp_path / "store.duckdb") as store:
        report = store.ingest([collector.data_dir])
    assert report.bad_lines == [], report.bad_lines
    assert (report.spans_added, report.logs_added, report.metric_points_added) == (
        unique["spans"], unique["logs"], unique["points"])
    assert report.duplicates_skipped == copies

    shown = CliRunner().invoke(otel_llm_cli, ["ingest", str(collector.data_dir), "--db", str(tmp_path / "cli.duckdb")],
                               env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    assert f"{copies} duplicate(s) skipped" in shown.output, shown.output

    with ChdbHttpServer() as server:  # and `otel-llm load` into ClickHouse, which tells records apart by itself
        loaded = load([collector.data_dir], f"{server.url.replace('http://', 'clickhouse://')}/resent")
    assert (loaded.spans_added, loaded.logs_added, loaded.metric_points_added, loaded.duplicates_skipped) == (
        unique["spans"], unique["logs"], unique["points"], copies)
