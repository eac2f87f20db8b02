"""``otel-llm prune``: old traces, metric points and logs removed from a store built by ``otel-llm ingest``.

The ground truth is the generator's records: what is kept is recounted in plain
Python, and the derived views (agents, tools, retries, turns, quality subjects)
of the pruned store must equal those of a store that read only the kept traces.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pytest
import typer
from typer.testing import CliRunner

from otel_llm_analysis import TraceStore
from otel_llm_analysis.cli import register
from otel_llm_analysis.store import UnfinishedIngest
from tests.support import synthetic
from tests.support.app_store import held_by_another_process

VIEWS = ("span_scopes", "tool_calls", "agent_invocations", "retry_attempts", "retry_loops", "turns", "qa_subjects")
END = datetime(2026, 11, 20)


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def run(*args: str) -> Any:
    return CliRunner().invoke(_app(), list(args))


def _rows(db: str, view: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(db, read_only=True) as con:
        rows = con.execute(f"SELECT * FROM {view}").fetchall()
    return sorted((tuple(float(f"{v:.12g}") if isinstance(v, float) else v for v in row) for row in rows), key=repr)


def _count(db: str, table: str) -> int:
    with duckdb.connect(db, read_only=True) as con:
        return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def _kept_traces(spans: list[synthetic.SpanRecord], cutoff: datetime) -> set[str]:
    """Traces with a span starting at or after the cutoff (the rest go whole)."""
    return {s.trace_id for s in spans if s.start_time >= cutoff}


def _write(path: Path, spans: list[synthetic.SpanRecord]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(synthetic.spans_request([s])) + b"\n" for s in spans))
    return path


def _straddled(data: synthetic.SyntheticData) -> datetime:
    """A cutoff mid-way through the data that falls inside one trace (its second span's start)."""
    traces: dict[str, list[datetime]] = {}
    for span in data.spans:
        traces.setdefault(span.trace_id, []).append(span.start_time)
    starts = sorted(sorted(set(times)) for times in traces.values() if len(set(times)) > 1)
    return starts[len(starts) // 2][1]


def _time(ns: int) -> datetime:
    return datetime(1970, 1, 1) + timedelta(microseconds=ns // 1000)


@pytest.fixture()
def ingested(tmp_path: Path) -> tuple[str, synthetic.SyntheticData]:
    data = synthetic.generate(tmp_path / "otel-data", seed=11, traces=120, days=30, end=END, agents="otel_llm")
    db = str(tmp_path / "store.duckdb")
    result = run("ingest", str(tmp_path / "otel-data"), "--db", db)
    assert result.exit_code == 0, result.output
    return db, data


def test_dry_run_counts_what_would_go_and_changes_nothing(ingested: Any) -> None:
    db, data = ingested
    cutoff = _straddled(data)
    before = {t: _count(db, t) for t in ("span_rows", "metric_points", "logs")}
    result = run("prune", "--before", cutoff.isoformat(), "--dry-run", "--db", db, "-f", "json")
    assert result.exit_code == 0, result.output
    rows = {row["table"]: row for row in json.loads(result.stdout)["rows"]}
    kept = _kept_traces(data.spans, cutoff)
    assert rows["span_rows"]["removed"] == sum(s.trace_id not in kept for s in data.spans) > 0
    assert rows["span_rows"]["kept"] == sum(s.trace_id in kept for s in data.spans) > 0
    assert rows["logs"]["removed"] == sum(_time(r.time_ns) < cutoff for r in data.logs) > 0
    assert rows["metric_points"]["removed"] == sum(_time(p.time_ns) < cutoff for p in data.metric_points) > 0
    written = Path(db).parent / "prune.csv"
    assert run("prune", "--before", cutoff.isoformat(), "--dry-run", "--db", db, "--out", str(written)).exit_code == 0
    assert written.read_text().splitlines()[1] == f"span_rows,spans,{rows['span_rows']['removed']},{rows['span_rows']['kept']}"
    assert {t: _count(db, t) for t in before} == before


def test_prune_removes_old_data_and_the_derived_views_are_those_of_the_kept_traces(ingested: Any,
                                                                                   tmp_path: Path) -> None:
    db, data = ingested
    cutoff = _straddled(data)
    result = run("prune", "--before", cutoff.isoformat(), "--db", db)
    assert result.exit_code == 0, result.output
    kept = _kept_traces(data.spans, cutoff)
    kept_spans = [s for s in data.spans if s.trace_id in kept]
    removed = len(data.spans) - len(kept_spans)
    assert f"removed {len({s.trace_id for s in data.spans}) - len(kept):,} trace(s)" in result.output
    assert _count(db, "span_rows") == len(kept_spans)
    assert _count(db, "span_events") == sum(len(s.events) for s in kept_spans)
    assert _count(db, "logs") == sum(_time(r.time_ns) >= cutoff for r in data.logs)
    assert _count(db, "metric_points") == sum(_time(p.time_ns) >= cutoff for p in data.metric_points)
    assert removed > 0
    # a trace straddling the cutoff is kept whole
    assert any(min(s.start_time for s in kept_spans if s.trace_id == t) < cutoff for t in kept)
    reference = str(tmp_path / "reference.duckdb")
    assert run("ingest", str(_write(tmp_path / "kept.jsonl", kept_spans)), "--db", reference).exit_code == 0
    for view in VIEWS:
        assert _rows(db, view) == _rows(reference, view), view
    summary = json.loads(run("summary", "--db", db, "-f", "json").stdout)["rows"][0]
    assert summary["llm_calls"] == json.loads(run("summary", "--db", reference, "-f", "json").stdout)["rows"][0]["llm_calls"]


def test_pruned_data_is_not_ingested_again_and_new_data_is_worked_out(ingested: Any, tmp_path: Path) -> None:
    """The files already read are not read again (the removed rows stay removed), and spans ingested after
    a prune (whose deletes DuckDB compacts, renumbering rows) reach the derived views."""
    db, data = ingested
    cutoff = _straddled(data)
    assert run("prune", "--before", cutoff.isoformat(), "--db", db).exit_code == 0
    spans = _count(db, "span_rows")
    again = run("ingest", str(tmp_path / "otel-data"), "--db", db)
    assert again.exit_code == 0, again.output
    assert _count(db, "span_rows") == spans
    later = synthetic.generate(tmp_path / "later", seed=12, traces=60, days=3, end=END + timedelta(days=3),
                               agents="otel_llm")
    assert run("ingest", str(tmp_path / "later"), "--db", db).exit_code == 0
    kept = [s for s in data.spans if s.trace_id in _kept_traces(data.spans, cutoff)]
    reference = str(tmp_path / "reference.duckdb")
    assert run("ingest", str(_write(tmp_path / "kept.jsonl", kept + later.spans)), "--db", reference).exit_code == 0
    for view in VIEWS:
        assert _rows(db, view) == _rows(reference, view), view


def test_a_copy_of_the_files_does_not_bring_pruned_data_back(ingested: Any, tmp_path: Path) -> None:
    """Files read again from the start (a copy, a restored backup) held the pruned traces, points and
    logs, and ingest stored them all again. Rows older than the cutoff are now left and counted, except
    the spans of a trace the prune kept (it straddles the cutoff: kept whole, as prune keeps it)."""
    import dataclasses
    import shutil

    db, data = ingested
    cutoff = _straddled(data)
    assert run("prune", "--before", cutoff.isoformat(), "--db", db).exit_code == 0
    counts = {t: _count(db, t) for t in ("span_rows", "span_events", "metric_points", "logs")}
    shutil.copytree(tmp_path / "otel-data", tmp_path / "copy")
    kept = _kept_traces(data.spans, cutoff)
    old = [s for s in data.spans if s.trace_id not in kept]
    straddling = next(s for s in data.spans if s.trace_id in kept and s.start_time < cutoff)
    late = dataclasses.replace(straddling, span_id="00000000000000aa", events=[])  # a kept trace's late span
    _write(tmp_path / "copy" / "traces-late.jsonl", [late])
    again = run("ingest", str(tmp_path / "copy"), "--db", db)
    assert again.exit_code == 0, again.output
    points = sum(_time(p.time_ns) < cutoff for p in data.metric_points)
    logs = sum(_time(r.time_ns) < cutoff for r in data.logs)
    assert (f"not stored, older than the store's prune cutoff ({cutoff.isoformat(sep=' ')}): "
            f"{len(old)} span(s), {points} metric point(s), {logs} log record(s)") in again.output, again.output
    assert {t: _count(db, t) for t in counts} == {**counts, "span_rows": counts["span_rows"] + 1}
    with duckdb.connect(db, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM span_rows WHERE span_id = '00000000000000aa'").fetchone()[0] == 1


def test_a_pruned_store_is_not_said_to_miss_the_spans_of_the_calls_it_pruned(ingested: Any) -> None:
    """The call-duration histogram's cumulative series count every call since the process started,
    pruned ones too: after a prune, every analysis said "the spans hold 266 of the 404 LLM calls
    otel-llm's metrics counted (traces sampled, ...)" of a store that had lost nothing."""
    db, data = ingested
    with TraceStore(db) as store:
        assert store.span_coverage is None
    assert run("prune", "--before", _straddled(data).isoformat(), "--db", db).exit_code == 0
    with TraceStore(db, read_only=True) as store:
        assert store.span_coverage is None, store.span_coverage
    summary = run("summary", "--db", db)
    assert "metrics counted" not in summary.output, summary.output


def test_older_than_is_relative_to_now_and_a_second_prune_removes_nothing(tmp_path: Path) -> None:
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    data = synthetic.generate(tmp_path / "otel-data", seed=13, traces=60, days=60, end=now)
    db = str(tmp_path / "store.duckdb")
    assert run("ingest", str(tmp_path / "otel-data"), "--db", db).exit_code == 0
    result = run("prune", "--older-than", "30d", "--db", db, "-f", "json")
    assert result.exit_code == 0, result.output
    cutoff = now - timedelta(days=30)
    kept = _kept_traces(data.spans, cutoff)
    assert _count(db, "span_rows") == sum(s.trace_id in kept for s in data.spans) < len(data.spans)
    second = json.loads(run("prune", "--older-than", "30d", "--db", db, "-f", "json").stdout)["rows"]
    assert sum(row["removed"] for row in second) == 0


def test_usage_errors_and_a_store_another_process_holds(ingested: Any) -> None:
    db, _ = ingested
    assert run("prune", "--db", db).exit_code == 2
    assert run("prune", "--older-than", "30d", "--before", "2026-01-01", "--db", db).exit_code == 2
    assert run("prune", "--older-than", "30", "--db", db).exit_code == 2
    assert run("prune", "--older-than", "30d", "--db", "clickhouse://localhost/db").exit_code == 2
    missing = run("prune", "--older-than", "30d", "--db", db + ".missing")
    assert missing.exit_code == 1 and "no database at" in missing.output
    assert not Path(db + ".missing").exists()
    with held_by_another_process(db) as pid:
        busy = run("prune", "--older-than", "30d", "--db", db)
        assert busy.exit_code == 1, busy.output
        assert f"is open in another process (PID {pid})" in busy.output
    assert _count(db, "span_rows") > 0


def test_an_interrupted_ingest_is_finished_before_a_prune(ingested: Any) -> None:
    db, data = ingested
    cutoff = _straddled(data)
    with TraceStore(db) as store:  # as an ingest stopped after committing rows leaves it
        store.connection.execute("INSERT INTO ingest_state VALUES ('unfinished_ingest', '0')")
    refused = run("prune", "--before", cutoff.isoformat(), "--db", db)
    assert refused.exit_code == 1
    assert "prune after that ingest has finished" in refused.output


_KILLED_AT = """
import os, sys
from datetime import datetime
from otel_llm_analysis import TraceStore, retention
step = getattr(retention, sys.argv[3])
def die(*args, **kwargs):
    if sys.argv[4] == "after":
        step(*args, **kwargs)
    os._exit(9)
setattr(retention, sys.argv[3], die)
retention.prune(TraceStore(sys.argv[1]), datetime.fromisoformat(sys.argv[2]))
"""


@pytest.mark.parametrize("step, when", [("_remove", "after"), ("_compact", "before")])
def test_a_prune_killed_midway_is_said_as_such_and_finished_by_the_next_one(ingested: Any, tmp_path: Path,
                                                                             step: str, when: str) -> None:
    """A prune killed after its deletes were committed but before the agents', tools' and retries' tables
    were made again left those tables counting the removed traces, and every analysis then said "an ingest
    into ... was interrupted after storing N span(s) ... run `otel-llm ingest` again": no ingest had run.
    Now the analyses name the stopped prune and how to finish it, and the next prune says it finished it
    (its writable open makes the tables again). Killed before its commit, the store is as before."""
    import os
    import subprocess
    import sys

    import otel_llm_analysis

    db, data = ingested
    cutoff = _straddled(data)
    before = {view: _rows(db, view) for view in VIEWS}
    paths = [str(Path(otel_llm_analysis.__file__).parents[2]), str(Path(otel_llm_analysis.__file__).parents[1])]
    killed = subprocess.run([sys.executable, "-c", _KILLED_AT, db, cutoff.isoformat(), step, when],
                            env={**os.environ, "PYTHONPATH": os.pathsep.join(paths)}, capture_output=True, text=True)
    assert killed.returncode == 9, killed.stderr
    agents = run("agents", "--db", db)
    assert agents.exit_code == 0, agents.output
    if step == "_remove":  # nothing committed: the store as it was, nothing to say
        assert _count(db, "span_rows") == len(data.spans)
        assert {view: _rows(db, view) for view in VIEWS} == before
        assert "interrupted" not in agents.output and "prune" not in agents.output, agents.output
        return
    said = " ".join(agents.output.split())
    assert "an ingest" not in said, said
    with pytest.warns(UnfinishedIngest) as warned, TraceStore(db, read_only=True) as store:  # the Python API too
        assert store.unfinished is not None and store.unfinished.startswith(
            f"a prune before {cutoff.isoformat(sep=' ')} stopped"), store.unfinished
    assert str(warned[0].message) == store.unfinished
    assert (f"a prune before {cutoff.isoformat(sep=' ')} stopped after removing its traces and before the agents', "
            "tools' and retries' tables were made again") in said, said
    again = run("prune", "--before", cutoff.isoformat(), "--db", db)
    assert again.exit_code == 0, again.output
    assert "finished the prune before" in " ".join(again.output.split()), again.output
    kept = [s for s in data.spans if s.trace_id in _kept_traces(data.spans, cutoff)]
    reference = str(tmp_path / "reference.duckdb")
    assert run("ingest", str(_write(tmp_path / "kept.jsonl", kept)), "--db", reference).exit_code == 0
    assert {view: _rows(db, view) for view in VIEWS} == {view: _rows(reference, view) for view in VIEWS}
    for command in (["agents"], ["prune", "--before", cutoff.isoformat()]):  # said once, not forever
        output = " ".join(run(*command, "--db", db).output.split())
        assert "stopped after removing" not in output and "finished the prune" not in output, output
