"""Every example in README.md and docs/ runs as written, so none can rot.

What a newcomer pastes is what runs here, in a subprocess, in a fresh
directory holding only what the README has them make first: the demo's
``./otel-data`` (as ``otel-llm demo`` leaves it) and the files earlier
examples of the same document saved (a fence like ```` ```python file=app.py ````
names the file the text tells the reader to save).

* ```` ```python ```` blocks run with ``python FILE``; a block that defines
  ``test_*`` functions runs under ``pytest``, as the text says to.
* ```` ```bash ```` (``sh``, ``shell``, ``console``) blocks run whole with
  ``bash -euo pipefail``, ``otel-llm`` and ``python`` from this environment,
  inside a private network namespace (so the collector's default ports belong to
  this test alone) and with a private run directory for ``otel-llm collector``.
* A block that must not run says so in its fence, with the reason:
  ```` ```bash not-run="installs the package" ````. The run's summary says how
  many it skipped and why (``SAID_AT_THE_END``), and the test allows that only for install and set-up lines.
* A block that starts a server names the address it answers on:
  ```` ```bash server="http://127.0.0.1:8765/api/status" ````. It runs until that
  address answers 200 (it must, within a minute, without the block failing), then
  it is stopped.
* Other languages (YAML, SQL shown as data) are not programs and are not run.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import pytest
from markdown_it import MarkdownIt

from tests.conftest import SAID_AT_THE_END

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
SHELLS = {"bash", "sh", "shell", "console"}
#: What a skipped block may be: installing or setting up, never an example of the product.
SKIP_ALLOWED = re.compile(r"install|set(s)? up", re.I)
BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Block:
    """One fenced block: where it is, its language, its fence options and its text."""

    document: Path
    line: int
    language: str
    options: dict[str, str]
    text: str

    @property
    def id(self) -> str:
        return f"{self.document.relative_to(ROOT)}:{self.line}"


def blocks(document: Path) -> list[Block]:
    """The fenced blocks of ``document`` in order (CommonMark parsing, markdown-it-py)."""
    found = []
    for token in MarkdownIt("commonmark").parse(document.read_text("utf-8")):
        if token.type != "fence":
            continue
        language, _, rest = token.info.strip().partition(" ")
        options = dict(word.partition("=")[::2] for word in shlex.split(rest))
        found.append(Block(document, (token.map or [0])[0] + 1, language.lower(), options, token.content))
    return found


ALL = [block for document in DOCUMENTS for block in blocks(document)]
RUNNABLE = [b for b in ALL if b.language in SHELLS | {"python"} and "not-run" not in b.options]
SKIPPED = [b for b in ALL if "not-run" in b.options]


def test_what_is_skipped_is_only_installs_and_says_why(record_property: Callable[[str, object], None]) -> None:
    for block in SKIPPED:
        reason = block.options["not-run"]
        assert SKIP_ALLOWED.search(reason), f"{block.id}: only install/set-up blocks may be skipped, not {reason!r}"
        for line in _commands(block.text):
            assert re.match(r"(pip|bash scripts/|python3? -m (pip|venv)|source \.venv/bin/activate)", line), \
                f"{block.id}: {line!r} is not an install or set-up line"
    record_property(SAID_AT_THE_END, f"README/docs examples: {len(RUNNABLE)} run, {len(SKIPPED)} skipped: "
                    + "; ".join(f"{b.id} ({b.options['not-run']})" for b in SKIPPED))
    assert RUNNABLE, "no runnable example found: the extraction is broken"


def _commands(text: str) -> Iterator[str]:
    for line in text.splitlines():
        line = line.split(" #", 1)[0].strip()
        if line and not line.startswith("#"):
            yield line


@pytest.fixture(scope="session")
def demo_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``./otel-data`` as ``otel-llm demo`` leaves it: the files and the ingested store."""
    home = tmp_path_factory.mktemp("demo-home")
    proc = subprocess.run([str(BIN / "otel-llm"), "demo", "--turns", "20", "--latency-scale", "0"], cwd=home,
                          capture_output=True, text=True, timeout=300, env=_env(home))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return home / "otel-data"


