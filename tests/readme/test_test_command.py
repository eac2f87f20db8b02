"""The README's test command runs the suite on one pytest-xdist worker per core, at most 4, as its
Tests section says (``OTEL_LLM_TEST_WORKERS`` overrides; 0 runs it in one process).

Each case runs ``bash scripts/test.sh`` itself (its venv stamp, cached collector and Chromium make the set-up
steps checks only) on one small test, with ``nproc`` answering what the case needs.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ONE_TEST = "tests/readme/test_first_hour.py::test_the_extras_the_readme_says_a_script_installs_are_those_it_installs"


def _run(tmp_path: Path, cores: int, **env: str) -> str:
    fake = tmp_path / "bin"
    fake.mkdir(exist_ok=True)
    (fake / "nproc").write_text(f"#!/bin/sh\necho {cores}\n")
    (fake / "nproc").chmod(0o755)
    done = subprocess.run(["bash", "scripts/test.sh", ONE_TEST, "-p", "no:cacheprovider"], cwd=ROOT,
                          env={**os.environ, "PATH": f"{fake}{os.pathsep}{os.environ['PATH']}", **env},
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done.stdout


@pytest.mark.parametrize("cores, workers", [(3, 3), (16, 4)])
def test_one_worker_per_core_at_most_four(tmp_path: Path, cores: int, workers: int) -> None:
    out = _run(tmp_path, cores)
    assert f"created: {workers}/{workers} workers" in out, out[-2000:]
    assert re.search(r"\b2 passed\b", out), out[-2000:]


def test_zero_workers_runs_the_suite_in_one_process(tmp_path: Path) -> None:
    alone = _run(tmp_path, 3, OTEL_LLM_TEST_WORKERS="0")
    assert "workers" not in alone and re.search(r"\b2 passed\b", alone), alone[-2000:]


def test_the_readme_says_so() -> None:
    text = " ".join((ROOT / "README.md").read_text("utf-8").split())
    assert ("runs `pytest` on one [pytest-xdist](https://pytest-xdist.readthedocs.io/) worker per core (at most 4; "
            "each test file stays on one worker; `OTEL_LLM_TEST_WORKERS=0` runs it in one process)") in text
