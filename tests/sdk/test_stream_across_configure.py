"""A stream read across a second ``configure()`` keeps its span, and its call's metric points.

``configure()`` again replaces the providers and shuts the previous ones down.
A stream (a generator function's generator, a returned generator or provider
stream) started before and read to its end after ended its span on the previous
provider, whose pipeline was shut: the span was lost, and the notice said it
"ended after otel_llm.shutdown()", which the app never called; the call's metric
points went to the previous meter provider, never collected again, without a
word. Now the previous pipeline hands what ends after it was replaced to the new
one (the span keeps the resource it started under), and the points are recorded
by the configuration in force when the call ends. When the new configuration has
no pipeline of otel-llm's to take it (``exporter="none"``), the span is counted
as lost for that reason.

Run in a subprocess: ``configure()`` sets the process's global providers.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.sdk.test_losses import metric_points

APP = textwrap.dedent("""
    import os, sys
    import otel_llm
    out, second = sys.argv[1], sys.argv[2]
    otel_llm.configure(output_dir=os.path.join(out, "a"), service_name="first")

    @otel_llm.tool("pages")
    def pages():
        yield 1
        yield 2

    @otel_llm.llm_call(model="gpt-4o", provider="openai")
    def ask():
        def chunks():
            yield "a"
            yield "b"
        return chunks()

    read, answer = pages(), ask()
    next(read), next(answer)
    if second == "none":
        otel_llm.configure(exporter="none")
    elif second.startswith("app"):  # the app's own tracer provider (otel_llm.testing's way with "app-none")
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
        mine = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(mine))
        if second == "app":
            otel_llm.configure(output_dir=os.path.join(out, "b"), service_name="second", tracer_provider=provider)
        elif second == "app-none":
            otel_llm.configure(exporter="none", tracer_provider=provider)
        elif second == "app-ours":  # the provider the first configure() made, passed back as the app's
            from opentelemetry import trace

            otel_llm.configure(exporter="none", tracer_provider=trace.get_tracer_provider())
        else:  # a provider of the app's that is not the SDK's: its processors are not to be reached
            from opentelemetry import trace

            class Wrapping(trace.TracerProvider):
                def get_tracer(self, *args, **kwargs):
                    return provider.get_tracer(*args, **kwargs)

            otel_llm.configure(exporter="none", tracer_provider=Wrapping())
    else:
        otel_llm.configure(output_dir=os.path.join(out, "b"), service_name="second")
    print(list(read), list(answer))
    from otel_llm import _notices
    print("lost", sorted(_notices.totals().items()))
    if second.startswith("app"):
        print("app's", sorted((s.resource.attributes["service.name"], s.name) for s in mine.get_finished_spans()))
    otel_llm.shutdown()
""")


def _run(tmp_path: Path, second: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-c", APP, str(tmp_path), second], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return done


def _spans(path: Path) -> list[tuple[str, str]]:
    """(service.name, span name) of every span in a traces.jsonl."""
    if not path.exists():
        return []
    found = []
    for line in path.read_text().splitlines():
        for rs in json.loads(line)["resourceSpans"]:
            service = {a["key"]: a["value"]["stringValue"] for a in rs["resource"]["attributes"]}["service.name"]
            found += [(service, s["name"]) for ss in rs["scopeSpans"] for s in ss["spans"]]
    return found


def test_a_stream_read_across_a_second_configure_keeps_its_span_andmetric_points(tmp_path: Path) -> None:
    done = _run(tmp_path, "b")
    assert "[2] ['b']" in done.stdout  # the rest of each, read after
    assert "lost []" in done.stdout, done.stdout  # nothing counted lost
    assert "otel-llm:" not in done.stderr, done.stderr  # no notice of a loss
    spans = _spans(tmp_path / "a" / "traces.jsonl") + _spans(tmp_path / "b" / "traces.jsonl")
    # exported once each, with the resource they started under
    assert sorted(spans) == [("first", "chat gpt-4o"), ("first", "execute_tool pages")], spans
    tool_calls = metric_points(tmp_path / "b" / "metrics.jsonl", "otel_llm.tool.calls")
    assert sum(int(p["asInt"]) for p in tool_calls) == 1, tool_calls  # the call's point, counted once
    durations = metric_points(tmp_path / "b" / "metrics.jsonl", "gen_ai.client.operation.duration")
    assert sum(int(p["count"]) for p in durations) == 1, durations


def test_a_stream_whose_second_configure_exports_nothing_is_said_lost_for_that_reason(tmp_path: Path) -> None:
    """The notice said "ended after otel_llm.shutdown()": the app called configure(), not shutdown()."""
    done = _run(tmp_path, "none")
    said = [line for line in done.stderr.splitlines() if line.startswith("otel-llm:") and " lost" in line]
    assert said, done.stderr
    assert "shutdown()" not in said[0] and "configure()" in said[0], said[0]
    assert "('traces', 'replaced')" in done.stdout, done.stdout  # counted under its own reason
    assert _spans(tmp_path / "a" / "traces.jsonl") == []


@pytest.mark.parametrize("second", ["app", "app-none"])
def test_a_stream_read_after_a_configure_on_the_apps_tracer_provider_ends_there(tmp_path: Path, second: str) -> None:
    """The new configuration records on the app's tracer provider, alive: the call still running is recorded
    there when it ends (with the resource it started under), not counted lost as if nothing took it.

    Before, the notice said it was lost to a configuration "exporting none", and the app's exporter never saw it.
    """
    done = _run(tmp_path, second)
    assert "[2] ['b']" in done.stdout
    assert "lost []" in done.stdout, done.stdout
    assert "otel-llm:" not in done.stderr, done.stderr
    assert "app's [('first', 'chat gpt-4o'), ('first', 'execute_tool pages')]" in done.stdout, done.stdout
    assert _spans(tmp_path / "a" / "traces.jsonl") == []  # exported once, by the app's provider


def test_a_stream_read_after_a_configure_on_a_provider_it_cannot_reach_is_said_lost_for_that_reason(
        tmp_path: Path) -> None:
    """The app's provider is not the SDK's (a vendor's wrapper): no processor of it can be handed the span."""
    done = _run(tmp_path, "app-other")
    assert "lost [(('traces', 'replaced'), 2)]" in done.stdout, done.stdout
    said = [line for line in done.stderr.splitlines() if line.startswith("otel-llm:") and " lost" in line]
    assert "the app's Wrapping, which takes no span started on another" in said[0], said


def test_a_stream_ending_on_the_provider_passed_back_to_configure_is_said_lost_not_looped(tmp_path: Path) -> None:
    """``configure(tracer_provider=trace.get_tracer_provider())``: the app passes back the provider the first
    configure() made, which the second shuts down (a known loss: every span ending on it is counted). Its
    processors are not a pipeline to hand the span to: that would hand it back to itself, without end."""
    done = _run(tmp_path, "app-ours")
    assert "lost [(('traces', 'replaced'), 2)]" in done.stdout, done.stdout
    assert "internal error" not in done.stderr, done.stderr
    said = [line for line in done.stderr.splitlines() if line.startswith("otel-llm:") and " lost" in line]
    assert "passed to configure() again and shut down by it" in said[0], said
