"""``otel-llm report --out`` that cannot be written is refused before the report is computed.

Computing the report takes minutes on a big store (every filter combination's
views); a directory that cannot take the file said so only after all of that.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from otel_llm_analysis import TraceStore
from otel_llm_analysis.web import static


@pytest.mark.parametrize("where", ["/proc/x.html", "read-only"])
def test_an_out_that_cannot_be_written_is_refused_before_the_report_is_built(tmp_path, monkeypatch, where):
    from otel_llm.cli import app

    db = str(tmp_path / "s.duckdb")
    TraceStore(db).close()
    if where == "read-only":
        if os.geteuid() == 0:  # root writes anywhere: a directory on a read-only file system stands in
            where = "/proc/sys/x.html"
        else:
            locked = tmp_path / "locked"
            locked.mkdir(mode=0o500)
            where = str(locked / "x.html")
    built: list[object] = []
    monkeypatch.setattr(static, "build_report", lambda *a, **k: built.append(a) or "<html></html>")
    result = CliRunner().invoke(app, ["report", "--db", db, "--out", where])
    assert result.exit_code == 1, result.output
    assert f"cannot write {where}" in result.output
    assert built == []  # refused before any view was computed
    assert not Path(where).exists()
