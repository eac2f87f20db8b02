"""A store whose spans hold fewer of otel-llm's LLM calls than its metrics counted says so everywhere.

Every call, token and cost figure is read from spans; a trace sampler drops
spans, not otel-llm's metric points. Reproduced: 3 runs of 2 calls, one of them
unsampled: `summary` said 4 calls, and nothing said 2 more were made.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from otel_llm_analysis import TraceStore, totals
from tests.support.sampled import sampled_runs


def otel_llm(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "from otel_llm.cli import main; main()", *args],
                          capture_output=True, text=True, cwd=cwd, timeout=120)


def test_sampled_out_calls_are_said_by_ingest_every_analysis_and_the_api(tmp_path: Path) -> None:
    sampled_runs(tmp_path / "otel-data", kept=2, dropped=1)
    db = tmp_path / "otel-data" / "otel-llm.duckdb"
    expected = (f"note: the spans in {db} hold 4 of the 6 LLM calls otel-llm's metrics counted (traces sampled, "
                "trace files not ingested, or spans lost): calls, tokens and cost here cover those 4 only")
    ingest = otel_llm("ingest", "otel-data", "--db", str(db), cwd=tmp_path)
    assert ingest.returncode == 0 and ingest.stderr.splitlines() == [expected], ingest.stderr
    for command in (["summary"], ["summary", "--by", "model"], ["budget", "--monthly", "5"], ["trends"]):
        shown = otel_llm(*command, "--db", str(db), cwd=tmp_path)
        assert shown.returncode == 0 and shown.stderr.splitlines() == [expected], (command, shown.stderr)
    with TraceStore(db, read_only=True) as store:
        assert totals(store).llm_calls == 4  # the spans' figure, unchanged: the note says what it covers
        assert store.span_coverage == expected.removeprefix("note: ")


def test_every_call_traced_says_nothing(tmp_path: Path) -> None:
    sampled_runs(tmp_path / "otel-data", kept=3, dropped=0)
    db = tmp_path / "otel-data" / "otel-llm.duckdb"
    assert otel_llm("ingest", "otel-data", "--db", str(db), cwd=tmp_path).stderr == ""
    shown = otel_llm("summary", "--db", str(db), cwd=tmp_path)
    assert shown.returncode == 0 and shown.stderr == "", shown.stderr
    with TraceStore(db, read_only=True) as store:
        assert totals(store).llm_calls == 6 and store.span_coverage is None


def test_the_traces_ingested_later_lift_the_note(tmp_path: Path) -> None:
    """Metrics ingested before their traces: the note holds until the spans are in, then goes."""
    sampled_runs(tmp_path / "otel-data", kept=2, dropped=0)
    db = tmp_path / "store.duckdb"
    first = otel_llm("ingest", "otel-data/metrics.jsonl", "--db", str(db), cwd=tmp_path)
    assert "hold 0 of the 4 LLM calls" in first.stderr, first.stderr
    second = otel_llm("ingest", "otel-data/traces.jsonl", "--db", str(db), cwd=tmp_path)
    assert second.stderr == "", second.stderr
    assert otel_llm("summary", "--db", str(db), cwd=tmp_path).stderr == ""
