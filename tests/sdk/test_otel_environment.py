"""The standard ``OTEL_*`` variables a user sets, honoured as the specification says, in a real process.

Each case runs a small app in a fresh interpreter (the variables are read by
``configure()``) with the file exporter, and reads what reached ``traces.jsonl``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

APP = """
import sys, otel_llm
service = sys.argv[2] or None
otel_llm.configure(exporter="file", output_dir=sys.argv[1], service_name=service)

@otel_llm.tool("lookup")
def lookup(q):
    return q

lookup("x")
otel_llm.shutdown()
"""


def run_app(out: Path, env: dict[str, str], service_name: str = "") -> dict[str, Any]:
    """Run the app; the resource attributes of the span it wrote."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_") or k == "OTEL_LLM_RAISE_INTERNAL_ERRORS"}
    proc = subprocess.run([sys.executable, "-c", APP, str(out), service_name], env={**clean, **env},
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    (line,) = (out / "traces.jsonl").read_text().splitlines()
    (resource_spans,) = json.loads(line)["resourceSpans"]
    return {kv["key"]: kv["value"].get("stringValue") for kv in resource_spans["resource"]["attributes"]}


@pytest.mark.parametrize(
    ("env", "argument", "expected"),
    [
        ({}, "", "otel-llm-app"),
        ({"OTEL_RESOURCE_ATTRIBUTES": "service.name=checkout,deployment.environment=prod"}, "", "checkout"),
        ({"OTEL_RESOURCE_ATTRIBUTES": "service.name=checkout", "OTEL_SERVICE_NAME": "svc"}, "", "svc"),
        ({"OTEL_RESOURCE_ATTRIBUTES": "service.name=checkout", "OTEL_SERVICE_NAME": "svc"}, "arg", "arg"),
    ],
    ids=["default", "resource-attributes", "service-name-env-wins", "argument-wins"],
)
def test_service_name_precedence(tmp_path: Path, env: dict[str, str], argument: str, expected: str) -> None:
    """configure(service_name=) > OTEL_SERVICE_NAME > service.name in OTEL_RESOURCE_ATTRIBUTES > our default."""
    resource = run_app(tmp_path, env, argument)
    assert resource["service.name"] == expected
    if "deployment.environment" in env.get("OTEL_RESOURCE_ATTRIBUTES", ""):
        assert resource["deployment.environment"] == "prod"


def _run(out: Path, env: dict[str, str]) -> tuple[dict[str, Any], str]:
    """Run the app with ``env``: the attributes of the span it wrote, and what it said on stderr."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_") or k == "OTEL_LLM_RAISE_INTERNAL_ERRORS"}
    proc = subprocess.run([sys.executable, "-c", APP, str(out), ""], env={**clean, **env},
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    (line,) = (out / "traces.jsonl").read_text().splitlines()
    (span,) = json.loads(line)["resourceSpans"][0]["scopeSpans"][0]["spans"]
    return {kv["key"]: kv["value"].get("stringValue") for kv in span["attributes"]}, proc.stderr


@pytest.mark.parametrize("env", [
    {"OTEL_ATTRIBUTE_COUNT_LIMIT": "abc"},
    {"OTEL_SPAN_EVENT_COUNT_LIMIT": "-1"},
    {"OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT": "many"},
    {"OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT": "x"},
    {"OTEL_METRICS_EXEMPLAR_FILTER": "sometimes"},
], ids=lambda env: next(iter(env)))
def test_a_malformed_upstream_variable_warns_and_falls_back(tmp_path: Path, env: dict[str, str]) -> None:
    """The SDK's providers raised ``ValueError`` on these: ``configure()`` raised into the app at startup.

    (Not ``OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT``: a malformed one makes importing ``opentelemetry.sdk.trace``
    itself raise, before otel-llm can read it.)"""
    attributes, said = _run(tmp_path, env)
    assert attributes["gen_ai.tool.name"] == "lookup"
    ((name, raw),) = env.items()
    assert f"malformed {name}={raw!r}" in said


def test_a_malformed_limit_falls_back_to_what_it_defaults_to(tmp_path: Path) -> None:
    """A span attribute length limit that is malformed is the global one, as if it were not set."""
    attributes, said = _run(tmp_path, {"OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT": "3",
                                       "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT": "three"})
    assert attributes["gen_ai.tool.name"] == "loo"
    assert "malformed OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT='three'" in said
