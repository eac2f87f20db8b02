"""The page's own files (HTML shell, stylesheet, script), shipped in the package and inlined into every page.

Hand-written SVG charts rather than a charting library: the report must open
from disk with nothing fetched and stay small enough to mail, and the six
charts it draws (bars, stacked bars, lines, markers) are a few hundred lines.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from typing import Mapping

_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")


@lru_cache(maxsize=None)
def text(name: str) -> str:
    """One asset's text."""
    return resources.files(__name__).joinpath(name).read_text("utf-8")


def fill(template: str, parts: Mapping[str, str]) -> str:
    """Replace each ``{{name}}`` of ``template`` in one pass (inserted text is never rescanned)."""
    return _PLACEHOLDER.sub(lambda m: parts[m.group(1)], template)
