"""The Quickstart's tables on the terminals users have: a dumb one (``TERM=dumb``: Emacs shells, CI
logs, some IDE consoles) lays a table out as an 80-column colour terminal does.

Rich gives a dumb terminal 80 columns. The table's layout is measured on a console of its own;
measured there at 80 columns as well, a table wider than the terminal never hid a column: every
cell folded onto two lines (``$0.0002`` over ``75``), which no reader or ``grep`` takes as one figure.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import termios
from pathlib import Path

import pytest

from tests.readme.test_examples import _env
from tests.readme.test_first_hour import _readme_line
from tests.readme.test_user_mistakes import quickstart  # noqa: F401 - the fixture

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _on_a_terminal(command: str, cwd: Path, term: str) -> str:
    """What ``command`` prints on an 80x25 pseudo-terminal whose ``TERM`` is ``term``, without escape codes."""
    primary, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 25, 80, 0, 0))
    env = {k: v for k, v in _env(cwd).items() if k not in ("COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR")}
    env["TERM"] = term
    proc = subprocess.Popen(["bash", "-c", command], cwd=cwd, env=env, stdin=secondary, stdout=secondary,
                            stderr=secondary, close_fds=True)
    os.close(secondary)
    chunks = []
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # EIO: the command ended and closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(primary)
    assert proc.wait(timeout=120) == 0, b"".join(chunks).decode(errors="replace")
    return _ANSI.sub("", b"".join(chunks).decode()).replace("\r\n", "\n")


@pytest.mark.parametrize("containing", ["otel-llm summary --by model", "otel-llm budget --monthly 50"])
def test_a_dumb_terminal_shows_the_table_a_colour_terminal_shows(
        quickstart: Path, containing: str) -> None:  # noqa: F811 - the fixture imported above
    command = _readme_line(containing)
    colour = _on_a_terminal(command, quickstart, "xterm-256color")
    dumb = _on_a_terminal(command, quickstart, "dumb")
    assert dumb == colour, f"TERM=dumb:\n{dumb}\nTERM=xterm-256color:\n{colour}"
