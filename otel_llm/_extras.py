"""Which optional extra of otel-llm provides a module, read from the installed package's metadata.

The SDK installs light for instrumented apps; the analysis, web and ClickHouse
commands import their extras' modules only when they run. A module of an extra
that is not installed is then the user's install to complete, and the command
says which extra to install instead of failing as a bug. The extras are read
from the package's own requirements (pyproject.toml), so this list is never
written twice.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import metadata

__all__ = ["COMMAND_EXTRAS", "extra_providing", "missing_extra_message"]

_DISTRIBUTION = "otel-llm"
#: The extras the ``otel-llm`` commands import from; the others (dev, peers) are for tests and benchmarks.
COMMAND_EXTRAS = ("analysis", "web", "clickhouse")
_EXTRA_MARKER = re.compile(r"""extra\s*==\s*["']([^"']+)["']""")
_REQUIREMENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def _module_names(requirement: str) -> set[str]:
    """The import names a distribution is likely found under: ``clickhouse-connect`` ->
    ``clickhouse_connect``; ``pyyaml`` -> ``pyyaml`` or ``yaml``."""
    name = re.sub(r"[-.]+", "_", requirement).lower()
    return {name, name.removeprefix("py")}


@lru_cache(maxsize=1)
def _extras_by_module() -> dict[str, str]:
    """Top-level module name -> the first of :data:`COMMAND_EXTRAS` (in pyproject order) providing it."""
    try:
        requirements = metadata.requires(_DISTRIBUTION) or []
    except metadata.PackageNotFoundError:  # run from a source tree that is not installed
        return {}
    extras: dict[str, str] = {}
    for requirement in requirements:
        spec, _, marker = requirement.partition(";")
        extra, name = _EXTRA_MARKER.search(marker), _REQUIREMENT_NAME.match(spec.strip())
        if extra and name and extra.group(1) in COMMAND_EXTRAS:
            for module in _module_names(name.group(0)):
                extras.setdefault(module, extra.group(1))
    return extras


def extra_providing(module: str | None) -> str | None:
    """The extra to install for a missing ``module`` (``ModuleNotFoundError.name``), or None
    when no extra provides it (then its absence is otel-llm's own fault)."""
    if not module:
        return None
    return _extras_by_module().get(module.partition(".")[0].lower())


def missing_extra_message(extra: str, module: str, needs: str = "this command") -> str:
    """The one line said when ``module`` of ``extra`` is not installed and ``needs`` (a command, an API) needs it."""
    return f"{needs} needs otel-llm's {extra} extra ({module!r} is not installed): pip install 'otel-llm[{extra}]'"
