"""Ctrl-C stops an ``otel-llm`` command while its DuckDB query runs, whatever the command, on a busy machine.

A query DuckDB runs on the main thread checks for signals only between its tasks; under load it sits
waiting for its workers past a SIGINT, so the command went on until the query ended (the user pressed
Ctrl-C again, or killed it), and when DuckDB did notice, the Ctrl-C came out as ``RuntimeError: Query
interrupted`` (exit 1, "otel-llm failed") instead of the usual Ctrl-C exit (130, Typer's).

The processes, the store and the signal are real. The store's ``spans`` is made a slow view: it reads a
named pipe first (the test learns from it that the command's query is under way: opening the pipe's write
end succeeds only once the query has opened it to read), then scans a cross product long enough (a minute
or more) that an exit within :data:`DEADLINE_S` can only be the Ctrl-C's. Busy loops load every core meanwhile.
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import duckdb
import pytest

from otel_llm_analysis.store import TraceStore
from tests.support import synthetic

#: How long a command may take to exit after its SIGINT; the slow query runs far longer than this.
DEADLINE_S = 10.0
#: How long a command may take to reach its slow query (imports and the store's open, on a loaded machine).
START_S = 60.0
#: What the pipe hands the slow view: its length scales the cross product (minutes of work at 2 bytes).
GO = b"9\n"

#: The plumbing's paths: an analysis command (``analysis_command``), its two queries side by side
#: (``summary --by node``), and the two commands that open the store themselves.
COMMANDS = [
    ["summary"],
    ["summary", "--by", "node"],
    ["export", "--out", "{tmp}/exported"],
    ["report", "--out", "{tmp}/report.html"],
]


@pytest.fixture(scope="module")
def slow_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A store whose ``spans`` is a view that waits on a named pipe, then works for minutes; and the pipe."""
    root = tmp_path_factory.mktemp("slow")
    data = synthetic.generate(root / "data", seed=7, traces=30, days=5)
    db, gate = root / "slow.duckdb", root / "started.fifo"
    with TraceStore(str(db)) as store:
        store.ingest([str(f) for f in data.files])
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE TABLE filler AS SELECT range AS n FROM range(2000000)")
        con.execute("ALTER TABLE spans RENAME TO spans_stored")
        con.execute(f"""CREATE VIEW spans AS SELECT s.* FROM spans_stored s WHERE (
            SELECT count(*) FROM filler a, range((SELECT length(content) FROM read_text('{gate}')) * 1000) b
            WHERE (a.n + b.range) % 7 = 3) >= 0""")
    return db, gate


@contextmanager
def _busy_machine() -> Iterator[None]:
    """One busy loop per core beside the command's query (the load under which the signal was missed; not
    during its start, which it would only slow down)."""
    loops = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(os.cpu_count() or 2)]
    try:
        yield
    finally:
        for loop in loops:
            loop.kill()
            loop.wait()


def _open_gate(gate: Path, process: subprocess.Popen[str]) -> int | None:
    """The pipe's write end once the command's query has opened it to read; None if it never does."""
    began = time.monotonic()
    while process.poll() is None and time.monotonic() - began < START_S:
        try:
            return os.open(gate, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as exc:
            if exc.errno != errno.ENXIO:  # ENXIO: no reader yet
                raise
            time.sleep(0.01)
    return None


def _gated(gate: Path) -> Callable[[subprocess.Popen[str]], bool]:
    """Whether the command's slow query runs: it opened ``gate``, which is then given what it waits for."""
    fresh = gate.with_suffix(".new")
    os.mkfifo(fresh)
    os.replace(fresh, gate)

    def reached(process: subprocess.Popen[str]) -> bool:
        writer = _open_gate(gate, process)
        if writer is None:
            return False
        os.write(writer, GO)
        fresh.write_bytes(GO)  # the queries after this one find a file: slow too, never waiting on the pipe
        os.replace(fresh, gate)
        os.close(writer)
        return True
    return reached


def _busy_besides_main(process: subprocess.Popen[str]) -> bool:
    """Whether the command's threads other than its main thread (DuckDB's workers; the query's own thread)
    have worked a second: a query scanning, as nothing before it keeps them busy that long."""
    began, ticks = time.monotonic(), os.sysconf("SC_CLK_TCK")
    while process.poll() is None and time.monotonic() - began < START_S:
        worked = 0.0
        for task in os.listdir(f"/proc/{process.pid}/task"):
            if int(task) != process.pid:
                try:
                    fields = Path(f"/proc/{process.pid}/task/{task}/stat").read_text().rsplit(")", 1)[1].split()
                except OSError:  # the thread ended
                    continue
                worked += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
        if worked >= 1.0:
            return True
        time.sleep(0.05)
    return False


def _as_from_a_terminal() -> None:
    """In the command's process before it starts: SIGINT at its default, as a shell's foreground job has it.
    A suite run as a background job (``cmd &`` in a script) has SIGINT ignored, and a child inherits that."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _interrupted(command: list[str], db: Path, reached: Callable[[subprocess.Popen[str]], bool],
                 tmp: Path) -> str | None:
    """Run ``command``, SIGINT it once its slow query runs; what went wrong, or None when it exited as Ctrl-C's."""
    argv = [sys.executable, "-c", "from otel_llm.cli import main; main()",
            *(part.format(tmp=tmp) for part in command), "--db", str(db)]
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "OTEL_LLM_RAISE_INTERNAL_ERRORS": "1"}, preexec_fn=_as_from_a_terminal)
    try:
        if not reached(process):
            return f"never reached its slow query (exit {process.poll()})"
        with _busy_machine():
            time.sleep(0.3)  # the query is scanning
            process.send_signal(signal.SIGINT)
            sent = time.monotonic()
            try:
                _, stderr = process.communicate(timeout=DEADLINE_S)
            except subprocess.TimeoutExpired:
                return f"still running {DEADLINE_S:.0f} s after its SIGINT"
        if process.returncode != 130 or "Traceback" in stderr or "error" in stderr:
            return f"exit {process.returncode} after {time.monotonic() - sent:.1f} s: {stderr.strip()[-300:]}"
        return None
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def test_ctrl_c_stops_every_command_while_its_query_runs(slow_store, tmp_path):
    """Before: under two busy loops, every command but ``summary --by node`` (whose queries already ran on
    threads of their own) was still running 10 s after its SIGINT, or ended with "Query interrupted"."""
    db, gate = slow_store
    failed = {" ".join(command): why for command in COMMANDS
              if (why := _interrupted(command, db, _gated(gate), tmp_path)) is not None}
    assert not failed, failed


def test_ctrl_c_stops_the_users_sql(slow_store, tmp_path):
    """``otel-llm sql`` runs the user's query on a sandboxed connection of its own (no file access: the
    pipe cannot tell when it runs, its threads' work does), which Ctrl-C must stop too. Before: still
    running 10 s after its SIGINT, under two busy loops."""
    db, _ = slow_store
    slow = "SELECT count(*) FROM filler a, range(100000) b WHERE (a.n + b.range) % 7 = 3"
    assert _interrupted(["sql", slow], db, _busy_besides_main, tmp_path) is None
