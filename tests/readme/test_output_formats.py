"""README, Analysis: what ``--format json`` and ``--format csv`` print, for every command it lists.

"JSON is one object, ``{"rows": [...], "notes": [...]}`` (``trends``: ``series``, ``changes``, ``spikes``,
``forecast`` and ``notes``): the notes ... a table is followed by; beside CSV and Parquet they are ``note:``
lines on stderr." Each analysis command the README lists runs through the installed ``otel-llm`` on the
store ``otel-llm demo`` leaves, as a user would pipe it into ``jq``.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from tests.readme._demo import demo_home
from tests.readme.test_cli_options import _readme_sentence
from tests.readme.test_examples import BIN, _env

#: What a command needs besides the common options to run at all.
ARGUMENTS = {"ingest": "./otel-data", "budget": "--monthly 50", "sql": "'SELECT 1 AS x'",
             "prune": "--older-than 90d --dry-run"}


def _listed() -> list[str]:
    sentence = _readme_sentence("The analysis commands (")
    return re.findall(r"`([a-z]+)`", sentence[:sentence.index(")")])


def _shapes() -> dict[str, set[str]]:
    """The top-level keys the README's sentence gives each command's JSON: ``rows`` and ``notes`` unless it
    names the command's own (``trends``: ``series``, ...)."""
    text = " ".join((Path(__file__).resolve().parents[2] / "README.md").read_text("utf-8").split())
    said = re.search(r'JSON is one object, `\{"rows": \[\.\.\.\], "notes": \[\.\.\.\]\}`(?:\s*\(([^)]*)\))?', text)
    assert said, "the README's sentence on the JSON shape moved"
    shapes = {command: {"rows", "notes"} for command in _listed()}
    for command, keys in re.findall(r"`([a-z]+)`: ((?:`\w+`(?:, | and )?)+)", said.group(1) or ""):
        shapes[command] = set(re.findall(r"`(\w+)`", keys))
    return shapes


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_home(tmp_path_factory, "formats", 5)


