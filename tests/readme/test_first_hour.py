"""A newcomer's first hour: what the README and docs say a command prints, it prints.

``test_examples.py`` runs every example and checks it succeeds; these tests check
what the text promises about the output of the steps a newcomer takes in order
(the demo, then the Analysis section's commands), taking the commands and files
from README.md itself, and that a step taken too early says what to do next.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.readme.test_examples import ALL, BIN, _env


def _readme_line(containing: str) -> str:
    """The README shell line holding ``containing``, without its comment: the command as a reader copies it."""
    for block in ALL:
        if block.document.name == "README.md" and block.language == "bash" and "not-run" not in block.options:
            for line in block.text.splitlines():
                if containing in line:
                    return line.split(" #", 1)[0].strip()
    raise AssertionError(f"README.md has no shell line with {containing!r}")


def _readme_file(name: str) -> str:
    return next(b.text for b in ALL if b.document.name == "README.md" and b.options.get("file") == name)


def _run(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-euo", "pipefail", "-c", command], cwd=cwd, env=_env(cwd),
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def after_demo(tmp_path: Path) -> Path:
    """A directory where ``otel-llm demo`` just ran: ./otel-data written and ingested, acme-grader-1 unpriced."""
    proc = subprocess.run([str(BIN / "otel-llm"), "demo", "--turns", "5", "--latency-scale", "0"], cwd=tmp_path,
                          env=_env(tmp_path), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "acme-grader-1" in proc.stdout and "unpriced" in proc.stdout
    return tmp_path


def test_ingest_with_a_pricing_file_says_it_priced_the_stored_calls(after_demo: Path) -> None:
    """README: ``otel-llm ingest ./otel-data --pricing prices.yaml  # your prices for calls that carry tokens
    but no cost``; docs/analyses.md: ingesting again with a new price prices the calls already stored.

    After the demo every file was read, so nothing is new: the command must still say what it did
    (it priced the demo's judge calls), not only "nothing new".
    """
    (after_demo / "prices.yaml").write_text(_readme_file("prices.yaml"), "utf-8")
    proc = _run(_readme_line("--pricing prices.yaml"), after_demo)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = _run("otel-llm summary --by model --format json", after_demo)
    judge = next(row for row in json.loads(summary.stdout)["rows"] if row["key"] == "acme-grader-1")
    assert judge["priced_calls"] > 0 and judge["cost_usd"] > 0  # the file's price was applied ...
    said = re.search(r"priced (\d+) call\(s\) at ingest \(([^)]*)\)", proc.stdout)
    assert said, f"the ingest priced {judge['priced_calls']} calls and did not say so:\n{proc.stdout}"  # ... and said
    assert int(said.group(1)) == judge["priced_calls"] and "user" in said.group(2), proc.stdout
    assert "were read before" in proc.stdout  # still says why no line was read


def test_ingest_after_an_interrupted_one_says_it_finished_it(after_demo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """README: after an ingest stopped between its commits, "the next `otel-llm ingest` works all of that out
    for the rows already stored, even with no new data, and its report says `finished N span(s) an
    interrupted ingest left`"."""
    import typer
    from typer.testing import CliRunner

    import otel_llm_analysis.store as store_module
    from otel_llm_analysis import TraceStore
    from otel_llm_analysis.cli import register

    data, db = after_demo / "otel-data", str(after_demo / "interrupted.duckdb")

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt  # Ctrl-C once the rows are committed, before they are priced and paired

    with TraceStore(db) as store, monkeypatch.context() as patch:
        patch.setattr(store_module, "price_calls", interrupted)
        with pytest.raises(KeyboardInterrupt):
            store.ingest([str(data)])
    app = typer.Typer()
    register(app)
    result = CliRunner().invoke(app, ["ingest", str(data), "--db", db])
    assert result.exit_code == 0, result.output
    assert re.search(r"finished \d+ span\(s\) an interrupted ingest left", result.stdout), result.stdout


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_ingest_before_any_data_says_where_data_comes_from(tmp_path: Path) -> None:
    """The Quickstart's ``otel-llm ingest ./otel-data`` run before the app (or in another directory):
    the error says what writes ./otel-data, not only that it is missing."""
    proc = _run(_readme_line("otel-llm ingest ./otel-data"), tmp_path)
    assert proc.returncode == 1 and "no such file or directory" in proc.stderr, proc.stderr
    assert "otel_llm.configure()" in proc.stderr and "otel-llm demo" in proc.stderr, proc.stderr
    (tmp_path / "otel-data").mkdir()  # made, not written to yet
    proc = _run(_readme_line("otel-llm ingest ./otel-data"), tmp_path)
    assert proc.returncode == 1 and "no trace, metric or log files here" in proc.stderr, proc.stderr
    assert "otel_llm.configure()" in proc.stderr and "otel-llm demo" in proc.stderr, proc.stderr


def test_ingest_of_what_a_collector_never_received_says_how_to_send_it(tmp_path: Path) -> None:
    """The collector section's ``OTEL_LLM_EXPORTER=otlp python app.py`` with the collector not started: the
    app says its spans were spooled; ``otel-llm ingest ./otel-data`` then finds no data file, and says that
    the spool holds them and how they reach the files."""
    (tmp_path / "app.py").write_text(_readme_file("app.py"), "utf-8")
    env = _env(tmp_path) | {"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{_free_port()}",
                            "OTEL_LLM_SHUTDOWN_TIMEOUT_S": "1"}  # nothing listens there
    app = subprocess.run(["bash", "-c", _readme_line("OTEL_LLM_EXPORTER=otlp python app.py")], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=120)
    assert app.returncode == 0 and "spooled to otel-data/spool" in app.stderr, app.stderr
    proc = _run(_readme_line("otel-llm ingest ./otel-data"), tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "otel-data/spool" in proc.stderr and "otel-llm collector start" in proc.stderr, proc.stderr
