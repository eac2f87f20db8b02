"""Timeouts with no end: ``OTEL_LLM_SHUTDOWN_TIMEOUT_S=inf``, ``flush(timeout_s=math.inf)``.

An infinite shutdown budget was taken as it was and ``shutdown()`` (the app's
exit) raised ``OverflowError`` into the app; ``flush(timeout_s=inf)`` flushed
nothing and answered ``False`` after an internal error. The variable is
malformed (a budget must end: the exit waits for it), so it warns and falls
back like any other; as an argument it is a clear error; a flush asked to wait
without end waits as long as it needs (within a bound the providers accept).
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import otel_llm
from otel_llm._settings import Settings

APP = textwrap.dedent("""
    import sys
    import otel_llm
    otel_llm.configure(output_dir=sys.argv[1], service_name="endless")

    @otel_llm.tool
    def lookup():
        return 1

    lookup()
    otel_llm.shutdown()
    print("shut down")
""")


def test_an_endless_shutdown_budget_in_the_environment_warns_and_the_exit_still_works(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "OTEL_LLM_RAISE_INTERNAL_ERRORS"}
    env["OTEL_LLM_SHUTDOWN_TIMEOUT_S"] = "inf"
    done = subprocess.run([sys.executable, "-c", APP, str(tmp_path / "out")], capture_output=True, text=True,
                          timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    assert "shut down" in done.stdout
    assert "malformed OTEL_LLM_SHUTDOWN_TIMEOUT_S='inf'" in done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert (tmp_path / "out" / "traces.jsonl").stat().st_size > 0


@pytest.mark.parametrize("raw", ["inf", "Infinity", "1e400"])
def test_an_endless_shutdown_budget_is_malformed(raw: str) -> None:
    with pytest.warns(RuntimeWarning, match="OTEL_LLM_SHUTDOWN_TIMEOUT_S"):
        assert Settings.resolve(env={"OTEL_LLM_SHUTDOWN_TIMEOUT_S": raw}).shutdown_timeout_s == 5.0


@pytest.mark.parametrize("value", [math.inf, math.nan, -1.0])
def test_an_endless_shutdown_budget_argument_is_a_clear_error(value: float) -> None:
    with pytest.raises(ValueError, match="shutdown_timeout_s"):
        Settings.resolve(env={}, shutdown_timeout_s=value)


def test_a_flush_without_end_flushes(cap) -> None:
    @otel_llm.tool
    def lookup() -> int:
        return 1

    lookup()
    assert otel_llm.flush(timeout_s=math.inf) is True
