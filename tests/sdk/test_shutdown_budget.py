"""``shutdown()`` against an endpoint that accepts connections and never answers ends within its budget.

A hung collector (or a firewall dropping packets) holds an export in a socket
read up to the exporter's timeout. The shutdown must still return within
``shutdown_timeout_s`` (plus a little slack for the last file writes), and say
what it did not deliver and where it is: the spans and metric points spooled,
with the spool's path.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ._http_answers import Answering, serving

APP = textwrap.dedent("""
    import logging, sys, time
    import otel_llm
    from opentelemetry import trace
    endpoint, spool, budget, spool_bytes, interval_ms = sys.argv[1:6]
    otel_llm.configure(exporter="otlp", endpoint=endpoint, spool_dir=spool, service_name="hung",
                       shutdown_timeout_s=float(budget), logs=True, spool_max_bytes=int(spool_bytes),
                       metric_export_interval_ms=int(interval_ms))
    tracer = trace.get_tracer("app")

    @otel_llm.llm_call
    def call():
        return {"model": "m", "usage": {"prompt_tokens": 1, "completion_tokens": 1}}

    call()
    for i in range(20):
        with tracer.start_as_current_span(f"span {i}"):
            logging.getLogger("app").warning("record %d", i)
    time.sleep(1.0)  # the first batch (and, every 300 ms, the metric points) is now being sent, and hangs
    started = time.monotonic()
    otel_llm.shutdown()
    print(f"shutdown took {time.monotonic() - started:.3f}", flush=True)
""")

SLACK_S = 0.25  # sealing the spool files and writing the notices


def _run(tmp_path: Path, budget_s: float, spool_bytes: int = 2**20,
         interval_ms: int = 60_000) -> subprocess.CompletedProcess[str]:
    with socket.socket() as hung:  # listens, never accepts: connections complete, requests are never answered
        hung.bind(("127.0.0.1", 0))
        hung.listen(64)
        url = f"http://127.0.0.1:{hung.getsockname()[1]}"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "PYTEST_"))}
        env.update(OTEL_EXPORTER_OTLP_TIMEOUT="30", OTEL_BSP_SCHEDULE_DELAY="100", OTEL_BLRP_SCHEDULE_DELAY="100")
        return subprocess.run([sys.executable, "-c", APP, url, str(tmp_path / "spool"), str(budget_s),
                               str(spool_bytes), str(interval_ms)], env=env,
                              cwd=tmp_path, capture_output=True, text=True, timeout=90)


@pytest.mark.parametrize("interval_ms", [60_000, 300], ids=["metrics-idle", "metric-export-hanging"])
def test_shutdown_against_a_hung_collector_returns_within_its_budget(tmp_path: Path, interval_ms: int) -> None:
    """``metric-export-hanging``: the metric reader's periodic export hangs too, holding its export lock,
    which the shutdown's flush waited for until the exporter's timeout."""
    done = _run(tmp_path, 3.0, interval_ms=interval_ms)
    assert done.returncode == 0, done.stderr
    took = float(re.search(r"shutdown took ([\d.]+)", done.stdout).group(1))  # type: ignore[union-attr]
    assert took <= 3.0 + SLACK_S, (took, done.stderr)
    # What was not delivered is named, with the place it waits in.
    spool = tmp_path / "spool"
    assert f"21 spans spooled to {spool / 'traces'}" in done.stderr, done.stderr
    assert f"20 log records spooled to {spool / 'logs'}" in done.stderr, done.stderr
    assert re.search(rf"\d+ metric points spooled to {re.escape(str(spool / 'metrics'))}", done.stderr), done.stderr
    assert " lost" not in done.stderr, done.stderr


def test_without_a_spool_shutdown_still_ends_within_its_budget_counting_each_loss_once(tmp_path: Path) -> None:
    """``spool_max_bytes=0``: nothing can keep what the hung collector holds, so it is lost -- counted once,
    with the endpoint -- and the metric reader's last export must not wait out the exporter's timeout."""
    done = _run(tmp_path, 3.0, spool_bytes=0)
    assert done.returncode == 0, done.stderr
    took = float(re.search(r"shutdown took ([\d.]+)", done.stdout).group(1))  # type: ignore[union-attr]
    assert took <= 3.0 + SLACK_S, (took, done.stderr)
    totals = {what: sum(int(n.replace(",", "")) for n in re.findall(rf"in total ([\d,]+) {what} lost", done.stderr))
              for what in ("spans", "log records", "metric points")}
    assert totals["spans"] == 21 and totals["log records"] == 20 and totals["metric points"] > 0, done.stderr
    assert re.search(r"in total 21 spans lost at http://127\.0\.0\.1:\d+/v1/traces", done.stderr), done.stderr


class _Answers500(Answering):
    def answer(self) -> tuple[int, dict[str, str], bytes]:
        return 500, {}, b""


def test_what_waits_at_exit_is_said_with_the_endpoints_answer_not_the_budget(tmp_path: Path) -> None:
    """An endpoint that answers 500 at once: the shutdown took milliseconds, so "did not take everything
    within the shutdown budget" sent the operator after the wrong cause."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "PYTEST_"))}
    env.update(OTEL_BSP_SCHEDULE_DELAY="100", OTEL_BLRP_SCHEDULE_DELAY="100")
    with serving(_Answers500) as url:
        done = subprocess.run([sys.executable, "-c", APP, url, str(tmp_path / "spool"), "3", str(2**20), "60000"],
                              env=env, cwd=tmp_path, capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stderr
    said = [line for line in done.stderr.splitlines() if "21 spans spooled to" in line]
    assert said and "(HTTP 500 Internal Server Error)" in said[0], done.stderr
    assert "within the shutdown budget" not in done.stderr, done.stderr
