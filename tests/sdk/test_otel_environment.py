"""The standard ``OTEL_*`` variables a user sets, honoured as the specification says, in a real process.

Each case runs a small app in a fresh interpreter (the variables are read by
``configure()``) with the file exporter, and reads what reached ``traces.jsonl``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
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
    {"OTEL_BSP_MAX_QUEUE_SIZE": "abc"},
    {"OTEL_BSP_SCHEDULE_DELAY": "0"},
    {"OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "-1"},
    {"OTEL_BLRP_MAX_QUEUE_SIZE": "1.5"},
    {"OTEL_BLRP_SCHEDULE_DELAY": "-5"},
    {"OTEL_BSP_EXPORT_TIMEOUT": "soon"},
    {"OTEL_BLRP_EXPORT_TIMEOUT": "-1"},
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


# The defaults of otel-llm's batching processors: (max queue, max batch, schedule delay, export timeout in ms).
_BATCHING = (32768, 512, 1000, 30000)


@pytest.fixture
def fresh_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each malformed value is warned once per process: a test sees its own warnings."""
    from otel_llm import _settings

    monkeypatch.setattr(_settings, "_warned", set())


@pytest.mark.parametrize(("name", "raw", "field", "default"), [
    ("MAX_QUEUE_SIZE", "abc", "max_queue", 32768),
    ("MAX_QUEUE_SIZE", "0", "max_queue", 32768),
    ("MAX_QUEUE_SIZE", "-10", "max_queue", 32768),
    ("MAX_EXPORT_BATCH_SIZE", "many", "max_batch", 512),
    ("MAX_EXPORT_BATCH_SIZE", "0", "max_batch", 512),
    ("SCHEDULE_DELAY", "1.5", "delay_s", 1.0),
    ("SCHEDULE_DELAY", "0", "delay_s", 1.0),
    ("SCHEDULE_DELAY", "-1", "delay_s", 1.0),
    ("EXPORT_TIMEOUT", "30s", "export_timeout_s", 30.0),
    ("EXPORT_TIMEOUT", "2.5", "export_timeout_s", 30.0),
    ("EXPORT_TIMEOUT", "0", "export_timeout_s", 30.0),
    ("EXPORT_TIMEOUT", "-1000", "export_timeout_s", 30.0),
])
@pytest.mark.parametrize("prefix", ["BSP", "BLRP"])
def test_a_malformed_batching_variable_warns_once_and_keeps_the_default(
    fresh_warnings: None, prefix: str, name: str, raw: str, field: str, default: float
) -> None:
    """otel-llm builds its own batching processors, which took these values as unset without a word
    (upstream's raise ``ValueError`` for 0 and negatives, and log a traceback for text)."""
    from otel_llm.exporters._batching import processors_settings

    variable = f"OTEL_{prefix}_{name}"
    with pytest.warns(RuntimeWarning, match=f"malformed {variable}={raw!r}") as said:
        settings = processors_settings(prefix, _BATCHING, {variable: raw}.get)
    assert settings[field] == default
    assert len(said) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # once: the same value again says nothing
        processors_settings(prefix, _BATCHING, {variable: raw}.get)


def test_well_formed_batching_variables_are_taken_without_a_word(fresh_warnings: None) -> None:
    from otel_llm.exporters._batching import processors_settings

    env = {"OTEL_BSP_MAX_QUEUE_SIZE": " 100 ", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "10",
           "OTEL_BSP_SCHEDULE_DELAY": "250", "OTEL_BSP_EXPORT_TIMEOUT": "1500",
           "OTEL_BLRP_MAX_QUEUE_SIZE": ""}  # empty: unset, as specified
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert processors_settings("BSP", _BATCHING, env.get) == {
            "max_queue": 100, "max_batch": 10, "delay_s": 0.25, "export_timeout_s": 1.5}
        assert processors_settings("BLRP", _BATCHING, env.get) == {
            "max_queue": 32768, "max_batch": 512, "delay_s": 1.0, "export_timeout_s": 30.0}


def test_a_batch_larger_than_the_queue_is_warned_about_and_cut_to_the_queue(fresh_warnings: None) -> None:
    """Upstream raises ``ValueError`` for it; otel-llm's processor cut the batch to the queue without a word."""
    from otel_llm.exporters._batching import processors_settings

    env = {"OTEL_BSP_MAX_QUEUE_SIZE": "100", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "512"}
    with pytest.warns(RuntimeWarning, match="malformed OTEL_BSP_MAX_EXPORT_BATCH_SIZE='512'.*using default 100"):
        settings = processors_settings("BSP", _BATCHING, env.get)
    assert (settings["max_queue"], settings["max_batch"]) == (100, 100)


def test_the_default_batch_over_a_smaller_queue_is_cut_without_a_word(fresh_warnings: None) -> None:
    """Only the queue was set: the batch variable the warning would name was not."""
    from otel_llm.exporters._batching import processors_settings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        settings = processors_settings("BLRP", _BATCHING, {"OTEL_BLRP_MAX_QUEUE_SIZE": "100"}.get)
    assert (settings["max_queue"], settings["max_batch"]) == (100, 100)
