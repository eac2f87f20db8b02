"""The command-line options the README and docs name are the ones ``otel-llm COMMAND --help`` shows.

A newcomer copies ``otel-llm budget --monthly 50 --project demo`` or reads "``prune --older-than 30d``
(or ``--before DATE``)" and types it: each option so named must exist on that command, as the
installed ``otel-llm`` prints its help (a subprocess, as a user runs it). The README's statement of
which commands take ``--db``, ``--format`` and ``--out`` is read from the README itself and checked
against the same help pages.
"""

from __future__ import annotations

import functools
import re
import subprocess
from pathlib import Path

import pytest

from tests.readme.test_examples import BIN, DOCUMENTS, ROOT, _env

#: Shipped docs a user reads beside README.md and docs/*.md.
PAGES = [*DOCUMENTS, ROOT / "otel_llm" / "collector" / "config" / "README.md"]
#: A mention: ``otel-llm`` then a command, up to the end of the command (a shell separator, a comment, a code span).
MENTION = re.compile(r"otel-llm ((?:collector )?[a-z]+)((?:[^`\n#|;&]|&(?!&))*)")
OPTION = re.compile(r"(?<![\w-])(--?[a-zA-Z][\w-]*)")


def _help(command: str, home: Path) -> str:
    proc = subprocess.run([str(BIN / "otel-llm"), *command.split(), "--help"], cwd=home,
                          env={**_env(home), "COLUMNS": "400"}, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"otel-llm {command} --help: {proc.stderr[-1000:]}"
    return proc.stdout


@functools.cache
def _commands() -> dict[str, set[str]]:
    """Every command's options as its ``--help`` lists them: the leading words of each row of the options table
    (after the ``*`` of a required one)."""
    home = Path(__import__("tempfile").mkdtemp(prefix="otel-llm-help-"))
    def listed(group: str) -> list[str]:
        return re.findall(r"^│ ([a-z][\w-]*)\s", _help(group, home), re.M)

    commands = {}
    for name in listed(""):
        for command in [f"collector {sub}" for sub in listed("collector")] if name == "collector" else [name]:
            options = set()
            for row in re.findall(r"^│ [\s*]*(-.*)$", _help(command, home), re.M):
                for word in row.split():
                    if not word.startswith("-"):
                        break
                    options.add(word)
            commands[command] = options
    return commands


def _mentions() -> list[tuple[str, str, str]]:
    """(where, command, option) for each option the pages name right after ``otel-llm COMMAND``."""
    found = []
    for page in PAGES:
        for number, line in enumerate(page.read_text("utf-8").splitlines(), 1):
            for match in MENTION.finditer(line):
                for option in OPTION.findall(match.group(2)):
                    found.append((f"{page.relative_to(ROOT)}:{number}", match.group(1), option))
    return found


def test_the_commands_the_docs_run_exist_and_their_help_lists_options() -> None:
    commands = _commands()
    assert {"ingest", "summary", "budget", "check", "export", "demo", "collector start"} <= set(commands)
    assert "--db" in commands["summary"] and "--monthly" in commands["budget"]  # the parsing reads real rows


def test_every_option_the_docs_name_after_a_command_is_in_its_help() -> None:
    """``otel-llm budget --monthly 50 --project demo``: ``--monthly`` and ``--project`` are options of ``budget``."""
    commands = _commands()
    mentions = [(where, command, option) for where, command, option in _mentions()
                if command in commands or command.startswith("collector ")]
    assert len(mentions) > 100, "the pages' commands were not found"
    wrong = [f"{where}: otel-llm {command} {option}" for where, command, option in mentions
             if command not in commands or option not in commands[command] | {"--help", "-h"}]
    assert not wrong, "options the docs name that the command does not take:\n" + "\n".join(wrong)


def _readme_sentence(starting: str) -> str:
    text = " ".join((ROOT / "README.md").read_text("utf-8").split())
    start = text.index(starting)
    return text[start:text.index(". ", start)]


def test_the_analysis_commands_the_readme_lists_take_db_format_and_out() -> None:
    """README, Analysis: "The analysis commands (`ingest`, `summary`, ...) all take `--db` (default
    `./otel-data/otel-llm.duckdb`, or `OTEL_LLM_DB`), `--format table|json|csv` for stdout and `--out FILE`
    to write `json`, `csv` or `parquet`"."""
    sentence = _readme_sentence("The analysis commands (")
    listed = re.findall(r"`([a-z]+)`", sentence[:sentence.index(")")])
    assert len(listed) >= 15, sentence
    home = Path(__import__("tempfile").mkdtemp(prefix="otel-llm-help-"))
    missing = []
    for command in listed:
        shown = " ".join(_help(command, home).split())
        for option in ("--db", "--format", "--out"):
            if option not in _commands()[command]:
                missing.append(f"{command} {option}")
        if "[default: ./otel-data/otel-llm.duckdb]" not in shown or "OTEL_LLM_DB" not in shown:
            missing.append(f"{command} --db default ./otel-data/otel-llm.duckdb, env OTEL_LLM_DB")
        if not re.search(r"<table\|json\|csv\|parquet>", shown):
            missing.append(f"{command} --format table|json|csv (and parquet for --out)")
    assert not missing, "README says these commands take these options:\n" + "\n".join(missing)


def test_export_takes_db_and_the_file_commands_take_neither_db_nor_format() -> None:
    """README: "`export` ... takes `--db` too; `demo` and the `collector` commands work on files and
    processes, not on the store, and take neither"."""
    commands = _commands()
    assert "--db" in commands["export"]
    for command in ["demo", *(c for c in commands if c.startswith("collector "))]:
        assert not {"--db", "--format"} & commands[command], command


@pytest.mark.parametrize("command", ["summary", "budget", "collector start"])
def test_an_option_no_command_has_is_a_usage_error(command: str, tmp_path: Path) -> None:
    """The check above can fail: an option a command lacks is refused, so a doc naming one would mislead."""
    proc = subprocess.run([str(BIN / "otel-llm"), *command.split(), "--no-such-option"], cwd=tmp_path,
                          env=_env(tmp_path), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "--no-such-option" in proc.stderr, proc.stderr
    assert "--no-such-option" not in _commands()[command]


def test_every_option_a_command_takes_is_named_in_the_docs() -> None:
    """The other way round: an option ``--help`` lists that neither README.md nor docs/ name is one a reader
    of the docs never learns of (``--files`` and ``--no-files`` are one switch: either name counts)."""
    text = "\n".join(page.read_text("utf-8") for page in PAGES)
    named = set(OPTION.findall(text))
    home = Path(__import__("tempfile").mkdtemp(prefix="otel-llm-help-"))
    unnamed = []
    for command, options in _commands().items():
        switches = re.findall(r"^│ [\s*]*(--[\w-]+)\s+(--no-[\w-]+)\s", _help(command, home), re.M)
        pairs = {name: {on, off} for on, off in switches for name in (on, off)}
        for option in sorted(o for o in options if o.startswith("--") and o != "--help"):
            if not pairs.get(option, {option}) & named:
                unnamed.append(f"otel-llm {command} {option}")
    assert not unnamed, "options no page names:\n" + "\n".join(unnamed)


def test_the_check_thresholds_the_readme_gives_are_the_defaults() -> None:
    """README, Analysis: ``otel-llm check --since 1h  # alert thresholds: p95 > 2 s, error rate > 5 %, memory >
    500 MiB (exit 1 when crossed)``: the defaults ``check --help`` shows for the three options."""
    line = next(line for line in (ROOT / "README.md").read_text("utf-8").splitlines()
                if line.startswith("otel-llm check --since 1h ") and "alert thresholds" in line)
    p95_s, error_pct, memory_mib = map(float, re.search(
        r"p95 > ([\d.]+) s, error rate > ([\d.]+) %, memory > ([\d.]+) MiB", line).groups())
    shown = " ".join(_help("check", Path(__import__("tempfile").mkdtemp(prefix="otel-llm-help-"))).split())

    def default(option: str) -> float:
        return float(re.search(rf"{option} .*?\[default: ([\d.]+)\]", shown).group(1))

    assert default("--max-p95-ms") == p95_s * 1000
    assert default("--max-error-rate") == error_pct / 100
    assert default("--max-memory-mb") == memory_mib