def _run(command: str, fmt: str, home: Path) -> subprocess.CompletedProcess[str]:
    line = f"{BIN / 'otel-llm'} {command} {ARGUMENTS.get(command, '')} --format {fmt}"
    return subprocess.run(shlex.split(line), cwd=home, env=_env(home), capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("command", _listed())
def test_json_is_one_object_with_the_keys_the_readme_names(command: str, demo_dir: Path) -> None:
    proc = _run(command, "json", demo_dir)
    assert proc.returncode in (0, 1), proc.stderr[-1500:]  # 1: a gate (check) that crossed a threshold
    document = json.loads(proc.stdout)
    assert isinstance(document, dict) and set(document) == _shapes()[command], (command, list(document))
    assert isinstance(document["notes"], list)


def test_trends_notes_go_to_stderr_beside_csv(demo_dir: Path) -> None:
    """The demo's store has unpriced calls, so ``trends`` has notes: in JSON they are ``notes``, beside CSV
    ``note:`` lines on stderr, and stdout stays rows only."""
    notes = json.loads(_run("trends", "json", demo_dir).stdout)["notes"]
    assert any("no price" in note for note in notes), notes
    proc = _run("trends", "csv", demo_dir)
    assert proc.returncode == 0, proc.stderr
    assert [f"note: {note}" for note in notes] == [line for line in proc.stderr.splitlines()
                                                     if line.startswith("note: ")]
    assert "note" not in proc.stdout and proc.stdout.startswith("period,"), proc.stdout[:200]


def test_trends_last_and_metric_shape_the_table_only(demo_dir: Path) -> None:
    """docs/analyses.md, Trends: "The table shows the last ``--last`` periods and, with ``--metric``, only
    those columns; JSON and CSV hold every period and column"."""
    window = "--period hour --since 2d --last 2 --metric cost"
    table = subprocess.run(shlex.split(f"{BIN / 'otel-llm'} trends {window}"), cwd=demo_dir,
                           env={**_env(demo_dir), "COLUMNS": "200"}, capture_output=True, text=True, timeout=300)
    assert table.returncode == 0, table.stderr
    header, rows = table.stdout.split("─" * 10, 1)
    assert "cost" in header and "calls" not in header and "tokens" not in header, header
    assert len(re.findall(r"^\d{4}-\d\d-\d\d \d\d:00", rows, re.M)) == 2, rows
    whole = json.loads(subprocess.run(shlex.split(f"{BIN / 'otel-llm'} trends {window} --format json"),
                                      cwd=demo_dir, env=_env(demo_dir), capture_output=True, text=True,
                                      timeout=300).stdout)["series"]
    assert len(whole) >= 48 and {"calls", "input_tokens", "cost_usd", "p95_ms"} <= set(whole[0]), len(whole)


def test_logs_limit_caps_the_records(tmp_path: Path) -> None:
    """docs/analyses.md, Logs: "``--limit`` caps the records (or patterns) shown, 50 by default". An app logs
    60 warnings through the bridge ``configure()`` installs; the store holds them all."""
    app = ("import logging, otel_llm\notel_llm.configure(service_name='chatty')\n"
           "for n in range(60):\n    logging.getLogger('chatty').warning('warning %d', n)\notel_llm.shutdown()\n")
    (tmp_path / "app.py").write_text(app, "utf-8")
    made = subprocess.run(f"python app.py 2>/dev/null && otel-llm ingest ./otel-data", shell=True, cwd=tmp_path,
                          env=_env(tmp_path), capture_output=True, text=True, timeout=300)
    assert made.returncode == 0, made.stdout + made.stderr

    def records(extra: str) -> int:
        proc = subprocess.run(shlex.split(f"{BIN / 'otel-llm'} logs --format json {extra}"), cwd=tmp_path,
                              env=_env(tmp_path), capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        return len(json.loads(proc.stdout)["rows"])

    assert records("--limit 1000") == 60
    assert records("--limit 1") == 1 and records("") == 50


#: The ``spans`` column each ``--by`` the README names groups by (the store's own names, as ``otel-llm sql`` shows).
BY_COLUMN = {"model": "model", "response_model": "response_model", "project": "project", "service": "service_name",
             "provider": "provider", "operation": "operation", "kind": "otel_kind", "node": "graph_node",
             "collection": "db_collection", "db_operation": "db_operation", "user": "user_id",
             "conversation": "conversation_id", "run_config.temperature": "attributes['otel_llm.run_config.temperature']",
             "day": "CAST(start_time AS DATE)", "week": "date_trunc('week', start_time)",
             "hour": "date_trunc('hour', start_time)"}


def _readme_groupings() -> list[str]:
    line = next(line for line in (Path(__file__).resolve().parents[2] / "README.md").read_text("utf-8").splitlines()
                if line.startswith("otel-llm summary --by model") and "# or " in line)
    return ["model", *(word.strip() for word in line.split("# or ", 1)[1].split(","))]


def test_summary_groups_by_each_dimension_the_readme_names(demo_dir: Path) -> None:
    """README, Analysis: ``otel-llm summary --by model  # or response_model, project, ..., run_config.<key>``:
    each name is accepted, its groups are the values the store holds for it, and ``--help`` offers no other."""
    named = _readme_groupings()
    assert "run_config.<key>" in named
    help_text = " ".join(subprocess.run([str(BIN / "otel-llm"), "summary", "--help"], cwd=demo_dir,
                                        env={**_env(demo_dir), "COLUMNS": "400"}, capture_output=True,
                                        text=True, timeout=120).stdout.split())
    offered = re.search(r"--by <str> (.*?) --since", help_text).group(1)
    unnamed = [word for word in re.findall(r"(\w+(?:\.<key>)?)(?: \([^)]*\))?(?:,| or|$)", offered)
               if word not in named]
    assert not unnamed, f"summary --by values the README does not name: {unnamed}"
    for by in (name.replace("<key>", "temperature") for name in named):
        proc = subprocess.run([str(BIN / "otel-llm"), "summary", "--by", by, "--format", "json"], cwd=demo_dir,
                              env=_env(demo_dir), capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, (by, proc.stderr)
        keys = {str(row["key"])[:10] for row in json.loads(proc.stdout)["rows"] if row["key"] is not None}
        query = f"SELECT DISTINCT CAST({BY_COLUMN[by]} AS VARCHAR) AS v FROM spans WHERE {BY_COLUMN[by]} IS NOT NULL"
        held = subprocess.run([str(BIN / "otel-llm"), "sql", query, "--format", "json"], cwd=demo_dir,
                              env=_env(demo_dir), capture_output=True, text=True, timeout=300)
        assert held.returncode == 0, held.stderr
        values = {row["v"][:10] for row in json.loads(held.stdout)["rows"]}
        assert keys and keys == values, (by, keys, values)
