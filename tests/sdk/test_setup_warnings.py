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
