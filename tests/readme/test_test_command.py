"""The README's test command runs the suite on two pytest-xdist workers on a machine with two cores or more,
else in one process; on N workers (at most 4) when ``OTEL_LLM_TEST_WORKERS=N`` says so, in one process for
``OTEL_LLM_TEST_WORKERS=0``, as its Tests section says.

Each case runs ``bash scripts/test.sh`` itself (its venv stamp, cached collector and Chromium make the set-up
steps checks only) on one small test.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ONE_TEST = "tests/readme/test_first_hour.py::test_the_extras_the_readme_says_a_script_installs_are_those_it_installs"


def _run(**env: str) -> str:
    done = subprocess.run(["bash", "scripts/test.sh", ONE_TEST, "-p", "no:cacheprovider"], cwd=ROOT,
                          env={**os.environ, **env}, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert re.search(r"\b2 passed\b", done.stdout), done.stdout[-2000:]
    return done.stdout


def test_two_workers_on_two_cores_unless_told(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_LLM_TEST_WORKERS", raising=False)
    workers = 2 if len(os.sched_getaffinity(0)) >= 2 else None  # what nproc counts
    out = _run()
    assert (f"created: {workers}/{workers} workers" in out) if workers else "workers" not in out


def test_zero_workers_is_one_process() -> None:
    assert "workers" not in _run(OTEL_LLM_TEST_WORKERS="0")


@pytest.mark.parametrize("asked, workers", [("3", 3), ("16", 4)])
def test_the_variable_sets_the_workers_at_most_four(asked: str, workers: int) -> None:
    assert f"created: {workers}/{workers} workers" in _run(OTEL_LLM_TEST_WORKERS=asked)


def test_the_readme_says_so() -> None:
    text = " ".join((ROOT / "README.md").read_text("utf-8").split())
    assert ("runs `pytest` on two [pytest-xdist](https://pytest-xdist.readthedocs.io/) workers on a machine with "
            "two cores or more") in text and "else in one process; extra arguments go to pytest" in text
    assert ("`OTEL_LLM_TEST_WORKERS=N` runs it on N workers (at most 4; each test file stays on one worker), "
            "`OTEL_LLM_TEST_WORKERS=0` in one process") in text
