"""``otel-llm COMMAND | head -1``: a reader that stops early ends the command quietly.

README.md: nothing on stderr, and the exit status the command would have had with the whole output
read (its verdict: a crossed budget still exits 1). Each command here runs as a real process whose
stdout is a pipe shrunk to one page (``F_SETPIPE_SZ``), so its output outgrows the pipe and it is
still writing when the reader - like ``head -1`` - reads one line and closes.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.readme._demo import demo_home
from tests.readme.test_examples import BIN, ROOT, _env

PAGE = 4096


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``otel-llm demo`` run once: ./otel-data written and ingested."""
    return demo_home(tmp_path_factory, "piped", 20)


def _head_1(args: list[str], cwd: Path) -> tuple[int, bytes, str]:
    """Run ``otel-llm ARGS | head -1``: (exit status, the line read, stderr)."""
    read, write = os.pipe()
    fcntl.fcntl(read, fcntl.F_SETPIPE_SZ, PAGE)
    with open(os.devnull, "wb") as stdin:
        process = subprocess.Popen([str(BIN / "otel-llm"), *args], cwd=cwd, env=_env(cwd) | {"COLUMNS": "120"},
                                   stdin=stdin, stdout=write, stderr=subprocess.PIPE)
    os.close(write)
    with os.fdopen(read, "rb") as reader:
        line = reader.readline()
    _, err = process.communicate(timeout=300)
    return process.returncode, line, err.decode()


COMMANDS = [
    ["traces", "--top", "100", "--tree"],
    ["traces", "--top", "100", "--format", "json"],
    ["sql", "SELECT * FROM spans", "--format", "csv"],
    ["sql", "SELECT * FROM range(20000)"],
    ["summary", "--by", "conversation", "--format", "json"],
    ["collector", "config", "--show"],
    ["--help"],
    ["logs", "--help"],
]


@pytest.mark.parametrize("args", COMMANDS, ids=[" ".join(a[:3]) for a in COMMANDS])
def test_a_reader_that_stops_early_ends_the_command_quietly(args: list[str], demo_dir: Path) -> None:
    status, line, err = _head_1(args, demo_dir)
    assert line, err  # it did print
    assert err == "" and status == 0, f"exit {status}, stderr:\n{err}"


def test_a_gate_cut_short_by_its_reader_keeps_its_verdict(demo_dir: Path) -> None:
    """``otel-llm budget ... | head -1`` with a critical budget: exit 1 still (the CI gate holds)."""
    many = [{"monthly": 0.000001, "name": f"team-{n}"} for n in range(200)]  # each far exceeded by the demo
    (demo_dir / "budgets.json").write_text(json.dumps(many), "utf-8")
    status, line, err = _head_1(["budget", "--file", "budgets.json", "--format", "json"], demo_dir)
    assert line and err == "" and status == 1, f"exit {status}, stderr:\n{err}"


def test_the_readme_says_how_a_command_piped_into_head_ends() -> None:
    text = " ".join((ROOT / "README.md").read_text("utf-8").split())
    assert re.search(r"\| head -1`\)?[^.]*ends quietly[^.]*exit status", text), \
        "README.md does not say how a command piped into head ends"
