"""Mutation fuzzing: no input stops an ingest, good lines beside bad ones load, re-ingest adds nothing.

Seed lines are real: what otel-llm's SDK file exporter writes (``configure(exporter="file")``
around the demo app, in a subprocess) and what the collector writes (``tests/sdk/golden``).
Each case is a good line, made unique, and a mutant of a seed line (``tests/support/mutations``),
in random order, many cases to a file, all files in one ingest. ``OTEL_LLM_FUZZ_CASES`` (default
3000, about 10 s) and ``OTEL_LLM_FUZZ_SEED`` pick the run; a failure names the seed and the case
to replay.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest

from otel_llm_analysis import TraceStore
from tests.support.mutations import mutants

CASES = int(os.environ.get("OTEL_LLM_FUZZ_CASES", "3000"))
SEED = int(os.environ.get("OTEL_LLM_FUZZ_SEED", "20261130"))
CASES_PER_FILE = 25
GOLDEN = Path(__file__).resolve().parents[1] / "sdk" / "golden"
MARK = "fuzz.case"

_SDK_APP = textwrap.dedent("""
    import sys
    import otel_llm
    from otel_llm.demo.app import run
    otel_llm.configure(exporter="file", output_dir=sys.argv[1], service_name="fuzz-seed", project="fuzz", logs=True)
    for turn in range(3):
        run(2, seed=turn, latency_scale=0.0)
        otel_llm.flush()
    otel_llm.shutdown()
""")
_LEVELS = (("resourceSpans", "scopeSpans", "spans"), ("resourceMetrics", "scopeMetrics", "metrics"),
           ("resourceLogs", "scopeLogs", "logRecords"))


@pytest.fixture(scope="session")
def seed_lines(tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    """The SDK's lines (re-cut into requests of a few items each, so mutants stay small) and the collector's."""
    out = tmp_path_factory.mktemp("sdk-files")
    subprocess.run([sys.executable, "-c", _SDK_APP, str(out)], check=True, timeout=120)
    lines = []
    for path in sorted(out.glob("*.jsonl")):
        for line in path.read_bytes().splitlines():
            lines += _recut(orjson.loads(line))
    assert {"resourceSpans", "resourceMetrics", "resourceLogs"} <= {next(iter(orjson.loads(x))) for x in lines}
    for path in sorted(GOLDEN.glob("*.jsonl")):
        lines += path.read_bytes().splitlines()
    return lines


def _recut(request: dict[str, Any], size: int = 3) -> list[bytes]:
    lines = []
    for top, mid, leaf in _LEVELS:
        for resource in request.get(top, []):
            for scope in resource[mid]:
                items = scope[leaf]
                for i in range(0, len(items), size):
                    part = {**resource, mid: [{**scope, leaf: items[i:i + size]}]}
                    lines.append(orjson.dumps({top: [part]}))
    return lines


def _unique(line: bytes, case: int) -> tuple[bytes, Counter[str]]:
    """A seed line made this case's own: new span ids, a marker attribute on points and records."""
    request = orjson.loads(line)
    expected: Counter[str] = Counter()
    for top, mid, leaf in _LEVELS:
        for resource in request.get(top, []):
            for scope in resource[mid]:
                for item in scope[leaf]:
                    if leaf == "spans":
                        item["traceId"] = f"f022{case:012x}{item['traceId'][16:]}"
                        expected["spans"] += 1
                    elif leaf == "logRecords":
                        item.setdefault("attributes", []).append(_marker(case))
                        expected["logs"] += 1
                    else:
                        for kind in ("gauge", "sum", "histogram", "exponentialHistogram", "summary"):
                            for point in (item.get(kind) or {}).get("dataPoints", []):
                                point.setdefault("attributes", []).append(_marker(case))
                                expected["points"] += 1
    return orjson.dumps(request), expected


def _marker(case: int) -> dict[str, Any]:
    return {"key": MARK, "value": {"intValue": str(case)}}


