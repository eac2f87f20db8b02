"""Replay to a collector that serves OTLP/HTTP over TLS with a private CA (``OTEL_EXPORTER_OTLP_CERTIFICATE``).

The app's exporter trusts the CA the user named; the spool's replayer must
trust it too, or a collector that was down once is never replayed to again:
every later batch waits in the spool until the bound deletes it.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from otel_llm.collector import _binary, _process

from . import _otlp
from .conftest import Collector, run_app
from .test_durability import _truth_ids

TLS_OVERLAY = """
receivers:
  otlp:
    protocols:
      http:
        tls:
          cert_file: {cert}
          key_file: {key}
"""


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (its own CA) and its key."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


def test_replay_trusts_the_ca_the_user_named_for_otlp(collector_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cert, key = self_signed(tmp_path)
    overlay = tmp_path / "tls.yaml"
    overlay.write_text(TLS_OVERLAY.format(cert=cert, key=key))
    collector: Collector = collector_factory()
    options = _process.CollectorOptions(**{**collector.options().__dict__,
                                           "configs": (_binary.config_dir() / "otelcol.yaml", overlay)})
    https = f"https://127.0.0.1:{collector.http_port}"
    truth_file = tmp_path / "truth.json"
    app = run_app(tmp_path, collector, "--endpoint", https, "--turns", "40", "--pace", "0.05", "--truth",
                  str(truth_file), "--wait-spool-empty", "20", background=True, otlp_timeout_s=1,
                  env={"OTEL_EXPORTER_OTLP_CERTIFICATE": str(cert), "OTEL_LLM_SPOOL_REPLAY_ENDPOINT": ""})
    assert isinstance(app, subprocess.Popen)
    time.sleep(1.5)  # the collector is down at first: the app spools
    _process.start(options, collector.run_dir, timeout_s=30)
    output, _ = app.communicate(timeout=90)
    collector.stop()
    assert app.returncode == 0, output
    truth = _truth_ids(truth_file)
    written = _otlp.span_ids(_otlp.messages(collector.data_dir, "traces"))
    assert len(truth) == 40 * 4
    assert truth - written == set(), f"{len(truth - written)} of {len(truth)} spans not delivered\n{output}"
