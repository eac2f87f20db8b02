"""OpenTelemetry's own warnings about the OTLP settings it reads are said once per ``configure()``.

Upstream's OTLP exporters each parse the ``OTEL_EXPORTER_OTLP_*`` variables and
warn about a value they ignore (an unknown compression, a timeout that is not a
number, a header that is not URL-encoded). otel-llm builds three of them (traces,
metrics, logs), so each warning came three to six times.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

APP = textwrap.dedent("""
    import sys
    import otel_llm
    otel_llm.configure(exporter="otlp", endpoint="http://127.0.0.1:9", spool_dir=sys.argv[1], service_name="w",
                       logs=True, shutdown_timeout_s=0.5)
    otel_llm.shutdown()
""")

WARNINGS = ("Unsupported compression type: zip", "Invalid timeout value 'abc'", "Header format invalid!")


def test_each_upstream_configuration_warning_is_said_once(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "PYTEST_"))}
    env.update(OTEL_EXPORTER_OTLP_TIMEOUT="abc", OTEL_EXPORTER_OTLP_COMPRESSION="zip",
               OTEL_EXPORTER_OTLP_HEADERS="bad header")
    done = subprocess.run([sys.executable, "-c", APP, str(tmp_path / "spool")], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    for warning in WARNINGS:
        assert done.stderr.count(warning) == 1, (warning, done.stderr)


GRPC_APP = textwrap.dedent("""
    import os, sys
    import otel_llm
    otel_llm.configure(exporter="otlp", protocol="grpc", endpoint="http://127.0.0.1:9", spool_dir=sys.argv[1],
                       service_name="w", logs=True, shutdown_timeout_s=0.5)
    print(os.environ["OTEL_EXPORTER_OTLP_TIMEOUT"], os.environ["OTEL_EXPORTER_OTLP_TRACES_TIMEOUT"])
    otel_llm.shutdown()
""")


def test_a_timeout_that_is_no_number_is_said_over_grpc_too_not_raised_into_the_app(tmp_path: Path) -> None:
    """Upstream's gRPC exporters read the timeout variables with a bare float(): configure() raised
    ``ValueError: could not convert string to float: 'abc'`` into the app, where HTTP warns and uses 10 s.
    The app's environment is left as it was."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "PYTEST_"))}
    env.update(OTEL_EXPORTER_OTLP_TIMEOUT="abc", OTEL_EXPORTER_OTLP_TRACES_TIMEOUT="ten")
    done = subprocess.run([sys.executable, "-c", GRPC_APP, str(tmp_path / "spool")], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["abc", "ten"]
    for warning in ("Invalid timeout value 'abc' in OTEL_EXPORTER_OTLP_TIMEOUT",
                    "Invalid timeout value 'ten' in OTEL_EXPORTER_OTLP_TRACES_TIMEOUT"):
        assert done.stderr.count(warning) == 1, (warning, done.stderr)