def _write_cases(seed_lines: list[bytes], root: Path) -> tuple[dict[int, Counter[str]], dict[tuple[str, int], str]]:
    """Files of cases; returns what each case's good line holds and which (file, line) is a mutant."""
    rng = random.Random(SEED)
    expected: dict[int, Counter[str]] = {}
    mutant_at: dict[tuple[str, int], str] = {}
    files: dict[int, list[bytes]] = {}
    for case, name, _, mutant in mutants(SEED, seed_lines, CASES):
        good, expected[case] = _unique(rng.choice(seed_lines), case)
        lines = files.setdefault(case // CASES_PER_FILE, [])
        pair = [(good, None), (mutant, f"case {case} ({name})")]
        rng.shuffle(pair)
        for data, label in pair:
            lines.append(data)
            if label:
                mutant_at[(str(root / f"traces-{case // CASES_PER_FILE:04d}.jsonl"), len(lines))] = label
    for number, lines in files.items():
        (root / f"traces-{number:04d}.jsonl").write_bytes(b"".join(line + b"\n" for line in lines))
    return expected, mutant_at


def _loaded(store: TraceStore) -> dict[int, Counter[str]]:
    found: dict[int, Counter[str]] = {}
    for case, n in store.query("SELECT CAST(('0x' || substr(trace_id, 5, 12)) AS BIGINT), count(*) FROM span_rows "
                               "WHERE trace_id LIKE 'f022%' GROUP BY ALL"):
        found.setdefault(case, Counter())["spans"] = n
    for table, what in (("metric_points", "points"), ("logs", "logs")):
        for case, n in store.query(f"SELECT CAST(attributes['{MARK}'] AS BIGINT), count(*) FROM {table} "
                                   f"WHERE attributes['{MARK}'] IS NOT NULL GROUP BY ALL"):
            found.setdefault(case, Counter())[what] = n
    return found


def _counts(store: TraceStore) -> tuple[int, ...]:
    return store.query("SELECT (SELECT count(*) FROM span_rows), (SELECT count(*) FROM span_events), "
                       "(SELECT count(*) FROM span_links), (SELECT count(*) FROM metric_points), "
                       "(SELECT count(*) FROM metric_exemplars), (SELECT count(*) FROM logs)")[0]


def test_mutants_never_stop_an_ingest_and_good_lines_load(seed_lines: list[bytes], tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    expected, mutant_at = _write_cases(seed_lines, data)
    with TraceStore(tmp_path / "fuzz.duckdb") as store:
        try:
            report = store.ingest(data)
        except Exception as exc:  # noqa: BLE001 - name the case, then fail
            pytest.fail(f"ingest raised {type(exc).__name__}: {exc}; seed {SEED}, "
                        f"first failing {_first_failing(seed_lines, tmp_path)}")
        assert _loaded(store) == {case: +counts for case, counts in expected.items() if +counts}
        for problem in report.bad_lines:  # every problem is located, on a mutant's line
            assert (problem.path, problem.line) in mutant_at, f"{problem} (seed {SEED})"
        assert len({(p.path, p.line) for p in report.bad_lines}) > CASES // 3  # most mutants are bad
        before = _counts(store)
        again = store.ingest(data)
        assert (again.lines_read, _counts(store)) == (0, before)
        copies = tmp_path / "copies"
        shutil.copytree(data, copies)  # other inodes: read again in full, and must add nothing
        replay = store.ingest(copies)
        assert replay.lines_read == sum(1 for _ in mutant_at) * 2
        assert _counts(store) == before, f"re-ingest added rows (seed {SEED})"


def _first_failing(seed_lines: list[bytes], tmp_path: Path) -> str:
    """Replays the cases one by one into fresh stores: the first whose mutant raises."""
    for case, name, _, mutant in mutants(SEED, seed_lines, CASES):
        path = tmp_path / f"case-{case}.jsonl"
        path.write_bytes(mutant + b"\n")
        try:
            with TraceStore() as store:
                store.ingest(path)
        except Exception as exc:  # noqa: BLE001 - this is the one to report
            return f"case {case} ({name}): {type(exc).__name__}: {exc}; mutant {mutant[:300]!r}"
    return "none alone (an interaction between lines of one file)"
