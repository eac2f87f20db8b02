"""configure(process_metrics=True): process CPU, memory and threads on our meter provider."""

from __future__ import annotations

from otel_llm._process import PROCESS_METRICS
from otel_llm.testing import capture

EXPECTED = {"process.cpu.time", "process.cpu.utilization", "process.memory.usage",
            "process.memory.virtual", "process.thread.count"}


def test_process_metrics_are_reported_when_enabled() -> None:
    with capture(process_metrics=True) as cap:
        points = cap.metrics()
    assert EXPECTED <= set(points)
    assert not {name for name in points if name.startswith(("system.", "process.runtime."))}
    assert points["process.memory.usage"][0].value > 1_000_000  # bytes of a live interpreter
    assert points["process.thread.count"][0].value >= 1
    assert {p.attributes["type"] for p in points["process.cpu.time"]} == {"user", "system"}  # 0.66b1 label


def test_off_by_default() -> None:
    with capture() as cap:
        names = set(cap.metrics())
    assert not names & EXPECTED


def test_reconfigure_moves_process_metrics_to_the_new_provider() -> None:
    with capture(process_metrics=True):
        pass
    with capture(process_metrics=True) as second:
        assert EXPECTED <= set(second.metrics())


def test_config_is_limited_to_the_process() -> None:
    assert set(PROCESS_METRICS) == EXPECTED
