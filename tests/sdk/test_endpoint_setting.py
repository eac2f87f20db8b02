"""An endpoint that is not a URL is a configuration error at setup, not "collector unreachable" later."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import otel_llm
from otel_llm.exporters._endpoints import endpoint_problem


@pytest.mark.parametrize("endpoint", ["not a url", "localhost:4318", "ftp://collector:4318", "http://:4318",
                                      "http://collector:port"])
def test_an_explicit_endpoint_that_is_not_a_url_is_refused_naming_the_setting(endpoint: str) -> None:
    try:
        with pytest.raises(ValueError) as raised:
            otel_llm.configure(exporter="otlp", endpoint=endpoint, protocol="http/protobuf")
    finally:
        otel_llm.shutdown()  # nothing to close when it raised
    assert f"endpoint={endpoint!r}" in str(raised.value)
    assert "unreachable" not in str(raised.value)


@pytest.mark.parametrize(("endpoint", "protocol"), [
    ("http://localhost:4318", "http/protobuf"), ("https://otel.example.com", "http/protobuf"),
    ("http://[::1]:4318/", "http/protobuf"), ("localhost:4317", "grpc"), ("http://collector:4317", "grpc"),
    ("unix:///run/otel.sock", "grpc"),
])
def test_usable_endpoints_pass(endpoint: str, protocol: str) -> None:
    assert endpoint_problem(endpoint, protocol) is None


APP = textwrap.dedent("""
    import sys
    import otel_llm
    otel_llm.configure(exporter="otlp", spool_dir=sys.argv[1], service_name="e", shutdown_timeout_s=0.5)
    otel_llm.shutdown()
""")


def test_an_endpoint_from_the_environment_that_is_not_a_url_is_named_at_setup(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "PYTEST_"))}
    env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] = "not a url"
    done = subprocess.run([sys.executable, "-c", APP, str(tmp_path / "spool")], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    first = done.stderr.splitlines()[0]
    assert "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT='not a url'" in first and "not a URL" in first, done.stderr
