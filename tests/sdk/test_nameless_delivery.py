"""The delivery path names the app's exporter and exception classes in its loss notices; a class
whose metaclass hides its name (``__name__``/``__qualname__`` raise: proxies, lazy loaders, mocks)
must not make that notice raise -- the loss is still counted and said, nothing reaches the app.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from otel_llm import _notices, _upstream
from otel_llm._guard import swallowing
from otel_llm.exporters._batching import _Batcher
from otel_llm.exporters._jsonl import JsonlWriter

from .test_nameless_exceptions import HidesName, names_hidden


class NamelessError(Exception, metaclass=HidesName):
    pass


class NamelessExporter(metaclass=HidesName):
    """An app's exporter of a nameless class that fails with a nameless exception."""

    def export(self, batch: list[Any]) -> None:
        raise NamelessError("collector gone")

    def shutdown(self) -> None:
        pass


@pytest.fixture(autouse=True)
def fresh_notices() -> Any:
    _notices._reset_for_tests()
    yield
    _notices._reset_for_tests()


def test_a_nameless_exporter_failing_with_a_nameless_exception_is_counted_and_said(capsys: Any) -> None:
    batcher: _Batcher[int] = _Batcher(NamelessExporter(), "traces", max_queue=8, max_batch=8, delay_s=1, local=True)
    with swallowing(), names_hidden():
        batcher._export([1, 2, 3])  # must not raise
    assert _notices.totals()[("traces", "send_failed")] == 3
    line = capsys.readouterr().err
    assert "3 spans lost" in line and "HidesName" not in line
    assert "NamelessExporter" in line and "NamelessError: collector gone" in line


def test_a_jsonl_write_failing_with_a_nameless_exception_is_counted_and_said(tmp_path: Path, capsys: Any) -> None:
    writer = JsonlWriter(tmp_path / "logs.jsonl", lambda batch: {"n": batch}, signal="logs", count=len)
    with names_hidden():
        assert writer._failed("writing", NamelessError("disk gone"), batch=[1, 2]) is False
    assert _notices.totals()[("logs", "write_failed")] == 2
    assert "NamelessError: disk gone" in capsys.readouterr().err


def test_a_nameless_exception_in_the_upstream_check_is_a_problem_not_a_raise() -> None:
    def fails() -> bool:
        raise NamelessError("gone")

    problems: list[str] = []
    with names_hidden():
        _upstream._expect(problems, "the SDK layout", fails)
    assert problems == ["the SDK layout: NamelessError: gone"]
