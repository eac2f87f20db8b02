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
    else:
        otel_llm.configure(output_dir=os.path.join(out, "b"), service_name="second")
    print(list(read), list(answer))
    from otel_llm import _notices
    print("lost", sorted(_notices.totals().items()))
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