def _env(home: Path) -> dict[str, str]:
    """This environment's tools first; nothing of the suite's own OTEL settings or database choice."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "PYTEST")) and k != "COLUMNS"}
    env.update(PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}", HOME=str(home), COLUMNS="100",
               OTEL_LLM_RAISE_INTERNAL_ERRORS="1")
    return env


def _collector_cache(home: Path) -> Path:
    """A private cache whose collector build is the real one (a link): private pid file and log."""
    from otel_llm.collector import _binary

    cache = home / "cache"
    cache.mkdir()
    built = _binary.binary_path().parent
    (cache / built.name).symlink_to(built, target_is_directory=True)
    return cache


def _workdir(block: Block, demo_data: Path, tmp_path: Path) -> Path:
    """A fresh directory with the demo's data and the files earlier blocks of the document saved."""
    work = tmp_path / "work"
    shutil.copytree(demo_data, work / "otel-data")
    for earlier in ALL:
        if earlier.document == block.document and earlier.line < block.line and "file" in earlier.options:
            (work / earlier.options["file"]).write_text(earlier.text, "utf-8")
    return work


@pytest.mark.parametrize("block", RUNNABLE, ids=lambda b: b.id)
def test_example_runs_as_written(block: Block, demo_data: Path, tmp_path: Path) -> None:
    work = _workdir(block, demo_data, tmp_path)
    env = _env(tmp_path)
    if block.language == "python":
        name = block.options.get("file", "example.py")
        (work / name).write_text(block.text, "utf-8")
        is_test = re.search(r"^def test_", block.text, re.M) is not None
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", name] if is_test \
            else [sys.executable, name]
    else:
        env["OTEL_LLM_CACHE_DIR"] = str(_collector_cache(tmp_path))
        command = ["unshare", "--net", "--", "bash", "-c",
                   "ip link set lo up && exec bash -euo pipefail -c " + shlex.quote(block.text)]
    try:
        if "server" in block.options:
            proc = _serve_until_answering(command, work, env, block.options["server"])
        else:
            proc = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, timeout=300)
    finally:
        if "collector start" in block.text:  # never leave a collector behind, whatever failed
            subprocess.run([str(BIN / "otel-llm"), "collector", "stop"], cwd=work, env=env, capture_output=True,
                           timeout=60)
    assert proc.returncode == 0, f"{block.id} failed ({proc.returncode}):\n{block.text}\n--- stdout\n" \
                                 f"{proc.stdout[-4000:]}\n--- stderr\n{proc.stderr[-4000:]}"
    assert "Traceback" not in proc.stderr, proc.stderr


def _serve_until_answering(command: list[str], work: Path, env: dict[str, str],
                           url: str) -> subprocess.CompletedProcess[str]:
    """Run a server block until ``url`` answers 200 inside its network namespace, then stop it.

    The probe runs in the same namespace (``nsenter`` into the block's), so the
    README's own port is used as written. Returns the block's outcome: exit 0 when
    the address answered, else whatever the block exited with (or 124: never answered).
    """
    import signal
    import time

    process = subprocess.Popen(command, cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, start_new_session=True)
    probe = ["nsenter", f"--net=/proc/{process.pid}/ns/net", sys.executable, "-c",
             "import sys, urllib.request; sys.exit(urllib.request.urlopen(sys.argv[1], timeout=5).status != 200)", url]
    answered = False
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        if subprocess.run(probe, capture_output=True, timeout=30).returncode == 0:
            answered = True
            break
        time.sleep(0.5)
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
    try:
        out, err = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
    code = 0 if answered else (process.returncode or 124)
    return subprocess.CompletedProcess(command, code, out, err)


def test_quickstart_shows_real_rows(tmp_path: Path) -> None:
    """The Quickstart alone, in an empty directory: its commands show its own call, tokens and cost."""
    readme = [b for b in ALL if b.document.name == "README.md"]
    app = next(b for b in readme if b.options.get("file") == "app.py")
    commands = next(b for b in readme if b.language == "bash" and b.line > app.line and "not-run" not in b.options)
    (tmp_path / "app.py").write_text(app.text, "utf-8")
    proc = subprocess.run(["bash", "-euo", "pipefail", "-c", commands.text], cwd=tmp_path, env=_env(tmp_path),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "In short: What is OTLP?" in proc.stdout  # the answer came back through the real client
    row = next(line for line in proc.stdout.splitlines() if line.startswith("gpt-4o "))
    calls, cost, *_ = row.split()[1:]
    assert calls == "1" and cost.startswith("$") and float(cost[1:]) > 0, row
    assert "59" in proc.stdout or "42" in proc.stdout  # its tokens
