"""Names from the app (models, agents, projects) print on the terminal as they are, never as Rich markup."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from otel_llm_analysis.terminal import table


@pytest.mark.parametrize("name", ["evil\\[red]x", "a\\\\[bold]b[/bold]", "[/]closed", "ends with \\", "[link=x]y[/link]"])
def test_a_name_with_brackets_and_backslashes_prints_whole(name: str) -> None:
    """A model named ``evil\\[red]x`` printed as ``evil\\x``: the cell escaped "[" but not the backslash before
    it, so Rich read ``\\\\[red]`` as a literal backslash and a style, and ate the tag. Any name prints whole."""
    out = io.StringIO()
    console = Console(file=out, width=120, force_terminal=False, color_system=None)
    table([{"key": name, "llm_calls": 1}, {"key": "plain", "llm_calls": 2}], "cost by model",
          ["key", "llm_calls"]).print(console)
    assert name in out.getvalue(), out.getvalue()
