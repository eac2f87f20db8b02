"""The adapter that owns every private name otel-llm takes from OpenTelemetry.

When a pin in pyproject.toml moves, these tests fail until the adapter is
re-checked against the new release: the private names it uses are probed on the
installed packages, and the versions it was verified against must equal the pins.
"""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

from otel_llm import _upstream

ROOT = Path(__file__).resolve().parents[2]


def test_every_private_upstream_name_resolves_on_the_installed_packages() -> None:
    problems = _upstream.check()
    assert problems == [], "OpenTelemetry changed names otel_llm/_upstream.py relies on:\n" + "\n".join(problems)


def test_the_adapter_was_verified_against_the_pinned_and_installed_versions() -> None:
    pins = {}
    for requirement in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]:
        name, sep, pinned = requirement.partition("==")
        if sep:
            pins[name.strip()] = pinned.strip()
    for dist, verified in _upstream.VERIFIED.items():
        assert pins.get(dist) == verified, (
            f"pyproject pins {dist}=={pins.get(dist)} but otel_llm/_upstream.py was verified against {verified}: "
            "re-check its private names (this test file says how), then update VERIFIED"
        )
    assert _upstream.installed_versions() == _upstream.VERIFIED


def _private_imports(path: Path) -> list[str]:
    """``from x._y import z`` / ``import x._y`` / ``from x import _y`` of packages other than otel_llm."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and not node.module.startswith(("otel_llm", "__future__")):
            if re.search(r"(^|\.)_", node.module) or any(a.name.startswith("_") for a in node.names):
                found.append(f"{path.name}:{node.lineno} from {node.module} import ...")
        elif isinstance(node, ast.Import):
            found += [f"{path.name}:{node.lineno} import {a.name}" for a in node.names
                      if re.search(r"(^|\.)_", a.name) and not a.name.startswith("otel_llm")]
    return found


def test_no_module_but_the_adapter_imports_another_packages_private_names() -> None:
    offenders = [
        hit
        for path in sorted((ROOT / "otel_llm").rglob("*.py"))
        if path.name != "_upstream.py"
        for hit in _private_imports(path)
    ]
    assert offenders == []


def test_no_module_but_the_adapter_reads_private_attributes_by_name() -> None:
    pattern = re.compile(r"getattr\([^,]+,\s*[\"']_[a-z]")
    offenders = [
        f"{path.name}:{n}"
        for path in sorted((ROOT / "otel_llm").rglob("*.py"))
        if path.name != "_upstream.py"
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert offenders == []
