"""No input makes ``otel-llm`` print a traceback: every option of every command, driven with bad values.

The commands are read from the real root app, so a command or option added
later is driven too. Each command's cases run in a subprocess of their own
(the demo configures global OpenTelemetry providers, which must not leak into
this process), in-process there through :func:`otel_llm.cli.run`, with
``OTEL_LLM_RAISE_INTERNAL_ERRORS=1``: an unexpected exception escapes ``run``
and is reported with its traceback, failing the test. A rejected value must
come back as one ``error:`` line (ours) or Click's one-line ``Error:``.

A command that accepts its values may run until stopped: ``serve``. The driver
stops its server as Ctrl+C would, once it listens (on a port of the OS's
choosing, ``--port 0``, so no run holds a fixed port): it got that far because
every value was accepted, and the run counts like any other that exits 0.
"""

from __future__ import annotations

import enum
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest
import typer

from otel_llm.cli import app
from tests.support import synthetic

_DRIVER = r"""
import contextlib, io, json, sys, traceback
import uvicorn
from otel_llm.cli import run

listen = uvicorn.Server.startup

async def startup(self, sockets=None):
    await listen(self, sockets=sockets)
    self.should_exit = True  # listening: stop as Ctrl+C would

uvicorn.Server.startup = startup
results = []
for args in json.loads(sys.argv[1]):
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = run(args)
        escaped = None
    except BaseException:
        code, escaped = None, traceback.format_exc()
    results.append({"args": args, "code": code, "stdout": out.getvalue(), "stderr": err.getvalue(),
                    "escaped": escaped})
print(json.dumps(results))
"""


