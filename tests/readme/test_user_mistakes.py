"""The mistakes a newcomer makes after the Quickstart: each is one located ``error:`` line and a
non-zero exit, never a silent empty answer nor an engine's internal message.

The store is the Quickstart's own: ``app.py`` from README.md run and ingested in a fresh
directory, and the commands run as a user types them, through the installed ``otel-llm``.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.readme.test_first_hour import _readme_file, _run


@pytest.fixture(scope="module")
def quickstart(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory where the Quickstart's ``python app.py`` and ``otel-llm ingest ./otel-data`` ran."""
    home = tmp_path_factory.mktemp("quickstart")
    (home / "app.py").write_text(_readme_file("app.py"), "utf-8")
    proc = _run("python app.py >/dev/null && otel-llm ingest ./otel-data >/dev/null", home)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return home


def _one_error_line(proc: subprocess.CompletedProcess[str]) -> str:
    errors = [line for line in proc.stderr.splitlines() if line.startswith(("error:", "Error:"))]
    assert len(errors) == 1 and "Traceback" not in proc.stderr, proc.stderr
    return errors[0]


@pytest.mark.parametrize("window", [
    "--since 2026-12-02 --until 2026-12-01",
    "--since 1d --until 2d",       # one day ago until two days ago: the order swapped
    "--since 2026-12-01T10:00 --until 2026-12-01T10:00",
])
def test_a_window_that_ends_before_it_starts_is_a_usage_error(quickstart: Path, window: str) -> None:
    """``--until`` before (or at) ``--since`` selects nothing whatever the store holds: a newcomer who swapped
    them must be told so, not shown $0 and 0 calls as if nothing had run."""
    proc = _run(f"otel-llm summary {window}", quickstart)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    line = _one_error_line(proc)
    assert "--until" in line and "--since" in line and "after" in line, line
    assert "calls" not in proc.stdout, proc.stdout


@pytest.mark.parametrize("command", ["summary", "sql 'SELECT 1'"])
def test_db_naming_a_data_file_says_it_is_not_a_store(quickstart: Path, command: str) -> None:
    """``--db otel-data/traces.jsonl`` (the data file, not the store): one line naming the mistake and the way
    to read such a file, never DuckDB's "Cannot launch in-memory database in read-only mode"."""
    proc = _run(f"otel-llm {command} --db otel-data/traces.jsonl", quickstart)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    line = _one_error_line(proc)
    assert "otel-data/traces.jsonl is not a DuckDB database file" in line, line
    assert "otel-llm ingest otel-data/traces.jsonl" in line and "in-memory" not in line, line


def test_the_demo_s_next_steps_read_the_store_of_its_output_dir(tmp_path: Path) -> None:
    """``otel-llm demo --output-dir "my run"`` ends with "Next (the analysis commands read my run/otel-llm.duckdb)"
    and the commands to copy: pasted as shown, in order, into a shell in the same directory, they must read
    that store - not ./otel-data's, which here does not exist."""
    proc = _run('otel-llm demo --turns 3 --latency-scale 0 --output-dir "my run"', tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    after = lines[next(i for i, line in enumerate(lines) if line.startswith("Next")) + 1:]
    setup = [line.split("first, in this shell: ", 1)[1] for line in after if "first, in this shell: " in line]
    commands = [line.split("  #")[0].strip() for line in after if line.startswith("  otel-llm ")]
    assert commands, proc.stdout
    for command in commands:
        serve = command.startswith("otel-llm serve")
        if serve:  # runs until stopped (Ctrl+C, here SIGINT after a while): the store it opens is the point
            command = f"timeout -s INT 20 {command} --port 0 || [ $? = 124 ]"
        ran = _run(" && ".join([*setup, command]), tmp_path)
        assert ran.returncode == 0, f"{command}:\n{ran.stdout}{ran.stderr}"
        assert not serve or "dashboard on http://127.0.0.1:" in ran.stdout, ran.stdout + ran.stderr
    assert not (tmp_path / "otel-data").exists()  # nothing read, nor created, the store of the default directory


def test_the_commands_an_error_suggests_hold_paths_with_spaces_whole(quickstart: Path) -> None:
    """An error that gives a command to copy (``run `otel-llm ingest ...` first``) quotes the paths it names: a
    store or a data file under "My Data" must reach that command as one argument."""
    (quickstart / "My Data").mkdir(exist_ok=True)
    shutil.copy(quickstart / "otel-data" / "traces.jsonl", quickstart / "My Data" / "traces.jsonl")
    missing = _run('otel-llm summary --db "My Data/store.duckdb"', quickstart)
    data_file = _run('otel-llm summary --db "My Data/traces.jsonl"', quickstart)
    for proc, path in ((missing, "My Data/store.duckdb"), (data_file, "My Data/traces.jsonl")):
        assert proc.returncode == 1, proc.stdout + proc.stderr
        suggested = re.search(r"`(otel-llm ingest [^`]*)`", _one_error_line(proc))
        assert suggested and path in shlex.split(suggested.group(1)), proc.stderr


@pytest.mark.parametrize("command", ["otel-llm --version", "otel-llm -V"])
def test_the_version_a_bug_report_asks_for(tmp_path: Path, command: str) -> None:
    """The first line of a bug report: which otel-llm is installed. It was "No such option: --version"."""
    from importlib.metadata import version

    proc = _run(command, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout == f"otel-llm {version('otel-llm')}\n", proc.stdout


@pytest.mark.parametrize("command", ["otel-llm -h", "otel-llm summary -h", "otel-llm collector start -h"])
def test_dash_h_is_help(tmp_path: Path, command: str) -> None:
    """``-h``, the help option most tools take, was "No such option: -h" (exit 2)."""
    proc = _run(command, tmp_path)
    assert proc.returncode == 0 and "Usage: otel-llm" in proc.stdout, proc.stdout + proc.stderr


@pytest.mark.parametrize("name", ["calls.parquet", "calls.csv"])
def test_ingest_of_a_result_written_with_out_is_refused_in_one_line(quickstart: Path, name: str) -> None:
    """README: ``otel-llm summary --by model --out models.csv  # any result to a file``. Given back to ``ingest``
    (the rows of the store, not OTLP), each of its lines was a "bad line ... invalid JSON" (a Parquet file's
    last one "left for the next run", exit 3); it is one line saying what the file is, the store untouched."""
    made = _run(f"otel-llm sql 'SELECT * FROM llm_calls' --out {name}", quickstart)
    assert made.returncode == 0, made.stdout + made.stderr
    before = _run("otel-llm sql 'SELECT count(*) AS n FROM ingested_files' --format csv", quickstart).stdout
    proc = _run(f"otel-llm ingest {name}", quickstart)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    line = _one_error_line(proc)
    assert name in line and "not OTLP" in line and "bad line" not in proc.stdout, proc.stdout + proc.stderr
    assert _run("otel-llm sql 'SELECT count(*) AS n FROM ingested_files' --format csv", quickstart).stdout == before
