"""The README's "Agents and tools" example runs as written and records the trace its table shows.

The block is taken from README.md itself and run in a fresh directory in its own
process with the default file exporter; the spans are read back from
``otel-data/traces.jsonl``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from otel_llm import semconv as sc

README = Path(__file__).resolve().parents[2] / "README.md"


def _example() -> str:
    section = README.read_text(encoding="utf-8").split("### Agents and tools", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "no python block in the Agents and tools section"
    return match.group(1)


def _value(v: dict[str, Any]) -> Any:
    if "arrayValue" in v:
        return [_value(x) for x in v["arrayValue"].get("values", [])]
    (kind, raw), = v.items()
    return int(raw) if kind == "intValue" else raw


def _spans(path: Path) -> list[dict[str, Any]]:
    spans = []
    for line in path.read_text().splitlines():
        for rs in json.loads(line)["resourceSpans"]:
            for ss in rs["scopeSpans"]:
                for span in ss["spans"]:
                    span["attrs"] = {a["key"]: _value(a["value"]) for a in span.get("attributes", [])}
                    spans.append(span)
    return sorted(spans, key=lambda s: int(s["startTimeUnixNano"]))


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, list[dict[str, Any]]]:
    workdir = tmp_path_factory.mktemp("readme-agents")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_") or k == "OTEL_LLM_RAISE_INTERNAL_ERRORS"}
    done = subprocess.run(
        [sys.executable, "-c", _example()], cwd=workdir, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout, _spans(workdir / "otel-data" / "traces.jsonl")


def test_it_prints_the_answer(run):
    stdout, _ = run
    assert stdout.strip() == "Pack sunglasses."


def test_the_trace_is_the_one_the_table_shows(run):
    _, spans = run
    assert [s["name"] for s in spans] == [
        "invoke_agent planner", "chat small-model", "execute_tool get_weather", "execute_tool get_weather",
        "chat small-model",
    ]
    agent, first_model, failed, retried, last_model = spans
    assert {k: agent["attrs"][k] for k in (
        sc.OTEL_LLM_AGENT_LLM_CALLS, sc.OTEL_LLM_AGENT_TOOL_CALLS, sc.OTEL_LLM_AGENT_INPUT_TOKENS,
        sc.OTEL_LLM_AGENT_OUTPUT_TOKENS, sc.OTEL_LLM_RETRY_ATTEMPTS, sc.OTEL_LLM_RETRY_OUTCOME)} == {
        sc.OTEL_LLM_AGENT_LLM_CALLS: 2, sc.OTEL_LLM_AGENT_TOOL_CALLS: 2, sc.OTEL_LLM_AGENT_INPUT_TOKENS: 80,
        sc.OTEL_LLM_AGENT_OUTPUT_TOKENS: 16, sc.OTEL_LLM_RETRY_ATTEMPTS: 2, sc.OTEL_LLM_RETRY_OUTCOME: "succeeded",
    }
    assert agent["attrs"][sc.OTEL_LLM_AGENT_COST] == pytest.approx((80 * 0.15 + 16 * 0.6) / 1e6)
    assert first_model["attrs"][sc.OTEL_LLM_RESPONSE_TOOL_CALL_IDS] == ["call_1"]
    assert sc.OTEL_LLM_RESPONSE_TOOL_CALL_IDS not in last_model["attrs"]

    for span, attempt in ((failed, 1), (retried, 2)):
        assert span["attrs"][sc.GEN_AI_TOOL_CALL_ID] == "call_1"
        assert span["attrs"][sc.OTEL_LLM_ATTEMPT] == attempt
        (link,) = span["links"]
        assert link["spanId"] == first_model["spanId"]
    assert failed["status"]["code"] == 2 and failed["attrs"][sc.ERROR_TYPE] == "TimeoutError"
    assert retried["status"].get("code", 0) == 0
    for span in spans[1:]:
        assert span["attrs"][sc.GEN_AI_AGENT_NAME] == "planner"
        assert span["parentSpanId"] == agent["spanId"]