def _commands(group: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    for name, command in sorted(group.commands.items()):
        if hasattr(command, "commands"):
            yield from _commands(command, (*prefix, name))
        else:
            yield (*prefix, name), command


COMMANDS = dict(_commands(typer.main.get_command(app)))
_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A store with data, its files, a CSV file, a file that is not a database, an empty directory."""
    root = tmp_path_factory.mktemp("bad-input")
    data = synthetic.generate(root / "otel-data", seed=11, traces=20, days=3)
    db = root / "otel-llm.duckdb"
    from otel_llm_analysis import TraceStore

    with TraceStore(str(db)) as store:
        store.ingest([str(f) for f in data.files])
    (root / "existing.csv").write_text("a,b\n1,2\n")
    (root / "garbage.duckdb").write_bytes(b"not a database" * 100)
    (root / "empty").mkdir()
    return {"root": root, "data": data.files[0].parent, "db": db}


def _bad_values(param: Any, world: dict[str, Path]) -> list[str]:
    """Values a user may type that the parameter must refuse or survive, chosen by its type and name."""
    annotation = param.type_descriptor.annotation
    name = param.name or ""
    if annotation is bool:
        return []
    if annotation is int:
        return ["-1", "0", "99999999999999999999", "x"]
    if annotation is float:
        return ["inf", "-inf", "nan", "-1", "0", "1e400", "x"]
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return ["bogus", ""]
    if name == "db":
        return [str(world["root"] / "existing.csv"), str(world["root"] / "garbage.duckdb"), "/proc/x/y.duckdb",
                str(world["root"] / "empty")]
    if annotation is Path or name == "paths":
        return ["/proc/x", "/nonexistent/dir/file.json", str(world["root"] / "empty"), "", "x" * 300]
    if name == "query":
        return ["SELEC 1", "SELECT * FROM nosuch", "", "SELECT 1/0", "COPY spans TO '/proc/x'"]
    return ["", "nosuch", "1000000000d", "2026-13-45", "run_config.bad key", "\u2028", "x" * 5000]


def _baseline(path: tuple[str, ...], world: dict[str, Path]) -> tuple[list[str], list[str]]:
    """Valid (arguments, options) that make the command otherwise runnable against ``world``, quickly."""
    db = ["--db", str(world["db"])]
    return {
        ("ingest",): ([str(world["data"])], ["--db", str(world["root"] / "scratch.duckdb")]),
        ("sql",): (["SELECT count(*) AS n FROM spans"], db),
        ("budget",): ([], ["--monthly", "50", *db]),
        ("export",): (["spans"], ["--out", str(world["root"] / "export"), *db]),
        ("demo",): ([], ["--turns", "1", "--latency-scale", "0", "--output-dir", str(world["root"] / "demo")]),
        ("serve",): ([], ["--port", "0", *db]),
        # A report a value lets through is built in full, one set of views per filter combination embedded
        # (all of them for --max-views 99999999999999999999: minutes): one project, one model, one view.
        ("report",): ([], ["--project", "search", "--model", "gpt-4o", "--max-views", "1", *db]),
    }.get(path, ([], db if "--db" in _option_names(COMMANDS[path]) else []))


def _option_names(command: Any) -> set[str]:
    return {opt for param in command.params for opt in getattr(param, "opts", [])}


def _cases(path: tuple[str, ...], world: dict[str, Path]) -> list[list[str]]:
    command = COMMANDS[path]
    arguments, options = _baseline(path, world)
    cases = []
    for param in command.params:
        if param.name == "help" or getattr(param, "is_flag", False):
            continue
        for value in _bad_values(param, world):
            if param.param_type_name == "argument":
                cases.append([*path, value, *options])
                continue
            args = list(options)
            flag = param.opts[0]
            if flag in args:  # replace the baseline's value of this option
                index = args.index(flag)
                del args[index:index + 2]
            cases.append([*path, *arguments, *args, flag, value])
    return cases


def _drive(cases: list[list[str]], cwd: Path, env: dict[str, str]) -> list[dict[str, Any]]:
    proc = subprocess.run([sys.executable, "-c", _DRIVER, json.dumps(cases)], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _env(world: dict[str, Path]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("OTEL_LLM_DB", "COLUMNS")}
    # The collector commands look for their binary and run directory here: nothing real is started or stopped.
    env.update(OTEL_LLM_CACHE_DIR=str(world["root"] / "cache"), OTEL_LLM_RAISE_INTERNAL_ERRORS="1",
               PYTHONPATH=f"{_ROOT}{os.pathsep}{_ROOT / 'analysis'}")  # this checkout's code, not the installed one
    return env


@pytest.mark.parametrize("path", sorted(COMMANDS), ids=" ".join)
def test_bad_values_for_every_option_are_one_line(path: tuple[str, ...], world: dict[str, Path]) -> None:
    if path == ("collector", "build"):
        assert not [p for p in COMMANDS[path].params if p.name != "help"], "collector build takes no options"
        return  # it would start a Go build; it has nothing to drive
    cases = _cases(path, world)
    failures = []
    for result in _drive(cases, world["root"], _env(world)):
        try:
            _check(result)
        except AssertionError as exc:
            failures.append(str(exc).split("\nassert")[0])
    assert not failures, "\n\n".join(failures)


def _check(result: dict[str, Any]) -> None:
    """One invocation: no traceback, a known exit code, and a rejection is one error line."""
    args = " ".join(result["args"])
    assert result["escaped"] is None, f"otel-llm {args} raised:\n{result['escaped']}"
    output = result["stdout"] + result["stderr"]
    assert "Traceback" not in output, f"otel-llm {args}:\n{output}"
    assert result["code"] in (0, 1, 2, 3), f"otel-llm {args} -> {result['code']}"
    if result["code"] and not result["stderr"].strip():
        assert result["stdout"].strip(), f"otel-llm {args} exited {result['code']} saying nothing"
        return  # a gate that found a limit crossed, a collector not running: the output is the message
    if result["code"]:
        lines = [line for line in result["stderr"].splitlines() if line.strip()]
        errors = [line for line in lines if line.startswith(("error:", "Error:"))]
        assert len(errors) == 1 or len(lines) == 1, f"otel-llm {args}: not one error line:\n{result['stderr']}"


@pytest.mark.parametrize(("args", "code", "message"), [
    (["summary", "--since", "1000000000d"], 2, "before the year 1"),
    (["budget", "--monthly", "inf"], 2, "not a finite number"),
    (["logs", "--limit", "-1"], 2, "--limit"),
    (["traces", "--top", "-1"], 2, "--top"),
    (["summary", "--format", "json", "--out", "/proc/x"], 1, "cannot write /proc/x"),
    (["export", "spans", "--out", "/proc/x"], 1, "cannot write /proc/x"),
    (["summary", "--model", "nosuch"], 2, "no data for model nosuch"),
    (["demo", "--output-dir", "/proc/x", "--turns", "1"], 1, "cannot create /proc/x"),
    (["report", "--out", "/proc/x", "--max-views", "1"], 1, "cannot write /proc/x"),  # built before written
    (["report", "--monthly", "inf"], 2, "not a finite number"),
    (["serve", "--port", "0", "--host", ""], 2, "--host"),
    (["serve", "--port", "0", "--host", "no.such.host.invalid"], 1, "cannot listen on no.such.host.invalid"),
    (["serve", "--port", "0", "--watch", ""], 2, "--watch"),
    (["serve", "--port", "0", "--interval", "inf"], 2, "not a finite number"),
    (["serve", "--port", "0", "--monthly", "inf"], 2, "not a finite number"),
    (["serve", "--port", "0", "--compare", "nosuch"], 2, "unknown dimension 'nosuch'"),
    (["serve", "--port", "0", "--project", "nosuch"], 2, "no data for project nosuch"),
    (["serve", "--port", "0", "--compare", "run_config.nosuch"], 2, "no data for run_config key nosuch"),
    (["report", "--out", "/tmp/never-written.html", "--compare", "run_config.nosuch"], 2,
     "no data for run_config key nosuch"),
    (["ingest", "x" * 300], 1, "File name too long"),
])
def test_reported_inputs(args: list[str], code: int, message: str, world: dict[str, Path]) -> None:
    full = args if args[0] == "demo" else [*args, "--db", str(world["db"])]
    (result,) = _drive([full], world["root"], _env(world))
    assert result["escaped"] is None, result["escaped"]
    assert result["code"] == code, result
    assert message in result["stderr"], result["stderr"]


def test_ingest_into_a_csv_file_refuses_and_saves_nothing(world: dict[str, Path]) -> None:
    csv = world["root"] / "existing.csv"
    before = csv.read_bytes()
    (result,) = _drive([["ingest", str(world["data"]), "--db", str(csv)]], world["root"], _env(world))
    assert result["code"] == 1 and "not a DuckDB database file" in result["stderr"], result
    assert "spans" not in result["stdout"]
    assert csv.read_bytes() == before


def test_ingest_tells_no_data_files_from_nothing_new(world: dict[str, Path], tmp_path: Path) -> None:
    db = str(tmp_path / "store.duckdb")
    (tmp_path / "nothing").mkdir()
    (tmp_path / "nothing" / "notes.txt").write_text("not telemetry")
    empty, first, again = _drive([["ingest", str(tmp_path / "nothing"), "--db", db],
                                  ["ingest", str(world["data"]), "--db", db],
                                  ["ingest", str(world["data"]), "--db", db]], world["root"], _env(world))
    assert empty["code"] == 1 and f"{tmp_path / 'nothing'}: no trace, metric or log files" in empty["stderr"]
    assert first["code"] == 0 and "+" in first["stdout"] and str(world["data"]) in first["stdout"]
    assert again["code"] == 0 and f"nothing new in {world['data']}" in again["stdout"]
