"""Settings: argument > environment > default; malformed env warns once and falls back."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from otel_llm._settings import MIB, Settings


def test_defaults_without_env() -> None:
    s = Settings.resolve(env={})
    assert s.service_name == "otel-llm-app"
    assert s.exporter == "file"
    assert s.output_dir == Path("./otel-data")
    assert s.protocol == "http/protobuf"
    assert s.capture_content is False
    assert s.process_metrics is False
    assert s.rotate_max_bytes == 100 * MIB
    assert s.spool_max_bytes == 256 * MIB
    assert s.resolved_spool_dir == Path("./otel-data/spool")
    assert s.logs_enabled is True  # on with the file exporter


@pytest.mark.parametrize(
    ("field", "env_name", "raw", "expected"),
    [
        ("service_name", "OTEL_SERVICE_NAME", "rag-api", "rag-api"),
        ("project", "OTEL_LLM_PROJECT", "alpha", "alpha"),
        ("exporter", "OTEL_LLM_EXPORTER", "OTLP", "otlp"),
        ("output_dir", "OTEL_LLM_OUTPUT_DIR", "/tmp/x", Path("/tmp/x")),
        ("endpoint", "OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318", "http://c:4318"),
        ("protocol", "OTEL_EXPORTER_OTLP_PROTOCOL", "grpc", "grpc"),
        ("capture_content", "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true", True),
        ("rotate_max_bytes", "OTEL_LLM_ROTATE_MAX_MB", "1.5", int(1.5 * MIB)),
        ("metric_export_interval_ms", "OTEL_METRIC_EXPORT_INTERVAL", "500", 500),
        ("process_metrics", "OTEL_LLM_PROCESS_METRICS", "1", True),
    ],
)
def test_env_beats_default(field: str, env_name: str, raw: str, expected: object) -> None:
    assert getattr(Settings.resolve(env={env_name: raw}), field) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    ("SPAN_AND_EVENT", True), ("span_only", True), ("EVENT_ONLY", True), ("NO_CONTENT", False)])
def test_capture_content_accepts_upstream_genai_modes(raw: str, expected: bool) -> None:
    """opentelemetry-util-genai's values of the same variable (its ContentCapturingMode) mean what they say there."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # not a malformed value
        s = Settings.resolve(env={"OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": raw})
    assert s.capture_content is expected


def test_argument_beats_env() -> None:
    env = {"OTEL_SERVICE_NAME": "from-env", "OTEL_LLM_EXPORTER": "console", "OTEL_LLM_PROJECT": "env-p",
           "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "true"}
    s = Settings.resolve(env=env, service_name="from-arg", exporter="none", capture_content=False)
    assert (s.service_name, s.exporter, s.capture_content) == ("from-arg", "none", False)
    assert s.project == "env-p"  # not given as argument: env still applies


def test_real_environment_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_LLM_PROJECT", "from-os-env")
    assert Settings.resolve().project == "from-os-env"


def test_malformed_env_warns_once_and_falls_back() -> None:
    env = {"OTEL_LLM_EXPORTER": "carrier-pigeon", "OTEL_LLM_ROTATE_MAX_MB": "-3", "OTEL_LLM_OUTPUT_DIR": " "}
    with pytest.warns(RuntimeWarning) as caught:
        s = Settings.resolve(env=env)
    assert s.exporter == "file" and s.rotate_max_bytes == 100 * MIB and s.output_dir == Path("./otel-data")
    assert {str(w.message).split("=")[0].split()[-1] for w in caught} == {
        "OTEL_LLM_EXPORTER", "OTEL_LLM_ROTATE_MAX_MB", "OTEL_LLM_OUTPUT_DIR"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a second resolve with the same bad value stays quiet
        Settings.resolve(env=env)


def test_bad_explicit_argument_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="exporter must be one of"):
        Settings.resolve(env={}, exporter="kafka")
    with pytest.raises(TypeError, match="unknown setting"):
        Settings.resolve(env={}, exporterr="file")
    with pytest.raises(TypeError, match="redact"):
        Settings.resolve(env={}, redact="not callable")


def test_logs_default_follows_exporter_and_can_be_forced() -> None:
    assert Settings.resolve(env={}, exporter="otlp").logs_enabled is False
    assert Settings.resolve(env={}, exporter="otlp", logs=True).logs_enabled is True
    assert Settings.resolve(env={}, logs=False).logs_enabled is False


def test_settings_are_frozen_and_paths_normalised() -> None:
    s = Settings.resolve(env={}, output_dir="data", spool_dir="sp")
    assert s.output_dir == Path("data") and s.resolved_spool_dir == Path("sp")
    with pytest.raises(AttributeError):
        s.exporter = "none"  # type: ignore[misc]
