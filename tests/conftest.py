"""Folder picks the marker: tests/collector and tests/web are e2e (real processes), the rest unit.

Our own suite runs with otel-llm's internal errors raised (``_guard``), in this
process and in the apps the tests start, so a bug of ours fails a test instead
of being logged and swallowed as it is in production.

``dataset``, the generated telemetry files the analysis and web tests read, is
made once per session here: they are read-only inputs (a test that edits files
copies them first).

A test that has something to tell whoever reads the run (not a failure) records it with
``record_property(SAID_AT_THE_END, text)``; the run's summary prints it. Properties travel with
the test's report, so this holds when the suite runs on several pytest-xdist workers, whose own
output is not shown.

A report's text (captured output and logs, a failure's description) reaches the xdist controller as UTF-8:
text the tests give the app on purpose (lone surrogates, ``\udc80``) is written there with backslash
escapes, as a terminal would show it, instead of stopping the worker and the whole run.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.synthetic import SyntheticData, generate

os.environ["OTEL_LLM_RAISE_INTERNAL_ERRORS"] = "1"

#: the ``record_property`` name of a line the run's summary prints
SAID_AT_THE_END = "said_at_the_end"
_said: list[str] = []


@pytest.fixture(scope="session")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> SyntheticData:
    """~150 chat turns (~750 spans) over 60 days (to 2026-11-20) in 3 projects and 7 models, with traces,
    metrics and logs; seed 7."""
    return generate(tmp_path_factory.mktemp("dataset"), seed=7, traces=150, spans_per_line=32)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        parts = Path(str(item.fspath)).parts
        item.add_marker(pytest.mark.e2e if {"collector", "web"} & set(parts) else pytest.mark.unit)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call":
        _said.extend(str(value) for name, value in report.user_properties if name == SAID_AT_THE_END)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for line in _said:
        terminalreporter.write_line(line)


def _utf8(text: str) -> str:
    """``text``, with what UTF-8 cannot encode (lone surrogates) as backslash escapes."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> object:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    report.sections = [(title, _utf8(text)) for title, text in report.sections]
    if report.longrepr is not None:
        described = str(report.longrepr)
        escaped = _utf8(described)
        if escaped != described:
            report.longrepr = escaped
    return None
