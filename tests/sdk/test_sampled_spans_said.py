"""A trace sampler that keeps only part of the calls' spans is said once when otel-llm attaches to it.

otel-llm's metric points count every call whatever the sampler
(``test_metric_handoff.test_partly_sampled_calls_keep_every_metric_point``), but
calls, tokens and cost read from spans (the analysis) then cover the sampled
calls alone. The sampler may be the app's (its TracerProvider passed to
``configure()``, or the global one decorators use before ``configure()``) or
``OTEL_TRACES_SAMPLER`` read by the provider otel-llm creates. A sampler that
keeps every root span (the SDK's default ``parentbased_always_on``) is not said:
what it drops under an unsampled parent is the app's own tracing decision.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON, ParentBased, TraceIdRatioBased

import otel_llm
from otel_llm import _runtime, _sampling


@pytest.fixture(autouse=True)
def _fresh(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(_sampling, "_said", set())
    saved = _runtime._swap(None, None)
    try:
        yield
    finally:
        _, ours = _runtime._swap(*saved)
        if ours is not None:
            ours.shutdown()


def _configure(sampler: Any) -> None:
    otel_llm.configure(exporter="none", tracer_provider=TracerProvider(sampler=sampler, shutdown_on_exit=False),
                       meter_provider=MeterProvider(metric_readers=[InMemoryMetricReader()], shutdown_on_exit=False))


def _said(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if "sampler" in line]


@pytest.mark.parametrize("sampler, named", [
    (TraceIdRatioBased(0.5), "TraceIdRatioBased{0.5}"),
    (ParentBased(TraceIdRatioBased(0.1)), "ParentBased{root:TraceIdRatioBased{0.1}"),
    (ALWAYS_OFF, "AlwaysOffSampler"),
], ids=["ratio", "parentbased-ratio", "always-off"])
def test_a_sampler_dropping_calls_is_named_once_with_what_it_means(
        sampler: Any, named: str, capsys: pytest.CaptureFixture[str]) -> None:
    _configure(sampler)
    _configure(sampler)  # configured again with it: not said again
    (said,) = _said(capsys)
    assert named in said
    assert "metrics" in said and "every call" in said and "spans" in said


@pytest.mark.parametrize("sampler", [None, ALWAYS_ON, ParentBased(ALWAYS_ON), TraceIdRatioBased(1.0)],
                         ids=["default", "always-on", "parentbased-always-on", "ratio-1"])
def test_a_sampler_keeping_every_call_is_not_said(sampler: Any, capsys: pytest.CaptureFixture[str]) -> None:
    _configure(sampler)
    assert _said(capsys) == []


def test_the_apps_global_provider_used_before_configure_is_said_at_the_first_call(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    provider = TracerProvider(sampler=TraceIdRatioBased(0.25), shutdown_on_exit=False)
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: provider)

    @otel_llm.llm_call(model="m")
    def ask() -> str:
        return "x"

    assert ask() == "x" and ask() == "x"
    (said,) = _said(capsys)
    assert "TraceIdRatioBased{0.25}" in said


APP = textwrap.dedent("""
    import sys
    import otel_llm
    otel_llm.configure(exporter="file", output_dir=sys.argv[1], logs=False)
    otel_llm.shutdown()
""")


def test_the_environments_sampler_on_otel_llms_own_provider_is_said(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "PYTEST_"))}
    env.update(OTEL_TRACES_SAMPLER="traceidratio", OTEL_TRACES_SAMPLER_ARG="0.2")
    done = subprocess.run([sys.executable, "-c", APP, str(tmp_path / "out")], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    said = [line for line in done.stderr.splitlines() if "sampler" in line]
    assert len(said) == 1 and "TraceIdRatioBased{0.2}" in said[0], done.stderr


def test_the_apps_global_provider_set_after_the_first_call_is_said_and_gets_the_spans(
        capsys: pytest.CaptureFixture[str]) -> None:
    """The app sets its global TracerProvider only after a decorated function ran once (on the API's proxy):
    its sampler is said all the same, at the first call that reaches it, and its spans go to it."""
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from otel_llm._upstream import reset_global_providers, restore_global_providers

    saved = reset_global_providers()
    try:
        @otel_llm.llm_call(model="m")
        def ask() -> str:
            return "x"

        assert ask() == "x"  # on the proxy: nothing to say yet
        assert _said(capsys) == []
        provider = TracerProvider(sampler=TraceIdRatioBased(0.25), shutdown_on_exit=False)
        exported = InMemorySpanExporter()
        provider.add_span_processor(SimpleSpanProcessor(exported))
        trace.set_tracer_provider(provider)
        for _ in range(40):
            assert ask() == "x"
        (said,) = _said(capsys)
        assert "TraceIdRatioBased{0.25}" in said
        assert 0 < len(exported.get_finished_spans()) < 40  # the app's provider, sampling
    finally:
        restore_global_providers(saved)
