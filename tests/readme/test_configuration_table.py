"""README, Configuration: each row of the table names a real ``configure()`` argument, the environment
variable that argument's setting reads, and its default as ``configure()`` resolves it with no environment.

The behaviour of the variables in a running app is in ``test_configuration.py``; this reads the table
itself, so a renamed argument or variable, or a changed default, fails here rather than misleading a reader.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
from pathlib import Path

import otel_llm
from otel_llm._settings import MIB, Settings
from tests.readme.test_examples import ROOT


def _rows() -> list[tuple[list[str], list[str], str]]:
    """(arguments, variables, default cell) per row of the table under ``### Configuration``."""
    readme = (ROOT / "README.md").read_text("utf-8")
    section = readme[readme.index("### Configuration"):readme.index("### Safety")]
    rows = []
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip("|").split(" | ")]
        if len(cells) != 3 or not cells[0].startswith("`"):
            continue
        arguments = re.findall(r"`(\w+)`", cells[0].split(" (", 1)[0])
        variables = re.findall(r"`(OTEL_[A-Z_]+)`", cells[1])
        rows.append((arguments, variables, cells[2]))
    return rows


def _default(text: str) -> object:
    """A default as the table writes it: ``8192``, ``100 MiB``, ``5``, `` `file` ``, `` `False` ``, none."""
    text = text.strip()
    if text in ("none", "`None`"):
        return None
    if re.fullmatch(r"[\d,]+", text):
        return int(text.replace(",", ""))
    if match := re.fullmatch(r"(\d+) MiB", text):
        return int(match.group(1)) * MIB
    if match := re.fullmatch(r"`([^`]+)`", text):
        return {"False": False, "True": True}.get(match.group(1), match.group(1))
    return text


def test_every_argument_of_the_table_is_one_configure_takes() -> None:
    rows = _rows()
    assert len(rows) >= 15, rows
    named = inspect.signature(otel_llm.configure).parameters
    fields = {f.name for f in dataclasses.fields(Settings)}
    unknown = [a for arguments, _, _ in rows for a in arguments if a not in named and a not in fields]
    assert not unknown, f"arguments the README's table gives configure() that it does not take: {unknown}"


def test_each_argument_reads_the_variable_the_table_names() -> None:
    fields = {f.name: f for f in dataclasses.fields(Settings)}
    wrong = []
    for arguments, variables, _ in _rows():
        if not variables or not all(a in fields for a in arguments):
            continue
        # one variable per argument, in order (`endpoint`, `protocol` ... `OTEL_EXPORTER_OTLP_ENDPOINT`, `..._PROTOCOL`)
        for argument, variable in zip(arguments, variables):
            read = fields[argument].metadata.get("env")
            if read != variable:
                wrong.append(f"{argument}: the table says {variable}, configure() reads {read}")
    assert not wrong, "\n".join(wrong)


def test_each_default_the_table_gives_is_the_resolved_one() -> None:
    resolved = Settings.resolve(env={})
    #: Said in words, checked below: "on with the file exporter", "genai-prices only", "SDK defaults",
    #: "`output_dir/spool`".
    in_words = {"logs", "pricing", "endpoint", "spool_dir"}
    wrong, checked = [], []
    for arguments, _, cell in _rows():
        defaults = cell.split(", ") if len(arguments) > 1 else [cell]
        for argument, text in zip(arguments, defaults):
            if not hasattr(resolved, argument) or argument in in_words:
                continue
            expected, actual = _default(text), getattr(resolved, argument)
            if isinstance(actual, Path):
                expected = Path(str(expected))
            if actual != expected:
                wrong.append(f"{argument}: the table says {text}, configure() resolves {actual!r}")
            checked.append(argument)
    assert len(checked) >= 12 and not wrong, (checked, wrong)
    assert resolved.resolved_spool_dir == resolved.output_dir / "spool"
    assert resolved.logs_enabled is True and resolved.endpoint is None and resolved.pricing is None
